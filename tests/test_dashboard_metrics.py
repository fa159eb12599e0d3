"""Dashboard metrics (panels A, B, C, pipe, reservoir) on hand-computed tables, and alike on
simulated-shaped and real-shaped tables."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.dashboard import METRIC_SPECS, compute_metrics, weekly_fails
from sim.dashboard.metrics import (
    auction_group_counts,
    auctions_by_tenor,
    distributions,
    lag1_autocorr,
    longest_run,
    median_vol_20d_bp,
    prepare_daily,
    quarter_end_month_weeks,
    sofr_quarter_end_jump_bp,
    spike_days,
    tenor_group,
    vol_persistence_share,
)
from sim.scenario import Scenario
from sim.tables import DAILY_PIPE, FAILS_WEEKLY_COLUMNS

FLAGS = ("is_month_end", "is_quarter_end", "is_tax_date", "is_settlement_date")


# ---------------------------------------------------------------- synthetic tables
def repo_daily() -> pd.DataFrame:
    """30 business days, 15 Aug - 26 Sep 2025: dispersion 15 bp except a near miss and two spikes.

    15 Sep 2025 is a corporate tax date and a coupon settlement (dispersion 50 bp); the day
    after runs 80 bp, the way 17 September 2019 followed the 16th. 12 Sep runs 29 bp,
    under twice the 15 bp baseline: no spike. 29 Aug is a month-end with settlement.
    """
    dates = pd.bdate_range("2025-08-15", "2025-09-26", freq="C", holidays=["2025-09-01"])
    assert len(dates) == 30
    dispersion = pd.Series(15.0, index=dates)
    dispersion[pd.Timestamp("2025-09-12")] = 29.0
    dispersion[pd.Timestamp("2025-09-15")] = 50.0
    dispersion[pd.Timestamp("2025-09-16")] = 80.0
    frame = pd.DataFrame({"date": dates})
    frame["sofr_p1_pct"] = 4.30
    frame["sofr_p99_pct"] = 4.30 + dispersion.to_numpy() / 100.0
    frame["sofr_median_pct"] = 4.33
    frame["iorb_pct"] = 4.40
    for flag in FLAGS:
        frame[flag] = False
    frame.loc[frame["date"] == "2025-08-29", ["is_month_end", "is_settlement_date"]] = True
    frame.loc[frame["date"] == "2025-09-15", ["is_tax_date", "is_settlement_date"]] = True
    return frame


def six_auctions() -> pd.DataFrame:
    """Six 10-year auctions with known tails, high - median spreads and dealer shares."""
    tails = [0.5, 1.5, 2.0, 1.0, -0.5, 3.0]
    spreads = [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    wi = 4.00
    dates = pd.to_datetime(["2025-08-18", "2025-08-25", "2025-08-29", "2025-09-08", "2025-09-15", "2025-09-22"])
    high = [wi + t / 100.0 for t in tails]
    return pd.DataFrame({
        "auction_date": dates, "issue_date": dates + pd.Timedelta(days=3), "tenor": "10y", "security_type": "Note",
        "offering_bn": 40.0, "wi_yield_pct": wi, "high_yield_pct": high,
        "median_yield_pct": [h - s / 100.0 for h, s in zip(high, spreads, strict=True)],
        "low_yield_pct": [h - 0.2 for h in high], "tail_bp": tails, "bid_to_cover": 2.5,
        "dealer_share": [0.1, 0.2, 0.3, 0.1, 0.2, 0.3], "direct_share": 0.2, "indirect_share": 0.5,
    })  # fmt: skip


@pytest.fixture(scope="module")
def sim_tables() -> dict[str, pd.DataFrame]:
    scenario = Scenario().model_copy(update={"end_date": dt.date(2025, 4, 30)})
    return TreasuryMarketModel(scenario, seed=1).run().results()


def real_shaped(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The same numbers with only the columns public sources publish (sim/tables.py)."""
    daily = tables["daily"]
    keep = ["date", "sofr_p1_pct", "sofr_p25_pct", "sofr_median_pct", "sofr_p75_pct", "sofr_p99_pct",
            "sofr_volume_bn", "tgcr_median_pct", "effr_pct", "iorb_pct", "on_rrp_rate_pct", "on_rrp_bn",
            "reserves_bn", "tga_bn", "soma_bn", "yield_2y_pct", "yield_10y_pct", "yield_30y_pct", *FLAGS]  # fmt: skip
    auctions = tables["auctions"].copy()
    auctions[["wi_yield_pct", "tail_bp"]] = np.nan
    return {"daily": daily[keep].copy(), "auctions": auctions, "fails_weekly": weekly_fails(daily)}


