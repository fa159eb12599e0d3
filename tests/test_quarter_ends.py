"""Quarter-ends: SOFR rises on snapshot days, in the real files and, from the window-dressing
mechanism, in the simulated 2025-like year."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.dashboard.metrics import prepare_daily, sofr_quarter_end_jump_bp
from sim.scenario import load_scenario

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.yaml"
NO_SNAPSHOTS = {
    "banks": {"quarter_end_lending_cut_share": 0.0, "quarter_end_hurdle_bp": 0.0},
    "dealers": {"quarter_end_shrink_share": 0.0},
}


def _jumps(overrides: dict, seed: int) -> pd.Series:
    daily = TreasuryMarketModel(load_scenario(BASELINE, overrides=overrides), seed=seed).run().results()["daily"]
    jumps = sofr_quarter_end_jump_bp(prepare_daily(daily))
    assert jumps is not None
    return jumps.dropna()


@pytest.mark.parametrize("seed", [1, 2])
def test_window_dressing_lifts_sofr_on_quarter_ends(seed):
    # The same year with and without banks and dealers stepping back on snapshot days: the
    # step-back leaves borrowers to pay up, so the jump over the week before is larger.
    with_snapshots, without = _jumps({}, seed), _jumps(NO_SNAPSHOTS, seed)
    assert len(with_snapshots) == len(without) == 4
    assert with_snapshots.mean() > without.mean() + 2.0
    assert (with_snapshots > without - 1.0).all()


@pytest.mark.skipif(not os.environ.get("PLUMBING_DATA_DIR"), reason="PLUMBING_DATA_DIR names no data folder")
def test_real_sofr_never_falls_on_a_quarter_end_from_2022_to_2025():
    import datetime as dt

    from sim.data.real import load_real_tables

    daily = load_real_tables(os.environ["PLUMBING_DATA_DIR"], dt.date(2022, 1, 1), dt.date(2025, 9, 30))["daily"]
    jumps = sofr_quarter_end_jump_bp(prepare_daily(daily)).dropna()
    assert len(jumps) == 15
    assert (jumps >= 0).all()
    assert 2.0 < jumps.mean() < 6.0  # about +4bp
