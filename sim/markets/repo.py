"""Overnight repo in intraday rounds, and SOFR-style volume-weighted percentiles.

Lenders post tranches (an asking rate and an amount): money funds at the ON RRP rate plus
a small spread, banks at IORB plus a hurdle plus the marginal value of the reserves they
would give up. Borrowers (dealers) bring a share of their remaining need each round. A
round clears at the marginal ask that fills the demand; infra-marginal lenders get part of
the gap to the marginal rate (bargaining), so trades spread over a range of rates.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache, cached_property
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from sim.agents.bank import DealerParents
from sim.agents.dealer import cleared_repo_books_bn

if TYPE_CHECKING:
    from collections.abc import Callable

    from sim.model import TreasuryMarketModel

    BanksDemand = Callable[[np.ndarray], np.ndarray]  # rates (%) -> $bn by bank and rate


@dataclass(frozen=True)
class RoundResult:
    """Fills of one round: by lender tranche and by borrower ($bn), and their rates (%)."""

    marginal_rate_pct: float
    tranche_fill_bn: np.ndarray
    tranche_rate_pct: np.ndarray
    borrower_fill_bn: np.ndarray
    borrower_rate_pct: float  # pro-rata matching: every borrower pays the round's average


def clear_round(
    ask_pct: np.ndarray,
    available_bn: np.ndarray,
    need_bn: np.ndarray,
    max_rate_pct: float,
    bargaining_share: float,
    rate_noise_pct: np.ndarray,
    round_shift_pct: float,
    order: np.ndarray | None = None,
    marginal_floor_pct: float = -np.inf,
) -> RoundResult:
    """Clear one repo round.

    Args:
        ask_pct: lowest rate each lender tranche accepts (%).
        available_bn: amount of each tranche ($bn).
        need_bn: each borrower's demand this round ($bn).
        max_rate_pct: borrowers do not pay more than this (their outside option).
        bargaining_share: share of (marginal - ask) that goes to the lender.
        rate_noise_pct: trade-level noise, one per tranche (%).
        round_shift_pct: round-level noise added to the marginal rate (%).
        order: tranches with asks at or below `max_rate_pct`, cheapest first; computed
            when not given (asks do not change within a day, so callers sort once).
        marginal_floor_pct: the day's market-clearing rate: a round's marginal rate is not
            below it, since lenders know the day's balance of cash and demand.
    """
    if order is None:
        order = eligible_order(ask_pct, max_rate_pct)
    demand = float(need_bn.sum())
    fill = np.zeros_like(available_bn)
    supply_sorted = available_bn[order]
    cumulative = np.cumsum(supply_sorted)
    supply = float(cumulative[-1]) if cumulative.size else 0.0
    if demand <= 0 or supply <= 0:
        return RoundResult(float("nan"), fill, np.zeros_like(ask_pct), np.zeros_like(need_bn), 0.0)
    filled = min(demand, supply)
    marginal_pos = min(int(np.searchsorted(cumulative, filled, side="left")), order.size - 1)
    fill[order] = np.minimum(supply_sorted, np.maximum(filled - (cumulative - supply_sorted), 0.0))
    marginal = float(ask_pct[order[marginal_pos]]) + round_shift_pct
    marginal = min(max(marginal, float(ask_pct[order[0]]), marginal_floor_pct), max_rate_pct)
    rate = ask_pct + bargaining_share * np.maximum(marginal - ask_pct, 0.0) + rate_noise_pct
    rate = np.minimum(np.maximum(rate, ask_pct), max_rate_pct)
    borrower_fill = need_bn * (filled / demand)
    average = float((fill * rate).sum() / filled)
    return RoundResult(marginal, fill, rate, borrower_fill, average)


def eligible_order(ask_pct: np.ndarray, max_rate_pct: float) -> np.ndarray:
    """Tranches a borrower would take (ask at or below its limit), cheapest first."""
    eligible = np.flatnonzero(ask_pct <= max_rate_pct)
    return eligible[np.argsort(ask_pct[eligible], kind="stable")]


def volume_weighted_percentiles(rates_pct: np.ndarray, volumes_bn: np.ndarray, quantiles: np.ndarray) -> np.ndarray:
    """Percentiles of the rate distribution weighted by volume, the way SOFR's are computed.

    The q-th percentile is the lowest rate at which the cumulative volume reaches q of the
    total. Returns NaNs when there is no volume.
    """
    keep = volumes_bn > 0
    rates = rates_pct[keep]
    if rates.size == 0:
        return np.full(len(quantiles), np.nan)
    order = rates.argsort(kind="stable")
    cumulative = volumes_bn[keep][order].cumsum()
    positions = cumulative.searchsorted(np.asarray(quantiles) * cumulative[-1], side="left")
    return rates[order[np.minimum(positions, rates.size - 1)]]


# ---------------------------------------------------------------- the repo day
PERCENTILES = np.array([0.01, 0.25, 0.50, 0.75, 0.99])
MEDIAN = np.array([0.5])
DUST_BN = 1e-9  # $1,000: below this an amount is rounding, not a trade
OPERATION_BISECTION_STEPS = 50  # halvings of the private share of need: 2**-50 of it, far below DUST_BN
TRI_PARTY, GCF, SPONSORED_DVP, BILATERAL = range(4)  # segments of the repo market


@dataclass(frozen=True)
class SegmentedTrades:
    """The day's repo trades by segment (indexed by the segment codes): rates (%) and volumes
    ($bn), each segment's in the order they traded. Kept apart as they are made: the published
    statistics read one segment at a time."""

    rates_by_segment_pct: tuple[np.ndarray, ...]
    volumes_by_segment_bn: tuple[np.ndarray, ...]

    def of(self, segment: int) -> tuple[np.ndarray, np.ndarray]:
        """Rates (%) and volumes ($bn) of one segment's trades."""
        return self.rates_by_segment_pct[segment], self.volumes_by_segment_bn[segment]

    @property
    def rates_pct(self) -> np.ndarray:
        """Every trade's rate (%), segment by segment."""
        return np.concatenate(self.rates_by_segment_pct)

    @property
    def volumes_bn(self) -> np.ndarray:
        """Every trade's volume ($bn), segment by segment."""
        return np.concatenate(self.volumes_by_segment_bn)

    @property
    def segment(self) -> np.ndarray:
        """Every trade's segment code, in the same order."""
        return np.repeat(np.arange(len(self.rates_by_segment_pct)), [r.size for r in self.rates_by_segment_pct])


@dataclass(frozen=True)
class ReferenceRates:
    """Published-style statistics of a day's repo trades (%, $bn); NaN where a segment did not trade."""

    sofr_percentiles_pct: np.ndarray  # 1st, 25th, 50th, 75th, 99th
    sofr_volume_bn: float
    tgcr_median_pct: float
    bilateral_median_pct: float


def reference_rates(trades: SegmentedTrades) -> ReferenceRates:
    """SOFR, TGCR and the uncleared bilateral median, measured the way the New York Fed measures them.

    SOFR covers tri-party, GCF and cleared DVP trades (the central bank's own ON RRP is not
    a trade); DVP trades below the 25th volume-weighted percentile of DVP trades are dropped
    as specials. TGCR is the tri-party median. Dealer-to-client uncleared bilateral repo is
    in neither and reported apart.
    """
    dvp_rates, dvp_volumes = trades.of(SPONSORED_DVP)
    if (dvp_volumes > 0).any():
        specials_below = volume_weighted_percentiles(dvp_rates, dvp_volumes, np.array([0.25]))[0]
        general = dvp_rates >= specials_below
        dvp_rates, dvp_volumes = dvp_rates[general], dvp_volumes[general]
    tri_rates, tri_volumes = trades.of(TRI_PARTY)
    gcf_rates, gcf_volumes = trades.of(GCF)
    sofr_rates = np.concatenate([tri_rates, gcf_rates, dvp_rates])
    sofr_volumes = np.concatenate([tri_volumes, gcf_volumes, dvp_volumes])
    bilateral_rates, bilateral_volumes = trades.of(BILATERAL)
    return ReferenceRates(
        sofr_percentiles_pct=volume_weighted_percentiles(sofr_rates, sofr_volumes, PERCENTILES),
        sofr_volume_bn=float(sofr_volumes.sum()),
        tgcr_median_pct=float(volume_weighted_percentiles(tri_rates, tri_volumes, MEDIAN)[0]),
        bilateral_median_pct=float(volume_weighted_percentiles(bilateral_rates, bilateral_volumes, MEDIAN)[0]),
    )


