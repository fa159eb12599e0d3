"""A calibration as data: the config file, the fit, the fitted fragment and the report.

`plumbing calibrate CONFIG.yaml` reads a config (which parameters, their bounds, which
target moments, seeds, trials), runs the method of simulated moments, and writes the
fitted parameters as a scenario fragment (`calibration/fitted/`) and a report
(`calibration/reports/<name>/`: moment-by-moment table with t-statistics, the loss
history and a target-vs-simulated figure).
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.calibration.msm import Calibration, Evaluation, Parameter, Target, fitted_fragment, stamp
from sim.scenario import Problem, ScenarioError
from sim.scenario.loader import problems_from
from sim.scenario.yamlfile import YamlFileError, load_yaml_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    key: str = Field(description="Dotted scenario key, e.g. banks.demand_curve_level_bp.")
    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound.")
    log: bool = Field(default=False, description="Search on a log scale.")


class CalibrationConfig(_Strict):
    """What to fit, to what, and how hard to search."""

    name: str = Field(min_length=1, description="Name of the fit (file names).")
    description: str = Field(default="", description="One line on what the fit is for.")
    targets: Path = Field(description="Targets file (YAML from sim.calibration.targets), relative to this config.")
    moments: list[str] = Field(default=[], description="Target moments to fit (default: every level-comparable one).")
    se_floor_share: float = Field(default=0.1, ge=0, le=10, description="Floor of each SE as a share of |target|.")
    base_scenario: Path | None = Field(default=None, description="Scenario file evaluations start from (relative).")
    start_date: dt.date | None = Field(default=None, description="First simulated day (default: the base's).")
    end_date: dt.date | None = Field(default=None, description="Last simulated day (default: the base's).")
    scenario: dict[str, Any] = Field(default={}, description="Fixed scenario keys of every evaluation.")
    parameters: list[ParameterSpec] = Field(min_length=1, description="Scenario keys to fit, with bounds.")
    seeds: list[int] = Field(default=[1, 2], min_length=1, description="Seeds of every evaluation (common numbers).")
    trials: int = Field(default=40, ge=1, le=10000, description="Parameter sets to try.")
    workers: int = Field(default=2, ge=1, le=256, description="Processes per evaluation.")
    sampler_seed: int = Field(default=0, description="Seed of the optimiser.")
    fitted: Path | None = Field(default=None, description="Fragment to write (default calibration/fitted/<name>.yaml).")
    report: Path | None = Field(default=None, description="Report folder (default calibration/reports/<name>/).")
    notes: str = Field(default="", description="Why moments outside two SE miss (Markdown), for the report.")


def load_config(path: str | Path) -> CalibrationConfig:
    """Read and validate a calibration config; problems are located like scenario problems."""
    path = Path(path)
    try:
        data = load_yaml_file(path, "an existing calibration config")
    except YamlFileError as err:
        raise ScenarioError([Problem(err.file, err.key_path, err.expected, err.found)]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "(top level)", "a mapping of keys", type(data).__name__)])
    try:
        config = CalibrationConfig.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from(err, {}, str(path))) from None
    root = path.parent
    update: dict[str, Any] = {"targets": (root / config.targets).resolve()}
    update["fitted"] = (root / config.fitted).resolve() if config.fitted else None
    update["report"] = (root / config.report).resolve() if config.report else None
    update["base_scenario"] = (root / config.base_scenario).resolve() if config.base_scenario else None
    return config.model_copy(update=update)


def base_mapping(config: CalibrationConfig) -> dict[str, Any]:
    """The scenario every evaluation starts from: the base file (with its `extends:`), the
    config's fixed keys and its dates."""
    from sim.scenario.loader import deep_merge, resolve_file

    data: dict[str, Any] = resolve_file(config.base_scenario)[0] if config.base_scenario else {}
    data = deep_merge(data, config.scenario)
    data["name"] = f"calibration-{config.name}"
    if config.start_date is not None:
        data["start_date"] = config.start_date
    if config.end_date is not None:
        data["end_date"] = config.end_date
    return data


def read_targets(path: Path) -> pd.DataFrame:
    """The targets table: name, value, se, unit, level_comparable (YAML list of moments)."""
    try:
        data = load_yaml_file(path, "a targets file")
    except YamlFileError as err:
        raise ScenarioError([Problem(err.file, err.key_path, err.expected, err.found)]) from None
    rows = data["moments"] if isinstance(data, dict) else data
    return pd.DataFrame(rows)


