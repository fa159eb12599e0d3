"""Settlement: specials, strategic and operational fails, daisy chains.

An issue goes special when dealers' short positions press on the supply that holders
lend out. A short seller fails when the issue cannot be sourced, or when borrowing it
costs more than failing: with the TMPG fails charge (3% minus the policy rate, floored at
zero, annualised) failing is dear even at zero rates; without it, failing is nearly free
once specialness exceeds the general collateral rate. Part of today's fails causes fails
tomorrow (daisy chains); operational fails scale with settlement volume and friction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.securities import BILL_BUCKETS

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel


def specialness_bp(short_bn: np.ndarray, lendable_bn: np.ndarray, special_max_bp: float, exponent: float) -> np.ndarray:
    """Spread of an issue's special repo rate below general collateral (bp)."""
    # Shorts beyond the lendable supply press at most fully; dividing only where the supply
    # covers them keeps a vanishing supply (a tiny lendable share) from overflowing.
    covered = (lendable_bn > 0) & (lendable_bn >= short_bn)
    pressure = np.divide(short_bn, lendable_bn, out=np.where(short_bn > 0, 1.0, 0.0), where=covered)
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


# ---------------------------------------------------------------- the settlement day


def settlement_day(m: TreasuryMarketModel) -> None:
    """Specials from shorts against lendable supply; fails; the fails charge paid to the buyers.

    Short sellers failing owe the fails charge to the real-money buyers: dealers on their
    shorts, levered funds on theirs, each in proportion to its share of the issue's shorts.
    """
    sc = m.config
    led = m.ledger
    market = m.market
    n_d = sc.dealers.count
    rm = m.slices["real_money"]
    shorts = np.maximum(-led.holdings_bn[:n_d], 0.0)
    dealer_short_by_issue = shorts.sum(axis=0)
    coupon_benchmarks = m.prices.benchmark_slots(m.issues)[~BILL_BUCKETS]
    client_short = m.levered_funds.client_shorts_bn(
        m.issues.outstanding_bn,
        coupon_benchmarks,
        m.curve.vol_ratio,
        sc.settlement.client_short_share,
        sc.settlement.client_short_vol_cap,
    )
    short_by_issue = dealer_short_by_issue + client_short
    lendable = sc.real_money.lendable_share * np.maximum(led.holdings_bn[rm], 0.0).sum(axis=0)
    lendable = lendable + m.central_bank.lendable_from_soma_bn(led.holdings_bn[led.cb_row])
    special = specialness_bp(short_by_issue, lendable, sc.settlement.special_max_bp, sc.settlement.specials_exponent)
    market.specialness_bp = special
    reference = m.central_bank.target_upper_pct(m.today) - sc.settlement.fails_charge_reference_below_top_bp / 100.0
    charge = fails_charge_pct(reference, sc.settlement.fails_charge)
    percentiles = market.repo_percentiles
    general_collateral = float(percentiles[2]) if np.isfinite(percentiles[2]) else market.rates.on_rrp_pct
    unsourced, strategic = fails_by_issue(short_by_issue, lendable, special, general_collateral, charge)
    ms = sc.market_structure
    friction = sc.settlement.operational_friction * (
        1.0 - (ms.clearing_friction_cut if ms.central_clearing_cash else 0.0)
    )
    operational = friction * (m.flows.customer_bn + m.flows.settled_bn) * market.shocks.settlement_multiplier
    chain = sc.settlement.daisy_chain_share * market.fails_bn
    market.fails_bn = float(unsourced.sum() + strategic.sum() + operational + chain)
    short_fails = unsourced + strategic
    total = np.maximum(short_by_issue, 1e-12)
    dealer_penalty = (short_fails * shorts / total).sum(axis=1) * charge / 36000.0
    client_penalty = float((short_fails * client_short / total).sum()) * charge / 36000.0
    if dealer_penalty.sum() + client_penalty > 0:
        payers = np.concatenate([np.arange(n_d), m.accounts_of("levered_fund")])
        paid = np.concatenate([dealer_penalty, client_penalty * m.levered_funds.size_share])
        received = paid.sum() * m.real_money.size_share
        received[-1] += paid.sum() - received.sum()
        led.pay_pooled(payers, paid, np.arange(rm.start, rm.stop), received, income=True)
