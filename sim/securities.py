"""Treasury issues: identity, maturity, coupon, outstanding, and their prices and DV01s.

Issues live in parallel numpy arrays (one slot per issue; slots of matured issues are
reused) so pricing and risk are vectorised over the whole outstanding stock.
"""

from __future__ import annotations

import numpy as np

from sim.calendar import TENOR_YEARS
from sim.scenario.schema import BILL_TENORS, TENORS

DAYS_PER_YEAR = 365.25
BUCKET_YEARS = np.array([TENOR_YEARS[t] for t in TENORS])
N_BUCKETS = len(TENORS)
BILL_BUCKETS = np.array([t in BILL_TENORS for t in TENORS])
COUPON_PERIOD_DAYS = 182
# Treasury sets coupons in eighths of a percent, never below one eighth: a coupon is never
# zero or negative, however low the auction yield (and so no price is negative).
MIN_COUPON_PCT = 0.125


ArrayOrFloat = np.ndarray | float


def bond_price(
    yield_pct: ArrayOrFloat, coupon_pct: ArrayOrFloat, years: ArrayOrFloat, is_bill: ArrayOrFloat
) -> np.ndarray:
    """Clean price per $1 of par (arrays by issue, or one issue's floats for a 0-d result).

    Bills: money-market discounting 1 / (1 + y t). Coupons: semiannual annuity plus
    principal at yield y, for a (possibly fractional) number of remaining periods.
    """
    # Powers through the ufunc, not `**`: on one issue's floats `**` takes the C library's pow,
    # whose last bits differ from numpy's vectorised one; a price must not depend on the call.
    years = np.maximum(years, 0.0)
    y = np.maximum(yield_pct, 1e-6) / 100.0
    bill_price = 1.0 / (1.0 + y * years)
    periods = 2.0 * years
    discount = np.power(1.0 + y / 2.0, -periods)
    coupon_price = (coupon_pct / 100.0) / y * (1.0 - discount) + discount
    return np.where(is_bill, bill_price, coupon_price)


def bond_dv01(
    yield_pct: ArrayOrFloat, coupon_pct: ArrayOrFloat, years: ArrayOrFloat, is_bill: ArrayOrFloat
) -> np.ndarray:
    """Price change per $1 of par for a 1bp fall in yield ($ per $ par per bp), -dP/dy x 1bp
    (arrays by issue, or one issue's floats for a 0-d result).

    The derivative of `bond_price` in closed form: for bills t / (1 + y t)^2; for coupon
    bonds the derivative of the annuity c/y (1 - v^n) plus the principal v^n, v = 1/(1 + y/2).
    """
    years = np.maximum(years, 0.0)
    y = np.maximum(yield_pct, 1e-6) / 100.0
    c = coupon_pct / 100.0
    bill = years / np.square(1.0 + y * years)
    periods = 2.0 * years
    v = 1.0 / (1.0 + y / 2.0)
    vn = np.power(v, periods)
    slope = -(c / np.square(y)) * (1.0 - vn) + (c / y) * (periods / 2.0) * vn * v - (periods / 2.0) * vn * v
    return np.where(is_bill, bill, -slope) * 1e-4


def bond_price_one(yield_pct: float, coupon_pct: float, years: float, is_bill: bool) -> float:
    """`bond_price` of one issue, in Python floats: the same number, a third of the calls' cost.

    Sums, products and quotients of floats are the same IEEE operations numpy does; the power
    stays numpy's ufunc, whose last bits the C library's `**` would not match.
    """
    years = max(years, 0.0)
    y = max(yield_pct, 1e-6) / 100.0
    if is_bill:
        return 1.0 / (1.0 + y * years)
    discount = float(np.power(1.0 + y / 2.0, -(2.0 * years)))
    return (coupon_pct / 100.0) / y * (1.0 - discount) + discount


def bond_dv01_one(yield_pct: float, coupon_pct: float, years: float, is_bill: bool) -> float:
    """`bond_dv01` of one issue, in Python floats ($ per $ par per bp; the same number, see `bond_price_one`)."""
    years = max(years, 0.0)
    y = max(yield_pct, 1e-6) / 100.0
    if is_bill:
        growth = 1.0 + y * years
        return years / (growth * growth) * 1e-4
    c = coupon_pct / 100.0
    periods = 2.0 * years
    v = 1.0 / (1.0 + y / 2.0)
    vn = float(np.power(v, periods))
    slope = -(c / (y * y)) * (1.0 - vn) + (c / y) * (periods / 2.0) * vn * v - (periods / 2.0) * vn * v
    return -slope * 1e-4


