"""What pinning the BLAS/OpenMP pools to one thread buys: a 2-worker experiment, pinned against unpinned.

Run:  python bench/bench_threads.py            (about a minute on 2 cores)
      python bench/bench_threads.py --busy 1   (the same with one CPU-bound process beside it)

Runs `plumbing experiment scenarios/experiments/reserve_scarcity_bill_purchases.yaml
--workers 2` into fresh temporary folders, once with PLUMBING_PIN_THREADS=0 (pools as the
environment sets them) and once pinned (the default), and prints both wall times and
whether the findings agree byte for byte. A one-year `plumbing run` of the baseline is
timed the same way. `--busy N` keeps N other CPU-bound processes running meanwhile, the
situation of a shared machine, where a spinning BLAS pool competes with them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPERIMENT = ROOT / "scenarios" / "experiments" / "reserve_scarcity_bill_purchases.yaml"
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def timed(command: list[str], pinned: bool) -> float:
    """Wall seconds of a CLI command run in a subprocess with pinning on or off."""
    env = {**os.environ, "PLUMBING_PIN_THREADS": "1" if pinned else "0"}
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.pop(name, None)  # unpinned means what a default environment gives
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


@contextlib.contextmanager
def busy_processes(count: int):
    """`count` other processes that keep a core busy until the block ends."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def findings_text(out: Path) -> str:
    return "".join(path.read_text() for path in sorted(out.rglob("findings.md")))


def row(label: str, seconds: dict[bool, float]) -> str:
    return f"{label:<36}{seconds[False]:12.1f}{seconds[True]:10.1f}{seconds[False] / seconds[True]:10.1f}x"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="experiment worker processes (default 2)")
    parser.add_argument("--busy", type=int, default=0, metavar="N", help="other CPU-bound processes meanwhile (0)")
    args = parser.parse_args(argv)
    cli = [sys.executable, "-m", "sim.cli"]
    job = f"job ({args.busy} busy processes beside)" if args.busy else "job"
    print(f"{job:<36}{'unpinned s':>12}{'pinned s':>10}{'speed-up':>10}")
    with tempfile.TemporaryDirectory() as tmp, busy_processes(args.busy):
        outs = {pinned: Path(tmp) / ("pinned" if pinned else "unpinned") for pinned in (False, True)}
        experiment = [*cli, "experiment", str(EXPERIMENT), "--workers", str(args.workers), "--out"]
        seconds = {pinned: timed([*experiment, str(out)], pinned) for pinned, out in outs.items()}
        print(row(f"experiment, {args.workers} workers", seconds))
        same = findings_text(outs[False]) == findings_text(outs[True])
        run = [*cli, "run", str(BASELINE), "--out"]
        seconds = {pinned: timed([*run, str(Path(tmp) / f"run-{pinned}")], pinned) for pinned in (False, True)}
        print(row("one-year baseline run (with report)", seconds))
    print(f"findings identical pinned and unpinned: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
