"""Dashboard metrics (DESIGN.md section 8) as functions of the standard tables of sim.tables.

Panel A reads the daily SOFR percentiles (`sofr_*`: overnight Treasury repo measured the way
the New York Fed measures SOFR, in simulated and real tables alike; a run's all-trade `repo_*`
columns, which include dealer-to-client repo, have no public counterpart) and EFFR, panel B the
auction results, panel C fails to deliver in the issues the New York Fed's by-issue series tracks
(`fails_tracked_bn`: the on-the-run nominal coupons, in a run and in the public file alike); the
pipe (dealer intermediation) and the reservoir (reserves, ON RRP, TGA) read the daily table.
The same function scores a simulated run and real public data: a real table carries only the
columns its sources publish, and a metric whose inputs are absent (or all missing) is
reported as None, never an exception.

Units: rates in the tables are in percent, spreads and tails here in basis points (bp),
amounts in $ billions, shares in [0, 1]; every metric's unit is in its `MetricSpec`.

Rules chosen here (constants below), checked against real SOFR percentiles 2018-2025,
whose trailing median 99th-1st percentile spread runs at 13-25 bp:
- Repo (SOFR) spike day: dispersion > 2 x its trailing 60-business-day median (today excluded,
  at least 20 days of history) and at least 10 bp above it. On 2018-2025 data this flags
  49 days: 18 in 2019 (most month-ends, 16-18 September), 4 in 2020 (16-18 March), 9 in
  2022 (several on days IORB moved), none in calm 2021, 3 in 2025 (the June quarter-end,
  the 15 September tax date). A 2.5x rule flags nothing in 2023 or 2025; the 10 bp floor
  keeps a very quiet market (a 5 bp median) from flagging a 12 bp day.
- Elevated repo volatility: the 20-day standard deviation of daily changes in the median
  at or above 5 bp. Real SOFR ran at a median of 0-3 bp in 2021-2025 (rarely above 5)
  and 7 bp in 2019, peaking at 92 bp after September. An absolute level (not one relative
  to the series' own history) keeps the measure comparable between runs and between a
  run and a real period.
- Fails spike week: weekly cumulative fails > 3 x the trailing 13-week (one quarter)
  median, this week excluded, at least 4 weeks of history. Real primary-dealer fails are
  heavy-tailed: 3x flags 9% of weeks in 2022-2025 (quarter- and year-end weeks, late
  September 2022 and 2024); 2x flags 15%, too many to call spikes.
- A tail is an auction whose high yield exceeds the when-issued yield by 1 bp or more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.calendar import business_days
from sim.tables import FAILS_WEEKLY_COLUMNS, TENOR_GROUPS

Tables = Mapping[str, pd.DataFrame]
Value = float | None

SPIKE_WINDOW_DAYS = 60
SPIKE_MIN_HISTORY_DAYS = 20
SPIKE_RATIO = 2.0
SPIKE_MIN_EXCESS_BP = 10.0
VOL_WINDOW_DAYS = 20
VOL_ELEVATED_BP = 5.0
PERSISTENCE_DAYS = 20
TAIL_THRESHOLD_BP = 1.0
FAILS_SPIKE_RATIO = 3.0
FAILS_SPIKE_WINDOW_WEEKS = 13
FAILS_SPIKE_MIN_HISTORY_WEEKS = 4
# Panel C's fails: the tracked issues' (sim.tables), which simulated and real tables both carry.
FAILS_DAILY_COLUMN = "fails_tracked_bn"
FAILS_WEEKLY_COLUMN = "fails_tracked_bn"
# A quarter-end's SOFR is compared with the median of the week before it (robust to one odd day).
QUARTER_END_LOOKBACK_DAYS = 5
GROUPS = tuple(TENOR_GROUPS)  # ("bills", "2-7y", "10y+")

# ---------------------------------------------------------------- metric registry
# +1: a higher value is worse (more stress, or less throughput); -1: a higher value is better.
DIRECTION_SIGN: dict[str, int] = {
    "stress": 1, "calm": -1, "less_throughput": 1, "more_throughput": -1, "neither": 0,
}  # fmt: skip
PANELS: tuple[str, ...] = ("A", "B", "C", "pipe", "reservoir")
PANEL_TITLES = {
    "A": "A repo", "B": "B auctions", "C": "C fails", "pipe": "Pipe (throughput)", "reservoir": "Reservoir",
}  # fmt: skip


@dataclass(frozen=True)
class MetricSpec:
    """What a dashboard number is and how to read it.

    Attributes:
        name: key in `Dashboard.metrics`.
        label: human-readable description.
        unit: "bp", "$bn", "$bn/day", "share" (0-1), "ratio", "correlation" or "count".
        panel: "A" repo, "B" auctions, "C" fails, "pipe" or "reservoir".
        direction: what a higher value means: "stress" (more plumbing stress), "calm"
            (less stress), "less_throughput", "more_throughput" or "neither".
        in_index: whether the metric enters the stress / throughput index (counts and
            last values duplicate shares and means, so they are shown but not summed).
        floor: smallest difference (in the unit) worth one standard deviation when scoring,
            where the unit's default does not fit (a spread that sits near zero).
    """

    name: str
    label: str
    unit: str
    panel: str
    direction: str
    in_index: bool = True
    floor: float | None = None

    @property
    def sign(self) -> int:
        """+1 when higher is worse, -1 when higher is better, 0 when neither."""
        return DIRECTION_SIGN[self.direction]


def _registry() -> dict[str, MetricSpec]:
    specs: list[MetricSpec] = []

    def add(name: str, label: str, unit: str, panel: str, direction: str, in_index: bool = True,
            floor: float | None = None) -> None:  # fmt: skip
        specs.append(MetricSpec(name, label, unit, panel, direction, in_index, floor))

    # A: repo
    add("repo_dispersion_mean_bp", "SOFR 99th-1st percentile dispersion, mean", "bp", "A", "stress")
    add("repo_dispersion_p90_bp", "SOFR dispersion, 90th percentile of days", "bp", "A", "stress")
    add("repo_dispersion_max_bp", "SOFR dispersion, largest day", "bp", "A", "stress", False)
    # The spread to IORB crosses zero, so a relative scale means nothing near it: floor at 2 bp
    # (about its seed-to-seed standard deviation in a six-month baseline run).
    add("repo_median_minus_iorb_mean_bp", "SOFR minus IORB, mean", "bp", "A", "stress", floor=2.0)
    add("repo_median_minus_iorb_p90_bp", "SOFR minus IORB, 90th percentile", "bp", "A", "stress", floor=2.0)
    add("repo_median_vol_20d_mean_bp", "20-day st. dev. of daily changes in SOFR, mean", "bp", "A", "stress")
    add("repo_median_vol_20d_last_bp", "20-day st. dev. of daily SOFR changes, last day", "bp", "A", "stress", False)
    add("repo_spike_days", "SOFR spike days (dispersion > 2x trailing median, +10bp)", "count", "A", "stress", False)
    add("repo_spike_day_share", "SOFR spike days, share of days assessed", "share", "A", "stress")
    add("repo_vol_persistence_share", "Last 20 days with 20-day vol >= 5bp, share", "share", "A", "stress")
    add("repo_vol_elevated_share", "All days with 20-day vol >= 5bp, share", "share", "A", "stress")
    # Fed funds against IORB: in ample reserves EFFR sits a few bp below IORB; it nears it as reserves tighten.
    add("effr_minus_iorb_mean_bp", "EFFR minus IORB, mean", "bp", "A", "stress", floor=2.0)
    # The shape of the SOFR distribution the Fed watches for reserve scarcity and year-end pressure.
    add("sofr_iqr_median_bp", "SOFR 75th-25th percentile, median of days", "bp", "A", "stress", floor=1.0)
    add("sofr_p1_minus_on_rrp_median_bp", "SOFR 1st percentile minus ON RRP rate, median of days", "bp", "A",
        "stress", floor=2.0)  # fmt: skip
    add("sofr_quarter_end_jump_mean_bp", "SOFR on quarter-ends minus the median of the 5 days before, mean", "bp",
        "A", "stress", floor=2.0)  # fmt: skip
    # B: auctions, all tenors and by tenor group
    for suffix, what in (("", "all auctions"), *((f":{g}", g) for g in GROUPS)):
        add(f"tail_mean_bp{suffix}", f"Auction tail (high - WI), mean, {what}", "bp", "B", "stress")
        add(f"tail_p90_bp{suffix}", f"Auction tail, 90th percentile, {what}", "bp", "B", "stress")
        add(f"tail_share_ge_1bp{suffix}", f"Auctions tailing >= 1bp, share, {what}", "share", "B", "stress")
        add(f"high_minus_median_mean_bp{suffix}", f"High minus median accepted yield, mean, {what}", "bp", "B",
            "stress")  # fmt: skip
        add(f"dealer_share_mean{suffix}", f"Primary-dealer takedown, mean share, {what}", "share", "B", "stress")
    add("tail_autocorr_lag1", "Tail lag-1 autocorrelation within tenor (pooled)", "correlation", "B", "stress")
    add("tail_longest_run", "Longest run of consecutive tails >= 1bp in one tenor", "count", "B", "stress")
    add("tail_calm_mean_bp", "Auction tail on calm days (no calendar flag, no risk-off), mean", "bp", "B", "stress")
    add("tail_calm_share_ge_1bp", "Auctions tailing >= 1bp on calm days, share", "share", "B", "stress")
    add("high_minus_median_calm_mean_bp", "High minus median on calm days, mean", "bp", "B", "stress")
    add("bid_to_cover_mean", "Bid-to-cover, mean", "ratio", "B", "calm")
    # C: fails in the tracked issues (the on-the-run nominal coupons, as the public by-issue series)
    add("fails_weekly_mean_bn", "Fails to deliver (tracked issues), Thu-Wed weekly cumulative, mean", "$bn", "C",
        "stress")  # fmt: skip
    add("fails_weekly_p90_bn", "Fails to deliver, weekly, 90th percentile", "$bn", "C", "stress")
    add("fails_weekly_max_bn", "Fails to deliver, largest week", "$bn", "C", "stress", False)
    add("fails_daily_mean_bn", "Fails to deliver (tracked issues), daily mean", "$bn", "C", "stress")
    add("fails_daily_max_bn", "Fails to deliver, largest day", "$bn", "C", "stress", False)
    add("fails_spike_weeks", "Fails spike weeks (> 3x trailing 13-week median)", "count", "C", "stress", False)
    add("fails_spike_week_share", "Fails spike weeks, share of weeks assessed", "share", "C", "stress")
    add("fails_autocorr_lag1", "Weekly fails lag-1 autocorrelation", "correlation", "C", "stress")
    add("fails_specials_corr", "Correlation of weekly fails with weekly max specialness", "correlation", "C",
        "neither")  # fmt: skip
    add("fails_settlement_week_mean_bn", "Weekly fails, weeks with a settlement date, mean", "$bn", "C", "stress",
        False)  # fmt: skip
    add("fails_other_week_mean_bn", "Weekly fails, weeks without a settlement date, mean", "$bn", "C", "stress",
        False)  # fmt: skip
    add("fails_settlement_week_ratio", "Weekly fails, settlement weeks / other weeks", "ratio", "C", "neither")
    # The public series' largest weeks fall in the second half of a quarter's last month (2022-2024:
    # 12 of 16 spike weeks; the median of those weeks 3.4 x the others').
    add("fails_quarter_end_month_median_bn", "Weekly fails, weeks ending from the 15th of Mar/Jun/Sep/Dec, median",
        "$bn", "C", "stress", False)  # fmt: skip
    add("fails_quarter_end_month_ratio", "Weekly fails, weeks ending from the 15th of Mar/Jun/Sep/Dec / other "
        "weeks, medians", "ratio", "C", "neither", False)  # fmt: skip
    # Pipe and reservoir: summary statistics of daily series
    for column, stem, unit, label, direction in PIPE_SERIES:
        _add_summary(add, column, stem, unit, label, "pipe", direction)
    for column, stem, unit, label, direction in RESERVOIR_SERIES:
        _add_summary(add, column, stem, unit, label, "reservoir", direction)
    return {s.name: s for s in specs}


# (column, metric stem, unit, label, direction)
PIPE_SERIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("customer_volume_bn", "customer_volume", "$bn/day", "Customer volume intermediated", "more_throughput"),
    ("fill_ratio", "fill_ratio", "share", "Fill ratio (customer volume filled / wanted)", "more_throughput"),
    ("bid_ask_bp", "bid_ask", "bp", "Bid/ask", "less_throughput"),
    ("market_depth_bn", "market_depth", "$bn", "Market depth offered by dealers", "more_throughput"),
    ("dealer_headroom_bn", "dealer_headroom", "$bn", "Dealer balance-sheet headroom", "more_throughput"),
    ("dealer_utilization", "dealer_utilization", "ratio", "Dealer utilization", "less_throughput"),
    ("repo_intermediated_bn", "repo_intermediated", "$bn/day", "Repo volume intermediated", "more_throughput"),
)
RESERVOIR_SERIES: tuple[tuple[str, str, str, str, str], ...] = (
    ("reserves_bn", "reserves", "$bn", "Reserves", "neither"),
    ("on_rrp_bn", "on_rrp", "$bn", "ON RRP", "neither"),
    ("tga_bn", "tga", "$bn", "TGA", "neither"),
    ("srf_usage_bn", "srf_usage", "$bn", "Standing Repo Facility usage", "neither"),
    ("soma_bn", "soma", "$bn", "Fed Treasury holdings (SOMA, par)", "neither"),
)
SUMMARY_STATS = ("mean", "p10", "p90", "last")


def _unit_suffix(unit: str) -> str:
    return {"$bn": "_bn", "$bn/day": "_bn", "bp": "_bp"}.get(unit, "")


def summary_name(stem: str, stat: str, unit: str) -> str:
    """Metric name of a summary statistic of a daily series, unit last (`bid_ask_mean_bp`)."""
    return f"{stem}_{stat}{_unit_suffix(unit)}"


def _add_summary(add: Any, column: str, stem: str, unit: str, label: str, panel: str, direction: str) -> None:
    for stat in SUMMARY_STATS:
        # The last day is shown for monitoring but is one noisy draw: kept out of the indices.
        add(summary_name(stem, stat, unit), f"{label}, {stat}", unit, panel, direction, stat != "last")


METRIC_SPECS: dict[str, MetricSpec] = _registry()


# ---------------------------------------------------------------- helpers
def _number(value: Any) -> Value:
    """A finite float, or None (NaN, inf, missing)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None


