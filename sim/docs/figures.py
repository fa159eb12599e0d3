"""Regenerate every figure README.md and results/README.md show, from the commands a user runs.

    python -m sim.docs.figures [--data DATA_DIR] [--only FIGURE ...] [--work DIR] [--workers N]

Each figure comes from one `plumbing run` or `plumbing experiment` command, run into a fresh
folder (a temporary one unless `--work` names it), so no saved run of an older version is
resumed; the figure is then copied into `results/reference/`, the only part of `results/`
under version control. The reserve demand curve draws the real weeks beside the model, so it
is regenerated only with the public data folder (`--data`, default `PLUMBING_DATA_DIR`);
without it that figure is skipped, never replaced by a model-only one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READMES = ("README.md", "results/README.md")


@dataclass(frozen=True)
class Source:
    """One command whose output folder holds figures.

    Attributes:
        kind: "run" (`plumbing run FILE`) or "experiment" (`plumbing experiment FILE`).
        file: the scenario or experiment file, relative to the project root.
        needs_data: the command draws the real market and needs the public data folder.
    """

    kind: str
    file: str
    needs_data: bool = False

    def command(self, out: Path, data: Path | None, workers: int) -> list[str]:
        """The `plumbing` command line (run as `python -m sim.cli`)."""
        cli = [sys.executable, "-m", "sim.cli", self.kind, str(ROOT / self.file), "--out", str(out), "--quiet"]
        if self.kind == "experiment":
            cli += ["--workers", str(workers)] + (["--data", str(data)] if data is not None else [])
        return cli


@dataclass(frozen=True)
class Figure:
    """A figure a README shows: where it lives and which command's output it is.

    Attributes:
        path: the file under version control, relative to the project root.
        source: the command that draws it.
        produced: the file's name inside the command's output folder (a run folder, or
            `<out>/<experiment name>/`).
    """

    path: str
    source: Source
    produced: str


QE_BILLS_RUN = Source("run", "scenarios/qe_40b_bills.yaml")
ABUNDANT = Source("experiment", "scenarios/experiments/qe_abundant_reserves.yaml")
SCARCITY = Source("experiment", "scenarios/experiments/reserve_scarcity_bill_purchases.yaml")
MATRIX = Source("experiment", "scenarios/experiments/fixes_under_stress.yaml")
DEMAND_CURVE = Source("experiment", "scenarios/experiments/reserve_demand_curve.yaml", needs_data=True)
REFERENCE = "results/reference/"
FIGURES: tuple[Figure, ...] = (
    Figure(REFERENCE + "dashboard-qe_40b_bills-seed0.png", QE_BILLS_RUN, "dashboard.png"),
    Figure(REFERENCE + "experiments/qe_abundant_reserves-reservoir_vs_pipe.png", ABUNDANT, "reservoir_vs_pipe.png"),
    Figure(REFERENCE + "experiments/reserve_scarcity_bill_purchases-panels.png", SCARCITY, "panels.png"),
    Figure(REFERENCE + "experiments/fixes_under_stress-matrix.png", MATRIX, "matrix.png"),
    Figure(REFERENCE + "experiments/fixes_under_stress-reservoir_vs_pipe-auction_indigestion.png", MATRIX,
           "reservoir_vs_pipe-auction_indigestion.png"),
    Figure(REFERENCE + "reserve_demand_curve.png", DEMAND_CURVE, "reserve_demand_curve.png"),
)  # fmt: skip


def output_folder(source: Source, out: Path, stdout: str) -> Path:
    """Where a finished command left its figures: the run folder it printed, or `<out>/<experiment name>/`."""
    if source.kind == "run":
        return Path(stdout.strip().splitlines()[-1])
    from sim.experiments.runner import load_any

    return out / load_any(ROOT / source.file).name


def regenerate(
    figures: tuple[Figure, ...], work: Path, data: Path | None, workers: int = 2
) -> tuple[list[Path], list[str]]:
    """Run each source once into `work` and copy its figures into place.

    Args:
        figures: the figures to regenerate.
        work: an empty folder for the commands' output.
        data: the public data folder, or None (figures that need it are skipped).
        workers: local processes for the experiments.

    Returns:
        The figures written and one line per figure skipped, saying why.
    """
    written: list[Path] = []
    skipped: list[str] = []
    sources = list(dict.fromkeys(f.source for f in figures))
    for source in sources:
        wanted = [f for f in figures if f.source == source]
        if source.needs_data and data is None:
            skipped += [f"{f.path}: needs the public data folder (--data or PLUMBING_DATA_DIR)" for f in wanted]
            continue
        out = work / Path(source.file).stem
        print(f"$ plumbing {source.kind} {source.file}", file=sys.stderr, flush=True)
        clock = time.perf_counter()
        done = subprocess.run(source.command(out, data, workers), cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            what = f"plumbing {source.kind} {source.file}"
            raise RuntimeError(f"{what} failed (exit {done.returncode}): {done.stderr[-2000:]}")
        print(f"  {time.perf_counter() - clock:.0f} s", file=sys.stderr, flush=True)
        folder = output_folder(source, out, done.stdout)
        for figure in wanted:
            target = ROOT / figure.path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(folder / figure.produced, target)
            written.append(target)
    return written, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.docs.figures", description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=os.environ.get("PLUMBING_DATA_DIR") or None,
                        help="public data folder (default: PLUMBING_DATA_DIR)")  # fmt: skip
    parser.add_argument("--only", nargs="+", metavar="FIGURE", help="file names of the figures to redraw (default all)")
    parser.add_argument("--work", type=Path, help="folder for the commands' output (default: a temporary one)")
    parser.add_argument("--workers", type=int, default=2, help="local processes for the experiments (default 2)")
    args = parser.parse_args(argv)
    figures = tuple(f for f in FIGURES if not args.only or Path(f.path).name in args.only)
    if not figures:
        parser.error(f"--only: expected figure file names among {[Path(f.path).name for f in FIGURES]}")
    if args.work is not None and args.work.exists() and any(args.work.iterdir()):
        parser.error(f"--work {args.work}: expected a new or empty folder (saved runs there would be resumed)")
    with tempfile.TemporaryDirectory(prefix="plumbing-figures-") as scratch:
        work = args.work or Path(scratch)
        written, skipped = regenerate(figures, work, args.data, args.workers)
    for path in written:
        print(f"wrote {path.relative_to(ROOT)}")
    for line in skipped:
        print(f"skipped {line}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
