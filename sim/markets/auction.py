"""Uniform-price (single-price) Treasury auctions.

Bidders submit (yield, amount) tenders. Tenders are accepted from the lowest yield up
until the offering is filled; everyone accepted pays the stop-out (high) yield, and
tenders at the high yield are filled pro rata. The median and low yields follow
Treasury's definitions: the yields at or below which 50% and 5% of the accepted amount
was tendered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AuctionResult:
    """Outcome of one auction. Yields in %, amounts in $bn (awards in tender order)."""

    high_yield_pct: float
    median_yield_pct: float
    low_yield_pct: float
    awarded_bn: np.ndarray
    tendered_bn: float
    offering_bn: float

    @property
    def bid_to_cover(self) -> float:
        return self.tendered_bn / self.offering_bn if self.offering_bn > 0 else 0.0


def clear_uniform_price(yields_pct: np.ndarray, amounts_bn: np.ndarray, offering_bn: float) -> AuctionResult:
    """Clear a single-price auction.

    Args:
        yields_pct: tendered yields (%).
        amounts_bn: tendered amounts ($bn, >= 0).
        offering_bn: amount offered ($bn).

    Returns:
        The stop-out, median and low yields, each tender's award, and totals. If tenders
        fall short of the offering, every tender is filled and the high yield is the
        highest tender (the case primary dealers' bidding obligation rules out).
    """
    all_amounts = np.maximum(np.asarray(amounts_bn, dtype=float), 0.0)
    tendered = float(all_amounts.sum())
    all_awarded = np.zeros_like(all_amounts)
    tenders = np.flatnonzero(all_amounts > 0)
    if offering_bn <= 0 or tenders.size == 0:
        nan = float("nan")
        return AuctionResult(nan, nan, nan, all_awarded, tendered, offering_bn)
    # Clear on the live tenders only; awards map back to the caller's order.
    yields_pct = np.asarray(yields_pct, dtype=float)[tenders]
    amounts_bn = all_amounts[tenders]
    awarded = np.zeros_like(amounts_bn)
    live = np.ones(amounts_bn.size, dtype=bool)
    order = np.argsort(yields_pct, kind="stable")
    sorted_yields = yields_pct[order]
    cumulative = np.cumsum(amounts_bn[order])
    # Tenders that cover the offering only to within rounding count as just covering it.
    if cumulative[-1] <= offering_bn * (1.0 + 1e-12):
        awarded[:] = amounts_bn
        high = float(yields_pct[live].max())
    else:
        marginal = min(int(np.searchsorted(cumulative, offering_bn, side="left")), cumulative.size - 1)
        high = float(sorted_yields[marginal])
        below = yields_pct < high
        at_high = (yields_pct == high) & live
        awarded[below] = amounts_bn[below]
        remaining = offering_bn - float(amounts_bn[below].sum())
        awarded[at_high] = amounts_bn[at_high] * (remaining / float(amounts_bn[at_high].sum()))
    accepted = awarded[order]
    accepted_cumulative = np.cumsum(accepted)
    total = accepted_cumulative[-1]
    median = float(sorted_yields[np.searchsorted(accepted_cumulative, 0.5 * total, side="left")])
    low = float(sorted_yields[np.searchsorted(accepted_cumulative, 0.05 * total, side="left")])
    all_awarded[tenders] = awarded
    return AuctionResult(high, median, low, all_awarded, tendered, offering_bn)