def _column(frame: pd.DataFrame | None, name: str) -> pd.Series | None:
    """A numeric column as floats, or None when absent or entirely missing."""
    if frame is None or name not in frame.columns:
        return None
    values = pd.to_numeric(frame[name], errors="coerce").astype(float)
    return values if values.notna().any() else None


def _flag(frame: pd.DataFrame | None, name: str) -> pd.Series | None:
    """A 0/1 or boolean column as booleans (missing = False), or None when absent."""
    if frame is None or name not in frame.columns:
        return None
    return _as_flag(frame[name])


def _as_flag(column: pd.Series) -> pd.Series:
    """A 0/1 or boolean column as booleans (missing = False)."""
    values = pd.to_numeric(column.astype(object), errors="coerce").fillna(0.0)
    return values.astype(float) != 0.0


def _mean(values: pd.Series | None) -> Value:
    if values is None:
        return None
    values = values.dropna()
    return _number(values.mean()) if len(values) else None


def _quantile(values: pd.Series | None, q: float) -> Value:
    if values is None:
        return None
    values = values.dropna()
    # numpy's linear quantile, as pandas computes it, without pandas' overhead (a dashboard takes dozens).
    return _number(np.quantile(values.to_numpy(dtype=float), q)) if len(values) else None


def _max(values: pd.Series | None) -> Value:
    if values is None:
        return None
    values = values.dropna()
    return _number(values.max()) if len(values) else None


