"""Seeded golden-output regression on a small scenario.

The summary of a 30-day run with seed 42 is stored in tests/golden/small_run.json. A model
change that moves it must be deliberate: regenerate with
    python -m tests.test_golden --update
and state the reason in the commit message.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import make_scenario, run

GOLDEN = Path(__file__).parent / "golden" / "small_run.json"
SMALL = {
    "start_date": dt.date(2025, 3, 3),
    "end_date": dt.date(2025, 4, 11),
    "dealers": {"count": 6},
    "real_money": {"count": 8},
    "foreign_official": {"count": 3},
    "levered_funds": {"count": 4},
    "money_funds": {"count": 5},
    "banks": {"count": 6},
}
# Loose enough for floating-point differences between BLAS builds, far tighter than any
# behavioural change.
RTOL = 1e-7


def summarise(tables: dict[str, pd.DataFrame]) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, table in tables.items():
        out[f"{name}.rows"] = float(len(table))
        for column, values in table.select_dtypes(include=[np.number, "bool"]).items():
            out[f"{name}.{column}.sum"] = float(values.astype(float).sum())
    return out


def current() -> dict[str, float]:
    return summarise(run(make_scenario(SMALL), seed=42))


def test_small_run_matches_the_golden_summary():
    expected = json.loads(GOLDEN.read_text())
    actual = current()
    assert set(actual) == set(expected), "the output columns changed"
    drifted = {
        key: (expected[key], actual[key])
        for key in expected
        if not np.isclose(actual[key], expected[key], rtol=RTOL, atol=1e-9)
    }
    assert not drifted, f"golden summary moved (regenerate only with a stated reason): {drifted}"


if __name__ == "__main__":
    if "--update" in sys.argv:
        GOLDEN.write_text(json.dumps(current(), indent=1, sort_keys=True) + "\n")
        print(f"wrote {GOLDEN}")
