"""Benchmark of the commands a user runs: a one-year `plumbing run` and each shipped experiment, end to end.

Run:  python bench/bench_commands.py                     (about 10 minutes on 2 cores)
      python bench/bench_commands.py --skip fixes_under_stress   (leaves out the stress-test matrix)

Each command runs as a user runs it (a fresh `python -m sim.cli` process, into an empty
temporary folder, so nothing is resumed) and is timed by the wall clock: starting Python,
simulating, scoring and writing every table and figure. The experiments use 2 local worker
processes (the command's default) and the public data folder named by `PLUMBING_DATA_DIR`
when set (the reserve demand curve draws the real weeks). Prints the machine (CPU, cores,
load average before and after) beside the seconds, so a figure quoted from here says where
it was measured.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RUN = ("run", "scenarios/qe_40b_bills.yaml")


def experiments() -> list[Path]:
    """The shipped experiment files, sorted by name."""
    return sorted((ROOT / "scenarios" / "experiments").glob("*.yaml"))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def timed(command: list[str]) -> float:
    """Wall seconds of a finished command; raises when it fails."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed (exit {done.returncode}): {done.stderr[-1000:]}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", nargs="*", default=[], metavar="NAME", help="experiment file stems to leave out")
    parser.add_argument("--workers", type=int, default=2, help="local processes for the experiments (default 2)")
    args = parser.parse_args(argv)
    data = os.environ.get("PLUMBING_DATA_DIR")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{dt.date.today().isoformat()}; load average before: {load_average()}")  # fmt: skip
    cli = [sys.executable, "-m", "sim.cli"]
    with tempfile.TemporaryDirectory(prefix="plumbing-bench-") as scratch:
        out = Path(scratch)
        seconds = timed([*cli, RUN[0], RUN[1], "--out", str(out / "run"), "--quiet"])
        print(f"plumbing run {RUN[1]} (one year)  {seconds:7.1f} s", flush=True)
        for path in experiments():
            if path.stem in args.skip:
                continue
            command = [*cli, "experiment", str(path), "--out", str(out / path.stem), "--quiet",
                       "--workers", str(args.workers)] + (["--data", data] if data else [])  # fmt: skip
            seconds = timed(command)
            print(f"plumbing experiment {path.relative_to(ROOT)}  {seconds:7.1f} s", flush=True)
    print(f"load average after: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
