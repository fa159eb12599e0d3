"""Policy experiments: a reference market and its variants, run over common seeds, compared in pairs.

An experiment file names a reference scenario (the market as it is), variants (the market
with a policy or a shock changed) and a list of seeds. Every scenario runs once per seed;
because the model draws everything from its one seed, variant and reference seeds share
their random numbers (common random numbers), so the paired difference variant(s) minus
reference(s) isolates the policy from the luck of the draw.

Runs execute on local processes (spawn context) or on a Dask cluster; each finished run is
saved at once as `<out>/<experiment>/runs/<label>-seed<N>.json` (written to a temporary file
and moved into place, so a file that exists is complete). A re-run skips every run whose
file exists and was made from the same resolved scenario (resume after an interruption).

Findings, per variant and metric, are the mean paired difference with a 95% confidence
interval from Student's t on the n paired differences d_s: mean(d) +/- t(0.975, n-1) *
sd(d) / sqrt(n), with sd the sample standard deviation (ddof=1). The interval is empty
(NaN) with fewer than two pairs and collapses to the mean when every pair differs alike.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import multiprocessing
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.dashboard import Dashboard, compute_dashboard, score
from sim.experiments.design import (
    LABEL,
    STRESS_INDEX,
    THROUGHPUT_INDEX,
    Experiment,
    ExperimentError,
    RunTask,
    Seeds,
    format_interval,
    format_number,
    read_experiment_yaml,
)
from sim.experiments.matrix import NONE as NONE_FIX
from sim.experiments.matrix import load_matrix, matrix_markdown, matrix_table, stress_groups
from sim.experiments.series import run_series, series_frames
from sim.experiments.sweep import SweepSpec, sweep_scenarios
from sim.files import write_atomic
from sim.scenario import Problem, ScenarioError, load_scenario, scenario_from_dict
from sim.scenario.loader import deep_merge, problems_from
from sim.scenario.yamlfile import absolute_path

REFERENCE_LABEL = "reference"
CONFIDENCE = 0.95
# The metrics reported, in this order; the two indices come from scoring each run's dashboard
# against the reference runs' dashboards taken as an ensemble.
FINDING_METRICS = (
    "reserves_mean_bn",
    THROUGHPUT_INDEX,
    STRESS_INDEX,
    "repo_median_minus_iorb_mean_bp",
    "repo_dispersion_mean_bp",
    "repo_spike_days",
    "tail_mean_bp",
    "tail_p90_bp",
    "dealer_share_mean",
    "fails_weekly_mean_bn",
    "bid_ask_mean_bp",
    "dealer_utilization_mean",
    "customer_volume_mean_bn",
    "soma_mean_bn",
    "srf_usage_mean_bn",
)
FINDING_COLUMNS = [
    "variant", "reference", "metric", "reference_mean", "variant_mean", "difference", "ci_low", "ci_high", "n",
]  # fmt: skip
# Saved runs of another record layout are run again rather than read.
RECORD_VERSION = 3
# Figures an experiment file may ask for beyond the standard ones (see `write_figures`).
ExtraFigure = Literal["reserve_demand_curve"]

RunRecord = dict[str, Any]
Simulate = Callable[[dict[str, Any], str, int], RunRecord]


# ---------------------------------------------------------------- the experiment file
class ExperimentSpec(BaseModel):
    """The experiment file as written: scenario paths are relative to the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Experiment name; also the name of its results folder.")
    description: str = Field("", description="One line on what the experiment asks.")
    reference: str = Field(description="Scenario file of the reference market (relative to this file).")
    variants: dict[str, str] = Field({}, description="Variant label -> scenario file (relative to this file).")
    sweep: SweepSpec | None = Field(None, description="One scenario key set to each of a list of values (variants).")
    seeds: Seeds = Field(description="Seeds every scenario runs with (common random numbers).")
    start_date: dt.date | None = Field(None, description="If set, overrides start_date of every scenario.")
    end_date: dt.date | None = Field(None, description="If set, overrides end_date of every scenario.")
    overrides: dict[str, Any] = Field(
        {},
        description="Scenario keys set in every scenario, reference and variants alike, as nested sections "
        "(e.g. a channel switched off, to see what the variants' effect owes to it).",
    )
    figures: list[ExtraFigure] = Field([], description="Extra figures to draw (reserve_demand_curve).")
    parameter_sets: str | None = Field(
        None,
        description="A near-optimal parameter-sets file (plumbing near-optimal), relative to this file: every "
        "scenario runs under each set, and the findings carry parameter as well as seed uncertainty.",
    )

    @field_validator("name")
    @classmethod
    def _name_is_a_folder(cls, value: str) -> str:
        if not LABEL.match(value):
            raise ValueError("a name of letters, digits, '_', '.' or '-'")
        return value

    @field_validator("variants")
    @classmethod
    def _labels_are_file_names(cls, value: dict[str, str]) -> dict[str, str]:
        for label in value:
            if not LABEL.match(label) or label == REFERENCE_LABEL:
                raise ValueError(f"labels of letters, digits, '_', '.' or '-', not {REFERENCE_LABEL!r}")
        return value

    @model_validator(mode="after")
    def _some_variant_and_dates_in_order(self) -> ExperimentSpec:
        if not self.variants and self.sweep is None:
            raise ValueError("at least one variant, in `variants:` or `sweep:`")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError(f"end_date on or after start_date ({self.start_date})")
        return self


