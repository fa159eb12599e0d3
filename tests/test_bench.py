"""The model benchmark measures without changing the model: phases add up, wrappers come off."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import sim.model as model_module
from sim.scenario import Scenario

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import bench_model  # noqa: E402


def test_phase_table_covers_the_day_and_leaves_the_model_as_it_was():
    before = {name: getattr(model_module, name) for name in bench_model.PHASE_FUNCTIONS}
    scenario = Scenario().model_copy(update={"end_date": dt.date(2025, 1, 17), "warmup_business_days": 0})
    phases, days, agents = bench_model.phase_table(scenario)
    assert days == 12 and agents > 100
    assert {"repo_day", "auction_day", "secondary_day", "settlement_day", "recording", "other"} <= set(phases)
    assert all(seconds >= 0 for seconds in phases.values())
    assert {name: getattr(model_module, name) for name in bench_model.PHASE_FUNCTIONS} == before


def test_mesa_floor_steps_its_agents():
    floor = bench_model._FloorModel(10)
    floor.step()
    assert len(floor.datacollector.get_model_vars_dataframe()) == 1
    assert bench_model.mesa_floor_ms(10, steps=20) > 0
