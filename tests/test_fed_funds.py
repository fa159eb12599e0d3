"""The fed funds market: banks' bid for reserves (IORB less the arbitrage cost, plus the
marginal value of reserves), FHLB-like lenders outside IORB, and EFFR as its outcome."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import TreasuryMarketModel
from sim.agents.bank import DealerParents
from tests.conftest import assert_books_balance, make_scenario, run_checked

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
    # Abundant: well above banks' lowest comfortable reserves; scarce: below them by more than the
    # reserves behind the deposits dealers' parents gain and lend banks (at $100bn below, EFFR sat
    # 0.3bp over the abundant floor on seeds 1-2; at $300bn, 3.1-3.7bp).
    comfortable = make_scenario().banks.lowest_comfortable_reserves_bn
    for reserves_bn in (comfortable + 1000.0, comfortable - 300.0):
        model = TreasuryMarketModel(make_scenario({"banks": {"reserves_bn": reserves_bn}}, **horizon), seed=seed)
        for _ in range(20):
            model.step()
            assert_books_balance(model)
        daily = model.results()["daily"]
        spreads.append(float(((daily.effr_pct - daily.iorb_pct) * 100).median()))
    abundant, scarce = spreads
    assert abundant == pytest.approx(-make_scenario().banks.reserve_arbitrage_cost_bp, abs=1.0)
    assert scarce > abundant + 1.0


# ---------------------------------------------------------------- dealers' parents (banks.dealer_parents_in_fed_funds)
def parents_of(model: TreasuryMarketModel) -> np.ndarray:
    return model.slices["dealer"].start + np.flatnonzero(model.dealers.bank_affiliated)


def test_parents_lend_their_surplus_and_borrow_their_shortfall_at_the_bid_at_both_their_reserves():
    model = TreasuryMarketModel(make_scenario(), seed=1)
    led = model.ledger
    mmf, banks, _ = pools_and_banks(model)
    parents = parents_of(model)
    assert parents.size >= 2
    # Scarce: banks at 90% of their comfortable levels, where the bid answers to reserves.
    led.money_bn[banks] = 0.9 * model.banks.lowest_comfortable_bn
    led.money_bn[parents] = 50.0
    surplus = np.zeros(parents.size)
    surplus[0] = 40.0
    shortfall = np.zeros(parents.size)
    shortfall[1] = 15.0
    money_before, reserves_before = led.money_bn.copy(), led.reserves_bn()
    lent_before, borrowed_before = led.repo_lent_bn.copy(), led.repo_borrowed_bn.copy()
    no_pools = np.zeros(mmf.size)
    in_market = DealerParents(parents, surplus, shortfall)
    rate, volume = model.banks.fed_funds_market(led, banks, IORB, mmf, no_pools, 0.0, parents=in_market)
    # The bid is banks' at their reserves plus the parents' net surplus: lower than without it.
    assert rate == pytest.approx(model.banks.fed_funds_bid_pct(money_before[banks], IORB, other_reserves_bn=25.0))
    assert rate < model.banks.fed_funds_bid_pct(money_before[banks], IORB) - 1e-4
    # Each parent lent its surplus or borrowed its shortfall, as a loan on its books.
    assert led.money_bn[parents[0]] == pytest.approx(money_before[parents[0]] - 40.0)
    assert led.money_bn[parents[1]] == pytest.approx(money_before[parents[1]] + 15.0)
    assert led.repo_lent_bn[parents[0]] - lent_before[parents[0]] == pytest.approx(40.0)
    assert led.repo_borrowed_bn[parents[1]] - borrowed_before[parents[1]] == pytest.approx(15.0)
    assert led.money_bn[parents[2:]] == pytest.approx(money_before[parents[2:]])
    # Banks end evenly spread over their comfortable levels, with the parents' net 25 among them.
    ratio = led.money_bn[banks] / model.banks.lowest_comfortable_bn
    assert ratio == pytest.approx(np.full(banks.size, ratio.mean()), rel=1e-12)
    assert led.money_bn[banks].sum() == pytest.approx(money_before[banks].sum() + 25.0)
    assert led.reserves_bn() == pytest.approx(reserves_before, rel=1e-12)
    assert volume >= 40.0
    assert led.repo_interest_payable_bn.sum() == pytest.approx(led.repo_interest_receivable_bn.sum(), rel=1e-12)


def test_banks_lend_overdrawn_parents_their_overdraft_overnight_in_proportion_to_their_reserves():
    model = TreasuryMarketModel(make_scenario(), seed=1)
    led = model.ledger
    banks, parents = model.accounts_of("bank"), parents_of(model)[:2]
    assert not model.banks.lend_overnight(led, banks, parents, np.zeros(2), IORB)
    held = np.maximum(led.money_bn[banks], 0.0)
    before, payable_before = led.money_bn.copy(), led.repo_interest_payable_bn.copy()
    assert model.banks.lend_overnight(led, banks, parents, np.array([10.0, 5.0]), IORB)
    assert led.money_bn[parents] == pytest.approx(before[parents] + [10.0, 5.0])
    assert before[banks] - led.money_bn[banks] == pytest.approx(15.0 * held / held.sum())
    owed = led.repo_interest_payable_bn[parents] - payable_before[parents]
    assert owed == pytest.approx(np.array([10.0, 5.0]) * IORB / 36000.0)
    assert led.repo_interest_receivable_bn.sum() == pytest.approx(led.repo_interest_payable_bn.sum(), rel=1e-12)


GROWING_FUNDS = {"banks": {"reserves_bn": 2250.0}, "money_funds": {"assets_growth_bn_per_year": 1000.0}}
FOUR_MONTHS = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 4, 30), "warmup_business_days": 0}


def test_with_parents_in_fed_funds_the_books_balance_and_no_parent_ends_the_repo_day_overdrawn():
    scenario = make_scenario(GROWING_FUNDS, {"banks": {"dealer_parents_in_fed_funds": True}}, **FOUR_MONTHS)
    model = run_checked(scenario, seed=1)
    dealers = model.results()["dealers"]
    parents = dealers[dealers.bank_affiliated]
    assert (parents.reserves_bn >= -1e-6).all()
    # They lent: on the last day the dealers' repo books (recorded without the parents' loans)
    # are smaller than the ledger's.
    assert model.dealers.parent_fed_funds_lent_bn.sum() > 1.0
    last = dealers[dealers.date == dealers.date.max()]
    assert last.reverse_repo_bn.sum() < model.ledger.repo_lent_bn[: model.dealers.size_share.size].sum() - 1.0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_deposits_piling_up_at_dealers_parents_reach_banks_through_fed_funds(seed):
    # Money funds growing by $1T a year move households' deposits to funds, a share of them at the
    # dealers' parents (banks.dealer_parents_deposit_share). Left there, the reserves behind them are
    # outside the fed funds market and banks bid up for reserves (EFFR - IORB over the last 20 days
    # -5.6 to -5.8bp on seeds 1-3); lent to banks, EFFR stays at the arbitrage floor (-7.0bp). The
    # bound, half a basis point, is a third of that gap and fails if the parents' reserves stay out.
    spreads = []
    for parents_trade in (False, True):
        in_market = {"banks": {"dealer_parents_in_fed_funds": parents_trade}}
        scenario = make_scenario(GROWING_FUNDS, in_market, **FOUR_MONTHS)
        daily = TreasuryMarketModel(scenario, seed=seed).run().results()["daily"]
        spreads.append(float(((daily.effr_pct - daily.iorb_pct) * 100).iloc[-20:].mean()))
    outside, inside = spreads
    assert inside < outside - 0.5


def test_where_reserves_are_exempt_from_the_slr_parents_lend_them_only_when_banks_bid_iorb_or_more():
    # Exempt, reserves cost a parent no leverage room and fed funds sold would: it holds them while
    # banks bid under IORB (abundant reserves) and lends them once banks bid IORB or more (scarce).
    month = {"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 28), "warmup_business_days": 0}
    exempt = {"dealers": {"exempt_reserves_from_slr": True}, "banks": {"dealer_parents_in_fed_funds": True}}
    comfortable = make_scenario().banks.lowest_comfortable_reserves_bn
    lent_by_regime = {}
    for regime, reserves_bn in (("abundant", comfortable + 1000.0), ("scarce", comfortable - 400.0)):
        for exemption in (True, False):
            keys = exempt if exemption else {"banks": {"dealer_parents_in_fed_funds": True}}
            model = TreasuryMarketModel(make_scenario(month, keys, {"banks": {"reserves_bn": reserves_bn}}), seed=1)
            lent, effr_over_iorb = 0.0, []
            for _ in range(15):
                model.step()
                lent += float(model.dealers.parent_fed_funds_lent_bn.sum())
                effr_over_iorb.append(model.market.effr_pct - model.market.rates.iorb_pct)
            lent_by_regime[regime, exemption] = lent
            if regime == "abundant":
                assert max(effr_over_iorb) < 0.0
            else:
                assert min(effr_over_iorb) >= 0.0
    assert lent_by_regime["abundant", False] > 1.0 and lent_by_regime["abundant", True] == 0.0
    assert lent_by_regime["scarce", True] > 1.0
