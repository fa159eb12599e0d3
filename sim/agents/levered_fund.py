"""Levered funds running the cash-futures basis.

They hold cash Treasuries (often bought at auction) financed in repo through their prime
dealers (each fund spreads its financing over the dealers by size). Their position is
capped by capital over the haircut, and haircuts rise with volatility. When haircuts or
volatility jump the cap falls and they unwind into dealers' balance sheets (as in March
2020); dearer dealer financing also shrinks the trade.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.scenario.schema import LeveredFundSection

BASIS_BUCKETS = (5, 6, 7, 8, 9)  # 2y, 3y, 5y, 7y, 10y


class LeveredFund(mesa.Agent):
    """One levered fund.

    Args:
        model: the market model.
        index: position within its population.
        account: ledger account (= holder row).
        size_share: share of the class's capital.
    """

    def __init__(self, model: mesa.Model, index: int, account: int, size_share: float):
        super().__init__(model)
        self.index = index
        self.account = account
        self.size_share = size_share


class LeveredFundBook:
    """Decisions of the levered-fund population (arrays over funds)."""

    def __init__(self, params: LeveredFundSection, size_share: np.ndarray):
        self.params = params
        self.size_share = size_share
        self.reference_markup_bp = 0.0
        self.target_bn = np.zeros(size_share.size)

    def haircut_share(self, vol_ratio: float, multiplier: float) -> float:
        """Repo haircut as a share of collateral value; rises with volatility."""
        p = self.params
        return min(p.haircut_pct / 100.0 * max(vol_ratio, 1.0) ** p.haircut_vol_elasticity * multiplier, 1.0)

    def plan(
        self, equity_bn: np.ndarray, position_bn: np.ndarray, haircut: float, vol_ratio: float, markup_bp: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Purchases and sales wanted today ($bn of value, by fund).

        A fund over its haircut cap sells down to it at once (a margin call); otherwise it
        closes a share of the gap to its target, which shrinks with dearer financing and
        collapses when volatility passes the unwind trigger.
        """
        p = self.params
        cap = np.maximum(equity_bn, 0.0) / haircut
        # Dearer financing eats the basis: the trade shrinks in proportion, not all at once.
        extra_cost = markup_bp - self.reference_markup_bp
        financing = np.clip(1.0 - extra_cost / p.financing_cost_tolerance_bp, 0.2, 1.0)
        target = cap * p.target_leverage_use * financing
        if vol_ratio > p.vol_unwind_ratio:
            target = target * 0.5
        self.target_bn = target
        gap = target - position_bn
        forced = np.maximum(position_bn - cap, 0.0)
        sells = np.maximum(forced, np.maximum(-gap, 0.0) * p.adjustment_per_day)
        buys = np.where(forced > 0, 0.0, np.maximum(gap, 0.0) * p.adjustment_per_day)
        return buys, np.minimum(sells, np.maximum(position_bn, 0.0))

    def auction_bids(
        self, offering_bn: float, wi_pct: float, wanted_bn: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Direct-bidder tenders (fund index, yield %, amount $bn) at a thin concession."""
        amounts = np.minimum(offering_bn * self.params.auction_share * self.size_share, np.maximum(wanted_bn, 0.0))
        return np.arange(self.size_share.size), np.full(self.size_share.size, wi_pct + 0.0025), amounts
