"""Settlement: specials, strategic and operational fails, daisy chains, issue by issue.

An issue goes special when dealers' short positions press on the supply that holders lend
out. Between a coupon reopening's auction and its issue date, what dealers sold ahead of it
is delivered in the outstanding issue (`settlement.reopening_short_share`); lending is
thinner in the 20-year and over a quarter's last days where the scenario says so. A short
seller fails when the issue cannot be sourced, or when borrowing it costs more than failing:
with the TMPG fails charge (3% minus the policy rate, floored at zero, annualised) failing
is dear even at zero rates; without it, failing is nearly free once specialness exceeds the
general collateral rate. Operational fails fall on each issue in proportion to its
settlement volume that day: its share of secondary deliveries, and the awards of an auction
settling into it, which fail more often (a new issue is delivered down when-issued chains on
one day); an on-the-run coupon also carries the interdealer, hedging and specials repo
deliveries that customer flow does not show, so its fails are a multiple of its customer
volume; a special issue is harder to source for delivery, so its fail rate rises with its
specialness, and every issue's with rate volatility
(`settlement.operational_fails_vol_elasticity`) and as failing gets cheaper (the interest forgone
plus the charge; `settlement.operational_fails_cost_elasticity`); each issue's fails carry a lognormal shock
(one desk's or custodian's breakdown fails a chain of deliveries in that issue). Part of
each issue's fails causes fails in the same issue tomorrow (daisy chains).

Fails are kept by issue and published twice: over every issue (`fails_bn`) and over the
issues the New York Fed's by-issue fails series tracks (`fails_tracked_bn`, see
`tracked_issues`), which is what the public weekly series measures.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from sim.ledger import split_to_the_cent
from sim.scenario.schema import COUPON_TENORS, TENORS
from sim.securities import BILL_BUCKETS, IssueRegister

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel

# The New York Fed publishes primary dealers' fails to deliver by issue (FR 2004) for the
# security it tracks in each nominal coupon tenor, the on-the-run 2, 3, 5, 7, 10, 20 and
# 30-year, and for the 2-year FRN and the 5, 10 and 30-year TIPS. The model issues no FRNs
# or TIPS, so the issues it counts as tracked are the on-the-run issue (the newest; a
# reopening keeps it on the run) of each of these coupon tenors.
TRACKED_TENORS: tuple[str, ...] = COUPON_TENORS
_IS_TRACKED_TENOR = np.isin(np.arange(len(TENORS)), [TENORS.index(t) for t in TRACKED_TENORS])  # by tenor index
_TENOR_20Y = TENORS.index("20y")
# Rows of `MarketState.fails_parts_bn`.
FAILS_PARTS: tuple[str, ...] = ("unsourced", "strategic", "operational", "daisy_chain")


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


def cost_of_failing_pct(general_collateral_pct: float, charge_pct: float) -> float:
    """What a fail costs the seller, annualised (%): the interest forgone on the sale's cash at the
    general collateral rate (floored at zero), plus the fails charge."""
    return max(general_collateral_pct, 0.0) + charge_pct


def fails_by_issue(
    short_bn: np.ndarray,
    lendable_bn: np.ndarray,
    special_bp: np.ndarray,
    general_collateral_pct: float,
    charge_pct: float,
    decision_scale_bp: float = 10.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fails to deliver of short sellers, by issue ($bn).

    Returns (cannot be sourced, chosen because failing is cheaper). The choice is smooth
    in the cost gap (logistic on `decision_scale_bp`, `settlement.fail_decision_scale_bp`)
    because desks differ in their cost of failing.
    """
    unsourced = np.maximum(short_bn - lendable_bn, 0.0)
    cost_of_failing_bp = cost_of_failing_pct(general_collateral_pct, charge_pct) * 100.0
    gap = ((special_bp - cost_of_failing_bp) / decision_scale_bp).clip(-50.0, 50.0)
    strategic = (short_bn - unsourced) / (1.0 + np.exp(-gap))
    return unsourced, strategic


def fit_slots(values: np.ndarray, n_slots: int) -> np.ndarray:
    """A per-slot array cut or zero-padded to `n_slots` (the issue register and books grow apart)."""
    out = np.zeros(n_slots, dtype=values.dtype)
    k = min(n_slots, values.size)
    out[:k] = values[:k]
    return out