def load_experiment(path: str | Path) -> Experiment:
    """Read and validate an experiment file and every scenario it names.

    Args:
        path: experiment YAML file.

    Raises:
        ExperimentError: every problem with its file and key: unknown or missing keys of the
            experiment file, a scenario file that does not exist (key `reference` or
            `variants.<label>`), any problem inside a named scenario, and a sweep's bad key
            path (`sweep.key`) or a value the schema refuses (`sweep.values[i] -> <key>`).
    """
    path = absolute_path(path)
    data = read_experiment_yaml(path)
    try:
        spec = ExperimentSpec.model_validate(data)
    except ValidationError as err:
        raise ExperimentError(problems_from(err, {}, str(path))) from None
    horizon = {key: getattr(spec, key) for key in ("start_date", "end_date") if getattr(spec, key) is not None}
    overrides = deep_merge(spec.overrides, horizon)
    named = {REFERENCE_LABEL: ("reference", spec.reference)}
    named |= {label: (f"variants.{label}", file) for label, file in spec.variants.items()}
    scenarios: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for label, (key, file) in named.items():
        scenario_path = path.parent / file
        if not scenario_path.is_file():
            problems.append(Problem(str(path), key, "an existing scenario file", f"no file at {scenario_path}"))
            continue
        try:
            scenarios[label] = load_scenario(scenario_path, overrides, str(path)).model_dump(mode="json")
        except ScenarioError as err:
            problems.extend(Problem(p.file, f"{key} -> {p.key_path}", p.expected, p.found) for p in err.problems)
    swept: dict[str, Any] = {}
    if spec.sweep is not None:
        # Without a valid reference only the key path is checked: the values have nothing to apply to.
        reference_file = path.parent / spec.reference if REFERENCE_LABEL in scenarios else None
        swept_scenarios, swept, sweep_problems = sweep_scenarios(path, spec.sweep, reference_file, overrides,
                                                                 set(scenarios))  # fmt: skip
        scenarios |= swept_scenarios
        problems.extend(sweep_problems)
    parameter_sets: dict[str, dict[str, float]] = {}
    sets_file = str(path.parent / spec.parameter_sets) if spec.parameter_sets else ""
    if spec.parameter_sets is not None:
        parameter_sets, set_problems = _parameter_sets(path, path.parent / spec.parameter_sets, scenarios)
        problems.extend(set_problems)
    if problems:
        raise ExperimentError(problems)
    comparisons = [(label, REFERENCE_LABEL) for label in scenarios if label != REFERENCE_LABEL]
    scored_against = dict.fromkeys(scenarios, REFERENCE_LABEL)
    return Experiment(path, spec.name, spec.description, list(spec.seeds), scenarios, comparisons, scored_against,
                      swept=swept, sweep_key=spec.sweep.key if spec.sweep else "", figures=tuple(spec.figures),
                      parameter_sets=parameter_sets, parameter_sets_file=sets_file)  # fmt: skip