def select_targets(config: CalibrationConfig, table: pd.DataFrame) -> list[Target]:
    """The targets a config fits, with SE floors."""
    if config.moments:
        unknown = sorted(set(config.moments) - set(table["name"]))
        if unknown:
            raise ScenarioError(
                [Problem(str(config.targets), "moments", "names in the targets file", ", ".join(unknown))]
            )
        chosen = table[table["name"].isin(config.moments)]
    else:
        comparable = table["level_comparable"] if "level_comparable" in table else True
        chosen = table[comparable & table["value"].notna()]
    return [
        Target(
            r.name, float(r.value), float(r.se) if pd.notna(r.se) else 0.0, config.se_floor_share * abs(float(r.value))
        )
        for r in chosen.itertuples(index=False)
    ]


def run_fit(
    config: CalibrationConfig, repo_root: Path, progress: Callable[[int, int, float], None] | None = None
) -> dict[str, Path]:
    """Fit, then write the fragment and the report; returns the paths written."""
    table = read_targets(config.targets)
    targets = select_targets(config, table)
    base = base_mapping(config)
    parameters = [Parameter(p.key, p.low, p.high, p.log) for p in config.parameters]
    fitted = config.fitted or repo_root / "calibration" / "fitted" / f"{config.name}.yaml"
    report = config.report or repo_root / "calibration" / "reports" / config.name
    fitted.parent.mkdir(parents=True, exist_ok=True)
    study = f"sqlite:///{fitted.with_suffix('.study.db')}"
    fit = Calibration(
        base, parameters, targets, "sim.calibration.simulated:simulated_moments", config.seeds, config.workers
    )
    start = starting_point(fit, fitted)
    best, history = fit.run(config.trials, storage=study, study_name=config.name, sampler_seed=config.sampler_seed,
                            progress=progress, start=start)  # fmt: skip
    # Re-evaluate the best parameters to report every moment with its per-seed spread.
    final = fit.evaluate(best.params)
    fit.close()
    header = (
        f"Fitted by `plumbing calibrate` ({config.name}) on {stamp()}: method of simulated moments,\n"
        f"{len(targets)} target moments, seeds {config.seeds}, {len(history)} trials, loss {final.loss:.3f}.\n"
        f"Regenerate: plumbing calibrate calibration/configs/{config.name}.yaml"
    )
    fitted.write_text(fitted_fragment(best.params, header), encoding="utf-8")
    paths = write_report(report, config, table, targets, final, history)
    overlay = draw_window_overlay(config, fit.scenario(best.params), report)
    if overlay is not None:
        paths["overlay"] = overlay
    return {"fitted": fitted, **paths}


def starting_point(fit: Calibration, fitted: Path) -> dict[str, float]:
    """Where a new search starts: each parameter's value in the fit being replaced (the fitted
    file, when there is one), else its value in the base scenario (a key new to the fit)."""
    previous: dict[str, Any] = {}
    if fitted.exists():
        data = load_yaml_file(fitted, "a fitted-parameters file")
        previous = data if isinstance(data, dict) else {}
    base = fit.scenario({})
    start: dict[str, float] = {}
    for p in fit.parameters:
        value: Any = previous
        for part in p.key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if not isinstance(value, int | float):
            value = base
            for part in p.key.split("."):
                value = getattr(value, part)
        start[p.key] = float(value)
    return start


def draw_window_overlay(config: CalibrationConfig, scenario: Any, folder: Path) -> Path | None:
    """Simulated (first seed, fitted parameters) against real distributions over the targets'
    repo window, when a real data folder is at hand (PLUMBING_DATA_DIR); None otherwise."""
    import os

    from sim import TreasuryMarketModel
    from sim.dashboard.plots import draw_overlay
    from sim.data import load_real_tables

    data_dir = os.environ.get("PLUMBING_DATA_DIR", "")
    if not data_dir or not Path(data_dir).is_dir():
        return None
    real = load_real_tables(data_dir, scenario.start_date, scenario.end_date)
    simulated = TreasuryMarketModel(scenario, seed=config.seeds[0]).run().results()
    path = folder / "overlay.png"
    draw_overlay(simulated, real, path, labels=(f"fitted model, seed {config.seeds[0]}", "real"))
    with (folder / "report.md").open("a", encoding="utf-8") as report:
        report.write(f"\n![simulated vs real over {scenario.start_date} to {scenario.end_date}](overlay.png)\n")
    return path


