"""The market's shared state between phases: what persists from day to day, and today's flows.

Populations keep their own state (`sim.agents`); prices live in `sim.markets.prices`; the
ledger keeps balances. What is left is market-wide: today's administered rates and shocks,
the quote, the repo day's statistics, facility use and fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.agents.central_bank import AdministeredRates
from sim.markets.repo import ReferenceRates
from sim.shocks import TodaysShocks


@dataclass
class MarketState:
    """Market-wide state carried from day to day.

    Attributes:
        rates: today's administered rates.
        shocks: today's scenario shocks.
        half_spread_today_bp: the market's quote, dealers' half-spreads weighted by size (bp of yield).
        repo_percentiles: volume-weighted 1st, 25th, 50th, 75th, 99th percentiles of all of today's repo
            trades, dealer-to-client included (%).
        sofr_percentiles: the same over tri-party, GCF and cleared DVP, as SOFR's (%).
        sofr_volume_bn: volume under the SOFR percentiles.
        tgcr_median_pct, bilateral_median_pct: tri-party and uncleared bilateral medians (%).
        effr_pct: volume-weighted median of the day's fed funds (interbank) trades (%).
        funds_idle_share: share of money funds' investable cash left at the ON RRP at the rate they lend at.
        repo_volume_bn: repo traded today.
        repo_intermediated_bn: dealers' repo to levered clients.
        lf_unfunded_bn: levered funds' financing wanted but not granted.
        fails_bn: today's fails to deliver, every issue ($bn).
        fails_tracked_bn: today's fails in the issues the New York Fed's by-issue series tracks ($bn;
            `sim.markets.settlement.tracked_issues`).
        fails_by_issue_bn: today's fails by issue slot (daisy chains carry a share of each into tomorrow).
        fails_parts_bn: today's fails by part (rows: unsourced, strategic, operational, daisy chain) and
            issue slot; the rows sum to `fails_by_issue_bn`.
        specialness_bp: specialness by issue slot.
        srf_usage_bn, discount_window_bn: central-bank facility loans taken today.
        repo_operations_bn: today's awards at the central bank's overnight repo operation ($bn).
        facility_rate_yesterday: rate (%) at which yesterday's facility loans were taken, by facility.
    """

    rates: AdministeredRates
    shocks: TodaysShocks
    half_spread_today_bp: float = 0.0
    repo_percentiles: np.ndarray = field(default_factory=lambda: np.zeros(5))
    sofr_percentiles: np.ndarray = field(default_factory=lambda: np.full(5, np.nan))
    sofr_volume_bn: float = 0.0
    tgcr_median_pct: float = float("nan")
    bilateral_median_pct: float = float("nan")
    effr_pct: float = float("nan")
    funds_idle_share: float = 1.0
    repo_volume_bn: float = 0.0
    repo_intermediated_bn: float = 0.0
    lf_unfunded_bn: float = 0.0
    fails_bn: float = 0.0
    fails_tracked_bn: float = 0.0
    fails_by_issue_bn: np.ndarray = field(default_factory=lambda: np.zeros(0))
    fails_parts_bn: np.ndarray = field(default_factory=lambda: np.zeros((4, 0)))
    specialness_bp: np.ndarray = field(default_factory=lambda: np.zeros(0))
    srf_usage_bn: float = 0.0
    banks_borrowed_from_funds_bn: float = 0.0  # banks short of reserves, in repo at the day's end
    discount_window_bn: float = 0.0
    repo_operations_bn: float = 0.0
    facility_rate_yesterday: dict[str, float] = field(default_factory=dict)

    def publish(self, rates: ReferenceRates) -> None:
        """Today's reference rates; a statistic with no trades today keeps yesterday's value."""
        if np.isfinite(rates.sofr_percentiles_pct).all():
            self.sofr_percentiles = rates.sofr_percentiles_pct
        self.sofr_volume_bn = rates.sofr_volume_bn
        if np.isfinite(rates.tgcr_median_pct):
            self.tgcr_median_pct = rates.tgcr_median_pct
        if np.isfinite(rates.bilateral_median_pct):
            self.bilateral_median_pct = rates.bilateral_median_pct


@dataclass
class DayFlows:
    """Today's flows ($bn), reset every morning."""

    customer_bn: float = 0.0  # customer volume filled in the secondary market
    wanted_bn: float = 0.0  # customer volume wanted
    settled_bn: float = 0.0  # auction awards settled today
    settled_slots: list[int] = field(default_factory=list)  # issue slot of each award settled today
    settled_slots_bn: list[float] = field(default_factory=list)  # and its par ($bn)
    delivered_by_issue_bn: np.ndarray = field(default_factory=lambda: np.zeros(0))  # secondary deliveries by slot
    market_depth_bn: float = 0.0  # depth dealers offered
    purchased_bn: float = 0.0  # central-bank purchases
