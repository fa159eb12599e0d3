"""Primary dealers: balance-sheet, risk and funding constraints, and what they do about them.

A dealer warehouses Treasuries, finances them in repo, lends cash to levered clients, and
must bid in every auction. Its capacity is bounded by the supplementary leverage ratio
(bank-affiliated dealers) or a leverage limit (others), and by a VaR limit that shrinks
when volatility rises even if holdings do not. As utilization nears one the dealer
withdraws: wider bid/ask, less depth, bigger auction concessions, dearer repo for clients
(Duffie, Fleming, Keane, Nelson, Shachar & Van Tassel 2023). Losses and strain lower its
risk appetite for a while, so withdrawal persists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.agents.member import PopulationMember
from sim.ledger import Ledger
from sim.scenario.schema import DealerSection, LoopSwitches, MarketStructureSection
from sim.securities import BUCKET_YEARS

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel

_DV01_10Y_MN_PER_BN = 0.85  # $mn per bp for $1bn of a 10-year note near par


BINDING_CONSTRAINTS = ("none", "slr", "var", "funding")
_FACILITY_DUST_BN = 1e-9  # $1,000: below this a facility balance is rounding


def cleared_repo_books_bn(
    structure: MarketStructureSection, borrowed_bn: np.ndarray, lent_bn: np.ndarray, all_cleared: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The cleared parts of dealers' repo borrowing and of their repo to clients ($bn): the
    sponsored shares (cleared DVP at FICC), or all of both when repo is centrally cleared.
    Only cleared repo nets against cleared reverse repo in the leverage ratio."""
    if all_cleared:
        return borrowed_bn, lent_bn
    return borrowed_bn * structure.sponsored_cash_lending_share, lent_bn * structure.sponsored_client_repo_share


class Dealer(PopulationMember):
    """One primary dealer: a view onto its row of the `Dealers` arrays and of the ledger.

    Its index among dealers is also its ledger account and holder row.
    """

    def __init__(self, model: mesa.Model, population: Dealers, index: int):
        super().__init__(model, population, index, account=index)

    @property
    def bank_affiliated(self) -> bool:
        return bool(self.population.bank_affiliated[self.index])

    @property
    def window_dresser(self) -> bool:
        return bool(self.population.window_dresser[self.index])

    @property
    def utilization(self) -> float:
        return float(self.population.utilization[self.index])

    @property
    def risk_appetite(self) -> float:
        return float(self.population.appetite[self.index])

    @property
    def equity_bn(self) -> float:
        return float(self.model.ledger.equity_bn[self.index])


@dataclass
class Constraints:
    """Each dealer's headrooms and utilization (arrays over dealers)."""

    exposure_bn: np.ndarray
    slr: np.ndarray
    slr_headroom_bn: np.ndarray
    risk_headroom_bn: np.ndarray
    balance_sheet_use: np.ndarray
    risk_use: np.ndarray
    utilization: np.ndarray


