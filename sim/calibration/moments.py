"""Calibration moments: named statistics of the standard tables that the model is fitted to.

Each moment reads the tables of `sim.tables` (`daily`, `auctions`, `fails_weekly`) through the
dashboard's own metric functions (`sim.dashboard.metrics`), so a real period and a simulated run
are summarised by the same code. Repo moments read the SOFR columns (`sofr_*`): real SOFR, and a
run's repo measured the way the New York Fed measures SOFR. Fails moments read the weekly fails in
the tracked issues (`fails_tracked_bn`: the on-the-run 2 to 30-year nominal coupons, which the New
York Fed's by-issue series covers and the model counts alike); for a simulated run they are
`weekly_fails(daily)` (the dashboard derives them when no `fails_weekly` table is given).

A moment is two steps: its observations (one value per day, auction or week, dated, computed on the
whole contiguous table, so rolling windows and day-to-day changes are never taken across a gap) and a
statistic of them (mean, 90th percentile, median, lag-1 autocorrelation, change between the first and
last 20 observations). The split lets the moving-block bootstrap below resample whole weeks of
observations and recompute each statistic.

Two windows: "repo" (repo rates, the reservoir and fails; a multi-year daily period) and "auctions"
(auction results; the public auction export covers 2025 only). Units are in each moment's name and
`unit`: bp, $bn, share (0-1), ratio, correlation.

Level comparability: a moment whose real level cannot be compared one-for-one with the model's carries
`level_comparable=False`, and calibration can weight it out. The fails levels are comparable: the real
and simulated series cover the same issues (the public total is a lower bound in weeks when a tenor's
figure is withheld).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.dashboard.metrics import (
    FAILS_WEEKLY_COLUMN,
    GROUPS,
    auction_groups,
    effr_minus_iorb_bp,
    fails_weekly_table,
    high_minus_median_bp,
    lag1_autocorr,
    median_minus_iorb_bp,
    median_vol_20d_bp,
    on_rrp_quarter_end_jump_bn,
    prepare_auctions,
    prepare_daily,
    quarter_end_month_weeks,
    repo_dispersion_bp,
    sofr_iqr_bp,
    sofr_p1_minus_on_rrp_bp,
    sofr_quarter_end_jump_bp,
    week_ending,
)

Tables = Mapping[str, pd.DataFrame]
Statistic = Callable[[np.ndarray], float | None]

WINDOWS: tuple[str, ...] = ("repo", "auctions")
# Days averaged at each end of the window for a change (about one month of business days: enough to
# average out the month-end swings in ON RRP, short enough to date the level).
EDGE_DAYS = 20
CALENDAR_FLAGS = ("is_month_end", "is_quarter_end", "is_tax_date", "is_settlement_date")
# Block length of the moving-block bootstrap, in Thursday-to-Wednesday weeks, per window.
# repo: 6 weeks, about n^(1/3) for the 157 weeks of 2022-2024 (the usual rate for variance estimation) and
#   longer than the monthly cycle of month-end and settlement pressure, so a block keeps at least one
#   month-end with the days around it; ON RRP and reserves drift over months, fails cluster over weeks.
# auctions: 4 weeks, one monthly cycle (each coupon tenor is auctioned once a month), so a block keeps a
#   full round of tenors; longer blocks would leave too few distinct blocks in a half-year window.
BLOCK_WEEKS: dict[str, int] = {"repo": 6, "auctions": 4}


# ---------------------------------------------------------------- statistics (numpy arrays, time order)
def stat_mean(x: np.ndarray) -> float | None:
    """Arithmetic mean; None when empty."""
    return float(np.mean(x)) if len(x) else None


def stat_p90(x: np.ndarray) -> float | None:
    """90th percentile (linear interpolation, as the dashboard's); None when empty."""
    return float(np.quantile(x, 0.9)) if len(x) else None


def stat_median(x: np.ndarray) -> float | None:
    """Median; None when empty."""
    return float(np.median(x)) if len(x) else None


def stat_lag1(x: np.ndarray) -> float | None:
    """Lag-1 autocorrelation (the dashboard's `lag1_autocorr`); None with < 3 values or none varying."""
    return lag1_autocorr(x)


def stat_log_lag1(x: np.ndarray) -> float | None:
    """Lag-1 autocorrelation of the logs: persistence of the typical value, which a few spikes do not
    decide as they decide the levels'; non-positive values are left out. None as `stat_lag1`."""
    x = np.asarray(x, dtype=float)
    return lag1_autocorr(np.log(x[x > 0]))


def stat_p90_over_mean(x: np.ndarray) -> float | None:
    """90th percentile over mean: a scale-free measure of how heavy the upper tail is; None if mean <= 0."""
    if not len(x):
        return None
    mean = float(np.mean(x))
    return float(np.quantile(x, 0.9)) / mean if mean > 0 else None


def stat_edge_change(x: np.ndarray) -> float | None:
    """Mean of the last EDGE_DAYS observations minus mean of the first EDGE_DAYS (None if < 2 x EDGE_DAYS)."""
    if len(x) < 2 * EDGE_DAYS:
        return None  # the two averages would overlap
    return float(np.mean(x[-EDGE_DAYS:]) - np.mean(x[:EDGE_DAYS]))


# ---------------------------------------------------------------- observations (date-indexed series)
def _dated(values: pd.Series | None, dates: pd.Series, mask: pd.Series | None = None) -> pd.Series | None:
    """Values indexed by their dates, finite only, in time order; None when the input is absent."""
    if values is None:
        return None
    out = pd.Series(values.to_numpy(dtype=float), index=pd.DatetimeIndex(dates.to_numpy()))
    if mask is not None:
        out = out[mask.to_numpy(dtype=bool)]
    out = out[np.isfinite(out.to_numpy())]
    return out.sort_index(kind="stable")


def _flags(daily: pd.DataFrame, names: Sequence[str]) -> pd.Series | None:
    """Any of the calendar flags present in `daily` is set (missing = not set); None when none is present."""
    present = [n for n in names if n in daily.columns]
    if not present:
        return None
    busy = pd.Series(False, index=daily.index)
    for name in present:
        busy |= pd.to_numeric(daily[name].astype(object), errors="coerce").fillna(0.0).astype(float) != 0.0
    return busy


def _daily_column(column: str) -> Callable[[Tables], pd.Series | None]:
    def observe(tables: Tables) -> pd.Series | None:
        daily = prepare_daily(tables.get("daily"))
        if daily is None or column not in daily.columns:
            return None
        return _dated(pd.to_numeric(daily[column], errors="coerce").astype(float), daily["date"])

    return observe


def obs_dispersion_ordinary_bp(tables: Tables) -> pd.Series | None:
    """Daily 99th-1st percentile SOFR dispersion (bp) on days with no calendar flag set."""
    daily = prepare_daily(tables.get("daily"))
    dispersion = repo_dispersion_bp(daily)
    busy = None if daily is None else _flags(daily, CALENDAR_FLAGS)
    if daily is None or dispersion is None or busy is None:
        return None
    return _dated(dispersion, daily["date"], ~busy)


def obs_dispersion_quarter_end_bp(tables: Tables) -> pd.Series | None:
    """Daily SOFR dispersion (bp) on quarter-end days (the last business day of Mar, Jun, Sep, Dec)."""
    daily = prepare_daily(tables.get("daily"))
    dispersion = repo_dispersion_bp(daily)
    quarter_end = None if daily is None else _flags(daily, ("is_quarter_end",))
    if daily is None or dispersion is None or quarter_end is None:
        return None
    return _dated(dispersion, daily["date"], quarter_end)


def obs_median_minus_iorb_bp(tables: Tables) -> pd.Series | None:
    """Daily SOFR minus IORB (bp), days with both known."""
    daily = prepare_daily(tables.get("daily"))
    spread = median_minus_iorb_bp(daily)
    return None if daily is None or spread is None else _dated(spread, daily["date"])


def _daily_spread(spread: Callable[[pd.DataFrame | None], pd.Series | None]) -> Callable[[Tables], pd.Series | None]:
    """Observations of a daily spread function of `sim.dashboard.metrics` (one per day, or per flagged day)."""

    def observe(tables: Tables) -> pd.Series | None:
        daily = prepare_daily(tables.get("daily"))
        values = spread(daily)
        if daily is None or values is None:
            return None
        return _dated(values, daily["date"].loc[values.index])

    return observe


def obs_median_vol_20d_bp(tables: Tables) -> pd.Series | None:
    """20-day standard deviation of daily changes in SOFR, net of IORB moves (bp)."""
    daily = prepare_daily(tables.get("daily"))
    vol = median_vol_20d_bp(daily)
    return None if daily is None or vol is None else _dated(vol, daily["date"])


def obs_fails_weekly_bn(tables: Tables) -> pd.Series | None:
    """Weekly (Thursday-to-Wednesday) fails to deliver in the tracked issues ($bn), dated by the week's Wednesday."""
    weekly = fails_weekly_table(tables)
    if weekly is None:
        return None
    return _dated(pd.to_numeric(weekly[FAILS_WEEKLY_COLUMN], errors="coerce").astype(float), weekly["week_end"])


def obs_fails_quarter_end_month_bn(tables: Tables) -> pd.Series | None:
    """Weekly fails in the tracked issues ($bn) of the weeks ending from the 15th of a quarter's last
    month (`quarter_end_month_weeks`), dated by the week's Wednesday."""
    weekly = obs_fails_weekly_bn(tables)
    return None if weekly is None else weekly[quarter_end_month_weeks(weekly.index)]


def _auction_obs(kind: str, group: str) -> Callable[[Tables], pd.Series | None]:
    def observe(tables: Tables) -> pd.Series | None:
        auctions = prepare_auctions(tables.get("auctions"))
        if auctions is None:
            return None
        if kind == "high_minus_median":
            values = high_minus_median_bp(auctions)
        elif kind in auctions.columns:
            values = pd.to_numeric(auctions[kind], errors="coerce").astype(float)
        else:
            values = None
        if values is None:
            return None
        return _dated(values, auctions["auction_date"], auction_groups(auctions) == group)

    return observe


# ---------------------------------------------------------------- registry
@dataclass(frozen=True)
class Moment:
    """One calibration moment.

    Attributes:
        name: unique key, unit last where it has one (`reserves_mean_bn`); auction moments by tenor group
            use the dashboard's names (`dealer_share_mean:2-7y`).
        unit: "bp", "$bn", "share" (0-1), "ratio" or "correlation".
        window: "repo" or "auctions".
        table: the standard table it reads ("daily", "auctions" or "fails_weekly").
        description: what it measures, in words.
        level_comparable: whether the real figure's level can be compared one-for-one with the model's.
        observe: the dated observations (one per day, auction or week) of a set of tables; None when the
            tables lack the inputs.
        statistic: the statistic of the observations in time order; None when undefined.
        edges: the statistic compares the first and last EDGE_DAYS observations (a change over the window),
            so the bootstrap resamples weeks within each end instead of blocks over the whole window.
    """

    name: str
    unit: str
    window: str
    table: str
    description: str
    level_comparable: bool
    observe: Callable[[Tables], pd.Series | None]
    statistic: Statistic
    edges: bool = False

    def observations(self, tables: Tables) -> pd.Series | None:
        """Finite observations in time order, indexed by date; None when the tables lack the inputs."""
        return self.observe(tables)

    def value(self, observations: pd.Series | None) -> float | None:
        """The statistic of given observations (None when there are none or it is undefined)."""
        if observations is None:
            return None
        return _finite(self.statistic(observations.to_numpy(dtype=float)))

    def n_used(self, observations: pd.Series | None) -> int:
        """How many observations the statistic uses (days, auctions or weeks)."""
        n = 0 if observations is None else len(observations)
        return min(n, 2 * EDGE_DAYS) if self.edges else n


def _finite(value: float | None) -> float | None:
    return value if value is not None and np.isfinite(value) else None


def _registry() -> tuple[Moment, ...]:
    m: list[Moment] = []
    # Repo: the day-to-day level of stress, away from and at the calendar's pressure points.
    ordinary = "ordinary days (no month-end, quarter-end, tax or settlement flag)"
    m.append(Moment("repo_dispersion_ordinary_mean_bp", "bp", "repo", "daily",
                    f"Mean SOFR 99th-1st percentile dispersion on {ordinary}", True,
                    obs_dispersion_ordinary_bp, stat_mean))  # fmt: skip
    m.append(Moment("repo_dispersion_ordinary_p90_bp", "bp", "repo", "daily",
                    f"90th percentile of daily SOFR dispersion on {ordinary}", True,
                    obs_dispersion_ordinary_bp, stat_p90))  # fmt: skip
    m.append(Moment("repo_dispersion_quarter_end_mean_bp", "bp", "repo", "daily",
                    "Mean SOFR dispersion on quarter-end days (about 4 a year, so noisy)", True,
                    obs_dispersion_quarter_end_bp, stat_mean))  # fmt: skip
    m.append(Moment("repo_dispersion_quarter_end_p90_bp", "bp", "repo", "daily",
                    "90th percentile of SOFR dispersion on quarter-end days", True,
                    obs_dispersion_quarter_end_bp, stat_p90))  # fmt: skip
    m.append(Moment("repo_median_minus_iorb_median_bp", "bp", "repo", "daily",
                    "Median over days of SOFR (the volume-weighted median repo rate) minus IORB", True,
                    obs_median_minus_iorb_bp, stat_median))  # fmt: skip
    m.append(Moment("repo_median_vol_20d_mean_bp", "bp", "repo", "daily",
                    "Mean 20-day standard deviation of daily changes in SOFR, net of IORB moves", True,
                    obs_median_vol_20d_bp, stat_mean))  # fmt: skip
    # SOFR's shape and the fed funds spread: what the Fed reads for reserve scarcity and balance-sheet pressure.
    m.append(Moment("sofr_iqr_median_bp", "bp", "repo", "daily",
                    "Median over days of the SOFR 75th minus 25th percentile", True,
                    _daily_spread(sofr_iqr_bp), stat_median))  # fmt: skip
    m.append(Moment("sofr_p1_minus_on_rrp_median_bp", "bp", "repo", "daily",
                    "Median over days of the SOFR 1st percentile minus the ON RRP offering rate", True,
                    _daily_spread(sofr_p1_minus_on_rrp_bp), stat_median))  # fmt: skip
    m.append(Moment("sofr_quarter_end_jump_mean_bp", "bp", "repo", "daily",
                    "Mean over quarter-end days of SOFR minus the median SOFR of the 5 business days before", True,
                    _daily_spread(sofr_quarter_end_jump_bp), stat_mean))  # fmt: skip
    m.append(Moment("on_rrp_quarter_end_jump_mean_bn", "$bn", "repo", "daily",
                    "Mean over quarter-end days of ON RRP take-up minus its median over the 5 business days before",
                    True, _daily_spread(on_rrp_quarter_end_jump_bn), stat_mean))  # fmt: skip
    m.append(Moment("effr_minus_iorb_median_bp", "bp", "repo", "daily",
                    "Median over days of the effective fed funds rate minus IORB", True,
                    _daily_spread(effr_minus_iorb_bp), stat_median))  # fmt: skip
    # Reservoir: levels and drift of reserves and ON RRP (the model is set at the real market's scale).
    for column, stem, label in (("reserves_bn", "reserves", "Reserve balances"), ("on_rrp_bn", "on_rrp", "ON RRP")):
        m.append(Moment(f"{stem}_mean_bn", "$bn", "repo", "daily", f"{label}, mean over the window's days", True,
                        _daily_column(column), stat_mean))  # fmt: skip
        m.append(Moment(f"{stem}_change_bn", "$bn", "repo", "daily",
                        f"{label}, mean of the last {EDGE_DAYS} days minus mean of the first {EDGE_DAYS} days", True,
                        _daily_column(column), stat_edge_change, edges=True))  # fmt: skip
    # Fails in the tracked issues (the on-the-run nominal coupons), real and simulated alike.
    m.append(Moment("fails_weekly_mean_bn", "$bn", "repo", "fails_weekly",
                    "Weekly fails to deliver in the tracked issues (on-the-run nominal coupons), mean", True,
                    obs_fails_weekly_bn, stat_mean))  # fmt: skip
    m.append(Moment("fails_weekly_median_bn", "$bn", "repo", "fails_weekly",
                    "Weekly fails to deliver in the tracked issues, median", True,
                    obs_fails_weekly_bn, stat_median))  # fmt: skip
    m.append(Moment("fails_weekly_p90_bn", "$bn", "repo", "fails_weekly",
                    "Weekly fails to deliver in the tracked issues, 90th percentile", True,
                    obs_fails_weekly_bn, stat_p90))  # fmt: skip
    m.append(Moment("fails_weekly_p90_over_mean", "ratio", "repo", "fails_weekly",
                    "Weekly fails in the tracked issues, 90th percentile over mean (tail shape)", True,
                    obs_fails_weekly_bn, stat_p90_over_mean))  # fmt: skip
    m.append(Moment("fails_autocorr_lag1", "correlation", "repo", "fails_weekly",
                    "Weekly fails, lag-1 autocorrelation (persistence across weeks)", True,
                    obs_fails_weekly_bn, stat_lag1))  # fmt: skip
    m.append(Moment("fails_log_autocorr_lag1", "correlation", "repo", "fails_weekly",
                    "Weekly fails, lag-1 autocorrelation of their logs (persistence of the typical week; the "
                    "levels' is decided by a few squeezed weeks)", True,
                    obs_fails_weekly_bn, stat_log_lag1))  # fmt: skip
    m.append(Moment("fails_quarter_end_month_median_bn", "$bn", "repo", "fails_weekly",
                    "Weekly fails in the tracked issues, weeks ending from the 15th of March, June, September "
                    "and December, median (the public series' spikes gather there)", True,
                    obs_fails_quarter_end_month_bn, stat_median))  # fmt: skip
    # Auctions: high minus median accepted yield (public data have no when-issued yield) and dealer takedown.
    for group in GROUPS:
        m.append(Moment(f"high_minus_median_mean_bp:{group}", "bp", "auctions", "auctions",
                        f"High (stop-out) minus median accepted yield, mean over {group} auctions", True,
                        _auction_obs("high_minus_median", group), stat_mean))  # fmt: skip
    for group in GROUPS:
        m.append(Moment(f"dealer_share_mean:{group}", "share", "auctions", "auctions",
                        f"Primary-dealer share of the amount awarded to dealers, direct and indirect bidders, "
                        f"mean over {group} auctions", True,
                        _auction_obs("dealer_share", group), stat_mean))  # fmt: skip
    # How thick end demand is around the stop: tenders of every bidder over the offering.
    for group in GROUPS:
        m.append(Moment(f"bid_to_cover_mean:{group}", "ratio", "auctions", "auctions",
                        f"Amount tendered over the amount offered, mean over {group} auctions", True,
                        _auction_obs("bid_to_cover", group), stat_mean))  # fmt: skip
    return tuple(m)


MOMENTS: dict[str, Moment] = {moment.name: moment for moment in _registry()}


def moments_for(window: str) -> list[Moment]:
    """The moments of one window ("repo" or "auctions"), in registry order."""
    if window not in WINDOWS:
        raise ValueError(f"unknown window {window!r}; expected one of {WINDOWS}")
    return [moment for moment in MOMENTS.values() if moment.window == window]


def moment_observations(tables: Tables, window: str) -> dict[str, pd.Series | None]:
    """Each moment's dated observations (days, auctions or weeks) for one window, in registry order."""
    return {moment.name: moment.observations(tables) for moment in moments_for(window)}


def compute_moments(tables: Tables, window: str) -> dict[str, float | None]:
    """The moments of one window on a set of standard tables (already cut to the period of interest).

    Args:
        tables: `daily`, `auctions` and optionally `fails_weekly` (a simulated run's weekly fails are
            derived from `daily`).
        window: "repo" (repo rates, reservoir, fails) or "auctions" (auction results).

    Returns:
        Moment name -> value in the moment's unit, or None where the tables lack the inputs.
    """
    observations = moment_observations(tables, window)
    return {name: MOMENTS[name].value(obs) for name, obs in observations.items()}


# ---------------------------------------------------------------- moving-block bootstrap over weeks
def moving_block_weeks(n_weeks: int, block_weeks: int, rng: np.random.Generator) -> np.ndarray:
    """One moving-block resample of week positions 0..n_weeks-1 (Kuensch 1989).

    Blocks of `block_weeks` consecutive weeks start anywhere in the sample (overlapping blocks) and are
    laid end to end until n_weeks positions are filled; the last block is cut short.
    """
    block = max(1, min(block_weeks, n_weeks))
    n_blocks = -(-n_weeks // block)
    starts = rng.integers(0, n_weeks - block + 1, size=n_blocks)
    return (starts[:, None] + np.arange(block)[None, :]).ravel()[:n_weeks]


def _positions(week_of_obs: np.ndarray, weeks: np.ndarray) -> np.ndarray:
    """Observation positions of a sequence of weeks, each week's observations in time order."""
    starts = np.searchsorted(week_of_obs, weeks, side="left")
    stops = np.searchsorted(week_of_obs, weeks, side="right")
    lengths = stops - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=int)
    # position = start of its week + offset within the week
    offsets = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _iid_weeks_mean(values: np.ndarray, week_of_obs: np.ndarray, rng: np.random.Generator) -> float:
    """Mean of `values` after resampling their weeks with replacement (one week per draw)."""
    distinct = np.unique(week_of_obs)
    drawn = distinct[rng.integers(0, len(distinct), size=len(distinct))]
    return float(np.mean(values[_positions(week_of_obs, drawn)]))


def week_grid(observations: Mapping[str, pd.Series | None]) -> tuple[np.datetime64, int]:
    """First week (its Wednesday) and number of weeks from the first to the last week with an observation.

    Raises:
        ValueError: no observations at all.
    """
    ends = [week_ending(obs.index).to_numpy(dtype="datetime64[D]") for obs in observations.values()
            if obs is not None and len(obs)]  # fmt: skip
    if not ends:
        raise ValueError("no observations to place on a week grid")
    first = min(e.min() for e in ends)
    last = max(e.max() for e in ends)
    return first, int((last - first).astype(int) // 7) + 1


def bootstrap_replicates(
    observations: Mapping[str, pd.Series | None],
    replications: int,
    seed: int,
    block_weeks: int,
) -> pd.DataFrame:
    """Moving-block bootstrap of moments over Thursday-to-Wednesday weeks.

    Every observation is assigned to its week (the Wednesday ending it). The weeks from the first to the
    last observed (empty weeks included, so all moments share one week grid) are resampled in moving
    blocks of `block_weeks` weeks, the same draw for every moment in a replication (so the replicates also
    give the moments' covariance), and each statistic is recomputed on the observations of the drawn weeks
    in drawn order. A change moment (`edges`) instead resamples weeks with replacement within each end
    segment of EDGE_DAYS observations: a 4-week end is too short for blocks, and its uncertainty is that
    of the two averages, not of where the ends lie.

    Args:
        observations: moment name (a key of MOMENTS) -> its dated observations (or None).
        replications: number of bootstrap samples.
        seed: seed of the numpy generator; the same seed gives the same replicates.
        block_weeks: block length in weeks.

    Returns:
        One row per replication, one column per moment (NaN where a replicate is undefined).
    """
    rng = np.random.default_rng(seed)
    prepared: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, obs in observations.items():
        if obs is not None and len(obs):
            ends = week_ending(obs.index).to_numpy(dtype="datetime64[D]")
            prepared[name] = (obs.to_numpy(dtype=float), ends)
    index = pd.RangeIndex(replications, name="replication")
    result = np.full((replications, len(observations)), np.nan)
    if not prepared:
        return pd.DataFrame(result, index=index, columns=list(observations))
    first, n_weeks = week_grid(observations)
    week_numbers = {name: ((ends - first).astype(int) // 7) for name, (_, ends) in prepared.items()}
    columns = {name: j for j, name in enumerate(observations)}
    for r in range(replications):
        drawn = moving_block_weeks(n_weeks, block_weeks, rng)
        for name, (values, _) in prepared.items():
            moment, weeks = MOMENTS[name], week_numbers[name]
            if moment.edges:
                if len(values) < 2 * EDGE_DAYS:
                    continue
                head = _iid_weeks_mean(values[:EDGE_DAYS], weeks[:EDGE_DAYS], rng)
                tail = _iid_weeks_mean(values[-EDGE_DAYS:], weeks[-EDGE_DAYS:], rng)
                value: float | None = tail - head
            else:
                value = moment.statistic(values[_positions(weeks, drawn)])
            result[r, columns[name]] = np.nan if value is None else value
    return pd.DataFrame(result, index=index, columns=list(observations))


def bootstrap_se(replicates: pd.DataFrame) -> dict[str, float | None]:
    """Standard error of each moment: standard deviation (ddof=1) of its defined replicates; None if < 2."""
    out: dict[str, float | None] = {}
    for name in replicates.columns:
        values = replicates[name].dropna().to_numpy(dtype=float)
        out[name] = float(np.std(values, ddof=1)) if len(values) >= 2 else None
    return out
