"""Real public data turned into the standard tables of `sim.tables` (daily, auctions, fails_weekly).

Reads a data folder in the publishers' layouts (see the data README): FRED series (`fred/`), the New York
Fed's reference-rates export and primary-dealer fails (`nyfed/`), Treasury auction results and the Daily
Treasury Statement (`treasury/`), and SOFR volume (`market/sofr_volume_daily.csv`). Amounts come out in
$ billions, rates and yields in percent, exactly as the model writes its own tables, so one dashboard scores
both.

Real SOFR and its published percentiles and volume fill the `sofr_*` columns, which a simulated run measures
the way the New York Fed measures SOFR. The all-trade `repo_*` columns of a run (dealer-to-client repo
included) have no public counterpart and are absent from real tables.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TypedDict

import numpy as np
import pandas as pd

from sim.calendar import TAX_MONTHS, business_days, roll_forward
from sim.data.csvfile import present
from sim.data.errors import DataFileError
from sim.data.fomc import rates_in_force
from sim.data.fred import fred_path, read_fred_series
from sim.data.market import read_sofr_volume
from sim.data.nyfed import (
    REFERENCE_RATE_COLUMNS,
    read_fails_weekly,
    read_reference_rates,
    reference_rate_files,
)
from sim.data.treasury import read_auctions, read_tga_closing
from sim.tables import AUCTION_COLUMNS, DAILY_COLUMNS, FAILS_WEEKLY_COLUMNS

SOFR_PERCENTILES = {"SOFR1": "sofr_p1_pct", "SOFR25": "sofr_p25_pct", "SOFR75": "sofr_p75_pct",
                    "SOFR99": "sofr_p99_pct"}  # fmt: skip
SOFR_RATE_COLUMNS = ("sofr_median_pct", *SOFR_PERCENTILES.values())
FRED_SOURCES = (
    {"sofr_median_pct": "fred/SOFR.csv", "effr_pct": "fred/EFFR.csv"}
    | {c: f"fred/{i}.csv" for i, c in SOFR_PERCENTILES.items()}
)  # fmt: skip
# The ON RRP offering rate is set by the FOMC at a fixed distance below IORB; FRED's copy of it is not in the
# data folder, so it is taken from IORB with the spreads of the FOMC's implementation notes: 10 bp from the
# June 2021 technical adjustment (IOER 0.15%, ON RRP 0.05%), 15 bp from 19 December 2024, when the ON RRP
# rate was set to the bottom of the target range (IORB 4.40%, ON RRP 4.25%). (start date, IORB - ON RRP, bp)
IORB_START = "2021-07-29"  # IORB replaced IOER that day, at the same rate
ON_RRP_BELOW_IORB_BP = (("2021-06-17", 10.0), ("2024-12-19", 15.0))
# Daily FRED series taken on the table's own dates (IORB lists every calendar day), in FRED's units.
SAME_DAY_SERIES = {"IORB": "iorb_pct", "RRPONTSYD": "on_rrp_bn", "DGS2": "yield_2y_pct",
                   "DGS10": "yield_10y_pct", "DGS30": "yield_30y_pct"}  # fmt: skip
# Weekly H.4.1 series ($ millions, dated Wednesday) carried forward to the following days.
WEEKLY_SERIES = {"WRESBAL": "reserves_bn", "TREAST": "soma_bn"}
# A weekly value is carried at most this many days, so a missing week shows as missing, not as stale data.
MAX_AS_OF_DAYS = 7
# Two sources agree when their published values (2 decimals) are equal.
AGREEMENT_TOLERANCE = 1e-9


class RealTables(TypedDict):
    """The standard tables of a real period, and what was missing from the data folder."""

    daily: pd.DataFrame
    auctions: pd.DataFrame
    fails_weekly: pd.DataFrame
    notes: list[str]


DTS_FILE = Path("treasury") / "dts_operating_cash_balance.csv"
AUCTIONS_FILE = Path("treasury") / "auctions_query.csv"
FAILS_FILE = Path("nyfed") / "pd_fails_weekly.csv"
SOFR_VOLUME_FILE = Path("market") / "sofr_volume_daily.csv"


def load_real_tables(data_dir: str | Path, start: dt.date | None = None, end: dt.date | None = None) -> RealTables:
    """Load a folder of public data files into the standard tables, for dates in [start, end].

    Args:
        data_dir: folder laid out like the shared data folder (`fred/`, `nyfed/`, `treasury/`, `market/`).
        start: first date kept (inclusive); None keeps everything from the first date.
        end: last date kept (inclusive); None keeps everything to the last date.

    Returns:
        `daily` (one row per business day with a published SOFR), `auctions` (nominal bills, notes, bonds),
        `fails_weekly` (one row per Wednesday), in the columns and units of `sim.tables`, and `notes`: a list of
        what was missing (files not found and the columns left out because of them). A table whose only source
        file is absent is returned with its standard columns and no rows.

    Raises:
        DataFileError: a malformed file (missing required column, bad date or number, repeated date), NY Fed
            and FRED SOFR values that disagree, or neither `fred/SOFR.csv` nor a NY Fed export present.
    """
    data_dir = Path(data_dir)
    notes: list[str] = []
    daily = _window(_daily(data_dir, notes), "date", start, end)

    if present(data_dir / AUCTIONS_FILE):
        auctions = read_auctions(data_dir / AUCTIONS_FILE)
    else:
        notes.append(f"{AUCTIONS_FILE.as_posix()}: not found; the auctions table is empty")
        auctions = _empty(AUCTION_COLUMNS, dates=("auction_date", "issue_date"), text=("tenor", "security_type"))
    if present(data_dir / FAILS_FILE):
        fails = read_fails_weekly(data_dir / FAILS_FILE)
    else:
        notes.append(f"{FAILS_FILE.as_posix()}: not found; the fails_weekly table is empty")
        fails = _empty(FAILS_WEEKLY_COLUMNS, dates=("week_end",))
    return {
        "daily": daily,
        "auctions": _window(auctions, "auction_date", start, end),
        "fails_weekly": _window(fails, "week_end", start, end),
        "notes": notes,
    }


def _daily(data_dir: Path, notes: list[str]) -> pd.DataFrame:
    """The daily table over every published SOFR date (before any date window is applied)."""
    frame = _reference_rates(data_dir, notes)
    dates = frame.index
    for series_id, column in SAME_DAY_SERIES.items():
        if (series := _fred_or_note(data_dir, series_id, column, notes)) is not None:
            frame[column] = series.reindex(dates).to_numpy()
    _administered_rates(frame)
    for series_id, column in WEEKLY_SERIES.items():
        if (series := _fred_or_note(data_dir, series_id, column, notes)) is not None:
            frame[column] = as_of(series, dates) / 1000.0
    tga = _tga(data_dir, dates, notes)
    if tga is not None:
        frame["tga_bn"] = tga
    frame = frame.join(calendar_flags(dates))
    frame = frame.rename_axis("date").reset_index()
    return frame[[c for c in DAILY_COLUMNS if c in frame.columns]]


def _administered_rates(frame: pd.DataFrame) -> None:
    """IORB and the ON RRP offering rate on each date of a date-indexed daily frame (percent).

    FRED's IORB starts on 29 July 2021 (IORB_START); before it the project's table of FOMC
    decisions gives IOER, its predecessor (`sim.data.fomc`). The ON RRP rate, which the folder lacks, comes from
    that table too, and beyond the table's dates from IORB less the FOMC's spread.
    """
    in_force = rates_in_force(pd.DatetimeIndex(frame.index))
    iorb = frame["iorb_pct"] if "iorb_pct" in frame.columns else pd.Series(np.nan, index=frame.index)
    ioer_days = frame.index < pd.Timestamp(IORB_START)
    frame["iorb_pct"] = iorb.mask(ioer_days, in_force["iorb_pct"])
    if frame["iorb_pct"].isna().all():
        del frame["iorb_pct"]
        return
    fallback = on_rrp_rate_from_iorb(frame["iorb_pct"])
    frame["on_rrp_rate_pct"] = in_force["on_rrp_pct"].fillna(pd.Series(fallback, index=frame.index))


def on_rrp_rate_from_iorb(iorb_pct: pd.Series) -> np.ndarray:
    """The ON RRP offering rate (percent) on each date of a date-indexed IORB series (percent).

    IORB minus the FOMC's IORB-to-ON RRP spread of the date (ON_RRP_BELOW_IORB_BP); NaN before the first
    spread's start or where IORB is unknown.
    """
    dates = pd.DatetimeIndex(iorb_pct.index)
    spread_bp = np.full(len(dates), np.nan)
    for start, below_bp in ON_RRP_BELOW_IORB_BP:
        spread_bp[np.asarray(dates >= pd.Timestamp(start))] = below_bp
    return iorb_pct.to_numpy(dtype=float) - spread_bp / 100.0


def _reference_rates(data_dir: Path, notes: list[str]) -> pd.DataFrame:
    """SOFR, its percentiles (percent) and volume ($ bn), EFFR and TGCR (percent), indexed by SOFR's dates.

    From FRED (SOFR, SOFR1/25/75/99, EFFR) and any NY Fed all-rates exports (SOFR, EFFR and TGCR rows); a
    NY Fed value must equal FRED's and any earlier export's on a common date. Rows are the dates with a
    published SOFR.
    """
    sofr_path = fred_path(data_dir, "SOFR")
    exports = reference_rate_files(data_dir)
    if not present(sofr_path) and not exports:
        raise DataFileError(sofr_path, None, None,
                            "file not found, and no New York Fed export nyfed/reference_rates*.csv either: "
                            "the daily table needs SOFR from one of them")  # fmt: skip
    fred = _fred_sofr(data_dir, bool(exports), notes)
    effr_path = fred_path(data_dir, "EFFR")
    fred_effr = read_fred_series(effr_path, "EFFR").dropna().rename("effr_pct") if present(effr_path) else None
    nyfed = _nyfed_rates(exports, fred, fred_effr)

    # FRED first; NY Fed exports add dates FRED does not have (their common values were checked equal).
    sofr = nyfed.get("SOFR")
    rates = fred.combine_first(sofr.drop(columns=["line", "sofr_volume_bn"])) if sofr is not None else fred
    rates = rates.sort_index()
    volume = sofr["sofr_volume_bn"] if sofr is not None else None
    if present(data_dir / SOFR_VOLUME_FILE):
        market = read_sofr_volume(data_dir / SOFR_VOLUME_FILE)
        volume = market if volume is None else volume.combine_first(market)
    if volume is None:
        notes.append(f"{SOFR_VOLUME_FILE.as_posix()}: not found (nor a New York Fed export); sofr_volume_bn omitted")
    else:
        rates["sofr_volume_bn"] = volume.reindex(rates.index).to_numpy()

    effr = fred_effr
    if "EFFR" in nyfed:
        from_export = nyfed["EFFR"]["effr_pct"]
        effr = from_export if effr is None else effr.combine_first(from_export)
        if fred_effr is None:
            notes.append("fred/EFFR.csv: not found; effr_pct from the New York Fed export only")
    if effr is None:
        notes.append("fred/EFFR.csv: not found (nor EFFR rows in a New York Fed export); effr_pct omitted")
    else:
        rates["effr_pct"] = effr.reindex(rates.index).to_numpy()
    if "TGCR" in nyfed:
        rates["tgcr_median_pct"] = nyfed["TGCR"]["tgcr_median_pct"].reindex(rates.index).to_numpy()
    return rates


def _fred_sofr(data_dir: Path, has_exports: bool, notes: list[str]) -> pd.DataFrame:
    """FRED's SOFR and percentiles (percent) on the dates FRED publishes SOFR; empty without fred/SOFR.csv."""
    sofr_path = fred_path(data_dir, "SOFR")
    if not present(sofr_path):
        notes.append("fred/SOFR.csv: not found; sofr columns from the New York Fed export only")
        return pd.DataFrame(index=pd.DatetimeIndex([], name="date"))
    fred = read_fred_series(sofr_path, "SOFR").dropna().rename("sofr_median_pct").to_frame()
    for series_id, column in SOFR_PERCENTILES.items():
        path = fred_path(data_dir, series_id)
        if present(path):
            fred[column] = read_fred_series(path, series_id).reindex(fred.index).to_numpy()
        elif has_exports:
            notes.append(f"fred/{series_id}.csv: not found; {column} from the New York Fed export only")
        else:
            notes.append(f"fred/{series_id}.csv: not found; {column} omitted")
    return fred