def _parameter_sets(
    path: Path, file: Path, scenarios: dict[str, dict[str, Any]]
) -> tuple[dict[str, dict[str, float]], list[Problem]]:
    """The near-optimal sets of `file`, each checked against every scenario it is written over."""
    from sim.calibration.msm import apply_parameters
    from sim.experiments.uncertainty import load_parameter_sets

    if not file.is_file():
        return {}, [Problem(str(path), "parameter_sets", "an existing parameter-sets file", f"no file at {file}")]
    try:
        sets = load_parameter_sets(file)
    except ScenarioError as err:
        return {}, [Problem(p.file, f"parameter_sets -> {p.key_path}", p.expected, p.found) for p in err.problems]
    problems: list[Problem] = []
    for name, values in sets.items():
        for scenario in scenarios.values():
            try:
                scenario_from_dict(apply_parameters(scenario, values), source=str(file))
            except ScenarioError as err:
                problems.extend(Problem(str(file), f"sets[{name}] -> {p.key_path}", p.expected, p.found)
                                for p in err.problems)  # fmt: skip
                break
    return sets, problems


def load_any(path: str | Path) -> Experiment:
    """Load an experiment file, or a stress-test matrix file (one with `stresses:` and `fixes:`)."""
    data = read_experiment_yaml(absolute_path(path))
    if "stresses" in data or "fixes" in data:
        return load_matrix(path)
    return load_experiment(path)


# ---------------------------------------------------------------- one run
def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def simulate_run(scenario: dict[str, Any], label: str, seed: int, series: bool = True) -> RunRecord:
    """Simulate one scenario with one seed and return its dashboard record.

    Runs in a worker process (local or Dask): takes and returns plain JSON-ready data.

    Returns:
        `scenario` (name), `variant` (label), `seed`, `period` [first, last date] and
        `metrics` (dashboard metric name -> value in its unit, None when not available) and,
        with `series`, the daily, auction and weekly series the figures draw (see `run_series`).
    """
    # Imported here so a worker pays for the model only when it runs one.
    from sim import TreasuryMarketModel

    model_scenario = scenario_from_dict(scenario, source=f"{label} (seed {seed})")
    tables = TreasuryMarketModel(model_scenario, seed=seed).run().results()
    dashboard = compute_dashboard(tables, f"{label} seed {seed}")
    record = {
        "scenario": model_scenario.name,
        "variant": label,
        "seed": seed,
        "period": list(dashboard.period),
        "metrics": {name: _finite(value) for name, value in dashboard.metrics.items()},
    }
    return record | {"series": run_series(tables)} if series else record


def _write_json_atomic(path: Path, data: Any) -> None:
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _saved_record(path: Path, task: RunTask, notify: Callable[[str], None] | None = None) -> RunRecord | None:
    """The saved run for this task, or None if absent, made from another scenario, or corrupt.

    A file that exists but cannot be a record of this layout (not JSON, not an object, no
    `metrics` mapping, a `period` or `series` of the wrong type) is run again, with a warning
    through `notify`; a record of another scenario or layout version is run again silently.
    """
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        problem: str | None = "not a JSON file"
    else:
        problem = _record_problem(record)
    if problem is not None:
        if notify is not None:
            notify(f"{path}: saved run {problem}; running it again")
        return None
    same = record.get("scenario_sha256") == task.fingerprint and record.get("record_version") == RECORD_VERSION
    return record if same else None


