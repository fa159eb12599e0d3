"""Run folders: one scenario and seed in, one self-describing folder of results out.

A run folder is `<out>/<scenario-name>/<UTC-timestamp>-seed<N>/` holding exactly the files
of the output contract. It is built in a hidden temporary folder `<out>/.tmp-<scenario>-...`
with `manifest.json` written last, and moved into place in one `os.replace` onto a name
claimed with `mkdir` (so concurrent runs never take the same name): a folder that exists is
complete, and a failure, Ctrl-C or SIGTERM part-way leaves nothing behind. Temporary folders
of processes that were killed outright (SIGKILL, power loss) are swept by the next run into
the same `<out>`. `read_run` accepts only a folder holding a manifest, never a temporary one.
"""

from __future__ import annotations

import datetime as dt
import errno
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
from sim.dashboard import Dashboard, compute_dashboard
from sim.dashboard.verdict import Verdict, judge
from sim.files import RunFolderError
from sim.messages import printable
from sim.scenario import Problem, Scenario, ScenarioError, load_scenario, scenario_from_dict, scenario_to_yaml
from sim.scenario.loader import FIRST_DATE, LAST_DATE
from sim.scenario.replay import replayed_series

TABLES = ("daily", "auctions", "dealers")
RUN_FILES = (
    "manifest.json", "scenario.yaml", "daily.parquet", "auctions.parquet", "dealers.parquet",
    "dashboard.json", "dashboard.png", "report.html",
)  # fmt: skip
Progress = Callable[[int, int, dt.date], None]
TMP_PREFIX = ".tmp-"
# `.tmp-<scenario>-<stamp>-seed<N>-<pid>-<ns>`: the pid tells whether its maker still runs.
_TMP_NAME = re.compile(r"^\.tmp-.+-(\d+)-(\d+)$")

__all__ = ["RunFolderError", "RunResult", "execute_run", "prepare_scenario", "read_run", "safe_name"]


@dataclass(frozen=True)
class RunResult:
    """A finished run: where its folder is and what its manifest says."""

    folder: Path
    manifest: dict[str, Any]


# ---------------------------------------------------------------- the scenario to run
def nth_business_day(start: dt.date, n: int) -> dt.date | None:
    """The n-th US business day on or after `start` (n >= 1); None if it falls after LAST_DATE."""
    # Two calendar days per business day plus a month covers every holiday cluster.
    window = (LAST_DATE - start).days
    if n > window + 1:
        return None
    days = business_days(start, min(start + dt.timedelta(days=2 * n + 31), LAST_DATE))
    return days[n - 1].date() if len(days) >= n else None


def prepare_scenario(
    path: str | Path,
    days: int | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    data_dir: str | Path | None = None,
) -> Scenario:
    """Load a scenario file and apply the command line's date overrides.

    Args:
        path: YAML scenario file (may `extends:` another).
        days: simulate the first `days` business days from the start date (the end date
            becomes the last of them, even if that lies past the file's end date).
        start: replaces `start_date`.
        end: replaces `end_date` (not together with `days`).
        data_dir: the public data folder a `replay:` reads (None: PLUMBING_DATA_DIR).

    Raises:
        ScenarioError: the file or the overridden dates are invalid (located problems).
    """
    scenario = load_scenario(path, data_dir=data_dir)
    source = f"{path} (dates from the command line)"
    for option, day in (("--start", start), ("--end", end)):
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:
            raise ScenarioError([Problem(source, option, f"a date from {FIRST_DATE} to {LAST_DATE}", str(day))])
    update: dict[str, dt.date] = {}
    if start is not None:
        update["start_date"] = start
    if end is not None:
        update["end_date"] = end
    if days is not None:
        first = start or scenario.start_date
        last = nth_business_day(first, days)
        if last is None:
            expected = f"a horizon from {first} ending by {LAST_DATE}"
            raise ScenarioError([Problem(source, "--days", expected, f"{days:,} business days")])
        update["end_date"] = last
    source = source if update else str(path)
    if update and scenario.replay.active:
        # A replay is read for the simulated days: read it again for the new ones.
        dates = {key: day.isoformat() for key, day in update.items()}
        scenario = load_scenario(path, overrides=dates, overrides_from=source, data_dir=data_dir)
    elif update:
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


def _claim_target(parent: Path, stem: str) -> Path:
    """Claim `parent/stem` (or `stem-2`, `stem-3`... when taken) by creating it empty, atomically.

    `mkdir` succeeds for one process only, so two runs of the same second and seed never pick
    the same name; the claimed empty folder is then replaced by the finished one.
    """
    k = 1
    while True:
        target = parent / (stem if k == 1 else f"{stem}-{k}")
        try:
            target.mkdir()
            return target
        except FileExistsError:
            k += 1


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: alive, another user's
        return True
    return True


