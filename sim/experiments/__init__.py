"""Policy experiments: a reference market against its variants over common seeds, with paired findings.

design: what an experiment runs and compares (scenarios, seeds, scoring ensembles).
runner: the experiment file, running every (scenario, seed) on local processes or a Dask
cluster with resumable per-run files, and the paired-difference findings table.
matrix: the stress-test matrix (each fix under each stress, against a calm window).
sweep: one scenario key set to each of a list of values, one variant each.
series: the compact time series kept of each run; figures: the experiment figures;
reserve_curve: the reserve demand curve (rates over IORB against reserves, model and real).
Imports go one way: runner -> matrix, sweep, reserve_curve -> design.
"""

from __future__ import annotations

from sim.experiments.design import Experiment, ExperimentError
from sim.experiments.runner import (
    FINDING_METRICS,
    ExperimentSpec,
    Findings,
    compute_findings,
    load_any,
    load_experiment,
    paired_difference,
    run_experiment,
    simulate_run,
)

__all__ = [
    "FINDING_METRICS",
    "Experiment",
    "ExperimentError",
    "ExperimentSpec",
    "Findings",
    "compute_findings",
    "load_any",
    "load_experiment",
    "paired_difference",
    "run_experiment",
    "simulate_run",
]
