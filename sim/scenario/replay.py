"""Replay: exogenous aggregates driven from the public data folder, written into the keys they drive.

What is replayed (`replay:` in a scenario) is read once, when the scenario is loaded, and becomes
ordinary scenario keys: the TGA path becomes `treasury.tga_target_path` (net bill issuance absorbs
the gap between the data and the model's fiscal flows), the Treasury's auction sizes become
`treasury.sizes` and `treasury.sizes_path` (so the opening stock, what matures and the coupons sold
follow the history of sizes), cleared DVP repo volume becomes the basis funds'
`levered_funds.capital_path`, the Fed's Treasury holdings become monthly runoff caps and purchase
programs, its other assets (total less Treasuries: agency MBS) `central_bank.other_assets_path`,
the FOMC's decisions become `policy.rates`, and the data's balances on the first simulated
day become the opening balances. The loaded scenario then records the data folder it was read from
(`replay.data_folder_read`), so a run folder's scenario.yaml reruns without the data. Repo rates,
dispersion, auctions, fails and money funds' split of cash between bills, repo and the ON RRP stay
endogenous.

Every problem (no data folder, a missing file, a series that does not cover the simulated days, a
key the replay would overwrite) is a located `ScenarioError`: the file, the key or series, what was
expected and what was found.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import ValidationError

from sim.calendar import QUARTERLY_NEW_ISSUE_MONTHS, business_days, business_days_before
from sim.data.errors import DataFileError
from sim.data.fomc import RATES_TABLE, VALID_BEFORE, administered_rates_table
from sim.data.fred import fred_path, read_fred_series
from sim.data.market import read_dvp_volume, read_move_index
from sim.data.treasury import monthly_auction_sizes, read_auction_sizes, read_tga_closing
from sim.scenario.schema import Scenario

DATA_DIR_VARIABLE = "PLUMBING_DATA_DIR"
DTS_FILE = Path("treasury") / "dts_operating_cash_balance.csv"
AMOUNTS_FILE = Path("treasury") / "auction_amounts.csv"
SEGMENTS_FILE = Path("market") / "ofr_repo_segments_daily.csv"
MOVE_FILE = Path("market") / "move_index_daily.csv"
# The cleared DVP series starts in May 2018, after SOFR: a window may open up to this many days
# before it (its capital stays at its opening level until the first month the data cover).
DVP_START_GRACE_DAYS = 45
# A level is taken as the latest observation on or before a day, at most this old: the H.4.1
# is weekly and the Daily Treasury Statement skips holidays.
MAX_AGE_DAYS = {"daily": 5, "weekly": 8}
BUSINESS_DAYS_PER_MONTH = 21.0  # the purchase programs' pace unit (`central_bank.purchases`)
H41_SERIES = ("WRESBAL", "WTREGEN", "TREAST", "WALCL")  # weekly, in $ millions
TREND_WEEKS = 13  # weeks before `replay.other_assets_trend_after` whose mean change the trend goes on at


class ReplayProblem(Exception):
    """One replay problem, located; the loader turns it into a `Problem` of a `ScenarioError`."""

    def __init__(self, file: str, key_path: str, expected: str, found: str):
        self.file, self.key_path, self.expected, self.found = file, key_path, expected, found
        super().__init__(f"{file}: {key_path}: expected {expected}; found {found}")


@dataclass(frozen=True)
class Series:
    """A replayed series in $bn (or %), with where it came from."""

    values: pd.Series  # DatetimeIndex, sorted, no missing values
    file: Path
    name: str  # the series as the data names it
    frequency: str  # "daily" or "weekly"

    def level_on(self, day: dt.date, key_path: str) -> float:
        """The latest value on or before `day`, at most MAX_AGE_DAYS old."""
        earlier = self.values.loc[: pd.Timestamp(day)]
        if earlier.empty or (pd.Timestamp(day) - earlier.index[-1]).days > MAX_AGE_DAYS[self.frequency]:
            raise ReplayProblem(str(self.file), key_path, f"{self.name} on or just before {day}", self._coverage())
        return float(earlier.iloc[-1])

    def check_covers(self, first: dt.date, last: dt.date, key_path: str) -> None:
        """The series has a value for the first day and runs to (about) the last."""
        self.level_on(first, key_path)
        if (pd.Timestamp(last) - self.values.index[-1]).days > MAX_AGE_DAYS[self.frequency]:
            raise ReplayProblem(str(self.file), key_path, f"{self.name} from {first} to {last}", self._coverage())

    def _coverage(self) -> str:
        if self.values.empty:
            return "no values"
        return f"values from {self.values.index[0].date()} to {self.values.index[-1].date()}"


def data_folder(explicit: str | Path | None) -> Path | None:
    """The data folder to read: the argument, else the PLUMBING_DATA_DIR environment variable."""
    chosen = explicit if explicit is not None else os.environ.get(DATA_DIR_VARIABLE, "")
    return Path(chosen).expanduser().resolve() if str(chosen) else None


@lru_cache(maxsize=32)
def _read(kind: str, path: str, stamp: float) -> Any:
    """A data file read once per process (`stamp` is its modification time)."""
    del stamp  # part of the cache key only
    if kind == "dts":
        return read_tga_closing(path)
    if kind == "amounts":
        return monthly_auction_sizes(read_auction_sizes(path))
    if kind == "dvp":
        return read_dvp_volume(path)
    if kind == "move":
        return read_move_index(path)
    series_id = Path(path).stem
    return read_fred_series(path, series_id).dropna()


def read_data_file(path: Path, kind: str, key_path: str) -> Any:
    """A data file a replay reads (once per process, `_read`); its absence or a bad cell is a
    located problem naming the file and the replay key."""
    if not path.is_file():
        raise ReplayProblem(str(path), key_path, "the data file this replay reads", "no such file")
    try:
        return _read(kind, str(path), path.stat().st_mtime)
    except DataFileError as err:
        raise ReplayProblem(err.file, key_path, "a readable data file", str(err)) from None


def read_series(folder: Path, source: str, key_path: str) -> Series:
    """One replayable series ($bn): `dts` (TGA closing balance) or a FRED id (H.4.1 in $ millions)."""
    path = folder / DTS_FILE if source == "dts" else fred_path(folder, source)
    values = read_data_file(path, "dts" if source == "dts" else "fred", key_path)
    weekly = source in H41_SERIES
    if weekly:
        values = values / 1000.0  # H.4.1 balances are in $ millions
    name = "TGA closing balance" if source == "dts" else source
    return Series(values.astype(float), path, name, "weekly" if weekly else "daily")


# ---------------------------------------------------------------- the pieces
def replayed_rates(first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """`policy.rates` rows for the simulated days: the decision in force on the first day, then
    every later one up to the last day."""
    table = administered_rates_table()
    dates = table["date"].dt.date
    key = "replay.administered_rates"
    if dates.iloc[0] > first:
        raise ReplayProblem(
            str(RATES_TABLE), key, f"decisions in force from {first}", f"the table starts {dates.iloc[0]}"
        )
    if last >= VALID_BEFORE:
        raise ReplayProblem(str(RATES_TABLE), key, f"decisions known to {last}",
                            f"decisions known to {VALID_BEFORE - dt.timedelta(days=1)}")  # fmt: skip
    opening = int(np.flatnonzero(dates <= first)[-1])
    rows = table.iloc[opening:][dates.iloc[opening:] <= last]
    return [
        {"date": row.date.date(), "target_lower_pct": row.target_lower_pct, "target_upper_pct": row.target_upper_pct,
         "iorb_pct": row.iorb_pct, "on_rrp_pct": row.on_rrp_pct}
        for row in rows.itertuples()
    ]  # fmt: skip


def replayed_auction_sizes(
    folder: Path, first: dt.date, last: dt.date
) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """`treasury.sizes` and `treasury.sizes_path` from the Treasury's auction sizes: each month's sizes
    (`sim.data.treasury.monthly_auction_sizes`), a change dated the month's first day; the sizes the file
    opens with stand for every earlier auction of the opening stock. 10, 20 and 30-year sizes go to the new
    issue's key in the model's new-issue months (February, May, August, November), else the reopening's.
    Bills are rounded to whole billions (monthly means), so that a path row is a change of size."""
    key = "replay.auction_sizes"
    path = folder / AMOUNTS_FILE
    table = read_data_file(path, "amounts", key)
    months = table.index
    if pd.Period(first, "M") < months[0] or pd.Period(last, "M") > months[-1]:
        raise ReplayProblem(str(path), key, f"offering_amt of the auctions from {first} to {last}",
                            f"auctions from {months[0]} to {months[-1]}")  # fmt: skip
    by_month = [(month, _size_keys(month, table.loc[month])) for month in months[months <= pd.Period(last, "M")]]
    opening: dict[str, float] = {}
    for _, sizes in by_month:  # a key the first month does not set takes its first value in the file
        opening.update({k: v for k, v in sizes.items() if k not in opening})
    in_force, rows = dict(opening), []
    for month, sizes in by_month:
        changed = {k: v for k, v in sizes.items() if v != in_force[k]}
        if changed:
            rows.append({"date": month.start_time.date(), "sizes": changed})
            in_force.update(changed)
    return opening, rows


def _size_keys(month: pd.Period, sizes: pd.Series) -> dict[str, float]:
    """One month's sizes under `treasury.sizes` keys (only the kind of 10/20/30-year issue the month sells)."""
    kind = "new" if month.month in QUARTERLY_NEW_ISSUE_MONTHS else "reopen"
    keys = {f"bills_{t}_bn": float(round(sizes[t])) for t in ("4w", "8w", "13w", "26w", "52w")}
    keys.update({f"notes_{t}_bn": round(float(sizes[t]), 3) for t in ("2y", "3y", "5y", "7y")})
    for tenor, name in (("10y", "notes_10y"), ("20y", "bonds_20y"), ("30y", "bonds_30y")):
        keys[f"{name}_{kind}_bn"] = round(float(sizes[tenor]), 3)
    return keys


