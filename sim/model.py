"""The Treasury market model: one step is one business day in the order of the plumbing.

Phases (DESIGN.md section 6): exogenous updates, central-bank operations, auctions,
secondary cash market, repo in intraday rounds, settlement and fails, end of day.
Agents decide; the markets in `sim.markets` clear; the ledger keeps exact books.
"""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd

from sim import opening
from sim.agents.bank import BankReserveManager, ReserveDesk
from sim.agents.central_bank import CentralBank
from sim.agents.dealer import Dealer, DealerDesk
from sim.agents.foreign_official import ForeignOfficial, ForeignOfficialBook
from sim.agents.levered_fund import LeveredFund, LeveredFundBook
from sim.agents.money_fund import MoneyFund, MoneyFundBook
from sim.agents.real_money import RealMoneyBook, RealMoneyInvestor
from sim.agents.treasury import Treasury
from sim.calendar import TENOR_YEARS, MarketCalendar, business_days_before
from sim.ledger import KINDS, AccountMap, Ledger
from sim.markets import auction as auction_market
from sim.markets import repo as repo_market
from sim.markets import secondary, settlement
from sim.pricing import YieldCurve, expected_policy_pct, inventory_premium_bp
from sim.recorder import Recorder
from sim.scenario.schema import BILL_TENORS, TENORS, Scenario
from sim.securities import BILL_BUCKETS, BUCKET_YEARS, N_BUCKETS, IssueBook, bond_dv01, bond_price, bucket_of
from sim.shocks import ShockBook
from sim.threads import pin_thread_pools

PERCENTILES = np.array([0.01, 0.25, 0.50, 0.75, 0.99])
COUPON_PERIOD_DAYS = 182
DEALER_TRANCHES = np.array([-0.5, 0.0, 0.75])  # bp around the dealer's concession
DEALER_TRANCHE_WEIGHTS = np.array([0.3, 0.4, 0.3])