def _record_problem(record: Any) -> str | None:
    """What makes a saved run unusable, or None when its fields have the types findings read."""
    if not isinstance(record, dict):
        return f"is a JSON {type(record).__name__}, not an object"
    metrics = record.get("metrics")
    if not isinstance(metrics, dict):
        return "lacks its metrics" if metrics is None else "has metrics that are not a mapping"
    if any(value is not None and not isinstance(value, int | float) for value in metrics.values()):
        return "has a metric that is not a number"
    if not isinstance(record.get("scenario"), str):
        return "lacks its scenario name"
    if not isinstance(record.get("period", []), list | None) or not isinstance(record.get("series", {}), dict | None):
        return "has a period or series of the wrong type"
    return None


# ---------------------------------------------------------------- running them all
def _run_local(tasks: list[RunTask], workers: int, simulate: Simulate) -> Iterable[tuple[RunTask, RunRecord]]:
    if workers <= 1:
        # In this process, one after another (debugging; tests that count calls).
        for task in tasks:
            yield task, simulate(task.scenario, task.label, task.seed)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        futures = {pool.submit(simulate, t.scenario, t.label, t.seed): t for t in tasks}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _run_dask(tasks: list[RunTask], scheduler: Any, simulate: Simulate) -> Iterable[tuple[RunTask, RunRecord]]:
    try:
        from dask.distributed import Client
        from dask.distributed import as_completed as dask_as_completed
    except ImportError as err:  # pragma: no cover - depends on the installation
        raise RuntimeError("running on a Dask cluster needs dask[distributed] installed") from err
    own_client = not isinstance(scheduler, Client)
    client = Client(scheduler) if own_client else scheduler
    try:
        futures = {client.submit(simulate, t.scenario, t.label, t.seed, pure=False): t for t in tasks}
        for future in dask_as_completed(list(futures)):
            yield futures[future], future.result()
    finally:
        if own_client:
            client.close()


