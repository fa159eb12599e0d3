"""The fed funds market: banks' bid for reserves (IORB less the arbitrage cost, plus the
marginal value of reserves), FHLB-like lenders outside IORB, and EFFR as its outcome."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import TreasuryMarketModel
from tests.conftest import assert_books_balance, make_scenario

IORB = 4.40


@pytest.fixture(scope="module")
def model() -> TreasuryMarketModel:
    return TreasuryMarketModel(make_scenario(), seed=1)


def test_banks_bid_iorb_less_their_cost_when_reserves_are_abundant_and_more_as_they_become_scarce(model):
    banks = model.banks
    comfortable = banks.lowest_comfortable_bn
    cost_bp = model.config.banks.reserve_arbitrage_cost_bp
    ratios = [2.0, 1.3, 1.1, 1.0, 0.9]
    bids = [banks.fed_funds_bid_pct(comfortable * ratio, IORB) for ratio in ratios]
    # Abundant: the marginal value of reserves is negligible, the bid is IORB less the cost.
    assert bids[0] == pytest.approx(IORB - cost_bp / 100.0, abs=1e-4)
    # The demand curve: every step down in reserves raises the bid.
    assert all(later > earlier for earlier, later in zip(bids, bids[1:], strict=False))
    # Below comfortable levels banks pay more than IORB for reserves (September 2019).
    assert bids[-1] > IORB
    # But never more than their outside option: at a fifth of comfortable levels the curve's
    # value is astronomical, the bid is the ceiling.
    assert banks.fed_funds_bid_pct(comfortable * 0.2, IORB, ceiling_pct=IORB + 0.2) == pytest.approx(IORB + 0.2)
    assert banks.fed_funds_bid_pct(comfortable * 0.9, IORB, ceiling_pct=IORB + 5.0) == pytest.approx(bids[-1])


def pools_and_banks(model: TreasuryMarketModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mmf = model.accounts_of("money_fund")
    offer = model.money_funds.fed_funds_offer_bn(model.ledger.money_bn[mmf])
    return mmf, model.accounts_of("bank"), offer


def test_pools_lend_to_banks_at_the_bid_and_funds_with_the_facility_do_not():
    model = TreasuryMarketModel(make_scenario(), seed=1)
    led = model.ledger
    mmf, banks, offer = pools_and_banks(model)
    pools = ~model.money_funds.facility_access
    assert offer[pools].sum() > 0 and offer[~pools].sum() == 0
    money_before, reserves_before, lent_before = led.money_bn.copy(), led.reserves_bn(), led.repo_lent_bn.copy()
    rate, volume = model.banks.fed_funds_market(led, banks, IORB, mmf, offer, outside_reservation_pct=0.0)
    assert rate == pytest.approx(model.banks.fed_funds_bid_pct(money_before[banks], IORB))
    assert volume >= offer.sum()
    # The pools' cash moved to banks: their deposits fell by what they lent, total reserves did not move.
    assert led.money_bn[mmf] == pytest.approx(money_before[mmf] - offer)
    assert led.repo_lent_bn[mmf] - lent_before[mmf] == pytest.approx(offer)
    assert led.reserves_bn() == pytest.approx(reserves_before, rel=1e-12)
    # Interest owed equals interest due, and tomorrow morning everything is repaid.
    assert led.repo_interest_payable_bn.sum() == pytest.approx(led.repo_interest_receivable_bn.sum(), rel=1e-12)
    lent_now = led.repo_lent_bn[mmf].copy()
    receivable = led.repo_interest_receivable_bn[mmf].copy()
    led.repo_close_all()
    assert led.money_bn[mmf] == pytest.approx(money_before[mmf] - offer + lent_now + receivable)
    assert (receivable >= offer * rate / 36000.0 - 1e-12).all()


def test_pools_keep_their_cash_in_repo_when_the_bid_does_not_beat_it():
    model = TreasuryMarketModel(make_scenario(), seed=1)
    led = model.ledger
    mmf, banks, offer = pools_and_banks(model)
    before, lent_before = led.money_bn[mmf].copy(), led.repo_lent_bn[mmf].copy()
    model.banks.fed_funds_market(led, banks, IORB, mmf, offer, outside_reservation_pct=IORB + 1.0)
    assert led.money_bn[mmf] == pytest.approx(before)
    assert led.repo_lent_bn[mmf] == pytest.approx(lent_before)


@pytest.mark.parametrize("seed", [1, 2])
def test_effr_over_iorb_rises_as_opening_reserves_fall(seed):
    # The Fed's gauge of how ample reserves are: the same market with less reserves has a
    # higher EFFR - IORB (a demand-curve direction; the size depends on the curve's keys).
    horizon = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 2, 28), "warmup_business_days": 0}
    spreads = []
    # Abundant: well above banks' lowest comfortable reserves; scarce: a little below them.
    comfortable = make_scenario().banks.lowest_comfortable_reserves_bn
    for reserves_bn in (comfortable + 1000.0, comfortable - 100.0):
        model = TreasuryMarketModel(make_scenario({"banks": {"reserves_bn": reserves_bn}}, **horizon), seed=seed)
        for _ in range(20):
            model.step()
            assert_books_balance(model)
        daily = model.results()["daily"]
        spreads.append(float(((daily.effr_pct - daily.iorb_pct) * 100).median()))
    abundant, scarce = spreads
    assert abundant == pytest.approx(-make_scenario().banks.reserve_arbitrage_cost_bp, abs=1.0)
    assert scarce > abundant + 1.0
