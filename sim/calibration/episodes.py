"""Named historical episodes: a scenario (replayed where the data reach) with bands from public figures.

An episode file (`scenarios/episodes/*.yaml`) names a scenario file, the dates to simulate, the
seeds, and bands: each band is a statistic of a run's daily table over a date range with the
range public figures put it in (`low` and/or `high`), and the source of those figures. `plumbing
episodes FILE ...` runs every seed, measures each band and writes one Markdown page per episode
(`calibration/reports/episodes/<name>.md`) saying, per seed, where each statistic fell and
whether it lay in its band. A band is met by an episode when every seed meets it.

Statistics read the tables of `sim.tables` (`STATISTICS` the daily table; `TABLE_STATISTICS` the
auctions and weekly fails too), so the same code measures a real period (`plumbing dashboard
--real` tables) and a run. Amounts in $bn, rates and spreads in bp.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from sim.scenario.loader import validated_file
from sim.scenario.schema import Section

Statistic = Callable[[pd.DataFrame, dt.date, dt.date], float]
Tables = Mapping[str, "pd.DataFrame | None"]
TableStatistic = Callable[[Tables, dt.date, dt.date], float]
QUARTER_END_LOOKBACK_DAYS = 5  # a quarter-end is compared with the 5 business days before it
# Auctions and weekly fails in an episode's dates are compared with the weeks before its start.
BEFORE_DAYS = 56  # eight weeks: two monthly cycles of coupon auctions


def _between(daily: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    dates = pd.to_datetime(daily["date"])
    return daily[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))]


def _change(column: str) -> Statistic:
    def change(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
        if column not in daily.columns:  # e.g. dealers' inventory, which the public tables lack
            return math.nan
        days = _between(daily, start, end)
        return float(days[column].iloc[-1] - days[column].iloc[0]) if len(days) >= 2 else math.nan

    return change


def reserves_fall_share_of_tga_rise(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """How much of the TGA's rise over the dates came out of reserves (fall in reserves / rise in the TGA)."""
    rise = _change("tga_bn")(daily, start, end)
    fall = -_change("reserves_bn")(daily, start, end)
    return fall / rise if rise > 0 else math.nan


def _spread_bp(daily: pd.DataFrame, column: str) -> pd.Series:
    return (daily[column] - daily["iorb_pct"]) * 100.0


