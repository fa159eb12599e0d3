"""The repo day as a function of explicit inputs: a two-round day computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.markets.repo import (
    RepoDayInputs,
    clear_repo_day,
    fund_round_rates_pct,
    fund_terms,
    lenders_fill_bn,
    lent_share,
    linear_grid,
    premium_share,
)


def two_round_day(**changes) -> RepoDayInputs:
    """One dealer needing $10bn; one money fund with $4bn at 4.30%; bank tranches $3bn at
    4.40% and $10bn at 4.50%; half the gap to the marginal rate to the lender; no noise."""
    inputs = {
        "dealer_need_bn": np.array([10.0]),
        "fund_ask_pct": np.array([4.30]),
        "fund_cash_bn": np.array([4.0]),
        "fund_cap_per_dealer_bn": np.array([100.0]),
        "fund_ask_slope_pct": 0.0,
        "fund_has_facility": np.array([True]),
        "no_facility_discount_pct": 0.10,
        "bank_ask_pct": np.array([4.40, 4.50]),
        "bank_cash_bn": np.array([3.0, 10.0]),
        "max_rate_pct": 5.0,
        "rounds": 2,
        "bargaining_share": 0.5,
        "tri_party_discount_pct": 0.02,
        "round_noise_pct": np.zeros(2),
        "fund_noise_pct": np.zeros((2, 1)),
        "bank_noise_pct": np.zeros((2, 2)),
    }
    inputs.update(changes)
    return RepoDayInputs(**inputs)


def test_a_two_round_day_matches_the_hand_computation():
    # The day: funds can lend 4 of the 10 needed, so banks are marginal for the other 6, which
    # reach into the 4.50 tranche: the day's clearing rate is 4.50. Round 1: the dealer brings 5;
    # the fund's 4 do not cover it, so the dealer bids the fund's cash up to the marginal cash
    # less the tri-party discount, 4.50 - 0.02 = 4.48; banks lend 1 from the 4.40 tranche at
    # 4.40 + 0.5 x 0.10 = 4.45. Round 2: banks lend 2 more at 4.45 and 3 from the 4.50 tranche
    # at 4.50.
    day = clear_repo_day(two_round_day())
    assert day.fund_lent_bn == pytest.approx([4.0])
    assert day.bank_lent_bn == pytest.approx([3.0, 3.0])
    assert day.dealer_borrowed_bn == pytest.approx([10.0])
    assert day.dealer_unfilled_bn == pytest.approx([0.0])
    assert day.fund_interest_bn * 36000 == pytest.approx([4 * 4.48])
    assert day.bank_interest_bn * 36000 == pytest.approx([3 * 4.45, 3 * 4.50])
    assert day.dealer_interest_bn * 36000 == pytest.approx([4 * 4.48 + 3 * 4.45 + 3 * 4.50])
    assert day.trade_rates_pct[0] == pytest.approx([4.48])
    assert day.dealer_marginal_rate_pct == pytest.approx([4.50])
    traded = np.concatenate(day.trade_volumes_bn)
    assert traded.sum() == pytest.approx(10.0)


def test_interest_paid_equals_interest_received_and_the_cap_leaves_need_unfilled():
    # The fund's limit per dealer binds at 2 and banks will not lend above the dealer's limit
    # of 4.45, so the 4.50 tranche stays out, the day clears at the limit, and 10 - 2 - 3 = 5
    # is left for the facilities. The rationed dealer bids the fund's 2 up to 4.45 - 0.02.
    day = clear_repo_day(two_round_day(fund_cap_per_dealer_bn=np.array([2.0]), max_rate_pct=4.45))
    assert day.fund_lent_bn == pytest.approx([2.0])
    assert day.bank_lent_bn == pytest.approx([3.0, 0.0])
    assert day.dealer_unfilled_bn == pytest.approx([5.0])
    assert day.fund_interest_bn * 36000 == pytest.approx([2 * 4.43])
    assert day.bank_interest_bn * 36000 == pytest.approx([3 * 4.425, 0.0])
    paid = day.dealer_interest_bn.sum()
    assert paid == pytest.approx(day.fund_interest_bn.sum() + day.bank_interest_bn.sum(), rel=1e-12)
    assert all((rates <= 4.45 + 1e-12).all() for rates in day.trade_rates_pct)


def test_funds_keep_at_the_facility_what_the_day_does_not_need():
    # Funds alone can cover a need of 2 from cash of 4: with a 10bp slope the day clears at
    # 4.30 + 0.10 x 2 / 4 = 4.35, funds lend half their cash (the rest stays at the ON RRP) at
    # that rate (their supply price; banks are not marginal, so there is no gap to bargain
    # over), and banks lend nothing.
    day = clear_repo_day(two_round_day(dealer_need_bn=np.array([2.0]), fund_ask_slope_pct=0.10))
    assert day.fund_lent_bn == pytest.approx([2.0])
    assert day.bank_lent_bn == pytest.approx([0.0, 0.0])
    assert day.fund_interest_bn * 36000 == pytest.approx([2 * 4.35])
    # More need, a higher clearing rate: the funds' supply curve slopes up.
    dearer = clear_repo_day(two_round_day(dealer_need_bn=np.array([3.0]), fund_ask_slope_pct=0.10))
    assert dearer.fund_interest_bn[0] / dearer.fund_lent_bn[0] > day.fund_interest_bn[0] / day.fund_lent_bn[0]


def pool_and_fund_day(need_bn: float, pool_cash_bn: float = 1.0) -> RepoDayInputs:
    """The two-round day with a pool without ON RRP access (ask 4.20, the facility pays 4.25)
    beside the fund with it (ask 4.30, cash 4, slope 10bp), and one dealer needing `need_bn`."""
    return two_round_day(
        dealer_need_bn=np.array([need_bn]),
        fund_ask_pct=np.array([4.30, 4.20]),
        fund_cash_bn=np.array([4.0, pool_cash_bn]),
        fund_has_facility=np.array([True, False]),
        fund_noise_pct=np.zeros((2, 2)),
        fund_ask_slope_pct=0.10,
    )


def test_lenders_without_the_facility_lend_below_its_rate_when_cash_is_plentiful():
    # A pool without ON RRP access asks 4.20 (the facility pays 4.25, funds ask 4.30) and has 3;
    # the dealer needs 2: the pool alone covers the day, which clears at its ask, and the fund
    # with the facility keeps its cash there. The pool lends everything it is asked for at 4.20
    # (nothing above its ask to share), below the facility's rate.
    day = clear_repo_day(pool_and_fund_day(2.0, pool_cash_bn=3.0))
    assert day.fund_lent_bn == pytest.approx([0.0, 2.0])
    assert day.fund_interest_bn[1] * 36000 == pytest.approx(2 * 4.20)
    assert day.bank_lent_bn.sum() == pytest.approx(0.0)


def test_lenders_without_the_facility_earn_the_funds_rate_less_their_discount_when_funds_lend_most():
    # The pool (ask 4.20, cash 1) and a fund with the facility (ask 4.30, cash 4, slope 10bp);
    # the dealer needs 3: the pool lends all it has, the fund 2 of its 4, so the day clears at
    # 4.30 + 0.10 x (3 - 1) / 4 = 4.35. The fund earns 4.35; the pool, without the facility as
    # an outside option, its 10bp discount times the half of funds' cash left idle: 4.30, above
    # its ask (the ON RRP rate's neighbourhood).
    day = clear_repo_day(pool_and_fund_day(3.0))
    assert day.fund_lent_bn == pytest.approx([2.0, 1.0])
    assert day.fund_interest_bn * 36000 == pytest.approx([2 * 4.35, 1 * 4.30])
    # With less need the pool's rate falls with the funds' to its ask, never below it.
    slack = clear_repo_day(pool_and_fund_day(1.2))
    pool_rate = slack.fund_interest_bn[1] * 36000 / slack.fund_lent_bn[1]
    assert 4.20 - 1e-12 <= pool_rate < 4.30


def test_lenders_without_the_facility_lend_all_they_have_before_funds_lend_any():
    # Funds lend at most 4 to the dealer (their limit per dealer); banks price the other 6, so the
    # day clears at 4.50, above every lender's ask, and all offer all their cash (pool 1, fund 4).
    # The pool, whose cash would otherwise sit idle, fills first: 1 from it, 3 from the fund (pro
    # rata to cash it would be 0.8 and 3.2).
    day = clear_repo_day(
        two_round_day(
            fund_ask_pct=np.array([4.30, 4.20]),
            fund_cash_bn=np.array([4.0, 1.0]),
            fund_has_facility=np.array([True, False]),
            fund_noise_pct=np.zeros((2, 2)),
            fund_cap_per_dealer_bn=np.array([4.0]),
        )
    )
    assert day.fund_lent_bn == pytest.approx([3.0, 1.0])
    assert day.bank_lent_bn.sum() == pytest.approx(6.0)


def test_a_round_takes_from_pools_pro_rata_then_from_funds_pro_rata():
    cash = np.array([4.0, 1.0, 2.0, 3.0])
    has_facility = np.array([True, False, True, False])
    fill = lenders_fill_bn(cash, has_facility, 6.0)
    assert fill == pytest.approx([4.0 / 3.0, 1.0, 2.0 / 3.0, 3.0])
    assert lenders_fill_bn(cash, has_facility, 2.0) == pytest.approx([0.0, 0.5, 0.0, 1.5])
    assert lenders_fill_bn(cash, has_facility, 0.0) == pytest.approx(np.zeros(4))


def test_funds_with_cash_idle_at_the_facility_capture_less_of_the_gap_to_the_marginal_bank():
    # Supply rate 4.35, marginal bank cash 4.50, tri-party discount 2bp: a 13bp gap, of which
    # funds lending all their cash take half (4.415); with 80% of it idle at the facility, a
    # fund is undercut by the next, and takes a fifth of that half (4.363). Dealers their
    # limits ration bid the cash up to the marginal source whatever the idle cash.
    day = two_round_day(fund_ask_slope_pct=0.10)
    lending_all = fund_round_rates_pct(day, 0, 4.35, 4.50, 0.0, fund_terms(day, idle_share=0.0))
    mostly_idle = fund_round_rates_pct(day, 0, 4.35, 4.50, 0.0, fund_terms(day, idle_share=0.8))
    assert lending_all == pytest.approx([4.415])
    assert mostly_idle == pytest.approx([4.363])
    rationed = fund_round_rates_pct(day, 0, 4.35, 4.50, 1.0, fund_terms(day, idle_share=0.8))
    assert rationed == pytest.approx([4.48])


def test_the_pools_discount_vanishes_once_funds_lend_all_their_cash():
    # As in 2025, when the facility emptied and the 1st SOFR percentile rose above its rate:
    # the day needs 6 against the pool's 1 and the fund's 4, so funds lend all they have and
    # banks are marginal (4.40 tranche, 1 of it). With no cash idle at the facility the pool has
    # no one to undercut: it earns what the fund earns.
    day = clear_repo_day(pool_and_fund_day(6.0))
    assert day.funds_idle_share == pytest.approx(0.0)
    assert day.fund_lent_bn == pytest.approx([4.0, 1.0])
    rates = day.fund_interest_bn * 36000 / day.fund_lent_bn
    assert rates[1] == pytest.approx(rates[0])
    assert rates[1] > 4.30  # above the fund's ask: the pool is not discounted at all


@pytest.mark.parametrize("curvature", [0.01, 0.05, 0.5])
def test_a_curved_supply_keeps_funds_cheap_while_cash_is_idle_and_dear_as_it_runs_out(curvature):
    # Same floor (4.30) and full slope (10bp) as the straight line: funds lend nothing at the
    # floor and everything at the top, and the curve's inverse is exact; in between a curved
    # supply asks less than the line for lending half and more of the last tenth's increment.
    assert premium_share(0.0, curvature) == pytest.approx(0.0)
    assert premium_share(1.0, curvature) == pytest.approx(1.0)
    for share in (0.1, 0.5, 0.9, 0.99):
        assert lent_share(premium_share(share, curvature), curvature) == pytest.approx(share)
    assert premium_share(0.5, curvature) < 0.5
    assert premium_share(1.0, curvature) - premium_share(0.9, curvature) > 0.1
    assert premium_share(0.5, 1e6) == pytest.approx(0.5, abs=1e-6)  # a large curvature is the line
    # In the day: a need funds cover at half their cash clears lower on the curve than on the line.
    half = {"dealer_need_bn": np.array([2.0]), "fund_ask_slope_pct": 0.10}
    curved = clear_repo_day(two_round_day(**half, fund_ask_curvature=curvature))
    straight = clear_repo_day(two_round_day(**half))
    assert curved.funds_idle_share == pytest.approx(0.5)
    assert fund_rate_pct(curved) < fund_rate_pct(straight) == pytest.approx(4.35)


def test_funds_earn_more_when_banks_are_the_marginal_lenders():
    # Same fund cash and slope; the day needs 10, so funds lend all they can and banks set the
    # marginal rate: funds earn their top supply rate plus half the gap to the banks' marginal
    # (less the tri-party discount), more than when they alone cover the day.
    scarce = clear_repo_day(two_round_day(fund_ask_slope_pct=0.10))
    ample = clear_repo_day(two_round_day(dealer_need_bn=np.array([2.0]), fund_ask_slope_pct=0.10))
    assert fund_rate_pct(scarce) > fund_rate_pct(ample)
    assert fund_rate_pct(scarce) <= max(scarce.dealer_marginal_rate_pct) + 1e-12


def fund_rate_pct(day) -> float:
    """The first fund's average lending rate over the day (%)."""
    return float(day.fund_interest_bn[0] * 36000 / day.fund_lent_bn[0])


@settings(max_examples=300, deadline=None)
@given(
    start=st.floats(-1e6, 1e6, allow_nan=False),
    span=st.one_of(st.floats(-1e6, 1e6, allow_nan=False), st.sampled_from([0.0, 5e-324, -5e-324, np.inf])),
    num=st.sampled_from([2, 3, 33, 129]),
)
def test_the_search_grids_are_linspace_to_the_last_bit(start, span, num):
    # The bank-borrowing searches draw their grids without linspace's argument handling: any bit
    # of difference would move every repo rate downstream.
    with np.errstate(invalid="ignore", over="ignore"):
        ours, numpy_grid = linear_grid(start, start + span, num), np.linspace(start, start + span, num)
    assert ours.dtype == numpy_grid.dtype and ours.shape == numpy_grid.shape
    assert np.array_equal(ours, numpy_grid, equal_nan=True)
    assert np.array_equal(np.signbit(ours), np.signbit(numpy_grid))
