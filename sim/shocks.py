"""Scenario shocks laid out on the business-day calendar.

Each shock starts on the first business day on or after its date and lasts its number of
business days. The book answers, for a day, what is forced on the market.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.calendar import business_days
from sim.scenario.schema import Shock


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


class ShockBook:
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
        for i, shock in enumerate(shocks):
            # The shock's own business days, then the part of them inside the run.
            own_days = business_days(shock.date, shock.date + dt.timedelta(days=2 * shock.days + 10))[: shock.days]
            first = int(days.searchsorted(own_days[0]))
            stop = int(days.searchsorted(own_days[-1], side="right"))
            label = f"shocks[{i}] ({shock.kind} on {shock.date}, {shock.days} business days)"
            if first >= n:
                self.outside_window.append(f"{label} is after the last simulated day")
                continue
            if stop == 0:
                self.outside_window.append(f"{label} ends before the first simulated day")
                continue
            if own_days[0] < days[0]:
                self.outside_window.append(f"{label} starts before the first simulated day; only its last days run")
            if own_days[-1] > days[-1]:
                self.outside_window.append(f"{label} runs past the last simulated day; only its first days run")
            span = slice(first, stop)
            kind = shock.kind
            if kind == "risk_off":
                self.risk_off[span] = True
            elif kind == "volatility_jump":
                self.vol_multiplier[span] *= shock.multiplier
                self.risk_off[span] = True
            elif kind == "funding_pullback":
                self.funding_pullback[span] = np.maximum(self.funding_pullback[span], shock.share)
            elif kind == "foreign_official_selling":
                self.foreign_selling[span] += shock.bn_per_day
            elif kind == "fund_selling":
                self.fund_selling[span] += shock.bn_per_day
            elif kind == "settlement_disruption":
                self.settlement_multiplier[span] *= shock.multiplier
            elif kind == "haircut_jump":
                self.haircut_multiplier[span] *= shock.multiplier
            elif kind == "end_demand_shortfall":
                for day in range(span.start, span.stop):
                    key = (day, shock.tenor)
                    self.demand_shortfall[key] = max(self.demand_shortfall.get(key, 0.0), shock.share)

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