# ---------------------------------------------------------------- A: repo
def test_spike_days_are_tagged_with_the_tax_date_and_the_day_after():
    spikes = spike_days(repo_daily())
    assert list(spikes["date"].dt.strftime("%Y-%m-%d")) == ["2025-09-15", "2025-09-16"]
    assert list(spikes["baseline_bp"]) == pytest.approx([15.0, 15.0])
    assert spikes["tags"].iloc[0] == ["settlement date", "tax date"]
    # The 17-September-2019 pattern: the spike comes the business day after the tax date.
    assert spikes["tags"].iloc[1] == ["day after settlement date", "day after tax date"]


def test_repo_metrics_by_hand():
    daily = repo_daily()
    m = compute_metrics({"daily": daily})
    dispersion = np.full(30, 15.0)
    dispersion[[19, 20, 21]] = [29.0, 50.0, 80.0]  # 12, 15, 16 September
    assert m["repo_dispersion_mean_bp"] == pytest.approx(dispersion.mean())
    assert m["repo_dispersion_max_bp"] == pytest.approx(80.0)
    assert m["repo_median_minus_iorb_mean_bp"] == pytest.approx(-7.0)
    assert m["repo_median_vol_20d_mean_bp"] == pytest.approx(0.0)  # the median never moves
    # Days with >= 20 days of history: rows 20..29 (10 days), two of them spikes.
    assert m["repo_spike_days"] == 2
    assert m["repo_spike_day_share"] == pytest.approx(0.2)


def quarter_end_daily() -> pd.DataFrame:
    """10 business days, 22 Sep - 3 Oct 2025, with the 30 September quarter-end on day 7.

    SOFR 4.29-4.33% before the quarter-end, 4.45% on it; IQR 3 bp except 11 bp on the quarter-end;
    1st percentile 1-9 bp over an ON RRP rate of 4.25%; EFFR 7 bp under IORB (4.40%) except 6 bp on
    the quarter-end and 5 bp the day after.
    """
    dates = pd.bdate_range("2025-09-22", "2025-10-03")
    median = np.array([4.30, 4.31, 4.29, 4.30, 4.32, 4.33, 4.45, 4.36, 4.31, 4.30])
    p75_over = np.full(10, 0.02)
    p75_over[6] = 0.10
    p1_over_rrp_bp = np.array([3, 1, 2, 4, 2, 3, 9, 2, 1, 3])
    effr = np.full(10, 4.33)
    effr[[6, 7]] = [4.34, 4.35]
    quarter_end = np.zeros(10, dtype=bool)
    quarter_end[6] = True
    return pd.DataFrame({
        "date": dates, "sofr_median_pct": median, "sofr_p25_pct": median - 0.01, "sofr_p75_pct": median + p75_over,
        "sofr_p1_pct": 4.25 + p1_over_rrp_bp / 100.0, "on_rrp_rate_pct": 4.25, "effr_pct": effr, "iorb_pct": 4.40,
        "is_quarter_end": quarter_end,
    })  # fmt: skip


