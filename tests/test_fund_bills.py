"""Money funds buying bills from dealers in the secondary market (`money_funds.secondary_bill_share`):
the orders by hand, the books through a bill glut, and where the cash comes from."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import TreasuryMarketModel
from sim.agents.money_fund import BillBook, MoneyFunds
from sim.scenario.schema import MoneyFundSection
from sim.securities import BILL_BUCKETS, N_BUCKETS
from tests.conftest import SMALL_POPULATIONS, make_scenario, run_checked


def _funds(share: float) -> MoneyFunds:
    return MoneyFunds(MoneyFundSection(secondary_bill_share=share, bills_share=0.2), np.array([0.75, 0.25]))


def _book(idle_bn: list[float], bills_bn: list[float]) -> BillBook:
    return BillBook(np.array(bills_bn), np.array([1000.0, 1000.0]), 2000.0, np.array(idle_bn), np.zeros(2))


def test_orders_by_hand():
    excess = np.zeros(N_BUCKETS)
    excess[0], excess[2] = 30.0, 10.0  # 4-week and 13-week bills above dealers' normal book
    excess[6] = 50.0  # a coupon bucket: not for the funds
    assert BILL_BUCKETS[0] and BILL_BUCKETS[2] and not BILL_BUCKETS[6]
    orders = _funds(0.1).secondary_bill_orders_bn(_book([100.0, 400.0], [150.0, 150.0]), excess, BILL_BUCKETS)
    # Fund 0: its part of the $40bn of bills is $30bn, its idle cash allows $10bn, its target
    # (20% of $1,000bn) $50bn more: $10bn. Fund 1: its part $10bn, cash $40bn, target $50bn: $10bn.
    np.testing.assert_allclose(orders.sum(axis=1), [10.0, 10.0])
    np.testing.assert_allclose(orders[:, 0] / orders[:, 2], [3.0, 3.0])  # spread as dealers' excess is
    assert not orders[:, ~BILL_BUCKETS].any()
    # At its bill target a fund buys nothing; with the share at zero no fund does.
    full = _funds(0.1).secondary_bill_orders_bn(_book([100.0, 400.0], [200.0, 250.0]), excess, BILL_BUCKETS)
    assert not full.any()
    assert not _funds(0.0).secondary_bill_orders_bn(_book([100.0, 400.0], [0.0, 0.0]), excess, BILL_BUCKETS).any()
    # Dealers short of their normal book in bills have nothing to place.
    assert not _funds(0.1).secondary_bill_orders_bn(_book([100.0, 400.0], [0.0, 0.0]), -excess, BILL_BUCKETS).any()


# A bill glut: end investors stay away from six weeks of bill auctions, dealers take the bills
# down, and money funds hold about a trillion dollars idle at the ON RRP.
GLUT = {
    "start_date": dt.date(2025, 3, 3),
    "end_date": dt.date(2025, 4, 30),
    "warmup_business_days": 10,
    **SMALL_POPULATIONS,
    "money_funds": {"assets_bn": 7000},
    "shocks": [
        {"kind": "end_demand_shortfall", "tenor": tenor, "date": "2025-03-10", "days": 30, "share": 0.6}
        for tenor in ("4w", "8w", "13w", "26w")
    ],
}


@pytest.mark.parametrize("seed", [1, 2])
def test_funds_buy_the_glut_with_facility_cash_and_the_books_balance(seed):
    # The same glut with funds buying bills from dealers and without. With them, dealers place
    # their takedown with funds paying out of the ON RRP rather than only with end investors
    # paying with bank deposits, so the facility holds less and reserves more on average
    # (measured on seeds 1-3: funds end holding $0.83-0.85T more bills; the ON RRP $23-26bn lower
    # and reserves $20-23bn higher on average over the period, since banks then borrow less of the
    # funds' cash back in repo; the bound, $10bn, is under half of that). The books balance every day.
    def run(share: float) -> TreasuryMarketModel:
        return run_checked(make_scenario(GLUT, {"money_funds": {"secondary_bill_share": share}}), seed)

    without, buying = run(0.0), run(0.2)
    daily_without, daily_buying = without.results()["daily"], buying.results()["daily"]
    assert daily_buying["on_rrp_bn"].mean() < daily_without["on_rrp_bn"].mean() - 10.0
    assert daily_buying["reserves_bn"].mean() > daily_without["reserves_bn"].mean() + 10.0
    funds = buying.slices["money_fund"]
    n = buying.ledger.holdings_bn.shape[1]
    assert without.ledger.holdings_bn.shape[1] == n  # the same issues, in the same slots
    np.testing.assert_array_equal(buying.issues.is_bill[:n], without.issues.is_bill[:n])
    is_bill = buying.issues.is_bill[:n]
    held, held_without = buying.ledger.holdings_bn[funds], without.ledger.holdings_bn[funds]
    assert held[:, is_bill].sum() > held_without[:, is_bill].sum() + 25.0
    # Funds buy in the bill buckets only (bills, and coupons within a year of maturity, which they
    # may hold): elsewhere they hold what they opened with, less what matured.
    short = BILL_BUCKETS[buying.prices.bucket[:n]]
    assert (held[:, ~short] == held_without[:, ~short]).all()
    assert not (held[:, ~short] > 0).any()


# A 2025-like market where money funds keep 60% of the bills outstanding as their target, which is
# far more than they hold, with little cash idle at the ON RRP: what they lent in repo decides
# how far they get.
REPO_CASH = {
    "start_date": dt.date(2025, 3, 3),
    "end_date": dt.date(2025, 4, 30),
    "warmup_business_days": 10,
    **SMALL_POPULATIONS,
    "money_funds": {"bill_market_share": 0.6},
}


@pytest.mark.parametrize("seed", [1, 2])
def test_funds_that_may_pay_with_repo_cash_buy_more_bills_and_lend_less_in_repo(seed):
    def run(share: float) -> TreasuryMarketModel:
        return run_checked(make_scenario(REPO_CASH, {"money_funds": {"bills_from_repo_cash_share": share}}), seed)

    facility_only, shifting = run(0.0), run(0.5)
    funds = shifting.slices["money_fund"]
    n = shifting.ledger.holdings_bn.shape[1]
    is_bill = shifting.issues.is_bill[:n]
    bills = shifting.ledger.holdings_bn[funds][:, is_bill].sum()
    bills_facility_only = facility_only.ledger.holdings_bn[funds][
        :, is_bill[: facility_only.ledger.holdings_bn.shape[1]]
    ].sum()
    # Tens of billions at least: the target's gap is over a trillion and the funds lend about as much.
    assert bills > bills_facility_only + 25.0
    lent = shifting.results()["daily"]["repo_volume_bn"].mean()
    lent_facility_only = facility_only.results()["daily"]["repo_volume_bn"].mean()
    assert lent < lent_facility_only