def moment_table(
    table: pd.DataFrame, targets: list[Target], evaluation: Evaluation, se_floor_share: float = 0.0
) -> pd.DataFrame:
    """Target, SE, simulated value and t-statistic per moment (fitted ones first). Where the SE is
    zero to rounding (a real series that never moved, EFFR - IORB at -7bp for years, is not
    measured with infinite precision) the t-statistic divides by the fit's floor instead,
    `se_floor_share` of |target|."""
    fitted_names = {t.name for t in targets}
    weight_se = {t.name: t.weight_se for t in targets}
    rows = []
    for r in table.itertuples(index=False):
        simulated = evaluation.moments.get(r.name)
        se = float(r.se) if pd.notna(r.se) else math.nan
        negligible = math.isfinite(se) and se <= 1e-9 * max(1.0, abs(float(r.value)))
        se_t = se_floor_share * abs(float(r.value)) if negligible else se
        t = (simulated - r.value) / se_t if simulated is not None and se_t > 0 else math.nan
        rows.append({
            "moment": r.name, "unit": getattr(r, "unit", ""), "target": r.value, "se": se, "simulated": simulated,
            "t": t, "within_2se": bool(abs(t) <= 2) if math.isfinite(t) else None, "fitted": r.name in fitted_names,
            "weight_se": weight_se.get(r.name), "level_comparable": getattr(r, "level_comparable", True),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.sort_values("fitted", ascending=False, kind="stable").reset_index(drop=True)


def write_report(
    folder: Path, config: CalibrationConfig, table: pd.DataFrame, targets: list[Target], final: Evaluation,
    history: list[float],
) -> dict[str, Path]:  # fmt: skip
    """report.md, moments.csv, loss.png and moments.png in `folder`."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    folder.mkdir(parents=True, exist_ok=True)
    moments = moment_table(table, targets, final, config.se_floor_share)
    moments.to_csv(folder / "moments.csv", index=False)
    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(range(1, len(history) + 1), history, ".", color="tab:gray", label="trial")
    ax.plot(range(1, len(history) + 1), pd.Series(history).cummin(), color="tab:blue", label="best so far")
    ax.set_yscale("log")
    ax.set(xlabel="trial", ylabel="loss (sum of squared t)", title=f"{config.name}: loss history")
    ax.legend()
    fig.savefig(folder / "loss.png", dpi=90)
    fitted_rows = moments[moments["fitted"] & moments["simulated"].notna()]
    fig = Figure(figsize=(8, 0.45 * max(len(fitted_rows), 4) + 1), layout="constrained")
    ax = fig.subplots()
    y = range(len(fitted_rows))
    scaled_t = fitted_rows["t"].clip(-10, 10)
    ax.barh(list(y), scaled_t, color=["tab:green" if abs(t) <= 2 else "tab:red" for t in fitted_rows["t"]])
    ax.axvline(-2, color="black", lw=0.8, ls="--")
    ax.axvline(2, color="black", lw=0.8, ls="--")
    ax.set_yticks(list(y), fitted_rows["moment"])
    ax.set(xlabel="(simulated - target) / standard error, clipped at +-10", title="Fitted moments")
    fig.savefig(folder / "moments.png", dpi=90)
    within = moments.loc[moments["fitted"], "within_2se"].fillna(False)
    out = io.StringIO()
    out.write(f"# Calibration report: {config.name}\n\n{config.description}\n\n")
    out.write(f"Method of simulated moments, {len(history)} trials (Optuna TPE, the first at the fit it replaced: ")
    out.write(f"loss {history[0]:.3f} there), seeds {config.seeds} as common ")
    base = base_mapping(config)
    out.write(f"random numbers, simulated window {base['start_date']} to {base['end_date']}. Loss at the fit: ")
    out.write(f"{final.loss:.3f}. {int(within.sum())} of {len(within)} fitted moments lie within two standard ")
    out.write("errors of their targets.\n\n## Fitted parameters\n\n| parameter | bounds | fitted |\n|---|---|---|\n")
    for p in config.parameters:
        out.write(f"| `{p.key}` | [{p.low:g}, {p.high:g}]{' log' if p.log else ''} | {final.params[p.key]:.4g} |\n")
    out.write("\n## Moments\n\n| moment | unit | target | SE | simulated | t | within 2 SE | fitted |\n")
    out.write("|---|---|---|---|---|---|---|---|\n")
    for r in moments.itertuples(index=False):
        sim = "n/a" if r.simulated is None or pd.isna(r.simulated) else f"{r.simulated:.4g}"
        t = "" if pd.isna(r.t) else f"{r.t:+.2f}"
        ok = {True: "yes", False: "**no**"}.get(r.within_2se, "")
        out.write(f"| {r.moment} | {r.unit} | {r.target:.4g} | {r.se:.3g} | {sim} | {t} | {ok} | "
                  f"{'yes' if r.fitted else 'no'} |\n")  # fmt: skip
    misses = moments.loc[moments["fitted"] & (moments["within_2se"] == False), "moment"].tolist()  # noqa: E712
    out.write("\n## Moments outside two standard errors\n\n")
    out.write(("Fitted moments that miss: " + ", ".join(f"`{m}`" for m in misses) + ".\n\n") if misses else "None.\n\n")
    if config.notes:
        out.write(config.notes.strip() + "\n")
    out.write("\n![loss history](loss.png)\n\n![fitted moments](moments.png)\n")
    (folder / "report.md").write_text(out.getvalue(), encoding="utf-8")
    return {"report": folder / "report.md", "moments": folder / "moments.csv"}