def test_sofr_shape_and_effr_metrics_by_hand():
    daily = quarter_end_daily()
    assert daily["date"].iloc[6] == pd.Timestamp("2025-09-30")
    m = compute_metrics({"daily": daily})
    # 4.45% against the median of 4.31, 4.29, 4.30, 4.32, 4.33 (= 4.31%): 14 bp.
    assert m["sofr_quarter_end_jump_mean_bp"] == pytest.approx(14.0)
    assert m["sofr_iqr_median_bp"] == pytest.approx(3.0)  # nine days of 3 bp, one of 11 bp
    assert m["sofr_p1_minus_on_rrp_median_bp"] == pytest.approx(2.5)  # sorted 1 1 2 2 2 | 3 3 3 4 9
    assert m["effr_minus_iorb_mean_bp"] == pytest.approx((8 * -7.0 - 6.0 - 5.0) / 10)
    effr_spread = distributions({"daily": daily})["effr_minus_iorb_bp"]
    assert list(effr_spread) == pytest.approx([-7.0] * 6 + [-6.0, -5.0, -7.0, -7.0])


def test_quarter_end_jump_needs_a_full_week_before_and_the_flag():
    daily = quarter_end_daily()
    # Two quarter-end flags: day 4 has only three days before it and is not assessed.
    daily.loc[3, "is_quarter_end"] = True
    assert sofr_quarter_end_jump_bp(prepare_daily(daily)).dropna().tolist() == pytest.approx([14.0])
    # Without the flag (or without SOFR) there is nothing to measure.
    m = compute_metrics({"daily": daily.drop(columns="is_quarter_end")})
    assert m["sofr_quarter_end_jump_mean_bp"] is None
    m = compute_metrics({"daily": daily.drop(columns=["on_rrp_rate_pct", "effr_pct"])})
    assert m["sofr_p1_minus_on_rrp_median_bp"] is None and m["effr_minus_iorb_mean_bp"] is None
    assert m["sofr_iqr_median_bp"] == pytest.approx(3.0)


def test_repo_metrics_ignore_the_all_trade_columns():
    # SOFR measures tri-party, GCF and cleared DVP only; the all-trade repo_* columns (with dealer-to-client
    # repo) must not move a repo metric.
    daily = repo_daily()
    wide = daily.assign(repo_p1_pct=3.0, repo_p99_pct=6.0, repo_median_pct=5.0)
    assert compute_metrics({"daily": wide}) == compute_metrics({"daily": daily})
    m = compute_metrics({"daily": daily.drop(columns=["sofr_p1_pct", "sofr_p99_pct"]).assign(
        repo_p1_pct=4.30, repo_p99_pct=4.45)})  # fmt: skip
    assert m["repo_dispersion_mean_bp"] is None


def test_risk_off_and_quarter_end_tags():
    daily = repo_daily()
    daily["risk_off"] = 0
    daily.loc[daily["date"] == "2025-09-16", "risk_off"] = 1
    daily.loc[daily["date"] == "2025-09-15", "is_quarter_end"] = True  # pretend, to see the naming
    tags = spike_days(daily)["tags"]
    assert tags.iloc[0] == ["quarter-end", "settlement date", "tax date"]
    assert tags.iloc[1] == ["risk-off", "day after quarter-end", "day after settlement date", "day after tax date"]


def test_a_small_rise_on_a_quiet_baseline_is_no_spike():
    daily = repo_daily()
    daily["sofr_p99_pct"] = 4.35  # 5 bp every day
    daily.loc[daily["date"] == "2025-09-16", "sofr_p99_pct"] = 4.44  # 14 bp: 2.8x but only 9 bp above
    assert spike_days(daily).empty


