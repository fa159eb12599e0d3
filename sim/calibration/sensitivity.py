"""Which behavioural parameters decide the verdict: Morris screening of the policy findings.

A sensitivity config (`calibration/configs/sensitivity*.yaml`) names comparisons (a reference
scenario and a variant, e.g. the baseline without and with $40B a month of purchases), the
outputs to screen (a dashboard metric's paired difference variant minus reference, or the
variant's throughput or stress index scored against the reference runs), and 15-25
behavioural parameters with their plausible ranges and why each is screened.

Morris's elementary-effects design (SALib: `SALib.sample.morris`, `SALib.analyze.morris`)
moves one parameter at a time along `trajectories` random paths through a grid of `levels`
levels in the box; every point of every path runs every comparison with the same seeds
(common random numbers within a point and across points). Per output and parameter:

- mu*: the mean absolute elementary effect, the change in the output when the parameter
  moves across its whole range (output units per range), the screening measure;
- mu: the signed mean (a direction when it is close to +-mu*);
- sigma: the spread of the effects (interactions or a curved response);
- the seed-noise floor: what mu* would be were the output pure seed noise. An output's
  standard error at a point is sd(paired differences over seeds) / sqrt(n); an elementary
  effect differences two points, so its noise has standard deviation sqrt(2) se / delta
  (delta the grid step as a share of the range), and the mean absolute value of such noise
  is sqrt(2 / pi) times that. A parameter decides an output when its mu* is above twice
  this floor.

Runs are saved one file per (point, scenario, seed) under `<out>/sensitivity/<name>/runs/` as
experiments save theirs (resumable; a Dask scheduler runs larger designs). The report (Markdown,
a CSV of the indices and a mu*-sigma figure per output) goes to the config's `report` folder.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.calibration.msm import apply_parameters
from sim.dashboard import Dashboard, score
from sim.dashboard.metrics import METRIC_SPECS
from sim.dashboard.plots import png_bytes
from sim.experiments.design import LABEL, STRESS_INDEX, THROUGHPUT_INDEX, RunTask, Seeds, format_number
from sim.files import write_atomic
from sim.scenario import Problem, ScenarioError, load_scenario, scenario_from_dict
from sim.scenario.loader import validated_file

INDICES = (THROUGHPUT_INDEX, STRESS_INDEX)
# A parameter decides an output when its mu* exceeds this multiple of the seed-noise floor.
DECIDES_MULTIPLE_OF_NOISE = 2.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ComparisonSpec(_Strict):
    reference: Path = Field(description="Scenario file of the market without the policy (relative to the config).")
    variant: Path = Field(description="Scenario file of the market with it (relative to the config).")
    start_date: dt.date | None = Field(default=None, description="First simulated day of both (default: their own).")
    end_date: dt.date | None = Field(default=None, description="Last simulated day of both (default: their own).")


class OutputSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="Name of the output in the report.")
    comparison: str = Field(description="The comparison it is measured on.")
    metric: str = Field(
        description="A dashboard metric (its paired difference, variant minus reference, in its unit) or "
        "throughput_index / stress_index (the variant's, scored against the reference runs)."
    )
    label: str = Field(default="", description="What it measures, for the report.")

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str) -> str:
        if value not in METRIC_SPECS and value not in INDICES:
            raise ValueError(f"a dashboard metric or one of {', '.join(INDICES)}")
        return value


class ScreenedParameter(_Strict):
    key: str = Field(description="Dotted scenario key, e.g. banks.demand_curve_steepness.")
    low: float = Field(description="Lower end of the plausible range.")
    high: float = Field(description="Upper end of the plausible range.")
    log: bool = Field(default=False, description="Grid on a log scale (ranges spanning orders of magnitude).")
    why: str = Field(min_length=1, description="Why it is screened and where the range comes from.")

    @model_validator(mode="after")
    def _range(self) -> ScreenedParameter:
        if not self.low < self.high:
            raise ValueError(f"low below high (found low {self.low}, high {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a positive low with log: true (found {self.low})")
        return self


class SensitivityConfig(_Strict):
    """What to screen, over which parameters, and how many paths."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$", description="Name of the screening (results folder).")
    description: str = Field(default="", description="One line on what it asks.")
    comparisons: dict[str, ComparisonSpec] = Field(min_length=1, description="Label -> reference and variant.")
    outputs: list[OutputSpec] = Field(min_length=1, description="What is screened.")
    parameters: list[ScreenedParameter] = Field(min_length=2, description="Parameters screened, with ranges.")
    trajectories: int = Field(default=6, ge=2, le=1000, description="Morris paths (points: paths x (parameters + 1)).")
    levels: int = Field(default=4, ge=2, le=20, description="Grid levels per parameter (even).")
    seeds: Seeds = Field(description="Seeds every point runs with (common random numbers).")
    workers: int = Field(default=2, ge=1, le=256, description="Local processes.")
    sampler_seed: int = Field(default=0, description="Seed of the Morris design.")
    report: Path | None = Field(default=None, description="Report folder (default calibration/reports/sensitivity).")
    notes: str = Field(default="", description="What the screening shows (Markdown), for the report.")

    @field_validator("comparisons")
    @classmethod
    def _labels(cls, value: dict[str, ComparisonSpec]) -> dict[str, ComparisonSpec]:
        for label in value:
            if not LABEL.match(label):
                raise ValueError(f"labels of letters, digits, '_', '.' or '-' (found {label!r})")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SensitivityConfig:
        if self.levels % 2:
            raise ValueError(f"an even number of levels (found {self.levels})")
        keys = [p.key for p in self.parameters]
        if len(set(keys)) < len(keys):
            raise ValueError("distinct parameter keys")
        names = [o.name for o in self.outputs]
        if len(set(names)) < len(names):
            raise ValueError("distinct output names")
        for output in self.outputs:
            if output.comparison not in self.comparisons:
                raise ValueError(f"output {output.name}: comparison {output.comparison!r} is not in comparisons")
        return self