def sweep_abandoned(out: Path) -> list[Path]:
    """Remove temporary run folders under `out` whose process is gone (killed outright); return them.

    A folder whose maker still runs (or whose pid was reused by a live process) is left alone.
    """
    removed: list[Path] = []
    try:
        entries = list(out.iterdir()) if out.is_dir() else []
    except OSError:
        return removed
    for entry in entries:
        found = _TMP_NAME.match(entry.name)
        if found and entry.is_dir() and not entry.is_symlink() and not _pid_alive(int(found.group(1))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


def execute_run(
    scenario: Scenario,
    seed: int,
    out: str | Path = "results",
    progress: Progress | None = None,
    notify: Callable[[str], None] | None = None,
    source: str = "",
    reference: Dashboard | list[Dashboard] | None = None,
    report: bool = True,
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
            a real period); the scorecard goes into dashboard.json and the figure, the verdict
            (what moved beyond the reference's noise) and the scorecard into the report.
        report: also draw `dashboard.png` and write `report.html` (False leaves both out:
            drawing the figure costs about as much as simulating a year).

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
    tmp = out / f"{TMP_PREFIX}{slug}-{stem}-{os.getpid()}-{time.monotonic_ns()}"
    created: list[Path] = []
    target: Path | None = None
    try:
        try:
            created += _make_dirs(out)
            sweep_abandoned(out)
            tmp.mkdir()
        except OSError as err:
            raise RunFolderError(
                f"--out {out}: expected a folder to write runs into; found {_os_reason(err)}"
            ) from None
        model, warnings = _simulate(scenario, seed, progress, notify)
        simulated = time.perf_counter() - clock
        tables = model.results()
        for name in TABLES:
            tables[name].to_parquet(tmp / f"{name}.parquet", index=False)
        dashboard = compute_dashboard(tables, f"{scenario.name} | seed {seed}")
        verdict = judge(dashboard, reference) if reference else None
        manifest = _manifest(scenario, seed, started, simulated, len(tables["daily"]), source, warnings)
        _write_scenario_and_dashboard(tmp, scenario, seed, manifest, tables, dashboard, verdict, report)
        manifest["wall_seconds"] = round(time.perf_counter() - clock, 3)
        _write_json(tmp / "manifest.json", manifest)
        created += _make_dirs(out / slug)
        target = _claim_target(out / slug, stem)
        os.replace(tmp, target)  # onto the claimed empty folder: atomic
    except BaseException:
        if target is not None and target.is_dir() and not any(target.iterdir()):
            target.rmdir()
        _remove_partial_run(tmp, created)
        raise
    return RunResult(target, manifest)


def _os_reason(err: OSError) -> str:
    where = f" at {err.filename}" if err.filename else ""
    if err.errno == errno.ENOTDIR:
        return f"a regular file in the way{where}"
    return f"{err.strerror or err}{where}"


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
        "replayed": {"data_folder": scenario.replay.data_folder_read, **replayed_series(scenario)}
        if scenario.replay.active
        else {},
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
    verdict: Verdict | None,
    report: bool = True,
) -> None:
    """The resolved scenario (to rerun the run as it was), the dashboard as data, and (with `report`)
    its figure and the HTML report."""
    scorecard = None if verdict is None else verdict.scorecard
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
    if not report:
        return
    # Imported here: matplotlib is a large import that a run without a report never needs.
    from sim.dashboard.plots import render_dashboard
    from sim.report.html import report_html

    png = render_dashboard(tables, dashboard, scorecard)
    (folder / "dashboard.png").write_bytes(png)
    (folder / "report.html").write_text(report_html(scenario, manifest, dashboard, png, verdict), encoding="utf-8")


def _remove_partial_run(tmp: Path, created: list[Path]) -> None:
    """Leave nothing of a failed run: its temporary folder and the folders it made, if still empty."""
    shutil.rmtree(tmp, ignore_errors=True)
    for folder in reversed(created):
        # Only folders this run made, and only if nothing else has landed in them.
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def read_run(folder: str | Path) -> tuple[dict[str, Any], dict[str, pd.DataFrame]]:
    """A finished run folder's manifest and its daily, auctions and dealers tables.

    A folder counts as a run only if it is not a temporary one and holds `manifest.json` (a
    JSON object, written last) and the three tables as readable Parquet files.

    Raises:
        RunFolderError: no such folder, a temporary folder of an unfinished run, a missing or
            corrupt manifest or table (naming the file and what was found).
    """
    folder = Path(folder)
    try:
        is_dir = folder.is_dir()
    except OSError:
        is_dir = False
    if not is_dir:
        raise RunFolderError(f"{folder}: expected a run folder; found no folder")
    if folder.resolve().name.startswith(TMP_PREFIX):
        raise RunFolderError(
            f"{folder}: expected a finished run folder; found the temporary folder of an unfinished run"
        )
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        raise RunFolderError(f"{manifest_path}: expected the manifest of a finished run; found no file")
    missing = [f"{name}.parquet" for name in TABLES if not (folder / f"{name}.parquet").is_file()]
    if missing:
        raise RunFolderError(f"{folder}: expected a run folder; missing {', '.join(missing)}")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise RunFolderError(f"{manifest_path}: expected a JSON object; found {_json_problem(err)}") from None
    if not isinstance(manifest, dict):
        raise RunFolderError(f"{manifest_path}: expected a JSON object; found a JSON {type(manifest).__name__}")
    tables = {}
    for name in TABLES:
        path = folder / f"{name}.parquet"
        try:
            tables[name] = pd.read_parquet(path)
        except Exception as err:  # pyarrow raises ArrowInvalid, OSError and others on a corrupt file
            reason = printable(str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__, 160)
            raise RunFolderError(f"{path}: expected a Parquet table; found an unreadable file ({reason})") from None
    return manifest, tables


def _json_problem(err: BaseException) -> str:
    if isinstance(err, json.JSONDecodeError):
        return f"invalid JSON at line {err.lineno}, column {err.colno} ({err.msg})"
    if isinstance(err, UnicodeDecodeError):
        return "bytes that are not UTF-8"
    if isinstance(err, RecursionError):
        return "nesting too deep"
    return str(getattr(err, "strerror", None) or err)
