"""Banks' reserve managers: the reserve demand curve and the supply of repo cash.

A bank lends reserves in repo only when repo pays enough over IORB: a balance-sheet
hurdle plus the marginal value of the reserves it would give up. That value is small when
reserves are far above the bank's lowest comfortable level and rises steeply as they
approach it (a reserve demand curve flat when abundant, steep when scarce). Reserves are
unevenly held: a few large banks with high comfortable levels hold most of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.agents.member import PopulationMember
from sim.calendar import MarketCalendar
from sim.ledger import Ledger
from sim.scenario.schema import BankSection

TRANCHES = 10
ARBITRAGE_NEWTON_STEPS = 12  # ample: from x = 0 the steps converge to within 1e-12 of a share
MAX_EXCESS_HELD_SHARE = 1e6  # comfortable levels: beyond anything the ON RRP could lend
LOAN_DUST_BN = 1e-9  # $1,000: below this a loan is rounding


@dataclass(frozen=True)
class DealerParents:
    """Dealers' parents in the fed funds market (`banks.dealer_parents_in_fed_funds`): their ledger
    accounts, what each lends (the reserves behind deposits it gained) and what each borrows (what
    it lost), $bn."""

    accounts: np.ndarray
    surplus_bn: np.ndarray
    shortfall_bn: np.ndarray


class BankReserveManager(PopulationMember):
    """One bank's reserve manager (a view onto its row of `Banks`)."""

    @property
    def lowest_comfortable_bn(self) -> float:
        """Reserves below which the bank will not willingly go ($bn)."""
        return float(self.population.lowest_comfortable_bn[self.index])