def segment_trades(m: TreasuryMarketModel, day: RepoDay, clients: ClientRates) -> SegmentedTrades:
    """Tag the day's trades: cash lenders lend sponsored (cleared DVP) for their sponsored share,
    the rest money funds in tri-party and banks in tri-party or GCF; clients borrow sponsored or
    uncleared bilateral."""
    structure = m.config.market_structure
    cleared_cash = 1.0 if structure.central_clearing_repo else structure.sponsored_cash_lending_share
    tri_share = m.config.banks.tri_party_share
    # All of the day's lender trades at once, in the order they traded (each segment keeps that order).
    rate = np.concatenate(day.trade_rates_pct) if day.trade_rates_pct else np.zeros(0)
    volume = np.concatenate(day.trade_volumes_bn) if day.trade_volumes_bn else np.zeros(0)
    from_bank = np.repeat(
        np.array([lender == "bank" for lender in day.trade_lenders], dtype=bool),
        [v.size for v in day.trade_volumes_bn],
    )
    uncleared = volume * (1.0 - cleared_cash)
    # By segment code (tri-party, GCF, sponsored DVP, bilateral): funds lend uncleared in tri-party,
    # banks in tri-party and GCF. Every client of a dealer pays its rate: one trade per dealer weighs
    # the same in the percentiles.
    rates = (rate, rate[from_bank], np.concatenate([rate, clients.sponsored_rate_pct]), clients.bilateral_rate_pct)
    volumes = (
        np.where(from_bank, uncleared * tri_share, uncleared),
        uncleared[from_bank] * (1.0 - tri_share),
        np.concatenate([volume * cleared_cash, clients.sponsored_bn]),
        clients.bilateral_bn,
    )
    return SegmentedTrades(rates, volumes)


@dataclass(frozen=True)
class ClientRates:
    """Dealers' repo to levered clients by segment, per dealer: volumes ($bn) and rates (%)."""

    sponsored_bn: np.ndarray
    sponsored_rate_pct: np.ndarray
    bilateral_bn: np.ndarray
    bilateral_rate_pct: np.ndarray

    @property
    def average_rate_pct(self) -> np.ndarray:
        """Each dealer's average client rate (%), the bilateral rate where it lent nothing."""
        total = self.sponsored_bn + self.bilateral_bn
        blended = self.sponsored_bn * self.sponsored_rate_pct + self.bilateral_bn * self.bilateral_rate_pct
        return np.divide(blended, total, out=self.bilateral_rate_pct.copy(), where=total > 0)


def client_rates(
    m: TreasuryMarketModel,
    cost_pct: np.ndarray,
    borrowed_bn: np.ndarray,
    lent_bn: np.ndarray,
    premium_bp: np.ndarray,
    sponsored_client_share: np.ndarray | None = None,
) -> ClientRates:
    """What levered clients pay each dealer (%): its average funding cost plus the balance-sheet
    premium (markup and scarcity, bp); sponsored trades (each dealer's `sponsored_client_share`
    of its client repo, else the market's) pay only for the balance sheet they use after netting
    against the dealer's cleared funding."""
    ms = m.config.market_structure
    cleared_borrowed, sponsored = cleared_repo_books_bn(
        ms, borrowed_bn, lent_bn, ms.central_clearing_repo, sponsored_client_share
    )
    netted_share = ms.netting_efficiency * np.minimum(
        np.divide(cleared_borrowed, sponsored, out=np.ones_like(sponsored), where=sponsored > DUST_BN), 1.0
    )
    bilateral_rate = cost_pct + premium_bp / 100.0
    sponsored_rate = cost_pct + premium_bp * (1.0 - netted_share) / 100.0
    return ClientRates(sponsored, sponsored_rate, lent_bn - sponsored, bilateral_rate)


@dataclass(frozen=True)
class RepoDayInputs:
    """What the intraday repo rounds clear ($bn, %, by lender tranche or borrowing dealer).

    Money funds lend tri-party first, at one asking rate, up to a cap per dealer; banks
    lend what funds could not, each tranche at its own ask, in price order.
    """

    dealer_need_bn: np.ndarray
    fund_ask_pct: np.ndarray
    fund_cash_bn: np.ndarray
    fund_cap_per_dealer_bn: np.ndarray
    fund_ask_slope_pct: float  # extra rate funds ask to lend all their cash rather than none (%)
    fund_has_facility: np.ndarray  # lenders without it lend all their cash whatever the rate
    no_facility_discount_pct: float  # what lenders without the facility earn below funds with it (%)
    bank_ask_pct: np.ndarray
    bank_cash_bn: np.ndarray
    max_rate_pct: float
    rounds: int
    bargaining_share: float
    tri_party_discount_pct: float
    round_noise_pct: np.ndarray  # (rounds,)
    fund_noise_pct: np.ndarray  # (rounds, funds)
    bank_noise_pct: np.ndarray  # (rounds, bank tranches)
    fund_ask_curvature: float = np.inf  # how much steeper funds' supply gets as their idle cash runs out
    banks_bid_pct: float = -np.inf  # what banks bid for funds' idle cash: funds lend dealers no cheaper (%)

    def fund_rate_pct(self, lent_share: float) -> float:
        """The rate at which funds with the facility lend `lent_share` of their cash (%)."""
        return self.facility_floor_pct + self.fund_ask_slope_pct * premium_share(lent_share, self.fund_ask_curvature)

    # What the day's clearing reads several times, measured once (the inputs do not change).
    @cached_property
    def facility_floor_pct(self) -> float:
        """The ask of money funds that could leave their cash at the ON RRP instead (%)."""
        asks = self.fund_ask_pct[self.fund_has_facility]
        return float(asks.max()) if asks.size else float(self.fund_ask_pct.max())

    @cached_property
    def pools_cash_bn(self) -> float:
        """Cash of the lenders without the facility ($bn)."""
        return float(self.fund_cash_bn[~self.fund_has_facility].sum())

    @cached_property
    def facility_funds_cash_bn(self) -> float:
        """Cash of the funds with the facility ($bn)."""
        return float(self.fund_cash_bn[self.fund_has_facility].sum())

    @cached_property
    def usable_fund_cash_bn(self) -> float:
        """What funds can lend today within their limits per dealer ($bn)."""
        capped_need = float(np.minimum(self.dealer_need_bn, self.fund_cap_per_dealer_bn).sum())
        return min(capped_need, self.facility_funds_cash_bn + self.pools_cash_bn)

    @cached_property
    def bank_order(self) -> np.ndarray:
        """Bank tranches dealers would take, cheapest first."""
        return eligible_order(self.bank_ask_pct, self.max_rate_pct)

    @cached_property
    def clearing_rate_pct(self) -> float:
        """`day_clearing_rate_pct`: the clearing, its rounds and banks' borrowing after them read it."""
        return max(dealers_clearing_rate_pct(self), self.banks_bid_pct)

    @cached_property
    def no_facility_discount_by_fund_pct(self) -> np.ndarray:
        """What each lender earns below funds with the facility (%): zero for those funds."""
        return np.where(self.fund_has_facility, 0.0, self.no_facility_discount_pct)


