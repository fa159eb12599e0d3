"""Unit tests of the pure market mechanics, with hand-computed cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.calendar import MarketCalendar, market_calendar
from sim.markets.auction import clear_uniform_price
from sim.markets.repo import clear_round, volume_weighted_percentiles
from sim.markets.secondary import match_customer_flow
from sim.markets.settlement import fails_by_issue, fails_charge_pct, specialness_bp
from sim.pricing import expected_policy_pct
from sim.securities import bond_dv01, bond_dv01_one, bond_price, bond_price_one, bucket_of


def test_three_bidder_auction_single_price_and_pro_rata_at_the_stop():
    # A: 40 at 4.00, B: 40 at 4.02, C: 40 at 4.02, offering 60.
    result = clear_uniform_price(np.array([4.00, 4.02, 4.02]), np.array([40.0, 40.0, 40.0]), 60.0)
    assert result.high_yield_pct == pytest.approx(4.02)
    np.testing.assert_allclose(result.awarded_bn, [40.0, 10.0, 10.0])
    assert result.bid_to_cover == pytest.approx(2.0)
    # 50% of the 60 accepted (30) was tendered at or below 4.00; 5% (3) too.
    assert result.median_yield_pct == pytest.approx(4.00)
    assert result.low_yield_pct == pytest.approx(4.00)


def test_auction_median_and_low_follow_treasury_definitions():
    yields = np.array([3.90, 3.95, 4.00, 4.05])
    amounts = np.array([2.0, 38.0, 40.0, 40.0])
    result = clear_uniform_price(yields, amounts, 100.0)
    assert result.high_yield_pct == pytest.approx(4.05)
    assert result.awarded_bn.sum() == pytest.approx(100.0)
    assert result.awarded_bn[-1] == pytest.approx(20.0)
    assert result.median_yield_pct == pytest.approx(4.00)  # cumulative 2, 40, 80: 50 is reached at 4.00
    assert result.low_yield_pct == pytest.approx(3.95)  # 5 reached within the 3.95 tender


def test_undersubscribed_auction_fills_every_tender():
    result = clear_uniform_price(np.array([4.0, 4.1]), np.array([10.0, 5.0]), 30.0)
    np.testing.assert_allclose(result.awarded_bn, [10.0, 5.0])
    assert result.high_yield_pct == pytest.approx(4.1)
    assert result.bid_to_cover == pytest.approx(0.5)


def test_two_lender_repo_round():
    # Lender 1 asks 4.30 for 50, lender 2 asks 4.40 for 50; borrowers need 60 and 20.
    result = clear_round(
        ask_pct=np.array([4.30, 4.40]),
        available_bn=np.array([50.0, 50.0]),
        need_bn=np.array([60.0, 20.0]),
        max_rate_pct=5.0,
        bargaining_share=0.5,
        rate_noise_pct=np.zeros(2),
        round_shift_pct=0.0,
    )
    np.testing.assert_allclose(result.tranche_fill_bn, [50.0, 30.0])
    assert result.marginal_rate_pct == pytest.approx(4.40)
    # The infra-marginal lender gets half the gap to the marginal rate.
    np.testing.assert_allclose(result.tranche_rate_pct, [4.35, 4.40])
    np.testing.assert_allclose(result.borrower_fill_bn, [60.0, 20.0])
    assert result.borrower_rate_pct == pytest.approx((50 * 4.35 + 30 * 4.40) / 80)


def test_repo_round_respects_the_borrowers_outside_option():
    result = clear_round(np.array([4.3, 6.0]), np.array([10.0, 100.0]), np.array([50.0]), 5.0, 0.5, np.zeros(2), 0.0)
    np.testing.assert_allclose(result.tranche_fill_bn, [10.0, 0.0])
    np.testing.assert_allclose(result.borrower_fill_bn, [10.0])


def test_volume_weighted_percentiles_like_sofr():
    rates = np.array([4.30, 4.31, 4.35, 4.50])
    volumes = np.array([10.0, 40.0, 49.0, 1.0])
    p = volume_weighted_percentiles(rates, volumes, np.array([0.01, 0.25, 0.5, 0.99, 1.0]))
    # Cumulative volume 10, 50, 99, 100: the median (50) is reached at 4.31.
    np.testing.assert_allclose(p, [4.30, 4.31, 4.31, 4.35, 4.50])


def test_customer_flow_nets_then_absorbs_up_to_depth():
    buys = np.array([100.0, 10.0])
    sells = np.array([40.0, 50.0])
    depth = np.array([[20.0, 20.0], [10.0, 10.0]])
    inventory_above_normal = np.zeros((2, 2))
    flow = match_customer_flow(buys, sells, depth, inventory_above_normal, all_to_all_share=0.0)
    # Bucket 0: 40 matched, imbalance 60 buying, dealers short-sell up to 30 of depth.
    assert flow.buy_fill_share[0] == pytest.approx(70 / 100)
    assert flow.sell_fill_share[0] == pytest.approx(1.0)
    # Bucket 1: 10 matched, 40 net selling, dealers absorb 30.
    assert flow.sell_fill_share[1] == pytest.approx(40 / 50)
    np.testing.assert_allclose(flow.dealer_absorb_bn[:, 1], [20.0, 10.0])
    np.testing.assert_allclose(flow.dealer_absorb_bn[:, 0], [-20.0, -10.0])
    with_a2a = match_customer_flow(buys, sells, depth, inventory_above_normal, all_to_all_share=0.5)
    assert with_a2a.buy_fill_share[0] == pytest.approx((40 + 30 + 15) / 100)


def test_dealers_sell_inventory_above_their_normal_book_freely():
    flow = match_customer_flow(np.array([50.0]), np.array([0.0]), np.array([[5.0]]), np.array([[40.0]]), 0.0)
    assert flow.buy_fill_share[0] == pytest.approx(45 / 50)


def test_specials_and_fails_charge():
    special = specialness_bp(np.array([0.0, 50.0, 200.0]), np.array([100.0, 100.0, 100.0]), 300.0, 2.0)
    np.testing.assert_allclose(special, [0.0, 75.0, 300.0])
    assert fails_charge_pct(0.1, enabled=True) == pytest.approx(2.9)
    assert fails_charge_pct(4.0, enabled=True) == 0.0
    assert fails_charge_pct(0.1, enabled=False) == 0.0
    unsourced, strategic = fails_by_issue(np.array([200.0]), np.array([100.0]), np.array([300.0]), 0.1, 0.0)
    assert unsourced[0] == pytest.approx(100.0)
    assert strategic[0] > 99.0  # special far above the cost of failing: nearly all fail
    _, with_charge = fails_by_issue(np.array([200.0]), np.array([100.0]), np.array([30.0]), 0.1, 2.9)
    assert with_charge[0] < 1e-6


def test_bond_price_and_dv01():
    years = np.array([0.25, 10.0, 10.0])
    price = bond_price(np.array([4.0, 4.0, 5.0]), np.array([0.0, 4.0, 4.0]), years, np.array([True, False, False]))
    assert price[0] == pytest.approx(1 / (1 + 0.04 * 0.25))
    assert price[1] == pytest.approx(1.0)  # at par when the coupon equals the yield
    assert price[2] < 1.0
    dv01 = bond_dv01(np.array([4.0]), np.array([4.0]), np.array([10.0]), np.array([False]))
    assert dv01[0] == pytest.approx(8.1e-4, rel=0.02)  # modified duration ~8.1 for a par 10y


def test_one_issue_price_and_dv01_are_the_array_forms_bit_for_bit():
    # The one-issue forms (auction awards, new issues) must give the very numbers of the whole register's.
    rng = np.random.default_rng(7)
    n = 2000
    yields, coupons = rng.uniform(-0.5, 12.0, n), rng.uniform(0.0, 8.0, n)
    years, is_bill = np.where(rng.random(n) < 0.05, 0.0, rng.uniform(-0.1, 31.0, n)), rng.random(n) < 0.3
    prices, dv01s = bond_price(yields, coupons, years, is_bill), bond_dv01(yields, coupons, years, is_bill)
    for i in range(n):
        args = (float(yields[i]), float(coupons[i]), float(years[i]), bool(is_bill[i]))
        assert bond_price_one(*args) == prices[i]
        assert bond_dv01_one(*args) == dv01s[i]


def test_buckets_and_expected_policy():
    np.testing.assert_array_equal(bucket_of(np.array([0.08, 1.0, 9.0, 25.0])), [0, 4, 9, 11])  # 4w, 52w, 10y, 30y
    # 4.5% now, 4.0% from day 100: over a 200-day horizon the average is 4.25%.
    avg = expected_policy_pct(0, np.array([200 / 365.25]), np.array([100]), np.array([4.0]), 4.5)
    assert avg[0] == pytest.approx(4.25)


def test_calendar_flags_and_auction_schedule():
    cal = MarketCalendar(dt.date(2025, 9, 1), dt.date(2025, 9, 30))
    days = list(cal.days.strftime("%Y-%m-%d"))
    assert "2025-09-01" not in days  # Labor Day
    assert cal.is_tax_date[days.index("2025-09-15")]
    assert cal.is_settlement_date[days.index("2025-09-15")] and cal.is_settlement_date[days.index("2025-09-30")]
    assert cal.is_quarter_end[days.index("2025-09-30")] and cal.is_quarter_end.sum() == 1
    tenors = [a.tenor for a in cal.auctions]
    for tenor in ("2y", "3y", "5y", "7y", "10y", "20y", "30y", "4w", "13w"):
        assert tenor in tenors
    assert all(a.issue_date > a.auction_date for a in cal.auctions)


def test_runs_over_the_same_dates_share_one_read_only_calendar():
    from sim import TreasuryMarketModel
    from tests.conftest import SMALL_POPULATIONS, make_scenario

    scenario = make_scenario({"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 31),
                              "warmup_business_days": 5, **SMALL_POPULATIONS})  # fmt: skip
    first, second = TreasuryMarketModel(scenario, seed=1), TreasuryMarketModel(scenario, seed=2)
    assert first.calendar is second.calendar
    assert first.calendar is market_calendar(first.calendar.days[0].date(), dt.date(2025, 3, 31))
    # Built anew, the same days and flags.
    fresh = MarketCalendar(first.calendar.days[0].date(), dt.date(2025, 3, 31))
    assert (fresh.days == first.calendar.days).all() and (fresh.is_quarter_end == first.calendar.is_quarter_end).all()
    with pytest.raises(ValueError, match="read-only"):
        first.calendar.is_quarter_end[0] = True


def test_auction_covered_exactly_by_rounded_tenders():
    # Three dealers bidding a third each of 70: the sum may differ from 70 in the last bit.
    amounts = np.full(3, 70.0 / 3.0) * np.array([1.0, 1.0, 1.0 + 1e-15])
    result = clear_uniform_price(np.array([4.0, 4.01, 4.02]), amounts, 70.0)
    assert result.high_yield_pct == pytest.approx(4.02)
    assert result.awarded_bn.sum() == pytest.approx(70.0)