class Banks:
    """The banks' reserve managers: their state (arrays over banks) and decisions.

    Attributes:
        size_share: share of the system's reserves (and of deposits and custody).
        lowest_comfortable_bn: reserves below which a bank will not willingly go ($bn).
        hurdle_offset_bp: each bank's balance-sheet cost relative to the common hurdle.
    """

    def __init__(
        self,
        params: BankSection,
        size_share: np.ndarray,
        lowest_comfortable_bn: np.ndarray,
        hurdle_offset_bp: np.ndarray,
    ):
        self.params = params
        self.size_share = size_share
        self.lowest_comfortable_bn = lowest_comfortable_bn
        self.hurdle_offset_bp = hurdle_offset_bp  # banks differ in what balance sheet costs them

    def marginal_value_bp(self, reserves_bn: np.ndarray) -> np.ndarray:
        """Value over IORB of the last dollar of reserves (bp), the reserve demand curve.

        Args:
            reserves_bn: reserves by bank, shape (banks,) or (banks, k).
        """
        p = self.params
        comfortable = self.lowest_comfortable_bn.reshape((-1,) + (1,) * (np.ndim(reserves_bn) - 1))
        ratio = reserves_bn / comfortable
        return p.demand_curve_level_bp * np.exp(np.minimum(p.demand_curve_steepness * (1.0 - ratio), 50.0))

    def repo_tranches(
        self, reserves_bn: np.ndarray, iorb_pct: float, vol_ratio: float = 1.0, snapshot_hurdle_bp: float = 0.0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lending offers: (bank index, asking rate %, amount $bn), TRANCHES per bank.

        Each bank splits what it could lend (reserves above its hard floor) into equal
        tranches; each asks IORB + hurdle + the marginal value of reserves after lending it.
        The hurdle (balance-sheet and counterparty cost) rises when volatility is above
        normal and, on snapshot days, by `snapshot_hurdle_bp`.
        """
        p = self.params
        stress_bp = p.stress_hurdle_bp * (max(vol_ratio, 1.0) ** p.hurdle_vol_elasticity - 1.0)
        hurdle_bp = p.lending_hurdle_bp + stress_bp + snapshot_hurdle_bp
        lendable = np.maximum(reserves_bn - p.hard_floor_share * self.lowest_comfortable_bn, 0.0)
        piece = lendable / TRANCHES
        steps = np.arange(1, TRANCHES + 1)
        after = reserves_bn[:, None] - piece[:, None] * steps[None, :]
        value = self.marginal_value_bp(after)
        ask = iorb_pct + (hurdle_bp + self.hurdle_offset_bp[:, None] + value) / 100.0
        banks = np.repeat(np.arange(reserves_bn.size), TRANCHES)
        return banks, ask.ravel(), np.repeat(piece, TRANCHES)

    def snapshot_intensity(self, calendar: MarketCalendar, day_index: int) -> float:
        """How hard banks window-dress today: 1 on quarter-ends, `year_end_intensity` at
        year-end (the largest banks' surcharge scores are measured then), 0 otherwise."""
        if not bool(calendar.is_quarter_end[day_index]):
            return 0.0
        return self.params.year_end_intensity if calendar.dates[day_index].month == 12 else 1.0

    def snapshot_lending_cut_share(self, calendar: MarketCalendar, day_index: int) -> float:
        """Share of repo lending window-dressing banks withdraw today."""
        return min(self.params.quarter_end_lending_cut_share * self.snapshot_intensity(calendar, day_index), 1.0)

    def snapshot_hurdle_bp(self, calendar: MarketCalendar, day_index: int) -> float:
        """Extra rate banks still lending ask today for the balance sheet the snapshot reports (bp)."""
        return self.params.quarter_end_hurdle_bp * self.snapshot_intensity(calendar, day_index)

    def reserve_shortfall_bn(self, reserves_bn: np.ndarray) -> np.ndarray:
        """What each bank lacks of its lowest comfortable reserves ($bn), zero above them."""
        return np.maximum(self.lowest_comfortable_bn - reserves_bn, 0.0)

    def repo_borrowing_bn(
        self, reserves_bn: np.ndarray, rate_pct: np.ndarray, iorb_pct: float, cut_share: float = 0.0
    ) -> np.ndarray:
        """What each bank borrows in repo at each rate ($bn, shape (banks, rates)): enough to lift
        its reserves to where the marginal value of the last dollar covers the rate over IORB plus
        what holding borrowed reserves costs (`reserve_arbitrage_cost_bp`, and beyond the bank's
        comfortable level `arbitrage_cost_slope_bp` more per comfortable level held above it: the
        balance sheet the arbitrage takes); on snapshot days `cut_share` less. A bank never ends
        the day overdrawn: its overdraft it borrows at any rate.
        """
        p = self.params
        # Every bank's curve is the same in reserves per comfortable level: solve it once per rate.
        covered_bp = (np.asarray(rate_pct, dtype=float) - iorb_pct) * 100.0 + p.reserve_arbitrage_cost_bp
        ratio = np.ones_like(covered_bp)
        below = covered_bp > p.demand_curve_level_bp
        # A nearly flat curve overflows to an infinite amount: holding reserves is then pure
        # arbitrage, which callers treat as such (`at_first_shortfall`, `borrowing_by_bank_bn`).
        with np.errstate(divide="ignore", over="ignore"):
            # Below the comfortable level, the inverse of `marginal_value_bp` (with no value at all, no demand).
            ratio[below] = 1.0 - np.log(covered_bp[below] / p.demand_curve_level_bp) / p.demand_curve_steepness
            above = ~below
            ratio[above] += self._excess_held_share(covered_bp[above])
            # Column-major (banks down a rate's column): callers total each rate's column pairwise.
            # The transpose of the row-major product is that layout, without a copy.
            wanted = (ratio[:, None] * self.lowest_comfortable_bn[None, :]).T
        borrowed = np.maximum(wanted - reserves_bn[:, None], 0.0)
        if cut_share:  # a product with 1.0 changes no bit: only snapshot days pay for it
            borrowed *= 1.0 - cut_share
        return np.maximum(borrowed, np.maximum(-reserves_bn, 0.0)[:, None])

    def _excess_held_share(self, covered_bp: np.ndarray) -> np.ndarray:
        """How far above its comfortable level (share of it) a bank holds reserves when the last
        dollar must cover `covered_bp` (< `demand_curve_level_bp`): x with
        level * exp(-steepness * x) - arbitrage_cost_slope_bp * x = covered_bp. The left side falls
        and is convex in x, so Newton's steps from x = 0 rise to the root without overshooting."""
        p = self.params
        if p.arbitrage_cost_slope_bp <= 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.where(covered_bp > 0, -np.log(covered_bp / p.demand_curve_level_bp), np.inf) / (
                    p.demand_curve_steepness
                )
        if not covered_bp.size:
            return np.zeros_like(covered_bp)
        # One rate (the day's borrowing) steps as a numpy scalar: the same operations, bit for bit,
        # at a tenth of a one-element array's cost.
        one = covered_bp.size == 1
        covered = covered_bp[0] if one else covered_bp
        excess = np.float64(0.0) if one else np.zeros_like(covered_bp)
        before_last = None
        # A vanishing slope sends a step past any amount funds could lend: it stops at the cap.
        with np.errstate(over="ignore", divide="ignore", under="ignore"):
            for done in range(1, ARBITRAGE_NEWTON_STEPS + 1):
                value = p.demand_curve_level_bp * np.exp(-p.demand_curve_steepness * excess)
                gap = value - p.arbitrage_cost_slope_bp * excess - covered
                step = gap / (p.demand_curve_steepness * value + p.arbitrage_cost_slope_bp)
                last, excess = excess, np.minimum(excess + step, MAX_EXCESS_HELD_SHARE)
                # Steps that come back bit for bit to where they were two steps ago (a fixed point,
                # or the last bit flipping) repeat from there: the remaining steps' end is known, so
                # stop. (Their bytes compared: a fifth of an elementwise test's cost.)
                if before_last is not None and excess.tobytes() == before_last.tobytes():
                    if (ARBITRAGE_NEWTON_STEPS - done) % 2:
                        excess = last
                    break
                before_last = last
        return np.atleast_1d(excess)

    def fed_funds_bid_pct(
        self, reserves_bn: np.ndarray, iorb_pct: float, ceiling_pct: float = np.inf, other_reserves_bn: float = 0.0
    ) -> float:
        """What banks pay for overnight reserves (%): IORB less what holding borrowed reserves
        costs them (the arbitrage must cover it), plus the marginal value of reserves at the
        system's reserves relative to comfortable levels (interbank loans equalise that ratio).
        Near IORB less the cost when reserves are abundant, above IORB when they are scarce, and
        never above `ceiling_pct` (the discount window with its stigma: banks borrow there instead).
        `other_reserves_bn`: reserves outside the banks that trade in the same market, net (dealers'
        parents' surplus less their shortfall, `fed_funds_market`)."""
        comfortable = self.lowest_comfortable_bn
        even = comfortable * ((reserves_bn.sum() + other_reserves_bn) / comfortable.sum())
        value_bp = float(self.marginal_value_bp(even) @ comfortable / comfortable.sum())
        return min(iorb_pct + (value_bp - self.params.reserve_arbitrage_cost_bp) / 100.0, ceiling_pct)

    def lend_overnight(
        self, ledger: Ledger, accounts: np.ndarray, borrowers: np.ndarray, amounts_bn: np.ndarray, rate_pct: float
    ) -> bool:
        """Evening fed funds: banks (`accounts`) lend `borrowers` their `amounts_bn` overnight at
        `rate_pct`, in proportion to their reserves, repaid the next morning. False (and no loan)
        when there is nothing to lend or no bank holds reserves."""
        total = float(amounts_bn.sum())
        held = np.maximum(ledger.money_bn[accounts], 0.0)
        if total <= LOAN_DUST_BN or held.sum() <= 0:
            return False
        lent = total * held / held.sum()
        lent[int(np.argmax(lent))] += total - lent.sum()  # equal totals, to the last bit
        interest = amounts_bn * rate_pct / 36000.0
        ledger.repo_open(accounts, lent, lent * (interest.sum() / total), borrowers, amounts_bn, interest)
        return True

    def fed_funds_market(
        self,
        ledger: Ledger,
        accounts: np.ndarray,
        iorb_pct: float,
        outside_lenders: np.ndarray,
        outside_offer_bn: np.ndarray,
        outside_reservation_pct: float,
        ceiling_pct: float = np.inf,
        parents: DealerParents | None = None,
    ) -> tuple[float, float]:
        """Overnight unsecured loans of reserves, priced at banks' bid (`fed_funds_bid_pct`).

        Lenders without IORB (FHLB-like cash pools) lend what they offer to banks whenever
        the bid beats what they would earn in repo; banks take it in proportion to their
        comfortable levels. Then payments having scattered reserves, banks long of their
        comfortable share lend the surplus to banks short of it. All loans are repaid the
        next morning; they are not repo collateralised, so they stay out of the SOFR statistics.

        With `parents` (dealers' parents, `banks.dealer_parents_in_fed_funds`), the parents' banks
        trade beside the banks, with no comfortable level of their own: each lends its surplus and
        borrows its shortfall at the banks' bid at the reserves of both, and the banks end as evenly
        spread over their comfortable levels as before.

        Returns the day's fed funds rate (EFFR-like, %) and volume ($bn); NaN and 0 with no trades.
        """
        parents_net_bn = 0.0 if parents is None else float(parents.surplus_bn.sum() - parents.shortfall_bn.sum())
        rate = self.fed_funds_bid_pct(ledger.money_bn[accounts], iorb_pct, ceiling_pct, parents_net_bn)
        volume = 0.0
        offered = float(outside_offer_bn.sum())
        if offered > 0 and rate >= outside_reservation_pct:
            taken = offered * self.lowest_comfortable_bn / self.lowest_comfortable_bn.sum()
            taken[-1] += offered - taken.sum()
            ledger.repo_open(
                outside_lenders,
                outside_offer_bn,
                outside_offer_bn * rate / 36000.0,
                accounts,
                taken,
                taken * rate / 36000.0,
            )
            volume += offered
        reserves = ledger.money_bn[accounts]
        comfortable = self.lowest_comfortable_bn
        surplus = reserves - comfortable * ((reserves.sum() + parents_net_bn) / comfortable.sum())
        traders = accounts
        if parents is not None:
            traders = np.concatenate([accounts, parents.accounts, parents.accounts])
            surplus = np.concatenate([surplus, parents.surplus_bn, -parents.shortfall_bn])
        lenders, borrowers = surplus > 0, surplus < 0
        if lenders.any() and borrowers.any():
            lent, borrowed = surplus[lenders], -surplus[borrowers]
            borrowed = borrowed * (lent.sum() / borrowed.sum())  # equal totals up to rounding
            interest_paid = borrowed * rate / 36000.0
            interest_received = lent * (interest_paid.sum() / lent.sum())
            ledger.repo_open(traders[lenders], lent, interest_received, traders[borrowers], borrowed, interest_paid)
            volume += float(lent.sum())
        return (rate, volume) if volume > 0 else (float("nan"), 0.0)
