"""Money market funds: cash allocated among bills, tri-party repo to dealers and the ON RRP.

A fund lends to dealers only when repo pays at least a little over the ON RRP rate, which
therefore floors what it accepts, and never more to one dealer than its counterparty
limit allows. What dealers do not take (quarter-ends, a funding pull-back) goes to the
facility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.agents.member import PopulationMember
from sim.ledger import split_to_the_cent
from sim.scenario.schema import MoneyFundSection

if TYPE_CHECKING:
    from sim.ledger import Ledger
    from sim.model import TreasuryMarketModel


BUSINESS_DAYS_PER_YEAR = 252.0
GROWTH_STEERING_SHARE = 0.2  # of the gap to the growth path closed a day: most of it within a week or two


@dataclass(frozen=True)
class BillBook:
    """Money funds' bills ($bn at market, by fund), assets ($bn, by fund), the bills outstanding
    ($bn par), each fund's cash idle at the ON RRP since yesterday and the rest of its cash, lent in
    repo yesterday ($bn)."""

    bills_bn: np.ndarray
    assets_bn: np.ndarray
    bills_outstanding_bn: float
    idle_cash_bn: np.ndarray
    repo_cash_bn: np.ndarray


class MoneyFund(PopulationMember):
    """One money market fund (a view onto its row of `MoneyFunds`)."""


class MoneyFunds:
    """The money-fund population: size shares (of the industry's assets) and decisions, over funds."""

    def __init__(self, params: MoneyFundSection, size_share: np.ndarray):
        self.params = params
        self.size_share = size_share
        self.path_start_bn: float | None = None  # funds' assets on the first day, where their growth path starts
        # The smallest accounts, up to the no-facility share of the population's size, are cash
        # pools without ON RRP access (GSE-like): their outside option pays nothing.
        smallest_first = np.argsort(size_share, kind="stable")
        before = np.cumsum(size_share[smallest_first]) - size_share[smallest_first]
        self.facility_access = np.ones(size_share.size, dtype=bool)
        self.facility_access[smallest_first[before < params.no_facility_share - 1e-12]] = False
        if not self.facility_access.any():
            self.facility_access[int(np.argmax(size_share))] = True  # someone holds the facility's balances

    def repo_tranches(
        self, cash_bn: np.ndarray, on_rrp_rate_pct: float, pullback_share: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each fund offers its investable cash, less the share a funding pull-back withdraws
        from dealers (kept at the ON RRP or in deposits): at the ON RRP rate plus its minimum
        spread, or, without access to the facility, that less at most their discount."""
        p = self.params
        funds_ask = on_rrp_rate_pct + p.min_spread_over_rrp_bp / 100.0
        ask = np.where(self.facility_access, funds_ask, funds_ask - p.no_facility_discount_bp / 100.0)
        return ask, np.maximum(cash_bn * p.invested_cash_share, 0.0) * (1.0 - pullback_share)

    def fed_funds_offer_bn(self, cash_bn: np.ndarray) -> np.ndarray:
        """What each account offers to lend overnight to banks in fed funds ($bn): the cash
        pools without the ON RRP (FHLB-like) lend their fed funds share; funds lend none."""
        lendable = np.maximum(cash_bn * self.params.invested_cash_share, 0.0)
        return np.where(self.facility_access, 0.0, lendable * self.params.no_facility_fed_funds_share)

    def on_rrp_placement_bn(self, cash_bn: np.ndarray) -> np.ndarray:
        """What each fund places at the ON RRP at the end of the day: its investable cash left, if it can."""
        return np.where(self.facility_access, np.maximum(cash_bn * self.params.invested_cash_share, 0.0), 0.0)

    def mortgage_cycle(self, m: TreasuryMarketModel) -> None:
        """Mortgage payments: households pay the no-facility pools on the first business day on
        or after the 15th; the pools pass them to MBS holders (real money) on or after the 25th.
        Mortgage debt and MBS are not on the model's books, so both legs are income and spending."""
        flow = m.calendar.mortgage_flow[m.day_index]
        amount = self.params.mortgage_cycle_bn
        if not flow or amount <= 0 or self.facility_access.all():
            return
        led = m.ledger
        funds = m.accounts_of("money_fund")
        pools = funds[~self.facility_access]
        pool_share = self.size_share[~self.facility_access] / self.size_share[~self.facility_access].sum()
        if flow == "out":
            paid = np.minimum(amount * pool_share, np.maximum(led.money_bn[pools], 0.0))
            received = split_to_the_cent(paid.sum(), m.real_money.size_share)
            led.pay_pooled(pools, paid, m.accounts_of("real_money"), received, income=True)
        else:
            received = amount * pool_share
            paid = amount * m.banks.size_share
            paid[-1] += received.sum() - paid.sum()
            led.pay_pooled(m.accounts_of("household"), paid, pools, received, income=True)

    def investor_inflows(self, m: TreasuryMarketModel) -> None:
        """Households move deposits into money funds, or take them out: the path's growth for the day
        and `GROWTH_STEERING_SHARE` of the gap between funds' assets and their growth path
        (`assets_growth_bn_per_year` from the assets on the first day), spread over funds by size;
        never more out of a fund than its cash.
        Fund shares are not on the model's books, so both legs are spending and income."""
        growth_bn = self.params.assets_growth_bn_per_year
        if growth_bn is None:
            return
        led = m.ledger
        funds, households = m.accounts_of("money_fund"), m.accounts_of("household")
        assets_bn = self.assets_bn(led, m.slices["money_fund"])
        if self.path_start_bn is None:
            self.path_start_bn = assets_bn
        path_bn = self.path_start_bn + growth_bn * m.day_index / BUSINESS_DAYS_PER_YEAR  # today's, before the flow
        daily_bn = growth_bn / BUSINESS_DAYS_PER_YEAR
        to_funds = (daily_bn + GROWTH_STEERING_SHARE * (path_bn - assets_bn)) * self.size_share
        to_funds = np.maximum(to_funds, -np.maximum(led.money_bn[funds], 0.0))
        total = float(to_funds.sum())
        if abs(total) <= 1e-12:
            return
        from_households = split_to_the_cent(total, m.banks.size_share)
        if total > 0:
            led.pay_pooled(households, from_households, funds, to_funds, income=True)
        else:
            led.pay_pooled(funds, -to_funds, households, -from_households, income=True)

    @staticmethod
    def assets_bn(led: Ledger, funds: slice | np.ndarray) -> float:
        """Money funds' assets ($bn): cash, the ON RRP, repo lent and securities at market value (`funds`:
        their accounts, best as a slice, whose holdings are read without a copy)."""
        securities = led.holdings_bn[funds] @ led.price
        return float((led.money_bn[funds] + led.on_rrp_bn[funds] + led.repo_lent_bn[funds] + securities).sum())

    def bill_book(self, m: TreasuryMarketModel) -> BillBook:
        """Each fund's bills and assets, the bills outstanding and the cash each left idle at the
        facility yesterday (`BillBook`): what its bill target and appetite read."""
        led = m.ledger
        mmf = m.slices["money_fund"]
        bills_bn = led.holdings_bn[mmf] @ (m.issues.is_bill * led.price)
        assets_bn = np.maximum(led.money_bn[mmf] + led.on_rrp_bn[mmf] + led.repo_lent_bn[mmf] + bills_bn, 1e-9)
        bills_outstanding_bn = float(m.issues.outstanding_bn[m.issues.is_bill & m.issues.active].sum())
        # The facility's cash came back this morning: what sat idle at it is yesterday's idle share of their cash.
        cash_bn = np.maximum(led.money_bn[mmf], 0.0)
        idle_cash_bn = cash_bn * m.market.funds_idle_share
        return BillBook(bills_bn, assets_bn, bills_outstanding_bn, idle_cash_bn, cash_bn - idle_cash_bn)

    def secondary_bill_orders_bn(self, book: BillBook, dealer_excess_bn: np.ndarray, is_bill: np.ndarray) -> np.ndarray:
        """Bills each fund buys from dealers today, by bucket ($bn par, shape (funds, buckets)).

        Each fund takes its part (by size) of what dealers hold above their normal book in the bill
        buckets (`dealer_excess_bn` by bucket; `is_bill` marks the buckets of a year or less: bills,
        and coupons that close to maturity, which funds may hold), spread over the buckets
        as dealers' excess is, up to `secondary_bill_share` of its cash idle at the facility and
        no further than its bill target (`bill_target_bn`). Nothing when the share is zero.
        """
        excess = np.where(is_bill, np.maximum(dealer_excess_bn, 0.0), 0.0)
        total = float(excess.sum())
        if total <= 0 or self.params.secondary_bill_share <= 0:
            return np.zeros((self.size_share.size, excess.size))
        target_bn = self.bill_target_bn(book.assets_bn, book.bills_outstanding_bn, book.idle_cash_bn, book.repo_cash_bn)
        budget_bn = np.minimum(
            self.params.secondary_bill_share * book.idle_cash_bn, np.maximum(target_bn - book.bills_bn, 0.0)
        )
        wanted_bn = np.minimum(budget_bn, self.size_share * total)
        return wanted_bn[:, None] * (excess / total)[None, :]

    def dealer_limit_bn(self, assets_bn: float, pullback_share: float) -> float:
        """Most the fund industry lends to any one dealer ($bn): each fund's limit, summed.

        Never below zero: funds overdrawn by bill settlements (net assets below zero) lend nothing.
        """
        return max(self.params.counterparty_limit_share * assets_bn * (1.0 - pullback_share), 0.0)

    def bill_target_bn(
        self,
        assets_bn: np.ndarray,
        bills_outstanding_bn: float,
        idle_cash_bn: np.ndarray,
        repo_cash_bn: np.ndarray | None = None,
    ) -> np.ndarray:
        """The bills each fund would hold ($bn): `bills_share` of its assets or, where larger, its part
        (by size) of `bill_market_share` of the bills outstanding, for as much of the difference as its
        cash idle at the ON RRP (`idle_cash_bn`) and `bills_from_repo_cash_share` of the cash it lent
        in repo (`repo_cash_bn`; none: no such cash) will pay for."""
        p = self.params
        target = p.bills_share * assets_bn
        if p.bill_market_share is None:
            return target
        market_part = p.bill_market_share * bills_outstanding_bn * self.size_share
        payable = np.maximum(idle_cash_bn, 0.0)
        if repo_cash_bn is not None and p.bills_from_repo_cash_share > 0:
            payable = payable + p.bills_from_repo_cash_share * np.maximum(repo_cash_bn, 0.0)
        return target + np.minimum(np.maximum(market_part - target, 0.0), payable)

    def bill_bids(
        self,
        offering_bn: float,
        wi_pct: float,
        bills_bn: np.ndarray,
        assets_bn: np.ndarray,
        cash_bn: np.ndarray,
        bills_outstanding_bn: float,
        idle_cash_bn: np.ndarray,
        repo_cash_bn: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bill-auction tenders (fund index, yield %, amount $bn), leaning toward their bill target
        (`bill_target_bn`; bills outstanding, each fund's cash idle at the ON RRP and the cash it lent
        in repo, in $bn)."""
        p = self.params
        target_bn = self.bill_target_bn(assets_bn, bills_outstanding_bn, idle_cash_bn, repo_cash_bn)
        gap = (target_bn - bills_bn) / np.maximum(assets_bn, 1e-9)
        appetite = (1.0 + p.bill_appetite_per_gap * gap).clip(p.bill_appetite_min, p.bill_appetite_max)
        amounts = offering_bn * p.bill_auction_share * self.size_share * appetite
        amounts = np.minimum(amounts, np.maximum(cash_bn, 0.0) * p.bill_cash_budget_share)
        return (
            np.arange(self.size_share.size),
            np.full(self.size_share.size, wi_pct - p.bid_through_bp / 100.0),
            amounts,
        )
