"""Each institution is a Mesa agent that views its population's arrays (no copies)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim import TreasuryMarketModel
from sim.agents import (
    BankReserveManager,
    CentralBank,
    Dealer,
    ForeignOfficial,
    LeveredFund,
    MoneyFund,
    RealMoneyInvestor,
    Treasury,
)
from tests.conftest import make_scenario

SCENARIO = make_scenario({"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 31)})


def test_every_institution_is_an_agent_of_its_kind():
    model = TreasuryMarketModel(SCENARIO, seed=2)
    sc = SCENARIO
    expected = {
        Dealer: sc.dealers.count,
        RealMoneyInvestor: sc.real_money.count,
        ForeignOfficial: sc.foreign_official.count,
        LeveredFund: sc.levered_funds.count,
        MoneyFund: sc.money_funds.count,
        BankReserveManager: sc.banks.count,
        CentralBank: 1,
        Treasury: 1,
    }
    assert {kind: len(model.agents_by_type[kind]) for kind in expected} == expected


def test_agents_read_their_population_as_the_market_moves():
    model = TreasuryMarketModel(SCENARIO, seed=2)
    for _ in range(10):
        model.step()
    dealers = model.agents_by_type[Dealer]
    utilization = np.array([dealer.utilization for dealer in dealers])
    assert np.array_equal(utilization, model.dealers.utilization)
    largest = max(dealers, key=lambda dealer: dealer.size_share)
    assert largest.equity_bn == model.ledger.equity_bn[largest.index]
    bank_dealers = dealers.select(lambda dealer: dealer.bank_affiliated)
    assert len(bank_dealers) == int(model.dealers.bank_affiliated.sum())
    funds = model.agents_by_type[MoneyFund]
    assert [fund.size_share for fund in funds] == list(model.money_funds.size_share)
    assert [fund.cash_bn for fund in funds] == list(model.ledger.money_bn[model.accounts_of("money_fund")])
    investor = model.agents_by_type[RealMoneyInvestor][0]
    assert investor.remembered_tail_bp == tuple(model.real_money.remembered_tail_bp[investor.index])


def test_random_streams_are_spawned_from_the_model_rng():
    # model.rng.spawn gives the SeedSequence(seed).spawn streams, in the same order.
    model = TreasuryMarketModel(SCENARIO, seed=9)
    streams = [model.curve_rng, model.auction_rng, model.flow_rng, model.repo_rng, model.setup_rng]
    expected = np.random.SeedSequence(9).spawn(len(streams))
    for stream, seed_sequence in zip(streams, expected, strict=True):
        assert stream.bit_generator.seed_seq.spawn_key == seed_sequence.spawn_key
        assert stream.bit_generator.seed_seq.entropy == seed_sequence.entropy


def test_real_money_auction_demand_falls_only_with_wider_than_calm_quotes():
    # Quotes at or inside their calm width (a ratio down to zero, as with no spread at all) leave
    # end investors' auction demand where it is; wider quotes cut it.
    model = TreasuryMarketModel(make_scenario(), seed=1)
    cash = np.full(model.real_money.size_share.size, 1e4)
    amounts = {
        ratio: model.real_money.auction_bids(8, 40.0, 4.2, ratio, 0.0, cash)[2].sum() for ratio in (0.0, 0.5, 1.0, 2.0)
    }
    assert amounts[0.0] == amounts[0.5] == amounts[1.0] > amounts[2.0] > 0


def test_real_money_demand_keeps_rising_with_cheapness_past_a_normal_tail():
    # An auction far cheap to when-issued draws more end demand at each deeper step (relative-value
    # buyers), out to 32bp; the steps' amounts are the increments of a rising cumulative curve.
    model = TreasuryMarketModel(make_scenario(), seed=1)
    investors = model.real_money
    cash = np.full(investors.size_share.size, 1e4)
    wi_pct = 4.2
    n_investors = investors.size_share.size
    bidders, yields_pct, amounts = investors.auction_bids(8, 40.0, wi_pct, 1.0, 0.0, cash)
    # The step of each tender beyond the investor's own required concession (no tails remembered yet).
    required_bp = np.repeat(investors.required_concession_bp, yields_pct.size // n_investors)
    step_bp = (yields_pct - wi_pct) * 100.0 - required_bp
    beyond_normal = step_bp > 8.0 + 1e-9
    assert np.isclose(step_bp, 32.0).sum() == n_investors
    assert amounts[beyond_normal].sum() > 0.0
    assert np.all(amounts >= 0.0)
    # Each investor's demand at 16-32bp adds to what it bids out to 8bp.
    by_investor_within = np.bincount(bidders[~beyond_normal], weights=amounts[~beyond_normal])
    by_investor_beyond = np.bincount(bidders[beyond_normal], weights=amounts[beyond_normal])
    assert np.all(by_investor_beyond > 0.0) and np.all(by_investor_within > 0.0)


def test_the_widest_concession_bounds_what_end_investors_tender():
    # Tenders step out to `widest_concession_bp` beyond each investor's required concession; with
    # demand rising per bp of concession, a narrower reach tenders less beyond what clears (the
    # bid-to-cover falls) while the demand at WI and through it stays the same.
    tenders = {}
    for widest_bp in (32.0, 8.0):
        model = TreasuryMarketModel(make_scenario(real_money={"widest_concession_bp": widest_bp}), seed=1)
        investors = model.real_money
        cash = np.full(investors.size_share.size, 1e4)
        bidders, yields_pct, amounts = investors.auction_bids(8, 40.0, 4.2, 1.0, 0.0, cash)
        n_investors = investors.size_share.size
        required_bp = np.repeat(investors.required_concession_bp, yields_pct.size // n_investors)
        step_bp = (yields_pct - 4.2) * 100.0 - required_bp
        assert np.isclose(step_bp.max(), widest_bp) and np.isclose(step_bp, widest_bp).sum() == n_investors
        tenders[widest_bp] = (amounts.sum(), amounts[step_bp <= 1e-9].sum())
    assert tenders[8.0][0] < tenders[32.0][0]
    assert np.isclose(tenders[8.0][1], tenders[32.0][1])
