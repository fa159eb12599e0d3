"""The Treasury market model: one step is one business day in the order of the plumbing.

Phases (DESIGN.md section 6): exogenous updates, central-bank operations, auctions,
secondary cash market, repo in intraday rounds, settlement and fails, end of day. This
module only builds the market and orders the day: populations decide (`sim.agents`),
markets clear (`sim.markets`), the ledger keeps exact books (`sim.ledger`).
"""

from __future__ import annotations

from collections.abc import Callable

import mesa
import numpy as np
import pandas as pd

from sim import opening
from sim.agents.bank import Banks
from sim.agents.central_bank import CentralBank
from sim.agents.dealer import Dealers
from sim.agents.foreign_official import ForeignOfficials
from sim.agents.levered_fund import LeveredFunds
from sim.agents.money_fund import MoneyFunds
from sim.agents.real_money import RealMoneyInvestors
from sim.agents.treasury import Treasury
from sim.calendar import business_days_before, day_number, market_calendar
from sim.ledger import KINDS, AccountMap
from sim.loop import CalmPath, arrows_off
from sim.markets.auction import TreasuryAuctions, auction_day
from sim.markets.prices import MarketPrices
from sim.markets.repo import close_overnight_positions, repo_day
from sim.markets.secondary import secondary_day
from sim.markets.settlement import settlement_day
from sim.pricing import YieldCurve
from sim.recorder import Recorder
from sim.scenario.schema import LoopSwitches, Scenario
from sim.shocks import ShockSchedule
from sim.state import DayFlows, MarketState
from sim.threads import pin_thread_pools


def calm_path_for(scenario: Scenario, seed: int) -> CalmPath:
    """The inputs a run's loop arrows carry: passed through when every arrow is on; else the calm
    twin is run first (same scenario and seed, no shocks, every arrow on) and its path kept."""
    if not arrows_off(scenario.loop):
        return CalmPath(scenario.loop)
    twin = scenario.model_copy(update={"shocks": [], "loop": LoopSwitches()})
    recording = CalmPath(twin.loop, record=True)
    TreasuryMarketModel(twin, seed=seed, calm=recording).run()
    return CalmPath(scenario.loop, recording.paths)


