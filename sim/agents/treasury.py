"""The Treasury: issuer and fiscal agent.

It runs the auction calendar, pays outlays and collects taxes through the TGA (tax dates
bring large inflows that drain reserves), steers bill sizes so the TGA tracks its target
(bills are the financing buffer), and can buy back off-the-run coupons for liquidity
support.
"""

from __future__ import annotations

import bisect
from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from sim.calendar import day_number
from sim.issue_stock import AuctionSizes
from sim.scenario.schema import BILL_TENORS, TENORS, TreasurySection
from sim.securities import COUPON_PERIOD_DAYS

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel

BILL_WEEKS_PER_AUCTION = {"4w": 1.0, "8w": 1.0, "13w": 1.0, "26w": 1.0, "52w": 4.0}
BUYBACK_TENORS = ("2y", "3y", "5y", "7y", "10y", "20y", "30y")


class Treasury(mesa.Agent):
    """The US Treasury's debt management and cash management."""

    def __init__(self, model: mesa.Model, params: TreasurySection):
        super().__init__(model)
        self.params = params
        self.sizes = AuctionSizes(params)
        path = sorted(params.tga_target_path, key=lambda t: t.date)
        self.target_dates = [pd.Timestamp(t.date) for t in path]
        self.target_levels_bn = [t.target_bn for t in path]
        self.cmb_sold_bn = 0.0

    def tga_target_bn(self, day: pd.Timestamp) -> float:
        """The TGA level bills steer to on `day` ($bn): the latest target of the path in force."""
        in_force = bisect.bisect_right(self.target_dates, day)
        return self.target_levels_bn[in_force - 1] if in_force else self.params.tga_target_bn

    def offering_bn(
        self,
        tenor: str,
        reopening: bool,
        tga_bn: float,
        soma_addon_bn: float,
        day: pd.Timestamp,
        target_bn: float | None = None,
        rollover_bn: float | None = None,
    ) -> float:
        """Public offering of an auction held on `day` ($bn).

        Coupons are sized by the scenario (the sizes in force on `day`). Bills roll over
        `rollover_bn` (`bill_rollover_bn`: their base share of the bills maturing on the issue
        date; the base size when that is not known) and add a share of the TGA's gap to its
        target, spread over the week's bills in proportion to their base sizes: net bill issuance
        steers the cash, so a new target is reached and then held. Sizes stay within the
        scenario's bounds around the base size, except that near the floor a bill always rolls
        over what matures (cash-management bills maturing on that day included).
        """
        s = self.sizes.on(day)
        if tenor in BILL_TENORS:
            base = getattr(s, f"bills_{tenor}_bn")
            gap = (self.params.tga_target_bn if target_bn is None else target_bn) - tga_bn
            # A week's worth of bills at base sizes is the unit the TGA gap is spread over.
            base_week_bn = sum(getattr(s, f"bills_{t}_bn") / BILL_WEEKS_PER_AUCTION[t] for t in BILL_TENORS)
            week_share = base / BILL_WEEKS_PER_AUCTION[tenor] / max(base_week_bn, 1e-9)
            rolled = base if rollover_bn is None else rollover_bn
            size = rolled + self.params.bill_steering_share * gap * week_share
            # Near the floor a bill always rolls over what matures: the bounds limit steering, not
            # rollover (else maturing cash-management bills would chain into ever larger ones).
            near_floor = tga_bn < self.params.tga_floor_bn + 2.0 * self.params.cmb_buffer_bn
            largest = max(self.params.bill_size_max_share * base, rolled if near_floor else 0.0)
            return min(max(size, self.params.bill_size_min_share * base), largest)
        kind = {"2y": "notes_2y", "3y": "notes_3y", "5y": "notes_5y", "7y": "notes_7y"}.get(tenor)
        if kind:
            return getattr(s, f"{kind}_bn")
        prefix = {"10y": "notes_10y", "20y": "bonds_20y", "30y": "bonds_30y"}[tenor]
        return getattr(s, f"{prefix}_{'reopen' if reopening else 'new'}_bn")

    def bill_rollover_bn(self, m: TreasuryMarketModel, tenor: str, issue_date: pd.Timestamp) -> float | None:
        """What a bill issued on `issue_date` rolls over ($bn): its tenor's share, at the base sizes
        in force, of every bill maturing that day (cash-management bills included); None when none
        matures. The regular bills issued together keep their base proportions and the total its
        level: rolling over only a tenor's own maturities, a tenor once steered down to its floor
        stayed there (what matured next was that floor), and the 4- and 8-week bills of the
        2022-2024 replay auctioned about a tenth of their real sizes while the 13-week took the rest.
        """
        iss = m.issues
        maturing = iss.active & iss.is_bill & (iss.maturity_day == day_number(issue_date))
        if not maturing.any():
            return None
        sizes = self.sizes.on(m.date)
        issued_together = {spec.tenor for spec in m.calendar.issues_on.get(issue_date, []) if spec.tenor in BILL_TENORS}
        base_bn = sum(getattr(sizes, f"bills_{t}_bn") for t in issued_together | {tenor})
        if base_bn <= 0:
            return None
        return float(iss.outstanding_bn[maturing].sum()) * getattr(sizes, f"bills_{tenor}_bn") / base_bn

    def receipts_bn(self, tax_date: bool) -> float:
        """Taxes collected today ($bn)."""
        return self.params.daily_receipts_bn + (self.params.tax_date_receipts_bn if tax_date else 0.0)

    def buybacks_today_bn(self, is_buyback_day: bool) -> float:
        """Par of off-the-run coupons to buy back today ($bn); buybacks run weekly."""
        return self.params.buybacks_bn_per_month * 12.0 / 52.0 if is_buyback_day else 0.0

    # ------------------------------------------------------------ cash management
    def cash_management_bill_bn(self, m: TreasuryMarketModel) -> float:
        """Size of a cash-management bill to sell today ($bn), 0 if none is needed.

        The Treasury projects its cash over the next few business days: today's balance, less
        net outlays, less the issues maturing and coupons due, plus auction awards settling and the auctions
        already scheduled to settle within the horizon; if that would
        fall below the floor, a bill settling tomorrow restores it to the floor plus a cushion.
        """
        p = self.params
        horizon = min(p.cmb_horizon_days, len(m.calendar) - 1 - m.day_index)
        if horizon <= 0:
            return 0.0
        end = m.calendar.dates[m.day_index + horizon]
        last_day = day_number(end)
        iss = m.issues
        maturing = iss.active & (iss.maturity_day <= last_day)
        coupons_due = iss.active & ~iss.is_bill & (iss.next_coupon_day <= last_day)
        coupons = float((iss.outstanding_bn[coupons_due] * iss.coupon_pct[coupons_due]).sum()) / 200.0
        settling = sum(
            float(award.awards_bn.sum()) for day, awards in m.auctions.pending.items() if day <= end for award in awards
        )
        # Auctions already scheduled within the horizon roll part of the maturities over.
        target = self.tga_target_bn(m.date)
        ahead = m.calendar.dates[m.day_index + 1 : m.day_index + horizon + 1]
        scheduled = sum(
            self.offering_bn(spec.tenor, spec.reopening, m.ledger.tga_bn, 0.0, day, target)
            for day in ahead
            for spec in m.calendar.auctions_on.get(day, [])
            if spec.issue_date <= end
        )
        net_outlays = p.daily_outlays_bn - p.daily_receipts_bn
        redemptions = float(iss.outstanding_bn[maturing].sum()) + coupons
        projected = m.ledger.tga_bn - horizon * net_outlays - redemptions + settling + scheduled
        short = p.tga_floor_bn + p.cmb_buffer_bn - projected
        return max(short, 0.0)

    def fiscal_day(self, m: TreasuryMarketModel, tax_date: bool) -> None:
        """Fiscal flows through the TGA: outlays to households and investors, taxes from
        households and money funds (corporate cash), currency drained from deposits, and
        households' savings flowing into funds (real-money investors and money funds grow).
        """
        sc = m.config
        led = m.ledger
        bank_share = m.banks.size_share
        h_share = self.params.household_share_of_flows
        households = m.accounts_of("household")
        outlays = self.params.daily_outlays_bn
        p = self.params
        investors = {
            "real_money": p.outlays_to_real_money_share,
            "money_fund": p.outlays_to_money_funds_share,
            "foreign_official": p.outlays_to_foreign_official_share,
        }
        accounts = [households] + [m.accounts_of(k) for k in investors]
        amounts = [outlays * h_share * bank_share] + [
            outlays * (1 - h_share) * w * m.size_share_of(k) for k, w in investors.items()
        ]
        led.government_pays(np.concatenate(accounts), np.concatenate(amounts))
        receipts = self.receipts_bn(tax_date)
        mmf = m.accounts_of("money_fund")
        mmf_pay = np.minimum(
            receipts * (1 - h_share) * m.money_funds.size_share,
            np.maximum(led.money_bn[mmf] + led.on_rrp_bn[mmf], 0),
        )
        led.place_on_rrp(mmf, -np.minimum(led.on_rrp_bn[mmf], np.maximum(mmf_pay - led.money_bn[mmf], 0.0)))
        led.taxes_paid(
            np.concatenate([households, mmf]), np.concatenate([(receipts - mmf_pay.sum()) * bank_share, mmf_pay])
        )
        currency = led.currency_bn * sc.central_bank.currency_growth_pct_per_year / 100.0 / 252.0
        led.withdraw_currency(households, currency * bank_share)
        surplus = np.maximum(led.money_bn[households] - m.household_deposit_target_bn, 0.0).sum()
        inflow = surplus * self.params.household_savings_to_funds_share
        if inflow > 0:
            rm = m.accounts_of("real_money")
            payees = np.concatenate([rm, mmf])
            to_rm = p.savings_to_real_money_share
            received = np.concatenate(
                [to_rm * inflow * m.real_money.size_share, (1 - to_rm) * inflow * m.money_funds.size_share]
            )
            paid = inflow * bank_share
            paid[-1] += received.sum() - paid.sum()  # equal totals to the last cent
            led.pay_pooled(households, paid, payees, received, income=True)

    # ------------------------------------------------------------ debt service
    def retire_matured(self, m: TreasuryMarketModel) -> None:
        """Pay off maturing issues; the SOMA's share is reinvested or runs off (the central bank decides)."""
        iss = m.issues
        matured = np.flatnonzero(iss.active & (iss.maturity_day <= m.today))
        if matured.size == 0:
            return
        soma_par = m.ledger.mature(matured)
        m.central_bank.pending_reinvestment_bn += m.central_bank.reinvestment_bn(m.date.date(), soma_par)
        iss.outstanding_bn[matured] = 0.0
        iss.retire(matured)

    def pay_coupons(self, m: TreasuryMarketModel) -> None:
        """Semiannual coupons on the issues whose coupon date has come."""
        iss = m.issues
        due = np.flatnonzero(iss.active & ~iss.is_bill & (iss.next_coupon_day <= m.today))
        if due.size:
            m.ledger.pay_coupons(due, iss.coupon_pct[due] / 200.0)
            iss.next_coupon_day[due] += COUPON_PERIOD_DAYS

    def buy_back(self, m: TreasuryMarketModel) -> None:
        """Liquidity-support buybacks, weekly on Wednesdays: off-the-run coupons, dealers first."""
        buyback = self.buybacks_today_bn(m.date.weekday() == 2)
        if buyback <= 0:
            return
        coupon_buckets = [TENORS.index(t) for t in BUYBACK_TENORS]
        per_bucket = buyback / len(coupon_buckets)
        led = m.ledger
        for bucket in coupon_buckets:
            left = per_bucket
            slots = np.flatnonzero(m.issues.active & (m.prices.bucket == bucket))
            slots = slots[~m.issues.on_the_run[slots]]
            for kind in ("dealer", "real_money"):
                r, s, par, taken = led.pro_rata_par(m.accounts_of(kind), slots, left)
                if taken > 0:
                    led.treasury_buys_back(r, s, par, led.price[s])
                    np.subtract.at(m.issues.outstanding_bn, s, par)
                    left -= taken
                if left <= 1e-12:
                    break
