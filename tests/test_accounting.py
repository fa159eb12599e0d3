"""Accounting invariants (DESIGN.md section 7) over many random scenarios, checked every day.

Securities are conserved issue by issue, every balance sheet balances, the central bank's
books balance, and nothing is NaN or infinite, to 1e-9 relative.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.scenario.schema import SHOCK_KINDS
from tests.conftest import make_scenario, run_checked

START = dt.date(2025, 1, 2)


@st.composite
def shocks(draw):
    kind = draw(st.sampled_from(SHOCK_KINDS))
    shock = {
        "kind": kind,
        "date": START + dt.timedelta(days=draw(st.integers(0, 50))),
        "days": draw(st.integers(1, 10)),
    }
    if kind == "end_demand_shortfall":
        shock |= {"share": draw(st.floats(0.1, 1.0)), "tenor": draw(st.sampled_from(["all", "10y", "4w", "2y"]))}
    elif kind in ("volatility_jump", "settlement_disruption", "haircut_jump"):
        shock |= {"multiplier": draw(st.floats(1.0, 5.0))}
    elif kind == "funding_pullback":
        shock |= {"share": draw(st.floats(0.1, 0.9))}
    elif kind in ("foreign_official_selling", "fund_selling"):
        shock |= {"bn_per_day": draw(st.floats(1.0, 80.0))}
    return shock


@st.composite
def scenarios(draw):
    days = draw(st.integers(25, 70))
    purchases = []
    if draw(st.booleans()):
        purchases.append(
            {
                "start": START + dt.timedelta(days=draw(st.integers(0, 20))),
                "end": START + dt.timedelta(days=120),
                "bn_per_month": draw(st.floats(0.0, 200.0)),
                "tenors": draw(
                    st.lists(st.sampled_from(["4w", "13w", "52w", "2y", "5y", "10y", "30y"]), min_size=1, max_size=3)
                ),
                "nonbank_seller_share": draw(st.floats(0.0, 1.0)),
            }
        )
    return make_scenario(
        {
            "start_date": START,
            "end_date": START + dt.timedelta(days=days),
            "policy": {
                "path": [
                    {
                        "date": START + dt.timedelta(days=draw(st.integers(5, 60))),
                        "target_upper_pct": draw(st.floats(0.25, 6.0)),
                    }
                ]
                if draw(st.booleans())
                else []
            },
            "dealers": {
                "count": draw(st.integers(2, 30)),
                "bank_affiliated_share": draw(st.floats(0.0, 1.0)),
                "exempt_treasuries_from_slr": draw(st.booleans()),
                "exempt_reserves_from_slr": draw(st.booleans()),
                "initial_utilization": draw(st.floats(0.2, 0.9)),
            },
            "real_money": {"count": draw(st.integers(1, 40)), "selling_in_risk_off_bn": draw(st.floats(0.0, 20.0))},
            "foreign_official": {"count": draw(st.integers(1, 8))},
            "levered_funds": {"count": draw(st.integers(1, 12)), "haircut_pct": draw(st.floats(1.0, 10.0))},
            "money_funds": {"count": draw(st.integers(1, 12)), "assets_bn": draw(st.floats(2500.0, 4500.0))},
            "banks": {"count": draw(st.integers(1, 20)), "reserves_bn": draw(st.floats(1800.0, 3500.0))},
            "central_bank": {
                "purchases": purchases,
                "srf": {
                    "enabled": draw(st.booleans()),
                    "daily_limit_bn": draw(st.floats(0.0, 500.0)),
                    "centrally_cleared": draw(st.booleans()),
                },
                "securities_lending": draw(st.booleans()),
                "reinvest_maturities": draw(st.booleans()),
            },
            "treasury": {
                "buybacks_bn_per_month": draw(st.sampled_from([0.0, 30.0])),
                "tax_date_receipts_bn": draw(st.floats(0.0, 300.0)),
            },
            "settlement": {"fails_charge": draw(st.booleans()), "client_short_share": draw(st.floats(0.0, 0.2))},
            "market_structure": {
                "central_clearing_cash": draw(st.booleans()),
                "central_clearing_repo": draw(st.booleans()),
                "all_to_all_share": draw(st.floats(0.0, 1.0)),
            },
            "loop": {
                name: draw(st.booleans())
                for name in (
                    "takedown_raises_utilization",
                    "utilization_drives_quotes",
                    "liquidity_drives_auction_demand",
                    "tails_drive_concession",
                    "inventory_premium",
                    "dealer_memory",
                )
            },
            "shocks": draw(st.lists(shocks(), max_size=3)),
        }
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), seed=st.integers(0, 2**31 - 1))
def test_books_balance_every_day_in_random_scenarios(scenario, seed):
    model = run_checked(scenario, seed=seed)
    tables = model.results()
    for name, table in tables.items():
        numeric = table.select_dtypes(include=[np.number])
        assert np.isfinite(numeric.to_numpy(dtype=float)).all(), f"non-finite value in the {name} table"


def test_a_default_year_balances_every_day():
    model = run_checked(make_scenario({"end_date": dt.date(2025, 12, 31)}), seed=7)
    daily = model.results()["daily"]
    assert len(daily) == 250  # 2025 has 250 US business days
    # Reserves are what the central bank owes beyond the TGA, ON RRP, currency and its capital.
    led = model.ledger
    identity = led.soma_par_bn() + led.cb_other_assets_bn + led.srf_bn.sum() + led.discount_window_bn.sum()
    identity -= led.tga_bn + led.on_rrp_bn.sum() + led.currency_bn + led.cb_capital_bn
    assert abs(identity - daily.reserves_bn.iloc[-1]) < 1e-9 * identity
