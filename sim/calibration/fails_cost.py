"""How the public weekly fails answer to the cost of failing and to rate volatility.

The source of `settlement.operational_fails_cost_elasticity`: a regression of the log of the
weekly fails in the tracked issues (`nyfed/pd_fails_weekly.csv`, the nominal coupons) on the log
of the week's mean cost of failing, as the model's short sellers weigh it (SOFR floored at zero,
plus the TMPG fails charge: 3% less the top of the target range less 12.5bp, floored at zero),
and the log of the week's mean MOVE index. Standard errors by a moving-block bootstrap over
13-week blocks, since fails are autocorrelated.

The cost of failing varies by regime (2.8-3.2% in 2022 under the charge, 5.0-5.4% in 2023-2024,
4.1-4.5% in 2025), so the estimate rests on few regime changes; the standard error says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibration.moments import moving_block_weeks
from sim.data.fomc import rates_in_force
from sim.data.fred import fred_path, read_fred_series
from sim.data.market import read_move_index
from sim.data.nyfed import read_fails_weekly
from sim.markets.settlement import cost_of_failing_pct, fails_charge_pct
from sim.scenario.schema import SettlementSection

FAILS_FILE = Path("nyfed") / "pd_fails_weekly.csv"
MOVE_FILE = Path("market") / "move_index_daily.csv"
BLOCK_WEEKS = 13  # a quarter: fails' autocorrelation dies out well within it
BOOTSTRAP_DRAWS = 2000
# The TMPG charge's reference rate below the top of the range, as the model's short sellers have it.
FAILS_CHARGE_REFERENCE_BELOW_TOP_PCT = SettlementSection().fails_charge_reference_below_top_bp / 100.0


@dataclass(frozen=True)
class FailsCostFit:
    """Elasticities of weekly tracked fails (log-log) and their block-bootstrap standard errors."""

    cost_elasticity: float  # d log fails / d log cost of failing (negative: dearer fails are avoided)
    cost_elasticity_se: float
    vol_elasticity: float  # d log fails / d log MOVE
    vol_elasticity_se: float
    weeks: int
    first_week: pd.Timestamp
    last_week: pd.Timestamp


def weekly_cost_of_failing_pct(sofr_pct: pd.Series) -> pd.Series:
    """Each Thursday-to-Wednesday week's mean cost of failing (%), labelled by its Wednesday."""
    sofr_pct = sofr_pct.dropna()
    upper = rates_in_force(pd.DatetimeIndex(sofr_pct.index))["target_upper_pct"].to_numpy()
    cost = [
        cost_of_failing_pct(rate, fails_charge_pct(top - FAILS_CHARGE_REFERENCE_BELOW_TOP_PCT, True))
        for rate, top in zip(sofr_pct.to_numpy(), upper, strict=True)
    ]
    return pd.Series(cost, index=sofr_pct.index).resample("W-WED").mean().dropna()


def fails_cost_elasticities(data_dir: str | Path, seed: int = 0) -> FailsCostFit:
    """The regression of log weekly tracked fails on log cost of failing and log MOVE, over every
    week the three files share with positive fails (see the module's docstring)."""
    folder = Path(data_dir)
    fails = read_fails_weekly(folder / FAILS_FILE).set_index("week_end")["fails_tracked_bn"]
    move = read_move_index(folder / MOVE_FILE).resample("W-WED").mean()
    cost = weekly_cost_of_failing_pct(read_fred_series(fred_path(folder, "SOFR"), "SOFR"))
    weeks = pd.concat({"fails": fails, "cost": cost, "move": move}, axis=1, sort=True).dropna()
    weeks = weeks[(weeks["fails"] > 0) & (weeks["cost"] > 0) & (weeks["move"] > 0)]
    regressors = np.column_stack([np.ones(len(weeks)), np.log(weeks["cost"]), np.log(weeks["move"])])
    outcome = np.log(weeks["fails"].to_numpy())
    coefficients = np.linalg.lstsq(regressors, outcome, rcond=None)[0]
    rng = np.random.default_rng(seed)
    n = len(weeks)
    draws = []
    for _ in range(BOOTSTRAP_DRAWS):
        rows = moving_block_weeks(n, BLOCK_WEEKS, rng)
        draws.append(np.linalg.lstsq(regressors[rows], outcome[rows], rcond=None)[0])
    se = np.std(draws, axis=0, ddof=1)
    return FailsCostFit(
        cost_elasticity=float(coefficients[1]),
        cost_elasticity_se=float(se[1]),
        vol_elasticity=float(coefficients[2]),
        vol_elasticity_se=float(se[2]),
        weeks=n,
        first_week=pd.Timestamp(weeks.index[0]),
        last_week=pd.Timestamp(weeks.index[-1]),
    )
