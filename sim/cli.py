"""The `plumbing` command: run scenarios, check them, list them, compare runs, print the keys.

Exit codes: 0 success, 1 a failure inside the model or while writing, 2 bad input (a
scenario problem, a bad option, a missing or incomplete run folder, a malformed data file),
128 + the signal's number when interrupted (130 Ctrl-C/SIGINT, 143 SIGTERM, 129 SIGHUP).
Expected failures print located one-line errors; an unexpected one prints one line saying
what failed, and its traceback only with `--debug`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import signal
import stat
import sys
import threading
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from sim import __version__
from sim.messages import printable

EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 1, 2, 130
# Signals that stop a command the way Ctrl-C does: whatever it was writing is removed.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """A stop signal (SIGINT, SIGTERM, SIGHUP) turned into an exception, so clean-up code runs."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _exit_code(stop: KeyboardInterrupt) -> int:
    return 128 + getattr(stop, "signum", signal.SIGINT)


# The stop signals received while `_stop_signals_raise` is in force, in order.
_stops_received: list[int] = []


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    # Later signals are ignored, so the clean-up the first one starts can finish.
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    _stops_received.append(signum)
    raise Interrupted(signum)


def _stop_behind_failure() -> Interrupted | None:
    """The stop signal behind a failure, if one was received: a signal landing while a C
    extension initializes (a lazy import mid-run) surfaces as that import's own error
    (`ImportError: initialization failed`), not as the interruption it is."""
    return Interrupted(_stops_received[0]) if _stops_received else None


@contextmanager
def _stop_signals_raise() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP raise `Interrupted` while inside; the earlier handlers are restored after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    _stops_received.clear()
    try:
        for s in STOP_SIGNALS:
            if previous[s] is not signal.SIG_IGN:  # nohup's ignored SIGHUP stays ignored
                signal.signal(s, _on_stop_signal)
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD; found {text!r}") from None