def _last(values: pd.Series | None) -> Value:
    if values is None:
        return None
    values = values.dropna()
    return _number(values.iloc[-1]) if len(values) else None


def series_summary(values: pd.Series | None) -> dict[str, Value]:
    """Mean, 10th and 90th percentile and last non-missing value of a series (its own unit)."""
    return {"mean": _mean(values), "p10": _quantile(values, 0.1), "p90": _quantile(values, 0.9), "last": _last(values)}


def prepare_daily(daily: pd.DataFrame | None) -> pd.DataFrame | None:
    """The daily table sorted by date with a datetime `date` column and a fresh index, or None."""
    if daily is None or "date" not in daily.columns or daily.empty:
        return None
    out = daily.copy()
    out["date"] = pd.to_datetime(out["date"])
    return out.sort_values("date", kind="stable").reset_index(drop=True)


def prepare_auctions(auctions: pd.DataFrame | None) -> pd.DataFrame | None:
    """The auction table in auction order (date, then tenor) with datetime dates, or None."""
    if auctions is None or "auction_date" not in auctions.columns or auctions.empty:
        return None
    out = auctions.copy()
    out["auction_date"] = pd.to_datetime(out["auction_date"])
    keys = ["auction_date", "tenor"] if "tenor" in out.columns else ["auction_date"]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- A: repo
def repo_dispersion_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """Daily 99th minus 1st percentile of SOFR (bp), or None without both percentiles."""
    p1, p99 = _column(daily, "sofr_p1_pct"), _column(daily, "sofr_p99_pct")
    if p1 is None or p99 is None:
        return None
    return (p99 - p1) * 100.0


def median_minus_iorb_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """Daily SOFR (the volume-weighted median) minus interest on reserve balances (bp); NaN where IORB is unknown."""
    median, iorb = _column(daily, "sofr_median_pct"), _column(daily, "iorb_pct")
    if median is None or iorb is None:
        return None
    return (median - iorb) * 100.0


def effr_minus_iorb_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """Daily effective fed funds rate minus IORB (bp); NaN where either is unknown."""
    effr, iorb = _column(daily, "effr_pct"), _column(daily, "iorb_pct")
    if effr is None or iorb is None:
        return None
    return (effr - iorb) * 100.0


def sofr_iqr_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """Daily 75th minus 25th percentile of SOFR (bp): the spread of the bulk of the day's volume."""
    p25, p75 = _column(daily, "sofr_p25_pct"), _column(daily, "sofr_p75_pct")
    if p25 is None or p75 is None:
        return None
    return (p75 - p25) * 100.0


def sofr_p1_minus_on_rrp_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """Daily 1st percentile of SOFR minus the ON RRP offering rate (bp).

    Near or below zero while cash is abundant (the cheapest repo trades at the Fed's floor or under it, from
    lenders without ON RRP access); it rises as cash grows scarce.
    """
    p1, on_rrp = _column(daily, "sofr_p1_pct"), _column(daily, "on_rrp_rate_pct")
    if p1 is None or on_rrp is None:
        return None
    return (p1 - on_rrp) * 100.0


def sofr_quarter_end_jump_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """SOFR on each quarter-end day minus the median SOFR of the 5 business days before it (bp).

    One value per row flagged `is_quarter_end`: NaN where SOFR is unknown that day or on any of the 5 rows
    before (a quarter-end in a table's first week is not assessed). The rows before are the table's own
    previous rows, so `daily` must be in date order (prepare_daily). None without SOFR or the quarter-end
    flag. Indexed like the flagged rows of `daily`.
    """
    return _quarter_end_jump(daily, "sofr_median_pct", 100.0)


def on_rrp_quarter_end_jump_bn(daily: pd.DataFrame | None) -> pd.Series | None:
    """ON RRP take-up on each quarter-end day minus its median over the 5 business days before ($bn).

    Positive in the real market (2022-2025: +$14bn to +$301bn): borrowers that shrink their balance sheets
    for the quarter's snapshot take less from money funds, which park the cash at the facility. Rows, NaN
    and None as `sofr_quarter_end_jump_bp`.
    """
    return _quarter_end_jump(daily, "on_rrp_bn", 1.0)


def _quarter_end_jump(daily: pd.DataFrame | None, column: str, scale: float) -> pd.Series | None:
    """`column` on each quarter-end row minus its median over the `QUARTER_END_LOOKBACK_DAYS` rows before, times
    `scale`; None without the column or the quarter-end flag."""
    values, quarter_end = _column(daily, column), _flag(daily, "is_quarter_end")
    if values is None or quarter_end is None:
        return None
    days = QUARTER_END_LOOKBACK_DAYS
    before = values.shift(1).rolling(days, min_periods=days).median()
    return ((values - before) * scale)[quarter_end]


def median_changes_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """Change in SOFR (the volume-weighted median) from the previous day that has one (bp), net of IORB's change.

    A policy-rate move shifts the whole distribution and is not a plumbing event, so where
    IORB is known its change is taken out; where it is not (real data before 29 July 2021)
    the raw change is used. A day without a published median is skipped rather than
    breaking the series (NaN on that day only). `daily` must be in date order (prepare_daily).
    """
    median = _column(daily, "sofr_median_pct")
    if median is None:
        return None
    known = median.dropna()
    change = known.diff() * 100.0
    iorb = _column(daily, "iorb_pct")
    if iorb is not None:
        change = change - (iorb.reindex(known.index).diff() * 100.0).fillna(0.0)
    return change.reindex(median.index)


