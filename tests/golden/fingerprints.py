"""Exact fingerprints of every shipped scenario's tables, to prove a code move changes no number.

A fingerprint is one SHA-256 per column of the full daily, auctions and dealers tables of a
scenario run with seed 1 over its first 60 recorded days. The last bits of a float depend
on the BLAS kernel, so fingerprints are compared on one machine, before and after a change:

    python -m tests.golden.fingerprints --write /tmp/before.json
    ... change the code ...
    python -m tests.golden.fingerprints --check /tmp/before.json

A change that only reorders floating-point sums (a vectorised transfer, a merged loop) moves
the last bits, so its check is the full tables within a tight tolerance instead:

    python -m tests.golden.fingerprints --write-tables /tmp/before/
    ... change the code ...
    python -m tests.golden.fingerprints --compare-tables /tmp/before/ [--rtol 1e-9]

Each numeric cell may move by rtol times the larger of its column's largest magnitude and one
unit of the column (a column of dust, $1e-13bn, is compared absolutely, not to its own scale);
shapes, missing cells and non-numeric cells must match exactly.

The committed golden test (tests/test_golden.py) compares the same tables within a tolerance
above what the CPU's kernels alone move (1% or 0.01), so it holds on any machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from sim import TreasuryMarketModel
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
RECORDED_DAYS = 60
SEED = 1


def shipped_scenarios() -> list[Path]:
    """The scenario files users run (experiment files live in scenarios/experiments/)."""
    return sorted(SCENARIOS.glob("*.yaml"))


def first_days(path: Path, days: int = RECORDED_DAYS, seed: int = SEED) -> dict[str, pd.DataFrame]:
    """The tables of a scenario over its first `days` recorded days (the horizon is left as written)."""
    model = TreasuryMarketModel(load_scenario(path), seed=seed)
    while model.running and model.recorder.days_recorded < days:
        model.step()
    return model.results()


def column_bytes(values: pd.Series) -> bytes:
    if values.dtype.kind in "biufM":
        return np.ascontiguousarray(values.to_numpy()).tobytes()
    return "\x1f".join(map(str, values.tolist())).encode()


def fingerprint(tables: dict[str, pd.DataFrame]) -> dict[str, str]:
    """One hash per column (and per table's shape), so a report names what moved."""
    out = {}
    for name, table in tables.items():
        out[f"{name}.shape"] = str(table.shape)
        for column in table.columns:
            out[f"{name}.{column}"] = hashlib.sha256(column_bytes(table[column])).hexdigest()[:16]
    return out


def all_fingerprints() -> dict[str, dict[str, str]]:
    return {path.stem: fingerprint(first_days(path)) for path in shipped_scenarios()}


def write_tables(folder: Path) -> int:
    """Every shipped scenario's tables as `<scenario>.<table>.parquet` in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in shipped_scenarios():
        for name, table in first_days(path).items():
            table.to_parquet(folder / f"{path.stem}.{name}.parquet")
    return len(shipped_scenarios())


def column_differences(name: str, recorded: pd.DataFrame, current: pd.DataFrame, rtol: float) -> list[str]:
    """What moved in one table beyond `rtol` of each column's scale (at least one unit of it)."""
    if recorded.shape != current.shape or list(recorded.columns) != list(current.columns):
        return [f"{name}: shape {recorded.shape} -> {current.shape}"]
    if not recorded.index.equals(current.index):
        return [f"{name}: the rows' index differs"]
    moved = []
    for column in recorded.columns:
        before, after = recorded[column], current[column]
        if before.dtype.kind not in "biuf" or after.dtype.kind not in "biuf":
            if (
                before.astype(str).to_numpy() != after.astype(str).to_numpy()
            ).any():  # Parquet may change a date's unit
                moved.append(f"{name}.{column}: values differ")
            continue
        a, b = before.to_numpy(float), after.to_numpy(float)
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            moved.append(f"{name}.{column}: missing cells differ")
            continue
        scale = max(float(np.nanmax(np.abs(a), initial=0.0)), 1.0)
        worst = float(np.nanmax(np.abs(a - b), initial=0.0))
        if worst > rtol * scale:
            moved.append(f"{name}.{column}: moved {worst:.3g} (column scale {scale:.3g})")
    return moved


def compare_tables(folder: Path, rtol: float) -> list[str]:
    """Differences of the current tables from those written into `folder`, by scenario and table."""
    moved = []
    for path in shipped_scenarios():
        for name, table in first_days(path).items():
            stored = folder / f"{path.stem}.{name}.parquet"
            if not stored.exists():
                moved.append(f"{path.stem}.{name}: not in {folder}")
                continue
            moved += column_differences(f"{path.stem}.{name}", pd.read_parquet(stored), table, rtol)
    return moved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, metavar="FILE", help="record the fingerprints into FILE")
    action.add_argument("--check", type=Path, metavar="FILE", help="compare with the fingerprints in FILE")
    action.add_argument("--write-tables", type=Path, metavar="DIR", help="save the full tables into DIR")
    action.add_argument("--compare-tables", type=Path, metavar="DIR", help="compare with the tables saved in DIR")
    parser.add_argument("--rtol", type=float, default=1e-9, help="tolerance of --compare-tables (1e-9 of the scale)")
    args = parser.parse_args(argv)
    if args.write_tables:
        print(f"wrote the tables of {write_tables(args.write_tables)} scenarios to {args.write_tables}")
        return 0
    if args.compare_tables:
        moved = compare_tables(args.compare_tables, args.rtol)
        if moved:
            print(f"{len(moved)} columns moved beyond {args.rtol:g} of their scale:\n  " + "\n  ".join(moved[:60]))
            return 1
        print(f"within {args.rtol:g} of each column's scale: {len(shipped_scenarios())} scenarios")
        return 0
    current = all_fingerprints()
    if args.write:
        args.write.write_text(json.dumps(current, indent=1, sort_keys=True) + "\n")
        print(f"wrote fingerprints of {len(current)} scenarios to {args.write}")
        return 0
    recorded = json.loads(args.check.read_text())
    moved = [
        f"{scenario}: {key}"
        for scenario in sorted(set(recorded) | set(current))
        for key in sorted(set(recorded.get(scenario, {})) | set(current.get(scenario, {})))
        if recorded.get(scenario, {}).get(key) != current.get(scenario, {}).get(key)
    ]
    if moved:
        print(f"{len(moved)} fingerprints moved:\n  " + "\n  ".join(moved[:60]))
        return 1
    print(f"identical: {len(current)} scenarios, {sum(map(len, current.values()))} column fingerprints")
    return 0


if __name__ == "__main__":
    sys.exit(main())
