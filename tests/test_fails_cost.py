"""The regression behind `settlement.operational_fails_cost_elasticity`: it recovers known
elasticities from made-up files, and the schema's default is the public series' estimate."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from sim.calibration.fails_cost import fails_cost_elasticities, weekly_cost_of_failing_pct
from sim.markets.settlement import operational_cost_multiplier
from sim.scenario.schema import SettlementSection


def _write_folder(folder: Path, cost_elasticity: float, vol_elasticity: float, noise_sd: float) -> None:
    """Files in the data folder's layout: SOFR stepping through 2022-2025's regimes, a wandering
    MOVE index, and weekly fails built from both with the given elasticities."""
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2022-01-03", "2025-09-30")
    # SOFR: zero-ish, then a climb to 5.3%, then 4.3%: the cost of failing runs 3% to 5.3%.
    sofr = np.interp(np.arange(len(days)), [0, 60, 300, 700, 900, len(days) - 1], [0.05, 0.3, 4.3, 5.3, 5.3, 4.3])
    move = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, len(days))) * 0.5)
    (folder / "fred").mkdir(parents=True)
    (folder / "market").mkdir()
    (folder / "nyfed").mkdir()
    pd.DataFrame({"observation_date": days.strftime("%Y-%m-%d"), "SOFR": sofr.round(4)}).to_csv(
        folder / "fred" / "SOFR.csv", index=False
    )
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "move_close": move.round(4)}).to_csv(
        folder / "market" / "move_index_daily.csv", index=False
    )
    cost = weekly_cost_of_failing_pct(pd.Series(sofr, index=days))
    weekly_move = pd.Series(move, index=days).resample("W-WED").mean()
    weeks = cost.index.intersection(weekly_move.index)[1:-1]  # whole weeks only
    log_fails = (
        np.log(2.0)
        + cost_elasticity * np.log(cost[weeks] / 4.0)
        + vol_elasticity * np.log(weekly_move[weeks] / 100.0)
        + rng.normal(0.0, noise_sd, len(weeks))
    )
    fails_mn = np.round(1000.0 * np.exp(log_fails), 3)
    pd.DataFrame({
        "as_of_date": weeks.strftime("%Y-%m-%d"),
        "ust_10y_fails_to_deliver_mn": fails_mn,
        "ust_total_fails_to_deliver_mn": fails_mn,
        "ust_total_fails_to_receive_mn": fails_mn,
        "ust_total_fails_to_deliver_n_reported": 1,
    }).to_csv(folder / "nyfed" / "pd_fails_weekly.csv", index=False)  # fmt: skip


def test_cost_of_failing_is_three_percent_under_the_charge_and_the_rate_above_it():
    days = pd.bdate_range("2022-01-05", "2023-12-27")  # Wednesdays to Wednesdays
    cost = weekly_cost_of_failing_pct(pd.Series(np.where(days < "2023-01-01", 0.05, 5.31), index=days))
    # Early 2022: range 0-0.25%, the charge 3 - (0.25 - 0.125) = 2.875%, plus SOFR 0.05%.
    assert cost.iloc[1] == pytest.approx(2.925, abs=1e-9)
    # Late 2023: range 5.25-5.50%, no charge: the cost is SOFR.
    assert cost.iloc[-1] == pytest.approx(5.31, abs=1e-9)


def test_the_regression_recovers_known_elasticities(tmp_path):
    _write_folder(tmp_path, cost_elasticity=-2.0, vol_elasticity=1.0, noise_sd=0.05)
    fit = fails_cost_elasticities(tmp_path)
    assert fit.weeks >= 180
    assert fit.cost_elasticity == pytest.approx(-2.0, abs=0.1)
    assert fit.vol_elasticity == pytest.approx(1.0, abs=0.15)
    assert 0 < fit.cost_elasticity_se < 0.1 and 0 < fit.vol_elasticity_se < 0.15
    # Noisier fails: wider standard errors, the same seed the same numbers.
    noisy = tmp_path / "noisy"
    _write_folder(noisy, cost_elasticity=-2.0, vol_elasticity=1.0, noise_sd=0.5)
    first, again = fails_cost_elasticities(noisy), fails_cost_elasticities(noisy)
    assert first == again
    assert first.cost_elasticity_se > 3 * fit.cost_elasticity_se


REAL_DIR = os.environ.get("PLUMBING_DATA_DIR", "")


@pytest.mark.skipif(not REAL_DIR or not Path(REAL_DIR).is_dir(), reason="PLUMBING_DATA_DIR not set")
def test_the_default_elasticity_is_the_public_series_estimate():
    fit = fails_cost_elasticities(REAL_DIR)
    assert fit.weeks >= 150
    default = SettlementSection().operational_fails_cost_elasticity
    # The schema keeps the magnitude (a multiplier (reference / cost)^elasticity); the regression's
    # coefficient is negative. Within a tenth of a standard error: the default is the estimate.
    assert abs(-fit.cost_elasticity - default) < 0.1 * fit.cost_elasticity_se
    assert fit.cost_elasticity + 2 * fit.cost_elasticity_se < 0  # dearer fails are fewer, beyond noise


def test_the_cost_multiplier_stays_finite_over_the_schemas_range():
    # At zero rates without the charge the cost of failing is nil: the floor is what bounds the
    # multiplier, so the schema keeps it away from zero (a floor of 5e-324 made it infinite).
    bounds = {
        m.__class__.__name__: m for m in SettlementSection.model_fields["operational_fails_cost_floor_pct"].metadata
    }
    lowest_floor = bounds["Ge"].ge
    assert lowest_floor > 0
    largest = operational_cost_multiplier(0.0, elasticity=10.0, reference_pct=20.0, floor_pct=lowest_floor)
    assert np.isfinite(largest) and largest == pytest.approx((20.0 / lowest_floor) ** 10.0)
    with pytest.raises(ValidationError):
        SettlementSection(operational_fails_cost_floor_pct=5e-324)
