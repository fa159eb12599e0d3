"""Who trades in which repo segment, what cleared repo saves, and what snapshot days and
funding pull-backs do to lenders' offers: hand-computed on explicit inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim import TreasuryMarketModel
from sim.agents.dealer import cleared_repo_books_bn
from sim.markets.repo import SPONSORED_DVP, TRI_PARTY, client_rates, reference_rates, segment_trades
from sim.scenario.schema import MarketStructureSection
from tests.conftest import make_scenario

FEW_DAYS = {"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 7)}


@pytest.fixture(scope="module")
def model() -> TreasuryMarketModel:
    return TreasuryMarketModel(make_scenario(FEW_DAYS), seed=1).run()


def test_only_the_sponsored_shares_are_cleared_unless_all_repo_is():
    structure = MarketStructureSection(sponsored_cash_lending_share=0.4, sponsored_client_repo_share=0.25)
    borrowed, lent = np.array([100.0, 0.0]), np.array([80.0, 40.0])
    cleared, cleared_reverse = cleared_repo_books_bn(structure, borrowed, lent, all_cleared=False)
    assert cleared == pytest.approx([40.0, 0.0])
    assert cleared_reverse == pytest.approx([20.0, 10.0])
    cleared, cleared_reverse = cleared_repo_books_bn(structure, borrowed, lent, all_cleared=True)
    assert cleared == pytest.approx(borrowed) and cleared_reverse == pytest.approx(lent)


def test_sponsored_repo_nets_against_cleared_funding_in_the_leverage_exposure(model):
    # Treasuries 50, cash 10, reverse repo 80 of which 20 cleared, cleared funding 40: 70% of
    # min(20, 40) = 14 nets, so exposure is 50 + 10 + 80 - 14 = 126; uncleared it is 140.
    dealers = model.dealers
    one = np.ones(dealers.size_share.size)
    netted = dealers.market_exposure_bn(50 * one, 10 * one, 80 * one, 40 * one, 0.7, False, 20 * one)
    gross = dealers.market_exposure_bn(50 * one, 10 * one, 80 * one, 0 * one, 0.7, False, 20 * one)
    assert netted == pytest.approx(126.0 * one)
    assert gross == pytest.approx(140.0 * one)


def test_sponsored_clients_pay_only_for_the_balance_sheet_left_after_netting(model):
    # Dealer 0 borrowed 100 (40 cleared) and lent 80 to clients (20 sponsored): all 20 net at
    # 70%, so sponsored clients pay 30% of the 10bp premium. Dealer 1 has no cleared funding
    # to net against: its sponsored clients pay the full premium, like bilateral ones.
    ms = model.config.market_structure
    n = model.config.dealers.count
    cost = np.full(n, 4.30)
    borrowed, lent = np.zeros(n), np.zeros(n)
    borrowed[0], lent[0], lent[1] = 100.0, 80.0, 40.0
    premium = np.full(n, 10.0)
    rates = client_rates(model, cost, borrowed, lent, premium)
    share = ms.sponsored_client_repo_share
    assert rates.sponsored_bn[:2] == pytest.approx([80 * share, 40 * share])
    assert rates.bilateral_bn[:2] == pytest.approx([80 * (1 - share), 40 * (1 - share)])
    cleared = 100 * ms.sponsored_cash_lending_share
    netted = ms.netting_efficiency * min(cleared / (80 * share), 1.0)
    assert rates.sponsored_rate_pct[0] == pytest.approx(4.30 + 0.10 * (1 - netted))
    assert rates.sponsored_rate_pct[1] == pytest.approx(4.40)
    assert rates.bilateral_rate_pct[:2] == pytest.approx([4.40, 4.40])
    blended = (rates.sponsored_bn[0] * rates.sponsored_rate_pct[0] + rates.bilateral_bn[0] * 4.40) / 80.0
    assert rates.average_rate_pct[0] == pytest.approx(blended)


def test_cash_lenders_sponsored_share_trades_in_cleared_dvp_and_counts_in_sofr(model):
    # Build a day from the model's own repo day and tag it: the funds' sponsored share lands in
    # DVP, the rest in tri-party; SOFR's volume is all but the bilateral trades and DVP specials.
    from sim.markets.repo import RepoDay

    n = model.config.dealers.count
    fund_volume = np.array([30.0, 70.0])
    day = RepoDay(
        fund_volume, np.zeros(2), np.zeros(0), np.zeros(0), np.full(n, 100.0 / n), np.zeros(n), np.zeros(n),
        [np.array([4.30, 4.32])], [fund_volume], ["fund"], np.full(n, np.nan),
    )  # fmt: skip
    clients = client_rates(model, np.full(n, 4.31), np.full(n, 100.0 / n), np.full(n, 10.0), np.full(n, 5.0))
    trades = segment_trades(model, day, clients)
    share = model.config.market_structure.sponsored_cash_lending_share
    assert trades.of(SPONSORED_DVP)[1][:2] == pytest.approx(fund_volume * share)
    assert trades.of(TRI_PARTY)[1] == pytest.approx(fund_volume * (1 - share))
    published = reference_rates(trades)
    total = trades.volumes_bn.sum() - clients.bilateral_bn.sum()
    assert published.sofr_volume_bn <= total + 1e-9
    assert published.sofr_volume_bn >= fund_volume.sum() * (1 - share)


def test_banks_ask_the_snapshot_hurdle_on_quarter_ends_and_more_at_year_end(model):
    banks = model.banks
    calendar = model.calendar
    days = [dt.date.fromisoformat(str(d)[:10]) for d in calendar.days]
    hurdle = model.config.banks.quarter_end_hurdle_bp
    assert hurdle > 0
    for i, day in enumerate(days):
        expected = hurdle if bool(calendar.is_quarter_end[i]) else 0.0
        assert banks.snapshot_hurdle_bp(calendar, i) == pytest.approx(expected), day
    reserves = np.full(banks.lowest_comfortable_bn.size, 200.0)
    _, plain, cash = banks.repo_tranches(reserves, 4.40)
    _, dressed, cash_dressed = banks.repo_tranches(reserves, 4.40, snapshot_hurdle_bp=hurdle)
    assert dressed - plain == pytest.approx(np.full(plain.size, hurdle / 100.0))
    assert cash_dressed == pytest.approx(cash)


def test_year_end_scales_the_snapshot_hurdle():
    scenario = make_scenario({"start_date": dt.date(2025, 12, 22), "end_date": dt.date(2026, 1, 2)})
    model = TreasuryMarketModel(scenario, seed=1)
    calendar = model.calendar
    year_end = [i for i, d in enumerate(calendar.days) if bool(calendar.is_quarter_end[i])]
    assert year_end, "the window holds a year-end"
    p = model.config.banks
    assert model.banks.snapshot_hurdle_bp(calendar, year_end[0]) == pytest.approx(
        p.quarter_end_hurdle_bp * p.year_end_intensity
    )


def test_a_funding_pullback_withdraws_its_share_of_money_funds_repo_cash(model):
    funds = model.money_funds
    cash = np.full(funds.facility_access.size, 10.0)
    ask, offered = funds.repo_tranches(cash, 4.25)
    ask_pulled, offered_pulled = funds.repo_tranches(cash, 4.25, pullback_share=0.3)
    assert offered_pulled == pytest.approx(0.7 * offered)
    assert ask_pulled == pytest.approx(ask)


def test_each_dealers_binding_constraint_is_the_limit_it_is_at(model):
    # Dealer 0 over its balance sheet, 1 over its VaR, 2 over both (more over its VaR),
    # 3 under both but funded at a facility, 4 free.
    from dataclasses import replace

    from sim.agents.dealer import BINDING_CONSTRAINTS

    dealers = model.dealers
    n = dealers.size_share.size
    balance_sheet, risk, facility = np.full(n, 0.5), np.full(n, 0.5), np.zeros(n)
    balance_sheet[[0, 2]] = [1.2, 1.1]
    risk[[1, 2]] = [1.05, 1.3]
    facility[3] = 2.0
    dealers.constraints = replace(dealers.constraints, balance_sheet_use=balance_sheet, risk_use=risk)
    labels = [BINDING_CONSTRAINTS[i] for i in dealers.binding_constraint(facility)[:5]]
    assert labels == ["slr", "var", "var", "funding", "none"]


def test_the_dealers_table_names_the_binding_constraint(model):
    table = model.results()["dealers"]
    assert set(table.binding_constraint.cat.categories) == {"none", "slr", "var", "funding"}
    at_limit = table.utilization >= 1.0
    assert (table.binding_constraint[at_limit].isin(["slr", "var"])).all()
    assert (table.binding_constraint[~at_limit].isin(["none", "funding"])).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_lenders_without_the_facility_undercut_funds_only_while_funds_cash_sits_idle(seed):
    # Pools without the ON RRP take up to their discount (10bp here) below what funds earn,
    # scaled by the share of funds' cash idle at the facility. Funds half again as large leave
    # much at the facility; funds a fifth smaller lend nearly all of it (the set-up, checked).
    # The 1st SOFR percentile (the pools' trades) sits far below the tri-party median when funds
    # are flush and close to it when they are fully lent; with a fixed discount the gap would be
    # the same in both (about 11bp on these seeds). Banks' borrowing of the funds' idle cash is off:
    # at 2025's rates it would empty the facility whatever the funds' size.
    weeks = {"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 4, 25)}
    assets_bn = make_scenario(weeks).money_funds.assets_bn
    gap_bp, on_rrp_bn = {}, {}
    for label, scale in (("flush", 1.5), ("lent", 0.8)):
        funds = {
            "money_funds": {"assets_bn": scale * assets_bn, "no_facility_discount_bp": 10.0},
            "banks": {"repo_borrowing": False},
        }
        daily = TreasuryMarketModel(make_scenario(weeks, funds), seed=seed).run().results()["daily"]
        on_rrp_bn[label] = daily.on_rrp_bn.median()
        gap_bp[label] = ((daily.sofr_p1_pct - daily.tgcr_median_pct) * 100).median()
    assert on_rrp_bn["flush"] > 0.2 * assets_bn and on_rrp_bn["lent"] < 0.02 * assets_bn
    assert gap_bp["flush"] < -5.0
    assert gap_bp["lent"] > gap_bp["flush"] + 2.0
