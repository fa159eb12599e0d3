"""How far yields at each maturity move with the ten-year's: the source of `curve.level_loading_years`.

Daily changes of the constant-maturity yields (`fred/DGS1MO.csv`, `DGS3MO`, `DGS2`, `DGS5`) are
regressed on the ten-year's (`DGS10`), over the days of the calibration windows when rates were
off zero (April 2018 to December 2019, January 2022 to September 2025). The model's yields move
with the level factor by (1 - exp(-T / tau)) / (1 - exp(-10 / tau)) at T years; tau is the value
that brings these loadings closest (least squares) to the estimated betas. Bills barely move with
the ten-year (betas of 0.05 at one month and 0.16 at three): they are tied to the expected policy
path, which the model knows. The standard error is from a moving-block bootstrap of days.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar

from sim.calibration.moments import moving_block_weeks
from sim.data.fred import fred_path, read_fred_series
from sim.pricing import level_loading

# Constant-maturity series below ten years and their maturities (years).
SHORTER_SERIES: dict[str, float] = {"DGS1MO": 1 / 12, "DGS3MO": 0.25, "DGS2": 2.0, "DGS5": 5.0}
TEN_YEAR_SERIES = "DGS10"
# The calibration windows' days with the policy rate off zero (at zero, bills cannot move at all).
WINDOWS: tuple[tuple[str, str], ...] = (("2018-04-02", "2019-12-31"), ("2022-01-03", "2025-09-30"))
BLOCK_DAYS = 20  # about a month: daily yield changes carry little autocorrelation beyond it
BOOTSTRAP_DRAWS = 500
TAU_BOUNDS_YEARS = (0.02, 30.0)  # within the schema's range for `curve.level_loading_years`


@dataclass(frozen=True)
class LevelLoadingFit:
    """The estimated loadings by series, the fitted build-up maturity and its standard error."""

    betas: dict[str, float]  # each series' daily change per unit change of the ten-year
    loading_years: float  # tau (years)
    loading_years_se: float
    days: int


def fit_loading_years(betas: np.ndarray, years: np.ndarray) -> float:
    """The tau whose loadings are closest to `betas` at `years` (least squares, within the schema's range)."""
    result = minimize_scalar(
        lambda tau: float(((np.asarray(level_loading(years, tau)) - betas) ** 2).sum()),
        bounds=TAU_BOUNDS_YEARS,
        method="bounded",
        options={"xatol": 1e-6},
    )
    return float(result.x)


def _betas(changes: np.ndarray) -> np.ndarray:
    """Slopes of each column but the last on the last (the ten-year's changes), through the means."""
    centred = changes - changes.mean(axis=0)
    ten = centred[:, -1]
    return centred[:, :-1].T @ ten / (ten @ ten)


def daily_changes(data_dir: str | Path) -> pd.DataFrame:
    """Daily changes (percentage points) of the shorter series and the ten-year, over the windows'
    days on which every series has a value on that day and the one before."""
    folder = Path(data_dir)
    names = [*SHORTER_SERIES, TEN_YEAR_SERIES]
    levels = pd.concat(
        {name: read_fred_series(fred_path(folder, name), name) for name in names}, axis=1, sort=True
    ).dropna()
    changes = levels.diff().dropna()
    inside = np.zeros(len(changes), dtype=bool)
    for first, last in WINDOWS:
        inside |= (changes.index >= pd.Timestamp(first)) & (changes.index <= pd.Timestamp(last))
    return changes[inside]


def level_loading_fit(data_dir: str | Path, seed: int = 0) -> LevelLoadingFit:
    """The betas on the ten-year and the build-up maturity that fits them (see the module's docstring)."""
    changes = daily_changes(data_dir)
    values = changes.to_numpy()
    years = np.array(list(SHORTER_SERIES.values()))
    betas = _betas(values)
    tau = fit_loading_years(betas, years)
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(BOOTSTRAP_DRAWS):
        rows = moving_block_weeks(len(values), BLOCK_DAYS, rng)  # positions: here days, not weeks
        draws.append(fit_loading_years(_betas(values[rows]), years))
    return LevelLoadingFit(
        betas={name: float(b) for name, b in zip(SHORTER_SERIES, betas, strict=True)},
        loading_years=tau,
        loading_years_se=float(np.std(draws, ddof=1)),
        days=len(values),
    )