class TreasuryMarketModel(mesa.Model):
    """Agent-based model of the US Treasury market's plumbing.

    Args:
        scenario: a validated `Scenario` (see `sim.scenario.load_scenario`).
        seed: random seed; the same scenario and seed give identical results.

    After `run()` (or repeated `step()`), `results()` returns the daily, auctions and
    dealers tables of the output contract.
    """

    def __init__(self, scenario: Scenario, seed: int = 0):
        pin_thread_pools()
        super().__init__(rng=seed)
        self.config = scenario
        self.seed = seed
        # A warm-up before start_date lets the opening balance sheets settle; it is simulated
        # like any other day but not recorded.
        first_day = business_days_before(scenario.start_date, scenario.warmup_business_days)
        self.calendar = MarketCalendar(first_day, scenario.end_date)
        self.first_recorded_day = int(self.calendar.days.searchsorted(pd.Timestamp(scenario.start_date)))
        self.day_index = 0
        self.shocks = ShockBook(scenario.shocks, self.calendar.days)
        # Independent random streams per mechanism, so that a change in one part of the
        # market does not shift the draws of another (common random numbers).
        streams = np.random.SeedSequence(seed).spawn(6)
        self.curve_rng, self.auction_rng, self.flow_rng, self.repo_rng, self.setup_rng, self.misc_rng = (
            np.random.default_rng(s) for s in streams
        )
        self.pending_awards: dict[pd.Timestamp, list[dict]] = {}  # by issue date
        self._build_agents()
        self._open_books()
        self.recorder = Recorder(self)

    # ================================================================== set-up
    def _build_agents(self) -> None:
        sc = self.config
        rng = self.setup_rng
        counts = {
            "dealer": sc.dealers.count,
            "real_money": sc.real_money.count,
            "foreign_official": sc.foreign_official.count,
            "levered_fund": sc.levered_funds.count,
            "money_fund": sc.money_funds.count,
            "bank": sc.banks.count,
            "household": sc.banks.count,
        }
        self.accounts = AccountMap(counts)
        self.slices = {k: self.accounts.slice(k) for k in KINDS}
        self.idx = {k: np.arange(sl.start, sl.stop) for k, sl in self.slices.items()}  # account numbers by kind

        # Dealers: a few large; most inside bank holding companies.
        d = sc.dealers
        dealer_share = opening.pareto_shares(rng, d.count, d.size_pareto_alpha)
        n_bank = int(round(d.bank_affiliated_share * d.count))
        bank_affiliated = np.zeros(d.count, dtype=bool)
        bank_affiliated[rng.permutation(d.count)[:n_bank]] = True
        window_dresser = np.zeros(d.count, dtype=bool)
        bank_ids = np.flatnonzero(bank_affiliated)
        n_dress = int(round(d.window_dresser_share * bank_ids.size))
        window_dresser[rng.permutation(bank_ids)[:n_dress]] = True
        self.dealers = Dealer.create_agents(
            self,
            d.count,
            index=list(range(d.count)),
            size_share=list(dealer_share),
            bank_affiliated=list(bank_affiliated),
            window_dresser=list(window_dresser),
        )
        self.desk = DealerDesk(d, sc.loop, dealer_share, bank_affiliated, window_dresser)

        def population(kind: str, alpha: float = 1.5) -> tuple[np.ndarray, np.ndarray]:
            n = counts[kind]
            return opening.pareto_shares(rng, n, alpha), np.arange(n) + self.slices[kind].start

        rm_share, rm_acc = population("real_money")
        rm_required = sc.real_money.required_concession_bp + rng.normal(0.0, 0.3, rm_share.size)
        rm_tilt = np.exp(rng.normal(0.0, 0.5, (rm_share.size, N_BUCKETS)))
        rm_tilt = rm_tilt / (rm_share[:, None] * rm_tilt).sum(axis=0, keepdims=True)
        self.real_money = RealMoneyInvestor.create_agents(
            self,
            rm_share.size,
            index=list(range(rm_share.size)),
            account=list(rm_acc),
            size_share=list(rm_share),
            required_concession_bp=list(rm_required),
        )
        self.real_money_book = RealMoneyBook(sc.real_money, sc.loop, rm_share, rm_required, rm_tilt)

        fo_share, fo_acc = population("foreign_official")
        self.foreign_officials = ForeignOfficial.create_agents(
            self, fo_share.size, index=list(range(fo_share.size)), account=list(fo_acc), size_share=list(fo_share)
        )
        self.foreign_book = ForeignOfficialBook(sc.foreign_official, fo_share)

        lf_share, lf_acc = population("levered_fund")
        self.levered_funds = LeveredFund.create_agents(
            self, lf_share.size, index=list(range(lf_share.size)), account=list(lf_acc), size_share=list(lf_share)
        )
        self.levered_book = LeveredFundBook(sc.levered_funds, lf_share)

        mmf_share, mmf_acc = population("money_fund")
        self.money_funds = MoneyFund.create_agents(
            self, mmf_share.size, index=list(range(mmf_share.size)), account=list(mmf_acc), size_share=list(mmf_share)
        )
        self.money_fund_book = MoneyFundBook(sc.money_funds, mmf_share)

        b = sc.banks
        bank_share, bank_acc = population("bank", b.concentration_alpha)
        # Large holders keep higher comfortable levels relative to their reserves.
        comfort_tilt = bank_share**0.1 * np.exp(rng.normal(0.0, 0.05, bank_share.size))
        comfortable = b.lowest_comfortable_reserves_bn * bank_share * comfort_tilt / (bank_share * comfort_tilt).sum()
        self.banks = BankReserveManager.create_agents(
            self, b.count, index=list(range(b.count)), account=list(bank_acc), lowest_comfortable_bn=list(comfortable)
        )
        hurdle_offset = rng.normal(0.0, b.hurdle_dispersion_bp, b.count)
        self.reserve_desk = ReserveDesk(b, comfortable, hurdle_offset)
        self.bank_share = bank_share

        self.central_bank = CentralBank(self, sc.policy, sc.central_bank, (sc.start_date, sc.end_date))
        self.treasury = Treasury(self, sc.treasury)
        self.shares = {
            "dealer": dealer_share,
            "real_money": rm_share,
            "foreign_official": fo_share,
            "levered_fund": lf_share,
            "money_fund": mmf_share,
        }

    def _open_books(self) -> None:
        sc = self.config
        rng = self.setup_rng
        start = self.calendar.days[0]
        self.today = opening.day_number(start)
        self.issues = IssueBook()
        opening.build_issue_stock(sc, start, self.issues)
        n = self.accounts.n_accounts
        reserve_holder = np.zeros(n, dtype=bool)
        reserve_holder[self.slices["bank"]] = True
        reserve_holder[self.slices["dealer"]] = self.desk.bank_affiliated
        # Depositors bank with custodians chosen by bank size; households spread over all banks.
        custodian = rng.choice(self.slices["bank"].stop - self.slices["bank"].start, size=n, p=self.bank_share)
        custodian = custodian + self.slices["bank"].start
        custodian[self.slices["household"]] = np.arange(sc.banks.count) + self.slices["bank"].start
        custodian[reserve_holder] = np.flatnonzero(reserve_holder)
        self.ledger = Ledger(self.accounts, self.issues.capacity, reserve_holder, custodian)
        led = self.ledger

        # Opening coupons and marks: issues priced near par on the opening curve.
        self.curve = YieldCurve(sc.curve)
        self.rates = self.central_bank.administered_rates(self.today)
        years = self.issues.years_left(self.today)
        self.issues.coupon_pct[:] = np.where(self.issues.is_bill, 0.0, np.round(self._fundamental(years) * 8) / 8)
        self.issues.coupon_pct[~self.issues.active] = 0.0
        self.next_coupon_day = self.issues.issue_day + COUPON_PERIOD_DAYS
        while (behind := self.issues.active & (self.next_coupon_day <= self.today)).any():
            self.next_coupon_day[behind] += COUPON_PERIOD_DAYS
        self.premium_risk_use = sc.dealers.initial_risk_utilization
        self.reference_risk_use = sc.dealers.initial_risk_utilization
        self._mark_prices(initial=True)

        held = opening.allocate_holdings(sc, self.issues, self.today, self.shares, self.real_money_book.habitat_tilt)
        for kind in ("dealer", "real_money", "foreign_official", "levered_fund", "money_fund"):
            led.holdings_bn[self.slices[kind], : held[kind].shape[1]] = held[kind]
        led.holdings_bn[led.cb_row, : held["soma"].size] = held["soma"]

        # Money: banks' and bank dealers' reserves; investors' deposits.
        d = sc.dealers
        dealers = self.slices["dealer"]
        bank_d = self.desk.bank_affiliated
        value = led.securities_value_bn()
        dealer_reserves = np.where(
            bank_d, d.reserves_bn * self.desk.size_share / max(self.desk.size_share[bank_d].sum(), 1e-12), 0.0
        )
        dealer_money = np.where(bank_d, dealer_reserves, 0.01 * value[dealers])
        led.money_bn[dealers] = dealer_money
        self.dealer_money_target_bn = dealer_money.copy()
        led.money_bn[self.slices["bank"]] = sc.banks.reserves_bn * self.bank_share
        led.money_bn[self.slices["household"]] = 4.0 * sc.banks.reserves_bn * self.bank_share
        self.household_deposit_target_bn = led.money_bn[self.slices["household"]].copy()
        led.money_bn[self.slices["real_money"]] = sc.real_money.cash_bn * self.shares["real_money"]
        led.money_bn[self.slices["foreign_official"]] = sc.foreign_official.cash_bn * self.shares["foreign_official"]
        lf = self.slices["levered_fund"]
        lf_capital = sc.levered_funds.capital_bn * self.shares["levered_fund"]
        haircut = self.levered_book.haircut_share(1.0, 1.0)
        lf_borrowed = value[lf] * (1.0 - haircut)
        led.money_bn[lf] = lf_capital - value[lf] * haircut
        mmf = self.slices["money_fund"]
        mmf_assets = sc.money_funds.assets_bn * self.shares["money_fund"]
        on_rrp = sc.central_bank.on_rrp_start_bn * self.shares["money_fund"]
        mmf_free = np.maximum(mmf_assets - value[mmf] - on_rrp, 0.0)
        led.on_rrp_bn[mmf] = on_rrp

        # Yesterday's repo book: funds financed by their prime dealers; dealers by money
        # funds up to their free cash, banks the rest.
        rr = self.desk.size_share * lf_borrowed.sum()
        dealer_need = np.maximum(value[dealers] * (1 - d.funding_haircut_pct / 100) + rr, 0.0)
        from_funds = min(dealer_need.sum(), 0.97 * mmf_free.sum())
        mmf_lent = mmf_free * 0.97 * (from_funds / max(0.97 * mmf_free.sum(), 1e-12))
        led.money_bn[mmf] = mmf_free - mmf_lent
        banks = self.slices["bank"]
        bank_lent = (dealer_need.sum() - from_funds) * self.bank_share
        iorb, rrp_rate = self.rates["iorb"], self.rates["on_rrp"]
        # Interest due tomorrow at opening rates: funds' financing near IORB, money funds
        # a little above ON RRP, banks a little above IORB (act/360, per day).
        per_day = 1 / 36000
        lf_accounts = np.arange(lf.start, lf.stop)
        dealer_accounts = np.arange(dealers.start, dealers.stop)
        lenders = np.concatenate([np.arange(mmf.start, mmf.stop), np.arange(banks.start, banks.stop)])
        lent = np.concatenate([mmf_lent, bank_lent])
        rate = np.concatenate([np.full(mmf_lent.size, rrp_rate + 0.05), np.full(bank_lent.size, iorb + 0.03)])
        dealer_rate = float((lent * rate).sum() / max(lent.sum(), 1e-12))
        client_rate = dealer_rate + 0.03
        led.repo_borrowed_bn[lf_accounts] = lf_borrowed
        led.repo_interest_payable_bn[lf_accounts] = lf_borrowed * client_rate * per_day
        led.repo_lent_bn[dealer_accounts] = rr
        led.repo_interest_receivable_bn[dealer_accounts] = rr * client_rate * per_day
        led.repo_borrowed_bn[dealer_accounts] = dealer_need
        led.repo_interest_payable_bn[dealer_accounts] = dealer_need * dealer_rate * per_day
        led.repo_lent_bn[lenders] = lent
        led.repo_interest_receivable_bn[lenders] = lent * rate * per_day
        # Interest due must match across sides: book any rounding on the largest lender.
        gap = led.repo_interest_payable_bn.sum() - led.repo_interest_receivable_bn.sum()
        led.repo_interest_receivable_bn[lenders[int(lent.argmax())]] += gap

        # The central bank: SOMA at par; MBS and the rest as a fixed block.
        led.tga_bn = sc.treasury.tga_start_bn
        led.currency_bn = sc.central_bank.currency_bn
        led.cb_capital_bn = sc.central_bank.capital_bn
        liabilities = led.reserves_bn() + led.tga_bn + led.on_rrp_bn.sum() + led.currency_bn
        led.cb_other_assets_bn = liabilities + led.cb_capital_bn - led.soma_par_bn()

        # Dealers' fixed blocks: the rest of the bank sized so the markets business starts at
        # the scenario's utilization under today's rules (so an SLR exemption frees room from
        # the first day, as a rule change would); VaR limits so risk starts at its utilization.
        equity = d.equity_bn * self.desk.size_share
        long_value = np.maximum(led.holdings_bn[dealers], 0) @ led.price
        exposure = self.desk.market_exposure_bn(
            long_value, led.money_bn[dealers], led.repo_lent_bn[dealers], np.zeros(d.count), 0.0, exemptions=False
        )
        start_use = d.initial_utilization * np.exp(rng.normal(0.0, 0.08, d.count))
        start_use = np.clip(start_use, 0.05, 0.95)
        self.desk.other_assets_bn = np.maximum(self.desk.leverage_allowance_bn(equity) - exposure / start_use, 0.0)
        led.other_assets_bn[dealers] = self.desk.other_assets_bn
        dv01 = self._dealer_dv01_mn()
        self.desk.var_limit_mn = (
            sc.dealers.var_z * sc.curve.level_vol_calm_bp * np.abs(dv01) / d.initial_risk_utilization
        )
        self.desk.var_limit_mn = np.maximum(self.desk.var_limit_mn, 1e-6)
        # Equity: dealers' is their Tier 1 capital (other liabilities absorb the rest); banks'
        # is 8% of deposits; everyone else's is what they own net.
        gaps = led.balance_gaps_bn()
        led.other_liabilities_bn[dealers] = gaps[dealers] - equity
        deposits = led.deposits_owed_bn()[banks]
        bank_equity = 0.08 * deposits
        led.other_assets_bn[banks] = deposits + bank_equity - gaps[banks]
        led.equity_bn[:] = led.balance_gaps_bn()
        self.lf_capital0_bn = led.equity_bn[self.idx["levered_fund"]].copy()
        self.levered_book.reference_markup_bp = float(np.mean(self.desk.repo_markup_bp()))
        self._end_of_day_state(initial=True)

    # ================================================================== prices
    def _fundamental(self, years: np.ndarray) -> np.ndarray:
        cb = self.central_bank
        policy = expected_policy_pct(
            self.today, years, cb.change_days, cb.change_levels_pct, self.config.policy.target_upper_pct
        )
        short_anchor = policy - 0.17  # general collateral repo sits below the top of the range
        return self.curve.fundamental_pct(years, short_anchor)

    def _market_yield(self, years: np.ndarray) -> np.ndarray:
        """Market yields (%): fundamental plus dealers' duration premium (if that arrow is on)."""
        y = self._fundamental(years)
        if self.config.loop.inventory_premium:
            y = y + inventory_premium_bp(years, self.premium_risk_use, self.config.curve.inventory_premium_bp) / 100.0
        return y

    def _mark_prices(self, initial: bool = False) -> None:
        """Yields, prices and DV01s of every issue at today's market."""
        iss = self.issues
        years = iss.years_left(self.today)
        self.years_left = years
        self.issue_yield = self._market_yield(years)
        price = bond_price(self.issue_yield, iss.coupon_pct, years, iss.is_bill)
        self.dv01_per_par = np.where(iss.active, bond_dv01(self.issue_yield, iss.coupon_pct, years, iss.is_bill), 0.0)
        price = np.where(iss.active, price, 1.0)
        self._assign_buckets(years)
        if initial:
            self.ledger.price = price.copy()
        else:
            self.ledger.grow_slots(iss.capacity)
            self.ledger.revalue(price)

    def _dealer_dv01_mn(self) -> np.ndarray:
        """Net DV01 of each dealer ($mn per bp), including auction awards not yet settled.

        A dealer carries the rate risk of what it won from the auction day (when-issued),
        though the securities reach its balance sheet only on the issue date.
        """
        settled = self.ledger.holdings_bn[self.slices["dealer"]] @ self.dv01_per_par * 1000.0
        return settled + getattr(self, "when_issued_dv01_mn", 0.0)

    # ================================================================== the day
    def step(self) -> None:
        """One business day."""
        if self.day_index >= len(self.calendar):
            self.running = False
            return
        self.date = self.calendar.days[self.day_index]
        self.today = opening.day_number(self.date)
        self.equity_open = self.ledger.equity_bn.copy()
        self.flows = {"customer_bn": 0.0, "wanted_bn": 0.0, "settled_bn": 0.0}
        self._exogenous_updates()  # 1. curve, regime, TGA flows, coupons and maturities
        self._central_bank_operations()  # 2. purchases, buybacks
        self._auctions()  # 3. today's auctions; settle the ones issuing today
        self._secondary_market()  # 4. customer flow through dealers
        self._repo_market()  # 5. repo in intraday rounds
        self._settlement()  # 6. specials and fails
        self._end_of_day_state()  # 7. constraints, memory, data
        if self.day_index >= self.first_recorded_day:
            self.recorder.record_day(self)
        self.day_index += 1
        if self.day_index >= len(self.calendar):
            self.running = False

    def run(self, progress=None) -> TreasuryMarketModel:
        """Run every business day of the scenario; `progress(done, total, date)` is called daily."""
        total = len(self.calendar)
        while self.running and self.day_index < total:
            self.step()
            if progress is not None:
                progress(self.day_index, total, self.date)
        return self

    # ------------------------------------------------------------------ phase 1
    def _exogenous_updates(self) -> None:
        sc = self.config
        t = self.day_index
        shocks = self.shocks.today(t)
        self.today_shocks = shocks
        self.rates = self.central_bank.administered_rates(self.today)
        draws = self.curve_rng.standard_normal(2)
        regime = self.curve_rng.random()
        self.curve.step(draws, regime, shocks.risk_off, shocks.vol_multiplier)
        self._overnight_maturities()
        self._retire_matured()
        self._mark_prices()
        # Rate volatility as desks measure it: the 10-year's daily moves from the factors
        # that drive the whole curve (the dealers' own premium is a small part of them).
        self.curve.update_realised_vol(float(self._fundamental(np.array([10.0]))[0]))
        self._pay_coupons()
        # Fiscal flows through the TGA: outlays to households and investors, taxes from
        # households and money funds (corporate cash), currency drained from deposits.
        led = self.ledger
        h_share = sc.treasury.household_share_of_flows
        households = self.idx["household"]
        outlays = sc.treasury.daily_outlays_bn
        investors = {"real_money": 0.5, "money_fund": 0.35, "foreign_official": 0.15}
        accounts = [households] + [np.arange(self.slices[k].start, self.slices[k].stop) for k in investors]
        amounts = [outlays * h_share * self.bank_share] + [
            outlays * (1 - h_share) * w * self.shares[k] for k, w in investors.items()
        ]
        led.government_pays(np.concatenate(accounts), np.concatenate(amounts))
        receipts = self.treasury.receipts_bn(bool(self.calendar.is_tax_date[t]))
        mmf = self.idx["money_fund"]
        mmf_pay = np.minimum(
            receipts * (1 - h_share) * self.shares["money_fund"], np.maximum(led.money_bn[mmf] + led.on_rrp_bn[mmf], 0)
        )
        led.place_on_rrp(mmf, -np.minimum(led.on_rrp_bn[mmf], np.maximum(mmf_pay - led.money_bn[mmf], 0.0)))
        led.taxes_paid(
            np.concatenate([households, mmf]), np.concatenate([(receipts - mmf_pay.sum()) * self.bank_share, mmf_pay])
        )
        currency = led.currency_bn * sc.central_bank.currency_growth_pct_per_year / 100.0 / 252.0
        led.withdraw_currency(households, currency * self.bank_share)
        # Households' savings flow into funds: real-money investors and money funds grow.
        surplus = np.maximum(led.money_bn[households] - self.household_deposit_target_bn, 0.0).sum()
        inflow = surplus * sc.treasury.household_savings_to_funds_share
        if inflow > 0:
            rm = self.idx["real_money"]
            payees = np.concatenate([rm, mmf])
            received = np.concatenate(
                [0.6 * inflow * self.shares["real_money"], 0.4 * inflow * self.shares["money_fund"]]
            )
            paid = inflow * self.bank_share
            paid[-1] += received.sum() - paid.sum()  # equal totals to the last cent
            led.pay_pooled(households, paid, payees, received, income=True)

    def _overnight_maturities(self) -> None:
        """Yesterday's overnight repo, facility loans and ON RRP come due in the morning."""
        led = self.ledger
        rates = self.rates
        led.repo_close_all()
        for facility, book, rate in (
            ("srf", led.srf_bn, rates["srf"]),
            ("dw", led.discount_window_bn, rates["discount_window"]),
        ):
            owed = np.flatnonzero(book > 0)
            if owed.size:
                interest = book[owed] * self.facility_rate_yesterday.get(facility, rate) / 36000.0
                led.central_bank_lends(owed, -book[owed], facility)
                led.central_bank_interest(owed, interest)
        mmf = self.idx["money_fund"]
        led.place_on_rrp(mmf, -led.on_rrp_bn[mmf])

    def _retire_matured(self) -> None:
        iss = self.issues
        matured = np.flatnonzero(iss.active & (iss.maturity_day <= self.today))
        if matured.size == 0:
            return
        soma_par = self.ledger.mature(matured)
        self.central_bank.pending_reinvestment_bn += self.central_bank.reinvestment_bn(self.date.date(), soma_par)
        iss.outstanding_bn[matured] = 0.0
        iss.retire(matured)

    def _pay_coupons(self) -> None:
        iss = self.issues
        due = np.flatnonzero(iss.active & ~iss.is_bill & (self.next_coupon_day <= self.today))
        if due.size:
            self.ledger.pay_coupons(due, iss.coupon_pct[due] / 200.0)
            self.next_coupon_day[due] += COUPON_PERIOD_DAYS

    # ------------------------------------------------------------------ phase 2
    def _holders_of(self, kinds: tuple[str, ...]) -> np.ndarray:
        return np.concatenate([np.arange(self.slices[k].start, self.slices[k].stop) for k in kinds])

    def _take_pro_rata(
        self, rows: np.ndarray, bucket: int, amount_bn: float, long_only: bool = True, exclude_on_the_run: bool = False
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """Par to take from `rows` in a bucket, pro rata to their holdings: (rows, slots, par, taken)."""
        slots = np.flatnonzero(self.issues.active & (self.bucket == bucket))
        if exclude_on_the_run:
            slots = slots[~self.issues.on_the_run[slots]]
        if slots.size == 0 or amount_bn <= 0:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([]), 0.0
        held = self.ledger.holdings_bn[np.ix_(rows, slots)]
        if long_only:
            held = np.maximum(held, 0.0)
        total = held.sum()
        if total <= 0:
            return np.array([], dtype=np.int64), np.array([], dtype=np.int64), np.array([]), 0.0
        taken = min(amount_bn, total)
        par = held * (taken / total)
        r, s = np.nonzero(par > 0)
        return rows[r], slots[s], par[r, s], taken

    def _central_bank_operations(self) -> None:
        day = self.date.date()
        amounts = self.central_bank.purchases_today_bn(day)
        self.purchased_today_bn = 0.0
        if amounts.sum() > 0:
            nonbank_share = self.central_bank.nonbank_share_today(day)
            dealers = self._holders_of(("dealer",))
            nonbanks = self._holders_of(("real_money", "foreign_official", "money_fund"))
            for bucket in np.flatnonzero(amounts):
                want = float(amounts[bucket])
                # Dealers offer their share from inventory; the rest (and whatever dealers
                # lack) comes from non-bank investors through them.
                taken = 0.0
                for rows, ask in ((dealers, want * (1.0 - nonbank_share)), (nonbanks, None)):
                    r, s, par, got = self._take_pro_rata(rows, bucket, want - taken if ask is None else ask)
                    if got > 0:
                        self.ledger.central_bank_buys(r, s, par, self.ledger.price[s])
                        taken += got
                self.purchased_today_bn += taken
            self.central_bank.purchased_bn += self.purchased_today_bn
        # Liquidity-support buybacks, weekly on Wednesdays: off-the-run coupons, dealers first.
        buyback = self.treasury.buybacks_today_bn(self.date.weekday() == 2)
        if buyback > 0:
            coupon_buckets = [TENORS.index(t) for t in ("2y", "3y", "5y", "7y", "10y", "20y", "30y")]
            per_bucket = buyback / len(coupon_buckets)
            for bucket in coupon_buckets:
                left = per_bucket
                for kinds in (("dealer",), ("real_money",)):
                    r, s, par, taken = self._take_pro_rata(
                        self._holders_of(kinds), bucket, left, exclude_on_the_run=True
                    )
                    if taken > 0:
                        self.ledger.treasury_buys_back(r, s, par, self.ledger.price[s])
                        np.subtract.at(self.issues.outstanding_bn, s, par)
                        left -= taken
                    if left <= 1e-12:
                        break

    # ------------------------------------------------------------------ phase 3
    def _auctions(self) -> None:
        self.new_issues_today = False
        for award in self.pending_awards.pop(self.date, []):
            self._settle_award(award)
        if self.new_issues_today:
            self._refresh_buckets()  # new issues join their trading buckets, once for the day
        self._levered_fund_payouts()
        self._plan_levered_funds()
        for spec in self.calendar.auctions_on.get(self.date, []):
            self._hold_auction(spec)

    @staticmethod
    def _new_issue_dv01(tenor: str, years: float, yield_pct: float) -> float:
        """DV01 per $ par of an issue priced near par at its auction yield."""
        y = np.array([yield_pct])
        return float(bond_dv01(y, y, np.array([years]), np.array([tenor in BILL_TENORS]))[0])

    def _when_issued_dv01_mn(self) -> np.ndarray:
        """DV01 of dealers' awarded but unsettled auction positions ($mn per bp)."""
        total = np.zeros(self.config.dealers.count)
        for awards in self.pending_awards.values():
            for award in awards:
                total += award["dealer_dv01_mn"]
        return total

    def _refresh_buckets(self) -> None:
        iss = self.issues
        if self.next_coupon_day.size < iss.capacity:
            self.next_coupon_day = np.concatenate(
                [self.next_coupon_day, np.zeros(iss.capacity - self.next_coupon_day.size, dtype=np.int64)]
            )
        if self.bucket_onehot.shape[0] < iss.capacity or len(self.ledger.price) < iss.capacity:
            self.ledger.grow_slots(iss.capacity)
            self.dv01_per_par = np.concatenate([self.dv01_per_par, np.zeros(iss.capacity - self.dv01_per_par.size)])
            self.issue_yield = np.concatenate([self.issue_yield, np.zeros(iss.capacity - self.issue_yield.size)])
        years = iss.years_left(self.today)
        self.years_left = years
        self._assign_buckets(years)

    def _assign_buckets(self, years: np.ndarray) -> None:
        """Each live issue's trading bucket (nearest benchmark maturity) and the slot/bucket maps.

        Issues change bucket only when their remaining maturity crosses a boundary, so the
        maps are rebuilt only on the days something changed.
        """
        iss = self.issues
        bucket = bucket_of(np.maximum(years, 1e-3))
        key = np.where(iss.active, bucket, -1)
        previous = getattr(self, "_bucket_key", None)
        if previous is not None and previous.shape == key.shape and np.array_equal(previous, key):
            return
        self._bucket_key = key
        self.bucket = bucket
        self.bucket_onehot = np.zeros((iss.capacity, N_BUCKETS))
        self.bucket_onehot[np.flatnonzero(iss.active), bucket[iss.active]] = 1.0
        self.slot_of_bucket = np.ascontiguousarray(self.bucket_onehot.T)  # (buckets, slots) for spreading

    def _levered_fund_payouts(self) -> None:
        """Funds pay out capital above their opening level and raise it when below.

        Basis funds distribute their carry and their investors top them up after losses, so
        the trade's scale follows haircuts and financing, not the accumulation of its P&L.
        """
        lf = self.idx["levered_fund"]
        led = self.ledger
        excess = led.equity_bn[lf] - self.lf_capital0_bn
        payout = self.config.levered_funds.capital_payout_per_day * excess
        if np.abs(payout).sum() <= 0:
            return
        households = self.idx["household"]
        total = float(payout.sum())
        received = total * self.bank_share
        received[-1] += total - received.sum()
        led.pay_pooled(lf, payout, households, received, income=True)

    def _plan_levered_funds(self) -> None:
        """Levered funds decide today's buying and selling (value, $bn) from haircuts and vol."""
        lf = self.slices["levered_fund"]
        led = self.ledger
        haircut = self.levered_book.haircut_share(self.curve.vol_ratio, self.today_shocks.haircut_multiplier)
        self.lf_haircut = haircut
        markup = np.full(self.levered_book.size_share.size, float(self.desk.size_share @ self.desk.repo_markup_bp()))
        position = led.holdings_bn[lf] @ led.price
        self.lf_buys_bn, self.lf_sells_bn = self.levered_book.plan(
            led.equity_bn[lf], position, haircut, self.curve.vol_ratio, markup
        )

    def _hold_auction(self, spec) -> None:
        sc = self.config
        t = self.day_index
        led = self.ledger
        tenor = spec.tenor
        bucket = TENORS.index(tenor)
        slot = self.issues.on_the_run_slot(tenor) if spec.reopening else None
        years = self.years_left[slot] if slot is not None else TENOR_YEARS[tenor]
        wi = float(self._market_yield(np.array([years]))[0])
        offering = self.treasury.offering_bn(tenor, slot is not None, led.tga_bn, 0.0)
        if offering <= 0:
            return  # the scenario sized this auction at zero: it is not held
        shortfall = self.shocks.shortfall(t, tenor)
        vol_ratio = self.curve.vol_ratio
        liquidity_ratio = self.half_spread_today_bp / self.desk.reference_half_spread_bp
        n_d = sc.dealers.count
        # Primary dealers bid for their pro-rata share at WI plus a concession.
        concession = self.desk.auction_concession_bp(vol_ratio)
        dealer_y = wi + (concession[:, None] + DEALER_TRANCHES[None, :]) / 100.0
        dealer_amt = np.broadcast_to(offering / n_d * DEALER_TRANCHE_WEIGHTS, (n_d, DEALER_TRANCHES.size))
        rm = self.slices["real_money"]
        rm_i, rm_y, rm_amt = self.real_money_book.auction_bids(
            bucket, offering, wi, liquidity_ratio, shortfall, led.money_bn[rm]
        )
        fo = self.slices["foreign_official"]
        fo_i, fo_y, fo_amt = self.foreign_book.auction_bids(
            offering, wi, self.curve.risk_off, led.money_bn[fo], shortfall
        )
        lf = self.slices["levered_fund"]
        basis = tenor in ("2y", "3y", "5y", "7y", "10y")
        lf_i, lf_y, lf_amt = self.levered_book.auction_bids(offering, wi, self.lf_buys_bn * (1.0 - shortfall))
        lf_amt = lf_amt if basis else np.zeros_like(lf_amt)
        mmf = self.slices["money_fund"]
        mmf_bills = led.holdings_bn[mmf] @ (self.issues.is_bill * led.price)
        mmf_assets = np.maximum(led.money_bn[mmf] + led.on_rrp_bn[mmf] + led.repo_lent_bn[mmf] + mmf_bills, 1e-9)
        mm_i, mm_y, mm_amt = self.money_fund_book.bill_bids(offering, wi, mmf_bills, mmf_assets, led.money_bn[mmf])
        mm_amt = mm_amt * (1.0 - shortfall) if tenor in BILL_TENORS else np.zeros_like(mm_amt)
        rows = np.concatenate(
            [
                np.repeat(np.arange(n_d), DEALER_TRANCHES.size),
                rm.start + rm_i,
                fo.start + fo_i,
                lf.start + lf_i,
                mmf.start + mm_i,
            ]
        )
        yields = np.concatenate([dealer_y.ravel(), rm_y, fo_y, lf_y, mm_y])
        amounts = np.concatenate([dealer_amt.ravel(), rm_amt, fo_amt, lf_amt, mm_amt])
        # Bidders' idiosyncratic views of value (a fraction of a bp).
        yields = yields + self.auction_rng.normal(0.0, 0.002, yields.size)
        result = auction_market.clear_uniform_price(yields, amounts, offering)
        awards = np.bincount(rows, weights=result.awarded_bn, minlength=self.accounts.n_trading)
        dealer_award = float(awards[:n_d].sum())
        if not sc.loop.takedown_raises_utilization and dealer_award > 0:
            # Arrow off: dealers pass what they take down straight on to end investors.
            awards[rm] += dealer_award * self.shares["real_money"]
            awards[:n_d] = 0.0
        tail_bp = (result.high_yield_pct - wi) * 100.0
        self.real_money_book.remember_tail(bucket, tail_bp)
        self.lf_buys_bn = np.maximum(self.lf_buys_bn - awards[lf], 0.0)
        self.pending_awards.setdefault(spec.issue_date, []).append(
            {
                "tenor": tenor,
                "slot": slot,
                "awards": awards,
                "high": result.high_yield_pct,
                "maturity": spec.maturity,
                "dealer_dv01_mn": awards[:n_d] * self._new_issue_dv01(tenor, years, result.high_yield_pct) * 1000.0,
            }
        )
        if self.day_index < self.first_recorded_day:
            return  # a warm-up auction: simulated, not recorded
        indirect = awards[rm].sum() + awards[fo].sum()
        direct = awards[lf].sum() + awards[mmf].sum()
        self.recorder.record_auction(
            {
                "auction_date": self.date,
                "issue_date": spec.issue_date,
                "tenor": tenor,
                "security_type": "Bill" if tenor in BILL_TENORS else ("Bond" if tenor in ("20y", "30y") else "Note"),
                "offering_bn": offering,
                "wi_yield_pct": wi,
                "high_yield_pct": result.high_yield_pct,
                "median_yield_pct": result.median_yield_pct,
                "low_yield_pct": result.low_yield_pct,
                "tail_bp": tail_bp,
                "bid_to_cover": result.bid_to_cover,
                "dealer_share": dealer_award / offering,
                "direct_share": direct / offering,
                "indirect_share": indirect / offering,
            }
        )

    def _settle_award(self, award: dict) -> None:
        """Issue day: create or reopen the issue, winners pay the TGA, the SOMA rolls over."""
        iss = self.issues
        tenor = award["tenor"]
        slot = award["slot"]
        if slot is None or not iss.active[slot]:
            is_bill = tenor in BILL_TENORS
            coupon = 0.0 if is_bill else max(np.floor(award["high"] * 8.0) / 8.0, 0.125)
            slot = iss.add(tenor, self.today, opening.day_number(award["maturity"]), coupon)
            self.new_issues_today = True
            if slot >= self.dv01_per_par.size:
                self._refresh_buckets()  # the issue book grew: widen the per-slot arrays now
            self.next_coupon_day[slot] = self.today + COUPON_PERIOD_DAYS
        years = np.array([max(iss.maturity_day[slot] - self.today, 0) / 365.25])
        coupon = iss.coupon_pct[slot : slot + 1]
        is_bill = iss.is_bill[slot : slot + 1]
        mark_yield = self._market_yield(years)
        self.ledger.price[slot] = float(bond_price(mark_yield, coupon, years, is_bill)[0])
        self.issue_yield[slot] = float(mark_yield[0])
        self.dv01_per_par[slot] = float(bond_dv01(mark_yield, coupon, years, is_bill)[0])
        price = float(bond_price(np.array([award["high"]]), coupon, years, is_bill)[0])
        rows = np.flatnonzero(award["awards"] > 0)
        par = award["awards"][rows]
        cb = self.central_bank
        if tenor in BILL_TENORS and cb.pending_reinvestment_bn > 0:
            addon = min(cb.pending_reinvestment_bn, float(par.sum()))
            cb.pending_reinvestment_bn -= addon
            rows = np.append(rows, self.ledger.cb_row)
            par = np.append(par, addon)
        self.ledger.issue(rows, slot, par, price)
        iss.outstanding_bn[slot] += float(par.sum())
        self.flows["settled_bn"] += float(par.sum())

    # ------------------------------------------------------------------ phase 4
    def _secondary_market(self) -> None:
        sc = self.config
        led = self.ledger
        # Money funds hold bills to maturity: the secondary market is dealers, real money,
        # foreign officials and levered funds, the holder rows before the money funds.
        n_trading = self.slices["money_fund"].start
        n_d = sc.dealers.count
        holdings = led.holdings_bn[:n_trading]
        long_holdings = np.maximum(holdings, 0.0)
        long_by_bucket = long_holdings @ self.bucket_onehot
        shocks = self.today_shocks
        buys = np.zeros((n_trading, N_BUCKETS))
        sells = np.zeros((n_trading, N_BUCKETS))
        # Real money: rebalancing, buying duration dealers are stuck with, forced selling.
        rm = self.slices["real_money"]
        noise = self.flow_rng.standard_normal((rm.stop - rm.start, N_BUCKETS))
        dealer_books = holdings[:n_d] @ self.bucket_onehot
        dealer_by_bucket = dealer_books.sum(axis=0)
        # Dealers' normal book shrinks when they are strained; what lies above it is for sale.
        normal_book = (self.desk.size_share * self.desk.normal_book_share())[:, None] * self.dealer_reference_by_bucket[
            None, :
        ]
        excess_inventory = dealer_by_bucket - normal_book.sum(axis=0)
        excess_premium = inventory_premium_bp(
            BUCKET_YEARS, self.premium_risk_use - self.reference_risk_use, sc.curve.inventory_premium_bp
        )
        if not sc.loop.inventory_premium:
            excess_premium = np.zeros(N_BUCKETS)
        distribution = self.desk.distribution_concession_bp(self.curve.vol_ratio)
        excess_premium = excess_premium + float(distribution @ self.desk.size_share)
        forced = shocks.fund_selling_bn + (sc.real_money.selling_in_risk_off_bn if self.curve.risk_off else 0.0)
        buys[rm], sells[rm] = self.real_money_book.secondary_orders(
            noise, excess_premium, excess_inventory, long_by_bucket[rm], forced, led.money_bn[rm]
        )
        fo = self.slices["foreign_official"]
        sells[fo] = self.foreign_book.sales(self.curve.risk_off, shocks.foreign_selling_bn, long_by_bucket[fo])
        # Levered funds: sales pro rata to their positions, purchases across the basis tenors.
        lf = self.slices["levered_fund"]
        lf_value = np.maximum(long_by_bucket[lf], 0.0)
        share = lf_value / np.maximum(lf_value.sum(axis=1, keepdims=True), 1e-12)
        sells[lf] = np.minimum(self.lf_sells_bn[:, None] * share, lf_value)
        basis = np.zeros(N_BUCKETS)
        basis[[TENORS.index(t) for t in ("2y", "3y", "5y", "7y", "10y")]] = 0.2
        buys[lf] = self.lf_buys_bn[:, None] * basis[None, :]
        depth = self.desk.depth_bn(self.curve.vol_ratio)[:, None] * self.bucket_depth_share[None, :]
        flow = secondary.match_customer_flow(
            buys.sum(axis=0), sells.sum(axis=0), depth, dealer_books - normal_book, sc.market_structure.all_to_all_share
        )
        buy_filled = buys * flow.buy_fill_share[None, :]
        sell_filled = sells * flow.sell_fill_share[None, :]
        # All-to-all: other real-money investors' latent interest meets the rest.
        if flow.all_to_all_bn.sum() > 0:
            net_buying = buys.sum(axis=0) > sells.sum(axis=0)
            rm_hold = long_by_bucket[rm] / np.maximum(long_by_bucket[rm].sum(axis=0, keepdims=True), 1e-12)
            rm_size = self.shares["real_money"][:, None]
            sell_filled[rm] += np.where(net_buying, flow.all_to_all_bn, 0.0)[None, :] * rm_hold
            buy_filled[rm] += np.where(net_buying, 0.0, flow.all_to_all_bn)[None, :] * rm_size
            sell_filled[rm] = np.minimum(sell_filled[rm], long_by_bucket[rm])
        buy_filled[:n_d] += np.maximum(flow.dealer_absorb_bn, 0.0)
        sell_filled[:n_d] += np.maximum(-flow.dealer_absorb_bn, 0.0)
        delta, cash = self._settle_bucket_trades(long_holdings, long_by_bucket, buy_filled, sell_filled, n_d)
        led.trade(delta, cash, n_rows=n_trading)
        customer = float(buy_filled[n_d:].sum() + sell_filled[n_d:].sum())
        self.flows["customer_bn"] = customer
        self.flows["wanted_bn"] = flow.wanted_bn
        self.flows["market_depth_bn"] = float(depth.sum())
        self._cover_shorts()

    def _settle_bucket_trades(self, long_holdings, long_by_bucket, buy_filled, sell_filled, n_d):
        """Turn bucket-level fills into issue-level deliveries and cash.

        Sellers deliver pro rata across their holdings in the bucket; dealers selling more
        than they hold go short the bucket's most liquid issue; buyers receive the pooled
        deliveries pro rata. Customers pay the dealers' half-spread on both sides.
        """
        sell_share = np.divide(sell_filled, long_by_bucket, out=np.zeros_like(sell_filled), where=long_by_bucket > 0)
        sell_share = np.minimum(sell_share, 1.0)
        delivered = long_holdings * (sell_share @ self.slot_of_bucket)  # by slot; retired slots hold nothing
        # Dealers' sales beyond their longs are short sales of the bucket's benchmark issue.
        dealer_short = np.maximum(sell_filled[:n_d] - long_by_bucket[:n_d], 0.0)
        if dealer_short.sum() > 0:
            benchmark = self._benchmark_slots()
            ok = benchmark >= 0
            np.add.at(delivered[:n_d], (slice(None), benchmark[ok]), dealer_short[:, ok])
        pool = delivered.sum(axis=0)
        buy_total = buy_filled.sum(axis=0)
        buy_share = np.divide(buy_filled, buy_total, out=np.zeros_like(buy_filled), where=buy_total > 0)
        received = pool[None, :] * (buy_share @ self.slot_of_bucket)
        # Pooled deliveries with no buyer (numerical dust) stay with the sellers.
        orphan = (buy_total[self.bucket] <= 0) & (pool > 0)
        if orphan.any():
            delivered[:, orphan] = 0.0
            received[:, orphan] = 0.0
        delta = received - delivered
        price = self.ledger.price
        spread = self.half_spread_today_bp * self.dv01_per_par
        customers = slice(n_d, None)
        cash = np.zeros(delta.shape[0])
        cash[customers] = -(received[customers] @ (price + spread)) + delivered[customers] @ (price - spread)
        revenue = float((received[customers] @ spread).sum() + (delivered[customers] @ spread).sum())
        depth_share = self.desk.size_share
        cash[:n_d] = -(delta[:n_d] @ price) + revenue * depth_share
        # Exact zero-sum: any rounding is absorbed by the largest dealer.
        cash[int(np.argmax(depth_share))] -= cash.sum()
        return delta, cash

    def _benchmark_slots(self) -> np.ndarray:
        """For each bucket, the live issue with the most outstanding (-1 if none)."""
        live = np.flatnonzero(self.issues.active)
        if live.size == 0:
            return np.full(N_BUCKETS, -1)
        weight = self.issues.outstanding_bn[live] + 1e-6 * self.issues.issue_day[live] / 1e5
        bucket = self.bucket[live]
        # Sorted by bucket, then weight, then slot descending: each bucket's last entry is its
        # heaviest issue, the lowest slot among equals (as a first-index argmax would pick).
        order = np.lexsort((-live, weight, bucket))
        last = np.searchsorted(bucket[order], np.arange(N_BUCKETS), side="right") - 1
        found = (last >= 0) & (bucket[order][np.maximum(last, 0)] == np.arange(N_BUCKETS))
        return np.where(found, live[order][np.maximum(last, 0)], -1)

    def _cover_shorts(self) -> None:
        """Dealers buy back a share of their shorts from real-money holders of each issue."""
        n_d = self.config.dealers.count
        led = self.ledger
        slots = np.flatnonzero((led.holdings_bn[:n_d] < 0).any(axis=0))
        if slots.size == 0:
            return
        shorts = np.maximum(-led.holdings_bn[:n_d, slots], 0.0)
        rm = self.slices["real_money"]
        rm_long = np.maximum(led.holdings_bn[rm, slots], 0.0)
        available = rm_long.sum(axis=0)
        # Cover a share of each short, drawing at most half of what real money holds of the issue.
        short_total = shorts.sum(axis=0)
        cap = 0.5 * available[None, :] * shorts / np.maximum(short_total, 1e-12)
        cover = np.minimum(shorts * self.config.dealers.short_cover_share_per_day, cap)
        covered = cover.sum(axis=0)
        delta = np.zeros((self.accounts.n_trading, slots.size))
        delta[:n_d] = cover
        delta[rm] = -rm_long * np.divide(covered, available, out=np.zeros_like(covered), where=available > 0)[None, :]
        cash = -(delta @ led.price[slots])
        cash[int(np.argmax(np.abs(cash)))] -= cash.sum()
        led.trade(delta, cash, slots)

    # ------------------------------------------------------------------ phase 5
    def _repo_market(self) -> None:
        sc = self.config
        led = self.ledger
        rates = self.rates
        cb = sc.central_bank
        mmf = self.idx["money_fund"]
        n_d = sc.dealers.count
        dealers = np.arange(n_d)
        quarter_end = bool(self.calendar.is_quarter_end[self.day_index])
        # Levered funds' financing from their prime dealers, capped by haircuts and by what
        # the dealer's balance sheet takes.
        lf = self.idx["levered_fund"]
        lf_collateral = np.maximum(led.holdings_bn[lf] @ led.price, 0.0)
        lf_want = np.clip(-led.money_bn[lf] + 0.005 * lf_collateral, 0.0, lf_collateral * (1.0 - self.lf_haircut))
        # Funds spread their financing over the dealers by size (several prime brokers each).
        wanted_by_dealer = self.desk.size_share * lf_want.sum()
        capacity = self.desk.client_financing_capacity_bn(wanted_by_dealer, self.slr_headroom_bn)
        granted_share = np.divide(
            np.minimum(capacity, wanted_by_dealer), wanted_by_dealer, out=np.ones(n_d), where=wanted_by_dealer > 0
        )
        financing = lf_want[:, None] * (self.desk.size_share * granted_share)[None, :]
        lf_lent = financing.sum(axis=1)
        client_lent = financing.sum(axis=0)
        # Dealers' need: bring their cash back to its target after lending to clients. Private
        # lenders fund at most the collateral's value less their haircut.
        need = np.maximum(self.dealer_money_target_bn - (led.money_bn[dealers] - client_lent), 0.0)
        haircut = self.desk.funding_haircut(self.curve.vol_ratio)
        long_value = np.maximum(led.holdings_bn[dealers], 0.0) @ led.price
        client_collateral = client_lent / max(1.0 - self.lf_haircut, 1e-9)
        self.funding_capacity_bn = (1.0 - haircut) * (long_value + client_collateral)
        private_need = np.minimum(need, self.funding_capacity_bn)
        self.desk.funded_share = np.divide(private_need, need, out=np.ones(n_d), where=need > 0)
        # Dealers pay up to their outside options: the SRF (with its stigma, less the balance
        # sheet it saves when centrally cleared) and the discount window (with its stigma).
        max_rate = min(
            rates["iorb"] + sc.repo.max_rate_above_iorb_bp / 100.0,
            rates["discount_window"] + cb.discount_window_stigma_bp / 100.0,
        )
        if cb.srf.enabled:
            cleared_saving = (
                float(self.desk.size_share @ self.desk.repo_markup_bp()) if cb.srf.centrally_cleared else 0.0
            )
            max_rate = min(max_rate, rates["srf"] + max(cb.srf.stigma_bp - cleared_saving, 0.0) / 100.0)
        # Lenders: money funds (capped per dealer) and banks' reserve managers.
        mmf_ask, mmf_cash = self.money_fund_book.repo_tranches(led.money_bn[mmf], rates["on_rrp"])
        mmf_assets = float((led.money_bn[mmf] + led.holdings_bn[mmf] @ led.price).sum())
        cap = self.money_fund_book.dealer_limit_bn(mmf_assets, self.today_shocks.funding_pullback_share)
        cap = np.full(n_d, cap)
        if quarter_end:
            cap = cap * np.where(self.desk.window_dresser, 1.0 - sc.dealers.quarter_end_shrink_share, 1.0)
        banks = self.idx["bank"]
        self._redistribute_reserves(banks)
        bank_i, bank_ask, bank_amt = self.reserve_desk.repo_tranches(led.money_bn[banks], rates["iorb"])
        rounds = sc.repo.rounds_per_day
        noise_round = self.repo_rng.normal(0.0, sc.repo.round_noise_bp / 100.0, rounds)
        noise_mmf = self.repo_rng.normal(0.0, sc.repo.trade_noise_bp / 100.0, (rounds, mmf.size))
        noise_bank = self.repo_rng.normal(0.0, sc.repo.trade_noise_bp / 100.0, (rounds, bank_ask.size))
        mmf_left, bank_left, need_left = mmf_cash.copy(), bank_amt.copy(), private_need.copy()
        bank_order = repo_market.eligible_order(bank_ask, max_rate)
        mmf_fill_total, bank_fill_total = np.zeros(mmf.size), np.zeros(bank_ask.size)
        mmf_interest, bank_interest = np.zeros(mmf.size), np.zeros(bank_ask.size)
        dealer_fill, dealer_interest = np.zeros(n_d), np.zeros(n_d)
        trade_rates, trade_volumes = [], []
        theta = sc.repo.bargaining_share
        discount = sc.repo.tri_party_discount_bp / 100.0
        for r in range(rounds):
            bring = need_left / (rounds - r)
            # Tri-party first: funds are the cheapest cash, up to their limits per dealer.
            # Funds all ask the same rate, so they lend pro rata to the cash they have left.
            from_funds = np.minimum(bring, cap)
            fund_supply, fund_demand = float(mmf_left.sum()), float(from_funds.sum())
            taken = min(fund_supply, fund_demand)
            mmf_fill = mmf_left * (taken / fund_supply) if fund_supply > 0 else np.zeros_like(mmf_left)
            got = from_funds * (taken / fund_demand) if fund_demand > 0 else np.zeros(n_d)
            cap = cap - got
            rest = bring - got
            # Banks lend what the funds could not, if anything is left to fund this round.
            bank_fill = None
            if float(rest.sum()) > 0:
                bank_round = repo_market.clear_round(
                    bank_ask, bank_left, rest, max_rate, theta, noise_bank[r], noise_round[r], bank_order
                )
                if bank_round.tranche_fill_bn.sum() > 0:
                    bank_fill, bank_rate = bank_round.tranche_fill_bn, bank_round.tranche_rate_pct
            marginal = bank_round.marginal_rate_pct if bank_fill is not None else float(mmf_ask.max())
            # Funds share in the gap to the day's marginal cash, less the tri-party discount.
            mmf_rate = mmf_ask + theta * np.maximum(marginal + noise_round[r] - discount - mmf_ask, 0.0) + noise_mmf[r]
            mmf_rate = np.minimum(np.maximum(mmf_rate, mmf_ask), max_rate)
            mmf_left -= mmf_fill
            mmf_fill_total += mmf_fill
            mmf_interest += mmf_fill * mmf_rate / 36000.0
            trade_rates.append(mmf_rate)
            trade_volumes.append(mmf_fill)
            round_interest = float(mmf_fill @ mmf_rate)
            got_total = got
            if bank_fill is not None:
                bank_left -= bank_fill
                bank_fill_total += bank_fill
                bank_interest += bank_fill * bank_rate / 36000.0
                trade_rates.append(bank_rate)
                trade_volumes.append(bank_fill)
                round_interest += float(bank_fill @ bank_rate)
                got_total = got + bank_round.borrower_fill_bn
            # Borrowers pay what their lenders receive, pro rata to what each got.
            dealer_fill += got_total
            total_got = float(got_total.sum())
            if total_got > 0:
                dealer_interest += (round_interest / 36000.0) * (got_total / total_got)
            need_left = need_left - got_total
        # What the market would not lend below the dealers' limit, or against their collateral:
        # SRF, then the window.
        need_left = need_left + (need - private_need)
        srf_used = np.zeros(n_d)
        if cb.srf.enabled and need_left.sum() > 0:
            srf_used = need_left * min(1.0, cb.srf.daily_limit_bn / need_left.sum())
            led.central_bank_lends(dealers, srf_used, "srf")
        window = np.maximum(need_left - srf_used, 0.0)
        if window.sum() > 0:
            led.central_bank_lends(dealers, window, "dw")
        self.facility_rate_yesterday = {"srf": rates["srf"], "dw": rates["discount_window"]}
        self.srf_usage_bn = float(srf_used.sum())
        self.discount_window_bn = float(window.sum())
        # Open the day's trades with the interest due tomorrow.
        lenders = np.concatenate([mmf, banks[bank_i]])
        lent = np.concatenate([mmf_fill_total, bank_fill_total])
        receivable = np.concatenate([mmf_interest, bank_interest])
        receivable[int(np.argmax(lent))] += dealer_interest.sum() - receivable.sum()
        led.repo_open(lenders, lent, receivable, dealers, dealer_fill, dealer_interest)
        # Dealers finance their clients at their own average cost plus a balance-sheet markup.
        dealer_cost = np.divide(
            dealer_interest * 36000.0, dealer_fill, out=np.full(n_d, rates["iorb"]), where=dealer_fill > 0
        )
        client_rate = dealer_cost + self.desk.repo_markup_bp() / 100.0
        interest = financing * client_rate[None, :] / 36000.0
        led.repo_open(dealers, client_lent, interest.sum(axis=0), lf, lf_lent, interest.sum(axis=1))
        trade_rates.append(np.broadcast_to(client_rate[None, :], financing.shape).ravel())
        trade_volumes.append(financing.ravel())
        # Money funds park what no dealer took at the ON RRP facility.
        led.place_on_rrp(mmf, np.maximum(led.money_bn[mmf] * 0.98, 0.0))
        rates_all, volumes_all = np.concatenate(trade_rates), np.concatenate(trade_volumes)
        percentiles = repo_market.volume_weighted_percentiles(rates_all, volumes_all, PERCENTILES)
        # With no trades, the previous day's percentiles stand (the publication's fallback).
        if np.isfinite(percentiles).all():
            self.repo_percentiles = percentiles
        self.repo_volume_bn = float(volumes_all.sum())
        self.repo_intermediated_bn = float(lf_lent.sum())
        self.lf_unfunded_bn = float((lf_want - lf_lent).sum())

    def _redistribute_reserves(self, banks: np.ndarray) -> None:
        """Overnight interbank (fed funds) loans spread reserves in proportion to banks' comfort levels.

        Payments scatter reserves across banks; banks long of their comfortable share lend
        the surplus to banks short of it, so each bank's reserves relative to its lowest
        comfortable level follow the system's. Loans are unsecured (not in the repo
        percentiles), priced a little below IORB, and repaid the next morning.
        """
        led = self.ledger
        reserves = led.money_bn[banks]
        comfortable = self.reserve_desk.lowest_comfortable_bn
        target = comfortable * (reserves.sum() / comfortable.sum())
        surplus = reserves - target
        lenders, borrowers = surplus > 0, surplus < 0
        if not lenders.any() or not borrowers.any():
            return
        lent, borrowed = surplus[lenders], -surplus[borrowers]
        borrowed = borrowed * (lent.sum() / borrowed.sum())  # equal totals up to rounding
        rate = self.rates["iorb"] - 0.07
        interest_paid = borrowed * rate / 36000.0
        interest_received = lent * (interest_paid.sum() / lent.sum())
        led.repo_open(banks[lenders], lent, interest_received, banks[borrowers], borrowed, interest_paid)

    # ------------------------------------------------------------------ phase 6
    def _settlement(self) -> None:
        sc = self.config
        led = self.ledger
        n_d = sc.dealers.count
        rm = self.slices["real_money"]
        shorts = np.maximum(-led.holdings_bn[:n_d], 0.0)
        dealer_short_by_issue = shorts.sum(axis=0)
        client_short = self._client_shorts_bn()
        short_by_issue = dealer_short_by_issue + client_short
        lendable = sc.real_money.lendable_share * np.maximum(led.holdings_bn[rm], 0.0).sum(axis=0)
        lendable = lendable + self.central_bank.lendable_from_soma_bn(led.holdings_bn[led.cb_row])
        special = settlement.specialness_bp(
            short_by_issue, lendable, sc.settlement.special_max_bp, sc.settlement.specials_exponent
        )
        self.specialness_bp = special
        charge = settlement.fails_charge_pct(
            self.central_bank.target_upper_pct(self.today) - 0.125, sc.settlement.fails_charge
        )
        general_collateral = (
            float(self.repo_percentiles[2]) if np.isfinite(self.repo_percentiles[2]) else self.rates["on_rrp"]
        )
        unsourced, strategic = settlement.fails_by_issue(short_by_issue, lendable, special, general_collateral, charge)
        ms = sc.market_structure
        friction = sc.settlement.operational_friction * (
            1.0 - (ms.clearing_friction_cut if ms.central_clearing_cash else 0.0)
        )
        operational = (
            friction * (self.flows["customer_bn"] + self.flows["settled_bn"]) * self.today_shocks.settlement_multiplier
        )
        chain = sc.settlement.daisy_chain_share * self.fails_bn
        self.fails_bn = float(unsourced.sum() + strategic.sum() + operational + chain)
        # Short sellers failing owe the fails charge to the real-money buyers: dealers on their
        # shorts, levered funds on theirs, each in proportion to its share of the issue's shorts.
        short_fails = unsourced + strategic
        total = np.maximum(short_by_issue, 1e-12)
        dealer_penalty = (short_fails * shorts / total).sum(axis=1) * charge / 36000.0
        client_penalty = float((short_fails * client_short / total).sum()) * charge / 36000.0
        if dealer_penalty.sum() + client_penalty > 0:
            lf = self.idx["levered_fund"]
            payers = np.concatenate([np.arange(n_d), lf])
            paid = np.concatenate([dealer_penalty, client_penalty * self.shares["levered_fund"]])
            received = paid.sum() * self.shares["real_money"]
            received[-1] += paid.sum() - received.sum()
            led.pay_pooled(payers, paid, np.arange(rm.start, rm.stop), received, income=True)

    def _client_shorts_bn(self) -> np.ndarray:
        """Funds' short positions by issue slot ($bn): a share of each coupon benchmark's outstanding,
        scaled by volatility relative to calm (hedging demand rises with it, up to threefold).

        They are borrowed-and-sold securities: the lenders keep them on their books (the ledger
        is unchanged); the shorts press on lendable supply and may fail like dealers' shorts.
        """
        client_short = np.zeros(self.issues.outstanding_bn.size)
        share = self.config.settlement.client_short_share
        if share > 0:
            benchmark = self._benchmark_slots()[~BILL_BUCKETS]
            benchmark = benchmark[benchmark >= 0]
            hedging = min(max(self.curve.vol_ratio, 0.0), 3.0)
            client_short[benchmark] = share * hedging * self.issues.outstanding_bn[benchmark]
        return client_short

    # ------------------------------------------------------------------ phase 7
    def _end_of_day_state(self, initial: bool = False) -> None:
        sc = self.config
        led = self.ledger
        n_d = sc.dealers.count
        dealers = slice(0, n_d)
        if initial:
            self.fails_bn = 0.0
            self.srf_usage_bn = 0.0
            self.discount_window_bn = 0.0
            self.facility_rate_yesterday = {}
            self.repo_percentiles = np.full(5, self.rates["on_rrp"])
            self.bucket_depth_share = np.clip(
                1.0 / np.maximum(BUCKET_YEARS / (1 + 0.02 * BUCKET_YEARS) / 8.33, 0.25), 1.0, 3.0
            )
            self.bucket_depth_share = self.bucket_depth_share / self.bucket_depth_share.sum()
        long_value = np.maximum(led.holdings_bn[dealers], 0.0) @ led.price
        if initial:
            client_collateral = led.repo_lent_bn[dealers] / (1.0 - self.levered_book.haircut_share(1.0, 1.0))
            self.funding_capacity_bn = (1.0 - self.desk.funding_haircut(1.0)) * (long_value + client_collateral)
        self.when_issued_dv01_mn = self._when_issued_dv01_mn()
        ms = sc.market_structure
        cleared = led.repo_borrowed_bn[dealers] if ms.central_clearing_repo else np.zeros(n_d)
        if sc.central_bank.srf.centrally_cleared:
            cleared = cleared + led.srf_bn[dealers]
        exposure = self.desk.market_exposure_bn(
            long_value, led.money_bn[dealers], led.repo_lent_bn[dealers], cleared, ms.netting_efficiency
        )
        self.funding_headroom_bn = self.funding_capacity_bn - led.repo_borrowed_bn[dealers]
        dv01 = self._dealer_dv01_mn()
        flags = self.calendar.is_quarter_end
        quarter_end = (not initial) and bool(flags[self.day_index])
        self.constraints = self.desk.constraints(
            led.equity_bn[dealers], exposure, dv01, self.curve.realised_vol_bp, quarter_end
        )
        # Tomorrow's quotes, depth and client financing are set for tomorrow's balance-sheet
        # snapshot: window-dressers shrink into a quarter-end, not on the day after it. Today's
        # constraints (recorded) keep today's snapshot.
        next_index = self.day_index + (0 if initial else 1)
        quarter_end_next = next_index < len(flags) and bool(flags[next_index])
        decisions = self.constraints
        if quarter_end_next != quarter_end:
            decisions = self.desk.constraints(
                led.equity_bn[dealers], exposure, dv01, self.curve.realised_vol_bp, quarter_end_next
            )
        self.slr_headroom_bn = decisions.slr_headroom_bn
        self.dealer_dv01_mn = dv01
        if not initial:
            self.desk.update_appetite(led.equity_bn[dealers] - self.equity_open[dealers], led.equity_bn[dealers])
        var = sc.dealers.var_z * self.curve.realised_vol_bp * np.abs(dv01)
        risk_use = float(var.sum() / np.maximum(self.desk.var_limit_mn * self.desk.appetite, 1e-9).sum())
        self.premium_risk_use = risk_use if sc.loop.inventory_premium else self.reference_risk_use
        half = self.desk.half_spread_bp(self.curve.vol_ratio)
        # The market's quote: dealers' half-spreads weighted by their size in the community.
        self.half_spread_today_bp = float(half @ self.desk.size_share)
        if initial:
            self.desk.reference_half_spread_bp = self.half_spread_today_bp
            self.dealer_reference_by_bucket = (led.holdings_bn[dealers] @ self.bucket_onehot).sum(axis=0)

    # ================================================================== output
    def results(self) -> dict[str, pd.DataFrame]:
        """The output tables: `daily`, `auctions` and `dealers` (see OUTPUTS.md for columns)."""
        return self.recorder.tables(self)

    def accounting_gaps(self) -> dict[str, float]:
        """Largest relative violations of the accounting invariants now (all ~0 when exact).

        securities: |outstanding - sum of all holders' positions| / outstanding, worst issue
            (retired issues must be held by no one).
        balance_sheets: |assets - liabilities - equity| / gross assets, worst account.
        central_bank: |assets - liabilities - capital| / assets.
        """
        led = self.ledger
        iss = self.issues
        held = led.holdings_bn.sum(axis=0)[: iss.capacity]
        scale = np.maximum(np.where(iss.active, iss.outstanding_bn, 0.0), 1.0)
        securities = np.abs(
            np.where(iss.active, iss.outstanding_bn - held, np.abs(led.holdings_bn).sum(axis=0)[: iss.capacity])
        )
        cb_assets = led.soma_par_bn() + led.cb_other_assets_bn + led.srf_bn.sum() + led.discount_window_bn.sum()
        return {
            "securities": float((securities / scale).max()),
            "balance_sheets": float((np.abs(led.balance_gaps_bn()) / np.maximum(led.total_assets_bn(), 1.0)).max()),
            "central_bank": abs(led.central_bank_gap_bn()) / max(cb_assets, 1.0),
        }

    def has_non_finite_state(self) -> bool:
        """True if any balance, position, price or rate is NaN or infinite."""
        led = self.ledger
        arrays = [
            led.holdings_bn,
            led.price,
            led.money_bn,
            led.equity_bn,
            led.repo_lent_bn,
            led.repo_borrowed_bn,
            led.on_rrp_bn,
            led.srf_bn,
            self.issues.outstanding_bn,
            self.repo_percentiles,
            self.desk.utilization,
            self.desk.appetite,
        ]
        scalars = [led.tga_bn, led.currency_bn, led.cb_capital_bn, self.fails_bn, self.curve.realised_vol_bp]
        return not (all(np.isfinite(a).all() for a in arrays) and np.isfinite(scalars).all())
