"""Scenario shocks laid out on the business-day calendar.

Each shock starts on the first business day on or after its date and lasts its number of
business days. The schedule answers, for a day, what is forced on the market.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calendar import business_days
from sim.scenario.schema import (
    EndDemandShortfall,
    ForeignOfficialSelling,
    FundingPullback,
    FundSelling,
    HaircutJump,
    RiskOff,
    SettlementDisruption,
    Shock,
    VolatilityJump,
)


@dataclass(frozen=True)
class TodaysShocks:
    """What scenario shocks impose on one business day."""

    risk_off: bool
    vol_multiplier: float
    funding_pullback_share: float
    foreign_selling_bn: float
    fund_selling_bn: float
    settlement_multiplier: float
    haircut_multiplier: float


class ShockSchedule:
    """Per-day effects of a scenario's shocks over a run's business days."""

    def __init__(self, shocks: list[Shock], days: pd.DatetimeIndex):
        n = len(days)
        self.risk_off = np.zeros(n, dtype=bool)
        self.vol_multiplier = np.ones(n)
        self.funding_pullback = np.zeros(n)
        self.foreign_selling = np.zeros(n)
        self.fund_selling = np.zeros(n)
        self.settlement_multiplier = np.ones(n)
        self.haircut_multiplier = np.ones(n)
        self.demand_shortfall: dict[tuple[int, str], float] = {}
        self.outside_window: list[str] = []
        # In file order: multipliers compound in that order, so the schedule is the same for the same file.
        for i, shock in enumerate(shocks):
            span = self._days_in_run(i, shock, days)
            if span is not None:
                self._impose(shock, span)

    def _days_in_run(self, i: int, shock: Shock, days: pd.DatetimeIndex) -> slice | None:
        """The run's days a shock covers, None if none; a shock cut by the window is noted in `outside_window`."""
        own_days = business_days(shock.date, shock.date + dt.timedelta(days=2 * shock.days + 10))[: shock.days]
        first = int(days.searchsorted(own_days[0]))
        stop = int(days.searchsorted(own_days[-1], side="right"))
        label = f"shocks[{i}] ({shock.kind} on {shock.date}, {shock.days} business days)"
        if first >= len(days):
            self.outside_window.append(f"{label} is after the last simulated day")
            return None
        if stop == 0:
            self.outside_window.append(f"{label} ends before the first simulated day")
            return None
        if own_days[0] < days[0]:
            self.outside_window.append(f"{label} starts before the first simulated day; only its last days run")
        if own_days[-1] > days[-1]:
            self.outside_window.append(f"{label} runs past the last simulated day; only its first days run")
        return slice(first, stop)

    def _impose(self, shock: Shock, span: slice) -> None:
        """Add one shock over its days: multipliers compound, flows add, withdrawn shares take the larger."""
        match shock:
            case RiskOff():
                self.risk_off[span] = True
            case VolatilityJump(multiplier=multiplier, risk_off=risk_off):
                self.vol_multiplier[span] *= multiplier
                if risk_off:
                    self.risk_off[span] = True
            case FundingPullback(share=share):
                self.funding_pullback[span] = np.maximum(self.funding_pullback[span], share)
            case ForeignOfficialSelling(bn_per_day=bn_per_day):
                self.foreign_selling[span] += bn_per_day
            case FundSelling(bn_per_day=bn_per_day):
                self.fund_selling[span] += bn_per_day
            case SettlementDisruption(multiplier=multiplier):
                self.settlement_multiplier[span] *= multiplier
            case HaircutJump(multiplier=multiplier):
                self.haircut_multiplier[span] *= multiplier
            case EndDemandShortfall(tenor=tenor, share=share):
                for day in range(span.start, span.stop):
                    key = (day, tenor)
                    self.demand_shortfall[key] = max(self.demand_shortfall.get(key, 0.0), share)

    def today(self, t: int) -> TodaysShocks:
        return TodaysShocks(
            bool(self.risk_off[t]),
            float(self.vol_multiplier[t]),
            float(self.funding_pullback[t]),
            float(self.foreign_selling[t]),
            float(self.fund_selling[t]),
            float(self.settlement_multiplier[t]),
            float(self.haircut_multiplier[t]),
        )

    def shortfall(self, t: int, tenor: str) -> float:
        """Share of end demand kept away from today's auction of `tenor`."""
        return max(self.demand_shortfall.get((t, tenor), 0.0), self.demand_shortfall.get((t, "all"), 0.0))
