"""Exact fingerprints of every shipped scenario's tables, to prove a code move changes no number.

A fingerprint is one SHA-256 per column of the full daily, auctions and dealers tables of a
scenario run with seed 1 over its first 60 recorded days. The last bits of a float depend
on the BLAS kernel, so fingerprints are compared on one machine, before and after a change:

    python -m tests.golden.fingerprints --write /tmp/before.json
    ... change the code ...
    python -m tests.golden.fingerprints --check /tmp/before.json

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", type=Path, metavar="FILE", help="record the fingerprints into FILE")
    action.add_argument("--check", type=Path, metavar="FILE", help="compare with the fingerprints in FILE")
    args = parser.parse_args(argv)
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
