"""Yields: the fundamental curve, the risk regime, and the dealers' inventory premium.

The fundamental curve is the expected policy rate over an issue's life plus a term
premium and two stochastic factors (level, slope); the level factor moves the ten-year one
for one and bills hardly at all (`curve.level_loading_years`), as the public yields do.
Factor volatility depends on a calm / risk-off Markov regime. Market yields add a duration premium that rises with the
duration dealers must warehouse relative to their risk capacity (preferred-habitat
logic), which is how dealer constraints reach prices.
"""

from __future__ import annotations

import bisect
from typing import overload

import numpy as np
import pandas as pd

from sim.scenario.schema import CurveSection

ArrayOrFloat = np.ndarray | float  # maturities or rates by issue, or one issue's

TEN_YEAR_DURATION = 10.0 / (1.0 + 0.02 * 10.0)
# The volatility ratio behaviour reads (haircuts, spreads, depth, banks' hurdle) is at most
# this: a hundred times calm volatility is far beyond any market on record (in March 2020
# the 10-year's daily moves were about five times their calm size), and raised to the
# schema's elasticities a larger ratio drives rates and spreads past what the books carry.
VOL_RATIO_CAP = 100.0


@overload
def duration_weight(years: float) -> float: ...
@overload
def duration_weight(years: np.ndarray) -> np.ndarray: ...
def duration_weight(years: ArrayOrFloat) -> ArrayOrFloat:
    """Approximate modified duration relative to a 10-year note (0 for very short bills)."""
    return (years / (1.0 + 0.02 * years)) / TEN_YEAR_DURATION


class YieldCurve:
    """Stochastic fundamental curve with a calm / risk-off regime.

    Attributes:
        level_bp, slope_bp: factor values (bp).
        risk_off: True in the risk-off regime.
        realised_vol_bp: EWMA of daily 10y yield changes (bp/day), what dealers' VaR uses.
    """

    def __init__(self, params: CurveSection):
        self.params = params
        self.level_bp = 0.0
        self.slope_bp = 0.0
        self.risk_off = False
        self.realised_vol_bp = params.level_vol_calm_bp
        self.last_10y_pct: float | None = None
        path = sorted(params.level_vol_path, key=lambda row: row.date)
        self.vol_dates = [pd.Timestamp(row.date) for row in path]
        self.vol_levels_bp = [row.level_vol_bp for row in path]
        # The term premium's build-up at ten years, which scales it at every maturity.
        self._build_up_10y = 1.0 - np.exp(-10.0 / params.term_premium_shape_years)
        self._level_loading_years = params.level_loading_years

    def step(
        self,
        shocks: np.ndarray,
        regime_draw: float,
        forced_risk_off: bool,
        vol_multiplier: float,
        withdrawn_depth_share: float = 0.0,
        day: pd.Timestamp | None = None,
    ) -> None:
        """Advance one business day.

        Args:
            shocks: two standard normal draws (level, slope).
            regime_draw: one uniform draw for the regime chain.
            forced_risk_off: a scenario shock holds the market in risk-off today.
            vol_multiplier: scenario multiplier on factor volatility.
            withdrawn_depth_share: share of their starting depth dealers no longer offer; the
                level factor moves more when they withdraw.
            day: the day, for the calm volatility in force (`level_vol_path`).
        """
        p = self.params
        if self.risk_off:
            self.risk_off = regime_draw >= p.p_risk_off_to_calm
        else:
            self.risk_off = regime_draw < p.p_calm_to_risk_off
        self.risk_off = self.risk_off or forced_risk_off
        level_vol = (p.level_vol_risk_off_bp if self.risk_off else p.level_vol_calm_bp) * vol_multiplier
        if day is not None and self.vol_dates:
            in_force = bisect.bisect_right(self.vol_dates, day)
            if in_force:
                level_vol *= self.vol_levels_bp[in_force - 1] / p.level_vol_calm_bp
        level_vol *= 1.0 + p.vol_withdrawal_sensitivity * withdrawn_depth_share
        keep = 1.0 - p.factor_mean_reversion_per_day
        self.level_bp = keep * self.level_bp + level_vol * shocks[0]
        self.slope_bp = keep * self.slope_bp + p.slope_vol_bp * vol_multiplier * shocks[1]

    def fundamental_pct(self, years: ArrayOrFloat, expected_policy_pct: ArrayOrFloat) -> np.ndarray:
        """Fundamental yield (%) at each remaining maturity, given the expected policy rate."""
        p = self.params
        shape = p.term_premium_shape_years
        build_up = (1.0 - np.exp(-years / shape)) / self._build_up_10y
        slope_load = 1.0 - np.exp(-years / 3.0)
        level = self.level_bp * self.level_loading(years)
        return expected_policy_pct + (p.term_premium_10y_bp * build_up + level + self.slope_bp * slope_load) / 100

    def level_loading(self, years: ArrayOrFloat) -> ArrayOrFloat:
        """How far a yield at each maturity (years) moves with the level factor, relative to the ten-year's
        (`curve.level_loading_years`; 1 everywhere without it)."""
        if self._level_loading_years is None:
            return 1.0
        return level_loading(years, self._level_loading_years)

    def update_realised_vol(self, yield_10y_pct: float) -> None:
        """EWMA of daily 10y changes (bp/day)."""
        if self.last_10y_pct is not None:
            change_bp = (yield_10y_pct - self.last_10y_pct) * 100.0
            d = self.params.vol_ewma_decay
            self.realised_vol_bp = float(np.sqrt(d * self.realised_vol_bp**2 + (1 - d) * change_bp**2))
        self.last_10y_pct = yield_10y_pct

    @property
    def vol_ratio(self) -> float:
        """Realised volatility relative to calm (1 in calm; at least 0.25, at most VOL_RATIO_CAP)."""
        return min(max(self.realised_vol_bp / self.params.level_vol_calm_bp, 0.25), VOL_RATIO_CAP)


