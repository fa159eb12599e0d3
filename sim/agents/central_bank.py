"""The central bank: policy rates, purchases, the Standing Repo Facility, repo operations, securities
lending, interest on reserves and the ON RRP, and its other assets.

Its balance sheet must balance: SOMA holdings + loans + other assets = reserves + TGA +
ON RRP + currency + capital. It pays interest on reserves and the ON RRP out of its capital, and
its other assets (agency MBS) run off as households pay them down. Purchases are run as
operations with dealers; a set share is sourced (through dealers) from non-bank investors,
whose deposits and banks' reserves rise together, and the rest comes out of dealers' own
inventories, swapping a Treasury for cash or reserves on their balance sheets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.ledger import split_to_the_cent
from sim.scenario.schema import TENORS, CentralBankSection, PolicySection

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel

BUSINESS_DAYS_PER_MONTH = 21.0


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - dt.date(1970, 1, 1)).days


@dataclass(frozen=True)
class AdministeredRates:
    """The rates the central bank sets for the day (%)."""

    top_pct: float  # top of the target range
    iorb_pct: float  # interest on reserve balances
    on_rrp_pct: float  # overnight reverse repo facility
    srf_pct: float  # Standing Repo Facility minimum bid
    discount_window_pct: float


@dataclass(frozen=True)
class RepoOperationTerms:
    """A day's overnight repo operation with primary dealers."""

    offered_bn: float  # all dealers together ($bn)
    min_bid_pct: float  # minimum bid rate, at which loans are awarded (%)


