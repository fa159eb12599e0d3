"""Benchmark of the market model: wall time of baseline runs and cost per simulated day as agents grow.

Run:  python bench/bench_model.py            (about two minutes on 2 cores)
      python bench/bench_model.py --quick    (skips the 10-year run and the experiment)

Prints, in one process: the 1-year and 10-year wall times of the default scenario; the
cost per simulated day of each phase of the day (a table); the ratio to Mesa's own floor
(a Mesa model with as many agents, each with a trivial step, driven by
`AgentSet.shuffle_do` with a `DataCollector` of three model reporters); the cost per
simulated day with agent counts at 1x, 4x and 16x the defaults; the throughput of an
experiment of one-year runs (each with the baseline's warm-up) on 2 worker processes, and
what 1,000 of them would take at that rate; and the peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mesa

import sim.model as model_module
from sim import TreasuryMarketModel
from sim.scenario import Scenario

# The day's phases as `TreasuryMarketModel.step` orders them: module functions it calls by name.
PHASE_FUNCTIONS = ("auction_day", "secondary_day", "repo_day", "settlement_day")

AGENT_SECTIONS = ("dealers", "real_money", "foreign_official", "levered_funds", "money_funds", "banks")


def timed_run(scenario: Scenario, seed: int = 1) -> tuple[float, int]:
    """Wall seconds to build and run a scenario, and the number of simulated days."""
    start = time.perf_counter()
    model = TreasuryMarketModel(scenario, seed=seed).run()
    model.results()
    return time.perf_counter() - start, len(model.calendar)


def scaled(base: Scenario, factor: int, end: dt.date) -> Scenario:
    """The scenario with every agent population multiplied by `factor`."""
    update = {
        name: getattr(base, name).model_copy(update={"count": getattr(base, name).count * factor})
        for name in AGENT_SECTIONS
    }
    return base.model_copy(update={**update, "end_date": end})


def _timed(clock: dict[str, float], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            clock[name] += time.perf_counter() - start

    return wrapper


def phase_table(scenario: Scenario, seed: int = 1) -> tuple[dict[str, float], int, int]:
    """Seconds spent in each phase of the day over a run, the number of days and of agents.

    The phases are timed by wrapping the functions and methods `step` calls (the model is not
    changed); "other" is the rest of `step` (the day's set-up and bookkeeping)."""
    clock: dict[str, float] = defaultdict(float)
    originals = {name: getattr(model_module, name) for name in PHASE_FUNCTIONS}
    try:
        for name, function in originals.items():
            setattr(model_module, name, _timed(clock, name, function))
        model = TreasuryMarketModel(scenario, seed=seed)
        for owner, method, label in (
            (model, "_exogenous_updates", "exogenous (curve, maturities, fiscal)"),
            (model.central_bank, "buy_securities", "purchases"),
            (model.treasury, "buy_back", "buybacks"),
            (model.dealers, "end_of_day", "dealers' end of day"),
            (model.recorder, "record_day", "recording"),
        ):
            setattr(owner, method, _timed(clock, label, getattr(owner, method)))
        step = _timed(clock, "step", model.step)
        days = 0
        while model.running:
            step()
            days += 1
    finally:
        for name, function in originals.items():
            setattr(model_module, name, function)
    total = clock.pop("step")
    clock["other"] = total - sum(clock.values())
    return dict(clock), days, len(model.agents)


class _FloorAgent(mesa.Agent):
    def step(self) -> None:
        self.wealth = getattr(self, "wealth", 0) + 1


class _FloorModel(mesa.Model):
    """Mesa's own floor: `n` agents with a trivial step, shuffled, and three model reporters."""

    def __init__(self, n: int, seed: int = 1) -> None:
        super().__init__(rng=seed)
        _FloorAgent.create_agents(self, n)
        self.datacollector = mesa.DataCollector(
            model_reporters={"agents": lambda m: len(m.agents), "steps": lambda m: m.steps, "one": lambda m: 1.0}
        )

    def step(self) -> None:
        self.agents.shuffle_do("step")
        self.datacollector.collect(self)


def mesa_floor_ms(agents: int, steps: int = 2000) -> float:
    """Milliseconds per step of Mesa's floor model with `agents` agents."""
    floor = _FloorModel(agents)
    start = time.perf_counter()
    for _ in range(steps):
        floor.step()
    return 1000 * (time.perf_counter() - start) / steps


def experiment_throughput(runs: int, workers: int = 2) -> tuple[float, int]:
    """Wall seconds of an experiment of `runs` one-year baseline runs (reference and one
    variant, runs/2 seeds each) on `workers` local processes, end to end (scoring and saving
    included), and the runs done."""
    from sim.experiments import run_experiment

    scenarios = Path(__file__).resolve().parents[1] / "scenarios"
    seeds = list(range(1, max(runs // 2, 1) + 1))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "throughput.yaml"
        spec = {"name": "throughput", "reference": str(scenarios / "baseline.yaml"), "seeds": seeds,
                "variants": {"qe": str(scenarios / "qe_40b_bills.yaml")}}  # fmt: skip
        path.write_text(json.dumps(spec), encoding="utf-8")  # JSON is YAML
        start = time.perf_counter()
        run_experiment(path, Path(folder) / "out", workers=workers)
        return time.perf_counter() - start, 2 * len(seeds)


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10-year run and the experiment")
    parser.add_argument("--runs", type=int, default=16, help="one-year runs in the throughput experiment")
    args = parser.parse_args(argv)
    base = Scenario()
    timed_run(base.model_copy(update={"end_date": dt.date(2025, 1, 31)}))  # warm caches and imports
    one_year, days_1y = timed_run(base.model_copy(update={"end_date": dt.date(2025, 12, 31)}))
    print(f"baseline 1 year : {one_year:6.2f} s  ({days_1y} days, {1000 * one_year / days_1y:.2f} ms/day)")
    if not args.quick:
        ten_years, days_10y = timed_run(base.model_copy(update={"end_date": dt.date(2034, 12, 29)}))
        print(f"baseline 10 years: {ten_years:6.2f} s  ({days_10y} days, {1000 * ten_years / days_10y:.2f} ms/day)")
    phases, days, agents = phase_table(base.model_copy(update={"end_date": dt.date(2025, 12, 31)}))
    total = sum(phases.values())
    print(f"phase of the day ({days} days)          ms/day   share")
    for name, seconds in sorted(phases.items(), key=lambda item: -item[1]):
        print(f"  {name:38s} {1000 * seconds / days:6.3f}  {seconds / total:6.1%}")
    floor = mesa_floor_ms(agents)
    per_day = 1000 * total / days
    print(f"Mesa floor with {agents} agents: {floor:.3f} ms/step; the model costs {per_day / floor:.0f}x that")
    print("agents  count  ms/day  relative")
    reference = None
    for factor in (1, 4, 16):
        scenario = scaled(base, factor, dt.date(2025, 4, 30))
        seconds, days = timed_run(scenario)
        per_day = 1000 * seconds / days
        reference = reference or per_day
        count = sum(getattr(scenario, name).count for name in AGENT_SECTIONS)
        print(f"{factor:>5}x  {count:5d}  {per_day:6.2f}  {per_day / reference:6.2f}")
    if not args.quick:
        seconds, runs = experiment_throughput(args.runs)
        print(
            f"experiment of {runs} one-year runs on 2 workers: {seconds:.1f} s ({60 * runs / seconds:.1f} runs/minute;"
            f" 1,000 such runs would take about {1000 * seconds / runs / 60:.1f} minutes)"
        )
    print(f"peak memory: {peak_memory_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