def test_vol_persistence_by_hand():
    # Median flat for 25 days, then alternating +/-10 bp. The 20-day vol of changes at row i
    # with k nonzero changes of alternating sign in its window is sqrt((100k - 20 mean^2) / 19):
    # k = 1..4 give 2.24, 3.24, 3.94, 4.59 bp; k = 5 gives 5.10 bp >= 5, so rows 29..39 are elevated.
    median = [4.30] * 25 + [4.40 if (i % 2 == 0) else 4.30 for i in range(15)]
    dates = pd.bdate_range("2025-01-06", periods=40)
    daily = pd.DataFrame({"date": dates, "sofr_median_pct": median})
    vol = median_vol_20d_bp(daily)
    assert vol.iloc[:20].isna().all()
    assert vol.iloc[25] == pytest.approx(np.sqrt(95 / 19))
    assert vol.iloc[28] == pytest.approx(np.sqrt(400 / 19))
    assert vol.iloc[29] == pytest.approx(np.sqrt(495 / 19))
    assert vol_persistence_share(daily) == pytest.approx(11 / 20)
    assert compute_metrics({"daily": daily})["repo_vol_elevated_share"] == pytest.approx(11 / 20)


def test_policy_moves_are_not_repo_volatility():
    daily = repo_daily()
    # A 25 bp cut on 17 September moves the median and IORB together: no plumbing volatility.
    cut = daily["date"] >= "2025-09-17"
    daily.loc[cut, ["sofr_median_pct", "iorb_pct"]] -= 0.25
    vol = median_vol_20d_bp(daily)
    assert vol.dropna().abs().max() == pytest.approx(0.0)


# ---------------------------------------------------------------- B: auctions
def test_tails_of_six_auctions_by_hand():
    auctions = six_auctions()
    m = compute_metrics({"auctions": auctions})
    # Tails 0.5, 1.5, 2.0, 1.0, -0.5, 3.0: mean 7.5 / 6; p90 between the 5th and 6th sorted
    # values (2.0 and 3.0) at position 4.5; four of six tail by >= 1 bp; longest run 1.5, 2.0, 1.0.
    assert m["tail_mean_bp"] == pytest.approx(1.25)
    assert m["tail_p90_bp"] == pytest.approx(2.5)
    assert m["tail_share_ge_1bp"] == pytest.approx(4 / 6)
    assert m["tail_longest_run"] == 3
    # Deviations from 1.25: -0.75, 0.25, 0.75, -0.25, -1.75, 1.75; lag-1 cross products sum to
    # -0.1875 + 0.1875 - 0.1875 + 0.4375 - 3.0625 = -2.8125; squares sum to 7.375.
    assert m["tail_autocorr_lag1"] == pytest.approx(-2.8125 / 7.375)
    assert m["tail_mean_bp:10y+"] == pytest.approx(1.25)
    assert m["tail_mean_bp:bills"] is None and m["tail_mean_bp:2-7y"] is None
    assert m["high_minus_median_mean_bp"] == pytest.approx(5.5)
    assert m["high_minus_median_mean_bp:10y+"] == pytest.approx(5.5)
    assert m["dealer_share_mean"] == pytest.approx(0.2)
    assert m["bid_to_cover_mean"] == pytest.approx(2.5)
    # Without a daily table no day can be called calm.
    assert m["tail_calm_mean_bp"] is None


def two_groups() -> pd.DataFrame:
    """The six 10-year auctions and two 4-week bills with tails 0 and 4 bp, high - median 1 bp,
    dealer shares 0.5 and 0.7 and bid-to-cover 3."""
    bills = six_auctions().iloc[:2].copy()
    bills["tenor"], bills["security_type"], bills["tail_bp"] = "4w", "Bill", [0.0, 4.0]
    bills["high_yield_pct"] = bills["wi_yield_pct"] + bills["tail_bp"] / 100.0
    bills["median_yield_pct"] = bills["high_yield_pct"] - 0.01
    bills["dealer_share"], bills["bid_to_cover"] = [0.5, 0.7], 3.0
    return pd.concat([six_auctions(), bills], ignore_index=True)