def run_tasks(
    tasks: list[RunTask],
    runs_dir: Path,
    experiment_name: str,
    workers: int = 2,
    scheduler: Any = None,
    simulate: Simulate | None = None,
    notify: Callable[[str], None] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[tuple[str, int], RunRecord]:
    """Every task's run record, reading the runs saved in `runs_dir` and simulating the others.

    Each finished run is saved at once as `runs_dir/<label>-seed<N>.json` (atomically), so an
    interruption loses only the runs in flight. Tasks whose scenarios are identical share one
    simulation per seed. Arguments as in `run_experiment`.

    Returns:
        (label, seed) -> the run's record (as saved).
    """
    simulate = simulate or simulate_run
    records: dict[tuple[str, int], RunRecord] = {}
    pending = []
    for task in tasks:
        saved = _saved_record(runs_dir / task.file_name, task, notify)
        if saved is None:
            pending.append(task)
        else:
            records[task.label, task.seed] = saved
    # Labels whose scenarios are identical (a fix already in place under a stress) share one
    # simulation per seed: the same scenario and seed give the same run.
    twins: dict[tuple[str, int], list[RunTask]] = {}
    for task in pending:
        twins.setdefault(task.market_key, []).append(task)
    total = len(records) + len(pending)
    if progress is not None and pending:
        progress(len(records), total, "resuming saved runs" if records else "starting")
    if twins:
        unique = [group[0] for group in twins.values()]
        finished = (
            _run_dask(unique, scheduler, simulate) if scheduler is not None else _run_local(unique, workers, simulate)
        )
        for done, record in finished:
            for task in twins[done.market_key]:
                saved = {**record, "variant": task.label, "scenario": task.scenario["name"],
                         "experiment": experiment_name, "scenario_sha256": task.fingerprint,
                         "record_version": RECORD_VERSION}  # fmt: skip
                _write_json_atomic(runs_dir / task.file_name, saved)
                records[task.label, task.seed] = saved
            if progress is not None:
                progress(len(records), total, f"last {done.label} seed {done.seed}")
    return records


def run_experiment(
    path: str | Path,
    out_dir: str | Path,
    workers: int = 2,
    scheduler: Any = None,
    simulate: Simulate | None = None,
    data_dir: str | Path | None = None,
    notify: Callable[[str], None] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> Findings:
    """Run an experiment or a stress-test matrix (resuming any earlier partial run) and write its findings.

    Args:
        path: experiment YAML file, or a stress-test matrix file (see `sim.experiments.matrix`).
        out_dir: results root; the experiment's folder is `<out_dir>/<name>/`.
        workers: local processes (spawn context); 1 or fewer runs in this process.
            Ignored when `scheduler` is given.
        scheduler: a Dask scheduler address (e.g. "tcp://host:8786"), or a
            `dask.distributed.Client`, to run on a cluster instead of local processes.
        simulate: the function that runs one (scenario, label, seed); `simulate_run` by
            default. Must be importable by the workers when they are other processes.
        data_dir: the public data folder, for figures that draw the real market beside the
            model (`figures: [reserve_demand_curve]`); None reads `PLUMBING_DATA_DIR`.
        notify: receives warnings (a corrupt saved run that is run again).
        progress: called with (runs done, runs in all, the run just done as "label seed N"),
            first with the runs already saved, then as each run finishes.

    Returns:
        The Findings, also written as `findings.csv` and `findings.md` (and `matrix.csv` for a
        stress-test matrix) in the folder, with the figures of `write_figures`.

    Raises:
        ExperimentError: the experiment file (or matrix file) or a scenario it names is invalid.
    """
    experiment = load_any(path)
    folder = Path(out_dir) / experiment.name
    records = run_tasks(experiment.tasks(), folder / "runs", experiment.name, workers, scheduler, simulate, notify,
                        progress)  # fmt: skip
    findings = compute_findings(experiment, records)
    findings.write(folder)
    write_figures(experiment, findings, records, folder, data_dir)
    return findings


# ---------------------------------------------------------------- findings
@dataclass
class Findings:
    """What an experiment found.

    Attributes:
        name: the experiment's name.
        description: one line on what it asks.
        runs: one row per run: variant (label), seed, scenario, each finding metric (unit in
            its name); the indices score the run against its label's scoring ensemble.
        table: per comparison and metric, the reference and variant means over the paired
            seeds, the mean paired difference (variant minus reference, in the metric's unit),
            its 95% Student-t confidence interval and the number of pairs n.
        kind: "experiment" or "stress_matrix".
        matrix: for a stress-test matrix, the table by stress and fix (see
            `sim.experiments.matrix.matrix_table`); None otherwise.
        folder: where its runs and findings are written.
    """

    name: str
    description: str
    runs: pd.DataFrame
    table: pd.DataFrame
    kind: str = "experiment"
    matrix: pd.DataFrame | None = None
    folder: Path | None = None
    parameter_sets: int = 0

    def markdown(self) -> str:
        """The findings as a Markdown document."""
        if self.matrix is not None:
            return matrix_markdown(self.name, self.description, self.matrix)
        if self.parameter_sets:
            return self._markdown_with_parameter_sets()
        lines = [f"# {self.name}", ""]
        if self.description:
            lines += [self.description, ""]
        lines += [
            "Paired differences, variant minus reference with the same seed; 95% confidence interval "
            "from Student's t on the paired differences. Indices score each run against the reference "
            "runs as an ensemble (positive = more stress / less throughput).",
            "",
            "| variant | metric | reference | variant | difference | 95% CI | n |",
            "|---|---|---:|---:|---:|---|---:|",
        ]
        for row in self.table.itertuples(index=False):
            numbers = " | ".join(format_number(v) for v in (row.reference_mean, row.variant_mean, row.difference))
            interval = format_interval(row.ci_low, row.ci_high)
            lines.append(f"| {row.variant} | {row.metric} | {numbers} | {interval} | {row.n} |")
        return "\n".join(lines) + "\n"

    def _markdown_with_parameter_sets(self) -> str:
        lines = [f"# {self.name}", ""]
        if self.description:
            lines += [self.description, ""]
        lines += [
            f"Paired differences, variant minus reference with the same seed and parameter set, over "
            f"{self.parameter_sets} near-optimal parameter sets of the fit; the 95% interval treats sets and "
            "seeds as random (two-way random effects, Satterthwaite degrees of freedom). 'Best set' is the "
            "best-fitting set alone with its seed-only interval; 'sets' is the range of the sets' own mean "
            "differences. Indices score each run against its own set's reference runs.",
            "",
            "| variant | metric | reference | variant | difference | 95% CI (sets and seeds) | best set | "
            "best set 95% CI (seeds) | sets | n |",
            "|---|---|---:|---:|---:|---|---:|---|---|---:|",
        ]
        for row in self.table.itertuples(index=False):
            numbers = " | ".join(format_number(v) for v in (row.reference_mean, row.variant_mean, row.difference))
            interval = format_interval(row.ci_low, row.ci_high)
            best = format_interval(row.best_set_ci_low, row.best_set_ci_high)
            spread = format_interval(row.set_min, row.set_max)
            lines.append(f"| {row.variant} | {row.metric} | {numbers} | {interval} | "
                         f"{format_number(row.best_set_difference)} | {best} | {spread} | {row.n} |")  # fmt: skip
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> None:
        """Write `findings.csv`, `findings.md` and, for a matrix, `matrix.csv` into `folder` (atomically)."""
        self.folder = folder
        write_atomic(folder / "findings.csv", self.table.to_csv(index=False))
        if self.matrix is not None:
            write_atomic(folder / "matrix.csv", self.matrix.to_csv(index=False))
        write_atomic(folder / "findings.md", self.markdown())


def paired_difference(reference: list[float], variant: list[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Mean of paired differences with its Student-t confidence interval.

    Args:
        reference: the reference run's value per seed (metric's unit).
        variant: the variant run's value for the same seeds, in the same order.
        confidence: two-sided coverage of the interval.

    Returns:
        reference_mean, variant_mean, difference (mean of variant - reference), ci_low,
        ci_high (NaN with fewer than two pairs) and n.
    """
    ref, var = np.asarray(reference, dtype=float), np.asarray(variant, dtype=float)
    n = len(ref)
    if n == 0:
        nan = float("nan")
        return {"reference_mean": nan, "variant_mean": nan, "difference": nan, "ci_low": nan, "ci_high": nan, "n": 0}
    diffs = var - ref
    mean = float(diffs.mean())
    low = high = float("nan")
    if n >= 2:
        from scipy import stats  # a third of a second to import: run processes that only simulate skip it

        half = float(stats.t.ppf(0.5 + confidence / 2, n - 1) * diffs.std(ddof=1) / math.sqrt(n))
        low, high = mean - half, mean + half
    return {"reference_mean": float(ref.mean()), "variant_mean": float(var.mean()), "difference": mean,
            "ci_low": low, "ci_high": high, "n": n}  # fmt: skip


def compute_findings(experiment: Experiment, records: dict[tuple[str, int], RunRecord]) -> Findings:
    """Findings from every run's record: each run scored against its scoring ensemble, then paired.

    Args:
        experiment: the loaded experiment.
        records: (label, seed) -> the run's record (as saved in `runs/`).
    """
    if experiment.parameter_sets:
        from sim.experiments.uncertainty import combined_findings

        return combined_findings(experiment, records)
    seeds = experiment.seeds

    def dashboard(label: str, seed: int) -> Dashboard:
        record = records[label, seed]
        return Dashboard(f"{label} seed {seed}", tuple(record.get("period") or (None, None)), record["metrics"])

    ensembles = {ref: [dashboard(ref, s) for s in seeds] for ref in dict.fromkeys(experiment.scored_against.values())}
    rows = []
    for label in experiment.labels:
        for seed in seeds:
            board = dashboard(label, seed)
            card = score(board, ensembles[experiment.scored_against[label]])
            values = {name: _finite(board.metrics.get(name)) for name in FINDING_METRICS}
            values |= {STRESS_INDEX: card.stress_index, THROUGHPUT_INDEX: card.throughput_index}
            rows.append({"variant": label, "seed": seed, "scenario": records[label, seed]["scenario"], **values})
    runs = pd.DataFrame(rows, columns=["variant", "seed", "scenario", *FINDING_METRICS])

    table_rows = []
    by_label = {label: frame.set_index("seed") for label, frame in runs.groupby("variant", sort=False)}
    for variant_label, reference_label in experiment.comparisons:
        variant, reference = by_label[variant_label], by_label[reference_label]
        for metric in FINDING_METRICS:
            pairs = [(reference.at[s, metric], variant.at[s, metric]) for s in seeds]
            pairs = [(r, v) for r, v in pairs if r is not None and v is not None and not pd.isna(r) and not pd.isna(v)]
            stats_row = paired_difference([r for r, _ in pairs], [v for _, v in pairs])
            table_rows.append({"variant": variant_label, "reference": reference_label, "metric": metric, **stats_row})
    table = pd.DataFrame(table_rows, columns=FINDING_COLUMNS).astype({"n": "int64"})
    matrix = None
    if experiment.kind == "stress_matrix":
        matrix = matrix_table(experiment, runs, table)
    return Findings(experiment.name, experiment.description, runs, table, experiment.kind, matrix)


# ---------------------------------------------------------------- figures
def series_by_label(experiment: Experiment, records: dict[tuple[str, int], RunRecord]) -> dict[str, list]:
    """Label -> each seed's kept series as DataFrames (seed order as in the experiment)."""
    return {
        label: [series_frames(records[label, seed].get("series") or {}) for seed in experiment.seeds]
        for label in experiment.labels
    }


def write_figures(
    experiment: Experiment,
    findings: Findings,
    records: dict[tuple[str, int], RunRecord],
    folder: Path,
    data_dir: str | Path | None = None,
) -> list[Path]:
    """Draw the experiment's figures into `folder`; returns the files written.

    A plain experiment gets `reservoir_vs_pipe.png` and `panels.png` (dashboard panels A, B,
    C and the pipe across variants), and, when its file asks for it, the reserve demand curve
    (`reserve_demand_curve.png` and `.csv`, with the real market from `data_dir`; see
    `sim.experiments.reserve_curve`); a stress-test matrix gets `matrix.png` and, for each
    stress, `panels-<stress>.png` and `reservoir_vs_pipe-<stress>.png` (calm, stressed and
    each fix).
    """
    from sim.experiments import figures
    from sim.experiments.reserve_curve import write_reserve_demand_curve

    if experiment.parameter_sets:
        # Drawn for the best-fitting set: the figures show one market, the findings all sets.
        from sim.experiments.uncertainty import one_set

        sub, mine = one_set(experiment, records, next(iter(experiment.parameter_sets)))
        return write_figures(sub, compute_findings(sub, mine), mine, folder, data_dir)
    series = series_by_label(experiment, records)
    if findings.matrix is None:  # only a stress-test matrix has a matrix table
        description = experiment.description.rstrip(". ")
        title = f"{experiment.name} - {description}" if description else experiment.name
        written = [
            figures.draw_reservoir_vs_pipe(findings.runs, series, folder / "reservoir_vs_pipe.png", title),
            figures.draw_experiment_panels(series, folder / "panels.png", title),
        ]
        if "reserve_demand_curve" in experiment.figures:
            written += write_reserve_demand_curve(experiment, records, folder, data_dir)
        return written

    # The `none` rows are each stress against its calm window: its damage, drawn for scale.
    matrix = findings.matrix.assign(fix=findings.matrix["fix"].replace({NONE_FIX: "(the stress vs calm)"}))
    written = [figures.draw_stress_matrix(matrix, folder / "matrix.png", experiment.name)]
    for stress, names in stress_groups(experiment).items():
        group = {short: series[label] for label, short in names.items()}
        runs = findings.runs[findings.runs["variant"].isin(list(names))].copy()
        runs["variant"] = runs["variant"].map(names)
        title = f"{experiment.name}: {stress}"
        written.append(figures.draw_experiment_panels(group, folder / f"panels-{stress}.png", title))
        written.append(figures.draw_reservoir_vs_pipe(runs, group, folder / f"reservoir_vs_pipe-{stress}.png", title))
    return written
