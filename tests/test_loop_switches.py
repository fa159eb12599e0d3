"""The loop's arrows switched off: each input follows its calm twin's path (`sim.loop`).

- Without shocks, switching arrows off changes nothing: the twin is the run itself.
- With shocks, an arrow switched off carries the calm twin's input, not the stressed one.
- In the dash for cash and in auction indigestion each arrow carries a material share of the
  stress's effect on at least one dashboard metric, beyond seed noise (8 seeds, paired).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.experiments.loop_shares import YIELD_10Y, beyond_noise, decompose_seeds, share_table
from sim.loop import ARROW_INPUTS, CalmPath, arrows_off
from sim.model import calm_path_for
from sim.scenario.schema import LoopSwitches
from tests.conftest import ALL_LOOP_ARROWS_OFF, make_scenario, run

SHORT = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 3, 14)}
STRESS = {
    "shocks": [
        {"kind": "volatility_jump", "date": dt.date(2025, 2, 3), "days": 15, "multiplier": 4.0},
        {"kind": "end_demand_shortfall", "date": dt.date(2025, 2, 10), "days": 5, "share": 0.5},
    ]
}


def test_the_arrows_are_the_loop_switches() -> None:
    assert set(ARROW_INPUTS) == set(LoopSwitches.model_fields)
    assert arrows_off(LoopSwitches()) == []
    assert set(arrows_off(make_scenario(ALL_LOOP_ARROWS_OFF).loop)) == set(ARROW_INPUTS)


def test_an_unknown_arrow_is_named() -> None:
    with pytest.raises(KeyError, match="no_such_arrow"):
        CalmPath(LoopSwitches()).follow("no_such_arrow", 1.0)


def test_without_shocks_switching_arrows_off_changes_nothing() -> None:
    on = run(make_scenario(SHORT), 1)
    off = run(make_scenario(SHORT, ALL_LOOP_ARROWS_OFF), 1)
    for name, table in on.items():
        numeric = table.select_dtypes(include=[np.number]).columns
        assert np.array_equal(table[numeric].to_numpy(), off[name][numeric].to_numpy(), equal_nan=True), name


# Each arrow and the state it carries, read after a day.
CARRIED = {
    "utilization_drives_quotes": lambda m: m.dealers.quoted_utilization,
    "dealer_memory": lambda m: m.dealers.appetite,
    "funding_cost_drives_dealers": lambda m: m.dealers.funding_premium_bp,
    "inventory_premium": lambda m: np.array([m.prices.premium_risk_use]),
}


@pytest.mark.parametrize("arrow", sorted(CARRIED))
def test_an_arrow_switched_off_carries_the_calm_twins_input(arrow: str) -> None:
    scenario = make_scenario(SHORT, STRESS, {"loop": {arrow: False}})
    calm = TreasuryMarketModel(make_scenario(SHORT), seed=2)
    stressed_off = TreasuryMarketModel(scenario, seed=2)
    stressed_on = TreasuryMarketModel(make_scenario(SHORT, STRESS), seed=2)
    moved = False
    while calm.running:
        for model in (calm, stressed_off, stressed_on):
            model.step()
        np.testing.assert_array_equal(CARRIED[arrow](stressed_off), CARRIED[arrow](calm))
        moved = moved or not np.array_equal(CARRIED[arrow](stressed_on), CARRIED[arrow](calm))
    assert moved, f"the stress never moved what {arrow} carries, so the test shows nothing"


def test_the_calm_twin_keeps_purchases_and_drops_shocks() -> None:
    qe = {"central_bank": {"purchases": [{"bn_per_month": 40}]}}
    scenario = make_scenario(SHORT, STRESS, qe, {"loop": {"dealer_memory": False}})
    path = calm_path_for(scenario, seed=1)
    twin = make_scenario(SHORT, qe)
    calm = TreasuryMarketModel(twin, seed=1).run()
    last = max(day for (arrow, day, *_) in path.paths if arrow == "dealer_memory")
    np.testing.assert_array_equal(path.paths[("dealer_memory", last)], calm.dealers.appetite)


# ------------------------------------------------------------------ what each arrow carries
DECOMPOSITION_SEEDS = list(range(1, 9))


@pytest.fixture(scope="module", params=["scenarios/dash_for_cash.yaml", "scenarios/auction_indigestion.yaml"])
def decomposition(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]], pd.DataFrame]:
    runs = decompose_seeds(request.param, DECOMPOSITION_SEEDS)
    return request.param, runs, share_table(runs)


# Arrows whose share of every dashboard metric's response stays under a tenth (results/README.md,
# section 6, reports the shares). The duration premium works on yield levels, which the
# dashboard does not score (its own test below checks it there). In auction indigestion dealers
# distribute what they take down within days: their repo need, which sets their funding
# premium, hardly moves. In the dash for cash dealers' funding premium moves by -0.33bp on average
# over these seeds (lower on 7 of 8; 1.08bp at an earlier fit, where it carried a fifth of the
# mean tail), and where its share of a response is beyond seed noise it is under a tenth (7% of
# the 2-7 year auctions' high-minus-median, 2% of depth).
MINOR_ARROWS = {
    "scenarios/dash_for_cash.yaml": {"inventory_premium", "funding_cost_drives_dealers"},
    "scenarios/auction_indigestion.yaml": {"inventory_premium", "funding_cost_drives_dealers"},
}


@pytest.mark.slow
def test_each_arrow_carries_a_material_share_of_the_stress(
    decomposition: tuple[str, list[dict[str, Any]], pd.DataFrame],
) -> None:
    """Share of arrow a in metric M: (stressed - stressed with a off) / (stressed - calm), from
    the means over 8 seeds, for every dashboard metric of the period. Material: at least 10% of
    the response (either sign: an arrow can also damp a response), with the paired difference and
    the response each more than two standard errors from zero.

    An arrow may carry nothing only if the stress leaves its input within seed noise (then there
    is nothing for it to carry; checked, not assumed) or it is one of the stress's named minor
    arrows."""
    path, runs, table = decomposition
    material = table[table.significant & (table.share.abs() >= 0.1) & (table.metric != YIELD_10Y)]
    missing = []
    for arrow in ARROW_INPUTS:
        input_moved = np.array([r["input_moved"][arrow] for r in runs])
        carried = arrow in set(material.arrow)
        if not carried and beyond_noise(input_moved) and arrow not in MINOR_ARROWS[path]:
            missing.append(arrow)
    assert not missing, f"{path}: the stress moves these arrows' inputs but they carry none of its effects: {missing}"


@pytest.mark.slow
def test_in_the_dash_for_cash_every_arrow_carries_part_of_the_stress(
    decomposition: tuple[str, list[dict[str, Any]], pd.DataFrame],
) -> None:
    path, runs, _ = decomposition
    if "dash_for_cash" not in path:
        pytest.skip("the dash for cash moves every arrow's input; other stresses need not")
    for arrow in ARROW_INPUTS:
        input_moved = np.array([r["input_moved"][arrow] for r in runs])
        assert beyond_noise(input_moved), f"the dash for cash does not move what {arrow} carries"


@pytest.mark.slow
def test_the_duration_premium_carries_part_of_the_stress_into_yields(
    decomposition: tuple[str, list[dict[str, Any]], pd.DataFrame],
) -> None:
    path, runs, _ = decomposition
    if "dash_for_cash" not in path:
        pytest.skip("the dash for cash is where dealers' risk use, and so the premium, rises")
    through = np.array([r["stressed"][YIELD_10Y] - r["inventory_premium"][YIELD_10Y] for r in runs])
    assert through.mean() > 0 and beyond_noise(through), f"10-year yield carried: {through}"