@dataclass(frozen=True)
class RepoDay:
    """The day's fills and interest due tomorrow ($bn), and every trade's rate and volume."""

    fund_lent_bn: np.ndarray
    fund_interest_bn: np.ndarray
    bank_lent_bn: np.ndarray
    bank_interest_bn: np.ndarray
    dealer_borrowed_bn: np.ndarray
    dealer_interest_bn: np.ndarray
    dealer_unfilled_bn: np.ndarray
    trade_rates_pct: list[np.ndarray]
    trade_volumes_bn: list[np.ndarray]
    trade_lenders: list[str]  # "fund" or "bank", one per entry of the trade lists
    dealer_marginal_rate_pct: np.ndarray  # rate of the dearest trade in the last round each dealer borrowed in
    funds_idle_share: float = 1.0  # share of funds' investable cash they leave at the facility (`funds_idle_share`)


def premium_share(lent_share: float, curvature: float) -> float:
    """Share of the funds' full ask slope they ask to lend `lent_share` of their investable cash.

    Funds differ in how much they value the facility's liquidity: with curvature c the extra
    spread is ln((1 + c) / (1 - s + c)) / ln((1 + c) / c) of the slope, flat while most cash
    is idle at the facility and steep as it runs out; a large c is the straight line.
    """
    return float(premium_shares(np.asarray(lent_share, dtype=float), curvature))


def premium_shares(lent_share: np.ndarray, curvature: float) -> np.ndarray:
    """`premium_share` for an array of shares lent."""
    share = np.minimum(np.maximum(lent_share, 0.0), 1.0)  # np.clip's bits, cheaper
    if not np.isfinite(curvature):
        return share
    scale = curvature_scale(curvature)
    if not np.isfinite(scale):  # a curvature too small for floats is the step itself
        return np.where(share >= 1.0, 1.0, 0.0)
    return np.log1p(share / (1.0 - share + curvature)) / scale


@cache  # one curvature per scenario, read at every point of the funds' supply curve
def curvature_scale(curvature: float) -> float:
    """ln((1 + c) / c), the supply curve's scale; infinite for a curvature too small for floats."""
    with np.errstate(over="ignore", divide="ignore"):
        return float(np.log1p(1.0 / curvature))


def lent_share(premium: float, curvature: float) -> float:
    """Inverse of `premium_share`: the share of investable cash funds lend at `premium` of their slope."""
    premium = min(max(premium, 0.0), 1.0)
    if not np.isfinite(curvature):
        return premium
    scale = curvature_scale(curvature)
    if not np.isfinite(scale):  # the step: funds lend all at any premium, none at none
        return 1.0 if premium > 0 else 0.0
    return float(min((1.0 + curvature) * -np.expm1(-premium * scale), 1.0))


def facility_floor_pct(day: RepoDayInputs) -> float:
    """The ask of money funds that could leave their cash at the ON RRP instead."""
    return day.facility_floor_pct


def fund_supply_share(day: RepoDayInputs, rate_pct: float) -> np.ndarray:
    """Share of each lender's investable cash lent in repo at `rate_pct`. Funds with the ON RRP
    lend none at their ask and all at the ask plus the slope, along `premium_share` between
    (they differ in how much they value the facility's liquidity); lenders without it lend all
    their cash."""
    floor = day.facility_floor_pct
    if day.fund_ask_slope_pct <= 0:
        share = 1.0 if rate_pct >= floor else 0.0
    else:
        share = lent_share((rate_pct - floor) / day.fund_ask_slope_pct, day.fund_ask_curvature)
    return np.where(day.fund_has_facility, share, 1.0)


def funds_offer_bn(day: RepoDayInputs, day_rate_pct: float) -> np.ndarray:
    """What each lender offers at the day's rate ($bn)."""
    return day.fund_cash_bn * fund_supply_share(day, day_rate_pct)


def funds_idle_share(day: RepoDayInputs, supply_rate_pct: float) -> float:
    """Share of their investable cash funds with the facility leave idle at it: what they do not
    lend at the rate on their supply curve where they lend today (`funds_supply_rate_pct`), so a
    few bank tranches pricing the day's last borrowing above it do not count as funds' cash spent."""
    share = fund_supply_share(day, supply_rate_pct)
    return 1.0 - float(share[day.fund_has_facility].max(initial=0.0))


def funds_supply_rate_pct(day: RepoDayInputs, day_rate_pct: float) -> float:
    """The rate on money funds' supply curve at the amount they lend today (%): the day's rate
    while they cover the day, else the rate at which they lend all they can within their limits
    per dealer. Funds that lend at a rate keep lending at it: no fund takes less."""
    pools, cash, usable = day.pools_cash_bn, day.facility_funds_cash_bn, day.usable_fund_cash_bn
    top = day.fund_rate_pct(max(usable - pools, 0.0) / cash if cash > 0 else 0.0)
    return max(min(day_rate_pct, max(top, day.facility_floor_pct)), day.banks_bid_pct)


def funds_lending_point(day: RepoDayInputs, day_rate_pct: float) -> tuple[float, FundTerms]:
    """Where money funds sit on their supply curve today: the rate at what they lend
    (`funds_supply_rate_pct`, %), and the day's terms given the share of their cash left idle at
    it (`funds_idle_share`)."""
    supply_rate_pct = funds_supply_rate_pct(day, day_rate_pct)
    return supply_rate_pct, fund_terms(day, funds_idle_share(day, supply_rate_pct))


def day_clearing_rate_pct(day: RepoDayInputs) -> float:
    """The day's market-clearing rate: the rate at which money funds' supply covers the day's
    demand within their limits per dealer, else the ask of the bank tranche that covers the
    rest (not below funds' top ask), else the dealers' outside option; never below what banks
    bid for funds' cash (`banks_bid_pct`). Lenders bargain over the gap to it in every round."""
    return day.clearing_rate_pct


def dealers_clearing_rate_pct(day: RepoDayInputs) -> float:
    """The rate at which lenders cover dealers' need alone (see `day_clearing_rate_pct`)."""
    demand = float(day.dealer_need_bn.sum())
    pools, cash, usable = day.pools_cash_bn, day.facility_funds_cash_bn, day.usable_fund_cash_bn
    if demand <= pools + 1e-12 and pools > 0:
        return float(day.fund_ask_pct[~day.fund_has_facility].max())  # the pools alone cover the day
    if demand <= usable + 1e-12:
        return day.fund_rate_pct((demand - pools) / cash if cash > 0 else 0.0)
    funds_top = day.fund_rate_pct((usable - pools) / cash if cash > 0 else 0.0)
    order = day.bank_order
    cumulative = np.cumsum(day.bank_cash_bn[order])
    rest = demand - usable
    if cumulative.size == 0 or cumulative[-1] < rest:
        return day.max_rate_pct
    return max(funds_top, float(day.bank_ask_pct[order[int(np.searchsorted(cumulative, rest, side="left"))]]))


def repo_operation_awards_bn(day: RepoDayInputs, offered_bn: float, min_bid_pct: float) -> np.ndarray:
    """Each dealer's award at the central bank's overnight repo operation, held before the private
    rounds ($bn).

    Dealers bid at the minimum rate for the part of their need that private lenders would fund
    only above it: what is left of the day's demand beyond the largest share of each dealer's need
    that still clears at or below the minimum bid (`day_clearing_rate_pct`). The operation awards
    that, pro rata to need, up to the amount offered; with private cash cheaper, no one bids.
    """
    need = day.dealer_need_bn
    total = float(need.sum())
    if offered_bn <= 0 or total <= DUST_BN or day_clearing_rate_pct(day) <= min_bid_pct:
        return np.zeros_like(need)

    def clears_below_min_bid(share: float) -> bool:
        return day_clearing_rate_pct(replace(day, dealer_need_bn=need * share)) <= min_bid_pct

    # The private share of need: at least what the offer leaves; the largest that clears at the minimum bid.
    low, high = max(1.0 - offered_bn / total, 0.0), 1.0
    if clears_below_min_bid(low):
        for _ in range(OPERATION_BISECTION_STEPS):
            middle = 0.5 * (low + high)
            low, high = (middle, high) if clears_below_min_bid(middle) else (low, middle)
    return need * (1.0 - low)


