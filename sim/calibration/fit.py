"""A calibration as data: the config file, the fit, the fitted fragment and the report.

`plumbing calibrate CONFIG.yaml` reads a config (which parameters, their bounds, which
target moments, seeds, trials), runs the method of simulated moments, and writes the
fitted parameters as a scenario fragment (`calibration/fitted/`) and a report
(`calibration/reports/<name>/`, `sim.calibration.report`).

A config fits one window (a base scenario and a targets file) or several windows of history
jointly (`windows:`, each with its own scenario, replay included, and targets file): one
parameter set runs in every window, the loss sums the fitted windows' moments (each moment
only where that window's data have it), and windows marked `fitted: false` are scored at the
fit and reported, not fitted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim import TreasuryMarketModel
from sim.calibration.msm import Calibration, Parameter, Target, apply_parameters, fitted_fragment, stamp
from sim.calibration.report import draw_reserve_curve, draw_window_overlay, real_data_folder, write_report
from sim.scenario import Problem, Scenario, ScenarioError, scenario_from_dict
from sim.scenario.loader import deep_merge, lookup, nested, validated_file
from sim.scenario.yamlfile import YamlFileError, load_yaml_file


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Strict):
    key: str = Field(description="Dotted scenario key, e.g. banks.demand_curve_level_bp.")
    low: float = Field(description="Lower bound.")
    high: float = Field(description="Upper bound.")
    log: bool = Field(default=False, description="Search on a log scale.")


class WindowSpec(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9_]+$", description="Name of the window (its moments: <name>/<moment>).")
    scenario: Path = Field(description="The window's scenario file (relative to the config), replay included.")
    targets: Path = Field(description="The window's targets file (YAML from sim.calibration.targets), relative.")
    fitted: bool = Field(default=True, description="In the loss; false: scored at the fit only (validation).")
    moments: list[str] = Field(
        default=[],
        description="Moments fitted in this window only, beyond the config's (a level only this window's data pin, "
        "such as the ON RRP's when it held trillions).",
    )
    own_keys: list[str] = Field(
        default=[],
        description="Fitted keys this window's scenario sets for its own era (such as 2018-2019's banks' lowest "
        "comfortable reserves, far below today's): the fit's value of them is not applied in this window.",
    )

    def moment_names(self, config_moments: list[str]) -> list[str]:
        """The moments this window fits: the config's and its own (none named: every level-comparable one)."""
        return [*config_moments, *(m for m in self.moments if m not in config_moments)] if config_moments else []


class CalibrationConfig(_Strict):
    """What to fit, to what, and how hard to search."""

    name: str = Field(min_length=1, description="Name of the fit (file names).")
    description: str = Field(default="", description="One line on what the fit is for.")
    targets: Path | None = Field(
        default=None, description="Targets file (YAML from sim.calibration.targets), relative to this config."
    )
    windows: list[WindowSpec] = Field(default=[], description="Windows of history fitted jointly (instead of targets).")
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
    confirm_candidates: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="After the search, evaluate this many best trials (and the first, the fit replaced) again on "
        "fresh seeds and fit the one with the lowest fresh loss (0: the search's lowest loss); writes "
        "<fitted>.near_optimal.yaml.",
    )
    fitted: Path | None = Field(default=None, description="Fragment to write (default calibration/fitted/<name>.yaml).")
    report: Path | None = Field(default=None, description="Report folder (default calibration/reports/<name>/).")
    notes: str = Field(default="", description="Why moments outside two SE miss (Markdown), for the report.")

    @model_validator(mode="after")
    def _one_window_or_several(self) -> CalibrationConfig:
        if bool(self.windows) == (self.targets is not None):
            raise ValueError("either targets (one window) or windows (several), not both")
        names = [w.name for w in self.windows]
        if len(set(names)) < len(names):
            raise ValueError(f"windows with distinct names (found {names})")
        if self.windows and not any(w.fitted for w in self.windows):
            raise ValueError("at least one window with fitted: true")
        if self.windows and (self.base_scenario or self.start_date or self.end_date):
            raise ValueError(
                "base_scenario, start_date and end_date unset with windows (each window's scenario has them)"
            )
        return self


@dataclass(frozen=True)
class Window:
    """A window of the fit: its base scenario mapping (replay read), targets table and fitted targets.

    With several windows, target and moment names are `<name>/<moment>`; one window has no name.
    """

    name: str
    base: dict[str, Any]
    table: pd.DataFrame
    targets: list[Target]
    fitted: bool
    fit_set: tuple[str, ...] = ()  # the moments it fits (unprefixed; empty: every level-comparable one)
    own_keys: tuple[str, ...] = ()  # fitted keys its scenario sets itself

    @property
    def prefix(self) -> str:
        return f"{self.name}/" if self.name else ""

    def scenario(self, params: Mapping[str, float]) -> Scenario:
        """The window's scenario under a parameter set (its own keys keep the window's values)."""
        return scenario_from_dict(apply_parameters(self.base, params, keep=self.own_keys))