def test_all_auction_rows_weighted_to_another_periods_mix():
    auctions = two_groups()
    assert auction_group_counts(auctions) == {"bills": 2, "10y+": 6}
    own = compute_metrics({"auctions": auctions})
    # The run's own mix, given as a mix, gives its own means and share tailing.
    same = compute_metrics({"auctions": auctions}, auction_mix={"bills": 2, "10y+": 6})
    for name in ("tail_mean_bp", "tail_share_ge_1bp", "high_minus_median_mean_bp", "dealer_share_mean",
                 "bid_to_cover_mean"):  # fmt: skip
        assert same[name] == pytest.approx(own[name]), name
    # A period of 10-year auctions alone: the bills drop out of the all-auction rows.
    coupons = compute_metrics({"auctions": auctions}, auction_mix={"10y+": 65})
    for name in ("tail_mean_bp", "high_minus_median_mean_bp", "dealer_share_mean", "bid_to_cover_mean"):
        assert coupons[name] == pytest.approx(own[f"{name}:10y+"] if name != "bid_to_cover_mean" else 2.5), name
    # Half and half: each group's mean counts equally, whatever the number of its auctions.
    halves = compute_metrics({"auctions": auctions}, auction_mix={"bills": 1, "10y+": 1})
    assert halves["dealer_share_mean"] == pytest.approx(0.5 * (0.6 + 0.2))
    assert halves["tail_mean_bp"] == pytest.approx(0.5 * (2.0 + 1.25))
    assert halves["tail_share_ge_1bp"] == pytest.approx(0.5 * (0.5 + 4 / 6))
    # The 90th percentile of the weighted tails: the 4 bp bill tail carries a quarter of the
    # weight and its midpoint sits at cumulative weight 0.875, so beyond it the quantile is 4 bp.
    assert halves["tail_p90_bp"] == pytest.approx(4.0)
    # Weights equal over all eight (a bill for every three 10-year auctions): the Hazen quantile,
    # between the 7th and 8th sorted tails (3 at 6.5/8, 4 at 7.5/8), 70% of the way.
    even = compute_metrics({"auctions": auctions}, auction_mix={"bills": 1, "10y+": 3})
    assert even["tail_p90_bp"] == pytest.approx(3.7)
    # The tenor-group rows are never reweighted.
    assert halves["dealer_share_mean:bills"] == pytest.approx(own["dealer_share_mean:bills"])


def test_tails_on_calm_days():
    m = compute_metrics({"daily": repo_daily(), "auctions": six_auctions()})
    # 29 Aug (month-end) and 15 Sep (tax date) are not calm: tails 0.5, 1.5, 1.0, 3.0 remain.
    assert m["tail_calm_mean_bp"] == pytest.approx(1.5)
    assert m["tail_calm_share_ge_1bp"] == pytest.approx(0.75)
    assert m["high_minus_median_calm_mean_bp"] == pytest.approx((3 + 4 + 6 + 8) / 4)


def test_by_tenor_detail_and_helpers():
    table = auctions_by_tenor(six_auctions())
    row = table.iloc[0]
    assert (row["tenor"], row["group"], row["auctions"]) == ("10y", "10y+", 6)
    assert row["tail_longest_run"] == 3
    assert lag1_autocorr([1.0, 2.0]) is None  # too short
    assert lag1_autocorr([2.0, 2.0, 2.0]) is None  # no variation
    assert longest_run([True, False, True, True]) == 2


@pytest.mark.parametrize(
    ("tenor", "security_type", "group"),
    [("4w", "Bill", "bills"), ("6w", "Bill", "bills"), ("17w", None, "bills"), ("52w", None, "bills"),
     ("2y", "Note", "2-7y"), ("7y", "Note", "2-7y"), ("1y 10-Month", "Note", "2-7y"), ("10y", "Note", "10y+"),
     ("9y 10-Month", "Note", "10y+"), ("30y", "Bond", "10y+"), ("CMB", "Bill", "bills"), ("?", None, None)],
)  # fmt: skip
def test_tenor_groups(tenor, security_type, group):
    assert tenor_group(tenor, security_type) == group