def _count(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a whole number >= {minimum}; found {text!r}")
        return value

    return parse


def _history_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The commands that hold the model against history: calibrate, holdout, episodes."""
    calibrate = commands.add_parser("calibrate", help="fit scenario parameters to target moments (simulated moments)")
    calibrate.add_argument("config", type=Path, help="calibration config YAML (calibration/configs/)")
    _quiet_option(calibrate)

    near = commands.add_parser(
        "near-optimal",
        help="evaluate a fit's best trials again on fresh seeds; keep those neither the data nor the loss's noise "
        "tells from the best",
    )
    near.add_argument("config", type=Path, help="calibration config YAML whose fit has been run")
    near.add_argument("--candidates", type=_count(2), default=12, metavar="N", help="best trials evaluated (12)")
    _quiet_option(near)

    holdout = commands.add_parser(
        "holdout", help="run a scenario over a real period it was not fitted on and score it against the real data"
    )
    holdout.add_argument("scenario", type=Path, help="scenario YAML file (e.g. scenarios/baseline.yaml)")
    _real_options(holdout)
    holdout.add_argument("--seeds", type=_count(0), nargs="+", default=[1, 2, 3], metavar="N", help="seeds (1 2 3)")
    holdout.add_argument("--png", type=Path, help="overlay figure path (no figure without it)")
    _quiet_option(holdout)

    episodes = commands.add_parser(
        "episodes", help="run named historical episodes and check them against bands from public figures"
    )
    episodes.add_argument("files", type=Path, nargs="+", help="episode YAML files (scenarios/episodes/)")
    episodes.add_argument(
        "--out", type=Path, default=Path("calibration/reports/episodes"), metavar="DIR",
        help="folder of the episode pages (default calibration/reports/episodes)",
    )  # fmt: skip
    episodes.add_argument(
        "--data", type=Path, metavar="DIR", help="public data folder the replays read (default: PLUMBING_DATA_DIR)"
    )

    sensitivity = commands.add_parser(
        "sensitivity", help="Morris screening: which behavioural parameters decide the policy findings"
    )
    sensitivity.add_argument("config", type=Path, help="sensitivity config YAML (calibration/configs/)")
    sensitivity.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: local processes)")
    sensitivity.add_argument("--workers", type=_count(1), metavar="N", help="local processes (default: the config's)")
    sensitivity.add_argument("--out", type=Path, default=Path("results"), metavar="DIR", help="results root (results)")
    sensitivity.add_argument("--report", type=Path, metavar="DIR", help="report folder (default: the config's)")
    _quiet_option(sensitivity)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plumbing", description="Agent-based simulator of the US Treasury market's plumbing."
    )
    parser.add_argument("--version", action="version", version=f"plumbing {__version__}")
    parser.add_argument("--debug", action="store_true", help="print the traceback of an unexpected failure")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a scenario and write a run folder")
    run.add_argument("scenario", type=Path, help="scenario YAML file")
    run.add_argument("--seed", type=_count(0), default=0, metavar="N", help="random seed (default 0)")
    length = run.add_mutually_exclusive_group()
    length.add_argument("--days", type=_count(1), metavar="N", help="simulate the first N business days from the start")
    length.add_argument("--end", type=_date, metavar="DATE", help="override end_date (YYYY-MM-DD)")
    run.add_argument("--start", type=_date, metavar="DATE", help="override start_date (YYYY-MM-DD)")
    run.add_argument("--out", type=Path, default=Path("results"), metavar="DIR", help="results root (default results)")
    run.add_argument("--reference", type=Path, nargs="+", metavar="RUN", help="run folder(s) to score against")
    run.add_argument(
        "--data",
        type=Path,
        metavar="DIR",
        help="public data folder a scenario's replay: reads (default: PLUMBING_DATA_DIR)",
    )
    run.add_argument(
        "--no-report",
        action="store_true",
        help="write the tables, scenario, dashboard.json and manifest only: no dashboard.png or report.html "
        "(drawing them costs about as much as simulating a year)",
    )
    _quiet_option(run)

    validate = commands.add_parser("validate", help="check scenario files against the schema")
    validate.add_argument("scenarios", type=Path, nargs="+", help="scenario YAML files")

    commands.add_parser("list", help="list the shipped scenarios")

    compare = commands.add_parser(
        "compare", help="compare two run folders, or a run with a real period (--real), as a scorecard and a PNG"
    )
    compare.add_argument("run_a", type=Path, help="run folder (the reference when two are given)")
    compare.add_argument("run_b", type=Path, nargs="?", help="second run folder, scored against the first")
    _real_options(compare)
    compare.add_argument("--png", type=Path, help="figure path (default: a compare-*.png in the scored run's folder)")

    dashboard = commands.add_parser("dashboard", help="print and draw the dashboard of a run or of a real period")
    dashboard.add_argument("run", type=Path, nargs="?", help="run folder (or use --real)")
    _real_options(dashboard)
    dashboard.add_argument("--reference", type=Path, nargs="+", metavar="RUN", help="run folder(s) to score against")
    dashboard.add_argument(
        "--png",
        type=Path,
        help="figure path (default: in the run's folder; --real alone draws only with --png)",
    )
    dashboard.add_argument("--json", type=Path, help="also write the dashboard (and scorecard) as JSON here")

    _history_commands(commands)

    experiment = commands.add_parser(
        "experiment", help="run a reference scenario and its variants (or a stress-test matrix) over common seeds"
    )
    experiment.add_argument(
        "file", type=Path, help="experiment or stress-test matrix YAML file (scenarios/experiments/)"
    )
    experiment.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (default: local processes)")
    experiment.add_argument("--workers", type=_count(1), default=2, metavar="N", help="local processes (default 2)")
    experiment.add_argument("--out", type=Path, default=Path("results"), metavar="DIR", help="results root (results)")
    experiment.add_argument(
        "--data", type=Path, metavar="DATA_DIR",
        help="real public data folder for figures that draw the real market (default: PLUMBING_DATA_DIR)",
    )  # fmt: skip
    _quiet_option(experiment)

    fetch = commands.add_parser("fetch-data", help="download the public data files from the official endpoints")
    fetch.add_argument("--out", type=Path, required=True, metavar="DIR", help="data folder to write")
    fetch.add_argument(
        "--start", type=_date, default=dt.date(2018, 4, 2), metavar="DATE", help="first date (2018-04-02)"
    )
    fetch.add_argument("--end", type=_date, metavar="DATE", help="last date (default today)")

    app = commands.add_parser(
        "app", help="serve the interactive app: the levers, the dashboard panels, the market beside its twin"
    )
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    app.add_argument("--port", type=_count(0), default=8765, metavar="N", help="port (default 8765; 0 = any free)")
    app.add_argument("--open", action="store_true", help="also open the page in a web browser")

    keys = commands.add_parser("keys", help="print every scenario key (Markdown, from the schema)")
    keys.add_argument("--write", type=Path, metavar="README", help="replace the keys section of this file instead")
    for sub in commands.choices.values():  # `--debug` also after the command; SUPPRESS keeps one given before
        sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def _quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar (none is drawn either when stderr is not a terminal)"
    )


def _real_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--real", nargs="?", const="", type=str, metavar="DATA_DIR",
        help="real public data folder (default: the PLUMBING_DATA_DIR environment variable)",
    )  # fmt: skip
    parser.add_argument("--start", type=_date, metavar="DATE", help="first day of the real period")
    parser.add_argument("--end", type=_date, metavar="DATE", help="last day of the real period")


def _error(message: str) -> None:
    print(f"plumbing: {message}", file=sys.stderr)


def _problems(err: Exception, prefix: str = "error: ") -> None:
    """Print a ScenarioError's problems, one a line, the list capped (see `ScenarioError.lines`)."""
    lines = err.lines() if hasattr(err, "lines") else [str(err)]
    for line in lines:
        _error(f"{prefix}{line}")


def _kind_at(path: Path) -> str:
    """What is at `path`, for messages: a regular file, a device..."""
    try:
        mode = path.stat().st_mode
    except OSError as err:
        return f"an unreadable path ({err.strerror})"
    if stat.S_ISREG(mode):
        return "a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a device, pipe or socket"


def _check_folder(path: Path, option: str, must_exist: bool = False, shown: Path | None = None) -> None:
    """`path` is a folder this process can write into, or one it can create there.

    Raises:
        BadInput: something other than a folder at `path` or at its nearest existing parent,
            a parent that cannot be written, or (with `must_exist`) no folder.
    """
    label = f"{option} {shown or path}"
    probe = path
    while not (probe.exists() or probe.is_symlink()):
        if must_exist:
            raise BadInput(f"{label}: expected an existing folder; found no folder {probe}")
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise BadInput(f"{label}: expected a folder; found {_kind_at(probe)} at {probe}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise BadInput(f"{label}: expected a folder this user can write to; found {probe} read-only")


def _check_output_file(path: Path, option: str, create_folder: bool) -> None:
    """`path` can be written as a file: not a folder, and its folder exists (or, with `create_folder`, can be made)."""
    if path.is_dir():
        raise BadInput(f"{option} {path}: expected a file name; found a folder")
    _check_folder(path.parent, option, must_exist=not create_folder, shown=path)
    if create_folder:
        path.parent.mkdir(parents=True, exist_ok=True)


# ---------------------------------------------------------------- commands
def _run(args: argparse.Namespace) -> int:
    from sim.progress import DayProgress, progress_wanted
    from sim.runs import RunFolderError, execute_run, prepare_scenario
    from sim.scenario import ScenarioError

    try:
        scenario = prepare_scenario(args.scenario, days=args.days, start=args.start, end=args.end, data_dir=args.data)
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    _check_folder(args.out, "--out")
    try:
        reference = _reference_dashboards(args.reference)
    except RunFolderError as err:
        _error(f"error: {err}")
        return EXIT_BAD_INPUT
    name = printable(scenario.name)
    print(f"{name}: {scenario.start_date} to {scenario.end_date}, seed {args.seed}", file=sys.stderr)
    try:
        with DayProgress(progress_wanted(args.quiet)) as progress:
            result = execute_run(
                scenario, args.seed, args.out, progress=progress, source=str(args.scenario),
                notify=lambda warning: _error(f"warning: {warning}"), reference=reference,
                report=not args.no_report,
            )  # fmt: skip
    except KeyboardInterrupt as stop:
        _error("interrupted; no run folder written")
        return _exit_code(stop)
    except RunFolderError as err:  # the results folder could not be made
        _error(f"error: {err}; no run folder written")
        return EXIT_BAD_INPUT
    except Exception as err:
        if (signalled := _stop_behind_failure()) is not None:
            _error("interrupted; no run folder written")
            return _exit_code(signalled)
        if getattr(args, "debug", False):
            traceback.print_exc(file=sys.stderr)
        _error(f"run failed ({type(err).__name__}: {_first_line(err)}); no run folder written")
        return EXIT_FAILURE
    print(f"wrote {result.folder} in {result.manifest['wall_seconds']:.1f}s", file=sys.stderr)
    print(result.folder)  # stdout carries only the folder, for scripts
    return 0


def _validate(args: argparse.Namespace) -> int:
    from sim.scenario import ScenarioError, load_scenario

    status = 0
    for path in args.scenarios:
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            status = EXIT_BAD_INPUT
            print(f"INVALID {printable(str(path))}: {len(err.problems)} problem(s)")
            for line in err.lines():
                print(f"  {line}")
            continue
        name = printable(scenario.name)
        print(f"ok      {printable(str(path))}: {name}, {scenario.start_date} to {scenario.end_date}")
    return status


def _list(args: argparse.Namespace) -> int:
    from sim.scenario.catalog import scenarios_dir, shipped_scenarios

    found = shipped_scenarios()
    if not found:
        _error(f"no scenarios found in {scenarios_dir()}")
        return EXIT_FAILURE
    width = max(len(s.path.name) for s in found)
    for s in found:
        print(f"{s.path.name:<{width}}  {s.description}")
    return 0


def _label(folder: Path, manifest: dict) -> str:
    return f"{manifest.get('scenario', folder.parent.name)}-seed{manifest.get('seed', '?')}"


def _reference_runs(folders: list[Path] | None) -> list[tuple[str, dict]]:
    """The labels and tables of reference run folders, which must cover the same dates to form one ensemble.

    Raises:
        BadInput: runs over different periods (a 20-day and a 250-day run are not seeds of one market).
    """
    from sim.dashboard.window import table_span
    from sim.runs import read_run

    runs = []
    for folder in folders or []:
        manifest, tables = read_run(folder)
        runs.append((folder, _label(folder, manifest), tables))
    spans = {folder: table_span(tables) for folder, _, tables in runs}
    if len(set(spans.values())) > 1:
        described = "; ".join(f"{folder}: {_span_text(span)}" for folder, span in spans.items())
        raise BadInput(
            f"--reference: expected runs over the same dates (an ensemble is seeds of one period); found {described}"
        )
    return [(label, tables) for _, label, tables in runs]


def _span_text(span: tuple[dt.date, dt.date] | None) -> str:
    return "no days" if span is None else f"{span[0]} to {span[1]}"


def _reference_dashboards(folders: list[Path] | None) -> list | None:
    """Dashboards of reference run folders (computed from their tables); None without any."""
    if not folders:
        return None
    from sim.dashboard import compute_dashboard

    return [compute_dashboard(tables, label) for label, tables in _reference_runs(folders)]


class BadInput(Exception):
    """A located input problem; `main` prints it and exits 2."""


def _real_tables(args: argparse.Namespace, window: tuple[dt.date, dt.date] | None = None, runs: str = ""):
    """The real period asked for with --real/--start/--end, or the days of `window` (already within them).

    Args:
        window: the days to load (the runs' dates within --start/--end); None loads --start to --end.
        runs: what `window` came from, for the message when the data hold none of its days.

    Raises:
        BadInput: no data folder, dates out of order, a malformed file or no repo data.
    """
    import os

    from sim.data import DataFileError, load_real_tables

    folder = args.real or os.environ.get("PLUMBING_DATA_DIR", "")
    if not folder:
        raise BadInput("--real needs a data folder (or set PLUMBING_DATA_DIR)")
    if not Path(folder).is_dir():
        raise BadInput(f"{folder}: expected a data folder; found no folder")
    _check_dates(args)
    start, end = window or (args.start, args.end)
    try:
        tables = load_real_tables(folder, start, end)
    except DataFileError as err:
        raise BadInput(str(err)) from None
    for note in tables.get("notes", []):
        _error(f"warning: {note}")
    if tables["daily"].empty:
        where = f" ({runs}; the real data hold none of those days)" if runs else ""
        raise BadInput(f"{folder}: no repo data between {start} and {end}{where}")
    return tables


def _check_dates(args: argparse.Namespace) -> None:
    if args.start and args.end and args.end < args.start:
        raise BadInput(f"--end {args.end} is before --start {args.start}")


def _runs_window(args: argparse.Namespace, span: tuple[dt.date, dt.date] | None, what: str) -> tuple[dt.date, dt.date]:
    """The runs' dates within --start/--end: the most of them a real period can be scored on.

    Raises:
        BadInput: runs without days, or --start/--end outside their dates.
    """
    from sim.dashboard.window import intersect

    _check_dates(args)
    if span is None:
        raise BadInput(f"{what}: expected runs with simulated days; found none")
    window = intersect(span, args.start, args.end)
    if window is None:
        asked = f"{args.start or 'the start'} to {args.end or 'the end'}"
        raise BadInput(f"--start/--end: expected dates within {what} ({_span_text(span)}); found {asked}")
    return window


def _on_common_days(args: argparse.Namespace, runs: list[dict], what: str):
    """Real tables and the runs' tables, all cut to the days both the runs and the data cover.

    Returns:
        (the real tables, the runs' tables, a sentence stating the window and where it came from).
    """
    from sim.dashboard.window import restrict, table_span

    span = table_span(runs[0])
    asked = _runs_window(args, span, what)
    real = _real_tables(args, asked, runs=f"{what}: {_span_text(span)}")
    window = table_span(real)
    assert window is not None  # _real_tables refuses a period without days
    bounds = " within --start/--end" if args.start or args.end else ""
    statement = f"{window[0]} to {window[1]}: the days both {what} ({_span_text(span)}) and the real data cover{bounds}"
    return restrict(real, *window), [restrict(t, *window) for t in runs], statement


def _auction_mix_note(mix: dict[str, int], whose: str) -> str:
    """The sentence under a scorecard against a real period: how the all-auction rows were weighted."""
    if not mix:
        return "The real period holds no auction results: the all-auction rows are not scored."
    counts = ", ".join(f"{group} {count}" for group, count in mix.items())
    return (
        f"All-auction rows: {whose} tenor groups weighted as the real period's auctions ({counts}), "
        "each group's auctions equally; the tenor-group rows are unweighted."
    )


def _real_label(args: argparse.Namespace, tables) -> str:
    dates = tables["daily"]["date"]
    return f"real {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"


def _compare(args: argparse.Namespace) -> int:
    from sim.dashboard import compute_dashboard, distribution_distances, score
    from sim.dashboard.metrics import auction_group_counts
    from sim.dashboard.plots import draw_overlay
    from sim.dashboard.scoring import distances_text
    from sim.dashboard.window import table_span
    from sim.report.figures import compare_png
    from sim.runs import RunFolderError, read_run, safe_name

    if (args.run_b is None) == (args.real is None):
        _error("error: compare takes two run folders, or one run folder and --real")
        return EXIT_BAD_INPUT
    try:
        manifest_a, tables_a = read_run(args.run_a)
        if args.run_b is not None:
            manifest_b, tables_b = read_run(args.run_b)
    except RunFolderError as err:
        _error(f"error: {err}")
        return EXIT_BAD_INPUT
    label_a = _label(args.run_a, manifest_a)
    if args.real is not None:
        real, (tables_a,), window = _on_common_days(args, [tables_a], "the run")
        label_real = _real_label(args, real)
        print(f"simulated = {args.run_a}  ({label_a})")
        print(f"real      = {label_real}")
        print(f"window    = {window}")
        print()
        print("Distributions, simulated against real (KS distance: largest gap between the two ECDFs, 0-1):")
        print(distances_text(distribution_distances(tables_a, real)))
        print()
        mix = auction_group_counts(real.get("auctions"))
        card = score(compute_dashboard(tables_a, label_a, mix), compute_dashboard(real, label_real), real="reference")
        print(card.table(only_available=True))
        print(_auction_mix_note(mix, "the run's"))
        # Never into the current folder unasked: beside the run it describes.
        days = table_span(real) or (None, None)
        png = args.png or args.run_a / f"compare-real-{days[0]}-to-{days[1]}.png"
        _check_output_file(png, "--png" if args.png else "figure", create_folder=True)
        draw_overlay(tables_a, real, png, labels=(label_a, label_real))
        print(f"wrote {png}")
        return 0
    label_b = _label(args.run_b, manifest_b)
    if label_a == label_b:
        # Same scenario and seed: tell the runs apart by their folders (timestamps).
        label_a, label_b = f"{label_a}-{args.run_a.name}", f"{label_b}-{args.run_b.name}"
    print(f"A = {args.run_a}  ({label_a})  reference")
    print(f"B = {args.run_b}  ({label_b})")
    print(score(compute_dashboard(tables_b, label_b), compute_dashboard(tables_a, label_a)).table())
    safe = [safe_name(label) for label in (label_a, label_b)]
    png = args.png or args.run_b / f"compare-vs-{safe[0]}.png"  # in the folder of the run scored
    _check_output_file(png, "--png" if args.png else "figure", create_folder=True)
    runs = [(f"A {label_a}", tables_a), (f"B {label_b}", tables_b)]
    png.write_bytes(compare_png(runs, f"A {label_a}  vs  B {label_b}"))
    print(f"wrote {png}")
    return 0


def _dashboard(args: argparse.Namespace) -> int:
    import json

    from sim.dashboard import compute_dashboard, score
    from sim.dashboard.metrics import auction_group_counts
    from sim.dashboard.plots import draw_dashboard
    from sim.runs import RunFolderError

    if (args.run is None) == (args.real is None):
        _error("error: dashboard takes a run folder or --real, not both")
        return EXIT_BAD_INPUT
    if args.png is not None:
        _check_output_file(args.png, "--png", create_folder=False)
    if args.json is not None:
        _check_output_file(args.json, "--json", create_folder=True)
    try:
        tables, label, references, window = _dashboard_inputs(args)
    except RunFolderError as err:
        _error(f"error: {err}")
        return EXIT_BAD_INPUT
    # Runs scored against a real period weight their tenor groups as its auctions do.
    mix = auction_group_counts(tables.get("auctions")) if args.real is not None else None
    reference = [compute_dashboard(t, name, mix) for name, t in references] or None
    dashboard = compute_dashboard(tables, label)
    if window is not None:
        print(f"Window: {window}")
    scorecard = score(dashboard, reference, real="value" if args.real is not None else None) if reference else None
    if scorecard is not None and args.real is None:
        # Between runs, the answer first: what moved beyond the reference's noise (the report's verdict).
        from sim.dashboard.verdict import judge

        print("\n".join(judge(dashboard, reference or [], scorecard).lines()) + "\n")
    if scorecard is not None:
        print(scorecard.table())
        if mix is not None:
            print(_auction_mix_note(mix, "the runs'"))
    else:
        _print_dashboard(dashboard, real=args.real is not None)
    png = args.png or _dashboard_png(args, references, tables, label)
    if png is None and args.run is not None:
        print(f"figure: {args.run / 'dashboard.png'} (drawn with the run; --png PATH draws it again)")
    elif png is None:
        _error("no figure drawn: --png PATH draws the real period's dashboard (nothing is written here unasked)")
    else:
        draw_dashboard(tables, dashboard, png, scorecard)
        print(f"wrote {png}")
    if args.json is not None:
        payload = {**dashboard.to_dict(), "scorecard": None if scorecard is None else scorecard.to_dict()}
        args.json.write_text(json.dumps(payload, indent=2, allow_nan=False) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


def _print_dashboard(dashboard, real: bool) -> None:
    """One line per metric (panel, readable name, unit, value), then the repo spike days."""
    from sim.dashboard.metrics import PANEL_TITLES
    from sim.dashboard.scoring import NOT_PUBLISHED, format_value

    print(f"Dashboard: {dashboard.label}  ({dashboard.period[0]} to {dashboard.period[1]})")
    missing = NOT_PUBLISHED if real else "n/a"
    rows = [
        (PANEL_TITLES.get(r.panel, r.panel), r.label, r.unit,
         missing if r.value is None else format_value(r.value, r.unit))
        for r in dashboard.frame().astype({"value": object}).itertuples()
    ]  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for panel, name, unit, value in rows:
        print(f"  {panel:<{widths[0]}}  {name:<{widths[1]}}  {unit:<{widths[2]}}  {value:>13}")
    spikes = dashboard.detail.get("repo_spike_days") or []
    if spikes:
        print("Repo spike days:")
        for d in spikes:
            print(f"  {d['date']}  {format_value(d['dispersion_bp'], 'bp'):>8}  {', '.join(d['tags']) or '-'}")


def _dashboard_png(args: argparse.Namespace, references: list, tables, label: str) -> Path | None:
    """Where `dashboard` draws without --png: a run folder (the run's, else the first reference's), never here.

    None when there is nothing new to draw there: a run alone (its dashboard.png was drawn with it) or a real
    period with no run to put it beside.
    """
    from sim.dashboard.window import table_span
    from sim.runs import safe_name

    if args.run is not None:
        return args.run / f"dashboard-vs-{safe_name(references[0][0])}.png" if references else None
    if args.reference:
        days = table_span(tables)
        return args.reference[0] / f"dashboard-real-{days[0]}-to-{days[1]}.png" if days else None
    return None


def _dashboard_inputs(args: argparse.Namespace):
    """What `dashboard` shows: (its tables, their label, the reference runs as (label, tables), the window note).

    With --real and reference runs, the real period is the runs' own dates (within
    --start/--end) and the runs are cut to the days the data cover; the note says so.
    """
    from sim.runs import read_run

    if args.run is not None:
        manifest, tables = read_run(args.run)
        label = _label(args.run, manifest)
    references = _reference_runs(args.reference)
    window = None
    if args.real is not None and references:
        what = "the reference run" if len(references) == 1 else "the reference runs"
        tables, cut, window = _on_common_days(args, [t for _, t in references], what)
        references = [(name, t) for (name, _), t in zip(references, cut, strict=True)]
        label = _real_label(args, tables)
    elif args.real is not None:
        tables = _real_tables(args)
        label = _real_label(args, tables)
    return tables, label, references, window


def _calibrate(args: argparse.Namespace) -> int:
    from sim.calibration.fit import load_config, run_fit
    from sim.progress import TrialProgress, progress_wanted
    from sim.scenario import ScenarioError
    from sim.scenario.catalog import scenarios_dir

    try:
        config = load_config(args.config)
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    files = [("targets", config.targets)] if config.targets is not None else []
    for i, window in enumerate(config.windows):
        files += [(f"windows[{i}].scenario", window.scenario), (f"windows[{i}].targets", window.targets)]
    for key, path in files:
        if path is not None and not path.is_file():
            _error(f"error: {args.config}: {key}: expected an existing file; found no file at {path}")
            return EXIT_BAD_INPUT
    try:
        with TrialProgress(progress_wanted(args.quiet), description=config.name) as progress:
            paths = run_fit(config, scenarios_dir().parent, progress, notice=lambda text: _error(f"note: {text}"))
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _near_optimal(args: argparse.Namespace) -> int:
    from sim.calibration.fit import load_config
    from sim.calibration.near_optimal import near_optimal, write_near_optimal
    from sim.progress import TrialProgress, progress_wanted
    from sim.scenario import ScenarioError
    from sim.scenario.catalog import scenarios_dir

    try:
        config = load_config(args.config)
        with TrialProgress(progress_wanted(args.quiet), description=f"{config.name} near-optimal") as progress:
            path, candidates, margin = write_near_optimal(config, scenarios_dir().parent, args.candidates, progress)
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    kept = near_optimal(candidates, margin)
    print(f"loss noise sd {margin.noise_sd:.2f}, margin {margin.total:.1f} (simulation {margin.simulation:.1f}, data "
          f"{margin.data:.1f}); {len(kept)} of {len(candidates)} best trials kept -> {path}")  # fmt: skip
    for c in sorted(candidates, key=lambda c: c.fresh_loss):
        mark = "kept" if c in kept else "    "
        print(f"  {mark} trial {c.trial}: fit loss {c.fit_loss:.1f}, fresh {[round(v, 1) for v in c.fresh_losses]}")
    return 0


def _episodes(args: argparse.Namespace) -> int:
    from sim.calibration.episodes import BEFORE_DAYS, band_summary, episode_page, load_episode, run_episode
    from sim.data import load_real_tables
    from sim.files import write_atomic
    from sim.scenario import ScenarioError
    from sim.scenario.replay import data_folder

    try:
        episodes = [load_episode(path) for path in args.files]
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    _check_folder(args.out, "--out", must_exist=False)
    args.out.mkdir(parents=True, exist_ok=True)
    folder = data_folder(args.data)
    for episode in episodes:
        try:
            measured = run_episode(episode, args.data)
        except ScenarioError as err:
            _problems(err)
            return EXIT_BAD_INPUT
        real = None
        if folder is not None and folder.is_dir():
            # From before the first band: statistics compare with the days and weeks before it.
            first = min(b.start for b in episode.spec.bands) - dt.timedelta(days=14 + BEFORE_DAYS)
            real = load_real_tables(folder, first, max(b.end for b in episode.spec.bands))
        page = args.out / f"{episode.spec.name}.md"
        write_atomic(page, episode_page(episode, measured, real).encode("utf-8"))
        held = band_summary(measured)
        print(f"{episode.spec.name}: {sum(held.values())} of {len(held)} bands hold on every seed -> {page}")
    return 0


def _holdout(args: argparse.Namespace) -> int:
    from sim import TreasuryMarketModel
    from sim.dashboard import compute_dashboard, distribution_distances, score
    from sim.dashboard.metrics import auction_group_counts
    from sim.dashboard.plots import draw_overlay
    from sim.dashboard.scoring import distances_text
    from sim.progress import DayProgress, progress_wanted
    from sim.runs import prepare_scenario
    from sim.scenario import ScenarioError

    if args.real is None or args.start is None or args.end is None:
        _error("error: holdout needs --real [DATA_DIR] --start DATE --end DATE")
        return EXIT_BAD_INPUT
    real = _real_tables(args)
    try:
        scenario = prepare_scenario(args.scenario, start=args.start, end=args.end)
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    runs = []
    for seed in args.seeds:
        print(f"simulating {scenario.name} {args.start} to {args.end}, seed {seed}", file=sys.stderr)
        with DayProgress(progress_wanted(args.quiet)) as progress:
            runs.append(TreasuryMarketModel(scenario, seed=seed).run(progress=progress).results())
    label_real = _real_label(args, real)
    mix = auction_group_counts(real.get("auctions"))
    dashboards = [compute_dashboard(t, f"{scenario.name} seed {s}", mix) for t, s in zip(runs, args.seeds, strict=True)]
    print(f"Held-out period: {label_real}; simulated {scenario.name} with seeds {args.seeds}")
    print()
    print(distances_text(distribution_distances(runs, real)))
    print()
    # The real period scored against the simulated ensemble: is reality inside the model's spread?
    print(score(compute_dashboard(real, label_real), dashboards, real="value").table(only_available=True))
    print(_auction_mix_note(mix, "the runs'"))
    if args.png is None:
        _error("no figure drawn: --png PATH draws the overlay (nothing is written here unasked)")
        return 0
    _check_output_file(args.png, "--png", create_folder=True)
    draw_overlay(runs[0], real, args.png, labels=(f"{scenario.name} seed {args.seeds[0]}", label_real))
    print(f"wrote {args.png}")
    return 0


def _sensitivity(args: argparse.Namespace) -> int:
    """Run (or resume) a Morris screening and write its report."""
    import time

    from sim.calibration.sensitivity import load_screening, run_screening, write_report
    from sim.progress import RunProgress, progress_wanted
    from sim.scenario import ScenarioError
    from sim.scenario.catalog import scenarios_dir

    try:
        screening = load_screening(args.config)
    except ScenarioError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    _check_folder(args.out, "--out")
    report = args.report or screening.config.report or scenarios_dir().parent / "calibration/reports/sensitivity"
    _check_folder(report, "--report")
    started = time.perf_counter()
    with RunProgress(progress_wanted(args.quiet), description=screening.config.name) as progress:
        result = run_screening(screening, args.out, workers=args.workers, scheduler=args.scheduler,
                               notify=lambda warning: _error(f"warning: {warning}"), progress=progress)  # fmt: skip
    paths = write_report(result, report, time.perf_counter() - started)
    for parameter, outputs in result.deciders().items():
        print(f"{parameter} decides {', '.join(outputs)}")
    if not result.deciders():
        print("no parameter moves any output beyond twice its seed noise")
    for kind, path in paths.items():
        print(f"{kind}: {path}")
    return 0


def _experiment(args: argparse.Namespace) -> int:
    """Run an experiment or a stress-test matrix (resuming saved runs) and print its findings."""
    from sim.data import DataFileError
    from sim.experiments import ExperimentError, run_experiment
    from sim.progress import RunProgress, progress_wanted

    _check_folder(args.out, "--out")
    try:
        with RunProgress(progress_wanted(args.quiet), description=args.file.stem) as progress:
            findings = run_experiment(
                args.file, args.out, workers=args.workers, scheduler=args.scheduler, data_dir=args.data,
                notify=lambda warning: _error(f"warning: {warning}"), progress=progress,
            )  # fmt: skip
    except ExperimentError as err:
        _problems(err)
        return EXIT_BAD_INPUT
    except DataFileError as err:
        _error(f"error: {err} (the runs are saved; a re-run draws the figures without simulating again)")
        return EXIT_BAD_INPUT
    print(findings.markdown())
    _error(f"findings, runs and figures in {findings.folder}")
    return 0


def _fetch_data(args: argparse.Namespace) -> int:
    from sim.data import FetchError, fetch_data

    end = args.end or dt.date.today()
    try:
        written = fetch_data(args.out, args.start, end)
    except FetchError as err:
        _error(f"error: {err}; nothing new was written")
        return EXIT_FAILURE
    except ValueError as err:
        _error(f"error: {err}")
        return EXIT_BAD_INPUT
    for path in written:
        print(path)
    return 0


def _keys(args: argparse.Namespace) -> int:
    from sim.scenario.reference import keys_markdown, replace_keys_section

    if args.write is None:
        print(keys_markdown(), end="")
        return 0
    try:
        text = args.write.read_text(encoding="utf-8")
        new = replace_keys_section(text, keys_markdown())
        if new == text:
            print(f"the keys section of {args.write} is unchanged")
            return 0
        args.write.write_text(new, encoding="utf-8")
    except (OSError, ValueError) as err:
        _error(f"error: {args.write}: {err}")
        return EXIT_BAD_INPUT
    print(f"updated the keys section of {args.write}")
    return 0


APP_MODULES = ("solara", "solara_assets", "mesa.visualization")


def _free_port(host: str) -> int:
    """A port nothing listens on at `host` now (`--port 0`), so the address printed is the one served."""
    import socket

    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


APP_INSTALL = 'pip install -c requirements.lock -e ".[app]"'


def _app(args: argparse.Namespace) -> int:
    """Serve the app (sim.app.page) with Solara until stopped; exit 2 when the `app` extra is not installed."""
    import importlib
    import subprocess

    missing = []
    for module in APP_MODULES:
        try:
            importlib.import_module(module)
        except ImportError as err:
            missing.append(f"{module} ({_first_line(err)})")
    if missing:
        _error(f"error: the app needs the optional `app` extra, not installed here: missing {', '.join(missing)}; "
               f"install it with {APP_INSTALL}")  # fmt: skip
        return EXIT_BAD_INPUT
    port = args.port or _free_port(args.host)
    command = [sys.executable, "-m", "solara", "run", "sim.app.page", "--host", args.host, "--port", str(port),
               "--production", "--no-check-version", "--open" if args.open else "--no-open"]  # fmt: skip
    # No outbound calls: the page's assets come from the solara-assets package, usage statistics and the
    # version check are off. Its warning that a plain-http address cannot set cross-site cookies is moot here.
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False", "SOLARA_THEME_TITLE": "plumbing app",
           "PYTHONWARNINGS": "ignore::UserWarning:solara.server.starlette"}  # fmt: skip
    print(f"plumbing app: serving on http://{args.host}:{port} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    server = subprocess.Popen(command, env=env)
    try:
        return server.wait()
    except KeyboardInterrupt as stop:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        return _exit_code(stop)


COMMANDS = {
    "run": _run, "validate": _validate, "list": _list, "compare": _compare, "dashboard": _dashboard,
    "calibrate": _calibrate, "holdout": _holdout, "episodes": _episodes, "experiment": _experiment,
    "sensitivity": _sensitivity, "near-optimal": _near_optimal,
    "fetch-data": _fetch_data, "app": _app, "keys": _keys,
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `plumbing` command; returns the exit code."""
    try:
        with _stop_signals_raise():
            return _main(argv)
    except KeyboardInterrupt as stop:  # a signal while the handlers were being put back
        _error("interrupted")
        return _exit_code(stop)


def _is_bad_input(err: Exception) -> bool:
    from sim.data.errors import DataFileError
    from sim.files import RunFolderError
    from sim.scenario import ScenarioError

    return isinstance(err, DataFileError | RunFolderError | ScenarioError)


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return printable(lines[0] if lines else "", 300)


def _main(argv: Sequence[str] | None) -> int:
    args = None
    try:
        args = _parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except SystemExit as stop:  # argparse exits 2 on bad options, 0 on --help
        return stop.code if isinstance(stop.code, int) else EXIT_BAD_INPUT
    except BadInput as err:
        _error(f"error: {printable(str(err), 2000)}")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as stop:
        _error("interrupted")
        return _exit_code(stop)
    except Exception as err:
        if (signalled := _stop_behind_failure()) is not None:
            _error("interrupted")
            return _exit_code(signalled)
        if _is_bad_input(err):  # located input errors a command did not catch itself
            _problems(err)
            return EXIT_BAD_INPUT
        # Not an input problem the commands know: one line, the traceback only when asked for.
        debug = getattr(args, "debug", False) or (argv is None and "--debug" in sys.argv)
        if debug:
            traceback.print_exc(file=sys.stderr)
        command = getattr(args, "command", None) or "plumbing"
        hint = "" if debug else " (rerun with --debug for the traceback)"
        _error(f"{command} failed: {type(err).__name__}: {_first_line(err)}{hint}")
        return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(main())
