"""What each arrow of the loop carries of a stress: `python -m sim.experiments.loop_shares SCENARIO`.

For each seed: the calm twin (the scenario without its shocks, every arrow on), the stressed
run, and the stressed run with each arrow switched off in turn (its input following the calm
twin's path, `sim/loop.py`). The share of arrow a in metric M is
(stressed - stressed with a off) / (stressed - calm), from the means over seeds; a share counts
when the paired difference and the response are each more than two standard errors from zero.
"""

from __future__ import annotations

import argparse
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from sim.dashboard import compute_dashboard
from sim.loop import ARROW_INPUTS, CalmPath
from sim.model import TreasuryMarketModel
from sim.scenario import load_scenario
from sim.scenario.schema import LoopSwitches

YIELD_10Y = "yield_10y_mean_pct"  # beside the dashboard: where the duration premium works


def _period_metrics(values: dict[str, Any]) -> dict[str, float]:
    """Dashboard metrics over the run (a last day's snapshot is one draw, not the period's)."""
    return {k: float(v) if v is not None else np.nan for k, v in values.items() if "_last" not in k}


def decompose(path: str, seed: int) -> dict[str, Any]:
    """One seed: metrics of the calm twin ("calm"), the stressed run ("stressed") and the stressed
    run with each arrow off (by arrow), and how far the stress moved each arrow's input
    ("input_moved": mean of stressed less calm over the days and elements it carries)."""
    scenario = load_scenario(path)
    twin = scenario.model_copy(update={"shocks": [], "loop": LoopSwitches()})
    calm_inputs = CalmPath(twin.loop, record=True)
    stressed_inputs = CalmPath(scenario.loop, record=True)
    out: dict[str, Any] = {}

    def metrics(label: str, model: TreasuryMarketModel) -> None:
        tables = model.run().results()
        out[label] = _period_metrics(compute_dashboard(tables, label).metrics)
        out[label][YIELD_10Y] = float(tables["daily"].yield_10y_pct.mean())

    metrics("calm", TreasuryMarketModel(twin, seed=seed, calm=calm_inputs))
    metrics("stressed", TreasuryMarketModel(scenario, seed=seed, calm=stressed_inputs))
    for arrow in ARROW_INPUTS:
        off = scenario.model_copy(update={"loop": scenario.loop.model_copy(update={arrow: False})})
        metrics(arrow, TreasuryMarketModel(off, seed=seed, calm=CalmPath(off.loop, calm_inputs.paths)))
    moved = {}
    for arrow in ARROW_INPUTS:
        keys = [k for k in stressed_inputs.paths if k[0] == arrow and k in calm_inputs.paths]
        gaps = [np.mean(np.asarray(stressed_inputs.paths[k]) - np.asarray(calm_inputs.paths[k])) for k in keys]
        moved[arrow] = float(np.mean(gaps)) if gaps else 0.0
    out["input_moved"] = moved
    return out


def decompose_seeds(path: str, seeds: list[int], workers: int = 2) -> list[dict[str, Any]]:
    """`decompose` for every seed, in worker processes."""
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(decompose, [path] * len(seeds), seeds))


def beyond_noise(values: np.ndarray) -> bool:
    """The mean over seeds is more than two standard errors from zero."""
    return bool(abs(values.mean()) > 2 * values.std(ddof=1) / np.sqrt(values.size))


def share_table(runs: list[dict[str, Any]]) -> pd.DataFrame:
    """Every arrow and metric: the stress's response (stressed - calm), what the arrow carries
    (stressed - stressed with it off), the share, and whether both are beyond seed noise."""
    rows = []
    for arrow in ARROW_INPUTS:
        for metric in runs[0]["calm"]:
            stressed = np.array([r["stressed"][metric] for r in runs])
            response = stressed - np.array([r["calm"][metric] for r in runs])
            carried = stressed - np.array([r[arrow][metric] for r in runs])
            if not (np.isfinite(response).all() and np.isfinite(carried).all()):
                continue
            significant = beyond_noise(response) and beyond_noise(carried)
            share = carried.mean() / response.mean() if response.mean() != 0 else np.nan
            rows.append((arrow, metric, response.mean(), carried.mean(), share, significant))
    return pd.DataFrame(rows, columns=["arrow", "metric", "response", "carried", "share", "significant"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", help="scenario file with shocks")
    parser.add_argument("--seeds", type=int, default=8, help="seeds 1..N (default 8)")
    parser.add_argument("--top", type=int, default=3, help="metrics shown per arrow (largest significant shares)")
    args = parser.parse_args(argv)
    table = share_table(decompose_seeds(args.scenario, list(range(1, args.seeds + 1))))
    for arrow, rows in table.groupby("arrow", sort=False):
        best = rows[rows.significant].assign(size=rows.share.abs()).sort_values("size", ascending=False)
        shown = ", ".join(f"{r.metric} {r.share:+.0%}" for r in best.head(args.top).itertuples()) or "none significant"
        print(f"{arrow}: {shown}")


if __name__ == "__main__":
    main()