# ---------------------------------------------------------------- C: fails
def test_weekly_fails_sum_thursday_to_wednesday():
    # Thu 2 Jan - Wed 22 Jan 2025 (1 Jan and 20 Jan are holidays): 14 business days, fails 1..14.
    dates = pd.bdate_range("2025-01-02", "2025-01-22", freq="C", holidays=["2025-01-20"])
    daily = pd.DataFrame(
        {"date": dates, "fails_bn": np.arange(1.0, 15.0), "fails_tracked_bn": np.arange(1.0, 15.0) / 10}
    )
    weekly = weekly_fails(daily)
    assert list(weekly.columns) == list(FAILS_WEEKLY_COLUMNS)
    assert list(weekly["week_end"].dt.strftime("%Y-%m-%d")) == ["2025-01-08", "2025-01-15", "2025-01-22"]
    # 2,3,6,7,8 Jan -> 1+2+3+4+5; 9-15 Jan -> 6+...+10; 16,17,21,22 Jan -> 11+12+13+14.
    assert list(weekly["fails_to_deliver_bn"]) == [15.0, 40.0, 50.0]
    assert list(weekly["fails_tracked_bn"]) == pytest.approx([1.5, 4.0, 5.0])
    assert weekly["fails_to_receive_bn"].isna().all()
    # A table starting Monday 6 Jan or ending Tuesday 21 Jan covers those weeks only in part.
    partial = weekly_fails(daily[(daily["date"] >= "2025-01-06") & (daily["date"] <= "2025-01-21")])
    assert list(partial["week_end"].dt.strftime("%Y-%m-%d")) == ["2025-01-15"]


def test_fails_metrics_from_a_weekly_table():
    weeks = pd.date_range("2025-01-08", periods=10, freq="W-WED")
    fails = np.array([1, 1, 1, 1, 1, 1, 4, 1, 1, 1], dtype=float)
    # Panel C reads the tracked issues' fails; the all-issue total (here ten times larger) is not scored.
    weekly = pd.DataFrame({"week_end": weeks, "fails_to_deliver_bn": 10 * fails, "fails_to_receive_bn": fails,
                           "fails_tracked_bn": fails})  # fmt: skip
    dates = pd.bdate_range("2025-01-02", weeks[-1])
    daily = pd.DataFrame({"date": dates, "is_settlement_date": False, "specials_max_bp": 0.0})
    # One settlement date in the second and in the seventh week; specials peak in weeks 7 and 10.
    daily.loc[daily["date"].isin(pd.to_datetime(["2025-01-15", "2025-02-18"])), "is_settlement_date"] = True
    daily.loc[daily["date"] == "2025-02-18", "specials_max_bp"] = 50.0
    daily.loc[daily["date"] == "2025-03-11", "specials_max_bp"] = 10.0
    m = compute_metrics({"daily": daily, "fails_weekly": weekly})
    assert m["fails_weekly_mean_bn"] == pytest.approx(1.3)
    assert m["fails_weekly_max_bn"] == pytest.approx(4.0)
    # Weeks 5..10 have >= 4 weeks of history; only week 7 exceeds 3 x its trailing median of 1.
    assert m["fails_spike_weeks"] == 1
    assert m["fails_spike_week_share"] == pytest.approx(1 / 6)
    # Deviations from 1.3: nine of -0.3 and one 2.7. Lag-1 products: 7 x 0.09 - 2 x 0.81; squares 8.1.
    assert m["fails_autocorr_lag1"] == pytest.approx((7 * 0.09 - 2 * 0.81) / 8.1)
    assert m["fails_settlement_week_mean_bn"] == pytest.approx(2.5)
    assert m["fails_other_week_mean_bn"] == pytest.approx(1.0)
    assert m["fails_settlement_week_ratio"] == pytest.approx(2.5)
    specials = np.array([0, 0, 0, 0, 0, 0, 50, 0, 0, 10], dtype=float)
    assert m["fails_specials_corr"] == pytest.approx(np.corrcoef(fails, specials)[0, 1])
    assert m["fails_daily_mean_bn"] is None  # real data are weekly only
    # No week ends on or after 15 March: the quarter-end-month rows are not measured.
    assert m["fails_quarter_end_month_median_bn"] is None and m["fails_quarter_end_month_ratio"] is None


