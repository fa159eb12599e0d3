"""Overnight repo in intraday rounds, and SOFR-style volume-weighted percentiles.

Lenders post tranches (an asking rate and an amount): money funds at the ON RRP rate plus
a small spread, banks at IORB plus a hurdle plus the marginal value of the reserves they
would give up. Borrowers (dealers) bring a share of their remaining need each round. A
round clears at the marginal ask that fills the demand; infra-marginal lenders get part of
the gap to the marginal rate (bargaining), so trades spread over a range of rates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RoundResult:
    """Fills of one round: by lender tranche and by borrower ($bn), and their rates (%)."""

    marginal_rate_pct: float
    tranche_fill_bn: np.ndarray
    tranche_rate_pct: np.ndarray
    borrower_fill_bn: np.ndarray
    borrower_rate_pct: float  # pro-rata matching: every borrower pays the round's average


def clear_round(
    ask_pct: np.ndarray,
    available_bn: np.ndarray,
    need_bn: np.ndarray,
    max_rate_pct: float,
    bargaining_share: float,
    rate_noise_pct: np.ndarray,
    round_shift_pct: float,
    order: np.ndarray | None = None,
) -> RoundResult:
    """Clear one repo round.

    Args:
        ask_pct: lowest rate each lender tranche accepts (%).
        available_bn: amount of each tranche ($bn).
        need_bn: each borrower's demand this round ($bn).
        max_rate_pct: borrowers do not pay more than this (their outside option).
        bargaining_share: share of (marginal - ask) that goes to the lender.
        rate_noise_pct: trade-level noise, one per tranche (%).
        round_shift_pct: round-level noise added to the marginal rate (%).
        order: tranches with asks at or below `max_rate_pct`, cheapest first; computed
            when not given (asks do not change within a day, so callers sort once).
    """
    if order is None:
        order = eligible_order(ask_pct, max_rate_pct)
    demand = float(need_bn.sum())
    fill = np.zeros_like(available_bn)
    supply_sorted = available_bn[order]
    cumulative = np.cumsum(supply_sorted)
    supply = float(cumulative[-1]) if cumulative.size else 0.0
    if demand <= 0 or supply <= 0:
        return RoundResult(float("nan"), fill, np.zeros_like(ask_pct), np.zeros_like(need_bn), 0.0)
    filled = min(demand, supply)
    marginal_pos = min(int(np.searchsorted(cumulative, filled, side="left")), order.size - 1)
    fill[order] = np.minimum(supply_sorted, np.maximum(filled - (cumulative - supply_sorted), 0.0))
    marginal = float(ask_pct[order[marginal_pos]]) + round_shift_pct
    marginal = min(max(marginal, float(ask_pct[order[0]])), max_rate_pct)
    rate = ask_pct + bargaining_share * np.maximum(marginal - ask_pct, 0.0) + rate_noise_pct
    rate = np.minimum(np.maximum(rate, ask_pct), max_rate_pct)
    borrower_fill = need_bn * (filled / demand)
    average = float((fill * rate).sum() / filled)
    return RoundResult(marginal, fill, rate, borrower_fill, average)


def eligible_order(ask_pct: np.ndarray, max_rate_pct: float) -> np.ndarray:
    """Tranches a borrower would take (ask at or below its limit), cheapest first."""
    eligible = np.flatnonzero(ask_pct <= max_rate_pct)
    return eligible[np.argsort(ask_pct[eligible], kind="stable")]


def volume_weighted_percentiles(rates_pct: np.ndarray, volumes_bn: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Percentiles of the rate distribution weighted by volume, the way SOFR's are computed.

    The q-th percentile is the lowest rate at which the cumulative volume reaches q of the
    total. Returns NaNs when there is no volume.
    """
    keep = volumes_bn > 0
    if not keep.any():
        return np.full(len(quantiles), np.nan)
    rates = rates_pct[keep]
    volumes = volumes_bn[keep]
    order = np.argsort(rates, kind="stable")
    cumulative = np.cumsum(volumes[order])
    positions = np.searchsorted(cumulative, np.asarray(quantiles) * cumulative[-1], side="left")
    return rates[order][np.minimum(positions, rates.size - 1)]