@dataclass(frozen=True)
class Screening:
    """A loaded sensitivity config with its resolved scenarios.

    Attributes:
        path: the config file.
        config: the validated config (paths resolved).
        scenarios: run label (`<comparison>.reference` / `.variant`) -> resolved scenario (JSON-ready).
    """

    path: Path
    config: SensitivityConfig
    scenarios: dict[str, dict[str, Any]]

    @property
    def delta(self) -> float:
        """Morris's grid step as a share of each parameter's range."""
        return self.config.levels / (2.0 * (self.config.levels - 1))

    def problem(self) -> dict[str, Any]:
        """The SALib problem: names and bounds (log10 bounds for log parameters)."""
        bounds = [[math.log10(p.low), math.log10(p.high)] if p.log else [p.low, p.high] for p in self.config.parameters]
        return {"num_vars": len(bounds), "names": [p.key for p in self.config.parameters], "bounds": bounds}

    def design(self) -> np.ndarray:
        """The Morris points, one row per point, in the grid's space (log10 for log parameters)."""
        from SALib.sample import morris as morris_sample

        return np.asarray(
            morris_sample.sample(
                self.problem(), N=self.config.trajectories, num_levels=self.config.levels, seed=self.config.sampler_seed
            ),  # fmt: skip
            dtype=float,
        )

    def values(self, row: np.ndarray) -> dict[str, float]:
        """A design row as scenario values (log parameters back from log10)."""
        return {p.key: float(10.0**x) if p.log else float(x) for p, x in zip(self.config.parameters, row, strict=True)}

    def tasks(self, design: np.ndarray) -> list[RunTask]:
        """Every (point, scenario, seed) run; labels `p<point>.<comparison>.<reference|variant>`."""
        out: list[RunTask] = []
        for point, row in enumerate(design):
            params = self.values(row)
            for label, scenario in self.scenarios.items():
                data = apply_parameters(scenario, params)
                fingerprint = hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
                out.extend(RunTask(f"p{point:04d}.{label}", s, data, fingerprint) for s in self.config.seeds)
        return out