def median_vol_20d_bp(daily: pd.DataFrame | None) -> pd.Series | None:
    """20-day standard deviation of daily changes in SOFR (bp).

    Over the last 20 changes available; NaN until 20 exist and on days without a median.
    `daily` must be in date order (prepare_daily).
    """
    change = median_changes_bp(daily)
    if change is None:
        return None
    known = change.dropna()
    return known.rolling(VOL_WINDOW_DAYS, min_periods=VOL_WINDOW_DAYS).std().reindex(change.index)


def _day_tags(daily: pd.DataFrame) -> list[list[str]]:
    """Calendar and regime tags of each day: the plumbing's known pressure points."""
    iorb = _column(daily, "iorb_pct")
    # Plain boolean arrays: a day-by-day loop over pandas Series pays for .iloc on every flag.
    none = np.zeros(len(daily), dtype=bool)
    flags = {
        name: none if flag is None else flag.to_numpy(dtype=bool)
        for name, flag in (
            ("quarter-end", _flag(daily, "is_quarter_end")),
            ("month-end", _flag(daily, "is_month_end")),
            ("settlement date", _flag(daily, "is_settlement_date")),
            ("tax date", _flag(daily, "is_tax_date")),
            ("risk-off", _flag(daily, "risk_off")),
            ("policy rate change", (iorb.diff().abs() > 1e-9) if iorb is not None else None),
        )
    }
    tags: list[list[str]] = []
    for i in range(len(daily)):
        day: list[str] = []
        if flags["quarter-end"][i]:
            day.append("quarter-end")
        elif flags["month-end"][i]:
            day.append("month-end")  # a quarter-end is a month-end too; name the stronger one
        day += [name for name in ("settlement date", "tax date", "risk-off", "policy rate change") if flags[name][i]]
        tags.append(day)
    return tags


def spike_tags(day_tags: Sequence[Sequence[str]], i: int) -> list[str]:
    """Why row `i` may have spiked: its own tags, then "day after X" and "2 days after X".

    Cash drained on a tax or settlement date reaches repo the next morning (17 September
    2019 followed the 16th's corporate tax date and coupon settlement), so the one or two
    preceding business days are named too; a tag already on a nearer day is not repeated.
    """
    tags = list(day_tags[i])
    seen = set(tags)
    for lag, prefix in ((1, "day after"), (2, "2 days after")):
        if i - lag < 0:
            break
        for tag in day_tags[i - lag]:
            if tag not in seen:
                tags.append(f"{prefix} {tag}")
                seen.add(tag)
    return tags


def repo_spike_baseline_bp(dispersion: pd.Series) -> pd.Series:
    """Trailing median of dispersion over the previous 60 business days, today excluded (bp)."""
    return dispersion.shift(1).rolling(SPIKE_WINDOW_DAYS, min_periods=SPIKE_MIN_HISTORY_DAYS).median()


def spike_days(daily: pd.DataFrame | None) -> pd.DataFrame | None:
    """Repo spike days (SOFR dispersion) with their tags.

    A spike day has dispersion > SPIKE_RATIO x its trailing 60-business-day median and at
    least SPIKE_MIN_EXCESS_BP above it (module docstring). Days with fewer than 20 days of
    history are not assessed.

    Returns:
        Columns date, dispersion_bp, baseline_bp, tags (list of str), one row per spike day;
        None when the table has no SOFR percentiles.
    """
    daily = prepare_daily(daily)
    dispersion = repo_dispersion_bp(daily)
    if daily is None or dispersion is None:
        return None
    baseline = repo_spike_baseline_bp(dispersion)
    is_spike = (dispersion > SPIKE_RATIO * baseline) & (dispersion - baseline >= SPIKE_MIN_EXCESS_BP)
    day_tags = _day_tags(daily)
    rows = [
        {"date": daily["date"].iloc[i], "dispersion_bp": float(dispersion.iloc[i]),
         "baseline_bp": float(baseline.iloc[i]), "tags": spike_tags(day_tags, int(i))}
        for i in np.flatnonzero(is_spike.to_numpy())
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["date", "dispersion_bp", "baseline_bp", "tags"])


def vol_persistence_share(daily: pd.DataFrame | None, days: int = PERSISTENCE_DAYS) -> Value:
    """Share of the last `days` rows whose 20-day median vol is >= VOL_ELEVATED_BP (share, 0-1).

    Rows without a 20-day vol yet are left out; None when none of the last rows has one.
    """
    vol = median_vol_20d_bp(prepare_daily(daily))
    if vol is None:
        return None
    recent = vol.iloc[-days:].dropna()
    return float((recent >= VOL_ELEVATED_BP).mean()) if len(recent) else None


def repo_metrics(daily: pd.DataFrame | None) -> dict[str, Value]:
    """Panel A metrics (names as in METRIC_SPECS; bp, counts and shares)."""
    daily = prepare_daily(daily)
    dispersion = repo_dispersion_bp(daily)
    spread = median_minus_iorb_bp(daily)
    vol = median_vol_20d_bp(daily)
    spikes = spike_days(daily)
    assessed = None if dispersion is None else int(repo_spike_baseline_bp(dispersion).notna().sum())
    n_vol = None if vol is None else int(vol.notna().sum())
    return {
        "repo_dispersion_mean_bp": _mean(dispersion),
        "repo_dispersion_p90_bp": _quantile(dispersion, 0.9),
        "repo_dispersion_max_bp": _max(dispersion),
        "repo_median_minus_iorb_mean_bp": _mean(spread),
        "repo_median_minus_iorb_p90_bp": _quantile(spread, 0.9),
        "repo_median_vol_20d_mean_bp": _mean(vol),
        "repo_median_vol_20d_last_bp": _last(vol),
        "repo_spike_days": float(len(spikes)) if spikes is not None and assessed else None,
        "repo_spike_day_share": len(spikes) / assessed if spikes is not None and assessed else None,
        "repo_vol_persistence_share": vol_persistence_share(daily),
        "repo_vol_elevated_share": float((vol.dropna() >= VOL_ELEVATED_BP).mean())
        if vol is not None and n_vol
        else None,
        "effr_minus_iorb_mean_bp": _mean(effr_minus_iorb_bp(daily)),
        "sofr_iqr_median_bp": _quantile(sofr_iqr_bp(daily), 0.5),
        "sofr_p1_minus_on_rrp_median_bp": _quantile(sofr_p1_minus_on_rrp_bp(daily), 0.5),
        "sofr_quarter_end_jump_mean_bp": _mean(sofr_quarter_end_jump_bp(daily)),
    }


# ---------------------------------------------------------------- B: auctions
_YEARS = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-?\s*y(?:ears?|r)?\b(?:\s*(\d+)\s*-?\s*m)?", re.IGNORECASE)
_WEEKS_OR_DAYS = re.compile(r"^\s*\d+\s*-?\s*(w|wk|week|weeks|d|day|days)\s*$", re.IGNORECASE)


