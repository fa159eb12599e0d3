"""Quarter-ends: SOFR rises on snapshot days, in the real files and, from the window-dressing
mechanism, in the simulated 2025-like year."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.dashboard.metrics import prepare_daily, sofr_quarter_end_jump_bp
from sim.scenario import load_scenario
from tests.conftest import make_scenario

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
    from sim.data.real import load_real_tables

    daily = load_real_tables(os.environ["PLUMBING_DATA_DIR"], dt.date(2022, 1, 1), dt.date(2025, 9, 30))["daily"]
    jumps = sofr_quarter_end_jump_bp(prepare_daily(daily)).dropna()
    assert len(jumps) == 15
    assert (jumps >= 0).all()
    assert 2.0 < jumps.mean() < 6.0  # about +4bp


QUARTER_END_WEEK = {"start_date": dt.date(2025, 3, 24), "end_date": dt.date(2025, 4, 2)}


def _around_quarter_end(overrides: dict, seed: int) -> tuple[TreasuryMarketModel, pd.DataFrame]:
    model = TreasuryMarketModel(make_scenario(QUARTER_END_WEEK, overrides), seed=seed).run()
    daily = model.results()["daily"].assign(date=lambda d: pd.to_datetime(d["date"])).set_index("date")
    return model, daily


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_window_dressers_move_client_repo_into_sponsored_repo_on_the_snapshot(seed):
    # Window-dressers book half of their uncleared client repo as sponsored (cleared DVP) on 31
    # March: it leaves uncleared bilateral repo and enters the SOFR segments, so SOFR's volume
    # that day exceeds the same day without the shift, by no more than their client repo; the
    # days before the snapshot are identical (same seed, same draws).
    shifted = {"dealers": {"quarter_end_sponsored_shift_share": 0.5}}
    unshifted = {"dealers": {"quarter_end_sponsored_shift_share": 0.0}}
    model, with_shift = _around_quarter_end(shifted, seed)
    _, without = _around_quarter_end(unshifted, seed)
    before, snapshot = slice("2025-03-24", "2025-03-28"), pd.Timestamp("2025-03-31")
    pd.testing.assert_series_equal(with_shift.loc[before, "sofr_volume_bn"], without.loc[before, "sofr_volume_bn"])
    added_bn = with_shift.at[snapshot, "sofr_volume_bn"] - without.at[snapshot, "sofr_volume_bn"]
    dressers = model.dealers.window_dresser
    assert dressers.any()
    client_repo_bn = float(model.ledger.repo_lent_bn[: dressers.size].sum())
    assert 0.0 < added_bn < client_repo_bn


def test_the_sponsored_share_rises_only_for_window_dressers_and_only_on_snapshot_days():
    shifting = {"dealers": {"quarter_end_sponsored_shift_share": 0.4}}
    model = TreasuryMarketModel(make_scenario(QUARTER_END_WEEK, shifting))
    structure = model.config.market_structure
    ordinary = model.dealers.sponsored_client_share(structure, snapshot_day=False)
    snapshot = model.dealers.sponsored_client_share(structure, snapshot_day=True)
    base = structure.sponsored_client_repo_share
    assert ordinary == pytest.approx(np.full(ordinary.size, base))
    dressers = model.dealers.window_dresser
    assert snapshot[dressers] == pytest.approx(base + (1.0 - base) * 0.4)
    assert snapshot[~dressers] == pytest.approx(base)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_money_funds_park_at_the_on_rrp_what_window_dressers_stop_borrowing(seed):
    # On 31 March window-dressers take from funds at most their need less the shrink share: the
    # ON RRP rises from the day before by more than with no shrink (same seed), and the borrowers
    # left pay banks for the rest, so SOFR rises over the week before. Banks' borrowing of the
    # funds' idle cash is off here: at 2025's rates it would take the cash back from the facility
    # (that side of the snapshot is tests/test_reservoir.py's).
    no_bank_borrowing = {"banks": {"repo_borrowing": False}}
    dressing = {"dealers": {"quarter_end_shrink_share": 0.4}, **no_bank_borrowing}
    _, shrinking = _around_quarter_end(dressing, seed)
    _, not_shrinking = _around_quarter_end(
        {**NO_SNAPSHOTS, "banks": {**NO_SNAPSHOTS["banks"], **no_bank_borrowing["banks"]}}, seed
    )
    snapshot, eve = pd.Timestamp("2025-03-31"), pd.Timestamp("2025-03-28")
    take_up_bn = {
        k: d.at[snapshot, "on_rrp_bn"] - d.at[eve, "on_rrp_bn"]
        for k, d in (("shrinking", shrinking), ("not", not_shrinking))
    }
    assert take_up_bn["shrinking"] > take_up_bn["not"] + 10.0
    jump = sofr_quarter_end_jump_bp(prepare_daily(shrinking.reset_index()))
    assert jump is not None and jump.dropna().iloc[-1] > 0.0
