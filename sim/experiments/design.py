"""An experiment's design: which scenarios run with which seeds, what is compared with what.

Shared by the plain experiment (`runner`) and the stress-test matrix (`matrix`): both load
their file into an `Experiment`, whose runs are scored and paired by the same findings code,
and both write those findings with the same number formats.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
from pydantic import AfterValidator

from sim.scenario import ScenarioError
from sim.scenario.loader import read_mapping_file

# Indices from scoring each run's dashboard against an ensemble of runs (its scoring reference).
STRESS_INDEX, THROUGHPUT_INDEX = "stress_index", "throughput_index"
# Labels name run files and results folders: letters, digits, '_', '.' or '-'.
LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class ExperimentError(ScenarioError):
    """An experiment file (or a scenario it names) could not be loaded; `problems` locates each."""


# ---------------------------------------------------------------- the file
def _distinct_seeds(value: list[int]) -> list[int]:
    if not value:
        raise ValueError("at least one seed")
    if len(set(value)) != len(value) or min(value) < 0:
        raise ValueError("distinct non-negative seeds")
    return value


# Seeds of an experiment or a matrix: at least one, distinct, non-negative.
Seeds = Annotated[list[int], AfterValidator(_distinct_seeds)]


def read_experiment_yaml(path: Path) -> dict[str, Any]:
    """The top-level mapping of an experiment or matrix file.

    Raises:
        ExperimentError: no such file (or not a regular file), invalid YAML or past the reader's
            limits (see `sim.scenario.yamlfile`), an empty file, or a top level that is not a mapping.
    """
    try:
        return read_mapping_file(path, "an existing experiment file")
    except ScenarioError as err:
        raise ExperimentError(err.problems) from None


# ---------------------------------------------------------------- the runs
@dataclass(frozen=True)
class RunTask:
    """One scenario and one seed to simulate.

    Attributes:
        label: `reference` or the variant label.
        seed: the model's seed.
        scenario: the fully resolved scenario (JSON-ready), horizon overrides applied.
        fingerprint: SHA-256 of `scenario`, to tell a saved run of the same scenario.
    """

    label: str
    seed: int
    scenario: dict[str, Any]
    fingerprint: str

    @property
    def file_name(self) -> str:
        """The run's file name inside `runs/`."""
        return f"{self.label}-seed{self.seed}.json"

    @property
    def market_key(self) -> tuple[str, int]:
        """What the simulation depends on: the scenario without its name and description, and the seed."""
        market = {k: v for k, v in self.scenario.items() if k not in ("name", "description")}
        return hashlib.sha256(json.dumps(market, sort_keys=True).encode()).hexdigest(), self.seed


@dataclass(frozen=True)
class Experiment:
    """A validated experiment: every labelled scenario, what is compared with what, and how scored.

    Attributes:
        path: the experiment file.
        name: the experiment's name (its results folder).
        description: one line on what it asks.
        seeds: the seeds every scenario runs with.
        scenarios: label -> fully resolved scenario (JSON-ready), in file order.
        comparisons: (variant label, reference label) pairs the findings report.
        scored_against: label -> label of the ensemble its runs' indices are scored against.
        kind: "experiment" or "stress_matrix".
        swept: label -> the value a sweep set (sweep variants only; see `sim.experiments.sweep`).
        sweep_key: the scenario key the sweep sets ("" without a sweep).
        figures: the extra figures the file asks for (e.g. "reserve_demand_curve").
        parameter_sets: set name -> {dotted scenario key: value}, best first: every scenario runs
            once per set (see `sim.experiments.uncertainty`); empty runs the scenarios as written.
        parameter_sets_file: the file the sets come from ("" without sets).
    """

    path: Path
    name: str
    description: str
    seeds: list[int]
    scenarios: dict[str, dict[str, Any]]
    comparisons: list[tuple[str, str]]
    scored_against: dict[str, str]
    kind: str = "experiment"
    swept: dict[str, Any] = field(default_factory=dict)
    sweep_key: str = ""
    figures: tuple[str, ...] = ()
    parameter_sets: dict[str, dict[str, float]] = field(default_factory=dict)
    parameter_sets_file: str = ""

    @property
    def labels(self) -> list[str]:
        """Every label, in file order (`reference` first in a plain experiment)."""
        return list(self.scenarios)

    def tasks(self) -> list[RunTask]:
        """Every (label, seed) run, in label order; with parameter sets, every (set, label, seed)
        run labelled `<set>.<label>`, the set's values written over the scenario."""
        from sim.calibration.msm import apply_parameters

        runs = {label: scenario for label, scenario in self.scenarios.items()}
        if self.parameter_sets:
            runs = {
                f"{name}.{label}": apply_parameters(scenario, values)
                for name, values in self.parameter_sets.items()
                for label, scenario in self.scenarios.items()
            }
        out: list[RunTask] = []
        for label, scenario in runs.items():
            fingerprint = hashlib.sha256(json.dumps(scenario, sort_keys=True).encode()).hexdigest()
            out.extend(RunTask(label, seed, scenario, fingerprint) for seed in self.seeds)
        return out


# ---------------------------------------------------------------- findings as text
def format_interval(low: float, high: float) -> str:
    """A confidence interval as text, "n/a" when it is not defined."""
    return "n/a" if pd.isna(low) else f"[{format_number(low)}, {format_number(high)}]"


def format_number(value: float) -> str:
    """A finding for a table: four significant digits, "n/a" when missing."""
    if pd.isna(value):
        return "n/a"
    # Scores of a run against its own ensemble come out as float dust around zero.
    return f"{0.0 if abs(value) < 1e-9 else value:,.4g}"