def rationed_share(got_bn: np.ndarray, capped: np.ndarray, funds_exhausted: bool) -> float:
    """Share of a round's fund lending that went to dealers whose need the funds' limits (or
    their cash) left unmet: those dealers bid the funds' cash up to their marginal source."""
    total = float(got_bn.sum())
    if funds_exhausted or total <= 0:
        return 1.0 if funds_exhausted else 0.0
    return float(got_bn[capped].sum()) / total


class FundTerms(NamedTuple):
    """A day's terms of money funds' lending, the same in every round: what each cash lender takes
    below funds with the facility (%), the lowest rate it lends at (%), the share of the gap to
    the marginal cash funds bargain for, and the share of funds' cash idle at the facility."""

    discount_pct: np.ndarray
    lowest_pct: np.ndarray
    bargaining_share: float
    idle_share: float


def fund_terms(day: RepoDayInputs, idle_share: float = 1.0) -> FundTerms:
    """Funds bargain over the gap to the round's marginal cash in proportion to the share of their
    cash they lend (1 - `idle_share`): a fund with cash idle at the facility is undercut by the next
    one, which would lend it for little more than the facility pays. Lenders without the facility
    take a discount to what funds earn, in proportion to the share of funds' cash left idle at the
    facility: with cash to spare they compete for borrowers; once funds lend nearly all, they earn
    what funds earn. No lender goes below its floor."""
    discount = day.no_facility_discount_by_fund_pct * idle_share
    lowest = np.maximum(day.fund_ask_pct, day.facility_floor_pct - discount)
    return FundTerms(discount, lowest, day.bargaining_share * (1.0 - idle_share), idle_share)


def fund_round_rates_pct(
    day: RepoDayInputs,
    round_index: int,
    supply_rate_pct: float,
    marginal_pct: float,
    rationed: float,
    terms: FundTerms,
) -> np.ndarray:
    """Each fund's rate in a round (%). Funds earn their supply rate and bargain over the gap to
    the round's marginal cash (less the tri-party discount) by the day's `terms`; what dealers their
    limits ration borrow is bid up to that marginal cash. Lenders without the facility take their
    discount; no lender goes below its floor or above the dealers' outside option."""
    gap = max(marginal_pct + day.round_noise_pct[round_index] - day.tri_party_discount_pct - supply_rate_pct, 0.0)
    captured = rationed + (1.0 - rationed) * terms.bargaining_share
    rate = supply_rate_pct + captured * gap - terms.discount_pct + day.fund_noise_pct[round_index]
    return np.minimum(np.maximum(rate, terms.lowest_pct), day.max_rate_pct)


def lenders_fill_bn(cash_left_bn: np.ndarray, has_facility: np.ndarray, taken_bn: float) -> np.ndarray:
    """Each lender's part of what dealers take from funds in a round ($bn): lenders without the
    facility first, pro rata to their cash left, since their cash would otherwise sit idle and they
    undercut funds for borrowers (`day_clearing_rate_pct` prices the day the same way); funds with
    the facility the rest, pro rata to theirs."""
    pools_left = float(cash_left_bn[~has_facility].sum())
    from_pools = min(taken_bn, pools_left)
    funds_left = float(cash_left_bn[has_facility].sum())
    from_funds = taken_bn - from_pools
    share = np.where(
        has_facility,
        from_funds / funds_left if funds_left > 0 else 0.0,
        from_pools / pools_left if pools_left > 0 else 0.0,
    )
    return cash_left_bn * share


def clear_repo_day(day: RepoDayInputs) -> RepoDay:
    """Clear the day's rounds: each round dealers bring an equal share of their remaining need.

    Lenders without the facility lend first (`lenders_fill_bn`); funds all ask the same rate, so
    they lend the rest pro rata to the cash they have left, up to their cap per dealer; banks
    clear the rest in price order. Funds share in the gap to
    the round's marginal cash less the tri-party discount; borrowers pay what their lenders
    receive, pro rata to what each got.
    """
    n_d = day.dealer_need_bn.size
    cap = day.fund_cap_per_dealer_bn
    day_rate = day_clearing_rate_pct(day)
    # Funds offer what they lend at the day's rate; the rest stays at the ON RRP.
    fund_left = funds_offer_bn(day, day_rate)
    bank_left, need_left = day.bank_cash_bn.copy(), day.dealer_need_bn.copy()
    bank_order = day.bank_order
    fund_lent, bank_lent = np.zeros(day.fund_ask_pct.size), np.zeros(day.bank_ask_pct.size)
    fund_interest, bank_interest = np.zeros(day.fund_ask_pct.size), np.zeros(day.bank_ask_pct.size)
    dealer_fill, dealer_interest = np.zeros(n_d), np.zeros(n_d)
    dealer_marginal = np.full(n_d, np.nan)
    trade_rates: list[np.ndarray] = []
    trade_volumes: list[np.ndarray] = []
    trade_lenders: list[str] = []
    theta = day.bargaining_share
    fund_supply_rate, terms = funds_lending_point(day, day_rate)
    for r in range(day.rounds):
        bring = need_left / (day.rounds - r)
        from_funds = np.minimum(bring, cap)
        fund_supply, fund_demand = float(fund_left.sum()), float(from_funds.sum())
        taken = min(fund_supply, fund_demand)
        fund_fill = lenders_fill_bn(fund_left, day.fund_has_facility, taken)
        got = from_funds * (taken / fund_demand) if fund_demand > 0 else np.zeros(n_d)
        cap = cap - got
        rest = bring - got
        bank_round = None
        # Rounding dust left after the funds' fill is not a demand for bank cash.
        if float(rest.sum()) > DUST_BN:
            cleared = clear_round(
                day.bank_ask_pct,
                bank_left,
                rest,
                day.max_rate_pct,
                theta,
                day.bank_noise_pct[r],
                day.round_noise_pct[r],
                bank_order,
                day_rate,
            )
            if cleared.tranche_fill_bn.sum() > DUST_BN:
                bank_round = cleared
        marginal = bank_round.marginal_rate_pct if bank_round is not None else day_rate
        rationed = rationed_share(got, bring > from_funds + DUST_BN, fund_supply < fund_demand)
        fund_rate = fund_round_rates_pct(day, r, fund_supply_rate, marginal, rationed, terms)
        fund_left -= fund_fill
        fund_lent += fund_fill
        fund_interest += fund_fill * fund_rate / 36000.0
        trade_rates.append(fund_rate)
        trade_volumes.append(fund_fill)
        trade_lenders.append("fund")
        round_interest = float(fund_fill @ fund_rate)
        lent_at = fund_rate[fund_fill > 0]
        round_top = float(lent_at.max()) if lent_at.size else np.nan
        got_total = got
        if bank_round is not None:
            bank_fill, bank_rate = bank_round.tranche_fill_bn, bank_round.tranche_rate_pct
            bank_left -= bank_fill
            bank_lent += bank_fill
            bank_interest += bank_fill * bank_rate / 36000.0
            trade_rates.append(bank_rate)
            trade_volumes.append(bank_fill)
            trade_lenders.append("bank")
            round_interest += float(bank_fill @ bank_rate)
            got_total = got + bank_round.borrower_fill_bn
            bank_top = float(bank_rate[bank_fill > 0].max())
            round_top = bank_top if np.isnan(round_top) else max(round_top, bank_top)
        dealer_fill += got_total
        total_got = float(got_total.sum())
        if total_got > 0:
            dealer_interest += (round_interest / 36000.0) * (got_total / total_got)
        need_left = need_left - got_total
        dealer_marginal = np.where(got_total > 0, round_top, dealer_marginal)
    return RepoDay(
        fund_lent,
        fund_interest,
        bank_lent,
        bank_interest,
        dealer_fill,
        dealer_interest,
        need_left,
        trade_rates,
        trade_volumes,
        trade_lenders,
        dealer_marginal,
        terms.idle_share,
    )


