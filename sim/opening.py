"""The opening balance sheets: the stock of issues, who holds them, money, and open repo.

Everything is built so that the books balance on day zero: each account's equity is set
to its assets minus its liabilities once, and from then on moves only by P&L.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.calendar import BILL_WEEKS, maturity_date
from sim.scenario.schema import BILL_TENORS, COUPON_TENORS, Scenario
from sim.securities import IssueBook, bucket_of

# How many past issues of each tenor are still outstanding, and how often they came.
_HISTORY = {"2y": (24, 1), "3y": (36, 1), "5y": (60, 1), "7y": (84, 1), "10y": (40, 3), "20y": (20, 3), "30y": (120, 3)}


def pareto_shares(rng: np.random.Generator, n: int, alpha: float) -> np.ndarray:
    """Heterogeneous size shares summing to one, largest first.

    Sizes sit at the Pareto(alpha) quantiles of n evenly spaced probabilities (a few
    large, many small) with a little lognormal noise, so one random draw cannot swallow
    a whole population.
    """
    quantiles = (np.arange(n) + 0.5) / n
    sizes = quantiles ** (-1.0 / alpha) * np.exp(rng.normal(0.0, 0.1, n))
    sizes = np.sort(sizes)[::-1]
    return sizes / sizes.sum()


def day_number(ts: pd.Timestamp) -> int:
    return int(ts.value // 86_400_000_000_000)


def build_issue_stock(scenario: Scenario, start: pd.Timestamp, book: IssueBook) -> None:
    """Open the issues outstanding at the start: the auction calendar's history at the scenario's sizes."""
    sizes = scenario.treasury.sizes
    for tenor in BILL_TENORS:
        weeks = BILL_WEEKS[tenor]
        every = 4 if tenor == "52w" else 1
        size = getattr(sizes, f"bills_{tenor}_bn")
        for back in range(0, weeks, every):
            last_thursday = start - pd.Timedelta(days=(start.weekday() - 3) % 7)
            issued = last_thursday - pd.Timedelta(weeks=back)
            matures = maturity_date(issued, tenor)
            if matures <= start:
                continue
            slot = book.add(tenor, day_number(issued), day_number(matures), 0.0)
            book.outstanding_bn[slot] = size
    for tenor in COUPON_TENORS:
        count, months = _HISTORY[tenor]
        name = {"2y": "notes_2y", "3y": "notes_3y", "5y": "notes_5y", "7y": "notes_7y"}.get(tenor)
        if name:
            size = getattr(sizes, f"{name}_bn")
        else:
            prefix = {"10y": "notes_10y", "20y": "bonds_20y", "30y": "bonds_30y"}[tenor]
            size = getattr(sizes, f"{prefix}_new_bn") + 2 * getattr(sizes, f"{prefix}_reopen_bn")
        for back in range(count, 0, -1):
            issued = start - pd.DateOffset(months=back * months)
            matures = maturity_date(pd.Timestamp(issued), tenor)
            if matures <= start:
                continue
            slot = book.add(tenor, day_number(pd.Timestamp(issued)), day_number(matures), 0.0)
            book.outstanding_bn[slot] = size


def allocate_holdings(
    scenario: Scenario, book: IssueBook, start_day: int, shares: dict[str, np.ndarray], rm_tilt: np.ndarray
) -> dict[str, np.ndarray]:
    """Split every issue's outstanding among holder classes and, within a class, agents.

    Real-money investors hold the rest of each issue after the central bank, foreign
    officials, money funds (bills), levered funds (2-10y coupons) and dealers.

    Returns holdings ($bn par) by class: arrays of shape (agents, slots); "soma" is 1-D.
    """
    active = book.active
    outstanding = np.where(active, book.outstanding_bn, 0.0)
    is_bill = book.is_bill & active
    is_coupon = ~book.is_bill & active
    years = book.years_left(start_day)
    buckets = bucket_of(years)
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
    foreign = spread(0.1 * fo_total, is_bill) + spread(0.9 * fo_total, is_coupon)
    bills_total = outstanding[is_bill].sum()
    funds = spread(min(mmf.bills_share * mmf.assets_bn, 0.45 * bills_total), is_bill)
    levered = spread(scenario.levered_funds.positions_bn, basis)
    dealers = spread(0.15 * scenario.dealers.inventory_bn, is_bill) + spread(
        0.85 * scenario.dealers.inventory_bn, is_coupon
    )
    real_money = outstanding - soma - foreign - funds - levered - dealers
    if (real_money < -1e-9).any():
        worst = int(real_money.argmin())
        raise ValueError(
            f"opening holdings exceed the outstanding of an issue by {-real_money[worst]:.1f}bn: "
            "lower central_bank.soma_treasuries_bn, foreign_official.holdings_bn, money_funds.assets_bn, "
            "levered_funds.positions_bn or dealers.inventory_bn, or raise treasury.sizes"
        )
    real_money = np.maximum(real_money, 0.0)
    tilt = rm_tilt[:, buckets] * shares["real_money"][:, None]
    tilt = tilt / tilt.sum(axis=0, keepdims=True)
    return {
        "dealer": shares["dealer"][:, None] * dealers[None, :],
        "real_money": tilt * real_money[None, :],
        "foreign_official": shares["foreign_official"][:, None] * foreign[None, :],
        "levered_fund": shares["levered_fund"][:, None] * levered[None, :],
        "money_fund": shares["money_fund"][:, None] * funds[None, :],
        "soma": soma,
    }
