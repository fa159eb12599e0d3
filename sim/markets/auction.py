"""Uniform-price (single-price) Treasury auctions.

Bidders submit (yield, amount) tenders. Tenders are accepted from the lowest yield up
until the offering is filled; everyone accepted pays the stop-out (high) yield, and
tenders at the high yield are filled pro rata. The median and low yields follow
Treasury's definitions: the yields at or below which 50% and 5% of the accepted amount
was tendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.calendar import BILL_WEEKS, TENOR_YEARS, AuctionSpec, day_number, roll_forward
from sim.scenario.bounds import SMALLEST_AMOUNT_BN
from sim.scenario.schema import BILL_TENORS, TENORS
from sim.securities import COUPON_PERIOD_DAYS, MIN_COUPON_PCT, bond_dv01_one, bond_price_one

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel


@dataclass(frozen=True)
class AuctionResult:
    """Outcome of one auction. Yields in %, amounts in $bn (awards in tender order)."""

    high_yield_pct: float
    median_yield_pct: float
    low_yield_pct: float
    awarded_bn: np.ndarray
    tendered_bn: float
    offering_bn: float

    @property
    def bid_to_cover(self) -> float:
        return self.tendered_bn / self.offering_bn if self.offering_bn > 0 else 0.0


def clear_uniform_price(yields_pct: np.ndarray, amounts_bn: np.ndarray, offering_bn: float) -> AuctionResult:
    """Clear a single-price auction.

    Args:
        yields_pct: tendered yields (%).
        amounts_bn: tendered amounts ($bn, >= 0).
        offering_bn: amount offered ($bn).

    Returns:
        The stop-out, median and low yields, each tender's award, and totals. If tenders
        fall short of the offering, every tender is filled and the high yield is the
        highest tender (the case primary dealers' bidding obligation rules out).
    """
    all_amounts = np.maximum(np.asarray(amounts_bn, dtype=float), 0.0)
    tendered = float(all_amounts.sum())
    all_awarded = np.zeros_like(all_amounts)
    tenders = np.flatnonzero(all_amounts > 0)
    if offering_bn <= 0 or tenders.size == 0:
        nan = float("nan")
        return AuctionResult(nan, nan, nan, all_awarded, tendered, offering_bn)
    # Clear on the live tenders only; awards map back to the caller's order.
    yields_pct = np.asarray(yields_pct, dtype=float)[tenders]
    amounts_bn = all_amounts[tenders]
    order = np.argsort(yields_pct, kind="stable")
    sorted_yields = yields_pct[order]
    cumulative = np.cumsum(amounts_bn[order])
    # Tenders that cover the offering only to within rounding count as just covering it.
    if cumulative[-1] <= offering_bn * (1.0 + 1e-12):
        awarded = amounts_bn
        high = float(sorted_yields[-1])
    else:
        marginal = min(int(np.searchsorted(cumulative, offering_bn, side="left")), cumulative.size - 1)
        high = float(sorted_yields[marginal])
        below = yields_pct < high
        at_high = yields_pct == high
        awarded = np.where(below, amounts_bn, 0.0)
        remaining = offering_bn - float(amounts_bn[below].sum())
        awarded[at_high] = amounts_bn[at_high] * (remaining / float(amounts_bn[at_high].sum()))
    accepted_cumulative = np.cumsum(awarded[order])
    total = accepted_cumulative[-1]
    median = float(sorted_yields[np.searchsorted(accepted_cumulative, 0.5 * total, side="left")])
    low = float(sorted_yields[np.searchsorted(accepted_cumulative, 0.05 * total, side="left")])
    all_awarded[tenders] = awarded
    return AuctionResult(high, median, low, all_awarded, tendered, offering_bn)


# ---------------------------------------------------------------- the auction day
BASIS_TENORS = ("2y", "3y", "5y", "7y", "10y")  # where levered funds bid (the futures basis)
CMB_TENOR = "4w"  # cash-management bills are short: a month at most


@dataclass(frozen=True)
class Award:
    """An auction's result, held until its issue date.

    Attributes:
        tenor: the auctioned tenor.
        slot: the issue reopened, or None for a new issue.
        awards_bn: par won by each trading account ($bn).
        high_yield_pct: the stop-out yield, which sets the coupon and the price paid.
        maturity: maturity date of the issue.
        dealer_dv01_mn: DV01 of dealers' awards, carried from the auction day ($mn per bp).
    """

    tenor: str
    slot: int | None
    awards_bn: np.ndarray
    high_yield_pct: float
    maturity: pd.Timestamp
    dealer_dv01_mn: np.ndarray


class TreasuryAuctions:
    """Awards won but not yet settled, by issue date, and the when-issued market's forecast.

    Attributes:
        expected_concession_bp: by tenor, how far above the secondary curve auctions of that
            tenor have been stopping (bp): when-issued trading prices it in, so WI is the curve
            plus it, and a tail is what the auction adds to what the market expected.
    """

    def __init__(self, wi_memory: float = 0.0) -> None:
        self.pending: dict[pd.Timestamp, list[Award]] = {}
        self.wi_memory = wi_memory
        self.expected_concession_bp = np.zeros(len(TENORS))

    def learn_concession(self, bucket: int, concession_bp: float) -> None:
        """After an auction: the stop over the curve (bp) updates what WI expects next time."""
        keep = self.wi_memory
        self.expected_concession_bp[bucket] = keep * self.expected_concession_bp[bucket] + (1 - keep) * concession_bp

    def reopened_par_pending_bn(self, n_slots: int) -> np.ndarray:
        """Par of each issue auctioned as a reopening but not yet issued, by issue slot ($bn): between
        the auction and the issue date the outstanding issue is all that can be delivered."""
        pending = np.zeros(n_slots)
        for awards in self.pending.values():
            for award in awards:
                if award.slot is not None and award.slot < n_slots:
                    pending[award.slot] += float(award.awards_bn.sum())
        return pending

    def when_issued_dv01_mn(self, n_dealers: int) -> np.ndarray:
        """DV01 of dealers' awarded but unsettled auction positions ($mn per bp)."""
        total = np.zeros(n_dealers)
        for awards in self.pending.values():
            for award in awards:
                total += award.dealer_dv01_mn
        return total


def cmb_maturity(settles: pd.Timestamp) -> pd.Timestamp:
    """A cash-management bill matures on the regular bills' Thursday (holiday-rolled) at least a
    month out, so the regular auction that day rolls it over with the maturing bills."""
    earliest = settles + pd.Timedelta(weeks=BILL_WEEKS[CMB_TENOR])
    monday = earliest - pd.Timedelta(days=earliest.weekday())
    thursday = roll_forward(monday + pd.Timedelta(days=3))
    return thursday if thursday >= earliest else roll_forward(monday + pd.Timedelta(days=10))


def new_issue_dv01(tenor: str, years: float, yield_pct: float) -> float:
    """DV01 per $ par of an issue priced near par at its auction yield."""
    return bond_dv01_one(yield_pct, yield_pct, years, tenor in BILL_TENORS)


def auction_day(m: TreasuryMarketModel) -> None:
    """Settle the awards issuing today, let levered funds plan, hold today's auctions."""
    new_issues = False
    for award in m.auctions.pending.pop(m.date, []):
        new_issues = settle_award(m, award) or new_issues
    if new_issues:
        m.prices.refresh_buckets(m.issues, m.ledger, m.today)  # new issues join their buckets, once a day
    lf = m.levered_funds
    lf.pay_out_or_raise_capital(
        m.ledger, m.accounts_of("levered_fund"), m.accounts_of("household"), m.banks.size_share, m.date
    )
    dealers = m.dealers
    markup = float(dealers.size_share @ dealers.repo_markup_bp())
    lf.plan_today(m.ledger, m.slices["levered_fund"], m.curve.vol_ratio, m.market.shocks.haircut_multiplier, markup)
    for spec in m.calendar.auctions_on.get(m.date, []):
        hold_auction(m, spec)
    # A cash-management bill when the Treasury's projected cash would breach its floor.
    cmb_bn = m.treasury.cash_management_bill_bn(m)
    if cmb_bn > 0 and m.day_index + 1 < len(m.calendar):
        settles = m.calendar.dates[m.day_index + 1]
        spec = AuctionSpec(m.date, settles, CMB_TENOR, False, cmb_maturity(settles))
        hold_auction(m, spec, offering_bn=cmb_bn)
        m.treasury.cmb_sold_bn += cmb_bn


@dataclass(frozen=True)
class AuctionMood:
    """End investors' common surprise at one auction: demand scaled by `demand_factor`, and their
    tenders `value_shift_bp` cheaper than usual against WI (negative: richer, they bid through)."""

    demand_factor: float = 1.0
    value_shift_bp: float = 0.0

    @classmethod
    def draw(cls, rng: np.random.Generator, demand_noise: float, value_noise_bp: float) -> AuctionMood:
        draws = rng.standard_normal(2)
        # Mean-one lognormal: noise does not change average demand.
        factor = float(np.exp(demand_noise * draws[0] - 0.5 * demand_noise**2))
        return cls(factor, float(value_noise_bp * draws[1]))


def tender_dispersion(m: TreasuryMarketModel) -> float:
    """How far end investors' tenders spread around their centre today, relative to calm: the volatility
    ratio to the power `treasury.auction_dispersion_vol_elasticity` (one when that is zero)."""
    elasticity = m.config.treasury.auction_dispersion_vol_elasticity
    return float(m.curve.vol_ratio**elasticity) if elasticity > 0 else 1.0


def dealer_tenders(
    m: TreasuryMarketModel,
    offering: float,
    wi: float,
    dv01_per_par: float,
    bucket: int,
    covering_bn: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Primary dealers' tenders beside those covering their when-issued sales (`covering_bn`, each
    dealer's, $bn): (dealer, yield %, amount $bn); see `Dealers.auction_bids`."""
    concessions, amounts = m.dealers.auction_bids(
        offering, dv01_per_par, bucket, m.curve.realised_vol_bp, m.curve.vol_ratio, covering_bn
    )
    rows = np.repeat(np.arange(m.config.dealers.count), amounts.shape[1])
    return rows, (wi + concessions / 100.0).ravel(), amounts.ravel()


def collect_tenders(
    m: TreasuryMarketModel,
    tenor: str,
    offering: float,
    wi: float,
    shortfall: float,
    mood: AuctionMood | None = None,
    years: float | None = None,
    event: tuple[str, bool] | None = None,
    dispersion: float = 1.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every bidder's tenders: (trading account, yield %, amount $bn).

    Args:
        wi: the yield bidders value the issue at (%): the secondary curve at its maturity.
        mood: end investors' common surprise at this auction (none when not given).
        years: the issue's remaining life (the tenor's for a new issue).
        event: the auction within the day (tenor, cash-management bill), for the loop's arrows.
        dispersion: how far end investors' tenders spread around their centre, relative to calm
            (`tender_dispersion`).
    """
    mood = mood or AuctionMood()
    led = m.ledger
    bucket = TENORS.index(tenor)
    # The loop's arrows into end demand: bid/ask against calm, remembered tails (`sim.loop`).
    liquidity_ratio = m.calm.follow(
        "liquidity_drives_auction_demand", m.market.half_spread_today_bp / m.dealers.reference_half_spread_bp
    )
    remembered = m.calm.follow("tails_drive_concession", m.real_money.remembered_tail_bp, *(event or (tenor, False)))
    years = TENOR_YEARS[tenor] if years is None else years
    # End investors' demand moves with the auction's surprise; so do the yields they bid.
    shortfall = 1.0 - (1.0 - shortfall) * mood.demand_factor
    # What dealers sold when-issued is end demand met before the auction: real money bids the rest.
    wi_sold = when_issued_sold_bn(m, offering, shortfall)
    covering = wi_sold * m.dealers.size_share
    d_rows, dealer_y, dealer_amt = dealer_tenders(m, offering, wi, new_issue_dv01(tenor, years, wi), bucket, covering)
    wi = wi + mood.value_shift_bp / 100.0
    rm = m.slices["real_money"]
    rm_i, rm_y, rm_amt = m.real_money.auction_bids(
        bucket, offering - wi_sold, wi, liquidity_ratio, shortfall, led.money_bn[rm], remembered, dispersion
    )
    fo = m.slices["foreign_official"]
    fo_i, fo_y, fo_amt = m.foreign_official.auction_bids(
        offering, wi, m.curve.risk_off, led.money_bn[fo], shortfall, dispersion
    )
    lf = m.slices["levered_fund"]
    lf_i, lf_y, lf_amt = m.levered_funds.auction_bids(offering, wi, m.levered_funds.buys_bn * (1.0 - shortfall))
    lf_amt = lf_amt if tenor in BASIS_TENORS else np.zeros_like(lf_amt)
    mmf = m.slices["money_fund"]
    book = m.money_funds.bill_book(m)
    mm_i, mm_y, mm_amt = m.money_funds.bill_bids(
        offering,
        wi,
        book.bills_bn,
        book.assets_bn,
        led.money_bn[mmf],
        book.bills_outstanding_bn,
        book.idle_cash_bn,
        book.repo_cash_bn,
    )
    mm_amt = mm_amt * (1.0 - shortfall) if tenor in BILL_TENORS else np.zeros_like(mm_amt)
    rows = np.concatenate(
        [
            d_rows,
            rm.start + rm_i,
            fo.start + fo_i,
            lf.start + lf_i,
            mmf.start + mm_i,
        ]
    )
    yields = np.concatenate([dealer_y, rm_y, fo_y, lf_y, mm_y])
    amounts = np.concatenate([dealer_amt, rm_amt, fo_amt, lf_amt, mm_amt])
    if wi_sold > 0:
        # Short the issue, dealers bid to be sure of covering: as far through the curve as end investors
        # who must be filled (unshifted by the auction's mood: the sales are made), one tender each, pro
        # rata to size; these come last (`when_issued_awards_bn`).
        n_d = m.config.dealers.count
        cover_pct = wi - (mood.value_shift_bp + m.config.real_money.bid_through_bp) / 100.0
        rows = np.concatenate([rows, np.arange(n_d)])
        yields = np.concatenate([yields, np.full(n_d, cover_pct)])
        amounts = np.concatenate([amounts, covering])
    return rows, yields, amounts


def when_issued_sold_bn(m: TreasuryMarketModel, offering_bn: float, shortfall: float) -> float:
    """Par dealers sold in when-issued trading before an auction ($bn): `auction_when_issued_share` of
    the offering, less the end demand a shock or the auction's surprise keeps away."""
    return m.config.dealers.auction_when_issued_share * offering_bn * max(1.0 - shortfall, 0.0)


def when_issued_awards_bn(m: TreasuryMarketModel, awarded_bn: np.ndarray) -> np.ndarray:
    """Each dealer's award on its when-issued cover tender (the last one per dealer; zero without
    when-issued sales), from the awards in tender order ($bn)."""
    n_d = m.config.dealers.count
    if m.config.dealers.auction_when_issued_share <= 0:
        return np.zeros(n_d)
    return awarded_bn[-n_d:]


def hold_auction(m: TreasuryMarketModel, spec: AuctionSpec, offering_bn: float | None = None) -> None:
    """Tenders, single-price clearing, awards held to the issue date, and the auction's record."""
    tenor = spec.tenor
    bucket = TENORS.index(tenor)
    slot = m.issues.on_the_run_slot(tenor) if spec.reopening else None
    years = m.prices.years_left[slot] if slot is not None else TENOR_YEARS[tenor]
    curve_pct = float(m.prices.market_yield_pct(float(years), m.today))
    target = m.treasury.tga_target_bn(m.date)
    rollover = m.treasury.bill_rollover_bn(m, tenor, spec.issue_date) if tenor in BILL_TENORS else None
    offering = offering_bn or m.treasury.offering_bn(
        tenor, slot is not None, m.ledger.tga_bn, 0.0, m.date, target, rollover
    )
    if offering < SMALLEST_AMOUNT_BN:
        # Sized at zero (or, steered down to its floor, at less than a thousand dollars, which
        # tenders split among bidders cannot price): the auction is not held.
        return
    shortfall = m.shocks.shortfall(m.day_index, tenor)
    tsy = m.config.treasury
    mood = AuctionMood.draw(m.auction_rng, tsy.auction_demand_noise, tsy.auction_value_noise_bp)
    # Bidders value the issue off the curve; WI trading adds the concession auctions have needed.
    event = (tenor, offering_bn is not None)
    dispersion = tender_dispersion(m)
    rows, yields, amounts = collect_tenders(m, tenor, offering, curve_pct, shortfall, mood, years, event, dispersion)
    wi = curve_pct + m.auctions.expected_concession_bp[bucket] / 100.0
    # Bidders' idiosyncratic views of value (a fraction of a bp in calm).
    noise_pct = dispersion * m.config.treasury.auction_bid_noise_bp / 100.0
    yields = yields + m.auction_rng.normal(0.0, noise_pct, yields.size)
    result = clear_uniform_price(yields, amounts, offering)
    awards = np.bincount(rows, weights=result.awarded_bn, minlength=m.accounts.n_trading)
    n_d = m.config.dealers.count
    rm, fo, lf, mmf = (m.slices[k] for k in ("real_money", "foreign_official", "levered_fund", "money_fund"))
    dealer_award = float(awards[:n_d].sum())
    # What dealers won to cover when-issued sales goes at issue to the investors who bought it.
    sold_on = when_issued_awards_bn(m, result.awarded_bn)
    if sold_on.sum() > 0:
        delivered = awards[:n_d] - np.maximum(awards[:n_d] - sold_on, 0.0)
        awards[:n_d] -= delivered
        awards[rm] += float(delivered.sum()) * m.real_money.size_share
    # Dealers warehouse what they take down; with the arrow off, only what they took down in the
    # calm twin, passing the rest straight on to end investors (`sim.loop`).
    kept = np.minimum(awards[:n_d], m.calm.follow("takedown_raises_utilization", awards[:n_d], *event))
    passed_on = float((awards[:n_d] - kept).sum())
    if passed_on > 0:
        awards[rm] += passed_on * m.real_money.size_share
        awards[:n_d] = kept
    tail_bp = (result.high_yield_pct - wi) * 100.0
    m.real_money.remember_tail(bucket, tail_bp)
    m.auctions.learn_concession(bucket, (result.high_yield_pct - curve_pct) * 100.0)
    m.levered_funds.buys_bn = np.maximum(m.levered_funds.buys_bn - awards[lf], 0.0)
    dealer_dv01 = awards[:n_d] * new_issue_dv01(tenor, years, result.high_yield_pct) * 1000.0
    award = Award(tenor, slot, awards, result.high_yield_pct, spec.maturity, dealer_dv01)
    m.auctions.pending.setdefault(spec.issue_date, []).append(award)
    if m.day_index < m.first_recorded_day:
        return  # a warm-up auction: simulated, not recorded
    indirect = awards[rm].sum() + awards[fo].sum()
    direct = awards[lf].sum() + awards[mmf].sum()
    m.recorder.record_auction(
        {
            "auction_date": m.date,
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


def settle_award(m: TreasuryMarketModel, award: Award) -> bool:
    """Issue day: create or reopen the issue, winners pay the TGA, the SOMA rolls over.

    Returns True when a new issue was created (it must join its trading bucket).
    """
    iss = m.issues
    slot = award.slot
    created = False
    if slot is None or not iss.active[slot]:
        is_bill = award.tenor in BILL_TENORS
        coupon = 0.0 if is_bill else max(np.floor(award.high_yield_pct * 8.0) / 8.0, MIN_COUPON_PCT)
        slot = iss.add(award.tenor, m.today, day_number(award.maturity), coupon)
        created = True
        if slot >= m.prices.dv01_per_par.size:
            m.prices.refresh_buckets(iss, m.ledger, m.today)  # the register grew: widen per-slot arrays now
        iss.next_coupon_day[slot] = m.today + COUPON_PERIOD_DAYS
    m.prices.mark_new_issue(iss, m.ledger, slot, m.today)
    years = max(int(iss.maturity_day[slot]) - m.today, 0) / 365.25
    price = bond_price_one(award.high_yield_pct, float(iss.coupon_pct[slot]), years, bool(iss.is_bill[slot]))
    rows = np.flatnonzero(award.awards_bn > 0)
    par = award.awards_bn[rows]
    cb = m.central_bank
    if award.tenor in BILL_TENORS and cb.pending_reinvestment_bn > 0:
        addon = min(cb.pending_reinvestment_bn, float(par.sum()))
        cb.pending_reinvestment_bn -= addon
        rows = np.append(rows, m.ledger.cb_row)
        par = np.append(par, addon)
    m.ledger.issue(rows, slot, par, price)
    iss.outstanding_bn[slot] += float(par.sum())
    m.flows.settled_bn += float(par.sum())
    m.flows.settled_slots.append(slot)
    m.flows.settled_slots_bn.append(float(par.sum()))
    return created