def _nyfed_rates(exports: list[Path], fred: pd.DataFrame, fred_effr: pd.Series | None) -> dict[str, pd.DataFrame]:
    """The SOFR, EFFR and TGCR rows of all NY Fed exports, each checked against FRED and earlier exports.

    Rate types no export lists (with a rate) are left out of the result.
    """
    nyfed: dict[str, pd.DataFrame] = {}
    fred_by_type = {"SOFR": fred, "EFFR": None if fred_effr is None else fred_effr.to_frame()}
    for path in exports:
        for kind, rows in read_reference_rates(path).items():
            if rows.empty:
                continue
            # Same rates from two publications must be the same numbers; a mismatch means a wrong or stale file.
            published = fred_by_type.get(kind)
            if published is not None:
                _check_agreement(path, kind, rows, published, FRED_SOURCES)
            earlier = nyfed.get(kind)
            if earlier is not None:
                _check_agreement(path, kind, rows, earlier, "an earlier nyfed/reference_rates*.csv")
            nyfed[kind] = rows if earlier is None else earlier.combine_first(rows)
    return nyfed


def _check_agreement(
    path: Path, kind: str, rows: pd.DataFrame, other: pd.DataFrame, other_name: str | dict[str, str]
) -> None:
    """Raise `DataFileError` at the first NY Fed `kind` row whose value differs from `other` on the same date."""
    nyfed_names = {name: column for column, name in REFERENCE_RATE_COLUMNS[kind].items()}
    common = rows.index.intersection(other.index)
    if len(common) == 0:
        return
    for column in nyfed_names:
        if column not in other.columns:
            continue
        if isinstance(other_name, dict) and column not in other_name:
            continue  # a column FRED does not publish (volume) is checked between exports only
        mine = rows.loc[common, column]
        theirs = other.loc[common, column]
        differs = (mine - theirs).abs() > AGREEMENT_TOLERANCE  # NaN on either side compares False
        if differs.any():
            day = differs.idxmax()
            source = other_name[column] if isinstance(other_name, dict) else other_name
            raise DataFileError(path, int(rows.loc[day, "line"]), nyfed_names[column],
                                f"{kind} {mine[day]:g} on {day.date().isoformat()} disagrees with "
                                f"{source} ({theirs[day]:g})")  # fmt: skip