def replayed_tga_targets(tga: Series, first: dt.date, last: dt.date, lead: int) -> list[dict[str, Any]]:
    """`treasury.tga_target_path`: each observed level, the bills' target `lead` business days ahead."""
    tga.check_covers(first, last, "replay.tga")
    inside = tga.values.loc[pd.Timestamp(first) : pd.Timestamp(last)]
    days = business_days(first, last)
    # The business day `lead` business days before each observation (the first day at the latest).
    steer_from = days[np.maximum(days.searchsorted(inside.index, side="left") - lead, 0)]
    targets = dict(zip(steer_from.date, inside.to_numpy(), strict=True))  # a later observation wins a day
    return [{"date": day, "target_bn": round(float(level), 3)} for day, level in sorted(targets.items())]


def replayed_soma_policy(
    soma: Series, first: dt.date, last: dt.date, tenors: list[str], period: str = "month"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Runoff caps and purchase programs that move SOMA Treasuries as the data moved them.

    Each period's change (a calendar month, or with `period="week"` an H.4.1 week ending on a
    Wednesday) is measured from the level on its first simulated day to the level on its last:
    a fall becomes a runoff cap from the period's first day, a rise a purchase program over the
    period's business days (paced per 21 business days, the programs' unit). A week's cap is
    paced the same way; a month's is the month's fall.
    """
    key = "replay.soma_treasuries"
    soma.check_covers(first, last, key)
    caps, purchases = [], []
    for month in pd.period_range(first, last, freq="M" if period == "month" else "W-WED"):
        start = max(month.start_time.date(), first)
        end = min(month.end_time.date(), last)
        days = business_days(start, end)
        if len(days) == 0:
            continue
        # The level on the eve of the month (its first day's level for the first month).
        before = soma.level_on(start - dt.timedelta(days=1), key) if start > first else soma.level_on(first, key)
        change = soma.level_on(end, key) - before
        cap = max(-change, 0.0) * (1.0 if period == "month" else BUSINESS_DAYS_PER_MONTH / len(days))
        caps.append({"date": days[0].date(), "bn_per_month": round(cap, 3)})
        if change > 0:
            pace = change * BUSINESS_DAYS_PER_MONTH / len(days)
            purchases.append({"start": days[0].date(), "end": days[-1].date(), "bn_per_month": round(pace, 3),
                              "tenors": list(tenors)})  # fmt: skip
    return caps, purchases


def replayed_other_assets(
    total: Series, treasuries: Series, first: dt.date, last: dt.date, trend_after: dt.date | None = None
) -> list[dict[str, Any]]:
    """`central_bank.other_assets_path`: the Fed's total assets less its Treasuries (H.4.1 Wednesday
    levels: agency MBS and debt, lending programs, other assets), the level on the first day then
    each Wednesday's. From `trend_after` the level goes on at the mean weekly change of the
    TREND_WEEKS weeks to it (dated on the data's Wednesdays), where the data hold operations the
    model runs itself."""
    key = "replay.central_bank_other_assets"
    for series in (total, treasuries):
        series.check_covers(first, last, key)
    other = (total.values - treasuries.values).dropna()  # both on the H.4.1's Wednesdays
    level = Series(other, total.file, "WALCL - TREAST", "weekly")
    rows = {first: level.level_on(first, key)}
    inside = other.loc[pd.Timestamp(first) + pd.Timedelta(days=1) : pd.Timestamp(last)]
    rows.update({day.date(): float(value) for day, value in inside.items()})
    if trend_after is not None:
        anchor = other.loc[: pd.Timestamp(trend_after)]
        if len(anchor) <= TREND_WEEKS:
            raise ReplayProblem(str(total.file), "replay.other_assets_trend_after",
                                f"{TREND_WEEKS + 1} weekly levels up to {trend_after}",
                                level._coverage())  # fmt: skip
        weekly = (anchor.iloc[-1] - anchor.iloc[-1 - TREND_WEEKS]) / TREND_WEEKS
        since = anchor.index[-1]
        for day in list(rows):
            if pd.Timestamp(day) > since:
                rows[day] = float(anchor.iloc[-1] + weekly * (pd.Timestamp(day) - since).days / 7.0)
    return [{"date": day, "other_assets_bn": round(value, 3)} for day, value in sorted(rows.items())]


# ---------------------------------------------------------------- the whole replay
def replay_updates(scenario: Scenario, folder: Path) -> dict[str, Any]:
    """The scenario keys the replay sets (nested), read from `folder`.

    Raises:
        ReplayProblem: a missing or unreadable file, a series short of the simulated days, or a
            key the scenario sets that the replay would overwrite.
    """
    r = scenario.replay
    first = business_days_before(scenario.start_date, scenario.warmup_business_days)
    last = scenario.end_date
    updates: dict[str, dict[str, Any]] = {
        "policy": {},
        "treasury": {},
        "central_bank": {},
        "banks": {},
        "levered_funds": {},
        "curve": {},
    }

    def refuse(key_path: str, by: str) -> None:
        raise ReplayProblem("(scenario)", key_path, f"no value: {by} sets it from the data", "a value")

    if r.administered_rates:
        updates["policy"]["rates"] = _rates_rows(scenario, first, last)
    tga: Series | None = None
    if r.tga != "off":
        if scenario.treasury.tga_target_path:
            refuse("treasury.tga_target_path", "replay.tga")
        tga = read_series(folder, "dts" if r.tga == "daily_treasury_statement" else "WTREGEN", "replay.tga")
        updates["treasury"]["tga_target_path"] = replayed_tga_targets(tga, first, last, r.tga_lead_business_days)
        updates["treasury"]["tga_target_bn"] = round(tga.level_on(first, "replay.tga"), 3)
    if r.auction_sizes:
        updates["treasury"].update(_auction_size_keys(scenario, folder, first, last))
    if r.basis_trade:
        updates["levered_funds"]["capital_path"] = _basis_capital_path(scenario, folder, first, last)
    if r.rate_volatility:
        updates["curve"]["level_vol_path"] = _level_vol_path(scenario, folder, first, last)
    if r.soma_treasuries:
        updates["central_bank"].update(_soma_keys(scenario, folder, first, last))
    if r.central_bank_other_assets:
        updates["central_bank"]["other_assets_path"] = _other_assets_path(scenario, folder, first, last)
    if r.opening_balances:
        updates = _opening_balances(scenario, folder, first, tga, updates)
    return {section: keys for section, keys in updates.items() if keys}


def replayed_basis_capital(
    folder: Path, start: dt.date, first: dt.date, last: dt.date, capital_bn: float
) -> list[dict[str, Any]]:
    """`levered_funds.capital_path`: the basis trade's scale following cleared DVP repo volume
    (market/ofr_repo_segments_daily.csv), where dealers finance levered clients' positions. Each
    month after the first the data cover (from the first simulated day, warm-up included) sets the
    funds' capital to `capital_bn` times that month's mean volume over the first month's, dated the
    month's first day."""
    key = "replay.basis_trade"
    path = folder / SEGMENTS_FILE
    volume = read_data_file(path, "dvp", key)
    inside = volume.loc[pd.Timestamp(first) : pd.Timestamp(last)]
    late_start = inside.empty or (inside.index[0] - pd.Timestamp(max(first, start))).days > DVP_START_GRACE_DAYS
    if late_start or (pd.Timestamp(last) - volume.index[-1]).days > MAX_AGE_DAYS["daily"]:
        coverage = f"values from {volume.index[0].date()} to {volume.index[-1].date()}" if len(volume) else "no values"
        raise ReplayProblem(str(path), key, f"cleared DVP volume from {start} to {last}", coverage)
    monthly = inside.groupby(inside.index.to_period("M")).mean()
    return [
        {"date": month.start_time.date(), "capital_bn": round(capital_bn * level / monthly.iloc[0], 3)}
        for month, level in monthly.iloc[1:].items()
    ]


def replayed_level_vol(
    folder: Path, first: dt.date, last: dt.date, calm_bp: float, calm_move: float
) -> list[dict[str, Any]]:
    """`curve.level_vol_path`: each month's mean MOVE index over `calm_move` times the calm volatility
    `calm_bp`, dated the month's first day (the first simulated day for the first month)."""
    key = "replay.rate_volatility"
    path = folder / MOVE_FILE
    move = read_data_file(path, "move", key)
    ages = [(move.index[0] - pd.Timestamp(first)).days, (pd.Timestamp(last) - move.index[-1]).days] if len(move) else []
    if not ages or max(ages) > MAX_AGE_DAYS["daily"]:
        coverage = f"values from {move.index[0].date()} to {move.index[-1].date()}" if len(move) else "no values"
        raise ReplayProblem(str(path), key, f"the MOVE index from {first} to {last}", coverage)
    inside = move.loc[pd.Timestamp(first) : pd.Timestamp(last)]
    monthly = inside.groupby(inside.index.to_period("M")).mean()
    return [
        {"date": max(month.start_time.date(), first), "level_vol_bp": round(calm_bp * level / calm_move, 4)}
        for month, level in monthly.items()
    ]


def _soma_keys(scenario: Scenario, folder: Path, first: dt.date, last: dt.date) -> dict[str, Any]:
    """`central_bank.runoff_caps` and `purchases` replayed; refused where the scenario sets the caps."""
    r = scenario.replay
    if scenario.central_bank.runoff_caps:
        raise ReplayProblem("(scenario)", "central_bank.runoff_caps",
                            "no value: replay.soma_treasuries sets it from the data", "a value")  # fmt: skip
    if not scenario.central_bank.reinvest_maturities:
        raise ReplayProblem("(scenario)", "central_bank.reinvest_maturities",
                            "true: replayed runoff caps reinvest what matures beyond them", "false")  # fmt: skip
    soma = read_series(folder, "TREAST", "replay.soma_treasuries")
    caps, purchases = replayed_soma_policy(soma, first, last, list(r.soma_purchase_tenors), r.soma_period)
    # Purchase programs of the scenario's own (a policy tried on top of history) are kept.
    own = [p.model_dump(mode="json") for p in scenario.central_bank.purchases]
    return {"runoff_caps": caps, "purchases": purchases + own}


def _rates_rows(scenario: Scenario, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """`policy.rates` replayed; refused where the scenario sets its own rates or path."""
    for name in ("path", "rates"):
        if getattr(scenario.policy, name):
            raise ReplayProblem("(scenario)", f"policy.{name}", "no value: replay.administered_rates sets it from "
                                "the data", "a value")  # fmt: skip
    return replayed_rates(first, last)


def _other_assets_path(scenario: Scenario, folder: Path, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """`central_bank.other_assets_path` replayed; refused where the scenario sets it."""
    key = "replay.central_bank_other_assets"
    if scenario.central_bank.other_assets_path:
        raise ReplayProblem("(scenario)", "central_bank.other_assets_path", f"no value: {key} sets it from the data",
                            "a value")  # fmt: skip
    # The data's path already runs off (agency MBS paid down): a runoff on top would count it twice.
    runoff = scenario.central_bank.other_assets_runoff_bn_per_month
    if runoff != 0:
        raise ReplayProblem("(scenario)", "central_bank.other_assets_runoff_bn_per_month",
                            f"0: {key} replays the other assets, their runoff included", f"{runoff:g}")  # fmt: skip
    total, treasuries = read_series(folder, "WALCL", key), read_series(folder, "TREAST", key)
    return replayed_other_assets(total, treasuries, first, last, scenario.replay.other_assets_trend_after)


def _level_vol_path(scenario: Scenario, folder: Path, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """`curve.level_vol_path` replayed; refused where the scenario sets it."""
    if scenario.curve.level_vol_path:
        expected = "no value: replay.rate_volatility sets it from the data"
        raise ReplayProblem("(scenario)", "curve.level_vol_path", expected, "a value")
    calm_bp, calm_move = scenario.curve.level_vol_calm_bp, scenario.replay.calm_move_index
    return replayed_level_vol(folder, first, last, calm_bp, calm_move)


def _basis_capital_path(scenario: Scenario, folder: Path, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """`levered_funds.capital_path` replayed; refused where the scenario sets it."""
    if scenario.levered_funds.capital_path:
        expected = "no value: replay.basis_trade sets it from the data"
        raise ReplayProblem("(scenario)", "levered_funds.capital_path", expected, "a value")
    return replayed_basis_capital(folder, scenario.start_date, first, last, scenario.levered_funds.capital_bn)


def _auction_size_keys(scenario: Scenario, folder: Path, first: dt.date, last: dt.date) -> dict[str, Any]:
    """`treasury.sizes` and `treasury.sizes_path` replayed; refused where the scenario sets either."""
    for name in ("sizes", "sizes_path"):
        if name in scenario.treasury.model_fields_set:
            expected = "no value: replay.auction_sizes sets it from the data"
            raise ReplayProblem("(scenario)", f"treasury.{name}", expected, "a value")
    opening, rows = replayed_auction_sizes(folder, first, last)
    return {"sizes": opening, "sizes_path": rows}


def opening_reserves_bn(reserves: Series, first: dt.date, key_path: str) -> float:
    """Reserves to open with ($bn): the H.4.1 week's average on or before the first day, or the next
    week's when that week (the seven days to its Wednesday) holds a quarter-end. Quarter-end weeks
    carry balances the model has no line for (the foreign repo pool's year-end swell, window
    dressing), and the opening books would keep them for the whole run."""
    level = reserves.level_on(first, key_path)
    dated = reserves.values.loc[: pd.Timestamp(first)].index[-1]
    if any(day.is_quarter_end for day in pd.date_range(dated - pd.Timedelta(days=6), dated)):
        later = reserves.values.loc[dated + pd.Timedelta(days=1) :]
        if not later.empty:
            return float(later.iloc[0])
    return level


def _opening_balances(
    scenario: Scenario, folder: Path, first: dt.date, tga: Series | None, updates: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    key = "replay.opening_balances"
    multiple = scenario.banks.reserves_per_comfortable
    if multiple is not None:
        raise ReplayProblem("(scenario)", "banks.reserves_per_comfortable",
                            "null where the replay opens with the data's balances (reserves from fred/WRESBAL.csv)",
                            f"{multiple:g}")  # fmt: skip
    reserves = opening_reserves_bn(read_series(folder, "WRESBAL", key), first, key)
    banks = reserves - scenario.dealers.reserves_bn
    if banks < 0:
        raise ReplayProblem(str(fred_path(folder, "WRESBAL")), key,
                            f"reserves on {first} above dealers.reserves_bn ({scenario.dealers.reserves_bn:g}bn)",
                            f"{reserves:,.1f}bn")  # fmt: skip
    updates["banks"]["reserves_bn"] = round(banks, 3)
    updates["central_bank"]["on_rrp_start_bn"] = round(read_series(folder, "RRPONTSYD", key).level_on(first, key), 3)
    updates["central_bank"]["soma_treasuries_bn"] = round(read_series(folder, "TREAST", key).level_on(first, key), 3)
    tga_series = tga if tga is not None else read_series(folder, "WTREGEN", key)
    updates["treasury"]["tga_start_bn"] = round(tga_series.level_on(first, key), 3)
    if tga is None:
        updates["treasury"].setdefault("tga_target_bn", updates["treasury"]["tga_start_bn"])
    return updates


def replay_scenario(scenario: Scenario, data_dir: str | Path | None = None) -> Scenario:
    """The scenario with its replay read from the data folder and written into the keys it drives.

    A scenario without replay, or one already read (`replay.data_folder_read` set), comes back
    as it is.

    Raises:
        ReplayProblem: see `replay_updates`; also when no data folder is given or set.
    """
    r = scenario.replay
    if not r.active or r.data_folder_read is not None:
        return scenario
    folder = data_folder(data_dir)
    if folder is None or not folder.is_dir():
        found = "no folder given and PLUMBING_DATA_DIR unset" if folder is None else f"{folder} (not a folder)"
        expected = f"a public data folder to replay from (plumbing run --data, or {DATA_DIR_VARIABLE})"
        raise ReplayProblem("(scenario)", "replay", expected, found)
    data = scenario.model_dump(mode="json")
    for section, keys in replay_updates(scenario, folder).items():
        data[section] = {**data[section], **keys}
    data["replay"]["data_folder_read"] = str(folder)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        e = err.errors(include_url=False)[0]
        where = ".".join(str(x) for x in e["loc"])
        raise ReplayProblem(str(folder), where, e["msg"].removeprefix("Value error, "), repr(e.get("input"))) from None


def replayed_series(scenario: Scenario) -> dict[str, str]:
    """What a (loaded) scenario replayed: each driven aggregate and the file it came from."""
    r = scenario.replay
    files: dict[str, str] = {}
    if r.tga != "off":
        files["tga"] = str(DTS_FILE) if r.tga == "daily_treasury_statement" else "fred/WTREGEN.csv"
    if r.auction_sizes:
        files["auction_sizes"] = str(AMOUNTS_FILE)
    if r.rate_volatility:
        files["rate_volatility"] = f"{MOVE_FILE} (move_close)"
    if r.basis_trade:
        files["basis_trade"] = f"{SEGMENTS_FILE} (dvp_total_volume_usd)"
    if r.soma_treasuries:
        files["soma_treasuries"] = "fred/TREAST.csv"
    if r.central_bank_other_assets:
        trend = f" (from {r.other_assets_trend_after} their trend)" if r.other_assets_trend_after else ""
        files["central_bank_other_assets"] = f"fred/WALCL.csv less fred/TREAST.csv{trend}"
    if r.administered_rates:
        files["administered_rates"] = "sim/data/administered_rates.csv (FOMC decisions)"
    if r.opening_balances:
        files["opening_balances"] = (
            "fred/WRESBAL.csv, fred/RRPONTSYD.csv, fred/TREAST.csv, TGA as replayed (else fred/WTREGEN.csv)"
        )
    return files