def windows_calibration(config: CalibrationConfig, windows: Sequence[Window], seeds: Sequence[int]) -> Calibration:
    """One parameter set evaluated in `windows` on `seeds`: the fit's box, the fitted windows'
    targets, each window's own keys left to it."""
    return Calibration(
        None,
        [Parameter(p.key, p.low, p.high, p.log) for p in config.parameters],
        [t for w in windows if w.fitted for t in w.targets],
        "sim.calibration.simulated:simulated_moments",
        seeds,
        config.workers,
        windows={w.name: w.base for w in windows},
        own_keys={w.name: w.own_keys for w in windows},
    )


def load_config(path: str | Path) -> CalibrationConfig:
    """Read and validate a calibration config; problems are located like scenario problems."""
    path = Path(path)
    config = validated_file(path, CalibrationConfig, "an existing calibration config")
    fitted_keys = {p.key for p in config.parameters}
    unfitted = [
        Problem(str(path), f"windows.{i}.own_keys", "keys among the fit's parameters", ", ".join(keys))
        for i, w in enumerate(config.windows)
        if (keys := sorted(set(w.own_keys) - fitted_keys))
    ]
    if unfitted:
        raise ScenarioError(unfitted)
    root = path.parent
    update: dict[str, Any] = {"targets": (root / config.targets).resolve() if config.targets else None}
    update["windows"] = [
        w.model_copy(update={"scenario": (root / w.scenario).resolve(), "targets": (root / w.targets).resolve()})
        for w in config.windows
    ]
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


def select_targets(
    config: CalibrationConfig,
    table: pd.DataFrame,
    file: Path | None = None,
    where_measured: bool = False,
    moments: list[str] | None = None,
) -> list[Target]:
    """The targets a config fits, with SE floors.

    `where_measured`: the config's moments this window's data measure (a window without auctions
    or fails has no such targets); otherwise every named moment must have a target.
    `moments`: the names to fit instead of the config's (a window's own list).
    """
    names = config.moments if moments is None else moments
    if names:
        unknown = sorted(set(names) - set(table["name"]))
        if unknown:
            raise ScenarioError(
                [Problem(str(file or config.targets), "moments", "names in the targets file", ", ".join(unknown))]
            )
        chosen = table[table["name"].isin(names)]
        if where_measured:
            chosen = chosen[chosen["value"].notna()]
    else:
        comparable = table["level_comparable"] if "level_comparable" in table else True
        chosen = table[comparable & table["value"].notna()]
    return [
        Target(
            r.name, float(r.value), float(r.se) if pd.notna(r.se) else 0.0, config.se_floor_share * abs(float(r.value))
        )
        for r in chosen.itertuples(index=False)
    ]


def calibration_windows(config: CalibrationConfig) -> list[Window]:
    """The fit's windows: each base mapping with its replay read once, its targets (named
    `<window>/<moment>` when there are several windows) and whether it is fitted."""
    if not config.windows:
        assert config.targets is not None  # the config's validator
        table = read_targets(config.targets)
        return [Window("", base_mapping(config), table, select_targets(config, table), True, tuple(config.moments))]
    from sim.scenario.loader import deep_merge, resolve_file

    windows = []
    for spec in config.windows:
        data = deep_merge(resolve_file(spec.scenario)[0], config.scenario)
        data["name"] = f"calibration-{config.name}-{spec.name}"
        base = scenario_from_dict(data, source=str(spec.scenario)).model_dump(mode="json")  # the replay read here
        table = read_targets(spec.targets)
        targets = select_targets(
            config, table, spec.targets, where_measured=True, moments=spec.moment_names(config.moments)
        )
        prefix = f"{spec.name}/"
        named = table.assign(name=prefix + table["name"].astype(str), window_of_fit=spec.name)
        targets = [Target(prefix + t.name, t.value, t.se, t.floor) for t in targets]
        unset = [key for key in spec.own_keys if lookup(data, key, missing=Ellipsis) is Ellipsis]  # set by the file
        if unset:
            raise ScenarioError(
                [Problem(str(spec.scenario), key, "a value of this window's own (own_keys)", "unset") for key in unset]
            )
        windows.append(Window(spec.name, base, named, targets, spec.fitted, tuple(spec.moment_names(config.moments)),
                              tuple(spec.own_keys)))  # fmt: skip
    return windows


