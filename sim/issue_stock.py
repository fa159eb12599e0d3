"""The issues outstanding at the start, and how much of each the holder classes take.

The opening stock is the auction calendar's history at the sizes in force on each past auction's
date (`treasury.sizes`, changed from each `treasury.sizes_path` date). The central
bank, foreign officials, money funds (bills), levered funds (2-10y coupons) and dealers
hold their opening amounts spread over the issues they buy; real-money investors hold the
rest. Scenario validation asks the same question as the opening (`opening_overdraw`), so a
scenario whose holdings outrun what the sizes leave outstanding is refused at its key.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sim.calendar import AuctionSpec, bill_auctions, business_days, business_days_before, coupon_auctions, day_number
from sim.scenario.schema import BILL_TENORS, COUPON_TENORS, TENORS, IssuanceSizes, Scenario, TreasurySection
from sim.securities import IssueRegister

# How many past new issues of each tenor are still outstanding (at most; older ones have matured).
_HISTORY = {"2y": 24, "3y": 36, "5y": 60, "7y": 84, "10y": 40, "20y": 20, "30y": 120}


class AuctionSizes:
    """The auction sizes in force on each day: `treasury.sizes`, changed from each `sizes_path` date."""

    def __init__(self, treasury: TreasurySection):
        self.opening = treasury.sizes
        self.dates = [pd.Timestamp(row.date) for row in treasury.sizes_path]
        self.in_force: list[IssuanceSizes] = []
        current = treasury.sizes
        for row in treasury.sizes_path:
            current = current.model_copy(update={str(name): bn for name, bn in row.sizes.items()})
            self.in_force.append(current)

    def on(self, day: pd.Timestamp) -> IssuanceSizes:
        """The sizes of an auction held on `day`."""
        changes = bisect.bisect_right(self.dates, day)
        return self.in_force[changes - 1] if changes else self.opening


@lru_cache(maxsize=8)
def _settled_by(start: pd.Timestamp) -> tuple[AuctionSpec, ...]:
    """The regular calendar's auctions that had settled by `start` and whose issues (or, for a
    reopening, possibly its original issue) have not matured, oldest first."""
    oldest = start - pd.DateOffset(years=31)
    specs = bill_auctions(start - pd.Timedelta(weeks=53), start) + coupon_auctions(oldest, start)
    return tuple(sorted((s for s in specs if s.issue_date <= start), key=lambda s: (s.issue_date, s.tenor)))


def build_issue_stock(scenario: Scenario, start: pd.Timestamp, register: IssueRegister) -> None:
    """Open the issues outstanding at the start: the auction calendar's history at the sizes in force
    on each auction's date (`AuctionSizes`); an auction sized at zero was not held.

    Every issue carries the issue and maturity dates the calendar gave it, so what matures
    during the run matures on the settlement day of the auction that refunds it (bills on the
    week's bill settlement day, 2y/5y/7y at month-end, 3y/10y/30y on the 15th). A reopening
    adds to the new issue before it; only what had settled by the start is outstanding.
    """
    sizes = AuctionSizes(scenario.treasury)
    slots: dict[str, int] = {}
    new_issues: dict[str, list[pd.Timestamp]] = {t: [] for t in COUPON_TENORS}
    for spec in _settled_by(start):
        if spec.tenor in COUPON_TENORS and not spec.reopening:
            new_issues[spec.tenor].append(spec.issue_date)
    kept = {t: set(days[-_HISTORY[t] :]) for t, days in new_issues.items()}
    for spec in _settled_by(start):
        tenor = spec.tenor
        size = _opening_size(sizes.on(spec.auction_date), tenor, spec.reopening)
        if spec.reopening:
            slot = slots.get(tenor)
            if slot is not None:
                register.outstanding_bn[slot] += size
            continue
        matured = spec.maturity <= start or (tenor in COUPON_TENORS and spec.issue_date not in kept[tenor])
        if matured or size <= 0:
            slots.pop(tenor, None)  # its reopenings would reopen an issue no longer outstanding (or never sold)
            continue
        slot = register.add(tenor, day_number(spec.issue_date), day_number(spec.maturity), 0.0)
        register.outstanding_bn[slot] = size
        slots[tenor] = slot


def _opening_size(sizes: IssuanceSizes, tenor: str, reopening: bool) -> float:
    """Par sold at one past auction ($bn): bills at their base size, coupons as the scenario sizes them."""
    if tenor in BILL_TENORS:
        return float(getattr(sizes, f"bills_{tenor}_bn"))
    name = {"2y": "notes_2y", "3y": "notes_3y", "5y": "notes_5y", "7y": "notes_7y"}.get(tenor)
    if name:
        return float(getattr(sizes, f"{name}_bn"))
    prefix = {"10y": "notes_10y", "20y": "bonds_20y", "30y": "bonds_30y"}[tenor]
    return float(getattr(sizes, f"{prefix}_{'reopen' if reopening else 'new'}_bn"))


@dataclass(frozen=True)
class ClassHoldings:
    """Each holder class's opening par by issue slot ($bn); `real_money` is what is left over,
    negative where the others already hold more than the issue's outstanding."""

    soma: np.ndarray
    foreign_official: np.ndarray
    money_fund: np.ndarray
    levered_fund: np.ndarray
    dealer: np.ndarray
    real_money: np.ndarray


def class_holdings(scenario: Scenario, register: IssueRegister, start_day: int) -> ClassHoldings:
    """Split every issue's outstanding among the holder classes (not yet among their members).

    Real-money investors hold the rest of each issue after the central bank, foreign
    officials, money funds (bills), levered funds (2-10y coupons) and dealers.
    """
    active = register.active
    outstanding = np.where(active, register.outstanding_bn, 0.0)
    is_bill = register.is_bill & active
    is_coupon = ~register.is_bill & active
    years = register.years_left(start_day)
    basis = is_coupon & (years >= 1.5) & (years <= 11.0)

    def spread(total: float, eligible: np.ndarray) -> np.ndarray:
        weight = np.where(eligible, outstanding, 0.0)
        return total * weight / weight.sum() if weight.sum() > 0 else weight

    cb = scenario.central_bank
    mmf = scenario.money_funds
    soma = spread(cb.soma_treasuries_bn * cb.soma_bills_share, is_bill) + spread(
        cb.soma_treasuries_bn * (1 - cb.soma_bills_share), is_coupon
    )
    fo_total = scenario.foreign_official.holdings_bn
    fo_bills = scenario.foreign_official.bills_share
    foreign = spread(fo_bills * fo_total, is_bill) + spread((1 - fo_bills) * fo_total, is_coupon)
    bills_total = outstanding[is_bill].sum()
    funds = spread(min(mmf.bills_share * mmf.assets_bn, mmf.max_share_of_bills_outstanding * bills_total), is_bill)
    levered = spread(scenario.levered_funds.positions_bn, basis)
    dealer_bills = scenario.dealers.inventory_bills_share
    dealers = spread(dealer_bills * scenario.dealers.inventory_bn, is_bill) + spread(
        (1 - dealer_bills) * scenario.dealers.inventory_bn, is_coupon
    )
    real_money = outstanding - soma - foreign - funds - levered - dealers
    return ClassHoldings(soma, foreign, funds, levered, dealers, real_money)


# The keys that set each class's opening holdings, named when they outrun an issue.
HOLDING_KEYS = {
    "soma": "central_bank.soma_treasuries_bn",
    "foreign_official": "foreign_official.holdings_bn",
    "money_fund": "money_funds.assets_bn",
    "levered_fund": "levered_funds.positions_bn",
    "dealer": "dealers.inventory_bn",
}
# Rounding of the split, not a real overdraw.
OVERDRAW_TOLERANCE_BN = 1e-9


@dataclass(frozen=True)
class Overdraw:
    """Opening holdings beyond an issue's outstanding: by how much, and the class holding most of it."""

    amount_bn: float
    key: str
    issue: str


def opening_overdraw(scenario: Scenario) -> Overdraw | None:
    """Whether the holder classes' opening amounts fit in the issues the scenario's sizes leave
    outstanding on the first simulated day (warm-up included); None when they do."""
    first = business_days(business_days_before(scenario.start_date, scenario.warmup_business_days), scenario.end_date)
    start = first[0]
    register = IssueRegister()
    build_issue_stock(scenario, start, register)
    held = class_holdings(scenario, register, day_number(start))
    worst = int(held.real_money.argmin())
    if held.real_money[worst] >= -OVERDRAW_TOLERANCE_BN:
        return None
    largest = max(HOLDING_KEYS, key=lambda kind: float(getattr(held, kind)[worst]))
    maturity = pd.Timestamp(register.maturity_day[worst], unit="D").date()
    issue = f"the {TENORS[register.tenor[worst]]} issue maturing {maturity}"
    return Overdraw(float(-held.real_money[worst]), HOLDING_KEYS[largest], issue)
