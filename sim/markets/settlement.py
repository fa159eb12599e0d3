"""Settlement: specials, strategic and operational fails, daisy chains.

An issue goes special when dealers' short positions press on the supply that holders
lend out. A short seller fails when the issue cannot be sourced, or when borrowing it
costs more than failing: with the TMPG fails charge (3% minus the policy rate, floored at
zero, annualised) failing is dear even at zero rates; without it, failing is nearly free
once specialness exceeds the general collateral rate. Part of today's fails causes fails
tomorrow (daisy chains); operational fails scale with settlement volume and friction.
"""

from __future__ import annotations

import numpy as np


def specialness_bp(short_bn: np.ndarray, lendable_bn: np.ndarray, special_max_bp: float, exponent: float) -> np.ndarray:
    """Spread of an issue's special repo rate below general collateral (bp)."""
    pressure = np.divide(short_bn, lendable_bn, out=np.where(short_bn > 0, 1.0, 0.0), where=lendable_bn > 0)
    return special_max_bp * np.minimum(pressure, 1.0) ** exponent


def fails_charge_pct(policy_rate_pct: float, enabled: bool) -> float:
    """TMPG fails charge, annualised (%): 3% minus the policy rate, floored at zero."""
    return max(3.0 - policy_rate_pct, 0.0) if enabled else 0.0


def fails_by_issue(
    short_bn: np.ndarray,
    lendable_bn: np.ndarray,
    special_bp: np.ndarray,
    general_collateral_pct: float,
    charge_pct: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Fails to deliver of short sellers, by issue ($bn).

    Returns (cannot be sourced, chosen because failing is cheaper). The choice is smooth
    in the cost gap (a 10bp logistic scale) because desks differ in their cost of failing.
    """
    unsourced = np.maximum(short_bn - lendable_bn, 0.0)
    cost_of_failing_bp = (max(general_collateral_pct, 0.0) + charge_pct) * 100.0
    gap = np.clip((special_bp - cost_of_failing_bp) / 10.0, -50.0, 50.0)
    strategic = (short_bn - unsourced) / (1.0 + np.exp(-gap))
    return unsourced, strategic