def _fred_or_note(data_dir: Path, series_id: str, column: str, notes: list[str]) -> pd.Series | None:
    """A FRED series if its file exists; else None and a note that `column` is omitted."""
    path = fred_path(data_dir, series_id)
    if not present(path):
        notes.append(f"fred/{series_id}.csv: not found; {column} omitted")
        return None
    return read_fred_series(path, series_id)


def _tga(data_dir: Path, dates: pd.DatetimeIndex, notes: list[str]) -> np.ndarray | None:
    """TGA balance ($ bn): the DTS daily close, else the FRED weekly average (WTREGEN) carried forward."""
    tga = np.full(len(dates), np.nan)
    dts_path = data_dir / DTS_FILE
    if present(dts_path):
        tga = read_tga_closing(dts_path).reindex(dates).to_numpy()
    weekly_path = fred_path(data_dir, "WTREGEN")
    if present(weekly_path):
        weekly = as_of(read_fred_series(weekly_path, "WTREGEN"), dates) / 1000.0
        tga = np.where(np.isnan(tga), weekly, tga)
    if not present(dts_path):
        if present(weekly_path):
            notes.append(f"{DTS_FILE.as_posix()}: not found; tga_bn from fred/WTREGEN.csv weekly averages")
        else:
            notes.append(f"{DTS_FILE.as_posix()} and fred/WTREGEN.csv: not found; tga_bn omitted")
            return None
    return tga


