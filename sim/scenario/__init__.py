"""Scenarios: the schema of every model parameter and the YAML loader."""

from sim.scenario.loader import Problem, ScenarioError, load_scenario, scenario_from_dict, scenario_to_yaml
from sim.scenario.schema import BILL_TENORS, COUPON_TENORS, TENORS, Scenario

__all__ = [
    "BILL_TENORS",
    "COUPON_TENORS",
    "TENORS",
    "Problem",
    "Scenario",
    "ScenarioError",
    "load_scenario",
    "scenario_from_dict",
    "scenario_to_yaml",
]
