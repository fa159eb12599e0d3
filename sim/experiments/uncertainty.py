"""Findings that carry the fit's parameter uncertainty: every near-optimal parameter set x every seed.

An experiment file with `parameter_sets: <file>` (a near-optimal file written by `plumbing
near-optimal`, see `sim.calibration.near_optimal`) runs its reference and variants once per
parameter set and seed, each set's values written over every scenario. Per comparison and
metric the paired differences d[p, s] (set p, seed s, variant minus reference) form a crossed
layout: the seeds are common to every set, so a seed's luck is shared across sets. Its mean is
the finding, and its confidence interval treats both sets and seeds as random draws (two-way
random effects without replication):

    var(mean) = (sigma_set^2 * S + sigma_seed^2 * P + sigma_e^2) / (P * S)
              = (max(MS_set - MS_e, 0) + max(MS_seed - MS_e, 0) + MS_e) / (P * S),

with MS_set, MS_seed and MS_e the ANOVA mean squares of sets, seeds and residual; its degrees of
freedom come from Satterthwaite's approximation. Beside it the table gives the best set's own
seed-only interval (what the experiment reports without `parameter_sets:`) and the range of the
sets' mean differences, so a reader sees how much of the uncertainty is the parameters'.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field
from scipy import stats

from sim.scenario.loader import validated_file

if TYPE_CHECKING:
    from sim.experiments.design import Experiment
    from sim.experiments.runner import Findings, RunRecord

CONFIDENCE = 0.95
EXTRA_COLUMNS = ["parameter_sets", "set_min", "set_max", "best_set_difference", "best_set_ci_low", "best_set_ci_high"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSet(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]+$", description="Name of the set (run labels).")
    fit_loss: float | None = Field(default=None, description="Its loss in the fit's search.")
    fresh_loss: float | None = Field(default=None, description="Its loss on fresh seeds.")
    parameters: dict[str, float] = Field(min_length=1, description="Dotted scenario key -> value.")


class RejectedSet(_Strict):
    name: str
    fit_loss: float | None = None
    fresh_loss: float | None = None


class ParameterSetsFile(_Strict):
    """A near-optimal file: the sets, best first."""

    fit: str = Field(description="The fit the sets come from.")
    loss_noise_sd: float | None = Field(default=None, description="Noise sd of one evaluation's loss.")
    margin: float | None = Field(default=None, description="How far above the lowest fresh loss a kept set may score.")
    sets: list[ParameterSet] = Field(min_length=1, description="The near-optimal sets, best first.")
    rejected: list[RejectedSet] = Field(default=[], description="Candidates beyond the margin.")


def load_parameter_sets(path: Path) -> dict[str, dict[str, float]]:
    """Set name -> {dotted key: value}, best first.

    Raises:
        ScenarioError: no such file, invalid YAML, or a layout other than a near-optimal file's;
            two sets with one name.
    """
    from sim.scenario import Problem, ScenarioError

    spec = validated_file(path, ParameterSetsFile, "an existing parameter-sets file (plumbing near-optimal)")
    names = [s.name for s in spec.sets]
    if len(set(names)) < len(names):
        raise ScenarioError([Problem(str(path), "sets", "distinct set names", str(names))])
    return {s.name: dict(s.parameters) for s in spec.sets}


def crossed_interval(differences: np.ndarray, confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean of a sets x seeds table of paired differences with its two-way random-effects interval.

    Args:
        differences: P x S (parameter sets x seeds), the metric's unit.

    Returns:
        difference (the grand mean), ci_low, ci_high (NaN when P * S < 2), set_min, set_max (the
        sets' own means over seeds).
    """
    d = np.asarray(differences, dtype=float)
    sets, seeds = d.shape
    grand = float(d.mean())
    set_means = d.mean(axis=1)
    out = {"difference": grand, "set_min": float(set_means.min()), "set_max": float(set_means.max()),
           "ci_low": math.nan, "ci_high": math.nan}  # fmt: skip
    if sets * seeds < 2:
        return out
    if sets == 1 or seeds == 1:
        # One way: the plain t interval over the only dimension that varies.
        flat = d.ravel()
        variance, dof = float(flat.var(ddof=1)) / len(flat), float(len(flat) - 1)
    else:
        seed_means = d.mean(axis=0)
        ms_set = seeds * float(((set_means - grand) ** 2).sum()) / (sets - 1)
        ms_seed = sets * float(((seed_means - grand) ** 2).sum()) / (seeds - 1)
        residual = d - set_means[:, None] - seed_means[None, :] + grand
        dof_e = (sets - 1) * (seeds - 1)
        ms_e = float((residual**2).sum()) / dof_e
        # A component enters only when its mean square exceeds the residual's (a variance is >= 0);
        # each entering component subtracts one residual mean square.
        entering = [(ms, dof) for ms, dof in ((ms_set, sets - 1), (ms_seed, seeds - 1)) if ms > ms_e]
        terms = [*((ms, dof, 1.0) for ms, dof in entering), (ms_e, dof_e, 1.0 - len(entering))]
        combined = sum(weight * ms for ms, _, weight in terms)
        variance = combined / (sets * seeds)
        # Satterthwaite: the degrees of freedom of a linear combination of mean squares.
        denominator = sum((weight * ms) ** 2 / dof for ms, dof, weight in terms)
        dof = combined**2 / denominator if denominator > 0 else math.inf
    if variance == 0.0:
        out["ci_low"] = out["ci_high"] = grand
        return out
    half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(variance)
    out["ci_low"], out["ci_high"] = grand - half, grand + half
    return out