def tracked_issues(issues: IssueRegister, n_slots: int) -> np.ndarray:
    """Mask over issue slots: the on-the-run issue of each tenor in TRACKED_TENORS."""
    tracked = issues.active & issues.on_the_run & _IS_TRACKED_TENOR[issues.tenor]
    return fit_slots(tracked, n_slots)


def by_slot(slots: Sequence[int], amounts_bn: Sequence[float], n_slots: int) -> np.ndarray:
    """Amounts listed by issue slot summed into one array over slots ($bn)."""
    if not len(slots):
        return np.zeros(n_slots)
    summed = np.bincount(np.asarray(slots, dtype=np.int64), weights=np.asarray(amounts_bn, dtype=float))
    return fit_slots(summed, n_slots)


def lognormal_shocks(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    """n mean-one lognormal multipliers, exp(sigma z - sigma^2 / 2), z standard normal.

    Always n draws, whatever sigma, so the stream's position does not depend on it.
    """
    return np.exp(sigma * rng.standard_normal(n) - 0.5 * sigma**2)


def operational_cost_multiplier(cost_pct: float, elasticity: float, reference_pct: float, floor_pct: float) -> float:
    """Operational fail rate relative to its rate at the reference cost of failing:
    (reference / cost)^elasticity, the cost floored at `floor_pct` (all %)."""
    if elasticity == 0.0:
        return 1.0
    return float((reference_pct / max(cost_pct, floor_pct)) ** elasticity)


def operational_fails_bn(
    secondary_bn: np.ndarray,
    settled_bn: np.ndarray,
    special_bp: np.ndarray,
    friction: float,
    new_issue_multiplier: float,
    special_per_100bp: float,
    shock: np.ndarray,
) -> np.ndarray:
    """Operational fails by issue ($bn).

    Args:
        secondary_bn: customer volume settled in each issue today ($bn).
        settled_bn: auction awards settled into each issue today ($bn).
        special_bp: each issue's specialness (bp).
        friction: fails per $ of secondary settlement volume.
        new_issue_multiplier: fail rate on auction settlement volume over that on secondary volume.
        special_per_100bp: rise of the fail rate per 100bp of specialness (multiple of the base rate).
        shock: each issue's multiplier today (mean one; a scenario's settlement disruption included).
    """
    volume = secondary_bn + new_issue_multiplier * settled_bn
    return friction * volume * (1.0 + special_per_100bp * special_bp / 100.0) * shock


def lendable_by_holders_bn(m: TreasuryMarketModel, end_investor_holdings_bn: np.ndarray) -> np.ndarray:
    """End investors' securities lending that reaches short sellers today, by issue slot ($bn).

    The lent share of holdings, the 20-year's own where the scenario sets one, cut over a quarter's
    last days by what dealers stop intermediating (`settlement.quarter_end_lending_cut`, at the
    quarter-ends of `quarter_end_lending_months`).
    """
    st = m.config.settlement
    lendable = m.config.real_money.lendable_share * end_investor_holdings_bn
    if st.bonds_20y_lendable_share is not None:
        is_20y = fit_slots(m.issues.tenor == _TENOR_20Y, lendable.size)
        lendable = np.where(is_20y, st.bonds_20y_lendable_share * end_investor_holdings_bn, lendable)
    calendar, day = m.calendar, m.day_index
    if (
        st.quarter_end_lending_cut > 0
        and calendar.business_days_to_quarter_end[day] <= st.quarter_end_lending_days
        and calendar.next_quarter_end_month[day] in st.quarter_end_lending_months
    ):
        lendable = (1.0 - st.quarter_end_lending_cut) * lendable
    return lendable


# ---------------------------------------------------------------- the settlement day


def settlement_day(m: TreasuryMarketModel) -> None:
    """Specials from shorts against lendable supply; fails by issue; the fails charge paid to the buyers.

    Short sellers failing owe the fails charge to the real-money buyers: dealers on their
    shorts, levered funds on theirs, each in proportion to its share of the issue's shorts.
    """
    sc = m.config
    led = m.ledger
    market = m.market
    st = sc.settlement
    n_d = sc.dealers.count
    rm = m.slices["real_money"]
    position = led.holdings_bn[:n_d]
    n_slots = position.shape[1]
    if st.reopening_short_share > 0:  # off by default: no daily walk over pending reopenings
        sold_ahead = st.reopening_short_share * m.auctions.reopened_par_pending_bn(n_slots)
        if sold_ahead.any():
            # Sold for regular settlement before a reopening settles: delivered from what the dealer holds, else short.
            position = position - np.outer(m.dealers.size_share, sold_ahead)
    shorts = np.maximum(-position, 0.0)
    dealer_short_by_issue = shorts.sum(axis=0)
    coupon_benchmarks = m.prices.benchmark_slots(m.issues)[~BILL_BUCKETS]
    client_short = m.levered_funds.client_shorts_bn(
        m.issues.outstanding_bn,
        coupon_benchmarks,
        m.curve.vol_ratio,
        st.client_short_share,
        st.client_short_vol_cap,
    )
    short_by_issue = dealer_short_by_issue + client_short
    lendable = lendable_by_holders_bn(m, np.maximum(led.holdings_bn[rm], 0.0).sum(axis=0))
    lendable = lendable + m.central_bank.lendable_from_soma_bn(led.holdings_bn[led.cb_row])
    special = specialness_bp(short_by_issue, lendable, st.special_max_bp, st.specials_exponent)
    market.specialness_bp = special
    reference = m.central_bank.target_upper_pct(m.today) - st.fails_charge_reference_below_top_bp / 100.0
    charge = fails_charge_pct(reference, st.fails_charge)
    percentiles = market.repo_percentiles
    general_collateral = float(percentiles[2]) if np.isfinite(percentiles[2]) else market.rates.on_rrp_pct
    unsourced, strategic = fails_by_issue(
        short_by_issue, lendable, special, general_collateral, charge, st.fail_decision_scale_bp
    )
    # Operational fails: customer volume spread over issues as today's secondary deliveries were,
    # and each auction's awards in the issue they settled into.
    ms = sc.market_structure
    friction = st.operational_friction * (1.0 - (ms.clearing_friction_cut if ms.central_clearing_cash else 0.0))
    friction *= m.curve.vol_ratio**st.operational_fails_vol_elasticity  # volatile markets fail more deliveries
    # ... and cheap fails are avoided with less care.
    friction *= operational_cost_multiplier(
        cost_of_failing_pct(general_collateral, charge),
        st.operational_fails_cost_elasticity,
        st.operational_fails_reference_cost_pct,
        st.operational_fails_cost_floor_pct,
    )
    delivered = fit_slots(m.flows.delivered_by_issue_bn, n_slots)
    total_delivered = float(delivered.sum())
    secondary = m.flows.customer_bn * delivered / total_delivered if total_delivered > 0 else np.zeros(n_slots)
    tracked = tracked_issues(m.issues, n_slots)
    secondary = np.where(tracked, st.on_the_run_delivery_multiple * secondary, secondary)
    settled = by_slot(m.flows.settled_slots, m.flows.settled_slots_bn, n_slots)
    shock = lognormal_shocks(m.fails_rng, st.operational_shock_sigma, n_slots) * market.shocks.settlement_multiplier
    operational = operational_fails_bn(
        secondary, settled, special, friction, st.new_issue_fail_multiplier, st.special_fail_multiplier_per_100bp, shock
    )
    # Daisy chains: a share of yesterday's fails in an issue fail again today; a matured issue's end.
    live = fit_slots(m.issues.active, n_slots)
    chain = st.daisy_chain_share * np.where(live, fit_slots(market.fails_by_issue_bn, n_slots), 0.0)
    market.fails_parts_bn = np.vstack([unsourced, strategic, operational, chain])
    market.fails_by_issue_bn = market.fails_parts_bn.sum(axis=0)
    market.fails_bn = float(market.fails_by_issue_bn.sum())
    market.fails_tracked_bn = float(market.fails_by_issue_bn[tracked].sum())
    short_fails = unsourced + strategic
    total = np.maximum(short_by_issue, 1e-12)
    dealer_penalty = (short_fails * shorts / total).sum(axis=1) * charge / 36000.0
    client_penalty = float((short_fails * client_short / total).sum()) * charge / 36000.0
    if dealer_penalty.sum() + client_penalty > 0:
        payers = np.concatenate([np.arange(n_d), m.accounts_of("levered_fund")])
        paid = np.concatenate([dealer_penalty, client_penalty * m.levered_funds.size_share])
        received = split_to_the_cent(paid.sum(), m.real_money.size_share)
        led.pay_pooled(payers, paid, np.arange(rm.start, rm.stop), received, income=True)
