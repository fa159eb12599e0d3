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


_TABLES_UNDER_ENV = """
import hashlib, sys
import datetime as dt
from tests.conftest import make_scenario, run
tables = run(make_scenario({"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 4, 30)}), seed=5)
for name in ("daily", "auctions", "dealers"):
    print(name, hashlib.sha256(tables[name].to_csv(float_format="%.17g").encode()).hexdigest())
"""


def _table_hashes_under(env_update: dict[str, str]) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, **env_update}
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", _TABLES_UNDER_ENV], env=env, cwd=root, capture_output=True, text=True, check=True
    )
    return done.stdout


def test_results_do_not_depend_on_the_blas_thread_count():
    # Threaded kernels sum in another order; pinned pools make every environment agree.
    one = _table_hashes_under({"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
    two = _table_hashes_under({"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"})
    assert one.count("\n") == 3
    assert one == two


def test_building_a_model_pins_the_thread_pools(monkeypatch):
    from threadpoolctl import threadpool_info

    from sim.threads import pin_thread_pools

    monkeypatch.delenv("PLUMBING_PIN_THREADS", raising=False)
    assert pin_thread_pools()
    assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    monkeypatch.setenv("PLUMBING_PIN_THREADS", "0")
    assert not pin_thread_pools()