def set_label(set_name: str, label: str) -> str:
    """The run label of a scenario label under one parameter set."""
    return f"{set_name}.{label}"


def one_set(experiment: Experiment, records: dict[tuple[str, int], RunRecord], set_name: str) -> tuple[
        Experiment, dict[tuple[str, int], RunRecord]]:  # fmt: skip
    """The experiment as it runs under one parameter set, with that set's run records."""
    sub = dataclasses.replace(experiment, parameter_sets={}, parameter_sets_file="")
    mine = {(label, seed): records[set_label(set_name, label), seed] for label in sub.labels for seed in sub.seeds}
    return sub, mine


def combined_findings(experiment: Experiment, records: dict[tuple[str, int], RunRecord]) -> Findings:
    """Per-set findings (each run scored against its own set's reference ensemble), then crossed."""
    from sim.experiments.runner import FINDING_COLUMNS, FINDING_METRICS, Findings, compute_findings

    per_set: dict[str, Findings] = {}
    for name in experiment.parameter_sets:
        sub, mine = one_set(experiment, records, name)
        per_set[name] = compute_findings(sub, mine)
    runs = pd.concat([f.runs.assign(parameter_set=name) for name, f in per_set.items()], ignore_index=True)
    best = next(iter(per_set.values())).table.set_index(["variant", "metric"])
    rows: list[dict[str, Any]] = []
    for variant, reference in experiment.comparisons:
        for metric in FINDING_METRICS:
            table = []
            for name in experiment.parameter_sets:
                frame = runs[runs.parameter_set == name].set_index(["variant", "seed"])[metric]
                table.append([_difference(frame, variant, reference, seed) for seed in experiment.seeds])
            d = np.array(table, dtype=float)
            # A metric a run could not produce drops that seed from every set, keeping the table crossed.
            d = d[:, ~np.isnan(d).any(axis=0)]
            ref_mean = _mean_of(runs, reference, metric)
            var_mean = _mean_of(runs, variant, metric)
            row = {"variant": variant, "reference": reference, "metric": metric, "reference_mean": ref_mean,
                   "variant_mean": var_mean, "n": int(d.size), "parameter_sets": int(d.shape[0])}  # fmt: skip
            row |= crossed_interval(d) if d.size else {"difference": math.nan, "ci_low": math.nan,
                                                          "ci_high": math.nan, "set_min": math.nan,
                                                          "set_max": math.nan}  # fmt: skip
            own = best.loc[(variant, metric)]
            row |= {"best_set_difference": own["difference"], "best_set_ci_low": own["ci_low"],
                    "best_set_ci_high": own["ci_high"]}  # fmt: skip
            rows.append(row)
    table = pd.DataFrame(rows, columns=FINDING_COLUMNS + EXTRA_COLUMNS).astype({"n": "int64"})
    return Findings(experiment.name, experiment.description, runs, table, experiment.kind,
                    parameter_sets=len(experiment.parameter_sets))  # fmt: skip


def _difference(frame: pd.Series, variant: str, reference: str, seed: int) -> float:
    v, r = frame.get((variant, seed)), frame.get((reference, seed))
    if v is None or r is None or pd.isna(v) or pd.isna(r):
        return math.nan
    return float(v) - float(r)


def _mean_of(runs: pd.DataFrame, label: str, metric: str) -> float:
    values = pd.to_numeric(runs.loc[runs.variant == label, metric], errors="coerce")
    return float(values.mean()) if values.notna().any() else math.nan
