"""Accounting invariants (DESIGN.md section 7) over many random scenarios, checked every day.

Securities are conserved issue by issue, every balance sheet balances, the central bank's
books balance, and nothing is NaN or infinite, to 1e-9 relative (`tests/conftest.py`).

The scenarios span the schema's ranges (`tests/strategies.py`): every number of every
section from its lowest to its highest allowed value, populations from one institution to
the schema's largest, sizes as unequal as the Pareto tails allow. Overflow and division by
zero are errors here, not warnings. A few examples run in the default suite; the
`property` tests run thousands (`python -m pytest -q -m property`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import TreasuryMarketModel
from tests.conftest import ACCOUNTING_RTOL, assert_books_balance, make_scenario, run_checked
from tests.strategies import scenarios


def check_every_day(scenario, seed: int) -> None:
    model = TreasuryMarketModel(scenario, seed=seed)
    assert_books_balance(model)
    while model.running:
        model.step()
        assert_books_balance(model)
    for name, table in model.results().items():
        numeric = table.select_dtypes(include=[np.number])
        assert np.isfinite(numeric.to_numpy(dtype=float)).all(), f"non-finite value in the {name} table"


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenario=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_books_balance_every_day_in_random_scenarios(scenario, seed):
    check_every_day(scenario, seed)


@pytest.mark.property
@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
@given(scenario=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_books_balance_every_day_in_thousands_of_scenarios(scenario, seed):
    check_every_day(scenario, seed)


def test_a_booking_to_one_side_only_fails_the_check():
    """The scales allow for rounding, not for a small amount booked to one side only."""
    model = TreasuryMarketModel(make_scenario({"end_date": dt.date(2025, 1, 10)}), seed=3)
    assert_books_balance(model)
    smallest = model.accounts_of("real_money")[np.argmin(model.ledger.gross_size_bn()[model.accounts_of("real_money")])]
    model.ledger.equity_bn[smallest] += 1e-6  # a thousand dollars on a ~$50bn balance sheet
    assert model.accounting_gaps()["balance_sheets"] > ACCOUNTING_RTOL
    model.ledger.equity_bn[smallest] -= 1e-6
    assert model.accounting_gaps()["balance_sheets"] <= ACCOUNTING_RTOL
    model.ledger.tga_bn += 1e-3  # a million dollars the central bank does not owe
    assert model.accounting_gaps()["central_bank"] > ACCOUNTING_RTOL


def test_a_default_year_balances_every_day():
    model = run_checked(make_scenario({"end_date": dt.date(2025, 12, 31)}), seed=7)
    daily = model.results()["daily"]
    assert len(daily) == 250  # 2025 has 250 US business days
    # Reserves are what the central bank owes beyond the TGA, ON RRP, currency and its capital.
    led = model.ledger
    identity = led.soma_par_bn() + led.cb_other_assets_bn + led.srf_bn.sum() + led.discount_window_bn.sum()
    identity += led.repo_operations_bn.sum()
    identity -= led.tga_bn + led.on_rrp_bn.sum() + led.currency_bn + led.cb_capital_bn
    assert abs(identity - daily.reserves_bn.iloc[-1]) < 1e-9 * identity