def close_overnight_positions(m: TreasuryMarketModel) -> None:
    """Morning: yesterday's overnight repo, facility loans and ON RRP come due."""
    led = m.ledger
    rates = m.market.rates
    led.repo_close_all()
    yesterday = m.market.facility_rate_yesterday
    for facility, book, rate in (
        ("srf", led.srf_bn, rates.srf_pct),
        ("dw", led.discount_window_bn, rates.discount_window_pct),
        ("repo_operations", led.repo_operations_bn, rates.iorb_pct),
    ):
        owed = np.flatnonzero(book > 0)
        if owed.size:
            interest = book[owed] * yesterday.get(facility, rate) / 36000.0
            led.central_bank_lends(owed, -book[owed], facility)
            led.central_bank_interest(owed, interest)
    mmf = m.accounts_of("money_fund")
    led.place_on_rrp(mmf, -led.on_rrp_bn[mmf])


def outside_option_pct(m: TreasuryMarketModel, srf_saving_bp: float = 0.0) -> float:
    """The most a borrower pays overnight: the window (with its stigma) and the SRF (with its
    stigma, less `srf_saving_bp` of balance sheet it saves), capped over IORB."""
    sc = m.config
    cb = sc.central_bank
    rates = m.market.rates
    ceiling = min(
        rates.iorb_pct + sc.repo.max_rate_above_iorb_bp / 100.0,
        rates.discount_window_pct + cb.discount_window_stigma_bp / 100.0,
    )
    if cb.srf.enabled:
        ceiling = min(ceiling, rates.srf_pct + max(cb.srf.stigma_bp - srf_saving_bp, 0.0) / 100.0)
    return ceiling


def dealers_outside_option_pct(m: TreasuryMarketModel) -> float:
    """The most dealers pay in the market; a centrally cleared SRF saves them their balance-sheet markup."""
    dealers = m.dealers
    cleared = m.config.central_bank.srf.centrally_cleared
    return outside_option_pct(m, float(dealers.size_share @ dealers.repo_markup_bp()) if cleared else 0.0)


@dataclass(frozen=True)
class ClientFinancing:
    """Dealers' repo to levered clients today ($bn): by (fund, dealer), and what funds wanted."""

    by_fund_and_dealer_bn: np.ndarray
    wanted_by_fund_bn: np.ndarray
    turned_away_share: float = 0.0  # share of the financing wanted that dealers first turned away

    @property
    def fund_borrowed_bn(self) -> np.ndarray:
        return self.by_fund_and_dealer_bn.sum(axis=1)

    @property
    def dealer_lent_bn(self) -> np.ndarray:
        return self.by_fund_and_dealer_bn.sum(axis=0)


def client_financing(m: TreasuryMarketModel) -> ClientFinancing:
    """Levered funds' financing from their prime dealers, capped by haircuts and by what the
    dealers' balance sheets take; funds spread it over the dealers by size. What a dealer
    turns away (a window-dresser before a snapshot, a dealer over its SLR) partly finds room
    at dealers with leverage headroom, who fund it in the repo market: the borrowers left pay up."""
    led = m.ledger
    dealers = m.dealers
    n_d = dealers.size_share.size
    lf = m.slices["levered_fund"]  # rows as a view, not a copy
    lf_collateral = np.maximum(led.holdings_bn[lf] @ led.price, 0.0)
    lf_want = (-led.money_bn[lf] + m.config.levered_funds.cash_buffer_share * lf_collateral).clip(
        0.0, lf_collateral * (1.0 - m.levered_funds.haircut_today)
    )
    wanted_by_dealer = dealers.size_share * lf_want.sum()
    capacity = dealers.client_financing_capacity_bn(wanted_by_dealer, dealers.slr_headroom_bn)
    granted = np.minimum(capacity, wanted_by_dealer)
    refused = float((wanted_by_dealer - granted).sum())
    turned_away = refused * m.config.levered_funds.refinance_elsewhere_share
    if turned_away <= 0:
        granted_share = np.divide(granted, wanted_by_dealer, out=np.ones(n_d), where=wanted_by_dealer > 0)
        financing = lf_want[:, None] * (dealers.size_share * granted_share)[None, :]
        return ClientFinancing(financing, lf_want)
    spare = np.where(granted < wanted_by_dealer, 0.0, np.maximum(dealers.slr_headroom_bn, 0.0))
    if spare.sum() > 0:
        granted = granted + spare * (min(turned_away, float(spare.sum())) / float(spare.sum()))
    financing = lf_want[:, None] * (granted / max(float(lf_want.sum()), 1e-12))[None, :]
    return ClientFinancing(financing, lf_want, refused / max(float(lf_want.sum()), 1e-12))