def search_problem(config: CalibrationConfig, windows: Sequence[Window]) -> str:
    """Digest (hex) of everything a search's losses depend on: the config's box, moments, seeds and
    sampler; each window's targets and scenario, the fitted keys it does not keep itself left out
    (every trial sets them, and a finished fit writes its values into the scenarios that extend
    the fitted file) and the data folder's path left out; and the model's code. A study resumes
    only a search of the same problem.
    """
    import sim

    fitted_keys = [p.key for p in config.parameters]
    # The scenarios, dates and targets enter through the windows, as the evaluations read them.
    parts: list[Any] = [config.model_dump(mode="json", include={"parameters", "moments", "se_floor_share", "seeds",
                                                                 "sampler_seed"})]  # fmt: skip
    for w in windows:
        # Where the replayed data were read from is not part of the problem (what they gave is).
        base = deep_merge(w.base, nested("replay.data_folder_read", None))
        for key in fitted_keys:
            if key not in w.own_keys:
                base = deep_merge(base, nested(key, None))
        targets = [(t.name, t.value, t.se, t.floor) for t in w.targets]
        parts.append([w.name, w.fitted, list(w.fit_set), list(w.own_keys), targets, base])
    digest = hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode())
    package = Path(sim.__file__).parent
    for path in sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def run_fit(
    config: CalibrationConfig,
    repo_root: Path,
    progress: Callable[[int, int, float], None] | None = None,
    notice: Callable[[str], None] | None = None,
) -> dict[str, Path]:
    """Fit, then write the fragment and the report; returns the paths written. `notice` is told
    when the stored search was of a different problem and starts again (`search_problem`)."""
    windows = calibration_windows(config)
    fitted_windows = [w for w in windows if w.fitted]
    targets = [t for w in fitted_windows for t in w.targets]
    fitted = config.fitted or repo_root / "calibration" / "fitted" / f"{config.name}.yaml"
    report = config.report or repo_root / "calibration" / "reports" / config.name
    fitted.parent.mkdir(parents=True, exist_ok=True)
    study = f"sqlite:///{fitted.with_suffix('.study.db')}"
    fit = windows_calibration(config, fitted_windows, config.seeds)
    start = starting_point(fit, fitted)
    best, history = fit.run(config.trials, storage=study, study_name=config.name, sampler_seed=config.sampler_seed,
                            progress=progress, start=start, problem=search_problem(config, fitted_windows),
                            notice=notice)  # fmt: skip
    chosen, confirmation = best.params, ""
    if config.confirm_candidates >= 2:
        # The search's lowest loss is partly its luckiest draw of seeds: its best trials run again
        # on fresh seeds, and the fit is the one that holds up (sim.calibration.near_optimal).
        from sim.calibration.near_optimal import confirmation_markdown, near_optimal, write_near_optimal

        _, candidates, margin = write_near_optimal(config, repo_root, config.confirm_candidates)
        chosen = near_optimal(candidates, margin)[0].params
        # The fit's degrees from the windows already built (fit_degrees would build them again).
        confirmation = confirmation_markdown(candidates, margin, len(targets), len(config.parameters))
    # Re-evaluate the chosen parameters in every window, scored ones included, to report every
    # moment with its per-seed spread.
    fit.close()
    fit = windows_calibration(config, windows, config.seeds)
    final = fit.evaluate(chosen)
    fit.close()
    header = (
        f"Fitted by `plumbing calibrate` ({config.name}) on {stamp()}: method of simulated moments,\n"
        f"{len(targets)} target moments, seeds {config.seeds}, {len(history)} trials, loss {final.loss:.3f}"
        f"{'; of its best trials, the lowest loss on fresh seeds' if confirmation else ''}.\n"
        f"Regenerate: plumbing calibrate calibration/configs/{config.name}.yaml"
    )
    fitted.write_text(fitted_fragment(chosen, header), encoding="utf-8")
    paths = write_report(report, config, windows, final, history)
    if confirmation:
        with (report / "report.md").open("a", encoding="utf-8") as out:
            out.write("\n## The fit on fresh seeds\n\n" + confirmation)
    runs = {}
    if real_data_folder() is not None:
        # The fitted model in each window (first seed) drawn against the real market.
        for window in windows:
            scenario = window.scenario(chosen)
            runs[window.name] = TreasuryMarketModel(scenario, seed=config.seeds[0]).run().results()
            overlay = draw_window_overlay(config, scenario, runs[window.name], report, window.name)
            if overlay is not None:
                paths[f"overlay{'_' + window.name if window.name else ''}"] = overlay
    curve = draw_reserve_curve(runs, report)
    if curve is not None:
        with (report / "report.md").open("a", encoding="utf-8") as out:
            out.write("\n## The reserve demand curve\n\n" + curve)
        paths["reserve_curve"] = report / "reserve_curve.png"
    return {"fitted": fitted, **paths}


def starting_point(fit: Calibration, fitted: Path) -> dict[str, float]:
    """Where a new search starts: each parameter's value in the fit being replaced (the fitted
    file, when there is one), else its value in the base scenario (a key new to the fit; the
    first window's that does not keep its own), else,
    for an optional key the base leaves unset, the middle of its bounds (geometric on a log scale)."""
    previous: dict[str, Any] = {}
    if fitted.exists():
        data = load_yaml_file(fitted, "a fitted-parameters file")
        previous = data if isinstance(data, dict) else {}
    start: dict[str, float] = {}
    for p in fit.parameters:
        value: Any = lookup(previous, p.key)
        if not isinstance(value, int | float):
            # The base of the first window the fit sets the key in (not one keeping its own).
            window = next((name for name in fit.windows if p.key not in fit.own_keys.get(name, ())), None)
            value = fit.scenario({}, window)
            for part in p.key.split("."):
                value = getattr(value, part)
        if value is None:
            value = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2.0
        start[p.key] = float(value)
    return start
