"""Benchmark of the market model: wall time of baseline runs and cost per simulated day as agents grow.

Run:  python bench/bench_model.py            (about a minute on 2 cores)
      python bench/bench_model.py --quick    (skips the 10-year run)

Prints the 1-year and 10-year wall times of the default scenario, the cost per simulated
day with agent counts at 1x, 4x and 16x the defaults, and the peak resident memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import time

from sim import TreasuryMarketModel
from sim.scenario import Scenario

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


def peak_memory_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 10-year run")
    args = parser.parse_args(argv)
    base = Scenario()
    timed_run(base.model_copy(update={"end_date": dt.date(2025, 1, 31)}))  # warm caches and imports
    one_year, days_1y = timed_run(base.model_copy(update={"end_date": dt.date(2025, 12, 31)}))
    print(f"baseline 1 year : {one_year:6.2f} s  ({days_1y} days, {1000 * one_year / days_1y:.2f} ms/day)")
    if not args.quick:
        ten_years, days_10y = timed_run(base.model_copy(update={"end_date": dt.date(2034, 12, 29)}))
        print(f"baseline 10 years: {ten_years:6.2f} s  ({days_10y} days, {1000 * ten_years / days_10y:.2f} ms/day)")
    print("agents  count  ms/day  relative")
    reference = None
    for factor in (1, 4, 16):
        scenario = scaled(base, factor, dt.date(2025, 4, 30))
        seconds, days = timed_run(scenario)
        per_day = 1000 * seconds / days
        reference = reference or per_day
        count = sum(getattr(scenario, name).count for name in AGENT_SECTIONS)
        print(f"{factor:>5}x  {count:5d}  {per_day:6.2f}  {per_day / reference:6.2f}")
    print(f"peak memory: {peak_memory_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
