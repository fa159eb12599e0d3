"""How yields at each maturity move with the level factor: the loading's shape, the estimator behind
`curve.level_loading_years`, and bills that stay tied to the policy path in a run."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calibration.level_loading import SHORTER_SERIES, level_loading_fit
from sim.model import TreasuryMarketModel
from sim.pricing import YieldCurve, level_loading
from sim.scenario.schema import CurveSection, Scenario


def test_the_loading_is_one_at_ten_years_small_for_bills_and_one_everywhere_without_it():
    curve = YieldCurve(CurveSection(level_loading_years=1.0))
    years = np.array([1 / 12, 0.25, 2.0, 10.0, 30.0])
    loading = curve.level_loading(years)
    assert loading[3] == 1.0  # the ten-year, against which the level factor's volatility is set
    assert loading[0] == pytest.approx((1 - np.exp(-1 / 12)) / (1 - np.exp(-10)), rel=1e-12)
    assert np.all(np.diff(loading) > 0) and loading[0] < 0.1 and loading[4] < 1.001
    # A level move of 10bp moves the 4-week bill by under 1bp and the 10-year by 10bp.
    curve.level_bp = 10.0
    moved = (
        curve.fundamental_pct(years, 4.0)
        - YieldCurve(CurveSection(level_loading_years=1.0)).fundamental_pct(years, 4.0)
    ) * 100
    assert moved[0] < 1.0 and moved[3] == pytest.approx(10.0, abs=1e-9)
    flat = YieldCurve(CurveSection(level_loading_years=None))
    flat.level_bp = 10.0
    moved_flat = (
        flat.fundamental_pct(years, 4.0)
        - YieldCurve(CurveSection(level_loading_years=None)).fundamental_pct(years, 4.0)
    ) * 100
    assert moved_flat == pytest.approx(np.full(5, 10.0), abs=1e-9)


def _write_yields(folder: Path, tau_years: float, noise_bp: float) -> None:
    """Constant-maturity yields whose daily changes load on the ten-year's as the model's would with
    `tau_years`, plus independent noise, over 2018-2025's business days."""
    rng = np.random.default_rng(3)
    days = pd.bdate_range("2018-01-02", "2025-09-30")
    ten_changes = rng.normal(0.0, 0.06, len(days))
    (folder / "fred").mkdir(parents=True)
    series = {"DGS10": (10.0, 0.0)} | {name: (years, noise_bp) for name, years in SHORTER_SERIES.items()}
    for name, (years, noise) in series.items():
        changes = float(level_loading(np.array([years]), tau_years)[0]) * ten_changes
        changes = changes + rng.normal(0.0, noise / 100.0, len(days))
        values = 3.0 + np.cumsum(changes)
        pd.DataFrame({"observation_date": days.strftime("%Y-%m-%d"), name: values.round(6)}).to_csv(
            folder / "fred" / f"{name}.csv", index=False
        )


def test_the_estimator_recovers_a_known_build_up_maturity(tmp_path):
    _write_yields(tmp_path, tau_years=0.7, noise_bp=1.0)
    fit = level_loading_fit(tmp_path)
    assert fit.days > 1300  # the windows' days only: 2020-2021 are left out
    assert fit.loading_years == pytest.approx(0.7, abs=0.02)
    assert fit.betas["DGS1MO"] == pytest.approx(float(level_loading(np.array([1 / 12]), 0.7)[0]), abs=0.02)
    assert 0 < fit.loading_years_se < 0.05
    assert level_loading_fit(tmp_path) == fit  # the same seed, the same bootstrap


REAL_DIR = os.environ.get("PLUMBING_DATA_DIR", "")


@pytest.mark.skipif(not REAL_DIR or not Path(REAL_DIR).is_dir(), reason="PLUMBING_DATA_DIR not set")
def test_the_default_is_the_public_yields_estimate():
    fit = level_loading_fit(REAL_DIR)
    default = CurveSection().level_loading_years
    # Within a tenth of a standard error: the default is the estimate.
    assert default is not None and abs(default - fit.loading_years) < 0.1 * fit.loading_years_se
    # Bills barely follow the ten-year; two and five years nearly one for one.
    assert fit.betas["DGS1MO"] < 0.1 and fit.betas["DGS3MO"] < 0.3 and fit.betas["DGS2"] > 0.8


@pytest.mark.parametrize("seed", [1, 2])
def test_bills_stay_tied_to_the_policy_path_while_the_ten_year_wanders(seed):
    """Over a year, the 3-month yield's daily changes load on the ten-year's as the schema's loading
    says (the dealers' duration premium adds little at three months), far below one for one."""
    scenario = Scenario(name="loading", start_date="2025-01-02", end_date="2025-12-31")
    model = TreasuryMarketModel(scenario, seed=seed)
    rows = []
    while model.running and model.day_index < len(model.calendar):
        model.step()
        rows.append(model.market_yield_pct(np.array([0.25, 2.0, 10.0])))
    changes = np.diff(np.array(rows), axis=0)
    beta = np.cov(changes[:, 0], changes[:, 2])[0, 1] / changes[:, 2].var(ddof=1)
    assert scenario.curve.level_loading_years is not None  # the default: the public yields' estimate
    expected = float(level_loading(np.array([0.25]), scenario.curve.level_loading_years)[0])
    assert beta == pytest.approx(expected, abs=0.1)
    assert np.std(changes[:, 0]) < 0.5 * np.std(changes[:, 2])
