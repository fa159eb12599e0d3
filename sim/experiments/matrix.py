"""The stress-test matrix: each fix proposal under each stress scenario, scored by the dashboard.

A matrix file names a calm baseline, stress scenarios and fix scenarios. A fix scenario is
written as the baseline plus the fix (it `extends:` the baseline, directly or through other
files); the fix is what those files set on the way (names, dates and warm-up excluded). So
`fix_slr_exempt_treasuries.yaml` - the baseline with Treasuries out of the SLR - applied to
the auction-indigestion stress is that stress with Treasuries out of the SLR, and a fix
that sets `srf: {enabled: true}` switches the facility on even in a stress that switched
it off. Shocks a fix sets join the stress's shocks.

For each stress the matrix runs three kinds of scenario over the same seeds:
- `<stress>.calm`: the baseline over the stress's dates (what the market would be without it);
- `<stress>`: the stress alone;
- `<stress>.<fix>`: the stress with the fix.
Each fix is compared with the stress alone (paired by seed), each stress with its calm
window; every run of a stress's group is scored against the calm runs, so the indices
read as "how far from a calm market". Where the stress does measurable damage to a metric
(its interval excludes zero on the metric's bad side, and the harm exceeds the calm runs'
spread across seeds), a fix's difference is also given as the share of that damage it
undoes (1 = back to calm).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from sim.dashboard.metrics import METRIC_SPECS
from sim.experiments.design import (
    STRESS_INDEX,
    THROUGHPUT_INDEX,
    Experiment,
    ExperimentError,
    Seeds,
    format_interval,
    format_number,
    read_experiment_yaml,
)
from sim.scenario import Problem, ScenarioError, load_scenario, scenario_from_dict
from sim.scenario.loader import deep_merge, problems_from, read_yaml_mapping
from sim.scenario.yamlfile import absolute_path

CALM, NONE = "calm", "none"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
# Keys that set the horizon or name a scenario, not the market: never part of a fix.
HORIZON_KEYS = ("name", "description", "start_date", "end_date", "warmup_business_days")
# The metrics the Markdown report tabulates, in this order (all are in matrix.csv).
REPORTED_METRICS = (
    THROUGHPUT_INDEX, STRESS_INDEX, "tail_mean_bp", "tail_p90_bp", "repo_dispersion_mean_bp", "repo_spike_days",
    "fails_weekly_mean_bn", "bid_ask_mean_bp", "dealer_utilization_mean", "reserves_mean_bn", "soma_mean_bn",
    "srf_usage_mean_bn",
)  # fmt: skip
MATRIX_COLUMNS = [
    "stress", "fix", "metric", "calm_mean", "stressed_mean", "fixed_mean", "difference", "ci_low", "ci_high", "n",
    "share_of_damage_undone",
]  # fmt: skip


class StressMatrixSpec(BaseModel):
    """The matrix file as written: scenario paths are relative to the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Matrix name; also the name of its results folder.", pattern=_NAME)
    description: str = Field("", description="One line on what the matrix asks.")
    baseline: str = Field(description="Scenario file of the calm market the fixes are defined against.")
    stresses: dict[str, str] = Field(description="Stress label -> scenario file.")
    fixes: dict[str, str] = Field(description="Fix label -> scenario file (the baseline with the fix).")
    seeds: Seeds = Field(description="Seeds every scenario runs with (common random numbers).")

    @field_validator("stresses", "fixes")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("at least one entry")
        for label in value:
            if not re.match(_NAME, label) or label in (CALM, NONE):
                raise ValueError(f"labels of letters, digits, '_' or '-' (not {CALM!r} or {NONE!r}); found {label!r}")
        return value


# ---------------------------------------------------------------- fixes as changes
def fix_fragment(fix_path: Path, baseline_path: Path) -> dict[str, Any]:
    """The keys a fix scenario sets on its way from the baseline (raw YAML, merged in order).

    Raises:
        ScenarioError: a file cannot be read, or the `extends:` chain never reaches the baseline.
    """
    target = absolute_path(baseline_path)
    path = absolute_path(fix_path)
    chain: list[Path] = []
    fragments: list[dict[str, Any]] = []
    while path != target:
        data = read_yaml_mapping(path, tuple(chain))
        parent = data.pop("extends", None)
        fragments.append(data)
        chain.append(path)
        if not isinstance(parent, str) or absolute_path(path.parent / parent) in chain:
            found = f"{path} extends nothing" if parent is None else f"{path} extends {parent!r}"
            raise ScenarioError([Problem(str(fix_path), "extends", f"a chain of files that reaches {target}", found)])
        path = absolute_path(path.parent / parent)
    merged: dict[str, Any] = {}
    for fragment in reversed(fragments):
        merged = deep_merge(merged, fragment)
    return {key: value for key, value in merged.items() if key not in HORIZON_KEYS}