class TreasuryMarketModel(mesa.Model):
    """Agent-based model of the US Treasury market's plumbing.

    Args:
        scenario: a validated `Scenario` (see `sim.scenario.load_scenario`).
        seed: random seed; the same scenario and seed give identical results.
        calm: what the loop's arrows carry (`sim.loop`); by default built for the scenario,
            running its calm twin first when an arrow is switched off.

    After `run()` (or repeated `step()`), `results()` returns the daily, auctions and
    dealers tables of the output contract. Each institution is a Mesa agent
    (`agents_by_type`), a view onto its population's arrays (`dealers`, `banks`, ...).
    """

    def __init__(self, scenario: Scenario, seed: int = 0, calm: CalmPath | None = None):
        pin_thread_pools()
        super().__init__(rng=seed)
        sc = scenario
        self.config = sc
        self.seed = seed
        # A warm-up before start_date lets the opening balance sheets settle; it is simulated
        # like any other day but not recorded.
        first_day = business_days_before(sc.start_date, sc.warmup_business_days)
        self.calendar = market_calendar(first_day, sc.end_date)
        self.first_recorded_day = int(self.calendar.days.searchsorted(pd.Timestamp(sc.start_date)))
        self.day_index = 0
        self.date: pd.Timestamp = self.calendar.dates[0]
        self.today = day_number(self.date)
        self.shocks = ShockSchedule(sc.shocks, self.calendar.days)
        # What the loop's arrows carry; an arrow switched off follows its calm twin's path.
        self.calm = calm if calm is not None else calm_path_for(sc, seed)
        # Independent random streams per mechanism, so that a change in one part of the
        # market does not shift the draws of another (common random numbers). Spawned
        # streams depend only on their position, so a stream added last leaves the others.
        streams = self.rng.spawn(6)
        self.curve_rng, self.auction_rng, self.flow_rng, self.repo_rng, self.setup_rng = streams[:5]
        self.fails_rng = streams[5]  # operational fails shocks by issue
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
        self._accounts_by_kind = {k: np.arange(sl.start, sl.stop) for k, sl in self.slices.items()}
        # Populations (state and decisions) and their Mesa agents.
        populations = opening.build_populations(self)
        self.dealers: Dealers = populations.dealers
        self.real_money: RealMoneyInvestors = populations.real_money
        self.foreign_official: ForeignOfficials = populations.foreign_official
        self.levered_funds: LeveredFunds = populations.levered_funds
        self.money_funds: MoneyFunds = populations.money_funds
        self.banks: Banks = populations.banks
        self.dealers.calm = self.calm
        self.central_bank = CentralBank(self, sc.policy, sc.central_bank, (sc.start_date, sc.end_date))
        self.treasury = Treasury(self, sc.treasury)
        # Markets and shared state.
        self.curve = YieldCurve(sc.curve)
        self.prices = MarketPrices(sc, self.curve, self.central_bank)
        self.issues = opening.open_issue_register(self, self.date)
        self.ledger = opening.open_ledger(self)
        self.auctions = TreasuryAuctions(scenario.treasury.when_issued_memory)
        rates = self.central_bank.administered_rates(self.today)
        self.market = MarketState(rates=rates, shocks=self.shocks.today(0))
        self.flows = DayFlows()
        self.household_deposit_target_bn = np.zeros(sc.banks.count)
        self.equity_open = np.zeros(self.accounts.n_accounts)
        # Scales of the balance-sheet checks: the largest balances involved on any day
        # checked so far, at least $1bn (see `accounting_gaps`).
        self.accounting_scale_bn = np.ones(self.accounts.n_accounts)
        self.central_bank_scale_bn = 1.0
        opening.open_books(self)
        # Until a segment trades, its statistics stand at the opening rates (the publication's fallback).
        self.market.repo_percentiles = np.full(5, rates.on_rrp_pct)
        self.market.sofr_percentiles = np.full(5, rates.on_rrp_pct)
        self.market.tgcr_median_pct = rates.on_rrp_pct
        self.market.bilateral_median_pct = rates.iorb_pct
        bank_reserves_bn = self.ledger.money_bn[self.accounts_of("bank")]
        self.market.effr_pct = self.banks.fed_funds_bid_pct(bank_reserves_bn, rates.iorb_pct)
        self.dealers.end_of_day(self, initial=True)
        self.recorder = Recorder(self)

    # ================================================================== lookups
    def accounts_of(self, kind: str) -> np.ndarray:
        """Ledger account numbers of one kind of institution."""
        return self._accounts_by_kind[kind]

    def size_share_of(self, kind: str) -> np.ndarray:
        """Size shares of a population (dealers, real money, foreign official, levered or money funds, banks)."""
        populations: dict[str, Dealers | RealMoneyInvestors | ForeignOfficials | LeveredFunds | MoneyFunds | Banks] = {
            "dealer": self.dealers,
            "real_money": self.real_money,
            "foreign_official": self.foreign_official,
            "levered_fund": self.levered_funds,
            "money_fund": self.money_funds,
            "bank": self.banks,
        }
        return populations[kind].size_share

    def market_yield_pct(self, years: np.ndarray) -> np.ndarray:
        """Today's market yields (%) at the given maturities (years)."""
        return self.prices.market_yield_pct(years, self.today)

    # ================================================================== the day
    def step(self) -> None:
        """One business day."""
        if self.day_index >= len(self.calendar):
            self.running = False
            return
        self.date = self.calendar.dates[self.day_index]
        self.today = day_number(self.date)
        self.calm.day = self.day_index
        self.equity_open = self.ledger.equity_bn.copy()
        self.flows = DayFlows()
        self._exogenous_updates()  # 1. curve, regime, maturities, coupons, fiscal flows
        self.flows.purchased_bn = self.central_bank.buy_securities(self)  # 2. purchases
        self.treasury.buy_back(self)  # 2. buybacks
        auction_day(self)  # 3. settle today's issues; levered funds plan; today's auctions
        secondary_day(self)  # 4. customer flow through dealers
        repo_day(self)  # 5. repo in intraday rounds, then the facilities
        settlement_day(self)  # 6. specials and fails
        self.dealers.end_of_day(self)  # 7. constraints, memory, quotes
        if self.day_index >= self.first_recorded_day:
            self.recorder.record_day(self)
        self.day_index += 1
        if self.day_index >= len(self.calendar):
            self.running = False

    def _exogenous_updates(self) -> None:
        self.central_bank.pay_interest(self)  # the night's interest, at yesterday's rates
        self.market.shocks = shocks = self.shocks.today(self.day_index)
        self.market.rates = self.central_bank.administered_rates(self.today)
        draws = self.curve_rng.standard_normal(2)
        regime = self.curve_rng.random()
        withdrawal = self.calm.follow("liquidity_drives_volatility", self.dealers.withdrawn_depth_share())
        self.curve.step(draws, regime, shocks.risk_off, shocks.vol_multiplier, withdrawal, self.date)
        close_overnight_positions(self)
        self.treasury.retire_matured(self)
        self.prices.mark(self.issues, self.ledger, self.today)
        # Rate volatility as desks measure it: the 10-year's daily moves from the factors
        # that drive the whole curve (the dealers' own premium is a small part of them).
        self.curve.update_realised_vol(float(self.prices.fundamental_pct(10.0, self.today)))
        self.treasury.pay_coupons(self)
        self.treasury.fiscal_day(self, bool(self.calendar.is_tax_date[self.day_index]))
        self.central_bank.other_assets_day(self)
        self.money_funds.mortgage_cycle(self)
        self.money_funds.investor_inflows(self)

    def run(self, progress: Callable[[int, int, pd.Timestamp], None] | None = None) -> TreasuryMarketModel:
        """Run every business day of the scenario; `progress(done, total, date)` is called daily."""
        total = len(self.calendar)
        while self.running and self.day_index < total:
            self.step()
            if progress is not None:
                progress(self.day_index, total, self.date)
        return self

    # ================================================================== output
    def results(self) -> dict[str, pd.DataFrame]:
        """The output tables: `daily`, `auctions` and `dealers` (see OUTPUTS.md for columns)."""
        return self.recorder.tables(self)

    def accounting_gaps(self) -> dict[str, float]:
        """Largest relative violations of the accounting invariants now (all ~0 when exact).

        securities: |outstanding - sum of all holders' positions| / outstanding, worst issue
            (retired issues must be held by no one).
        balance_sheets: |assets - liabilities - equity| / scale, worst account.
        central_bank: |assets - liabilities - capital| / scale.

        Rounding is a few machine epsilons of the largest amounts booked to a balance sheet's
        lines (tests/conftest.py, ACCOUNTING_RTOL), so each scale is the largest balance
        involved on any day this check has run, at least $1bn: an account's gross size (every
        line in absolute value, `Ledger.gross_size_bn`); for a bank also its depositors',
        whose payments all pass through its reserves; for the central bank also every
        reserve holder's, whose payments all pass through its liabilities. The scales keep
        their peaks because rounding stays when a balance sheet shrinks.
        """
        led = self.ledger
        iss = self.issues
        held = led.holdings_bn.sum(axis=0)[: iss.capacity]
        scale = np.maximum(np.where(iss.active, iss.outstanding_bn, 0.0), 1.0)
        securities = np.abs(
            np.where(iss.active, iss.outstanding_bn - held, np.abs(led.holdings_bn).sum(axis=0)[: iss.capacity])
        )
        involved = led.gross_size_bn()
        depositors = ~led.reserve_holder
        np.maximum.at(involved, led.custodian[depositors], involved[depositors])
        sharing = depositors & (led.parent_share > 0)
        if sharing.any():  # the dealers' parents hold a share of those depositors' deposits
            parents = led.parent_weight > 0
            involved[parents] = np.maximum(involved[parents], involved[sharing].max())
        self.accounting_scale_bn = np.maximum(self.accounting_scale_bn, involved)
        self.central_bank_scale_bn = max(
            self.central_bank_scale_bn,
            led.central_bank_gross_bn(),
            float(self.accounting_scale_bn[led.reserve_holder].max(initial=0.0)),
        )
        return {
            "securities": float((securities / scale).max()),
            "balance_sheets": float((np.abs(led.balance_gaps_bn()) / self.accounting_scale_bn).max()),
            "central_bank": abs(led.central_bank_gap_bn()) / self.central_bank_scale_bn,
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
            led.repo_operations_bn,
            self.issues.outstanding_bn,
            self.market.repo_percentiles,
            self.dealers.utilization,
            self.dealers.appetite,
            self.market.fails_by_issue_bn,
        ]
        scalars = [led.tga_bn, led.currency_bn, led.cb_capital_bn, self.market.fails_bn, self.curve.realised_vol_bp]
        return not (all(np.isfinite(a).all() for a in arrays) and np.isfinite(scalars).all())