def dealer_funding_need_bn(m: TreasuryMarketModel, client_lent_bn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each dealer's need (cash back to its target after lending to clients) and the part
    private lenders fund: at most its collateral's value less their haircut ($bn)."""
    led = m.ledger
    dealers = m.dealers
    n_d = dealers.size_share.size
    # Reserves behind deposits the holding company gained are not the dealer's to spend.
    own_money = led.money_bn[:n_d] - (led.deposits_owed_bn()[:n_d] - dealers.deposits_at_open_bn)
    need = np.maximum(dealers.money_target_bn - (own_money - client_lent_bn), 0.0)
    haircut = dealers.funding_haircut_share(m.curve.vol_ratio)
    long_value = np.maximum(led.holdings_bn[:n_d], 0.0) @ led.price
    client_collateral = client_lent_bn / max(1.0 - m.levered_funds.haircut_today, 1e-9)
    dealers.funding_capacity_bn = (1.0 - haircut) * (long_value + client_collateral)
    private_need = np.minimum(need, dealers.funding_capacity_bn)
    dealers.funded_share = np.divide(private_need, need, out=np.ones(n_d), where=need > 0)
    return need, private_need


def dealer_parent_accounts(m: TreasuryMarketModel) -> tuple[np.ndarray, np.ndarray]:
    """The bank-affiliated dealers: their indices among dealers and their parents' ledger accounts."""
    affiliated = np.flatnonzero(m.dealers.bank_affiliated)
    return affiliated, m.slices["dealer"].start + affiliated


def dealer_parents_in_fed_funds(m: TreasuryMarketModel) -> DealerParents:
    """What dealers' parents bring to the morning's fed funds market (`banks.dealer_parents_in_fed_funds`):
    each bank-affiliated dealer's parent offers the reserves behind the deposits it gained since the
    opening (within its reserves; with the cash overnight repo returned to depositors this
    morning; where reserves are exempt from the leverage ratio, only when banks bid IORB or more)
    and needs what it lost ($bn). Their dealers fund themselves without either
    (`dealer_funding_need_bn`), so what a parent lends or borrows is its bank's, and is recorded
    on the dealers (`Dealers.parent_fed_funds_lent_bn`, `parent_fed_funds_borrowed_bn`), which
    keep it out of their repo books."""
    dealers = m.dealers
    affiliated, parents = dealer_parent_accounts(m)
    led = m.ledger
    gained = led.deposits_owed_bn()[parents] - dealers.deposits_at_open_bn[affiliated]
    surplus = np.minimum(np.maximum(gained, 0.0), np.maximum(led.money_bn[parents], 0.0))
    shortfall = np.maximum(-gained, 0.0)
    if m.config.dealers.exempt_reserves_from_slr:
        # Exempt from the leverage ratio, reserves cost a parent no room that fed funds sold would:
        # it lends them only when banks bid at least IORB for them, and holds them otherwise.
        iorb = m.market.rates.iorb_pct
        bid = m.banks.fed_funds_bid_pct(led.money_bn[m.accounts_of("bank")], iorb, other_reserves_bn=-shortfall.sum())
        if bid < iorb:
            surplus = np.zeros_like(surplus)
    dealers.parent_fed_funds_lent_bn = np.zeros(dealers.size_share.size)
    dealers.parent_fed_funds_lent_bn[affiliated] = surplus
    dealers.parent_fed_funds_borrowed_bn = np.zeros(dealers.size_share.size)
    dealers.parent_fed_funds_borrowed_bn[affiliated] = shortfall
    return DealerParents(parents, surplus, shortfall)


def dealer_parents_cover_overdrafts(m: TreasuryMarketModel) -> None:
    """Evening (`banks.dealer_parents_in_fed_funds`): dealers' parents that lent in the morning cash
    their depositors then moved on (funds re-lending what overnight repo returned) borrow their
    overdrafts back from banks in fed funds at the day's rate (`Banks.lend_overnight`)."""
    dealers = m.dealers
    affiliated, parents = dealer_parent_accounts(m)
    overdraft = np.maximum(-m.ledger.money_bn[parents], 0.0)
    if m.banks.lend_overnight(m.ledger, m.accounts_of("bank"), parents, overdraft, m.market.effr_pct):
        dealers.parent_fed_funds_borrowed_bn[affiliated] += overdraft


def repo_day_inputs(m: TreasuryMarketModel, private_need_bn: np.ndarray) -> tuple[RepoDayInputs, np.ndarray]:
    """Lenders' tranches, caps, outside option and the day's noise; also each bank tranche's bank.

    Money funds lend up to their limit per dealer (cut for window-dressers at quarter-ends);
    first the fed funds market spreads reserves (from cash pools to banks, among banks and, with
    `banks.dealer_parents_in_fed_funds`, between banks and dealers' parents),
    then banks offer tranches.
    """
    sc = m.config
    led = m.ledger
    rates = m.market.rates
    n_d = sc.dealers.count
    mmf = m.accounts_of("money_fund")
    banks = m.accounts_of("bank")
    # Fed funds first: pools without the ON RRP lend to banks when banks' bid beats their repo rate
    # (what funds earned yesterday less the discount that day's idle cash left them to take).
    pools_discount_bp = sc.money_funds.no_facility_discount_bp * m.market.funds_idle_share
    pools_repo_pct = m.market.tgcr_median_pct - pools_discount_bp / 100.0
    parents = dealer_parents_in_fed_funds(m) if sc.banks.dealer_parents_in_fed_funds else None
    fed_funds_pct, _ = m.banks.fed_funds_market(
        led,
        banks,
        rates.iorb_pct,
        mmf,
        m.money_funds.fed_funds_offer_bn(led.money_bn[mmf]),
        pools_repo_pct,
        outside_option_pct(m),
        parents,
    )
    if np.isfinite(fed_funds_pct):
        m.market.effr_pct = fed_funds_pct
    max_rate = dealers_outside_option_pct(m)
    pullback_share = m.market.shocks.funding_pullback_share
    fund_ask, fund_cash = m.money_funds.repo_tranches(led.money_bn[mmf], rates.on_rrp_pct, pullback_share)
    # Yesterday's repo and ON RRP came due this morning: funds' assets are their cash and securities.
    fund_limit_bn = m.money_funds.dealer_limit_bn(m.money_funds.assets_bn(led, m.slices["money_fund"]), pullback_share)
    cap = np.full(n_d, fund_limit_bn)
    if bool(m.calendar.is_quarter_end[m.day_index]):
        # Window-dressers report less tri-party borrowing on the snapshot: they take from funds at
        # most their need less the shrink share, and what they still need comes from banks (GCF,
        # sponsored) at the snapshot's price; funds park the cash they do not lend at the ON RRP.
        kept = (1.0 - sc.dealers.quarter_end_shrink_share) * np.minimum(cap, private_need_bn)
        cap = np.where(m.dealers.window_dresser, kept, cap)
    bank_i, bank_ask, bank_cash = m.banks.repo_tranches(
        led.money_bn[banks], rates.iorb_pct, m.curve.vol_ratio, m.banks.snapshot_hurdle_bp(m.calendar, m.day_index)
    )
    # Snapshot days: window-dressing banks step back from intermediating repo (more at year-end);
    # a funding pull-back hits banks' lending as it hits money funds'.
    bank_cash = bank_cash * (1.0 - m.banks.snapshot_lending_cut_share(m.calendar, m.day_index))
    pullback = m.market.shocks.funding_pullback_share * sc.banks.funding_pullback_sensitivity
    bank_cash = bank_cash * (1.0 - min(pullback, 1.0))
    rounds = sc.repo.rounds_per_day
    rng = m.repo_rng
    noise_round = rng.normal(0.0, sc.repo.round_noise_bp / 100.0, rounds)
    noise_fund = rng.normal(0.0, sc.repo.trade_noise_bp / 100.0, (rounds, mmf.size))
    noise_bank = rng.normal(0.0, sc.repo.trade_noise_bp / 100.0, (rounds, bank_ask.size))
    inputs = RepoDayInputs(
        dealer_need_bn=private_need_bn,
        fund_ask_pct=fund_ask,
        fund_cash_bn=fund_cash,
        fund_cap_per_dealer_bn=cap,
        fund_ask_slope_pct=sc.money_funds.ask_slope_bp / 100.0,
        fund_has_facility=m.money_funds.facility_access,
        no_facility_discount_pct=sc.money_funds.no_facility_discount_bp / 100.0,
        bank_ask_pct=bank_ask,
        bank_cash_bn=bank_cash,
        max_rate_pct=max_rate,
        rounds=rounds,
        bargaining_share=sc.repo.bargaining_share,
        tri_party_discount_pct=sc.repo.tri_party_discount_bp / 100.0,
        round_noise_pct=noise_round,
        fund_noise_pct=noise_fund,
        bank_noise_pct=noise_bank,
        fund_ask_curvature=sc.money_funds.ask_curvature,
    )
    return inputs, banks[bank_i]


def borrow_at_repo_operation(m: TreasuryMarketModel, inputs: RepoDayInputs) -> np.ndarray:
    """Morning: dealers take today's central-bank repo operation (if one is offered) before private
    repo trades; the loans add reserves until they mature tomorrow. Returns each dealer's award ($bn)."""
    market = m.market
    n_d = inputs.dealer_need_bn.size
    awarded = np.zeros(n_d)
    terms = m.central_bank.repo_operation_terms(m.today, market.rates.iorb_pct)
    if terms is not None:
        awarded = repo_operation_awards_bn(inputs, terms.offered_bn, terms.min_bid_pct)
        awarded = np.where(awarded > DUST_BN, awarded, 0.0)
        if awarded.sum() > 0:
            m.ledger.central_bank_lends(np.arange(n_d), awarded, "repo_operations")
            market.facility_rate_yesterday["repo_operations"] = terms.min_bid_pct
    market.repo_operations_bn = float(awarded.sum())
    m.dealers.repo_operations_borrowed_bn = awarded
    return awarded


def borrow_from_facilities(m: TreasuryMarketModel, unfunded_bn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the market would not lend below the dealers' limit, or against their collateral:
    the SRF up to its daily limit, then the discount window. Returns each dealer's SRF and
    window borrowing ($bn)."""
    cb = m.config.central_bank
    led = m.ledger
    rates = m.market.rates
    dealers = np.arange(unfunded_bn.size)
    unfunded_bn = np.where(unfunded_bn > DUST_BN, unfunded_bn, 0.0)
    srf_used = np.zeros(unfunded_bn.size)
    if cb.srf.enabled and unfunded_bn.sum() > 0:
        srf_used = unfunded_bn * min(1.0, cb.srf.daily_limit_bn / unfunded_bn.sum())
        led.central_bank_lends(dealers, srf_used, "srf")
    window = np.maximum(unfunded_bn - srf_used, 0.0)
    if window.sum() > 0:
        led.central_bank_lends(dealers, window, "dw")
    market = m.market
    market.facility_rate_yesterday.update(srf=rates.srf_pct, dw=rates.discount_window_pct)
    market.srf_usage_bn = float(srf_used.sum())
    market.discount_window_bn = float(window.sum())
    return srf_used, window


BORROWING_GRID = 129  # amounts banks could borrow, searched at once for where demand meets supply
BID_GRID = 33  # rates banks could bid for the last of funds' cash, between the top ask and their cap


def linear_grid(start: float, stop: float, num: int) -> np.ndarray:
    """`np.linspace(start, stop, num)` for floats and num >= 2, to the last bit (its steps, in its
    order), without its argument handling: the day's bank-borrowing searches draw two grids."""
    delta = stop - start
    grid = np.arange(num, dtype=float)
    step = delta / (num - 1)
    if step == 0:  # linspace's own path for a step too small for floats
        grid /= num - 1
        grid *= delta
    else:
        grid *= step
    grid += start
    grid[-1] = stop
    return grid


def bank_borrowing_point(
    inputs: RepoDayInputs,
    lent_before_bn: float,
    day_rate_pct: float,
    available_bn: float,
    demand_bn: BanksDemand,
    bid_cap_pct: float = -np.inf,
) -> tuple[float, float]:
    """Where banks' demand for funds' idle cash meets the funds' supply: (amount $bn, rate %).

    Funds lend their next `L` of cash at their ask for lending that much more (their supply curve
    from what they lent dealers today, never below the day's rate); `demand_bn(rates)` gives what
    banks borrow at each rate ($bn, by bank and rate). Demand falls and the ask rises with `L`, so
    the amount is found on a grid of `L` up to `available_bn` and interpolated between the two
    points around the crossing. When banks want more than all of it even at the funds' top ask,
    funds lend all of it, at the rate where banks' demand falls to what there is, searched up to
    `bid_cap_pct` (their outside option; below the top ask, the top ask: banks ration the cash,
    overdrafts first, `borrowing_by_bank_bn`).
    """
    cash = inputs.facility_funds_cash_bn
    amounts = linear_grid(0.0, available_bn, BORROWING_GRID)
    # np.clip's bits at a fraction of its cost (NaN passes through both).
    shares = np.minimum(np.maximum((lent_before_bn + amounts) / cash, 0.0), 1.0) if cash > 0 else np.ones_like(amounts)
    asks = np.maximum(
        inputs.facility_floor_pct + inputs.fund_ask_slope_pct * premium_shares(shares, inputs.fund_ask_curvature),
        day_rate_pct,
    )
    excess = demand_bn(asks).sum(axis=0) - amounts  # falls with the amount
    if excess[-1] >= 0:
        return available_bn, bid_up_rate_pct(float(asks[-1]), bid_cap_pct, available_bn, demand_bn)
    if excess[0] <= 0:
        return 0.0, float(asks[0])
    amount, rate = at_first_shortfall(excess, amounts, asks)
    return amount, rate


def bid_up_rate_pct(top_ask_pct: float, bid_cap_pct: float, available_bn: float, demand_bn: BanksDemand) -> float:
    """The rate (%) at which banks' demand for funds' idle cash (`demand_bn(rates)`, by bank and
    rate) falls to the `available_bn` there is, between the funds' top ask and `bid_cap_pct`: on a
    grid of rates, interpolated; the cap when banks still want more there (overdrafts are borrowed
    at any rate), the top ask when the cap is below it."""
    if not bid_cap_pct > top_ask_pct:
        return top_ask_pct
    rates = linear_grid(top_ask_pct, bid_cap_pct, BID_GRID)
    left = demand_bn(rates).sum(axis=0) - available_bn  # falls with the rate
    if left[-1] >= 0:
        return bid_cap_pct
    (rate,) = at_first_shortfall(left, rates)
    return rate


def at_first_shortfall(excess_bn: np.ndarray, *grids: np.ndarray) -> tuple[float, ...]:
    """The grids' values where banks' excess demand (`excess_bn`, falling along the grids, negative
    somewhere) first turns negative: interpolated linearly between the two points around it, or
    the first point past it when there is none before or the one before is infinite (demand ends
    where holding reserves stops being arbitrage)."""
    k = int(np.argmax(excess_bn < 0))
    if k == 0 or not np.isfinite(excess_bn[k - 1]):
        return tuple(float(grid[k]) for grid in grids)
    weight = excess_bn[k - 1] / (excess_bn[k - 1] - excess_bn[k])
    return tuple(float(grid[k - 1] + weight * (grid[k] - grid[k - 1])) for grid in grids)


def borrowing_by_bank_bn(
    wanted_bn: np.ndarray, overdraft_bn: np.ndarray, comfortable_bn: np.ndarray, lent_bn: float
) -> np.ndarray:
    """Split what funds lend banks ($bn): overdrafts first (pro rata when they alone exceed it),
    the rest in proportion to what each bank wants beyond its overdraft at the rate, or, when the
    rate makes holding reserves pure arbitrage (infinite demand), to its comfortable level (its size)."""
    overdrawn = float(overdraft_bn.sum())
    if lent_bn <= overdrawn:
        return overdraft_bn * (lent_bn / overdrawn)
    beyond = wanted_bn - overdraft_bn if np.isfinite(wanted_bn).all() else comfortable_bn
    if float(beyond.sum()) <= 0:
        beyond = comfortable_bn
    return overdraft_bn + beyond * ((lent_bn - overdrawn) / float(beyond.sum()))


def banks_repo_demand(m: TreasuryMarketModel, reserves_bn: np.ndarray | None = None) -> BanksDemand:
    """Banks' demand for money funds' cash at each rate ($bn, by bank and rate) at their reserves
    now, or at `reserves_bn` (`Banks.repo_borrowing_bn`; window-dressers borrow less on snapshot days)."""
    reserves = m.ledger.money_bn[m.accounts_of("bank")] if reserves_bn is None else reserves_bn
    cut_share = m.banks.snapshot_lending_cut_share(m.calendar, m.day_index)
    iorb = m.market.rates.iorb_pct
    return lambda rates: m.banks.repo_borrowing_bn(reserves, rates, iorb, cut_share)


def banks_bid_cap_pct(m: TreasuryMarketModel) -> float:
    """The most banks bid for funds' cash they want more of than there is (%): the day's fed funds
    rate with `banks.compete_for_fund_cash` (unsecured reserves are their outside option), else
    no bid above the funds' top ask."""
    return m.market.effr_pct if m.config.banks.compete_for_fund_cash else -np.inf


def banks_bid_for_fund_cash_pct(m: TreasuryMarketModel, inputs: RepoDayInputs) -> float:
    """What banks bid, before the day's rounds, for the money funds' cash dealers' need leaves
    idle (`banks.compete_for_fund_cash`, %): where their demand meets the funds' supply beyond what
    dealers take (`bank_borrowing_point`, bid up to `banks_bid_cap_pct` when the cash is short).
    Funds lend dealers no cheaper, so banks' need for reserves reaches the repo rate; no bid
    (-inf) when dealers' need takes all the funds' cash."""
    cash = inputs.facility_funds_cash_bn
    lent_to_dealers = min(max(inputs.usable_fund_cash_bn - inputs.pools_cash_bn, 0.0), cash)
    idle = cash - lent_to_dealers
    if idle <= DUST_BN:
        return -np.inf
    # Banks bid at the reserves they would hold once that cash left for the facility (funds lend
    # dealers pro rata to their cash).
    led = m.ledger
    banks, mmf = m.accounts_of("bank"), m.accounts_of("money_fund")
    idle_by_fund = np.where(inputs.fund_has_facility, inputs.fund_cash_bn, 0.0) * (idle / cash)
    drained = led.reserves_paid_out_bn(mmf, idle_by_fund)[banks]
    demand = banks_repo_demand(m, led.money_bn[banks] - drained)
    # On the funds' supply curve itself: a dealers' rate set by banks' tranches (funds capped per
    # dealer) is not a price of the funds' idle cash.
    _, rate = bank_borrowing_point(
        inputs, lent_to_dealers, inputs.facility_floor_pct, idle, demand, banks_bid_cap_pct(m)
    )
    return rate


def banks_borrow_idle_fund_cash(m: TreasuryMarketModel, inputs: RepoDayInputs, day: RepoDay) -> RepoDay:
    """Banks borrow money funds' cash left at the ON RRP after the funds' placement
    (`banks.repo_borrowing`), in tri-party repo, as far as the reserves are worth it to them.

    Each bank borrows up to where the marginal value of its reserves, less what holding borrowed
    reserves costs, is worth the funds' ask over IORB (`Banks.repo_borrowing_bn`); funds ask more
    the more of their cash they lend (their supply curve, from what they lent dealers today, never
    less than the day's rate), so the amount is where the two meet (`bank_borrowing_point`). A
    bank overdrawn borrows its overdraft at any rate. Each fund lends in proportion to its balance
    at the facility, with its own trade noise (the day's last round's), and banks pay what funds
    receive, pro rata. On snapshot days window-dressing banks borrow less as they lend less
    (`snapshot_lending_cut_share`): what they do not take stays at the ON RRP. The trades join the
    day's fund trades, so SOFR sees them. Returns the day with them added.
    """
    led = m.ledger
    banks = m.accounts_of("bank")
    reserves = led.money_bn[banks]
    mmf = m.accounts_of("money_fund")
    at_facility = np.maximum(led.on_rrp_bn[mmf], 0.0)
    available = float(at_facility.sum())
    m.market.banks_borrowed_from_funds_bn = 0.0
    if available <= DUST_BN:
        return day
    demand = banks_repo_demand(m)
    lent_bn, rate = bank_borrowing_point(
        inputs,
        float(day.fund_lent_bn[inputs.fund_has_facility].sum()),
        day_clearing_rate_pct(inputs),
        available,
        demand,
        banks_bid_cap_pct(m),
    )
    if lent_bn <= DUST_BN:
        return day
    m.market.banks_borrowed_from_funds_bn = lent_bn
    wanted = demand(np.array([rate]))[:, 0]
    rates = np.minimum(np.maximum(rate + inputs.fund_noise_pct[-1], inputs.fund_ask_pct), inputs.max_rate_pct)
    by_fund = at_facility * (lent_bn / available)
    by_bank = borrowing_by_bank_bn(wanted, np.maximum(-reserves, 0.0), m.banks.lowest_comfortable_bn, lent_bn)
    led.place_on_rrp(mmf, -by_fund)
    receivable = by_fund * rates / 36000.0
    payable = by_bank * (float(receivable.sum()) / lent_bn)
    payable[int(np.argmax(by_bank))] += receivable.sum() - payable.sum()  # equal totals, to the last bit
    led.repo_open(mmf, by_fund, receivable, banks, by_bank, payable)
    return replace(
        day,
        trade_rates_pct=[*day.trade_rates_pct, rates],
        trade_volumes_bn=[*day.trade_volumes_bn, by_fund],
        trade_lenders=[*day.trade_lenders, "fund"],
    )


def repo_day(m: TreasuryMarketModel) -> None:
    """Dealers finance clients, take the central bank's repo operation if one is offered, fund the
    rest of their need in rounds, and what is still unmet at the SRF, then the window.

    The day's trades open with the interest due tomorrow; dealers charge clients their own
    average cost plus a balance-sheet markup; money funds park what no dealer took at the
    ON RRP facility; the day's rates give the SOFR-style percentiles.
    """
    led = m.ledger
    market = m.market
    n_d = m.config.dealers.count
    dealers = np.arange(n_d)
    clients = client_financing(m)
    financing = clients.by_fund_and_dealer_bn
    lf_lent, client_lent = clients.fund_borrowed_bn, clients.dealer_lent_bn
    need, private_need = dealer_funding_need_bn(m, client_lent)
    inputs, bank_lenders = repo_day_inputs(m, private_need)
    from_operation = borrow_at_repo_operation(m, inputs)
    if from_operation.any():
        inputs = replace(inputs, dealer_need_bn=private_need - from_operation)
    if m.config.banks.repo_borrowing and m.config.banks.compete_for_fund_cash:
        inputs = replace(inputs, banks_bid_pct=banks_bid_for_fund_cash_pct(m, inputs))
    day = clear_repo_day(inputs)
    srf_used, window = borrow_from_facilities(m, day.dealer_unfilled_bn + (need - private_need))
    mmf = m.accounts_of("money_fund")
    lenders = np.concatenate([mmf, bank_lenders])
    lent = np.concatenate([day.fund_lent_bn, day.bank_lent_bn])
    receivable = np.concatenate([day.fund_interest_bn, day.bank_interest_bn])
    receivable[int(np.argmax(lent))] += day.dealer_interest_bn.sum() - receivable.sum()
    led.repo_open(lenders, lent, receivable, dealers, day.dealer_borrowed_bn, day.dealer_interest_bn)
    dealer_cost = np.divide(
        day.dealer_interest_bn * 36000.0,
        day.dealer_borrowed_bn,
        out=np.full(n_d, market.rates.iorb_pct),
        where=day.dealer_borrowed_bn > 0,
    )
    # Balance sheet is priced: when dealers turn clients away, every client pays for the scarcity.
    scarcity_bp = m.config.dealers.client_repo_scarcity_bp * clients.turned_away_share
    snapshot_day = bool(m.calendar.is_quarter_end[m.day_index])
    client = client_rates(
        m,
        dealer_cost,
        day.dealer_borrowed_bn,
        client_lent,
        m.dealers.repo_markup_bp() + scarcity_bp,
        m.dealers.sponsored_client_share(m.config.market_structure, snapshot_day),
    )
    interest = financing * client.average_rate_pct[None, :] / 36000.0
    lf = m.accounts_of("levered_fund")
    led.repo_open(dealers, client_lent, interest.sum(axis=0), lf, lf_lent, interest.sum(axis=1))
    trade_rates = [*day.trade_rates_pct, client.sponsored_rate_pct, client.bilateral_rate_pct]
    trade_volumes = [*day.trade_volumes_bn, client.sponsored_bn, client.bilateral_bn]
    led.place_on_rrp(mmf, m.money_funds.on_rrp_placement_bn(led.money_bn[mmf]))
    if m.config.banks.dealer_parents_in_fed_funds:
        dealer_parents_cover_overdrafts(m)
    if m.config.banks.repo_borrowing:
        with_banks = banks_borrow_idle_fund_cash(m, inputs, day)
        trade_rates += with_banks.trade_rates_pct[len(day.trade_rates_pct) :]
        trade_volumes += with_banks.trade_volumes_bn[len(day.trade_volumes_bn) :]
        day = with_banks
    rates_all, volumes_all = np.concatenate(trade_rates), np.concatenate(trade_volumes)
    percentiles = volume_weighted_percentiles(rates_all, volumes_all, PERCENTILES)
    # With no trades, the previous day's percentiles stand (the publication's fallback).
    if np.isfinite(percentiles).all():
        market.repo_percentiles = percentiles
    market.publish(reference_rates(segment_trades(m, day, client)))
    market.funds_idle_share = day.funds_idle_share
    # A dealer's marginal funding cost: the facility it ended at, else its dearest private trade,
    # else (no need today) the day's SOFR.
    marginal = np.where(
        np.isfinite(day.dealer_marginal_rate_pct), day.dealer_marginal_rate_pct, market.sofr_percentiles[2]
    )
    marginal = np.where(srf_used > 0, market.rates.srf_pct, marginal)
    m.dealers.record_funding_cost(
        np.where(window > 0, market.rates.discount_window_pct, marginal), market.rates.iorb_pct
    )
    m.dealers.srf_borrowed_bn = srf_used
    market.repo_volume_bn = float(volumes_all.sum())
    market.repo_intermediated_bn = float(lf_lent.sum())
    market.lf_unfunded_bn = float((clients.wanted_by_fund_bn - lf_lent).sum())
