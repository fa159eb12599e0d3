"""Accounting invariants (DESIGN.md section 7) over many random scenarios, checked every day.

Securities are conserved issue by issue, every balance sheet balances, the central bank's
books balance, and nothing is NaN or infinite, to 1e-9 relative (`tests/conftest.py`).

The scenarios span the schema's ranges: populations from one institution to the schema's
largest, every balance and auction size from zero to its upper bound, sizes as unequal as
the Pareto tails allow. A few examples run in the default suite; the `property` test runs
thousands (`python -m pytest -q -m property`).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from annotated_types import Ge, Gt, Le, Lt
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from sim import TreasuryMarketModel
from sim.scenario import schema
from sim.scenario.schema import SHOCK_KINDS, TENORS
from tests.conftest import ACCOUNTING_RTOL, assert_books_balance, make_scenario, run_checked

START = dt.date(2025, 1, 2)
# Holder classes and their population sections.
POPULATIONS = {
    "dealers": schema.DealerSection,
    "real_money": schema.RealMoneySection,
    "foreign_official": schema.ForeignOfficialSection,
    "levered_funds": schema.LeveredFundSection,
    "money_funds": schema.MoneyFundSection,
    "banks": schema.BankSection,
}
# The smallest positive value drawn for a float: a thousand dollars in $bn fields.
SMALLEST_POSITIVE = 1e-6
SHOCK_SECTIONS: dict[str, type[BaseModel]] = {
    "volatility_jump": schema.VolatilityJump,
    "settlement_disruption": schema.SettlementDisruption,
    "haircut_jump": schema.HaircutJump,
    "foreign_official_selling": schema.ForeignOfficialSelling,
    "fund_selling": schema.FundSelling,
}
# Populations this share of their schema maximum, except in the large-population examples.
SMALL_POPULATION_SHARE = 0.1
# Opening holdings capped near what the default issues outstanding (~$31tn) can hold, so
# most draws open; the rest are refused by the opening (a located error) and rejected.
HOLDINGS_CAP_BN = {
    ("central_bank", "soma_treasuries_bn"): 20000.0,
    ("foreign_official", "holdings_bn"): 20000.0,
    ("levered_funds", "positions_bn"): 10000.0,
    ("dealers", "inventory_bn"): 5000.0,
}


def bounds(section: type[BaseModel], name: str) -> tuple[float, float, bool, bool]:
    """The schema's range of `section.name`: low, high, and whether each end is excluded."""
    low = high = None
    exclude_low = exclude_high = False
    for bound in section.model_fields[name].metadata:
        if isinstance(bound, Ge):
            low = bound.ge
        elif isinstance(bound, Gt):
            low, exclude_low = bound.gt, True
        elif isinstance(bound, Le):
            high = bound.le
        elif isinstance(bound, Lt):
            high, exclude_high = bound.lt, True
    assert low is not None and high is not None, f"{section.__name__}.{name} has no range"
    return low, high, exclude_low, exclude_high


def in_range(section: type[BaseModel], name: str, cap: float | None = None) -> st.SearchStrategy:
    """Any value the schema accepts for `section.name` (at most `cap`).

    Values above zero start at SMALLEST_POSITIVE: the schema admits down to 1e-308, where a
    ratio to the value (leverage over a haircut, a position over an issue's size) overflows.
    """
    low, high, exclude_low, exclude_high = bounds(section, name)
    if cap is not None and cap < high:
        high, exclude_high = cap, False
    if section.model_fields[name].annotation is int:
        return st.integers(int(low) + exclude_low, int(high) - exclude_high)
    lowest = max(low, SMALLEST_POSITIVE)
    positive = st.floats(lowest, high, exclude_min=exclude_low and lowest == low, exclude_max=exclude_high)
    return positive if exclude_low or low != 0 else st.just(0.0) | positive


def balances(draw, key: str, section: type[BaseModel]) -> dict[str, float]:
    """Every `_bn` amount of a section, across its range (opening holdings capped)."""
    return {
        name: draw(in_range(section, name, HOLDINGS_CAP_BN.get((key, name))))
        for name in section.model_fields
        if name.endswith("_bn") and section.model_fields[name].annotation is float
    }


@st.composite
def populations(draw, large: bool) -> dict[str, dict]:
    """Counts, size inequality and balances of every holder class."""
    out = {}
    for key, section in POPULATIONS.items():
        most = int(bounds(section, "count")[1])
        cap = most if large else max(int(most * SMALL_POPULATION_SHARE), 2)
        alpha = "concentration_alpha" if key == "banks" else "size_pareto_alpha"
        out[key] = {
            "count": draw(in_range(section, "count", cap)),
            alpha: draw(in_range(section, alpha)),
            **balances(draw, key, section),
        }
    return out