def load_screening(path: str | Path) -> Screening:
    """Read a sensitivity config and resolve its scenarios; every problem located.

    Raises:
        ScenarioError: the config's own problems (unknown keys, ranges, outputs), a scenario file
            that does not exist or does not validate (`comparisons.<label>.<reference|variant>`), and a
            parameter key the scenarios refuse at either end of its range (`parameters[i].key`).
    """
    path = Path(path).resolve()
    config = validated_file(path, SensitivityConfig, "an existing sensitivity config")
    root = path.parent
    problems: list[Problem] = []
    scenarios: dict[str, dict[str, Any]] = {}
    for label, comparison in config.comparisons.items():
        horizon = {k: getattr(comparison, k) for k in ("start_date", "end_date") if getattr(comparison, k) is not None}
        for side in ("reference", "variant"):
            key = f"comparisons.{label}.{side}"
            file = root / getattr(comparison, side)
            if not file.is_file():
                problems.append(Problem(str(path), key, "an existing scenario file", f"no file at {file}"))
                continue
            try:
                scenarios[f"{label}.{side}"] = load_scenario(file, horizon, str(path)).model_dump(mode="json")
            except ScenarioError as err:
                problems.extend(Problem(p.file, f"{key} -> {p.key_path}", p.expected, p.found) for p in err.problems)
    for i, parameter in enumerate(config.parameters):
        for end in (parameter.low, parameter.high):
            for label, scenario in scenarios.items():
                try:
                    scenario_from_dict(apply_parameters(scenario, {parameter.key: end}), source=str(path))
                except ScenarioError as err:
                    found = "; ".join(f"{p.key_path}: {p.found}" for p in err.problems)
                    problems.append(Problem(str(path), f"parameters[{i}].key",
                                            f"a scenario key that takes {end} in {label}", found))  # fmt: skip
                    break
    if problems:
        raise ScenarioError(problems)
    report = (root / config.report).resolve() if config.report else None
    return Screening(path, config.model_copy(update={"report": report}), scenarios)


