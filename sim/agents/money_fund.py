"""Money market funds: cash allocated among bills, tri-party repo to dealers and the ON RRP.

A fund lends to dealers only when repo pays at least a little over the ON RRP rate, which
therefore floors what it accepts, and never more to one dealer than its counterparty
limit allows. What dealers do not take (quarter-ends, a funding pull-back) goes to the
facility.
"""

from __future__ import annotations

import numpy as np

from sim.agents.member import PopulationMember
from sim.scenario.schema import MoneyFundSection


class MoneyFund(PopulationMember):
    """One money market fund (a view onto its row of `MoneyFunds`)."""


class MoneyFunds:
    """The money-fund population: size shares (of the industry's assets) and decisions, over funds."""

    def __init__(self, params: MoneyFundSection, size_share: np.ndarray):
        self.params = params
        self.size_share = size_share

    def repo_tranches(self, cash_bn: np.ndarray, on_rrp_rate_pct: float) -> tuple[np.ndarray, np.ndarray]:
        """Each fund offers its investable cash at the ON RRP rate plus its minimum spread."""
        ask = np.full(self.size_share.size, on_rrp_rate_pct + self.params.min_spread_over_rrp_bp / 100.0)
        return ask, np.maximum(cash_bn * self.params.invested_cash_share, 0.0)

    def dealer_limit_bn(self, assets_bn: float, pullback_share: float) -> float:
        """Most the fund industry lends to any one dealer ($bn): each fund's limit, summed."""
        return self.params.counterparty_limit_share * assets_bn * (1.0 - pullback_share)

    def bill_bids(
        self, offering_bn: float, wi_pct: float, bills_bn: np.ndarray, assets_bn: np.ndarray, cash_bn: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bill-auction tenders (fund index, yield %, amount $bn), leaning toward their bill share."""
        p = self.params
        gap = (p.bills_share * assets_bn - bills_bn) / np.maximum(assets_bn, 1e-9)
        appetite = np.clip(1.0 + p.bill_appetite_per_gap * gap, p.bill_appetite_min, p.bill_appetite_max)
        amounts = offering_bn * p.bill_auction_share * self.size_share * appetite
        amounts = np.minimum(amounts, np.maximum(cash_bn, 0.0) * p.bill_cash_budget_share)
        return (
            np.arange(self.size_share.size),
            np.full(self.size_share.size, wi_pct - p.bid_through_bp / 100.0),
            amounts,
        )
