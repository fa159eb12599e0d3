"""Levered funds running the cash-futures basis.

They hold cash Treasuries (often bought at auction) financed in repo through their prime
dealers (each fund spreads its financing over the dealers by size). Their position is
capped by capital over the haircut, and haircuts rise with volatility. When haircuts or
volatility jump the cap falls and they unwind into dealers' balance sheets (as in March
2020); dearer dealer financing also shrinks the trade.
"""

from __future__ import annotations

import bisect

import numpy as np
import pandas as pd

from sim.agents.member import PopulationMember
from sim.ledger import Ledger, split_to_the_cent
from sim.scenario.schema import LeveredFundSection

BASIS_BUCKETS = (5, 6, 7, 8, 9)  # 2y, 3y, 5y, 7y, 10y


class LeveredFund(PopulationMember):
    """One levered fund (a view onto its row of `LeveredFunds`)."""

    @property
    def target_bn(self) -> float:
        """The position it is working toward ($bn of value)."""
        return float(self.population.target_bn[self.index])


class LeveredFunds:
    """The levered-fund population: its state (arrays over funds) and decisions.

    Attributes:
        size_share: share of the class's capital.
        capital0_bn: opening capital, the level payouts and capital raising steer back to.
        reference_markup_bp: dealers' calm markup on client repo (the basis's normal cost).
        target_bn: position each fund works toward ($bn of value).
        haircut_today: today's repo haircut (share of collateral value).
        buys_bn, sells_bn: today's planned purchases and sales ($bn of value); auction awards
            count against the purchases.
    """

    def __init__(self, params: LeveredFundSection, size_share: np.ndarray):
        self.params = params
        self.size_share = size_share
        self.capital0_bn = np.zeros(size_share.size)
        self.reference_markup_bp = 0.0
        self.target_bn = np.zeros(size_share.size)
        self.haircut_today = 0.0
        self.buys_bn = np.zeros(size_share.size)
        self.sells_bn = np.zeros(size_share.size)
        path = sorted(params.capital_path, key=lambda row: row.date)
        self.capital_dates = [pd.Timestamp(row.date) for row in path]
        # Each later level relative to the opening capital: each fund's own level scales with it.
        self.capital_scales = [row.capital_bn / params.capital_bn for row in path]

    def capital_target_bn(self, day: pd.Timestamp) -> np.ndarray:
        """The capital each fund steers its equity to on `day` ($bn): its opening equity, scaled
        by the capital path's level in force against the opening `capital_bn`."""
        in_force = bisect.bisect_right(self.capital_dates, day)
        return self.capital0_bn * (self.capital_scales[in_force - 1] if in_force else 1.0)

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
        financing = (1.0 - extra_cost / p.financing_cost_tolerance_bp).clip(p.financing_floor_share, 1.0)
        target = cap * p.target_leverage_use * financing
        if vol_ratio > p.vol_unwind_ratio:
            target = target * p.vol_unwind_target_share
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
        concession_pct = self.params.auction_concession_bp / 100.0
        return np.arange(self.size_share.size), np.full(self.size_share.size, wi_pct + concession_pct), amounts

    def pay_out_or_raise_capital(
        self,
        ledger: Ledger,
        accounts: np.ndarray,
        households: np.ndarray,
        household_share: np.ndarray,
        day: pd.Timestamp,
    ) -> None:
        """Funds pay out capital above their level on `day` and raise it when below (the opening
        level, or the capital path's).

        Basis funds distribute their carry and their investors top them up after losses, so
        the trade's scale follows haircuts and financing, not the accumulation of its P&L.
        """
        excess = ledger.equity_bn[accounts] - self.capital_target_bn(day)
        payout = self.params.capital_payout_per_day * excess
        if np.abs(payout).sum() <= 0:
            return
        total = float(payout.sum())
        received = split_to_the_cent(total, household_share)
        ledger.pay_pooled(accounts, payout, households, received, income=True)

    def plan_today(
        self, ledger: Ledger, accounts: slice, vol_ratio: float, haircut_multiplier: float, dealer_markup_bp: float
    ) -> None:
        """Decide today's buying and selling (value, $bn) from haircuts, vol and dealers' markup."""
        haircut = self.haircut_share(vol_ratio, haircut_multiplier)
        self.haircut_today = haircut
        markup = np.full(self.size_share.size, dealer_markup_bp)
        position = ledger.holdings_bn[accounts] @ ledger.price
        self.buys_bn, self.sells_bn = self.plan(ledger.equity_bn[accounts], position, haircut, vol_ratio, markup)

    def client_shorts_bn(
        self,
        outstanding_bn: np.ndarray,
        coupon_benchmarks: np.ndarray,
        vol_ratio: float,
        short_share: float,
        vol_cap: float,
    ) -> np.ndarray:
        """Funds' short positions by issue slot ($bn): a share of each coupon benchmark's outstanding,
        scaled by volatility relative to calm (hedging demand rises with it, up to `vol_cap` times).

        They are borrowed-and-sold securities: the lenders keep them on their books (the ledger
        is unchanged); the shorts press on lendable supply and may fail like dealers' shorts.
        """
        client_short = np.zeros(outstanding_bn.size)
        if short_share > 0:
            benchmark = coupon_benchmarks[coupon_benchmarks >= 0]
            hedging = min(max(vol_ratio, 0.0), vol_cap)
            client_short[benchmark] = short_share * hedging * outstanding_bn[benchmark]
        return client_short
