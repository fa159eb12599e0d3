"""Real-money investors: asset managers, pensions and insurers.

They hold Treasuries in their preferred maturity habitat. At auction they bid for a share
of the offering that rises with the concession offered, falls when secondary liquidity is
worse than calm (wider bid/ask), and falls with the tails they remember, for which they
also ask extra concession: this is where dealers' withdrawal comes back as weaker end
demand. In the secondary market they rebalance (two-way noise) and buy duration that
dealers are stuck with when its premium rises. They lend securities, the supply that
keeps issues from going special.
"""

from __future__ import annotations

import numpy as np

from sim.agents.member import PopulationMember
from sim.scenario.schema import LoopSwitches, RealMoneySection

N_BILL_BUCKETS = 5  # buckets 0-4 are bills (4w to 52w)
# Demand keeps rising with cheapness well past a normal tail: an auction 20bp cheap to WI draws
# relative-value and crossover buyers (real tails stayed within a few bp even in March 2020).
# Tenders step out from just through WI to the widest concession (`widest_concession_bp`),
# doubling: the steps beyond WI are these shares of it.
THROUGH_WI_STEPS_BP = np.array([-1.0, 0.0])
WIDEST_CONCESSION_SHARES = np.array([1 / 32, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0])


class RealMoneyInvestor(PopulationMember):
    """One real-money investor (a view onto its row of `RealMoneyInvestors`)."""

    @property
    def required_concession_bp(self) -> float:
        """Concession to WI it asks for in calm (bp)."""
        return float(self.population.required_concession_bp[self.index])

    @property
    def remembered_tail_bp(self) -> tuple[float, float]:
        """Tails it remembers in bill and in coupon auctions (bp)."""
        bills, coupons = self.population.remembered_tail_bp[self.index]
        return float(bills), float(coupons)