@st.composite
def shocks(draw):
    kind = draw(st.sampled_from(SHOCK_KINDS))
    shock = {
        "kind": kind,
        "date": START + dt.timedelta(days=draw(st.integers(0, 50))),
        "days": draw(st.integers(1, 20)),
    }
    if kind == "end_demand_shortfall":
        shock |= {
            "share": draw(in_range(schema.EndDemandShortfall, "share")),
            "tenor": draw(st.sampled_from(("all", *TENORS))),
        }
    elif kind in ("volatility_jump", "settlement_disruption", "haircut_jump"):
        shock |= {"multiplier": draw(in_range(SHOCK_SECTIONS[kind], "multiplier"))}
    elif kind == "funding_pullback":
        shock |= {"share": draw(in_range(schema.FundingPullback, "share"))}
    elif kind in ("foreign_official_selling", "fund_selling"):
        shock |= {"bn_per_day": draw(in_range(SHOCK_SECTIONS[kind], "bn_per_day"))}
    return shock


@st.composite
def purchases(draw) -> list[dict]:
    if not draw(st.booleans()):
        return []
    program = {
        "start": START + dt.timedelta(days=draw(st.integers(0, 20))),
        "end": START + dt.timedelta(days=120),
        "bn_per_month": draw(in_range(schema.PurchaseProgram, "bn_per_month")),
        "tenors": draw(st.lists(st.sampled_from(TENORS), min_size=1, max_size=4)),
        "nonbank_seller_share": draw(in_range(schema.PurchaseProgram, "nonbank_seller_share")),
    }
    return [program]


@st.composite
def scenarios(draw):
    # One example in twenty has populations up to the schema's largest, over a week:
    # larger runs would take minutes each.
    large = draw(st.sampled_from([False] * 19 + [True]))
    days = draw(st.integers(5, 7 if large else 60))
    pops = draw(populations(large))
    pops["dealers"] |= {
        "bank_affiliated_share": draw(st.floats(0.0, 1.0)),
        "exempt_treasuries_from_slr": draw(st.booleans()),
        "exempt_reserves_from_slr": draw(st.booleans()),
        "initial_utilization": draw(in_range(schema.DealerSection, "initial_utilization")),
    }
    pops["levered_funds"]["haircut_pct"] = draw(in_range(schema.LeveredFundSection, "haircut_pct"))
    pops["banks"]["household_deposits_per_reserve"] = draw(
        in_range(schema.BankSection, "household_deposits_per_reserve")
    )
    return make_scenario(
        pops,
        {
            "start_date": START,
            "end_date": START + dt.timedelta(days=days),
            "policy": {
                "path": [
                    {
                        "date": START + dt.timedelta(days=draw(st.integers(1, 60))),
                        "target_upper_pct": draw(in_range(schema.PolicyRateChange, "target_upper_pct")),
                    }
                ]
                if draw(st.booleans())
                else []
            },
            "central_bank": {
                **balances(draw, "central_bank", schema.CentralBankSection),
                "purchases": draw(purchases()),
                "srf": {
                    "enabled": draw(st.booleans()),
                    "daily_limit_bn": draw(in_range(schema.StandingRepoFacility, "daily_limit_bn")),
                    "centrally_cleared": draw(st.booleans()),
                },
                "securities_lending": draw(st.booleans()),
                "reinvest_maturities": draw(st.booleans()),
            },
            "treasury": {
                **balances(draw, "treasury", schema.TreasurySection),
                "buybacks_bn_per_month": draw(in_range(schema.TreasurySection, "buybacks_bn_per_month")),
                "sizes": balances(draw, "sizes", schema.IssuanceSizes),
            },
            "repo": {"rounds_per_day": draw(in_range(schema.RepoSection, "rounds_per_day"))},
            "settlement": {
                "fails_charge": draw(st.booleans()),
                "client_short_share": draw(in_range(schema.SettlementSection, "client_short_share")),
            },
            "market_structure": {
                "central_clearing_cash": draw(st.booleans()),
                "central_clearing_repo": draw(st.booleans()),
                "all_to_all_share": draw(st.floats(0.0, 1.0)),
            },
            "loop": {name: draw(st.booleans()) for name in schema.LoopSwitches.model_fields},
            "shocks": draw(st.lists(shocks(), max_size=3)),
        },
    )


def open_or_reject(scenario, seed: int) -> TreasuryMarketModel:
    """The opening market, or a rejected example when the opening refuses the scenario."""
    try:
        return TreasuryMarketModel(scenario, seed=seed)
    except ValueError as error:
        if "opening holdings exceed the outstanding" in str(error):
            reject()
        raise


def check_every_day(scenario, seed: int) -> None:
    model = open_or_reject(scenario, seed)
    assert_books_balance(model)
    while model.running:
        model.step()
        assert_books_balance(model)
    for name, table in model.results().items():
        numeric = table.select_dtypes(include=[np.number])
        assert np.isfinite(numeric.to_numpy(dtype=float)).all(), f"non-finite value in the {name} table"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(scenario=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_books_balance_every_day_in_random_scenarios(scenario, seed):
    check_every_day(scenario, seed)


@pytest.mark.property
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
    identity -= led.tga_bn + led.on_rrp_bn.sum() + led.currency_bn + led.cb_capital_bn
    assert abs(identity - daily.reserves_bn.iloc[-1]) < 1e-9 * identity