def as_of(series: pd.Series, dates: pd.DatetimeIndex, max_age_days: int = MAX_AS_OF_DAYS) -> np.ndarray:
    """The latest non-missing value of `series` dated on or before each date (NaN if older than `max_age_days`).

    Args:
        series: values indexed by a sorted DatetimeIndex (e.g. weekly Wednesday observations).
        dates: the dates to look values up for.
        max_age_days: how many calendar days a value may be carried forward.

    Returns:
        One value per date, in the series' units.
    """
    known = series.dropna()
    position = known.index.searchsorted(dates, side="right") - 1
    values = np.full(len(dates), np.nan)
    found = position >= 0
    if found.any():
        age = dates[found] - known.index[position[found]]
        fresh = np.asarray(age <= pd.Timedelta(days=max_age_days))
        picked = known.to_numpy()[position[found]]
        values[np.flatnonzero(found)[fresh]] = picked[fresh]
    return values


def calendar_flags(dates: pd.DatetimeIndex) -> pd.DataFrame:
    """Calendar flags on a table's own (published) dates, with the rules of `sim.calendar.MarketCalendar`.

    Month-end is the last published day of a month; quarter-end the month-ends of Mar/Jun/Sep/Dec; mid-month
    the 15th or the next published day after it; tax dates the mid-month days of Mar/Apr/Jun/Sep/Dec;
    settlement dates the mid-month days and month-ends. The day after the last date and the day before the
    first are taken from the federal business-day calendar, so a window's edges are not flagged by accident.

    Args:
        dates: sorted, distinct dates.

    Returns:
        Boolean columns `is_month_end`, `is_quarter_end`, `is_tax_date`, `is_settlement_date`, indexed by `dates`.
    """
    columns = ("is_month_end", "is_quarter_end", "is_tax_date", "is_settlement_date")
    if len(dates) == 0:
        return pd.DataFrame({c: pd.Series(dtype=bool) for c in columns}, index=dates)
    first, last = dates[0], dates[-1]
    before = business_days((first - pd.Timedelta(days=10)).date(), (first - pd.Timedelta(days=1)).date())[-1]
    after = roll_forward(last + pd.Timedelta(days=1))
    following = pd.DatetimeIndex([*dates[1:], after])
    previous = pd.DatetimeIndex([before, *dates[:-1]])
    month_end = np.asarray(following.month != dates.month)
    fifteenth = pd.to_datetime({"year": dates.year, "month": dates.month, "day": 15})
    mid_month = np.asarray((dates >= fifteenth.to_numpy()) & (previous < fifteenth.to_numpy()))
    flags = {
        "is_month_end": month_end,
        "is_quarter_end": month_end & np.isin(dates.month, (3, 6, 9, 12)),
        "is_tax_date": mid_month & np.isin(dates.month, TAX_MONTHS),
        "is_settlement_date": mid_month | month_end,
    }
    return pd.DataFrame(flags, index=dates)


def _window(frame: pd.DataFrame, column: str, start: dt.date | None, end: dt.date | None) -> pd.DataFrame:
    """Rows whose `column` lies in [start, end] (either bound optional), renumbered."""
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= frame[column] >= pd.Timestamp(start)
    if end is not None:
        keep &= frame[column] <= pd.Timestamp(end)
    return frame.loc[keep].reset_index(drop=True)


def _empty(columns: tuple[str, ...], dates: tuple[str, ...] = (), text: tuple[str, ...] = ()) -> pd.DataFrame:
    """A table with the standard columns and no rows (dates datetime64, labels text, the rest float)."""

    def dtype(name: str) -> str:
        return "datetime64[ns]" if name in dates else ("object" if name in text else "float64")

    return pd.DataFrame({name: pd.Series(dtype=dtype(name)) for name in columns})
