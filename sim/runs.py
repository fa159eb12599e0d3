"""Run folders: one scenario and seed in, one self-describing folder of results out.

A run folder is `<out>/<scenario-name>/<UTC-timestamp>-seed<N>/` holding exactly the files
of the output contract. It is built in a hidden temporary folder beside its target and
moved into place in one `os.replace`, so a folder that exists is always complete: a
failure or Ctrl-C part-way leaves nothing behind.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mesa
import pandas as pd

from sim import TreasuryMarketModel, __version__
from sim.calendar import business_days
from sim.dashboard import Dashboard, Scorecard, compute_dashboard, score
from sim.dashboard.plots import render_dashboard
from sim.report.html import report_html
from sim.scenario import Problem, Scenario, ScenarioError, load_scenario, scenario_from_dict, scenario_to_yaml

TABLES = ("daily", "auctions", "dealers")
RUN_FILES = (
    "manifest.json", "scenario.yaml", "daily.parquet", "auctions.parquet", "dealers.parquet",
    "dashboard.json", "dashboard.png", "report.html",
)  # fmt: skip
Progress = Callable[[int, int, dt.date], None]


class RunFolderError(ValueError):
    """A folder given as a run is missing or incomplete."""


@dataclass(frozen=True)
class RunResult:
    """A finished run: where its folder is and what its manifest says."""

    folder: Path
    manifest: dict[str, Any]


# ---------------------------------------------------------------- the scenario to run
def nth_business_day(start: dt.date, n: int) -> dt.date:
    """The n-th US business day on or after `start` (n >= 1)."""
    # Two calendar days per business day plus a month covers every holiday cluster.
    days = business_days(start, start + dt.timedelta(days=2 * n + 31))
    return days[n - 1].date()


def prepare_scenario(
    path: str | Path, days: int | None = None, start: dt.date | None = None, end: dt.date | None = None
) -> Scenario:
    """Load a scenario file and apply the command line's date overrides.

    Args:
        path: YAML scenario file (may `extends:` another).
        days: simulate the first `days` business days from the start date (the end date
            becomes the last of them, even if that lies past the file's end date).
        start: replaces `start_date`.
        end: replaces `end_date` (not together with `days`).

    Raises:
        ScenarioError: the file or the overridden dates are invalid (located problems).
    """
    scenario = load_scenario(path)
    update: dict[str, dt.date] = {}
    if start is not None:
        update["start_date"] = start
    if end is not None:
        update["end_date"] = end
    if days is not None:
        update["end_date"] = nth_business_day(start or scenario.start_date, days)
    source = f"{path} (dates from the command line)" if update else str(path)
    if update:
        # Re-validate, so an end before the start is reported like any other scenario problem.
        scenario = scenario_from_dict({**scenario.model_dump(), **update}, source=source)
    if len(business_days(scenario.start_date, scenario.end_date)) == 0:
        found = f"{scenario.start_date} to {scenario.end_date}"
        raise ScenarioError([Problem(source, "end_date", "at least one business day from start_date", found)])
    return scenario


# ---------------------------------------------------------------- the run folder
def safe_name(name: str) -> str:
    """A name (of a scenario or run) made safe as one file or folder name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "scenario"


def _make_dirs(path: Path) -> list[Path]:
    """Create `path` and missing parents; return the folders created, outermost first."""
    missing = [p for p in (path, *path.parents) if not p.exists()][::-1]
    for folder in missing:
        folder.mkdir(exist_ok=True)
    return missing


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def _free_target(parent: Path, stem: str) -> Path:
    """`parent/stem`, or `stem-2`, `stem-3`... when a run of the same second and seed exists."""
    target, k = parent / stem, 1
    while target.exists():
        k += 1
        target = parent / f"{stem}-{k}"
    return target


def execute_run(
    scenario: Scenario,
    seed: int,
    out: str | Path = "results",
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    source: str = "",
    reference: Dashboard | list[Dashboard] | None = None,
) -> RunResult:
    """Run a scenario and write its run folder atomically.

    Args:
        scenario: the resolved scenario (dates already final).
        seed: random seed (non-negative integer).
        out: results root; the folder is `<out>/<scenario-name>/<UTC-timestamp>-seed<N>/`.
        progress: called after each simulated day with (days done, total days, date).
        notify: receives warnings (e.g. shocks dated after the last simulated day).
        source: the scenario file the run came from, recorded in the manifest.
        reference: dashboard(s) to score this run against (a baseline run, an ensemble,
            a real period); the scorecard goes into dashboard.json, the figure and the report.

    Returns:
        The run folder and its manifest.

    Raises:
        Whatever the model raises (and KeyboardInterrupt); the temporary folder and any
        folder this call created are removed first.
    """
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    clock = time.perf_counter()
    out = Path(out)
    slug = safe_name(scenario.name)
    stem = f"{started:%Y%m%dT%H%M%SZ}-seed{seed}"
    # A hidden, unique name beside the target; mkdir (unlike mkdtemp) keeps the user's umask.
    tmp = out / f".tmp-{slug}-{stem}-{os.getpid()}-{time.monotonic_ns()}"
    created: list[Path] = []
    try:
        created += _make_dirs(out)
        tmp.mkdir()
        model, warnings = _simulate(scenario, seed, progress, notify)
        simulated = time.perf_counter() - clock
        tables = model.results()
        for name in TABLES:
            tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        dashboard = compute_dashboard(tables, f"{scenario.name} | seed {seed}")
        scorecard = score(dashboard, reference) if reference else None
        manifest = _manifest(scenario, seed, started, simulated, len(tables["daily"]), source, warnings)
        _write_scenario_and_dashboard(tmp, scenario, seed, manifest, tables, dashboard, scorecard)
        manifest["wall_seconds"] = round(time.perf_counter() - clock, 3)
        _write_json(tmp / "manifest.json", manifest)
        created += _make_dirs(out / slug)
        target = _free_target(out / slug, stem)
        os.replace(tmp, target)
    except BaseException:
        _remove_partial_run(tmp, created)
        raise
    return RunResult(target, manifest)


def _simulate(
    scenario: Scenario, seed: int, progress: Progress | None, notify: Callable[[str], None] | None
) -> tuple[TreasuryMarketModel, list[str]]:
    """The model run over the scenario, and the warnings on shocks the window cuts (told before the run starts)."""
    model = TreasuryMarketModel(scenario, seed=seed)
    warnings = list(model.shocks.outside_window)
    if notify is not None:
        for warning in warnings:
            notify(warning)
    model.run(progress=progress)
    return model, warnings


def _manifest(
    scenario: Scenario,
    seed: int,
    started: dt.datetime,
    simulated: float,
    days: int,
    source: str,
    warnings: list[str],
) -> dict[str, Any]:
    """What the run was and how it was made; `wall_seconds` is set once every file is written."""
    return {
        "scenario": scenario.name,
        "seed": seed,
        "package_version": __version__,
        "started_at_utc": started.isoformat().replace("+00:00", "Z"),
        "wall_seconds": 0.0,
        "simulation_seconds": round(simulated, 3),
        "days": days,
        "start_date": scenario.start_date.isoformat(),
        "end_date": scenario.end_date.isoformat(),
        "source": source,
        "warnings": warnings,
        "mesa_version": mesa.__version__,
        "python_version": platform.python_version(),
    }


def _write_scenario_and_dashboard(
    folder: Path,
    scenario: Scenario,
    seed: int,
    manifest: dict[str, Any],
    tables: dict[str, pd.DataFrame],
    dashboard: Dashboard,
    scorecard: Scorecard | None,
) -> None:
    """The resolved scenario (to rerun the run as it was), the dashboard as data, figure and report."""
    png = render_dashboard(tables, dashboard, scorecard)
    header = (
        f"# Resolved scenario of a plumbing {__version__} run (seed {seed}); every key, defaults included.\n"
        f"# Rerun: plumbing run scenario.yaml --seed {seed}\n"
    )
    (folder / "scenario.yaml").write_text(header + scenario_to_yaml(scenario), encoding="utf-8")
    _write_json(folder / "dashboard.json", {
        "scenario": scenario.name, "seed": seed, "start_date": manifest["start_date"],
        "end_date": manifest["end_date"], "days": manifest["days"], **dashboard.to_dict(),
        "scorecard": None if scorecard is None else scorecard.to_dict(),
    })  # fmt: skip
    (folder / "dashboard.png").write_bytes(png)
    (folder / "report.html").write_text(report_html(scenario, manifest, dashboard, png, scorecard), encoding="utf-8")


def _remove_partial_run(tmp: Path, created: list[Path]) -> None:
    """Leave nothing of a failed run: its temporary folder and the folders it made, if still empty."""
    shutil.rmtree(tmp, ignore_errors=True)
    for folder in reversed(created):
        # Only folders this run made, and only if nothing else has landed in them.
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def read_run(folder: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """A run folder's manifest and its daily, auctions and dealers tables.

    Raises:
        RunFolderError: the folder or one of its tables is missing.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise RunFolderError(f"{folder}: expected a run folder; found no folder")
    missing = [f"{name}.parquet" for name in TABLES if not (folder / f"{name}.parquet").is_file()]
    if missing:
        raise RunFolderError(f"{folder}: expected a run folder; missing {', '.join(missing)}")
    manifest_path = folder / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8")) if manifest_path.is_file() else {}
    tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLES}
    return manifest, tables