class Dealers:
    """The dealer population: its state as arrays over dealers, and its decisions, vectorised.

    Attributes (arrays over dealers):
        size_share: share of the dealer community's balance sheet.
        bank_affiliated: inside a bank holding company, hence bound by the SLR.
        window_dresser: shrinks its balance sheet for quarter-end snapshots.
        other_assets_bn: the rest of the bank's balance sheet, a fixed block in the SLR.
        var_limit_mn: VaR limit at full risk appetite ($mn, one day, 99%).
        appetite: risk appetite in (0, 1], scales both limits (memory of losses and strain).
        utilization: max of balance-sheet and risk use, after today's constraints.
        money_target_bn: cash (reserves or deposits) each dealer funds itself back to daily.
        deposits_at_open_bn: deposits its holding company owed at the opening; reserves behind
            deposits gained since are the depositors', not funding for the dealer.
        funding_capacity_bn: what private repo lenders would lend against its collateral.
        funding_headroom_bn: that capacity less what it borrows.
        slr_headroom_bn: leverage room for tomorrow's decisions (after any quarter-end cut).
        dv01_mn: net DV01 including unsettled auction awards ($mn per bp).
        when_issued_dv01_mn: DV01 of awarded but unsettled auction positions ($mn per bp).
        reference_by_bucket_bn: the community's opening inventory by bucket (its normal book).
        depth_share_by_bucket: share of each dealer's depth offered in each bucket.
        srf_borrowed_bn: today's Standing Repo Facility borrowing.
        funding_cost_pct: today's marginal repo rate (%): the facility it ended at, else its
            dearest private trade, else the day's SOFR.
        constraints: today's headrooms and utilization (the balance-sheet snapshot recorded).
    """

    def __init__(
        self,
        params: DealerSection,
        loop: LoopSwitches,
        size_share: np.ndarray,
        bank_affiliated: np.ndarray,
        window_dresser: np.ndarray,
    ):
        self.params = params
        self.loop = loop
        self.size_share = size_share
        self.bank_affiliated = bank_affiliated
        self.window_dresser = window_dresser
        n = size_share.size
        self.other_assets_bn = np.zeros(n)
        self.var_limit_mn = np.ones(n)
        self.appetite = np.ones(n)
        self.utilization = np.full(n, params.initial_utilization)
        self.reference_utilization = params.initial_utilization
        self.reference_half_spread_bp = params.half_spread_bp
        self.funded_share = np.ones(n)  # share of yesterday's funding need the market met
        self.money_target_bn = np.zeros(n)
        self.deposits_at_open_bn = np.zeros(n)
        self.funding_capacity_bn = np.zeros(n)
        self.funding_headroom_bn = np.zeros(n)
        self.slr_headroom_bn = np.zeros(n)
        self.dv01_mn = np.zeros(n)
        self.srf_borrowed_bn = np.zeros(n)
        self.funding_cost_pct = np.full(n, np.nan)
        self.when_issued_dv01_mn = np.zeros(n)
        self.reference_by_bucket_bn = np.zeros(0)
        self.constraints: Constraints | None = None
        # Depth by bucket is about DV01-neutral: inversely proportional to modified duration
        # (relative to the 10-year's), with the short end capped at a multiple of the long end's.
        relative_duration = BUCKET_YEARS / (1 + 0.02 * BUCKET_YEARS) / 8.33
        share = np.clip(1.0 / relative_duration, 1.0, params.short_end_depth_multiple)
        self.depth_share_by_bucket = share / share.sum()

    # ------------------------------------------------------------ constraints
    def leverage_allowance_bn(self, equity_bn: np.ndarray) -> np.ndarray:
        """Total leverage exposure allowed: equity / SLR minimum, or the non-bank leverage cap."""
        slr_cap = equity_bn / (self.params.slr_min_pct / 100.0)
        return np.where(self.bank_affiliated, slr_cap, equity_bn * self.params.nonbank_leverage_max)

    def market_exposure_bn(
        self,
        long_value_bn: np.ndarray,
        money_bn: np.ndarray,
        reverse_repo_bn: np.ndarray,
        cleared_repo_bn: np.ndarray,
        netting_efficiency: float,
        exemptions: bool = True,
        cleared_reverse_repo_bn: np.ndarray | None = None,
    ) -> np.ndarray:
        """Leverage exposure of the markets business ($bn), with the scenario's exemptions and netting.

        Args:
            cleared_repo_bn: repo borrowing done through a central counterparty, which nets
                against cleared reverse repo to clients (gross otherwise).
            exemptions: apply the scenario's SLR exemptions; False measures exposure under
                today's rules (how the opening balance sheets were built).
            cleared_reverse_repo_bn: the part of reverse repo to clients that is cleared
                (sponsored); all of it when not given.
        """
        p = self.params
        treasuries = 0.0 if p.exempt_treasuries_from_slr and exemptions else long_value_bn
        reserves_exempt = p.exempt_reserves_from_slr & self.bank_affiliated & exemptions
        cash = np.where(reserves_exempt, 0.0, np.maximum(money_bn, 0.0))
        cleared_reverse = reverse_repo_bn if cleared_reverse_repo_bn is None else cleared_reverse_repo_bn
        netted = netting_efficiency * np.minimum(cleared_reverse, cleared_repo_bn)
        return treasuries + cash + reverse_repo_bn - netted

    def measure_constraints(
        self,
        equity_bn: np.ndarray,
        market_exposure_bn: np.ndarray,
        dv01_mn: np.ndarray,
        vol_bp: float,
        quarter_end: bool,
    ) -> Constraints:
        """Headrooms and utilization.

        Balance-sheet use is market exposure over the allowance left after the fixed
        block; window-dressers see that allowance cut on quarter-end days. Risk use is
        VaR (z x vol x |DV01|) over the VaR limit. Both limits scale with risk appetite.
        """
        p = self.params
        allowance = self.leverage_allowance_bn(equity_bn)
        market_allowance = np.maximum(allowance - self.other_assets_bn, 1e-9) * self.appetite
        if quarter_end:
            # A window-dresser cutting all its room (a shrink share of one) keeps a sliver of it,
            # so its utilization is very high rather than undefined.
            shrink = np.where(self.window_dresser, 1.0 - p.quarter_end_shrink_share, 1.0)
            market_allowance = np.maximum(market_allowance * shrink, 1e-9)
        exposure = self.other_assets_bn + market_exposure_bn
        slr = equity_bn / np.maximum(exposure, 1e-9)
        var_mn = p.var_z * vol_bp * np.abs(dv01_mn)
        limit_mn = self.var_limit_mn * self.appetite
        balance_sheet_use = market_exposure_bn / market_allowance
        risk_use = var_mn / limit_mn
        risk_headroom_bn = (limit_mn - var_mn) / (p.var_z * vol_bp * _DV01_10Y_MN_PER_BN)
        utilization = np.maximum(balance_sheet_use, risk_use)
        return Constraints(
            exposure,
            slr,
            market_allowance - market_exposure_bn,
            risk_headroom_bn,
            balance_sheet_use,
            risk_use,
            utilization,
        )

    # ------------------------------------------------------------ behaviour
    def _strain(self) -> np.ndarray:
        """u^2 / (1 - u): the convex cost of using the last of the balance sheet.

        With the withdrawal arrow switched off, dealers quote as at their starting
        utilization whatever they hold.
        """
        u = (
            self.utilization
            if self.loop.utilization_drives_quotes
            else np.full_like(self.utilization, self.reference_utilization)
        )
        u = np.clip(u, 0.0, 0.95)
        return u * u / (1.0 - u)

    def half_spread_bp(self, vol_ratio: float) -> np.ndarray:
        """Bid/ask half-spread in bp of yield: convex in utilization, rising with volatility."""
        p = self.params
        return p.half_spread_bp * vol_ratio**p.spread_vol_elasticity * (1.0 + p.spread_convexity * self._strain())

    def depth_bn(self, vol_ratio: float) -> np.ndarray:
        """Net customer flow each dealer will absorb today ($bn): shrinks to zero as u -> 1."""
        p = self.params
        u = (
            self.utilization
            if self.loop.utilization_drives_quotes
            else np.full_like(self.utilization, self.reference_utilization)
        )
        room = np.clip(1.0 - u, 0.0, 1.0) ** p.depth_exponent
        return p.depth_bn * self.size_share * room * self.appetite / max(vol_ratio, 1.0)

    def auction_concession_bp(self, vol_ratio: float) -> np.ndarray:
        """How far above WI a dealer bids (bp): rises with utilization and volatility."""
        p = self.params
        return (
            p.auction_concession_bp
            + p.auction_concession_util_bp * self._strain()
            + p.auction_concession_vol_bp * max(vol_ratio - 1.0, 0.0)
        )

    def normal_book_share(self) -> np.ndarray:
        """Share of its usual inventory a dealer wants to carry: less once utilization passes the threshold."""
        u = np.maximum(self.utilization, 1e-9)
        # A dealer the repo market would not fully fund yesterday sells down too.
        return np.minimum(1.0, self.params.memory_util_threshold / u) * self.funded_share

    def distribution_concession_bp(self, vol_ratio: float) -> np.ndarray:
        """Yield concession (bp) a dealer gives to move inventory it holds beyond its normal level."""
        return self.half_spread_bp(vol_ratio) * (1.0 + self._strain())

    def funding_haircut_share(self, vol_ratio: float) -> float:
        """Haircut repo lenders take on dealers' collateral (share of value); rises with volatility."""
        p = self.params
        return min(p.funding_haircut_pct / 100.0 * max(vol_ratio, 1.0) ** p.funding_haircut_vol_elasticity, 0.99)

    def binding_constraint(self, facility_borrowed_bn: np.ndarray) -> np.ndarray:
        """Each dealer's binding constraint today, as an index into BINDING_CONSTRAINTS: its
        balance sheet ("slr": the leverage ratio, or the leverage cap of a non-bank dealer) or
        its VaR ("var"), whichever is used more, once at or over its limit; else "funding" when
        private repo did not cover its need (it borrowed `facility_borrowed_bn` at the SRF or
        the window); else "none"."""
        c = self.constraints
        if c is None:
            raise RuntimeError("constraints are measured at the opening, before any day")
        balance_sheet = (c.balance_sheet_use >= 1.0) & (c.balance_sheet_use >= c.risk_use)
        risk = (c.risk_use >= 1.0) & ~balance_sheet
        funding = facility_borrowed_bn > _FACILITY_DUST_BN
        return np.select([balance_sheet, risk, funding], [1, 2, 3], default=0)

    def repo_markup_bp(self) -> np.ndarray:
        """Markup on repo lent to levered clients (bp): the balance-sheet cost of a matched book."""
        p = self.params
        return p.repo_markup_bp + p.repo_markup_util_bp * self._strain()

    def client_financing_capacity_bn(self, current_bn: np.ndarray, slr_headroom_bn: np.ndarray) -> np.ndarray:
        """Repo the dealer will extend to levered clients: no more than fits the balance sheet."""
        return np.maximum(current_bn + np.minimum(slr_headroom_bn, 0.0), 0.0)

    def update_appetite(self, pnl_bn: np.ndarray, equity_bn: np.ndarray) -> None:
        """Memory: losses and high utilization cut risk appetite, which recovers slowly."""
        if not self.loop.dealer_memory:
            return
        p = self.params
        loss_pct = np.maximum(-pnl_bn, 0.0) / np.maximum(equity_bn, 1e-9) * 100.0
        # Strain beyond the threshold erodes appetite, but boundedly: withdrawal persists for a
        # while, it does not lock a dealer out for good.
        strain = np.clip(self.utilization - p.memory_util_threshold, 0.0, p.memory_strain_cap)
        hit = p.memory_loss_sensitivity * np.maximum(loss_pct - p.memory_loss_tolerance_pct, 0.0)
        hit = hit + p.memory_util_sensitivity * strain
        recovered = self.appetite + p.memory_recovery_per_day * (1.0 - self.appetite)
        self.appetite = np.clip(recovered - hit, p.appetite_floor, 1.0)

    # ------------------------------------------------------------ positions
    def net_dv01_mn(self, ledger: Ledger, dv01_per_par: np.ndarray) -> np.ndarray:
        """Net DV01 of each dealer ($mn per bp), including auction awards not yet settled.

        A dealer carries the rate risk of what it won from the auction day (when-issued),
        though the securities reach its balance sheet only on the issue date.
        """
        settled = ledger.holdings_bn[: self.size_share.size] @ dv01_per_par * 1000.0
        return settled + self.when_issued_dv01_mn

    def cover_shorts(self, ledger: Ledger, real_money: slice, n_trading: int) -> None:
        """Dealers buy back a share of their shorts from real-money holders of each issue."""
        n_d = self.size_share.size
        slots = np.flatnonzero((ledger.holdings_bn[:n_d] < 0).any(axis=0))
        if slots.size == 0:
            return
        shorts = np.maximum(-ledger.holdings_bn[:n_d, slots], 0.0)
        rm_long = np.maximum(ledger.holdings_bn[real_money, slots], 0.0)
        available = rm_long.sum(axis=0)
        # Cover a share of each short, drawing at most half of what real money holds of the issue.
        short_total = shorts.sum(axis=0)
        most = self.params.short_cover_max_share_of_holders
        cap = most * available[None, :] * shorts / np.maximum(short_total, 1e-12)
        cover = np.minimum(shorts * self.params.short_cover_share_per_day, cap)
        covered = cover.sum(axis=0)
        delta = np.zeros((n_trading, slots.size))
        delta[:n_d] = cover
        taken = np.divide(covered, available, out=np.zeros_like(covered), where=available > 0)
        delta[real_money] = -rm_long * taken[None, :]
        cash = -(delta @ ledger.price[slots])
        cash[int(np.argmax(np.abs(cash)))] -= cash.sum()
        ledger.trade(delta, cash, slots)

    # ------------------------------------------------------------ end of day
    def end_of_day(self, m: TreasuryMarketModel, initial: bool = False) -> None:
        """Constraints at today's balance-sheet snapshot, tomorrow's room, appetite and quotes.

        Client financing is set for tomorrow's snapshot: window-dressers shrink their repo into
        a quarter-end, not on the day after it. Quotes, depth and inventory follow ordinary
        utilization. Today's constraints (recorded) keep today's snapshot.
        """
        sc = m.config
        led = m.ledger
        n_d = self.size_share.size
        dealers = slice(0, n_d)
        long_value = np.maximum(led.holdings_bn[dealers], 0.0) @ led.price
        if initial:
            client_collateral = led.repo_lent_bn[dealers] / (1.0 - m.levered_funds.haircut_share(1.0, 1.0))
            self.funding_capacity_bn = (1.0 - self.funding_haircut_share(1.0)) * (long_value + client_collateral)
        self.when_issued_dv01_mn = m.auctions.when_issued_dv01_mn(n_d)
        ms = sc.market_structure
        cleared, cleared_reverse = cleared_repo_books_bn(
            ms, led.repo_borrowed_bn[dealers], led.repo_lent_bn[dealers], ms.central_clearing_repo
        )
        if sc.central_bank.srf.centrally_cleared:
            cleared = cleared + led.srf_bn[dealers]
        exposure = self.market_exposure_bn(
            long_value,
            led.money_bn[dealers],
            led.repo_lent_bn[dealers],
            cleared,
            ms.netting_efficiency,
            cleared_reverse_repo_bn=cleared_reverse,
        )
        self.funding_headroom_bn = self.funding_capacity_bn - led.repo_borrowed_bn[dealers]
        dv01 = self.net_dv01_mn(led, m.prices.dv01_per_par)
        flags = m.calendar.is_quarter_end
        quarter_end = (not initial) and bool(flags[m.day_index])
        vol_bp = m.curve.realised_vol_bp
        equity = led.equity_bn[dealers]
        self.constraints = self.measure_constraints(equity, exposure, dv01, vol_bp, quarter_end)
        next_index = m.day_index + (0 if initial else 1)
        quarter_end_next = next_index < len(flags) and bool(flags[next_index])
        decisions = self.constraints
        if quarter_end_next != quarter_end:
            decisions = self.measure_constraints(equity, exposure, dv01, vol_bp, quarter_end_next)
        # Window-dressers shrink their repo into a snapshot (client room for tomorrow's), but
        # quote, hold inventory and remember strain at their ordinary utilization: they do not
        # sell their book for a one-day snapshot.
        ordinary = (
            decisions if not quarter_end_next else self.measure_constraints(equity, exposure, dv01, vol_bp, False)
        )
        self.utilization = ordinary.utilization
        self.slr_headroom_bn = decisions.slr_headroom_bn
        self.dv01_mn = dv01
        if not initial:
            self.update_appetite(led.equity_bn[dealers] - m.equity_open[dealers], led.equity_bn[dealers])
        var = self.params.var_z * vol_bp * np.abs(dv01)
        risk_use = float(var.sum() / np.maximum(self.var_limit_mn * self.appetite, 1e-9).sum())
        m.prices.premium_risk_use = risk_use if sc.loop.inventory_premium else m.prices.reference_risk_use
        half = self.half_spread_bp(m.curve.vol_ratio)
        # The market's quote: dealers' half-spreads weighted by their size in the community.
        m.market.half_spread_today_bp = float(half @ self.size_share)
        if initial:
            self.reference_half_spread_bp = m.market.half_spread_today_bp
            self.reference_by_bucket_bn = (led.holdings_bn[dealers] @ m.prices.bucket_onehot).sum(axis=0)
