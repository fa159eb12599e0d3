"""Today's prices of every issue: yields, prices, DV01s, and the trading buckets they fall in.

Yields are the curve's fundamental (expected policy path plus term premia, anchored at
general-collateral repo) plus the dealers' duration premium when that loop arrow is on.
Issues trade in the bucket of their nearest benchmark maturity.
"""

from __future__ import annotations

import numpy as np

from sim.agents.central_bank import CentralBank
from sim.ledger import Ledger
from sim.pricing import YieldCurve, expected_policy_pct, inventory_premium_bp
from sim.scenario.schema import Scenario
from sim.securities import (
    N_BUCKETS,
    ArrayOrFloat,
    IssueRegister,
    bond_dv01,
    bond_dv01_one,
    bond_price,
    bond_price_one,
    bucket_of,
)

_BUCKET_INDEX = np.arange(N_BUCKETS)


class MarketPrices:
    """Yields (%), DV01s ($ per bp per $1 par) and bucket maps of every issue slot.

    Attributes:
        years_left: remaining maturity by slot (years).
        issue_yield_pct: market yield by slot (%).
        dv01_per_par: DV01 by slot ($ per bp per $1 par; 0 for retired slots).
        bucket: trading bucket by slot (index into TENORS).
        bucket_onehot: (slots, buckets) membership of live issues.
        premium_risk_use: dealers' risk use that sets the duration premium (`sim.loop`).
        reference_risk_use: the risk use at which the premium is calm.
    """

    def __init__(self, scenario: Scenario, curve: YieldCurve, central_bank: CentralBank):
        self.curve = curve
        self.central_bank = central_bank
        self.default_upper_pct = central_bank.default_upper_pct
        self.gc_repo_below_top_pct = scenario.curve.gc_repo_below_top_bp / 100.0
        self.premium_scale_bp = scenario.curve.inventory_premium_bp
        self.premium_risk_use = scenario.dealers.initial_risk_utilization
        self.reference_risk_use = scenario.dealers.initial_risk_utilization
        self.years_left = np.zeros(0)
        self.issue_yield_pct = np.zeros(0)
        self.dv01_per_par = np.zeros(0)
        self.bucket = np.zeros(0, dtype=np.int64)
        self.bucket_onehot = np.zeros((0, N_BUCKETS))
        self._bucket_key: np.ndarray | None = None

    def fundamental_pct(self, years: ArrayOrFloat, today: int) -> np.ndarray:
        """Yields (%) from the expected policy path and the curve's factors, without dealer premia
        (at maturities in years; one maturity's float gives a scalar)."""
        cb = self.central_bank
        policy = expected_policy_pct(today, years, cb.change_days, cb.change_levels_pct, self.default_upper_pct)
        short_anchor = policy - self.gc_repo_below_top_pct  # general collateral repo sits below the top
        return self.curve.fundamental_pct(years, short_anchor)

    def market_yield_pct(self, years: ArrayOrFloat, today: int) -> np.ndarray:
        """Market yields (%): fundamental plus dealers' duration premium (at the calm twin's risk use
        when that arrow is off)."""
        return (
            self.fundamental_pct(years, today)
            + inventory_premium_bp(years, self.premium_risk_use, self.premium_scale_bp) / 100.0
        )

    def mark(self, issues: IssueRegister, ledger: Ledger, today: int, initial: bool = False) -> None:
        """Yields, prices and DV01s of every issue at today's market; the ledger is revalued."""
        years = issues.years_left(today)
        self.years_left = years
        self.issue_yield_pct = self.market_yield_pct(years, today)
        price = bond_price(self.issue_yield_pct, issues.coupon_pct, years, issues.is_bill)
        dv01 = bond_dv01(self.issue_yield_pct, issues.coupon_pct, years, issues.is_bill)
        self.dv01_per_par = np.where(issues.active, dv01, 0.0)
        price = np.where(issues.active, price, 1.0)
        self.assign_buckets(issues, years)
        if initial:
            ledger.price = price.copy()
        else:
            ledger.grow_slots(issues.capacity)
            ledger.revalue(price)

    def mark_new_issue(self, issues: IssueRegister, ledger: Ledger, slot: int, today: int) -> None:
        """Price an issue settled today at the market (its auction price is paid separately)."""
        # One issue: floats, not one-element arrays (the same numbers, a tenth of the calls' cost).
        years = max(int(issues.maturity_day[slot]) - today, 0) / 365.25
        coupon = float(issues.coupon_pct[slot])
        is_bill = bool(issues.is_bill[slot])
        mark_yield = float(self.market_yield_pct(years, today))
        ledger.price[slot] = bond_price_one(mark_yield, coupon, years, is_bill)
        self.issue_yield_pct[slot] = mark_yield
        self.dv01_per_par[slot] = bond_dv01_one(mark_yield, coupon, years, is_bill)

    def refresh_buckets(self, issues: IssueRegister, ledger: Ledger, today: int) -> None:
        """New issues join their trading buckets; per-slot arrays widen if the issue register grew."""
        if self.bucket_onehot.shape[0] < issues.capacity or len(ledger.price) < issues.capacity:
            ledger.grow_slots(issues.capacity)
            extra = issues.capacity - self.dv01_per_par.size
            self.dv01_per_par = np.concatenate([self.dv01_per_par, np.zeros(extra)])
            self.issue_yield_pct = np.concatenate(
                [self.issue_yield_pct, np.zeros(issues.capacity - self.issue_yield_pct.size)]
            )
        years = issues.years_left(today)
        self.years_left = years
        self.assign_buckets(issues, years)

    def assign_buckets(self, issues: IssueRegister, years: np.ndarray) -> None:
        """Each live issue's trading bucket (nearest benchmark maturity) and the slot/bucket maps.

        Issues change bucket only when their remaining maturity crosses a boundary, so the
        maps are rebuilt only on the days something changed.
        """
        bucket = bucket_of(np.maximum(years, 1e-3))
        key = np.where(issues.active, bucket, -1)
        previous = self._bucket_key
        if previous is not None and previous.shape == key.shape and np.array_equal(previous, key):
            return
        self._bucket_key = key
        self.bucket = bucket
        self.bucket_onehot = np.zeros((issues.capacity, N_BUCKETS))
        self.bucket_onehot[np.flatnonzero(issues.active), bucket[issues.active]] = 1.0

    def benchmark_slots(self, issues: IssueRegister) -> np.ndarray:
        """For each bucket, the live issue with the most outstanding (-1 if none)."""
        weight = issues.outstanding_bn + 1e-6 * issues.issue_day / 1e5
        # (buckets, slots): each live issue's weight in its bucket's row, -inf elsewhere; the
        # first-index argmax picks the heaviest issue, the lowest slot among equals.
        member = np.where(issues.active, self.bucket, -1)[None, :] == _BUCKET_INDEX[:, None]
        heaviest = np.where(member, weight[None, :], -np.inf).argmax(axis=1)
        return np.where(member.any(axis=1), heaviest, -1)
