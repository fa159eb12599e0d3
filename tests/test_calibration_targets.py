"""Calibration moments and targets: hand-computed moments on small tables, the moving-block bootstrap on
series with known dependence, the targets file round trip, and (when PLUMBING_DATA_DIR points to the real
files; CI sets it) the committed targets.yaml against a fresh computation from those files."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calendar import business_days
from sim.calibration.moments import (
    EDGE_DAYS,
    MOMENTS,
    bootstrap_replicates,
    bootstrap_se,
    compute_moments,
    moment_observations,
    moments_for,
    moving_block_weeks,
)
from sim.calibration.targets import TARGET_COLUMNS, compute_targets, main, read_targets, write_targets
from sim.dashboard.metrics import compute_metrics
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
TARGETS_FILE = ROOT / "calibration" / "targets" / "targets.yaml"
REAL_DIR = os.environ.get("PLUMBING_DATA_DIR", "")


def _days(start: str, end: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(business_days(pd.Timestamp(start).date(), pd.Timestamp(end).date()))


def _weekly_fails(values: np.ndarray, first_week: str = "2022-01-05") -> dict[str, pd.DataFrame]:
    weeks = pd.date_range(first_week, periods=len(values), freq="7D")
    return {"fails_weekly": pd.DataFrame({"week_end": weeks, "fails_tracked_bn": values})}


def _ar1(n: int, phi: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.normal()
    return x


# --- moments by hand ------------------------------------------------------------------------------------------
def test_repo_dispersion_and_spread_by_hand() -> None:
    dates = _days("2024-03-25", "2024-04-05")  # 10 business days; 2024-03-28 flagged quarter-end below
    n = len(dates)
    p1 = np.full(n, 5.30)
    p99 = 5.30 + np.array([0.10, 0.12, 0.14, 0.40, 0.20, 0.10, 0.16, 0.18, 0.10, 0.10])  # dispersion in %
    quarter_end = np.zeros(n, dtype=bool)
    quarter_end[3] = True
    month_end = quarter_end.copy()
    settlement = month_end.copy()
    settlement[4] = True  # a settlement day that is not a quarter-end: neither ordinary nor quarter-end
    daily = pd.DataFrame({
        "date": dates, "sofr_p1_pct": p1, "sofr_p99_pct": p99,
        "sofr_median_pct": 5.31 + np.arange(n) * 0.01, "iorb_pct": np.full(n, 5.40),
        "is_month_end": month_end, "is_quarter_end": quarter_end, "is_tax_date": np.zeros(n, dtype=bool),
        "is_settlement_date": settlement,
    })  # fmt: skip
    got = compute_moments({"daily": daily}, "repo")
    ordinary = np.array([10, 12, 14, 10, 16, 18, 10, 10], dtype=float)  # bp, rows 3 and 4 left out
    assert got["repo_dispersion_ordinary_mean_bp"] == pytest.approx(ordinary.mean())  # 12.5
    # 90th percentile of 8 values, linear interpolation: position 6.3 between 16 and 18 -> 16.6
    assert got["repo_dispersion_ordinary_p90_bp"] == pytest.approx(16.6)
    assert got["repo_dispersion_quarter_end_mean_bp"] == pytest.approx(40.0)
    assert got["repo_dispersion_quarter_end_p90_bp"] == pytest.approx(40.0)
    # SOFR - IORB = -9, -8, ..., 0 bp: median of 10 values = -4.5
    assert got["repo_median_minus_iorb_median_bp"] == pytest.approx(-4.5)
    assert got["fails_weekly_mean_bn"] is None  # no fails in these tables


def test_sofr_shape_and_effr_moments_by_hand() -> None:
    # 10 business days with the 30 September 2025 quarter-end on day 7.
    dates = _days("2025-09-22", "2025-10-03")
    median = np.array([4.30, 4.31, 4.29, 4.30, 4.32, 4.33, 4.45, 4.36, 4.31, 4.30])
    iqr_bp = np.array([3, 3, 3, 3, 3, 3, 11, 4, 4, 4])
    effr = np.array([4.33, 4.33, 4.33, 4.33, 4.33, 4.33, 4.34, 4.35, 4.33, 4.32])
    quarter_end = dates == pd.Timestamp("2025-09-30")
    daily = pd.DataFrame({
        "date": dates, "sofr_median_pct": median, "sofr_p25_pct": median - 0.01,
        "sofr_p75_pct": median - 0.01 + iqr_bp / 100.0, "sofr_p1_pct": median - 0.08, "on_rrp_rate_pct": 4.25,
        "effr_pct": effr, "iorb_pct": 4.40, "is_quarter_end": quarter_end,
        "on_rrp_bn": [30.0, 20.0, 25.0, 10.0, 40.0, 35.0, 130.0, 50.0, 20.0, 15.0],
    })  # fmt: skip
    got = compute_moments({"daily": daily}, "repo")
    # $130bn minus the median of the five days before (20, 25, 10, 40, 35 -> 25): +$105bn
    assert got["on_rrp_quarter_end_jump_mean_bn"] == pytest.approx(105.0)
    # 4.45% minus the median of the five days before (4.31, 4.29, 4.30, 4.32, 4.33 -> 4.31%): 14 bp
    assert got["sofr_quarter_end_jump_mean_bp"] == pytest.approx(14.0)
    assert got["sofr_iqr_median_bp"] == pytest.approx(3.0)  # six 3s, three 4s, one 11
    # p1 - ON RRP = median - 4.33%: -3 -2 -4 -3 -1 0 12 3 -2 -3 bp; sorted middle pair -2, -2
    assert got["sofr_p1_minus_on_rrp_median_bp"] == pytest.approx(-2.0)
    assert got["effr_minus_iorb_median_bp"] == pytest.approx(-7.0)  # seven -7s, one each of -6, -5, -8
    obs = moment_observations({"daily": daily}, "repo")
    assert list(obs["sofr_quarter_end_jump_mean_bp"].index) == [pd.Timestamp("2025-09-30")]
    # Same numbers as the dashboard's.
    metrics = compute_metrics({"daily": daily})
    assert got["sofr_iqr_median_bp"] == pytest.approx(metrics["sofr_iqr_median_bp"], rel=1e-12)
    assert got["sofr_quarter_end_jump_mean_bp"] == pytest.approx(metrics["sofr_quarter_end_jump_mean_bp"], rel=1e-12)


def test_new_repo_moments_get_block_bootstrap_ses() -> None:
    dates = _days("2023-01-03", "2023-12-29")
    n = len(dates)
    rng = np.random.default_rng(8)
    median = 5.30 + 0.01 * rng.integers(-2, 3, n)
    flags = pd.Series(dates).groupby(pd.Series(dates).dt.to_period("Q")).transform("max") == pd.Series(dates)
    daily = pd.DataFrame({
        "date": dates, "sofr_median_pct": median + 0.05 * flags.to_numpy(), "sofr_p25_pct": median - 0.01,
        "sofr_p75_pct": median + 0.01 * rng.integers(1, 6, n), "sofr_p1_pct": median - 0.01 * rng.integers(3, 9, n),
        "on_rrp_rate_pct": 5.30, "effr_pct": 5.33 + 0.01 * rng.integers(-1, 2, n), "iorb_pct": 5.40,
        "is_quarter_end": flags.to_numpy(),
    })  # fmt: skip
    obs = moment_observations({"daily": daily}, "repo")
    assert len(obs["sofr_quarter_end_jump_mean_bp"]) == 4  # the four quarter-ends of 2023
    se = bootstrap_se(bootstrap_replicates(obs, 80, seed=3, block_weeks=6))
    for name in ("sofr_iqr_median_bp", "sofr_p1_minus_on_rrp_median_bp", "sofr_quarter_end_jump_mean_bp"):
        assert se[name] is not None and se[name] > 0, name


def test_median_vol_20d_by_hand() -> None:
    dates = _days("2024-01-02", "2024-03-29")
    n = len(dates)
    median = 5.30 + 0.01 * (np.arange(n) % 2)  # daily changes alternate +1, -1 bp
    daily = pd.DataFrame({"date": dates, "sofr_median_pct": median, "iorb_pct": np.full(n, 5.40)})
    got = compute_moments({"daily": daily}, "repo")
    # 20 changes of +-1 bp (mean 0): sample variance 20 / 19 on every day with 20 changes
    assert got["repo_median_vol_20d_mean_bp"] == pytest.approx(math.sqrt(20 / 19))


def test_reservoir_mean_and_change_by_hand() -> None:
    dates = _days("2024-01-02", "2024-03-29")[:45]
    t = np.arange(45, dtype=float)
    daily = pd.DataFrame({"date": dates, "reserves_bn": 3000.0 + 2.0 * t, "on_rrp_bn": 500.0 - t})
    got = compute_moments({"daily": daily}, "repo")
    assert got["reserves_mean_bn"] == pytest.approx(3044.0)
    # last 20 days average t = 34.5, first 20 average t = 9.5: change = 25 x slope
    assert got["reserves_change_bn"] == pytest.approx(50.0)
    assert got["on_rrp_mean_bn"] == pytest.approx(478.0)
    assert got["on_rrp_change_bn"] == pytest.approx(-25.0)
    short = compute_moments({"daily": daily.iloc[: 2 * EDGE_DAYS - 1]}, "repo")
    assert short["reserves_change_bn"] is None  # the two ends would overlap


def test_fails_moments_by_hand() -> None:
    got = compute_moments(_weekly_fails(np.array([1.0, 2.0, 3.0, 4.0, 10.0])), "repo")
    assert got["fails_weekly_mean_bn"] == pytest.approx(4.0)
    assert got["fails_weekly_p90_bn"] == pytest.approx(7.6)  # position 3.6: 4 + 0.6 x (10 - 4)
    assert got["fails_weekly_p90_over_mean"] == pytest.approx(1.9)
    # deviations -3, -2, -1, 0, 6: sum of lagged products 8 over sum of squares 50
    assert got["fails_autocorr_lag1"] == pytest.approx(0.16)
    # The logs' persistence: the spike of 10 no longer dominates, and a series rising by a constant
    # factor each week is as persistent in logs as a straight line.
    logs = np.log([1.0, 2.0, 3.0, 4.0, 10.0])
    d = logs - logs.mean()
    assert got["fails_log_autocorr_lag1"] == pytest.approx(float((d[1:] * d[:-1]).sum() / (d * d).sum()))
    assert got["fails_log_autocorr_lag1"] > got["fails_autocorr_lag1"]
    doubling = compute_moments(_weekly_fails(2.0 ** np.arange(5.0)), "repo")
    assert doubling["fails_log_autocorr_lag1"] == pytest.approx(0.4)  # deviations -2..2: 4 / 10
    # A week without fails has no log: left out, not taken as minus infinity.
    gap = compute_moments(_weekly_fails(np.array([1.0, 0.0, 2.0, 4.0, 8.0])), "repo")
    assert np.isfinite(gap["fails_log_autocorr_lag1"])
    assert got["fails_weekly_median_bn"] == pytest.approx(3.0)
    # No week ends from the 15th of a quarter's last month (5 Jan to 2 Feb 2022): no such moment.
    assert got["fails_quarter_end_month_median_bn"] is None
    # Wednesdays 2 to 30 March 2022: the 16th, 23rd and 30th count (2, 4, 10; median 4), the 2nd and 9th not.
    late = compute_moments(_weekly_fails(np.array([1.0, 3.0, 2.0, 4.0, 10.0]), "2022-03-02"), "repo")
    assert late["fails_quarter_end_month_median_bn"] == pytest.approx(4.0)
    # Real and simulated fails cover the same (tracked) issues, so levels compare.
    assert MOMENTS["fails_weekly_mean_bn"].level_comparable is True
    assert MOMENTS["fails_autocorr_lag1"].level_comparable is True


def test_simulated_run_fails_come_from_daily() -> None:
    # No fails_weekly table (a simulated run): weeks are Thursday-to-Wednesday sums of the daily fails in
    # the tracked issues (the all-issue fails_bn, three times as large here, is not what they read).
    dates = _days("2024-01-04", "2024-01-24")  # Thursday to Wednesday: three complete weeks
    fails = np.where(dates < pd.Timestamp("2024-01-11"), 1.0, 2.0)
    daily = pd.DataFrame({"date": dates, "fails_bn": 3.0 * fails, "fails_tracked_bn": fails})
    got = compute_moments({"daily": daily}, "repo")
    # 5 days x 1, then 4 days x 2 (Monday 15 January is a holiday), then 5 days x 2
    assert got["fails_weekly_mean_bn"] == pytest.approx((5.0 + 8.0 + 10.0) / 3)


def test_auction_moments_by_hand() -> None:
    auctions = pd.DataFrame({
        "auction_date": pd.to_datetime(["2025-01-06", "2025-01-07", "2025-01-08", "2025-01-09"]),
        "tenor": ["2y", "10y", "30y", "13w"], "security_type": ["Note", "Note", "Bond", "Bill"],
        "high_yield_pct": [4.10, 4.30, 4.50, 4.20], "median_yield_pct": [4.05, 4.28, 4.46, 4.19],
        "dealer_share": [0.2, 0.1, 0.3, 0.4], "bid_to_cover": [2.4, 2.6, 2.2, 3.0],
    })  # fmt: skip
    got = compute_moments({"auctions": auctions}, "auctions")
    assert got["high_minus_median_mean_bp:2-7y"] == pytest.approx(5.0)
    assert got["high_minus_median_mean_bp:10y+"] == pytest.approx(3.0)
    assert got["high_minus_median_mean_bp:bills"] == pytest.approx(1.0)
    assert got["dealer_share_mean:10y+"] == pytest.approx(0.2)
    assert got["dealer_share_mean:bills"] == pytest.approx(0.4)
    assert got["bid_to_cover_mean:2-7y"] == pytest.approx(2.4)
    assert got["bid_to_cover_mean:10y+"] == pytest.approx(2.4)
    assert got["bid_to_cover_mean:bills"] == pytest.approx(3.0)
    empty = compute_moments({"auctions": auctions.iloc[:3]}, "auctions")
    assert empty["dealer_share_mean:bills"] is None
    assert empty["bid_to_cover_mean:bills"] is None
    # A table without the column has no such moment (an export that lacks it).
    without = compute_moments({"auctions": auctions.drop(columns="bid_to_cover")}, "auctions")
    assert without["bid_to_cover_mean:2-7y"] is None


def test_moments_agree_with_dashboard_metrics() -> None:
    # Where a moment and a dashboard metric measure the same thing they must be the same number.
    dates = _days("2024-01-02", "2024-06-28")
    n = len(dates)
    rng = np.random.default_rng(3)
    daily = pd.DataFrame({
        "date": dates, "sofr_median_pct": 5.3 + 0.01 * rng.integers(-2, 3, n), "iorb_pct": np.full(n, 5.4),
        "sofr_p1_pct": np.full(n, 5.25), "sofr_p99_pct": 5.35 + 0.01 * rng.integers(0, 10, n),
        "fails_tracked_bn": rng.gamma(2.0, 1.0, n),
    })  # fmt: skip
    auctions = pd.DataFrame({
        "auction_date": dates[::5][:12], "tenor": ["2y", "5y", "10y", "30y"] * 3, "security_type": "Note",
        "high_yield_pct": 4.0 + 0.01 * rng.integers(0, 9, 12), "median_yield_pct": np.full(12, 4.0),
        "dealer_share": rng.uniform(0.05, 0.3, 12),
    })  # fmt: skip
    tables = {"daily": daily, "auctions": auctions}
    moments = compute_moments(tables, "repo") | compute_moments(tables, "auctions")
    metrics = compute_metrics(tables)
    for name in ("repo_median_vol_20d_mean_bp", "fails_weekly_mean_bn", "fails_weekly_p90_bn", "fails_autocorr_lag1",
                 "fails_quarter_end_month_median_bn",
                 "high_minus_median_mean_bp:2-7y", "high_minus_median_mean_bp:10y+", "dealer_share_mean:2-7y",
                 "dealer_share_mean:10y+"):  # fmt: skip
        assert moments[name] == pytest.approx(metrics[name], rel=1e-12), name


def test_registry_covers_both_windows() -> None:
    assert [m.name for m in moments_for("repo")] + [m.name for m in moments_for("auctions")] == list(MOMENTS)
    assert all(m.unit in {"bp", "$bn", "share", "ratio", "correlation"} for m in MOMENTS.values())
    with pytest.raises(ValueError, match="unknown window"):
        moments_for("fx")


# --- the moving-block bootstrap -------------------------------------------------------------------------------
def test_moving_blocks_are_runs_of_consecutive_weeks() -> None:
    drawn = moving_block_weeks(20, 6, np.random.default_rng(0))
    assert len(drawn) == 20 and drawn.min() >= 0 and drawn.max() <= 19
    blocks = [drawn[i : i + 6] for i in range(0, 20, 6)]
    assert all(np.array_equal(np.diff(b), np.ones(len(b) - 1)) for b in blocks)


def test_block_bootstrap_se_exceeds_iid_on_dependent_series() -> None:
    # AR(1) weekly fails with phi = 0.8: the variance of the mean is about (1 + phi) / (1 - phi) = 9 times the
    # iid value, so resampling single weeks understates the SE and 6-week blocks recover much of it.
    tables = _weekly_fails(10.0 + _ar1(400, 0.8, seed=1))
    obs = moment_observations(tables, "repo")
    blocks = bootstrap_se(bootstrap_replicates(obs, 400, seed=7, block_weeks=6))["fails_weekly_mean_bn"]
    iid = bootstrap_se(bootstrap_replicates(obs, 400, seed=7, block_weeks=1))["fails_weekly_mean_bn"]
    x = obs["fails_weekly_mean_bn"].to_numpy()
    assert iid == pytest.approx(x.std(ddof=1) / math.sqrt(len(x)), rel=0.15)  # one-week blocks are iid here
    assert blocks > 1.6 * iid


def test_block_bootstrap_is_close_to_iid_on_independent_series() -> None:
    tables = _weekly_fails(10.0 + np.random.default_rng(2).normal(size=400))
    obs = moment_observations(tables, "repo")
    blocks = bootstrap_se(bootstrap_replicates(obs, 400, seed=7, block_weeks=6))["fails_weekly_mean_bn"]
    iid = bootstrap_se(bootstrap_replicates(obs, 400, seed=7, block_weeks=1))["fails_weekly_mean_bn"]
    assert blocks == pytest.approx(iid, rel=0.25)


def test_bootstrap_is_reproducible_with_its_seed() -> None:
    dates = _days("2023-01-03", "2023-12-29")
    n = len(dates)
    daily = pd.DataFrame({"date": dates, "reserves_bn": 3000.0 + np.cumsum(_ar1(n, 0.5, seed=4)),
                          "sofr_p1_pct": 5.0, "sofr_p99_pct": 5.2 + 0.01 * _ar1(n, 0.9, seed=5),
                          "is_quarter_end": False, "fails_tracked_bn": 1.0 + np.abs(_ar1(n, 0.7, seed=6))})  # fmt: skip
    obs = moment_observations({"daily": daily}, "repo")
    first = bootstrap_replicates(obs, 60, seed=11, block_weeks=6)
    again = bootstrap_replicates(obs, 60, seed=11, block_weeks=6)
    other = bootstrap_replicates(obs, 60, seed=12, block_weeks=6)
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)
    se = bootstrap_se(first)
    assert se["reserves_change_bn"] is not None and se["reserves_change_bn"] > 0
    assert se["repo_dispersion_ordinary_mean_bp"] is not None and se["repo_dispersion_ordinary_mean_bp"] > 0
    assert se["on_rrp_mean_bn"] is None  # no ON RRP column: no replicates


# --- the targets file -----------------------------------------------------------------------------------------
def test_targets_round_trip_on_fixture(tmp_path: Path) -> None:
    frame = compute_targets(FIXTURE_DATA, ("2022-04-01", "2022-05-31"), ("2022-04-01", "2022-05-31"), 40, 5)
    assert list(frame.columns) == list(TARGET_COLUMNS)
    assert list(frame["name"]) == list(MOMENTS)
    out = write_targets(frame, tmp_path / "targets.yaml")
    text = out.read_text(encoding="utf-8")
    assert "python -m sim.calibration.targets --data" in text
    assert "fred/SOFR99.csv" in text and "nyfed/pd_fails_weekly.csv" in text
    back = read_targets(out)
    pd.testing.assert_series_equal(back["value"], frame["value"])
    pd.testing.assert_series_equal(back["se"], frame["se"])
    assert list(back["level_comparable"]) == list(frame["level_comparable"])


GOOD_MOMENT = "  - {name: sofr_iqr_median_bp, value: 6.0, se: 0.5, unit: bp}\n"
# name -> (targets file text, the key the problem names, what the message says was expected)
BAD_TARGETS: dict[str, tuple[str | bytes, str, str]] = {
    "alias_bomb": (
        "a0: &a0 [x, x, x, x, x, x, x, x, x]\n"
        + "".join(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)),
        "a",
        "aliases expanded",
    ),
    "duplicate_key": ("moments:\n" + GOOD_MOMENT + "moments: []\n", "moments", "each key once"),
    "empty": ("", "(file)", "a mapping"),
    "not_utf8": (b"moments: [\xff]\n", "(file)", "UTF-8"),
    "a_list": ("- 1\n", "(top level)", "a mapping"),
    "no_moments": ("windows: {}\n", "moments", "a list of targets"),
    "moment_not_a_mapping": ("moments:\n" + GOOD_MOMENT + "  - 3\n", "moments[1]", "a mapping"),
    "value_text": ("moments:\n  - {name: x, value: high, se: 1}\n", "moments[0].value", "a number or null"),
    "se_a_list": ("moments:\n  - {name: x, value: 1, se: [1]}\n", "moments[0].se", "a number or null"),
    "name_missing": ("moments:\n  - {value: 1, se: 1}\n", "moments[0].name", "the target's name"),
    "windows_a_list": ("windows: [1]\nmoments:\n" + GOOD_MOMENT, "windows", "a mapping"),
}


@pytest.mark.parametrize("case", sorted(BAD_TARGETS))
def test_a_bad_targets_file_is_a_located_error(case: str, tmp_path: Path) -> None:
    text, key, expected = BAD_TARGETS[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(ScenarioError) as caught:
        read_targets(path)
    problem = caught.value.problems[0]
    assert problem.file == str(path) and problem.key_path.startswith(key) and expected in problem.expected


def test_a_missing_targets_file_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no file at"):
        read_targets(tmp_path / "nowhere.yaml")
    good = tmp_path / "good.yaml"
    good.write_text("moments:\n" + GOOD_MOMENT, encoding="utf-8")
    assert read_targets(good)["se"].tolist() == [0.5]


def test_main_writes_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "t.yaml"
    code = main(["--data", str(FIXTURE_DATA), "--out", str(out), "--repo-window", "2022-04-01", "2022-05-31",
                 "--auction-window", "2022-04-01", "2022-05-31", "--replications", "20"])  # fmt: skip
    assert code == 0 and out.is_file()
    assert "--replications 20" in out.read_text(encoding="utf-8")
    assert "wrote" in capsys.readouterr().out


@pytest.mark.skipif(not REAL_DIR or not Path(REAL_DIR).is_dir(), reason="PLUMBING_DATA_DIR not set")
@pytest.mark.parametrize("targets_file", sorted(TARGETS_FILE.parent.glob("*.yaml")), ids=lambda p: p.stem)
def test_committed_targets_match_the_real_files(targets_file: Path) -> None:
    committed = read_targets(targets_file)
    meta = committed.attrs["meta"]
    windows, boot = meta["windows"], meta["bootstrap"]
    fresh = compute_targets(
        REAL_DIR,
        (windows["repo"]["start"], windows["repo"]["end"]),
        (windows["auctions"]["start"], windows["auctions"]["end"]),
        replications=boot["replications"],
        seed=boot["seed"],
    )  # the full bootstrap takes about a second, so SEs are checked too
    assert list(committed["name"]) == list(fresh["name"])
    for column in ("unit", "window", "table", "n", "level_comparable"):
        assert list(committed[column]) == list(fresh[column]), column
    for column in ("value", "se"):
        np.testing.assert_allclose(committed[column], fresh[column], rtol=1e-9, atol=0, equal_nan=True)