def tenor_group(tenor: Any, security_type: Any = None) -> str | None:
    """The tenor group ("bills", "2-7y", "10y+") of an auction, or None if unrecognised.

    Bills are any tenor in weeks or days (4w ... 52w, 6w, 17w, cash-management bills) or a
    security typed "Bill"; coupons go by their years, months included ("9y 10-Month", a
    10-year reopening, counts as 10y+): under 9.5 years "2-7y", otherwise "10y+".
    """
    text = str(tenor).strip() if tenor is not None and not pd.isna(tenor) else ""
    for group, tenors in TENOR_GROUPS.items():
        if text in tenors:
            return group
    if (isinstance(security_type, str) and security_type.strip().lower() == "bill") or _WEEKS_OR_DAYS.match(text):
        return "bills"
    match = _YEARS.match(text)
    if not match:
        return None
    years = float(match.group(1)) + (float(match.group(2)) / 12.0 if match.group(2) else 0.0)
    return "10y+" if years >= 9.5 else "2-7y"


def tenor_years(tenor: Any) -> float:
    """Approximate length of a tenor label in years (4w -> 4/52, "9y 10-Month" -> 9.83); inf if unknown."""
    text = str(tenor).strip().lower()
    match = re.match(r"^(\d+(?:\.\d+)?)\s*-?\s*(w|d)", text)
    if match:
        return float(match.group(1)) / (52.0 if match.group(2) == "w" else 365.0)
    match = _YEARS.match(text)
    if match:
        return float(match.group(1)) + (float(match.group(2)) / 12.0 if match.group(2) else 0.0)
    return float("inf")


def auction_groups(auctions: pd.DataFrame) -> pd.Series:
    """Tenor group of each auction (None where unrecognised)."""
    types = auctions["security_type"] if "security_type" in auctions.columns else pd.Series(None, index=auctions.index)
    tenors = auctions["tenor"] if "tenor" in auctions.columns else pd.Series(None, index=auctions.index)
    return pd.Series(
        [tenor_group(t, s) for t, s in zip(tenors, types, strict=True)], index=auctions.index, dtype=object
    )


def high_minus_median_bp(auctions: pd.DataFrame | None) -> pd.Series | None:
    """High (stop-out) minus median accepted yield of each auction (bp); public results have it."""
    high, median = _column(auctions, "high_yield_pct"), _column(auctions, "median_yield_pct")
    if high is None or median is None:
        return None
    return (high - median) * 100.0


def tail_summary(tails: pd.Series | None) -> dict[str, Value]:
    """Mean and 90th percentile of tails (bp) and the share of auctions tailing >= 1 bp (share)."""
    tails = None if tails is None else tails.dropna()
    if tails is None or tails.empty:
        return {"mean": None, "p90": None, "share_ge_1bp": None}
    return {
        "mean": _mean(tails),
        "p90": _quantile(tails, 0.9),
        "share_ge_1bp": float((tails >= TAIL_THRESHOLD_BP).mean()),
    }


def lag1_autocorr(values: Iterable[float]) -> Value:
    """Sample lag-1 autocorrelation sum_t (x_t - m)(x_(t-1) - m) / sum_t (x_t - m)^2.

    None with fewer than 3 values or no variation (the ratio is undefined).
    """
    return pooled_lag1_autocorr([values])


def pooled_lag1_autocorr(groups: Iterable[Iterable[float]]) -> Value:
    """Lag-1 autocorrelation pooled over several series (e.g. one per tenor).

    Each series is demeaned by its own mean, so level differences between tenors do not
    pass for persistence; cross products and squares are summed over series before the
    ratio. Series with fewer than 3 finite values are skipped. None if nothing is left.
    """
    numerator = denominator = 0.0
    used = False
    for values in groups:
        x = np.asarray([v for v in values if v is not None and np.isfinite(v)], dtype=float)
        if len(x) < 3:
            continue
        d = x - x.mean()
        numerator += float(np.sum(d[1:] * d[:-1]))
        denominator += float(np.sum(d * d))
        used = True
    if not used or denominator <= 1e-24:
        return None
    return numerator / denominator


def longest_run(flags: Iterable[bool]) -> int:
    """Length of the longest run of consecutive True values (0 if none)."""
    best = current = 0
    for flag in flags:
        current = current + 1 if flag else 0
        best = max(best, current)
    return best


def auctions_by_tenor(auctions: pd.DataFrame | None) -> pd.DataFrame:
    """Panel B detail per tenor, in auction order within each tenor.

    Columns: tenor, group, auctions, tail_mean_bp, tail_p90_bp, tail_share_ge_1bp,
    tail_autocorr_lag1, tail_longest_run, high_minus_median_mean_bp, dealer_share_mean
    (NaN where the data lack the input).
    """
    columns = ["tenor", "group", "auctions", "tail_mean_bp", "tail_p90_bp", "tail_share_ge_1bp", "tail_autocorr_lag1",
               "tail_longest_run", "high_minus_median_mean_bp", "dealer_share_mean"]  # fmt: skip
    auctions = prepare_auctions(auctions)
    if auctions is None or "tenor" not in auctions.columns:
        return pd.DataFrame(columns=columns)
    tails, spread = _column(auctions, "tail_bp"), high_minus_median_bp(auctions)
    dealer = _column(auctions, "dealer_share")
    groups = auction_groups(auctions)
    rows = []
    for tenor, index in auctions.groupby(auctions["tenor"].astype(str), sort=True).groups.items():
        t = None if tails is None else tails.loc[index].dropna()
        stats = tail_summary(t)
        rows.append({
            "tenor": tenor, "group": groups.loc[index[0]], "auctions": len(index),
            "tail_mean_bp": stats["mean"], "tail_p90_bp": stats["p90"], "tail_share_ge_1bp": stats["share_ge_1bp"],
            "tail_autocorr_lag1": None if t is None else lag1_autocorr(t),
            "tail_longest_run": None if t is None or t.empty else longest_run(t >= TAIL_THRESHOLD_BP),
            "high_minus_median_mean_bp": _mean(None if spread is None else spread.loc[index]),
            "dealer_share_mean": _mean(None if dealer is None else dealer.loc[index]),
        })  # fmt: skip
    rows.sort(key=lambda r: (GROUPS.index(r["group"]) if r["group"] in GROUPS else len(GROUPS),
                             tenor_years(r["tenor"]), r["tenor"]))  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    out["auctions"] = out["auctions"].astype(int)
    numeric = columns[3:]
    out[numeric] = out[numeric].astype(float)
    return out


def calm_auction_mask(auctions: pd.DataFrame, daily: pd.DataFrame | None) -> pd.Series | None:
    """True for auctions held on calm days: no calendar flag and not risk-off that day.

    Tails on such days are a structural signal (weak demand with nothing to blame). Flags
    absent from the daily table are not checked (real data have no risk-off column); None
    when the daily table has none of the flags, or no dates.
    """
    daily = prepare_daily(daily)
    if daily is None:
        return None
    flags = [f for f in ("is_month_end", "is_quarter_end", "is_tax_date", "is_settlement_date", "risk_off")
             if f in daily.columns]  # fmt: skip
    if not flags:
        return None
    busy = np.zeros(len(daily), dtype=bool)
    for name in flags:
        busy |= _as_flag(daily[name]).to_numpy()
    calm_by_day = pd.Series(~busy, index=daily["date"].dt.normalize())
    calm_by_day = calm_by_day[~calm_by_day.index.duplicated()]
    days = pd.to_datetime(auctions["auction_date"]).dt.normalize()
    # Auctions on days the daily table does not cover are not calm-day evidence either way.
    return pd.Series(calm_by_day.reindex(days).fillna(False).astype(bool).to_numpy(), index=auctions.index)