# Geometric midpoints between benchmark maturities: nearest in log distance = between edges.
_BUCKET_EDGES = np.sqrt(BUCKET_YEARS[:-1] * BUCKET_YEARS[1:])


def bucket_of(years: np.ndarray) -> np.ndarray:
    """Trading bucket (index into TENORS) of the nearest benchmark maturity (log distance)."""
    return np.searchsorted(_BUCKET_EDGES, years, side="left")


class IssueRegister:
    """All outstanding issues.

    Arrays are indexed by slot. `active` marks live issues; `outstanding_bn` is par
    outstanding ($bn); days are integer day numbers (days since 1970-01-01).
    """

    def __init__(self, capacity: int = 512):
        self.capacity = capacity
        self.tenor = np.zeros(capacity, dtype=np.int16)  # index into TENORS
        self.is_bill = np.zeros(capacity, dtype=bool)
        self.issue_day = np.zeros(capacity, dtype=np.int64)
        self.maturity_day = np.zeros(capacity, dtype=np.int64)
        self.coupon_pct = np.zeros(capacity)
        self.outstanding_bn = np.zeros(capacity)
        self.active = np.zeros(capacity, dtype=bool)
        self.serial = np.zeros(capacity, dtype=np.int64)  # issue id, unique over the run
        self.on_the_run = np.zeros(capacity, dtype=bool)
        self.next_coupon_day = np.zeros(capacity, dtype=np.int64)  # coupons are paid every COUPON_PERIOD_DAYS
        self.next_serial = 1

    def add(self, tenor: str, issue_day: int, maturity_day: int, coupon_pct: float) -> int:
        """Open a new issue with zero outstanding; returns its slot (grows the arrays if full)."""
        free = np.flatnonzero(~self.active)
        if free.size == 0:
            self._grow()
            free = np.flatnonzero(~self.active)
        slot = int(free[0])
        tenor_index = TENORS.index(tenor)
        self.tenor[slot] = tenor_index
        self.is_bill[slot] = tenor in BILL_TENORS
        self.issue_day[slot] = issue_day
        self.maturity_day[slot] = maturity_day
        self.coupon_pct[slot] = coupon_pct
        self.outstanding_bn[slot] = 0.0
        self.active[slot] = True
        self.serial[slot] = self.next_serial
        self.next_serial += 1
        self._mark_on_the_run(tenor_index)
        return slot

    def _mark_on_the_run(self, tenor_index: int) -> None:
        """The newest live issue of a tenor is on-the-run; older ones are off-the-run."""
        of_tenor = self.tenor == tenor_index
        self.on_the_run[of_tenor] = False
        live = np.flatnonzero(self.active & of_tenor)
        if live.size:
            key = self.issue_day[live] * 10**9 + self.serial[live]
            self.on_the_run[live[int(key.argmax())]] = True

    def retire(self, slots: np.ndarray) -> None:
        """Close matured issues (their outstanding must already be paid down to zero)."""
        tenors = set(self.tenor[slots].tolist())
        self.active[slots] = False
        self.on_the_run[slots] = False
        for tenor_index in tenors:
            self._mark_on_the_run(tenor_index)

    def _grow(self) -> None:
        extra = self.capacity
        for name in (
            "tenor",
            "is_bill",
            "issue_day",
            "maturity_day",
            "coupon_pct",
            "outstanding_bn",
            "active",
            "serial",
            "on_the_run",
            "next_coupon_day",
        ):
            arr = getattr(self, name)
            setattr(self, name, np.concatenate([arr, np.zeros(extra, dtype=arr.dtype)]))
        self.capacity += extra

    def on_the_run_slot(self, tenor: str) -> int | None:
        """Slot of the on-the-run issue of a tenor, or None."""
        hit = np.flatnonzero(self.active & self.on_the_run & (self.tenor == TENORS.index(tenor)))
        return int(hit[0]) if hit.size else None

    def years_left(self, today: int) -> np.ndarray:
        """Remaining maturity of every slot in years (0 for inactive slots)."""
        return np.where(self.active, np.maximum(self.maturity_day - today, 0) / DAYS_PER_YEAR, 0.0)