def apply_fix(stress: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """The stress scenario with a fix's changes set on top; a fix's shocks join the stress's."""
    merged = deep_merge(stress, {k: v for k, v in changes.items() if k != "shocks"})
    if "shocks" in changes:
        added = [shock for shock in changes["shocks"] if shock not in stress.get("shocks", [])]
        merged["shocks"] = [*stress.get("shocks", []), *added]
    return merged


# ---------------------------------------------------------------- loading
def _load(path: Path, key: str, file: str, problems: list[Problem]) -> dict[str, Any] | None:
    scenario_path = path.parent / file
    if not scenario_path.is_file():
        problems.append(Problem(str(path), key, "an existing scenario file", f"no file at {scenario_path}"))
        return None
    try:
        return load_scenario(scenario_path).model_dump(mode="json")
    except ScenarioError as err:
        problems.extend(Problem(p.file, f"{key} -> {p.key_path}", p.expected, p.found) for p in err.problems)
        return None


def load_matrix(path: str | Path) -> Experiment:
    """Read and validate a stress-test matrix file and build every scenario it implies.

    Returns:
        An Experiment of kind "stress_matrix" whose labels are `<stress>.calm`, `<stress>`
        and `<stress>.<fix>` for each stress and fix.

    Raises:
        ExperimentError: every problem with its file and key path: the matrix file's keys, a
            scenario file that is missing or invalid, a fix that does not extend the baseline or
            sets nothing on top of it, or a stress-with-fix combination that is not a valid scenario.
    """
    path = absolute_path(path)
    data = read_experiment_yaml(path)
    try:
        spec = StressMatrixSpec.model_validate(data)
    except ValidationError as err:
        raise ExperimentError(problems_from(err, {}, str(path))) from None
    problems: list[Problem] = []
    baseline = _load(path, "baseline", spec.baseline, problems)
    stresses = {label: _load(path, f"stresses.{label}", file, problems) for label, file in spec.stresses.items()}
    fixes = {label: _load(path, f"fixes.{label}", file, problems) for label, file in spec.fixes.items()}
    changes: dict[str, dict[str, Any]] = {}
    fix_descriptions: dict[str, str] = {}
    for label, fix in fixes.items():
        if fix is None:
            continue
        fix_descriptions[label] = fix["description"]
        try:
            changes[label] = fix_fragment(path.parent / spec.fixes[label], path.parent / spec.baseline)
        except ScenarioError as err:
            problems.extend(
                Problem(p.file, f"fixes.{label} -> {p.key_path}", p.expected, p.found) for p in err.problems
            )
            continue
        if not changes[label]:
            problems.append(Problem(str(path), f"fixes.{label}", "a scenario that sets something on top of the "
                                    "baseline", "no market keys set"))  # fmt: skip
    if problems or baseline is None:
        raise ExperimentError(problems)
    scenarios: dict[str, dict[str, Any]] = {}
    comparisons: list[tuple[str, str]] = []
    for stress_label, stress in stresses.items():
        if stress is None:
            continue
        calm = {**baseline, **{k: stress[k] for k in HORIZON_KEYS if k != "description"}}
        calm["name"] = f"{baseline['name']} ({stress_label} window)"
        scenarios[f"{stress_label}.{CALM}"] = calm
        scenarios[stress_label] = stress
        comparisons.append((stress_label, f"{stress_label}.{CALM}"))
        for fix_label, change in changes.items():
            combined = apply_fix(stress, change)
            combined["name"] = f"{stress['name']}+{fix_label}"
            combined["description"] = f"{stress['description']} With {fix_label}: {fix_descriptions[fix_label]}"
            try:
                combined = scenario_from_dict(combined).model_dump(mode="json")
            except ScenarioError as err:
                key = f"fixes.{fix_label} (under stresses.{stress_label})"
                problems.extend(Problem(str(path), f"{key} -> {p.key_path}", p.expected, p.found) for p in err.problems)
                continue
            scenarios[f"{stress_label}.{fix_label}"] = combined
            comparisons.append((f"{stress_label}.{fix_label}", stress_label))
    if problems:
        raise ExperimentError(problems)
    scored_against = {label: f"{label.split('.')[0]}.{CALM}" for label in scenarios}
    return Experiment(path, spec.name, spec.description, list(spec.seeds), scenarios, comparisons, scored_against,
                      kind="stress_matrix")  # fmt: skip


def stress_groups(experiment: Experiment) -> dict[str, dict[str, str]]:
    """Stress -> {label: short name} of its runs: `calm`, `stressed`, then each fix."""
    groups: dict[str, dict[str, str]] = {}
    for label in experiment.labels:
        stress, _, fix = label.partition(".")
        groups.setdefault(stress, {})[label] = fix or "stressed"
    return {stress: dict(sorted(names.items(), key=lambda kv: (kv[1] != CALM, kv[1] != "stressed"))) for stress, names
            in groups.items()}  # fmt: skip


# ---------------------------------------------------------------- the matrix table
def _harm_sign(metric: str) -> int:
    """+1 when a higher value is worse, -1 when lower is worse, 0 when neither (reserves, costs)."""
    if metric in (THROUGHPUT_INDEX, STRESS_INDEX):
        return 1
    spec = METRIC_SPECS.get(metric)
    return spec.sign if spec is not None else 0


def matrix_table(experiment: Experiment, runs: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """The findings arranged by stress and fix.

    One row per stress, fix and metric: the calm, stressed and stressed-with-fix means over
    the seeds, the fix's mean paired difference against the stress alone with its 95%
    interval and n, and the share of the stress's damage the fix undoes (NaN unless the
    stress materially harms the metric: its interval against calm excludes zero on the
    metric's bad side and the harm exceeds the standard deviation of the calm runs across
    seeds; metrics with no good side, such as reserves, get none). Rows with
    fix `none` are the stress itself against its calm window (fixed_mean NaN; the
    difference is the damage).
    """
    means = runs.groupby("variant", sort=False).mean(numeric_only=True)
    noise = runs.groupby("variant", sort=False).std(numeric_only=True, ddof=1)
    damage = {(row.variant, row.metric): row for row in table.itertuples(index=False) if "." not in row.variant}
    rows = []
    for row in table.itertuples(index=False):
        stress, _, fix = row.variant.partition(".")
        calm_mean = float(means.at[f"{stress}.{CALM}", row.metric])
        if not fix:
            rows.append({"stress": stress, "fix": NONE, "metric": row.metric, "calm_mean": calm_mean,
                         "stressed_mean": row.variant_mean, "fixed_mean": np.nan, "difference": row.difference,
                         "ci_low": row.ci_low, "ci_high": row.ci_high, "n": row.n,
                         "share_of_damage_undone": np.nan})  # fmt: skip
            continue
        hurt = damage[stress, row.metric]
        # A share only of material harm: the stress's interval excludes zero on the metric's bad
        # side and the harm exceeds the calm market's own spread across seeds.
        worse = _harm_sign(row.metric)
        calm_noise = noise.at[f"{stress}.{CALM}", row.metric]
        harmed = (
            not pd.isna(hurt.ci_low)
            and worse != 0
            and (hurt.ci_low > 0 if worse > 0 else hurt.ci_high < 0)
            and abs(hurt.difference) > (0.0 if pd.isna(calm_noise) else calm_noise)
        )
        share = -row.difference / hurt.difference if harmed else np.nan
        rows.append({"stress": stress, "fix": fix, "metric": row.metric, "calm_mean": calm_mean,
                     "stressed_mean": row.reference_mean, "fixed_mean": row.variant_mean,
                     "difference": row.difference, "ci_low": row.ci_low, "ci_high": row.ci_high, "n": row.n,
                     "share_of_damage_undone": share})  # fmt: skip
    return pd.DataFrame(rows, columns=MATRIX_COLUMNS).astype({"n": "int64"})


def _cell(row: Any) -> str:
    text = f"{format_number(row.difference)} {format_interval(row.ci_low, row.ci_high)}"
    clear = not pd.isna(row.ci_low) and (row.ci_low > 0 or row.ci_high < 0)
    return f"**{text}**" if clear else text


def matrix_markdown(name: str, description: str, matrix: pd.DataFrame) -> str:
    """The matrix as Markdown: the stresses against calm, then one fix-by-stress table per metric."""
    stresses = list(dict.fromkeys(matrix["stress"]))
    fixes = [f for f in dict.fromkeys(matrix["fix"]) if f != NONE]
    lines = [f"# {name}", ""]
    if description:
        lines += [description, ""]
    lines += [
        "Each fix is applied to each stress scenario and compared, seed by seed, with the stress alone: "
        "the difference (stressed with fix minus stressed) and its 95% confidence interval from Student's t "
        "on the paired differences; **bold** where the interval excludes zero. Indices score every run "
        "against the calm baseline over the stress's dates (positive = more plumbing stress / less "
        "throughput than calm), so negative differences are improvements. `matrix.csv` has every metric, "
        "the calm / stressed / fixed means and the share of the stress's damage each fix undoes.",
        "",
        "## The stresses against a calm market",
        "",
        "| metric | " + " | ".join(stresses) + " |",
        "|---|" + "---|" * len(stresses),
    ]
    indexed = matrix.set_index(["stress", "fix", "metric"])
    for metric in REPORTED_METRICS:
        cells = []
        for stress in stresses:
            row = indexed.loc[(stress, NONE, metric)]
            cells.append(f"{format_number(row.calm_mean)} -> {format_number(row.stressed_mean)}")
        lines.append(f"| {metric} | " + " | ".join(cells) + " |")
    for metric in REPORTED_METRICS:
        lines += ["", f"## {metric}: change with each fix", "", "| fix | " + " | ".join(stresses) + " |",
                  "|---|" + "---|" * len(stresses)]  # fmt: skip
        for fix in fixes:
            cells = []
            for stress in stresses:
                key = (stress, fix, metric)
                cells.append(_cell(indexed.loc[key]) if key in indexed.index else "n/a")
            lines.append(f"| {fix} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