def level_loading(years: ArrayOrFloat, build_up_years: float) -> ArrayOrFloat:
    """How far a yield `years` from maturity moves with the level factor when its response builds up
    over `build_up_years`: (1 - exp(-years / build_up)) / (1 - exp(-10 / build_up)), 1 at ten years."""
    return (1.0 - np.exp(-years / build_up_years)) / (1.0 - np.exp(-10.0 / build_up_years))


@overload
def inventory_premium_bp(years: float, risk_utilization: float, scale_bp: float) -> float: ...
@overload
def inventory_premium_bp(years: np.ndarray, risk_utilization: float, scale_bp: float) -> np.ndarray: ...
def inventory_premium_bp(years: ArrayOrFloat, risk_utilization: float, scale_bp: float) -> ArrayOrFloat:
    """Duration premium (bp) dealers' warehoused risk adds to yields at each maturity."""
    return scale_bp * max(risk_utilization, 0.0) * duration_weight(years)


def expected_policy_pct(
    today: int, years: ArrayOrFloat, change_days: np.ndarray, levels_pct: np.ndarray, start_level_pct: float
) -> np.ndarray:
    """Average policy rate (%) from today over each horizon, from the scenario's path.

    Args:
        today: day number.
        years: horizons in years.
        change_days: day numbers of policy changes (sorted).
        levels_pct: the rate in force from each change on.
        start_level_pct: the rate before the first change.
    """
    if change_days.size == 0:
        return np.full(np.shape(years), float(start_level_pct))
    horizon_days = np.maximum(years * 365.25, 1.0)
    end = today + horizon_days
    knots = np.concatenate([[-np.inf], change_days.astype(float)])
    levels = np.concatenate([[start_level_pct], levels_pct])
    total = np.zeros_like(horizon_days)
    for i in range(levels.size):
        lo = np.maximum(knots[i], today)
        hi = np.minimum(knots[i + 1] if i + 1 < knots.size else np.inf, end)
        total += levels[i] * np.maximum(hi - lo, 0.0)
    return total / horizon_days