class RealMoneyInvestors:
    """The real-money population: size shares, habitats, tail memory and decisions (arrays over investors)."""

    def __init__(
        self,
        params: RealMoneySection,
        loop: LoopSwitches,
        size_share: np.ndarray,
        required_concession_bp: np.ndarray,
        habitat_tilt: np.ndarray,
    ):
        self.params = params
        self.loop = loop
        self.size_share = size_share
        self.required_concession_bp = required_concession_bp
        self.habitat_tilt = habitat_tilt  # (investors, buckets), mean 1 per bucket
        # Memory per auction family (bills, coupons): a bill tail says little about coupons.
        self.remembered_tail_bp = np.zeros((size_share.size, 2))
        # Demand at each concession step rises linearly with concession beyond the required
        # one; part of it is bid well through WI, since every winner pays the stop-out. The
        # steps and the cumulative curve are the parameters' (the same at every auction).
        steps = np.concatenate(
            [[-params.bid_through_bp], THROUGH_WI_STEPS_BP, params.widest_concession_bp * WIDEST_CONCESSION_SHARES]
        )
        curve = np.clip(1.0 + params.demand_elasticity_per_bp * steps, 0.0, None)
        curve[0] = min(params.bid_through_share, curve[1])
        self._concession_steps_bp = steps
        self._cumulative_demand_curve = np.maximum.accumulate(curve)
        self._step_bidders = np.repeat(np.arange(size_share.size), steps.size)
        for constant in (self._concession_steps_bp, self._cumulative_demand_curve, self._step_bidders):
            constant.flags.writeable = False

    def auction_bids(
        self,
        bucket: int,
        offering_bn: float,
        wi_pct: float,
        liquidity_ratio: float,
        shortfall_share: float,
        cash_bn: np.ndarray,
        remembered_tail_bp: np.ndarray | None = None,
        dispersion: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tenders at an auction: (bidder index, yield %, amount $bn), one per concession step.

        Args:
            liquidity_ratio: today's bid/ask over its calm level (1 in calm).
            shortfall_share: share of end demand a scenario shock keeps away.
            cash_bn: each investor's cash; bids are capped by it.
            remembered_tail_bp: the tails investors remember, shape (investors, 2) (bills,
                coupons); their own memory when not given.
            dispersion: how far the steps spread around each investor's required concession,
                relative to calm (volatile markets spread them; the demand at each step is unchanged).
        """
        p = self.params
        share = p.bill_auction_share if bucket < N_BILL_BUCKETS else p.auction_share
        base = offering_bn * share * self.size_share * self.habitat_tilt[:, bucket]
        # Wider than calm cuts demand; at or inside calm (a ratio down to zero) it does not.
        base = base * max(liquidity_ratio, 1.0) ** (-p.liquidity_sensitivity)
        remembered = self.remembered_tail_bp if remembered_tail_bp is None else remembered_tail_bp
        memory = remembered[:, int(bucket >= N_BILL_BUCKETS)]
        base = base * np.maximum(1.0 - p.tail_demand_cut_per_bp * memory, 0.0)
        required = self.required_concession_bp + p.tail_concession_per_bp * memory
        base = base * (1.0 - shortfall_share)
        concessions = required[:, None] + dispersion * self._concession_steps_bp[None, :]
        cumulative = base[:, None] * self._cumulative_demand_curve[None, :]
        amounts = cumulative.copy()  # each step's demand: the cumulative curve's increments
        amounts[:, 1:] -= cumulative[:, :-1]
        budget = np.maximum(cash_bn, 0.0) * p.auction_cash_budget_share
        scale = np.minimum(1.0, budget / np.maximum(cumulative[:, -1], 1e-12))
        amounts = amounts * scale[:, None]
        return self._step_bidders, (wi_pct + concessions / 100.0).ravel(), amounts.ravel()

    def remember_tail(self, bucket: int, tail_bp: float) -> None:
        """Update the tails investors remember for that auction family.

        Only tails beyond what investors take as normal are remembered: a weak auction
        teaches them to ask for concession, an ordinary one does not.
        """
        d = self.params.tail_memory_decay
        family = int(bucket >= N_BILL_BUCKETS)
        surprise = max(tail_bp - self.params.tail_tolerance_bp, 0.0)
        self.remembered_tail_bp[:, family] = d * self.remembered_tail_bp[:, family] + (1.0 - d) * surprise

    def secondary_orders(
        self,
        noise: np.ndarray,
        excess_premium_bp: np.ndarray,
        dealer_excess_bn: np.ndarray,
        holdings_bn: np.ndarray,
        forced_selling_bn: float,
        cash_bn: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Purchases and sales wanted today, shape (investors, buckets) in $bn par.

        Args:
            noise: standard normal draws, shape (investors, buckets).
            excess_premium_bp: concession dealers offer on excess inventory plus the duration
                premium above its calm level, by bucket.
            dealer_excess_bn: dealers' inventory above their normal level, by bucket.
            holdings_bn: each investor's holdings by bucket (sales cannot exceed them).
            forced_selling_bn: scenario or risk-off fund selling today, whole class.
            cash_bn: each investor's cash; net purchases cannot exceed half of it.
        """
        p = self.params
        share = self.size_share[:, None]
        # Rebalancing moves money between tenors: it nets to zero for each investor.
        rebalancing = p.rebalancing_noise_bn * np.sqrt(share) * (noise - noise.mean(axis=1, keepdims=True))
        # Dealers long of their normal book sell the excess at a concession; investors take
        # it at a pace that rises with the concession and the duration premium.
        value_buying = p.premium_buying_per_bp * np.maximum(excess_premium_bp, 0.0) * np.maximum(dealer_excess_bn, 0.0)
        net = rebalancing + share * value_buying[None, :]
        total_holdings = holdings_bn.sum()
        if forced_selling_bn > 0 and total_holdings > 0:
            net = net - forced_selling_bn * holdings_bn / total_holdings
        buys = np.maximum(net, 0.0)
        sells = np.minimum(np.maximum(-net, 0.0), np.maximum(holdings_bn, 0.0))
        wanted, selling = buys.sum(axis=1), sells.sum(axis=1)
        net_buying = wanted - selling
        budget = p.secondary_cash_budget_share * np.maximum(cash_bn, 0.0) + selling
        # Scaled down only where purchases outrun the budget (dividing a budget by a vanishing
        # purchase, a few 1e-324, would overflow for a scale that is 1 anyway).
        over = (net_buying > 0) & (wanted > budget)
        scale = np.divide(budget, wanted, out=np.ones_like(budget), where=over)
        return buys * scale[:, None], sells
