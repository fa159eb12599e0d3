"""Seeded golden-output regression: full tables, compared cell by cell.

Stored in tests/golden/tables/ (Parquet, zstd): the daily, auctions and dealers tables of
a small 30-day scenario with seed 42, and of every shipped scenario with seed 1 over its
first GOLDEN_DAYS recorded days. Cells are compared within 1% or 0.01 (in the column's unit),
whichever is larger: above what the machine alone moves, below a behavioural change. The
machine moves more than the last bits: BLAS and numpy pick kernels by CPU (AVX-512 on some
Intel machines, AVX2 on AMD), their last bits differ, and 120 warm-up days amplify them; the
tables stored on an Intel machine and rerun on an AMD one differ by up to 0.35bp in a SOFR
percentile (a volume-weighted percentile jumps between trades), 0.007bp in an auction tail and
$0.02bn in a dealer's inventory. A full-table comparison sees permuted rows and shifted days,
which column sums cannot.

A model change that moves these tables must be deliberate: regenerate with
    python -m tests.test_golden --update
and state in the commit message what moved and why. A code move must not need it (see
tests/golden/fingerprints.py for the exact, same-machine check).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SMALL_POPULATIONS, make_scenario, run
from tests.golden.fingerprints import column_differences, first_days, shipped_scenarios

TABLES = Path(__file__).parent / "golden" / "tables"
TABLE_NAMES = ("daily", "auctions", "dealers")
SMALL = {
    "start_date": dt.date(2025, 3, 3),
    "end_date": dt.date(2025, 4, 11),
    **SMALL_POPULATIONS,
}
GOLDEN_DAYS = 20
RTOL = 1e-2
ATOL = 1e-2  # absolute floor for cells near zero ($bn, bp and % alike)


def small_run() -> dict[str, pd.DataFrame]:
    return run(make_scenario(SMALL), seed=42)


def golden_runs() -> dict[str, object]:
    """Name -> a function computing that run's tables now."""
    runs: dict[str, object] = {"small_run": small_run}
    for path in shipped_scenarios():
        runs[path.stem] = lambda path=path: first_days(path, GOLDEN_DAYS)
    return runs


def stored(name: str) -> dict[str, pd.DataFrame]:
    return {table: pd.read_parquet(TABLES / f"{name}.{table}.parquet") for table in TABLE_NAMES}


def differences(expected: pd.DataFrame, actual: pd.DataFrame) -> list[str]:
    """Columns whose cells differ beyond the tolerance, with the worst cell."""
    if list(expected.columns) != list(actual.columns):
        return [f"columns {list(expected.columns)} became {list(actual.columns)}"]
    if len(expected) != len(actual):
        return [f"{len(expected)} rows became {len(actual)}"]
    out = []
    for column in expected.columns:
        old, new = expected[column], actual[column]
        if old.dtype.kind in "fiub" and new.dtype.kind in "fiub":
            a, b = old.to_numpy(dtype=float), new.to_numpy(dtype=float)
            bad = ~np.isclose(b, a, rtol=RTOL, atol=ATOL, equal_nan=True)
        else:
            bad = (old.astype(str) != new.astype(str)).to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            out.append(f"{column}: {int(bad.sum())} cells, first at row {row}: {old.iloc[row]!r} -> {new.iloc[row]!r}")
    return out


@pytest.mark.parametrize("name", list(golden_runs()))
def test_tables_match_the_golden_tables(name):
    expected = stored(name)
    actual = golden_runs()[name]()  # type: ignore[operator]
    moved = {table: differences(expected[table], actual[table].reset_index(drop=True)) for table in TABLE_NAMES}
    moved = {table: found for table, found in moved.items() if found}
    assert not moved, f"golden tables of {name} moved (regenerate only with a stated reason): {moved}"


def test_every_shipped_scenario_has_golden_tables():
    names = {path.name.split(".")[0] for path in TABLES.glob("*.parquet")}
    assert names == set(golden_runs())


def test_the_reordering_check_passes_last_bits_and_catches_a_move():
    rng = np.random.default_rng(3)
    before = pd.DataFrame({"reserves_bn": rng.uniform(2500, 3500, 50), "unfunded_bn": rng.uniform(0, 2e-13, 50),
                           "binding": ["slr", "none"] * 25})  # fmt: skip
    reordered = before.assign(reserves_bn=before.reserves_bn * (1 + 1e-15), unfunded_bn=before.unfunded_bn * 3)
    assert column_differences("daily", before, reordered, rtol=1e-9) == []
    moved = before.assign(reserves_bn=before.reserves_bn + np.where(np.arange(50) == 7, 1e-4, 0.0))
    assert [m.split(":")[0] for m in column_differences("daily", before, moved, rtol=1e-9)] == ["daily.reserves_bn"]
    relabelled = before.assign(binding=["var", "none"] * 25)
    assert column_differences("daily", before, relabelled, rtol=1e-9) == ["daily.binding: values differ"]
    assert "shape" in column_differences("daily", before, before.iloc[:-1], rtol=1e-9)[0]
    gap = before.assign(reserves_bn=before.reserves_bn.where(np.arange(50) != 3))
    assert column_differences("daily", before, gap, rtol=1e-9) == ["daily.reserves_bn: missing cells differ"]


def update() -> None:
    TABLES.mkdir(parents=True, exist_ok=True)
    for old in TABLES.glob("*.parquet"):
        old.unlink()
    for name, compute in golden_runs().items():
        for table, frame in compute().items():  # type: ignore[operator]
            frame.reset_index(drop=True).to_parquet(TABLES / f"{name}.{table}.parquet", compression="zstd")
    print(f"wrote golden tables into {TABLES}")


if __name__ == "__main__":
    if "--update" in sys.argv:
        update()
