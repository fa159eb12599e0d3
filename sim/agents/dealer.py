"""Primary dealers: balance-sheet, risk and funding constraints, and what they do about them.

A dealer warehouses Treasuries, finances them in repo, lends cash to levered clients, and
must bid in every auction. Its capacity is bounded by the supplementary leverage ratio
(bank-affiliated dealers) or a leverage limit (others), and by a VaR limit that shrinks
when volatility rises even if holdings do not. As utilization nears one the dealer
withdraws: wider bid/ask, less depth, smaller auction bids at bigger concessions, dearer repo
for clients (Duffie, Fleming, Keane, Nelson, Shachar & Van Tassel 2023). Its marginal repo
rate is the cost of carrying what it holds: dearer funding than usual shrinks the book it
wants and widens what it asks to warehouse new supply. Losses and strain lower its risk
appetite for a while, so withdrawal persists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np
from scipy.special import expit

from sim.agents.member import PopulationMember
from sim.ledger import Ledger
from sim.loop import CalmPath
from sim.scenario.schema import DealerSection, LoopSwitches, MarketStructureSection
from sim.securities import BUCKET_YEARS

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel

_DV01_10Y_MN_PER_BN = 0.85  # $mn per bp for $1bn of a 10-year note near par
_DV01_10Y_PER_PAR = _DV01_10Y_MN_PER_BN / 1000.0  # price change per bp per $1 of par


BINDING_CONSTRAINTS = ("none", "slr", "var", "funding")
_FACILITY_DUST_BN = 1e-9  # $1,000: below this a facility balance is rounding


def cleared_repo_books_bn(
    structure: MarketStructureSection,
    borrowed_bn: np.ndarray,
    lent_bn: np.ndarray,
    all_cleared: bool,
    sponsored_client_share: np.ndarray | float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The cleared parts of dealers' repo borrowing and of their repo to clients ($bn): the
    sponsored shares (cleared DVP at FICC; the client share per dealer when given, else the
    market's), or all of both when repo is centrally cleared. Only cleared repo nets against
    cleared reverse repo in the leverage ratio."""
    if all_cleared:
        return borrowed_bn, lent_bn
    client_share = structure.sponsored_client_repo_share if sponsored_client_share is None else sponsored_client_share
    return borrowed_bn * structure.sponsored_cash_lending_share, lent_bn * client_share


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
        parent_fed_funds_lent_bn, parent_fed_funds_borrowed_bn: what its parent lent and borrowed
            in today's fed funds market, morning and evening (`banks.dealer_parents_in_fed_funds`;
            $bn): the parent's bank, not the dealer's repo book.
        funding_capacity_bn: what private repo lenders would lend against its collateral.
        funding_headroom_bn: that capacity less what it borrows.
        slr_headroom_bn: leverage room for tomorrow's decisions (after any quarter-end cut).
        risk_headroom_bn: VaR room for tomorrow's decisions, in 10-year notes ($bn par).
        dv01_mn: net DV01 including unsettled auction awards ($mn per bp).
        when_issued_dv01_mn: DV01 of awarded but unsettled auction positions ($mn per bp).
        reference_by_bucket_bn: the community's opening inventory by bucket (its normal book).
        depth_share_by_bucket: share of each dealer's depth offered in each bucket.
        srf_borrowed_bn: today's Standing Repo Facility borrowing.
        repo_operations_borrowed_bn: today's award at the central bank's repo operation ($bn).
        funding_cost_pct: today's marginal repo rate (%): the facility it ended at, else its
            dearest private trade, else the day's SOFR.
        funding_premium_bp: that rate less IORB, beyond its calm spread (bp a year; negative
            when funding is cheaper than usual); what carrying inventory costs extra.
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
        self.quoted_utilization = self.utilization.copy()
        self._measured_at = b""  # the quoting utilization `_strain_now` was measured at, as its bytes
        self._strain_now = np.zeros(n)
        self._depth_room_now = np.zeros(n)
        self.calm = CalmPath(loop)  # the model's, once it is built
        self.reference_utilization = params.initial_utilization
        self.reference_half_spread_bp = params.half_spread_bp
        self.funded_share = np.ones(n)  # share of yesterday's funding need the market met
        self.money_target_bn = np.zeros(n)
        self.deposits_at_open_bn = np.zeros(n)
        self.parent_fed_funds_lent_bn = np.zeros(n)
        self.parent_fed_funds_borrowed_bn = np.zeros(n)
        self.funding_capacity_bn = np.zeros(n)
        self.funding_headroom_bn = np.zeros(n)
        self.slr_headroom_bn = np.zeros(n)
        self.risk_headroom_bn = np.zeros(n)
        self.dv01_mn = np.zeros(n)
        self.srf_borrowed_bn = np.zeros(n)
        self.repo_operations_borrowed_bn = np.zeros(n)
        self.funding_cost_pct = np.full(n, np.nan)
        self.funding_premium_bp = np.zeros(n)
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
    def illiquidity(self, utilization: np.ndarray) -> np.ndarray:
        """The cost of using the last of the balance sheet (`illiquidity_at_limit` at the limit):
        exponential below it, so flat at low utilization and steep near the limit, and linear
        beyond it: a dealer over its limit is costly to deal with, not infinitely so, and what
        brings it back is shedding (selling inventory, cutting client repo), not its quotes."""
        p = self.params
        u = np.asarray(utilization, dtype=float)
        below = np.exp(p.illiquidity_steepness * (np.minimum(u, 1.0) - 1.0))
        beyond = 1.0 + p.illiquidity_slope_beyond_limit * np.maximum(u - 1.0, 0.0)
        return p.illiquidity_at_limit * np.where(u <= 1.0, below, beyond)

    def quoting_utilization(self) -> np.ndarray:
        """Utilization that sets quotes, depth and concessions: their own, or with the withdrawal
        arrow switched off, the calm twin's (`sim.loop`)."""
        return self.quoted_utilization

    def _strain(self) -> np.ndarray:
        self._refresh_quoting_measures()
        return self._strain_now

    def _depth_room(self) -> np.ndarray:
        """Share of its full depth a dealer still offers at its quoting utilization."""
        self._refresh_quoting_measures()
        return self._depth_room_now

    def _refresh_quoting_measures(self) -> None:
        # Quotes, concessions, markups and depth read these several times a day; they change
        # only with the quoting utilization (replaced daily, or changed in place from outside).
        # Compared as bytes (a tenth of `array_equal`'s cost): the measures are a function of these bits.
        utilization = self.quoting_utilization()
        measured_at = utilization.tobytes()
        if measured_at == self._measured_at:
            return
        self._measured_at = measured_at
        self._strain_now = self.illiquidity(utilization)
        self._depth_room_now = (1.0 - utilization).clip(0.0, 1.0) ** self.params.depth_exponent

    def record_funding_cost(self, funding_cost_pct: np.ndarray, iorb_pct: float) -> None:
        """Today's marginal repo rates (%), and the funding premium: their spread to IORB beyond the
        calm one, averaged over recent days (bp a year)."""
        p = self.params
        self.funding_cost_pct = funding_cost_pct
        spread_bp = (funding_cost_pct - iorb_pct) * 100.0 - p.funding_spread_calm_bp
        today = np.where(np.isfinite(spread_bp), spread_bp, 0.0)
        # Desks plan on their funding over the last days, not on one day's dearest trade.
        keep = p.funding_premium_memory
        premium = keep * self.funding_premium_bp + (1.0 - keep) * today
        self.funding_premium_bp = self.calm.follow("funding_cost_drives_dealers", premium)

    def carry_cost_bp(self, dv01_per_par: float) -> np.ndarray:
        """Yield concession (bp) that pays the funding premium over the days a dealer expects to
        hold a position of this DV01 per $ of par: premium x days/360 in price, over the DV01.
        Large for bills (short duration), small for bonds."""
        cost_per_par = self.funding_premium_bp / 1e4 * self.params.inventory_holding_days / 360.0
        return cost_per_par / max(dv01_per_par, 1e-9)

    def half_spread_bp(self, vol_ratio: float) -> np.ndarray:
        """Bid/ask half-spread in bp of yield: convex in utilization, rising with volatility, plus
        what carrying the trade costs beyond calm funding (at a 10-year's DV01, the quote's
        reference); cheap funding narrows it, never below `quote_floor_share` of the calm one."""
        p = self.params
        withdrawal = p.half_spread_bp * vol_ratio**p.spread_vol_elasticity * (1.0 + p.spread_convexity * self._strain())
        return np.maximum(withdrawal + self.carry_cost_bp(_DV01_10Y_PER_PAR), p.quote_floor_share * p.half_spread_bp)

    def withdrawn_depth_share(self) -> float:
        """Share of their starting depth dealers no longer offer, for utilization and appetite
        (volatility aside): 0 at the start, 1 when none is left."""
        p = self.params
        room = (1.0 - self.utilization).clip(0.0, 1.0) ** p.depth_exponent * self.appetite
        start = np.clip(1.0 - self.reference_utilization, 0.0, 1.0) ** p.depth_exponent
        return min(max(1.0 - float(room @ self.size_share) / max(start, 1e-12), 0.0), 1.0)

    def depth_bn(self, vol_ratio: float) -> np.ndarray:
        """Net customer flow each dealer will absorb today ($bn): shrinks to zero as u -> 1."""
        p = self.params
        return p.depth_bn * self.size_share * self._depth_room() * self.appetite / max(vol_ratio, 1.0)

    def auction_concession_bp(self, vol_ratio: float, dv01_per_par: float) -> np.ndarray:
        """How far above WI a dealer bids (bp): rises with utilization and volatility, and with
        the cost of carrying the new issue (DV01 per $ par) until it is distributed."""
        p = self.params
        return (
            p.auction_concession_bp
            + p.auction_concession_util_bp * self._strain()
            + p.auction_concession_vol_bp * max(vol_ratio - 1.0, 0.0)
            + self.carry_cost_bp(dv01_per_par)
        )

    def auction_bids(
        self,
        offering_bn: float,
        dv01_per_par: float,
        bucket: int,
        vol_bp: float,
        vol_ratio: float,
        covering_bn: np.ndarray | float = 0.0,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Each dealer's tenders at an auction: (concession over the curve in bp, par in $bn), shape
        (dealers, 4): what its room allows in three equal tenders, then what its floor adds beyond
        those and beyond `covering_bn` (each dealer's tender to cover its when-issued sales, $bn).

        Each tender is priced at the dealer's concession plus the risk of carrying the position
        until it is distributed: `auction_distribution_risk_price` x daily yield volatility x the
        square root of the days its depth in the bucket needs to pass the position on, counted to
        the end of that tender, at most `auction_distribution_horizon_days` (past that the
        position is its book, hedged and held, not a trade to unwind). A dealer that has
        withdrawn (less depth) or a large position (a weak auction left to dealers) asks more;
        the obligation's part a further `auction_obligation_concession_bp`.
        """
        p = self.params
        concession = self.auction_concession_bp(vol_ratio, dv01_per_par)
        wanted, obligation = self.auction_bid_bn(offering_bn, dv01_per_par, covering_bn)
        amounts = np.empty((wanted.size, 4))
        amounts[:, :3] = (wanted / 3.0)[:, None]
        amounts[:, 3] = obligation
        held_bn = amounts.copy()  # what it holds after each tender: the running sum, column by column
        for k in range(1, 4):
            held_bn[:, k] += held_bn[:, k - 1]
        # Depth for utilization and appetite; volatility is priced in the risk itself.
        depth_bn = self.depth_bn(1.0) * self.depth_share_by_bucket[bucket]
        horizon = p.auction_distribution_horizon_days
        days = np.divide(held_bn, depth_bn[:, None], out=np.full_like(held_bn, horizon), where=depth_bn[:, None] > 0)
        risk_bp = p.auction_distribution_risk_price * vol_bp * np.sqrt(np.minimum(days, horizon))
        concessions = concession[:, None] + risk_bp
        concessions[:, 3] += p.auction_obligation_concession_bp
        return concessions, amounts

    def auction_bid_bn(
        self, offering_bn: float, dv01_per_par: float, covering_bn: np.ndarray | float = 0.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Par each dealer bids at its concession, and the rest it bids only to reach its floor ($bn).

        A dealer commits `auction_headroom_share` of its room to one auction: the smaller of its
        leverage room and its VaR room (in 10-year equivalents, converted at this issue's DV01).
        Each primary dealer tenders in all at least `auction_obligation_share` of its pro-rata part
        of the offering (the offering over their number), its tender covering its when-issued sales
        (`covering_bn`) included, as the auction's statistics count it; what room and that cover do
        not reach is bid further from WI.
        """
        p = self.params
        risk_room_bn = self.risk_headroom_bn * _DV01_10Y_PER_PAR / max(dv01_per_par, 1e-9)
        room_bn = np.maximum(np.minimum(self.slr_headroom_bn, risk_room_bn), 0.0)
        wanted = np.minimum(p.auction_headroom_share * room_bn, offering_bn)
        floor = p.auction_obligation_share * offering_bn / self.size_share.size
        return wanted, np.maximum(floor - wanted - covering_bn, 0.0)

    def normal_book_share(self) -> np.ndarray:
        """Share of its usual inventory a dealer wants to carry: less once utilization passes the
        threshold, and less (more) when funding costs more (less) than usual: the carry factor
        2 x logistic(-2 x elasticity x premium) is one at calm funding, falls by the elasticity
        (log share) per bp there, and stays between nothing and double."""
        p = self.params
        u = np.maximum(self.utilization, 1e-9)
        carry = 2.0 * expit(-2.0 * p.inventory_funding_elasticity * self.funding_premium_bp)
        # A dealer the repo market would not fully fund yesterday sells down too.
        return np.minimum(1.0, p.memory_util_threshold / u) * carry * self.funded_share

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
        return np.where(balance_sheet, 1, np.where(risk, 2, np.where(funding, 3, 0)))

    def repo_markup_bp(self) -> np.ndarray:
        """Markup on repo lent to levered clients (bp): the balance-sheet cost of a matched book."""
        p = self.params
        return p.repo_markup_bp + p.repo_markup_util_bp * self._strain()

    def client_financing_capacity_bn(self, current_bn: np.ndarray, slr_headroom_bn: np.ndarray) -> np.ndarray:
        """Repo the dealer will extend to levered clients: no more than fits the balance sheet."""
        return np.maximum(current_bn + np.minimum(slr_headroom_bn, 0.0), 0.0)

    def update_appetite(self, pnl_bn: np.ndarray, equity_bn: np.ndarray) -> None:
        """Memory: losses and high utilization cut risk appetite, which recovers slowly (with the
        memory arrow off, appetite follows the calm twin's)."""
        p = self.params
        loss_pct = np.maximum(-pnl_bn, 0.0) / np.maximum(equity_bn, 1e-9) * 100.0
        # Strain beyond the threshold erodes appetite, but boundedly: withdrawal persists for a
        # while, it does not lock a dealer out for good.
        strain = (self.utilization - p.memory_util_threshold).clip(0.0, p.memory_strain_cap)
        hit = p.memory_loss_sensitivity * np.maximum(loss_pct - p.memory_loss_tolerance_pct, 0.0)
        hit = hit + p.memory_util_sensitivity * strain
        recovered = self.appetite + p.memory_recovery_per_day * (1.0 - self.appetite)
        self.appetite = self.calm.follow("dealer_memory", (recovered - hit).clip(p.appetite_floor, 1.0))

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

    def sponsored_client_share(self, structure: MarketStructureSection, snapshot_day: bool) -> np.ndarray:
        """Share of each dealer's repo to clients booked as sponsored (cleared DVP). On snapshot
        days window-dressers move `quarter_end_sponsored_shift_share` of the rest into it: cleared
        repo nets in the leverage exposure they report, so their clients borrow in the segment
        SOFR measures, at the premium of a book that nets less (sponsored volumes and DVP rates
        jump on real quarter-ends while tri-party rates barely move)."""
        share = np.full(self.size_share.size, structure.sponsored_client_repo_share)
        if snapshot_day:
            shift = self.params.quarter_end_sponsored_shift_share
            share = np.where(self.window_dresser, share + (1.0 - share) * shift, share)
        return share

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
        flags = m.calendar.is_quarter_end
        quarter_end = (not initial) and bool(flags[m.day_index])
        # Their parents' fed funds loans (banks.dealer_parents_in_fed_funds) are not the dealers' repo.
        repo_borrowed = led.repo_borrowed_bn[dealers] - self.parent_fed_funds_borrowed_bn
        cleared, cleared_reverse = cleared_repo_books_bn(
            ms,
            repo_borrowed,
            led.repo_lent_bn[dealers] - self.parent_fed_funds_lent_bn,
            ms.central_clearing_repo,
            self.sponsored_client_share(ms, quarter_end),
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
        self.funding_headroom_bn = self.funding_capacity_bn - repo_borrowed
        dv01 = self.net_dv01_mn(led, m.prices.dv01_per_par)
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
        self.quoted_utilization = self.calm.follow("utilization_drives_quotes", self.utilization)
        self.slr_headroom_bn = decisions.slr_headroom_bn
        self.risk_headroom_bn = ordinary.risk_headroom_bn
        self.dv01_mn = dv01
        if not initial:
            self.update_appetite(led.equity_bn[dealers] - m.equity_open[dealers], led.equity_bn[dealers])
        var = self.params.var_z * vol_bp * np.abs(dv01)
        risk_use = float(var.sum() / np.maximum(self.var_limit_mn * self.appetite, 1e-9).sum())
        m.prices.premium_risk_use = self.calm.follow("inventory_premium", risk_use)
        half = self.half_spread_bp(m.curve.vol_ratio)
        # The market's quote: dealers' half-spreads weighted by their size in the community.
        m.market.half_spread_today_bp = float(half @ self.size_share)
        if initial:
            self.reference_half_spread_bp = m.market.half_spread_today_bp
            self.reference_by_bucket_bn = (led.holdings_bn[dealers] @ m.prices.bucket_onehot).sum(axis=0)
