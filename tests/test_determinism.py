"""Same scenario + same seed = identical tables; different seeds differ."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from tests.conftest import make_scenario, run

SCENARIO = make_scenario({"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 5, 30)})


def test_same_seed_gives_identical_tables():
    first, second = run(SCENARIO, seed=11), run(SCENARIO, seed=11)
    for name in ("daily", "auctions", "dealers"):
        pd.testing.assert_frame_equal(first[name], second[name], check_exact=True)


def test_different_seeds_differ():
    first, second = run(SCENARIO, seed=11), run(SCENARIO, seed=12)
    assert not first["daily"]["yield_10y_pct"].equals(second["daily"]["yield_10y_pct"])
    assert not first["auctions"]["tail_bp"].equals(second["auctions"]["tail_bp"])


def test_runs_in_parallel_processes_match_serial_runs():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        parallel = list(pool.map(run, [SCENARIO, SCENARIO], [3, 4]))
    for seed, tables in zip([3, 4], parallel, strict=True):
        pd.testing.assert_frame_equal(tables["daily"], run(SCENARIO, seed=seed)["daily"], check_exact=True)
