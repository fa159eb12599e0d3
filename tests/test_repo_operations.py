"""The central bank's overnight repo operations: who bids and how much (computed by hand), what
they do to repo rates when reserves are scarce, and their exact accounting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.markets.repo import clear_repo_day, close_overnight_positions, repo_operation_awards_bn
from sim.scenario import load_scenario
from tests.conftest import ACCOUNTING_RTOL, assert_books_balance
from tests.test_repo_day import two_round_day

SCARCITY = Path(__file__).resolve().parents[1] / "scenarios" / "reserve_scarcity.yaml"
FIRST_OPERATION = dt.date(2025, 9, 2)


# ---------------------------------------------------------------- the bids, by hand
def test_dealers_bid_for_the_need_private_cash_funds_only_above_the_minimum_bid():
    # Private cash: the fund's 4 at 4.30, banks' 3 at 4.40 and 10 at 4.50; the day's 10 clear at
    # 4.50. At a minimum bid of 4.45 private lenders fund 7 at or below it: the other 3 go to
    # the operation, pro rata to need (6 and 4 -> 1.8 and 1.2).
    day = two_round_day(dealer_need_bn=np.array([6.0, 4.0]))
    assert repo_operation_awards_bn(day, offered_bn=75.0, min_bid_pct=4.45) == pytest.approx([1.8, 1.2], abs=1e-9)
    # The offer caps the award; a minimum bid at or above the day's rate draws no bids.
    assert repo_operation_awards_bn(day, offered_bn=2.0, min_bid_pct=4.45) == pytest.approx([1.2, 0.8], abs=1e-12)
    assert not repo_operation_awards_bn(day, offered_bn=75.0, min_bid_pct=4.50).any()
    assert not repo_operation_awards_bn(day, offered_bn=0.0, min_bid_pct=4.00).any()


def test_after_the_operation_no_private_trade_is_dearer_than_its_minimum_bid():
    need = np.array([10.0])
    awarded = repo_operation_awards_bn(two_round_day(), offered_bn=75.0, min_bid_pct=4.45)
    assert awarded == pytest.approx([3.0], abs=1e-9)
    day = clear_repo_day(two_round_day(dealer_need_bn=need - awarded))
    assert day.dealer_borrowed_bn == pytest.approx([7.0]) and day.dealer_unfilled_bn == pytest.approx([0.0])
    rates, volumes = np.concatenate(day.trade_rates_pct), np.concatenate(day.trade_volumes_bn)
    assert rates[volumes > 1e-9].max() <= 4.45


# ---------------------------------------------------------------- in a scarce-reserves market
def _scarcity(seed: int, operations: list[dict] | None) -> TreasuryMarketModel:
    overrides: dict = {"end_date": "2025-09-30"}
    if operations is not None:
        overrides["central_bank"] = {"repo_operations": operations}
    return TreasuryMarketModel(load_scenario(SCARCITY, overrides=overrides), seed=seed)


def _offered(amount_bn: float) -> list[dict]:
    return [{"start": str(FIRST_OPERATION), "offered_bn_per_day": amount_bn, "min_bid_above_iorb_bp": 0}]


def _spread_bp(daily: pd.DataFrame, column: str) -> float:
    days = daily[daily.date >= pd.Timestamp(FIRST_OPERATION)]
    return float(((days[column] - days.iorb_pct) * 100.0).mean())


TAILS = ("sofr_p99_pct", "sofr_p75_pct", "repo_p99_pct")


@pytest.fixture(scope="module")
def scarce_runs() -> dict[int, tuple[dict, dict]]:
    """Seeds 1-3 of the scarce market without and with $75bn a day offered: (without, offered) tables."""
    return {seed: (_scarcity(seed, None).run().results(), _scarcity(seed, _offered(75.0)).run().results())
            for seed in (1, 2, 3)}  # fmt: skip


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_repo_operations_calm_repo_rates_when_reserves_are_scarce(scarce_runs, seed):
    without, offered = scarce_runs[seed]
    daily, dealers = offered["daily"], offered["dealers"]
    assert "repo_operations_bn" not in without["daily"] and "repo_operations_borrowed_bn" not in without["dealers"]
    assert (daily.repo_operations_bn > 1.0).any(), "dealers take the operation when private repo is dear"
    assert (daily.repo_operations_bn <= 75.0 + 1e-9).all()
    assert not daily.loc[daily.date < pd.Timestamp(FIRST_OPERATION), "repo_operations_bn"].any()
    by_day = dealers.groupby("date").repo_operations_borrowed_bn.sum().to_numpy()
    assert by_day == pytest.approx(daily.repo_operations_bn.to_numpy(), abs=1e-9)
    # The upper tail of repo comes down on every seed (same seed, so the difference is the
    # operation's), and reserves are higher while the loans are outstanding. How far depends on
    # how tight the draw is: the all-trade 99th percentile (whose top is dealers' uncleared client
    # repo, priced off their balance sheet as well as their funding) falls by 2.0 and 1.7bp on
    # seeds 1 and 3, and by 86bp on seed 2, which tips into weeks of dear repo without the operation.
    for column in TAILS:
        assert _spread_bp(daily, column) < _spread_bp(without["daily"], column) - 0.5, column
    assert _spread_bp(daily, "reserves_bn") > _spread_bp(without["daily"], "reserves_bn")


def test_repo_operations_take_bp_off_the_upper_tail_over_the_seeds(scarce_runs):
    # Over seeds 1-3: SOFR's 99th percentile by 2bp or more, its 75th and the all-trade 99th
    # percentile by 1bp or more (measured at this fit: SOFR's 75th 2.1-2.2bp on seeds 1 and 3, 58bp
    # on seed 2, which tips without the operation; at an earlier fit 1.1-1.9bp on every seed).
    for column, by_bp in zip(TAILS, (2.0, 1.0, 1.0), strict=True):
        falls = [_spread_bp(w["daily"], column) - _spread_bp(o["daily"], column) for w, o in scarce_runs.values()]
        assert np.mean(falls) > by_bp, (column, falls)


def test_an_operation_offering_nothing_changes_nothing():
    without = _scarcity(1, None).run().results()
    nothing = _scarcity(1, _offered(0.0)).run().results()
    assert not nothing["daily"].repo_operations_bn.any() and not nothing["dealers"].repo_operations_borrowed_bn.any()
    for table in ("daily", "auctions", "dealers"):
        pd.testing.assert_frame_equal(
            nothing[table].drop(columns=["repo_operations_bn", "repo_operations_borrowed_bn"], errors="ignore"),
            without[table],
            check_exact=True,
        )


def test_the_operations_reserves_are_booked_exactly_and_repaid_with_interest_next_morning():
    without, offered = _scarcity(2, None), _scarcity(2, _offered(75.0))
    # Up to the first operation the two markets are the same; on its day the central bank's loans
    # create reserves: what money funds the operation displaces and park at the ON RRP leaves them.
    while offered.date.date() < FIRST_OPERATION:
        without.step()
        offered.step()
        assert_books_balance(offered)
    assert offered.date.date() == FIRST_OPERATION
    led, base = offered.ledger, without.ledger
    awarded = float(led.repo_operations_bn.sum())
    assert awarded == pytest.approx(offered.market.repo_operations_bn) and 1.0 < awarded <= 75.0 + 1e-9
    loans = led.central_bank_loans_bn() - base.central_bank_loans_bn()
    assert loans == pytest.approx(awarded + led.srf_bn.sum() + led.discount_window_bn.sum()
                                  - base.srf_bn.sum() - base.discount_window_bn.sum(), rel=1e-12)  # fmt: skip
    created = (led.reserves_bn() + led.on_rrp_bn.sum()) - (base.reserves_bn() + base.on_rrp_bn.sum())
    assert created == pytest.approx(loans, rel=ACCOUNTING_RTOL)
    # Next morning each dealer repays its loan with a day's interest at the minimum bid (IORB).
    rate_pct = offered.market.rates.iorb_pct
    owed = led.repo_operations_bn.copy()
    yesterday = offered.market.facility_rate_yesterday
    facility_interest = (led.srf_bn.sum() * yesterday.get("srf", 0.0)
                         + led.discount_window_bn.sum() * yesterday.get("dw", 0.0)) / 36000.0  # fmt: skip
    capital = led.cb_capital_bn
    close_overnight_positions(offered)
    assert not led.repo_operations_bn.any()
    assert led.cb_capital_bn - capital == pytest.approx(owed.sum() * rate_pct / 36000.0 + facility_interest, rel=1e-9)
    assert led.central_bank_gap_bn() == pytest.approx(0.0, abs=ACCOUNTING_RTOL * led.central_bank_gross_bn())
    assert np.abs(led.balance_gaps_bn()).max() <= ACCOUNTING_RTOL * led.gross_size_bn().max()
