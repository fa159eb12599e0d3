"""Shared helpers: building scenarios from nested overrides and running with checks."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.scenario import Scenario, scenario_from_dict
from sim.scenario.loader import deep_merge

# Relative tolerance of the accounting invariants (DESIGN.md section 7). The books are
# floats: each line of a balance sheet is a running sum of the amounts booked to it, and
# each booking rounds it by at most eps/2 of the amounts involved (eps = 2.2e-16). After K
# bookings assets - liabilities - equity can be off by about K x eps x the largest balance
# involved, so the checks divide by that (`TreasuryMarketModel.accounting_gaps`): an
# account's largest gross size so far, a bank's depositors' too (their payments pass
# through its reserves), every reserve holder's for the central bank; never by today's
# gross assets alone. An account is booked to some tens of times a day (fiscal flows,
# auctions, trades, repo rounds, marks), so a year of days is K < 1e4 and rounding
# < 2e-12 of that scale: 1e-9 leaves a factor of 500, while a booking to one side only of
# more than a billionth of the scale fails.
ACCOUNTING_RTOL = 1e-9
ALL_LOOP_ARROWS_OFF = {
    "loop": {
        "takedown_raises_utilization": False,
        "utilization_drives_quotes": False,
        "liquidity_drives_auction_demand": False,
        "tails_drive_concession": False,
        "inventory_premium": False,
        "dealer_memory": False,
        "funding_cost_drives_dealers": False,
        "liquidity_drives_volatility": False,
    }
}


# A small market (a few institutions of each kind) for tests that need many quick runs.
SMALL_POPULATIONS: dict[str, Any] = {
    "dealers": {"count": 6},
    "real_money": {"count": 8},
    "foreign_official": {"count": 3},
    "levered_funds": {"count": 4},
    "money_funds": {"count": 5},
    "banks": {"count": 6},
}


def make_scenario(*overrides: dict[str, Any], **top: Any) -> Scenario:
    """Default scenario with nested overrides merged in order (later wins)."""
    data: dict[str, Any] = {}
    for override in overrides:
        data = deep_merge(data, copy.deepcopy(override))
    data.update(top)
    return scenario_from_dict(data)


def assert_books_balance(model: TreasuryMarketModel) -> None:
    gaps = model.accounting_gaps()
    assert gaps["securities"] <= ACCOUNTING_RTOL, f"securities not conserved on {model.date}: {gaps}"
    assert gaps["balance_sheets"] <= ACCOUNTING_RTOL, f"a balance sheet does not balance on {model.date}: {gaps}"
    assert gaps["central_bank"] <= ACCOUNTING_RTOL, f"central bank does not balance on {model.date}: {gaps}"
    assert not model.has_non_finite_state(), f"NaN or inf in the state on {model.date}"


def run_checked(scenario: Scenario, seed: int = 0) -> TreasuryMarketModel:
    """Run every day, checking the accounting invariants after each step."""
    model = TreasuryMarketModel(scenario, seed=seed)
    assert_books_balance(model)
    while model.running:
        model.step()
        assert_books_balance(model)
    return model


def run(scenario: Scenario, seed: int = 0) -> dict[str, pd.DataFrame]:
    return TreasuryMarketModel(scenario, seed=seed).run().results()


@pytest.fixture
def scenario_factory():
    return make_scenario