class CentralBank(mesa.Agent):
    """The Federal Reserve: sets rates and runs its facilities and purchase programs."""

    def __init__(
        self, model: mesa.Model, policy: PolicySection, params: CentralBankSection, horizon: tuple[dt.date, dt.date]
    ):
        """`horizon` is the scenario's (start_date, end_date): purchase programs without dates span it."""
        super().__init__(model)
        self.policy = policy
        self.params = params
        first, last = horizon
        self.purchase_windows = [(p.start or first, p.end or last) for p in params.purchases]
        # Repo operations by day number: at most one is in force on a day (the loader checks).
        self.repo_operation_days = np.array(
            [(day_number(op.start), day_number(op.end or last)) for op in params.repo_operations], dtype=np.int64
        ).reshape(-1, 2)
        if policy.rates:
            # A dated table: its first row is in force from the first simulated day (the loader
            # checks), so the expected policy path starts at it.
            rows = sorted(policy.rates, key=lambda r: r.date)
            self.default_upper_pct = rows[0].target_upper_pct
            self.change_days = np.array([day_number(r.date) for r in rows], dtype=np.int64)
            self.change_levels_pct = np.array([r.target_upper_pct for r in rows], dtype=float)
            self.rate_rows: list[AdministeredRates] = [
                AdministeredRates(
                    r.target_upper_pct, r.iorb_pct, r.on_rrp_pct, *self._facility_rates(r.target_upper_pct)
                )
                for r in rows
            ]
        else:
            changes = sorted(policy.path, key=lambda c: c.date)
            self.default_upper_pct = policy.target_upper_pct
            self.change_days = np.array([day_number(c.date) for c in changes], dtype=np.int64)
            self.change_levels_pct = np.array([c.target_upper_pct for c in changes], dtype=float)
            self.rate_rows = []
        self.purchased_bn = 0.0
        self.pending_reinvestment_bn = 0.0
        caps = sorted(params.runoff_caps, key=lambda c: c.date)
        self.runoff_cap_days = np.array([day_number(c.date) for c in caps], dtype=np.int64)
        self.runoff_cap_bn = np.array([c.bn_per_month for c in caps], dtype=float)
        self.runoff_month: tuple[int, int] | None = None
        self.runoff_left_bn = 0.0
        path = params.other_assets_path  # in date order (the schema checks)
        self.other_assets_days = np.array([day_number(level.date) for level in path], dtype=np.int64)
        self.other_assets_levels_bn = np.array([level.other_assets_bn for level in path], dtype=float)
        self.other_assets_in_force_bn: float | None = None  # the path's level on the last business day
        self.last_business_day: int | None = None  # day number of the last business day interest was paid to

    # ------------------------------------------------------------ rates
    def target_upper_pct(self, today: int) -> float:
        """Top of the target range in force today (%)."""
        passed = self.change_days <= today
        return float(self.change_levels_pct[passed][-1]) if passed.any() else self.default_upper_pct

    def _facility_rates(self, top_pct: float) -> tuple[float, float]:
        """SRF minimum bid and primary credit rate, set off the top of the range (%)."""
        return (
            top_pct + self.params.srf.min_bid_above_top_bp / 100.0,
            top_pct + self.params.discount_window_above_top_bp / 100.0,
        )

    def administered_rates(self, today: int) -> AdministeredRates:
        """IORB, ON RRP, SRF minimum bid and discount-window rates today (%): the row of the
        scenario's rate table in force, else set off the top of the range by the policy's spreads."""
        if self.rate_rows:
            return self.rate_rows[max(int(np.searchsorted(self.change_days, today, side="right")) - 1, 0)]
        top = self.target_upper_pct(today)
        bottom = top - self.policy.range_width_bp / 100.0
        srf_pct, discount_window_pct = self._facility_rates(top)
        return AdministeredRates(
            top_pct=top,
            iorb_pct=top - self.policy.iorb_below_top_bp / 100.0,
            on_rrp_pct=bottom + self.policy.on_rrp_above_bottom_bp / 100.0,
            srf_pct=srf_pct,
            discount_window_pct=discount_window_pct,
        )

    # ------------------------------------------------------------ purchases
    def purchases_today_bn(self, day: dt.date) -> np.ndarray:
        """Par to buy today in each tenor bucket ($bn), summed over active programs."""
        amounts = np.zeros(len(TENORS))
        for program, (start, end) in zip(self.params.purchases, self.purchase_windows, strict=True):
            if start <= day <= end:
                per_day = program.bn_per_month / BUSINESS_DAYS_PER_MONTH
                for tenor in program.tenors:
                    amounts[TENORS.index(tenor)] += per_day / len(program.tenors)
        return amounts

    def nonbank_share_today(self, day: dt.date) -> float:
        """Share of today's purchases sourced from non-bank investors (purchase-weighted)."""
        weights, shares = [], []
        for program, (start, end) in zip(self.params.purchases, self.purchase_windows, strict=True):
            if start <= day <= end:
                weights.append(program.bn_per_month)
                shares.append(program.nonbank_seller_share)
        return float(np.average(shares, weights=weights)) if weights and sum(weights) > 0 else 0.0

    def reinvestment_bn(self, day: dt.date, matured_bn: float) -> float:
        """Of today's maturing SOMA par, what is rolled over ($bn); the rest runs off (QT).

        Without runoff caps everything is reinvested (when reinvestment is on); with caps,
        maturities run off up to the month's cap and the excess is reinvested.
        """
        if not self.params.reinvest_maturities:
            return 0.0
        today = day_number(day)
        in_force = self.runoff_cap_days <= today
        if not in_force.any():
            return matured_bn
        if self.runoff_month != (day.year, day.month):
            self.runoff_month = (day.year, day.month)
            self.runoff_left_bn = float(self.runoff_cap_bn[in_force][-1])
        runoff = min(matured_bn, self.runoff_left_bn)
        self.runoff_left_bn -= runoff
        return matured_bn - runoff

    def buy_securities(self, m: TreasuryMarketModel) -> float:
        """Today's purchase operations with dealers; returns the par bought ($bn).

        Dealers offer their share from inventory; the rest (and whatever dealers lack) comes
        from non-bank investors through them, pro rata to holdings in each bucket.
        """
        day = m.date.date()
        amounts = self.purchases_today_bn(day)
        bought = 0.0
        if amounts.sum() <= 0:
            return bought
        nonbank_share = self.nonbank_share_today(day)
        dealers = m.accounts_of("dealer")
        nonbanks = np.concatenate([m.accounts_of(k) for k in ("real_money", "foreign_official", "money_fund")])
        led = m.ledger
        for bucket in np.flatnonzero(amounts):
            want = float(amounts[bucket])
            slots = np.flatnonzero(m.issues.active & (m.prices.bucket == bucket))
            taken = 0.0
            for rows, ask in ((dealers, want * (1.0 - nonbank_share)), (nonbanks, None)):
                r, s, par, got = led.pro_rata_par(rows, slots, want - taken if ask is None else ask)
                if got > 0:
                    led.central_bank_buys(r, s, par, led.price[s])
                    taken += got
            bought += taken
        self.purchased_bn += bought
        return bought

    # ------------------------------------------------------------ the rest of the balance sheet
    def pay_interest(self, m: TreasuryMarketModel) -> None:
        """Each morning, interest on the night's reserves (IORB) and ON RRP balances (its rate), for the
        calendar nights since the last business day at that day's rates (`m.market.rates` before today's
        are set): a weekend earns three nights. Overdrawn reserve accounts earn nothing."""
        last, self.last_business_day = self.last_business_day, m.today
        if last is None or not self.params.pays_interest:
            return
        nights = m.today - last
        led = m.ledger
        rates = m.market.rates
        holders = np.flatnonzero(led.reserve_holder)
        funds = m.accounts_of("money_fund")
        interest = np.concatenate([
            np.maximum(led.money_bn[holders], 0.0) * (rates.iorb_pct * nights / 36000.0),
            np.maximum(led.on_rrp_bn[funds], 0.0) * (rates.on_rrp_pct * nights / 36000.0),
        ])  # fmt: skip
        led.central_bank_pays_interest(np.concatenate([holders, funds]), interest)

    def other_assets_change_bn(self, today: int) -> float:
        """Today's change in the central bank's other assets ($bn): the move of `other_assets_path`
        since the last business day (none on the first day, whose level the opening books hold)
        less a business day's `other_assets_runoff_bn_per_month`."""
        change = -self.params.other_assets_runoff_bn_per_month / BUSINESS_DAYS_PER_MONTH
        if self.other_assets_days.size:
            row = max(int(np.searchsorted(self.other_assets_days, today, side="right")) - 1, 0)
            level = float(self.other_assets_levels_bn[row])
            if self.other_assets_in_force_bn is not None:
                change += level - self.other_assets_in_force_bn
            self.other_assets_in_force_bn = level
        return change

    def other_assets_day(self, m: TreasuryMarketModel) -> None:
        """The central bank's other assets move (`other_assets_change_bn`): households pay down what
        runs off (MBS principal) or are paid what it adds, by their banks' shares, and reserves move with it."""
        change = self.other_assets_change_bn(m.today)
        if change != 0.0:
            paid = split_to_the_cent(change, m.banks.size_share)
            m.ledger.central_bank_other_assets_move(m.accounts_of("household"), paid)

    # ------------------------------------------------------------ facilities
    def repo_operation_terms(self, today: int, iorb_pct: float) -> RepoOperationTerms | None:
        """Today's overnight repo operation: the amount offered ($bn) and its minimum bid (%), or None.

        Unlike the SRF, the central bank offers these to restore its control of rates, so dealers
        attach no stigma to them. Loans are awarded at the minimum bid: the Desk's auctions were
        multiple-price, and the model leaves out bidding above the minimum when they are oversubscribed.
        """
        days = self.repo_operation_days
        in_force = np.flatnonzero((days[:, 0] <= today) & (today <= days[:, 1]))
        if in_force.size == 0:
            return None
        operation = self.params.repo_operations[int(in_force[0])]
        return RepoOperationTerms(
            offered_bn=operation.offered_bn_per_day,
            min_bid_pct=iorb_pct + operation.min_bid_above_iorb_bp / 100.0,
        )

    def lendable_from_soma_bn(self, soma_by_slot_bn: np.ndarray) -> np.ndarray:
        """Par of each issue the securities-lending program can lend ($bn)."""
        if not self.params.securities_lending:
            return np.zeros_like(soma_by_slot_bn)
        return self.params.securities_lending_share * np.maximum(soma_by_slot_bn, 0.0)