# ---------------------------------------------------------------- runs
def simulate_dashboard(scenario: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
    """One run's dashboard record without the figures' series (they are not screened)."""
    from sim.experiments.runner import simulate_run

    return simulate_run(scenario, label, seed, series=False)


def output_values(
    screening: Screening, records: dict[tuple[str, int], dict[str, Any]], points: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each output at each point: its mean over seeds and its standard error.

    Returns:
        (means, standard errors): points x outputs frames (NaN where a run lacks the metric;
        the standard error is NaN with one seed).
    """
    seeds = screening.config.seeds
    means = pd.DataFrame(index=range(points), columns=[o.name for o in screening.config.outputs], dtype=float)
    errors = means.copy()
    for point in range(points):

        def board(label: str, seed: int, point: int = point) -> Dashboard:
            record = records[f"p{point:04d}.{label}", seed]
            return Dashboard(f"{label} seed {seed}", tuple(record.get("period") or (None, None)), record["metrics"])

        for output in screening.config.outputs:
            reference, variant = f"{output.comparison}.reference", f"{output.comparison}.variant"
            if output.metric in INDICES:
                ensemble = [board(reference, s) for s in seeds]
                cards = [score(board(variant, s), ensemble) for s in seeds]
                per_seed = [getattr(card, output.metric) for card in cards]
            else:
                per_seed = [_difference(board(reference, s), board(variant, s), output.metric) for s in seeds]
            values = np.array([np.nan if v is None else v for v in per_seed], dtype=float)
            means.at[point, output.name] = values.mean()
            if len(values) > 1:
                errors.at[point, output.name] = values.std(ddof=1) / math.sqrt(len(values))
    return means, errors


def _difference(reference: Dashboard, variant: Dashboard, metric: str) -> float | None:
    ref, var = reference.metrics.get(metric), variant.metrics.get(metric)
    return None if ref is None or var is None else float(var) - float(ref)


# ---------------------------------------------------------------- analysis
def typical_error(errors: pd.DataFrame, output: str) -> float:
    """An output's typical standard error from seeds: the median over points (NaN with one seed)."""
    column = errors[output].to_numpy(dtype=float)
    return float(np.nanmedian(column)) if np.isfinite(column).any() else math.nan


def analyse(screening: Screening, design: np.ndarray, means: pd.DataFrame, errors: pd.DataFrame) -> pd.DataFrame:
    """Morris indices per output and parameter, with the seed-noise floor and whether it decides.

    Returns:
        One row per (output, parameter): output, parameter, mu_star, mu, sigma, mu_star_conf (95%
        bootstrap half-width), noise_floor, mu_star_over_noise, decides, rank (1 = largest mu*).

    Raises:
        ValueError: an output is missing at some point (a metric the runs did not produce).
    """
    from SALib.analyze import morris

    problem = screening.problem()
    rows = []
    for output in screening.config.outputs:
        y = means[output.name].to_numpy(dtype=float)
        if not np.isfinite(y).all():
            missing = int((~np.isfinite(y)).sum())
            raise ValueError(f"output {output.name}: {output.metric} is missing at {missing} of {len(y)} points")
        indices = morris.analyze(problem, design, y, num_levels=screening.config.levels, conf_level=0.95,
                                 seed=screening.config.sampler_seed)  # fmt: skip
        floor = math.sqrt(2.0 / math.pi) * math.sqrt(2.0) * typical_error(errors, output.name) / screening.delta
        order = np.argsort(-np.asarray(indices["mu_star"], dtype=float), kind="stable")
        rank = np.empty(len(order), dtype=int)
        rank[order] = np.arange(1, len(order) + 1)
        for j, name in enumerate(problem["names"]):
            mu_star = float(indices["mu_star"][j])
            ratio = mu_star / floor if floor > 0 else math.inf
            rows.append({
                "output": output.name, "parameter": name, "mu_star": mu_star, "mu": float(indices["mu"][j]),
                "sigma": float(indices["sigma"][j]), "mu_star_conf": float(indices["mu_star_conf"][j]),
                "noise_floor": floor, "mu_star_over_noise": ratio,
                "decides": bool(ratio > DECIDES_MULTIPLE_OF_NOISE), "rank": int(rank[j]),
            })  # fmt: skip
    return pd.DataFrame(rows)


@dataclass
class ScreeningResult:
    """What a screening found: the design, the outputs at each point, the Morris indices."""

    screening: Screening
    design: np.ndarray
    means: pd.DataFrame
    errors: pd.DataFrame
    indices: pd.DataFrame
    runs: int

    def deciders(self) -> dict[str, list[str]]:
        """Parameter -> the outputs it decides, parameters in config order (only those deciding something)."""
        out: dict[str, list[str]] = {}
        for p in self.screening.config.parameters:
            rows = self.indices[(self.indices.parameter == p.key) & self.indices.decides]
            if len(rows):
                out[p.key] = list(rows.output)
        return out


def run_screening(
    screening: Screening,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: Any = None,
    notify: Callable[[str], None] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> ScreeningResult:
    """Run (or resume) every point of the design and compute the Morris indices.

    Args:
        screening: the loaded config.
        out_dir: results root; runs are saved under `<out_dir>/sensitivity/<name>/runs/`.
        workers: local processes (default the config's); ignored with `scheduler`.
        scheduler: a Dask scheduler address or client, for designs beyond one machine.
        notify, progress: as in `sim.experiments.runner.run_experiment`.
    """
    from sim.experiments.runner import run_tasks

    design = screening.design()
    tasks = screening.tasks(design)
    runs_dir = Path(out_dir) / "sensitivity" / screening.config.name / "runs"
    records = run_tasks(tasks, runs_dir, screening.config.name, workers or screening.config.workers, scheduler,
                        simulate_dashboard, notify, progress)  # fmt: skip
    means, errors = output_values(screening, records, len(design))
    indices = analyse(screening, design, means, errors)
    return ScreeningResult(screening, design, means, errors, indices, len(tasks))


# ---------------------------------------------------------------- report
def _table(frame: pd.DataFrame, columns: list[tuple[str, str]]) -> list[str]:
    lines = ["| " + " | ".join(title for _, title in columns) + " |", "|" + "---|" * len(columns)]
    for row in frame.itertuples(index=False):
        cells = []
        for name, _ in columns:
            value = getattr(row, name)
            cells.append(format_number(value) if isinstance(value, float) else str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def report_markdown(result: ScreeningResult, seconds: float | None = None) -> str:
    """The screening report: design, each output over the box, its ranked parameters, the deciders."""
    config = result.screening.config
    k, points = len(config.parameters), len(result.design)
    lines = [f"# Sensitivity: {config.name}", ""]
    if config.description:
        lines += [config.description, ""]
    timing = f", {seconds / 60:.1f} minutes" if seconds is not None else ""
    lines += [
        f"Morris screening (SALib): {k} parameters, {config.trajectories} paths on a {config.levels}-level grid "
        f"({points} points), seeds {list(config.seeds)}, {result.runs} runs{timing}. Regenerate: "
        f"`plumbing sensitivity {result.screening.path.name}` (from `calibration/configs/`).",
        "",
        "mu* is the mean absolute change of the output when a parameter crosses its whole range, one at a time "
        "from points spread over the box (output units); mu its signed mean; sigma the spread of those changes "
        "(interactions or a curved response). The noise floor is what mu* would be if the output were seed noise "
        f"alone; a parameter **decides** an output when its mu* is above {DECIDES_MULTIPLE_OF_NOISE:g} times it.",
        "",
        "## The verdict over the box",
        "",
        "Each output at the design's points (mean over seeds):",
        "",
        "| output | what | min | 10th pct | median | 90th pct | max | share of points > 0 | typical seed s.e. |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for output in config.outputs:
        y = result.means[output.name].to_numpy(dtype=float)
        se = typical_error(result.errors, output.name)
        numbers = [np.min(y), np.quantile(y, 0.1), np.median(y), np.quantile(y, 0.9), np.max(y)]
        cells = " | ".join(format_number(float(v)) for v in numbers)
        what = output.label or f"{output.metric}, {output.comparison}"
        lines.append(f"| {output.name} | {what} | {cells} | {np.mean(y > 0):.0%} | {format_number(se)} |")
    deciders = result.deciders()
    lines += ["", "## Parameters that decide the verdict", ""]
    if deciders:
        for key, outputs in deciders.items():
            lines.append(f"- `{key}`: {', '.join(outputs)}")
    else:
        lines.append("No parameter moves any output beyond twice its seed-noise floor.")
    quiet = [p.key for p in config.parameters if p.key not in deciders]
    if quiet:
        lines += ["", "Within the noise for every output: " + ", ".join(f"`{k}`" for k in quiet) + "."]
    for output in config.outputs:
        rows = result.indices[result.indices.output == output.name].sort_values("rank")
        lines += ["", f"## {output.name}", "", output.label or f"{output.metric} on {output.comparison}", ""]
        lines += _table(rows, [("rank", "rank"), ("parameter", "parameter"), ("mu_star", "mu*"),
                               ("mu_star_conf", "mu* 95% half-width"), ("mu", "mu"), ("sigma", "sigma"),
                               ("mu_star_over_noise", "mu* / noise floor"), ("decides", "decides")])  # fmt: skip
    lines += ["", "## Parameters and ranges", "", "| parameter | low | high | scale | why |", "|---|---:|---:|---|---|"]
    for p in config.parameters:
        lines.append(f"| `{p.key}` | {p.low:g} | {p.high:g} | {'log' if p.log else 'linear'} | {p.why} |")
    if config.notes:
        lines += ["", "## Notes", "", config.notes.strip()]
    return "\n".join(lines) + "\n"


def draw_indices(result: ScreeningResult, path: Path) -> None:
    """mu* against sigma per output, the deciders labelled: the usual Morris picture."""
    from matplotlib.figure import Figure

    outputs = result.screening.config.outputs
    columns = min(3, len(outputs))
    rows = math.ceil(len(outputs) / columns)
    fig = Figure(figsize=(4.6 * columns, 3.8 * rows))
    axes = fig.subplots(rows, columns, squeeze=False)
    for ax, output in zip(axes.flat, outputs, strict=False):
        frame = result.indices[result.indices.output == output.name]
        colours = np.where(frame.decides, "tab:red", "tab:grey")
        ax.scatter(frame.mu_star, frame.sigma, c=colours, s=18)
        floor = float(frame.noise_floor.iloc[0])
        if math.isfinite(floor):
            ax.axvline(DECIDES_MULTIPLE_OF_NOISE * floor, color="tab:blue", lw=0.8, ls="--")
        for row in frame[frame.decides].itertuples():
            ax.annotate(row.parameter.split(".")[-1], (row.mu_star, row.sigma), fontsize=7)
        ax.set_title(output.name, fontsize=9)
        ax.set_xlabel("mu* (output units per range)", fontsize=8)
        ax.set_ylabel("sigma", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(outputs) :]:
        ax.set_visible(False)
    fig.suptitle(f"Morris screening: {result.screening.config.name} (dashed: {DECIDES_MULTIPLE_OF_NOISE:g}x noise)",
                 fontsize=10)  # fmt: skip
    fig.tight_layout()
    write_atomic(path, png_bytes(fig))


def write_report(result: ScreeningResult, folder: Path, seconds: float | None = None) -> dict[str, Path]:
    """Write `<name>.md`, `<name>_indices.csv`, `<name>_points.csv` and `<name>.png` into `folder` (atomically)."""
    name = result.screening.config.name
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "report": folder / f"{name}.md",
        "indices": folder / f"{name}_indices.csv",
        "points": folder / f"{name}_points.csv",
        "figure": folder / f"{name}.png",
    }
    write_atomic(paths["report"], report_markdown(result, seconds))
    write_atomic(paths["indices"], result.indices.to_csv(index=False, float_format="%.6g"))
    points = pd.DataFrame([result.screening.values(row) for row in result.design])
    points = pd.concat([points, result.means.add_prefix("output:")], axis=1)
    write_atomic(paths["points"], points.to_csv(index_label="point", float_format="%.6g"))
    draw_indices(result, paths["figure"])
    return paths