def auction_group_counts(auctions: pd.DataFrame | None) -> dict[str, int]:
    """Number of auctions in each tenor group (groups with none left out): a period's mix of auctions."""
    auctions = prepare_auctions(auctions)
    if auctions is None:
        return {}
    counts = auction_groups(auctions).value_counts()
    return {g: int(counts[g]) for g in GROUPS if g in counts.index}


def _mix_weights(groups: pd.Series, values: pd.Series | None, mix: Mapping[str, float]) -> pd.Series | None:
    """Weights over auctions with a value that give each tenor group its share of `mix` (counts or
    shares), split evenly over the group's auctions; None when no weighted group has a value."""
    if values is None:
        return None
    has_value = values.notna()
    weights = pd.Series(0.0, index=values.index)
    for group, weight in mix.items():
        members = (groups == group) & has_value
        if weight > 0 and members.any():
            weights[members] = weight / float(members.sum())
    return weights if weights.sum() > 0 else None


def _weighted_mean(values: pd.Series | None, weights: pd.Series | None) -> Value:
    if values is None or weights is None:
        return None
    used = weights > 0
    return _number(np.average(values[used], weights=weights[used]))


def _weighted_quantile(values: pd.Series | None, weights: pd.Series | None, q: float) -> Value:
    """The `q` quantile of the weighted distribution: its cumulative weight at each value's midpoint,
    interpolated (equal weights give the Hazen quantile)."""
    if values is None or weights is None:
        return None
    used = weights > 0
    order = np.argsort(values[used].to_numpy(), kind="stable")
    x, w = values[used].to_numpy()[order], weights[used].to_numpy()[order]
    position = (np.cumsum(w) - 0.5 * w) / w.sum()
    return _number(np.interp(q, position, x))


def mixed_auction_metrics(auctions: pd.DataFrame, mix: Mapping[str, float]) -> dict[str, Value]:
    """The all-auction metrics of panel B with the tenor groups weighted as `mix` weights them (a
    real period's `auction_group_counts`), so a run holding every bill auction compares like with
    like against a public file that holds few."""
    groups = auction_groups(auctions)
    tails = _column(auctions, "tail_bp")
    tail_weights = _mix_weights(groups, tails, mix)
    out: dict[str, Value] = {
        "tail_mean_bp": _weighted_mean(tails, tail_weights),
        "tail_p90_bp": _weighted_quantile(tails, tail_weights, 0.9),
        "tail_share_ge_1bp": _weighted_mean(None if tails is None else (tails >= TAIL_THRESHOLD_BP).astype(float),
                                            tail_weights),
    }  # fmt: skip
    for name, values in (
        ("high_minus_median_mean_bp", high_minus_median_bp(auctions)),
        ("dealer_share_mean", _column(auctions, "dealer_share")),
        ("bid_to_cover_mean", _column(auctions, "bid_to_cover")),
    ):
        out[name] = _weighted_mean(values, _mix_weights(groups, values, mix))
    return out


def auction_metrics(
    auctions: pd.DataFrame | None, daily: pd.DataFrame | None = None, group_mix: Mapping[str, float] | None = None
) -> dict[str, Value]:
    """Panel B metrics (names as in METRIC_SPECS): tails, high - median, dealer takedown, persistence.
    With `group_mix`, the all-auction rows weight the tenor groups as it does (`mixed_auction_metrics`)."""
    out: dict[str, Value] = {name: None for name, spec in METRIC_SPECS.items() if spec.panel == "B"}
    auctions = prepare_auctions(auctions)
    if auctions is None:
        return out
    tails = _column(auctions, "tail_bp")
    spread = high_minus_median_bp(auctions)
    dealer = _column(auctions, "dealer_share")
    groups = auction_groups(auctions)
    masks = {"": pd.Series(True, index=auctions.index)} | {f":{g}": groups == g for g in GROUPS}
    for suffix, mask in masks.items():
        stats = tail_summary(None if tails is None else tails[mask])
        out[f"tail_mean_bp{suffix}"] = stats["mean"]
        out[f"tail_p90_bp{suffix}"] = stats["p90"]
        out[f"tail_share_ge_1bp{suffix}"] = stats["share_ge_1bp"]
        out[f"high_minus_median_mean_bp{suffix}"] = _mean(None if spread is None else spread[mask])
        out[f"dealer_share_mean{suffix}"] = _mean(None if dealer is None else dealer[mask])
    out["bid_to_cover_mean"] = _mean(_column(auctions, "bid_to_cover"))
    if group_mix:
        out |= mixed_auction_metrics(auctions, group_mix)
    if tails is not None and "tenor" in auctions.columns:
        by_tenor = [tails[index].dropna() for index in auctions.groupby(auctions["tenor"].astype(str)).groups.values()]
        out["tail_autocorr_lag1"] = pooled_lag1_autocorr(by_tenor)
        runs = [longest_run(t >= TAIL_THRESHOLD_BP) for t in by_tenor if len(t)]
        out["tail_longest_run"] = float(max(runs)) if runs else None
    calm = calm_auction_mask(auctions, daily)
    if calm is not None and calm.any():
        stats = tail_summary(None if tails is None else tails[calm])
        out["tail_calm_mean_bp"] = stats["mean"]
        out["tail_calm_share_ge_1bp"] = stats["share_ge_1bp"]
        out["high_minus_median_calm_mean_bp"] = _mean(None if spread is None else spread[calm])
    return out


# ---------------------------------------------------------------- C: fails
def week_ending(dates: pd.Series | pd.DatetimeIndex) -> pd.Series:
    """The Wednesday that ends each date's Thursday-to-Wednesday week (the NY Fed's fails week)."""
    dates = pd.Series(pd.to_datetime(dates)).dt.normalize()
    return dates + pd.to_timedelta((2 - dates.dt.day_of_week) % 7, unit="D")


def _empty_weekly() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "week_end" else float)
                         for c in FAILS_WEEKLY_COLUMNS})  # fmt: skip