def sofr_minus_iorb_max_bp(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """Highest SOFR-like median over IORB (or IOER) on the dates (bp)."""
    days = _between(daily, start, end)
    return float(_spread_bp(days, "sofr_median_pct").max()) if len(days) else math.nan


def sofr_p99_minus_iorb_max_bp(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """Highest 99th percentile of SOFR-like repo over IORB on the dates (bp)."""
    days = _between(daily, start, end)
    return float(_spread_bp(days, "sofr_p99_pct").max()) if len(days) else math.nan


def sofr_minus_iorb_last_bp(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """Mean SOFR-like median over IORB on the dates (bp): where it settled."""
    days = _between(daily, start, end)
    return float(_spread_bp(days, "sofr_median_pct").mean()) if len(days) else math.nan


def _quarter_end_jumps(daily: pd.DataFrame, start: dt.date, end: dt.date, column: str, scale: float) -> list[float]:
    """Each quarter-end's value minus the mean of the QUARTER_END_LOOKBACK_DAYS days before it."""
    whole = daily.reset_index(drop=True)
    dates = pd.to_datetime(whole["date"])
    flagged = whole.index[whole["is_quarter_end"].astype(bool) & (dates >= pd.Timestamp(start))
                          & (dates <= pd.Timestamp(end))]  # fmt: skip
    jumps = []
    for i in flagged:
        before = whole[column].iloc[max(i - QUARTER_END_LOOKBACK_DAYS, 0) : i]
        if len(before):
            jumps.append(float(whole[column].iloc[i] - before.mean()) * scale)
    return jumps


def quarter_end_sofr_jump_min_bp(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """The smallest quarter-end rise of the SOFR-like median over the 5 days before (bp)."""
    jumps = _quarter_end_jumps(daily, start, end, "sofr_median_pct", 100.0)
    return min(jumps) if jumps else math.nan


def quarter_end_on_rrp_jump_min_bn(daily: pd.DataFrame, start: dt.date, end: dt.date) -> float:
    """The smallest quarter-end rise of ON RRP take-up over the 5 days before ($bn)."""
    jumps = _quarter_end_jumps(daily, start, end, "on_rrp_bn", 1.0)
    return min(jumps) if jumps else math.nan


STATISTICS: dict[str, tuple[Statistic, str, str]] = {
    "tga_change_bn": (_change("tga_bn"), "$bn", "TGA, last day minus first"),
    "reserves_change_bn": (_change("reserves_bn"), "$bn", "reserves, last day minus first"),
    "on_rrp_change_bn": (_change("on_rrp_bn"), "$bn", "ON RRP, last day minus first"),
    "dealer_inventory_change_bn": (_change("dealer_inventory_bn"), "$bn", "dealers' inventory, last day minus first"),
    "reserves_fall_share_of_tga_rise": (reserves_fall_share_of_tga_rise, "share", "fall in reserves / rise in the TGA"),
    "sofr_minus_iorb_max_bp": (sofr_minus_iorb_max_bp, "bp", "highest SOFR median over IORB"),
    "sofr_p99_minus_iorb_max_bp": (sofr_p99_minus_iorb_max_bp, "bp", "highest SOFR 99th percentile over IORB"),
    "sofr_minus_iorb_mean_bp": (sofr_minus_iorb_last_bp, "bp", "mean SOFR median over IORB"),
    "quarter_end_sofr_jump_min_bp": (
        quarter_end_sofr_jump_min_bp,
        "bp",
        "smallest quarter-end SOFR rise over the 5 days before",
    ),  # fmt: skip
    "quarter_end_on_rrp_jump_min_bn": (
        quarter_end_on_rrp_jump_min_bn,
        "$bn",
        "smallest quarter-end ON RRP rise over the 5 days before",
    ),  # fmt: skip
}


def _coupon_high_minus_median(tables: Tables, first: pd.Timestamp, last: pd.Timestamp) -> pd.Series:
    from sim.dashboard.metrics import high_minus_median_bp, prepare_auctions, tenor_group

    auctions = prepare_auctions(tables.get("auctions"))
    spread = high_minus_median_bp(auctions)
    if auctions is None or spread is None:
        return pd.Series(dtype=float)
    kinds = auctions.get("security_type", pd.Series(None, index=auctions.index))
    coupon = [tenor_group(t, k) not in (None, "bills") for t, k in zip(auctions["tenor"], kinds, strict=True)]
    dates = pd.to_datetime(auctions["auction_date"])
    return spread[np.asarray(coupon) & (dates >= first).to_numpy() & (dates <= last).to_numpy()].dropna()


def coupon_high_minus_median_rise_bp(tables: Tables, start: dt.date, end: dt.date) -> float:
    """Mean high-minus-median of the coupon auctions on the dates less that of the coupon
    auctions in the BEFORE_DAYS days before (bp): how much more dispersed the bids were."""
    first = pd.Timestamp(start)
    during = _coupon_high_minus_median(tables, first, pd.Timestamp(end))
    before = _coupon_high_minus_median(tables, first - pd.Timedelta(days=BEFORE_DAYS), first - pd.Timedelta(days=1))
    return float(during.mean() - before.mean()) if len(during) and len(before) else math.nan


def bid_ask_rise_ratio(tables: Tables, start: dt.date, end: dt.date) -> float:
    """Mean dealers' bid/ask on the dates over its mean in the BEFORE_DAYS days before (ratio)."""
    daily = tables.get("daily")
    if daily is None or "bid_ask_bp" not in daily.columns:
        return math.nan
    first = pd.Timestamp(start)
    during = _between(daily, start, end)["bid_ask_bp"].dropna()
    before = _between(daily, (first - pd.Timedelta(days=BEFORE_DAYS)).date(), (first - pd.Timedelta(days=1)).date())
    before = before["bid_ask_bp"].dropna()
    if not len(during) or not len(before) or before.mean() <= 0:
        return math.nan
    return float(during.mean() / before.mean())


def fails_weekly_rise_ratio(tables: Tables, start: dt.date, end: dt.date) -> float:
    """Mean weekly fails in the tracked issues over the weeks ending on the dates, over the mean
    of the weeks ending in the BEFORE_DAYS days before (ratio)."""
    from sim.dashboard.metrics import FAILS_WEEKLY_COLUMN, fails_weekly_table

    weekly = fails_weekly_table(tables)
    if weekly is None:
        return math.nan
    ends, fails = pd.to_datetime(weekly["week_end"]), weekly[FAILS_WEEKLY_COLUMN].astype(float)
    first = pd.Timestamp(start)
    during = fails[(ends >= first) & (ends <= pd.Timestamp(end))].dropna()
    before = fails[(ends >= first - pd.Timedelta(days=BEFORE_DAYS)) & (ends < first)].dropna()
    if not len(during) or not len(before) or before.mean() <= 0:
        return math.nan
    return float(during.mean() / before.mean())


TABLE_STATISTICS: dict[str, tuple[TableStatistic, str, str]] = {
    "coupon_high_minus_median_rise_bp": (
        coupon_high_minus_median_rise_bp,
        "bp",
        "coupon auctions' high minus median, over the 8 weeks before",
    ),  # fmt: skip
    "fails_weekly_rise_ratio": (fails_weekly_rise_ratio, "ratio", "weekly fails (tracked issues) / 8 weeks before"),
    "bid_ask_rise_ratio": (bid_ask_rise_ratio, "ratio", "dealers' bid/ask / its mean over the 8 weeks before"),
}


def statistic(name: str) -> tuple[TableStatistic, str, str]:
    """Any statistic by name as a function of a run's (or the real market's) tables."""
    if name in TABLE_STATISTICS:
        return TABLE_STATISTICS[name]
    function, unit, label = STATISTICS[name]

    def on_daily(tables: Tables, start: dt.date, end: dt.date) -> float:
        daily = tables.get("daily")
        return function(daily, start, end) if daily is not None else math.nan

    return on_daily, unit, label


# ---------------------------------------------------------------- the file
class Band(Section):
    name: str = Field(min_length=1, description="What the band says, in words.")
    statistic: str = Field(description=f"One of: {', '.join([*STATISTICS, *TABLE_STATISTICS])}.")
    start: dt.date = Field(description="First date the statistic reads.")
    end: dt.date = Field(description="Last date the statistic reads.")
    low: float | None = Field(default=None, description="Lowest value in the band (unset: no floor).")
    high: float | None = Field(default=None, description="Highest value in the band (unset: no ceiling).")
    source: str = Field(min_length=1, description="The public figures the band comes from.")

    @model_validator(mode="after")
    def _a_known_statistic_and_a_band(self) -> Band:
        if self.statistic not in STATISTICS and self.statistic not in TABLE_STATISTICS:
            known = ", ".join([*STATISTICS, *TABLE_STATISTICS])
            raise ValueError(f"statistic one of {known} (found {self.statistic!r})")
        if self.low is None and self.high is None:
            raise ValueError("low or high (a band needs an edge)")
        if self.end < self.start:
            raise ValueError(f"end on or after start ({self.start})")
        return self

    def holds(self, value: float) -> bool:
        """Whether `value` lies in the band (a value that cannot be measured does not)."""
        if not math.isfinite(value):
            return False
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def text(self) -> str:
        unit = statistic(self.statistic)[1]
        if self.low is not None and self.high is not None:
            return f"{self.low:g} to {self.high:g} {unit}"
        return f">= {self.low:g} {unit}" if self.low is not None else f"<= {self.high:g} {unit}"


class EpisodeFile(Section):
    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="Name of the episode (its report page).")
    description: str = Field(min_length=1, description="What happened, in one paragraph.")
    scenario: Path = Field(description="Scenario file the episode runs (relative to this file), replay included.")
    overrides: dict[str, Any] = Field(default={}, description="Keys set on top of the scenario (dates, shocks).")
    seeds: list[int] = Field(default=[1, 2, 3], min_length=1, description="Seeds every band must hold on.")
    bands: list[Band] = Field(min_length=1, description="Statistics and the ranges public figures put them in.")


@dataclass(frozen=True)
class Episode:
    spec: EpisodeFile
    path: Path

    @property
    def scenario_path(self) -> Path:
        return (self.path.parent / self.spec.scenario).resolve()


def load_episode(path: str | Path) -> Episode:
    """Read and validate an episode file; problems are located like scenario problems."""
    path = Path(path)
    return Episode(validated_file(path, EpisodeFile, "an existing episode file"), path)


# ---------------------------------------------------------------- running and reporting
def measure(episode: Episode, tables_by_seed: Mapping[int, Tables | pd.DataFrame]) -> pd.DataFrame:
    """One row per band and seed: the statistic's value and whether it lies in the band.

    Each seed's tables (a run's `results()`), or its daily table alone.
    """
    rows = []
    for band in episode.spec.bands:
        function = statistic(band.statistic)[0]
        for seed, given in tables_by_seed.items():
            tables = {"daily": given} if isinstance(given, pd.DataFrame) else given
            value = function(tables, band.start, band.end)
            rows.append({"band": band.name, "statistic": band.statistic, "seed": seed, "value": value,
                         "in_band": band.holds(value)})  # fmt: skip
    return pd.DataFrame(rows)


def run_episode(episode: Episode, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Run every seed of an episode and measure its bands (see `measure`)."""
    from sim import TreasuryMarketModel
    from sim.scenario import load_scenario

    scenario = load_scenario(episode.scenario_path, overrides=episode.spec.overrides,
                             overrides_from=str(episode.path), data_dir=data_dir)  # fmt: skip
    tables = {seed: TreasuryMarketModel(scenario, seed=seed).run().results() for seed in episode.spec.seeds}
    return measure(episode, tables)


def episode_page(episode: Episode, measured: pd.DataFrame, real: Tables | pd.DataFrame | None = None) -> str:
    """The episode's report page (Markdown): each band, its source, and where each seed fell
    (and the real market's value, from its tables or its daily table, when given)."""
    if isinstance(real, pd.DataFrame):
        real = {"daily": real}
    spec = episode.spec
    out = io.StringIO()
    met = sum(bool(measured.loc[measured["band"] == b.name, "in_band"].all()) for b in spec.bands)
    seeds = list(dict.fromkeys(measured["seed"]))
    out.write(f"# Episode: {spec.name}\n\n{spec.description}\n\n")
    out.write(f"Scenario `{spec.scenario}`, seeds {seeds}. {met} of {len(spec.bands)} bands hold on every seed.\n\n")
    real_head = " | real" if real is not None else ""
    out.write(f"| band | statistic | dates | band | {' | '.join(f'seed {s}' for s in seeds)}{real_head} | holds |\n")
    out.write(f"|---|---|---|---|{'---|' * len(seeds)}{'---|' if real is not None else ''}---|\n")
    for band in spec.bands:
        rows = measured[measured["band"] == band.name].set_index("seed")
        values = " | ".join(f"{rows.loc[s, 'value']:.3g}" + ("" if rows.loc[s, "in_band"] else " (out)") for s in seeds)
        real_value = ""
        if real is not None:
            value = statistic(band.statistic)[0](real, band.start, band.end)
            real_value = f" | {value:.3g}"
        holds = "yes" if rows["in_band"].all() else "**no**"
        out.write(f"| {band.name} | `{band.statistic}` | {band.start} to {band.end} | {band.text()} | {values}"
                  f"{real_value} | {holds} |\n")  # fmt: skip
    out.write("\nSources of the bands:\n\n")
    for band in spec.bands:
        out.write(f"- {band.name}: {band.source}\n")
    return out.getvalue()


def band_summary(measured: pd.DataFrame) -> dict[str, bool]:
    """Band name -> whether every seed met it."""
    return {str(name): bool(group["in_band"].all()) for name, group in measured.groupby("band", sort=False)}


def mean_by_band(measured: pd.DataFrame) -> dict[str, float]:
    """Band name -> the statistic's mean over seeds."""
    return {str(name): float(np.nanmean(group["value"])) for name, group in measured.groupby("band", sort=False)}