def test_fails_in_the_second_half_of_a_quarters_last_month_against_the_other_weeks():
    # Wednesdays 5 Feb to 9 Apr 2025: 19 and 26 March end on or after the 15th of a quarter's last
    # month (12 March does not, nor 2 April); their median is 5, the other eight weeks' 1.
    weeks = pd.date_range("2025-02-05", periods=10, freq="W-WED")
    assert list(quarter_end_month_weeks(pd.Index(weeks))) == [False] * 6 + [True, True] + [False] * 2
    fails = np.array([1, 1, 2, 1, 1, 1, 4, 6, 1, 1], dtype=float)
    weekly = pd.DataFrame({"week_end": weeks, "fails_to_deliver_bn": fails, "fails_to_receive_bn": fails,
                           "fails_tracked_bn": fails})  # fmt: skip
    m = compute_metrics({"fails_weekly": weekly})
    assert m["fails_quarter_end_month_median_bn"] == pytest.approx(5.0)
    assert m["fails_quarter_end_month_ratio"] == pytest.approx(5.0)


# ---------------------------------------------------------------- both shapes, absent inputs
def test_same_numbers_same_metrics_on_simulated_and_real_shaped_tables(sim_tables):
    sim = compute_metrics(sim_tables)
    real = compute_metrics(real_shaped(sim_tables))
    # Everything public data can give: repo, weekly fails and their calendar, reservoir, auction
    # high - median and takedown. (Specials are model-only, so their correlation is left out.)
    published = [n for n, s in METRIC_SPECS.items() if s.panel in ("A", "C", "reservoir")
                 and not n.startswith(("fails_daily", "srf_usage", "fails_specials"))] + [
        n for n in METRIC_SPECS if n.startswith(("high_minus_median", "dealer_share", "bid_to_cover"))]  # fmt: skip
    compared = 0
    for name in published:
        if sim[name] is None:
            assert real[name] is None, name
        else:
            assert real[name] == pytest.approx(sim[name], rel=1e-12, abs=1e-12), name
            compared += 1
    assert compared > 40
    # What real sources do not publish is reported as not available.
    for name, spec in METRIC_SPECS.items():
        if spec.panel == "pipe" or name.startswith(("tail_", "fails_daily", "srf_usage")):
            assert real[name] is None, name
    assert set(DAILY_PIPE).isdisjoint(real_shaped(sim_tables)["daily"].columns)


def test_absent_inputs_give_none_never_an_exception():
    empty = {name: None for name in METRIC_SPECS}
    assert compute_metrics({}) == empty
    assert compute_metrics({"daily": pd.DataFrame({"date": []}), "auctions": pd.DataFrame()}) == empty
    dates = pd.bdate_range("2025-01-02", periods=5)
    only_dates = compute_metrics({"daily": pd.DataFrame({"date": dates}), "fails_weekly": pd.DataFrame()})
    assert only_dates == empty
    nan_repo = pd.DataFrame({"date": dates, "sofr_p1_pct": np.nan, "sofr_p99_pct": np.nan, "iorb_pct": np.nan})
    assert compute_metrics({"daily": nan_repo})["repo_dispersion_mean_bp"] is None
    assert spike_days(nan_repo) is None
    assert weekly_fails(None).empty and list(weekly_fails(None).columns) == list(FAILS_WEEKLY_COLUMNS)


def test_every_metric_has_a_unit_panel_and_direction(sim_tables):
    metrics = compute_metrics(sim_tables)
    assert list(metrics) == list(METRIC_SPECS)
    for spec in METRIC_SPECS.values():
        assert spec.unit and spec.panel in ("A", "B", "C", "pipe", "reservoir")
        assert spec.direction in ("stress", "calm", "less_throughput", "more_throughput", "neither")
    # A simulated run has every input (funds' shorts keep on-the-run issues a little special).
    assert [n for n, v in metrics.items() if v is None] == []