def weekly_fails(daily: pd.DataFrame | None) -> pd.DataFrame:
    """Daily fails summed over Thursday-to-Wednesday weeks, in the `fails_weekly` format ($bn).

    Like the New York Fed's primary-dealer statistics, each week's figure is the cumulative
    fails to deliver from Thursday to the Wednesday `week_end`: `fails_to_deliver_bn` sums
    the daily `fails_bn` (every issue), `fails_tracked_bn` the daily `fails_tracked_bn` (the
    tracked issues; NaN when the table lacks it). Only weeks whose business days all lie
    inside the table's dates are kept, so a run starting mid-week does not report a short
    first week. The model records one side of each fail, so fails_to_receive_bn is NaN.
    Empty (with the columns) when the table has neither fails column.
    """
    daily = prepare_daily(daily)
    fails = _column(daily, "fails_bn")
    tracked = _column(daily, FAILS_DAILY_COLUMN)
    if daily is None or (fails is None and tracked is None):
        return _empty_weekly()
    ends = week_ending(daily["date"]).to_numpy()
    nothing = pd.Series(np.nan, index=daily.index)
    sums = (fails if fails is not None else nothing).groupby(ends).sum(min_count=1)
    tracked_sums = (tracked if tracked is not None else nothing).groupby(ends).sum(min_count=1)
    first, last = daily["date"].iloc[0].normalize(), daily["date"].iloc[-1].normalize()
    week_ends = pd.DatetimeIndex(sums.index)
    # A week is complete when its first and last business days lie inside the table's dates.
    days = business_days((week_ends.min() - pd.Timedelta(days=6)).date(), week_ends.max().date())
    starts = days[days.searchsorted(week_ends - pd.Timedelta(days=6), side="left").clip(0, len(days) - 1)]
    stops = days[(days.searchsorted(week_ends, side="right") - 1).clip(0, len(days) - 1)]
    keep = np.asarray((starts >= first) & (stops <= last) & (starts <= week_ends), dtype=bool)
    sums, tracked_sums = sums[keep], tracked_sums[keep]
    return pd.DataFrame({
        "week_end": pd.DatetimeIndex(sums.index).astype("datetime64[ns]"),
        "fails_to_deliver_bn": sums.to_numpy(dtype=float),
        "fails_to_receive_bn": np.full(len(sums), np.nan),
        "fails_tracked_bn": tracked_sums.to_numpy(dtype=float),
    })  # fmt: skip


def fails_weekly_table(tables: Tables) -> pd.DataFrame | None:
    """Weekly fails to use for panel C: the `fails_weekly` table if given (real data), else
    `weekly_fails(daily)` (a simulated run); None when neither has tracked fails."""
    given = tables.get("fails_weekly")
    if given is not None and "week_end" in given.columns and _column(given, FAILS_WEEKLY_COLUMN) is not None:
        out = given.copy()
        out["week_end"] = pd.to_datetime(out["week_end"]).dt.normalize()
        return out.sort_values("week_end", kind="stable").reset_index(drop=True)
    derived = weekly_fails(tables.get("daily"))
    return derived if len(derived) and derived[FAILS_WEEKLY_COLUMN].notna().any() else None


def fails_spike_weeks(weekly: pd.DataFrame | None) -> pd.DataFrame | None:
    """Weekly tracked fails with their trailing baseline and spike flag.

    A spike week has fails > FAILS_SPIKE_RATIO x the median of the previous 13 weeks (at
    least 4 weeks of history; earlier weeks are not assessed and have NaN baseline).

    Returns:
        Columns week_end, fails_bn (the week's tracked fails), baseline_bn, spike (bool); None
        without weekly tracked fails.
    """
    fails = _column(weekly, FAILS_WEEKLY_COLUMN)
    if weekly is None or fails is None:
        return None
    baseline = fails.shift(1).rolling(FAILS_SPIKE_WINDOW_WEEKS, min_periods=FAILS_SPIKE_MIN_HISTORY_WEEKS).median()
    return pd.DataFrame({
        "week_end": pd.to_datetime(weekly["week_end"]).to_numpy(), "fails_bn": fails.to_numpy(),
        "baseline_bn": baseline.to_numpy(), "spike": (fails > FAILS_SPIKE_RATIO * baseline).to_numpy(),
    })  # fmt: skip


def _weekly_daily_feature(daily: pd.DataFrame | None, column: str, how: str) -> pd.Series | None:
    """A daily column reduced to Thursday-to-Wednesday weeks (`max` or `any`), indexed by week_end."""
    daily = prepare_daily(daily)
    if daily is None or column not in daily.columns:
        return None
    ends = week_ending(daily["date"]).to_numpy()
    if how == "any":
        return _as_flag(daily[column]).groupby(ends).any()
    values = _column(daily, column)
    return None if values is None else values.groupby(ends).max()


def _corr(a: pd.Series, b: pd.Series) -> Value:
    joined = pd.concat([a, b], axis=1, join="inner").dropna()
    if len(joined) < 3 or joined.iloc[:, 0].std() <= 1e-12 or joined.iloc[:, 1].std() <= 1e-12:
        return None  # a correlation with a constant series is undefined
    return _number(np.corrcoef(joined.iloc[:, 0], joined.iloc[:, 1])[0, 1])


QUARTER_END_MONTH_FROM_DAY = 15


def quarter_end_month_weeks(week_ends: pd.Index) -> np.ndarray:
    """Mask over weeks: those ending (their Wednesday) on the 15th or later of March, June,
    September or December, the weeks of quarter-end balance sheets and futures delivery."""
    ends = pd.DatetimeIndex(week_ends)
    return np.asarray(ends.month.isin((3, 6, 9, 12)) & (ends.day >= QUARTER_END_MONTH_FROM_DAY))


def fails_metrics(tables: Tables) -> dict[str, Value]:
    """Panel C metrics (names as in METRIC_SPECS): weekly and daily fails in the tracked issues ($bn),
    spikes, persistence, relation to specials (correlation), to settlement dates ($bn and ratio) and
    to the second half of a quarter's last month (median $bn and ratio of medians)."""
    out: dict[str, Value] = {name: None for name, spec in METRIC_SPECS.items() if spec.panel == "C"}
    daily = tables.get("daily")
    daily_fails = _column(daily, FAILS_DAILY_COLUMN)
    out["fails_daily_mean_bn"] = _mean(daily_fails)
    out["fails_daily_max_bn"] = _max(daily_fails)
    weekly = fails_weekly_table(tables)
    spikes = fails_spike_weeks(weekly)
    if weekly is None or spikes is None:
        return out
    fails = spikes.set_index("week_end")["fails_bn"].dropna()
    out["fails_weekly_mean_bn"] = _mean(fails)
    out["fails_weekly_p90_bn"] = _quantile(fails, 0.9)
    out["fails_weekly_max_bn"] = _max(fails)
    assessed = spikes["baseline_bn"].notna() & spikes["fails_bn"].notna()
    if assessed.any():
        out["fails_spike_weeks"] = float(spikes.loc[assessed, "spike"].sum())
        out["fails_spike_week_share"] = float(spikes.loc[assessed, "spike"].mean())
    out["fails_autocorr_lag1"] = lag1_autocorr(fails.to_numpy())
    late_quarter = quarter_end_month_weeks(fails.index)
    if late_quarter.any() and (~late_quarter).any():
        late, other = _quantile(fails[late_quarter], 0.5), _quantile(fails[~late_quarter], 0.5)
        out["fails_quarter_end_month_median_bn"] = late
        out["fails_quarter_end_month_ratio"] = late / other if late is not None and other else None
    specials = _weekly_daily_feature(daily, "specials_max_bp", "max")
    if specials is not None:
        out["fails_specials_corr"] = _corr(fails, specials)
    settlement = _weekly_daily_feature(daily, "is_settlement_date", "any")
    if settlement is not None:
        has = settlement.reindex(fails.index)
        known = has.notna()
        with_settle = fails[known & has.fillna(False).astype(bool)]
        without = fails[known & ~has.fillna(True).astype(bool)]
        out["fails_settlement_week_mean_bn"] = _mean(with_settle)
        out["fails_other_week_mean_bn"] = _mean(without)
        a, b = out["fails_settlement_week_mean_bn"], out["fails_other_week_mean_bn"]
        out["fails_settlement_week_ratio"] = a / b if a is not None and b is not None and b > 0 else None
    return out


# ---------------------------------------------------------------- pipe and reservoir
def daily_summaries(daily: pd.DataFrame | None, series: Sequence[tuple[str, str, str, str, str]]) -> dict[str, Value]:
    """Mean, p10, p90 and last of each daily series listed (units as the column's)."""
    daily = prepare_daily(daily)
    out: dict[str, Value] = {}
    for column, stem, unit, _label, _direction in series:
        stats = series_summary(_column(daily, column))
        for stat in SUMMARY_STATS:
            out[summary_name(stem, stat, unit)] = stats[stat]
    return out


def pipe_metrics(daily: pd.DataFrame | None) -> dict[str, Value]:
    """Throughput metrics: customer volume, fill ratio, bid/ask, depth, dealer headroom and
    utilization, repo intermediated (mean, p10, p90, last)."""
    return daily_summaries(daily, PIPE_SERIES)


def reservoir_metrics(daily: pd.DataFrame | None) -> dict[str, Value]:
    """Reservoir metrics: reserves, ON RRP, TGA, SRF usage, SOMA holdings ($bn; mean, p10, p90, last)."""
    return daily_summaries(daily, RESERVOIR_SERIES)


# ---------------------------------------------------------------- everything
def compute_metrics(tables: Tables, auction_mix: Mapping[str, float] | None = None) -> dict[str, Value]:
    """Every dashboard metric of one set of standard tables, keyed and ordered as METRIC_SPECS.

    Args:
        tables: `daily`, `auctions` and optionally `fails_weekly` (any may be missing).
        auction_mix: auctions per tenor group to weight the all-auction rows by (a real period's,
            when a run is scored against it); None: the tables' own mix.

    Returns:
        Metric name -> value in the spec's unit, or None where the data lack the inputs.
    """
    daily, auctions = tables.get("daily"), tables.get("auctions")
    values = (
        repo_metrics(daily) | auction_metrics(auctions, daily, auction_mix) | fails_metrics(tables)
        | pipe_metrics(daily) | reservoir_metrics(daily)
    )  # fmt: skip
    return {name: _number(values.get(name)) for name in METRIC_SPECS}


def compute_detail(tables: Tables) -> dict[str, Any]:
    """JSON-ready detail behind the headline metrics: sample sizes (days, auctions, weeks),
    spike days with tags, spike weeks and panel B per tenor (dates as ISO strings, NaN as None)."""
    daily, auctions, weekly = prepare_daily(tables.get("daily")), tables.get("auctions"), fails_weekly_table(tables)
    spikes, weeks, by_tenor = spike_days(daily), fails_spike_weeks(weekly), auctions_by_tenor(auctions)
    return {
        "counts": {"days": 0 if daily is None else len(daily), "auctions": 0 if auctions is None else len(auctions),
                   "weeks": 0 if weekly is None else len(weekly)},
        "repo_spike_days": [] if spikes is None else [
            {"date": r.date.date().isoformat(), "dispersion_bp": _number(r.dispersion_bp),
             "baseline_bp": _number(r.baseline_bp), "tags": list(r.tags)}
            for r in spikes.itertuples(index=False)
        ],
        "fails_spike_weeks": [] if weeks is None else [
            {"week_end": pd.Timestamp(r.week_end).date().isoformat(), "fails_bn": _number(r.fails_bn),
             "baseline_bn": _number(r.baseline_bn)}
            for r in weeks[weeks["spike"]].itertuples(index=False)
        ],
        "auctions_by_tenor": [
            {k: (v if isinstance(v, str | int) or v is None else _number(v)) for k, v in row.items()}
            for row in by_tenor.to_dict("records")
        ],
    }  # fmt: skip


# ---------------------------------------------------------------- distributions (sim vs real)
DISTRIBUTION_UNITS: dict[str, str] = (
    {
        "repo_dispersion_bp": "bp",
        "repo_median_minus_iorb_bp": "bp",
        "repo_median_vol_20d_bp": "bp",
        "effr_minus_iorb_bp": "bp",
    }
    | {f"high_minus_median_bp:{g}": "bp" for g in GROUPS}
    | {f"dealer_share:{g}": "share" for g in GROUPS}
    | {"fails_weekly_bn": "$bn"}
)
# What each distribution is, for text output.
DISTRIBUTION_LABELS: dict[str, str] = (
    {
        "repo_dispersion_bp": "SOFR 99th-1st percentile dispersion, daily",
        "repo_median_minus_iorb_bp": "SOFR minus IORB, daily",
        "repo_median_vol_20d_bp": "20-day st. dev. of daily SOFR changes",
        "effr_minus_iorb_bp": "EFFR minus IORB, daily",
    }
    | {f"high_minus_median_bp:{g}": f"High minus median accepted yield, per auction, {g}" for g in GROUPS}
    | {f"dealer_share:{g}": f"Primary-dealer takedown share, per auction, {g}" for g in GROUPS}
    | {"fails_weekly_bn": "Fails to deliver (tracked issues), Thu-Wed weekly"}
)


def distributions(tables: Tables) -> dict[str, pd.Series | None]:
    """The per-day, per-auction or per-week observations behind the comparable metrics.

    Keys as DISTRIBUTION_UNITS; each value a float Series without NaN, or None when the
    tables lack the input. Used for simulated-vs-real Kolmogorov-Smirnov distances and
    the overlay figure.
    """
    daily = prepare_daily(tables.get("daily"))
    auctions = prepare_auctions(tables.get("auctions"))

    def clean(values: pd.Series | None) -> pd.Series | None:
        if values is None:
            return None
        values = values.replace([np.inf, -np.inf], np.nan).dropna().astype(float)
        return values.reset_index(drop=True) if len(values) else None

    out: dict[str, pd.Series | None] = {
        "repo_dispersion_bp": clean(repo_dispersion_bp(daily)),
        "repo_median_minus_iorb_bp": clean(median_minus_iorb_bp(daily)),
        "repo_median_vol_20d_bp": clean(median_vol_20d_bp(daily)),
        "effr_minus_iorb_bp": clean(effr_minus_iorb_bp(daily)),
    }
    groups = None if auctions is None else auction_groups(auctions)
    spread = high_minus_median_bp(auctions)
    dealer = _column(auctions, "dealer_share")
    for g in GROUPS:
        out[f"high_minus_median_bp:{g}"] = None if spread is None else clean(spread[groups == g])
        out[f"dealer_share:{g}"] = None if dealer is None else clean(dealer[groups == g])
    weekly = fails_weekly_table(tables)
    out["fails_weekly_bn"] = clean(_column(weekly, FAILS_WEEKLY_COLUMN))
    return out
