"""Scenario schema: every parameter the market model uses, with 2025-like defaults.

A scenario is data. It is validated into frozen pydantic models; unknown keys, wrong
types and out-of-range values are errors. Units are in the names: `_bn` is $ billions,
`_pct` percent, `_bp` basis points, `_days` business days. Ranges keep the arithmetic
finite (`sim.scenario.bounds`): amounts that may be zero are zero or at least $1,000, and
scales the model divides by (haircuts, volatilities, spreads) stop short of zero.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from sim.scenario.bounds import SMALLEST_AMOUNT_BN, Amount

Tenor = Literal["4w", "8w", "13w", "26w", "52w", "2y", "3y", "5y", "7y", "10y", "20y", "30y"]
BILL_TENORS: tuple[Tenor, ...] = ("4w", "8w", "13w", "26w", "52w")
COUPON_TENORS: tuple[Tenor, ...] = ("2y", "3y", "5y", "7y", "10y", "20y", "30y")
TENORS = BILL_TENORS + COUPON_TENORS


class Section(BaseModel):
    """Base of every scenario section: strict keys, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _f(default, description: str, **bounds):
    return Field(default, description=description, **bounds)


# ---------------------------------------------------------------- policy and curve
class PolicyRateChange(Section):
    date: dt.date = Field(description="Date the new target range takes effect.")
    target_upper_pct: float = Field(description="Top of the fed funds target range (%).", ge=0, le=25)


class AdministeredRatesRow(Section):
    date: dt.date = Field(description="Date these rates take effect.")
    target_lower_pct: float = Field(description="Bottom of the fed funds target range (%).", ge=-1, le=25)
    target_upper_pct: float = Field(description="Top of the fed funds target range (%).", ge=0, le=25)
    iorb_pct: float = Field(
        description="Interest on reserve balances; interest on excess reserves (IOER) before 29 July 2021 (%).",
        ge=-1,
        le=25,
    )
    on_rrp_pct: float = Field(description="Overnight reverse repo facility rate (%).", ge=-1, le=25)

    @model_validator(mode="after")
    def _bottom_below_top(self) -> AdministeredRatesRow:
        if self.target_lower_pct > self.target_upper_pct:
            raise ValueError(
                f"target_lower_pct at or below target_upper_pct (found {self.target_lower_pct} above "
                f"{self.target_upper_pct})"
            )
        return self


class PolicySection(Section):
    target_upper_pct: float = _f(4.50, "Top of the target range at the start (%).", ge=0, le=25)
    range_width_bp: float = _f(25.0, "Width of the target range (bp).", ge=0, le=100)
    iorb_below_top_bp: float = _f(10.0, "IORB set this far below the top of the range (bp).", ge=0, le=50)
    on_rrp_above_bottom_bp: float = _f(0.0, "ON RRP rate above the bottom of the range (bp).", ge=0, le=50)
    path: list[PolicyRateChange] = _f([], "Later changes of the target range, by date.")
    rates: list[AdministeredRatesRow] = _f(
        [],
        "A dated table of administered rates, each row in force from its date until the next (the spreads "
        "between them change: IOER's technical adjustments, the ON RRP rate moved to the bottom of the range). "
        "When given it sets every rate: target_upper_pct, the offsets and path are not used. Its first row "
        "must be in force on the first simulated day (warm-up included).",
    )

    def top_of_range_pct(self, day: dt.date) -> float:
        """Top of the target range in force on `day` (%)."""
        if self.rates:
            rows = sorted(self.rates, key=lambda r: r.date)
            in_force = [r for r in rows if r.date <= day]
            return (in_force[-1] if in_force else rows[0]).target_upper_pct
        changes = sorted((c for c in self.path if c.date <= day), key=lambda c: c.date)
        return changes[-1].target_upper_pct if changes else self.target_upper_pct

    @model_validator(mode="after")
    def _one_way_to_set_rates(self) -> PolicySection:
        if self.rates and self.path:
            raise ValueError("either path or rates (a dated table of every rate), not both")
        return self


def dated_rows_in_order[R: BaseModel](cls: type, rows: list[R]) -> list[R]:
    """A dated path's rows (each with a `date`) in increasing order of date, each date once."""
    dates = [row.date for row in rows]  # type: ignore[attr-defined]
    if any(later <= earlier for earlier, later in zip(dates, dates[1:], strict=False)):
        raise ValueError("dates in increasing order, each once")
    return rows


class LevelVolFrom(Section):
    """The level factor's calm volatility from a date (a replayed rate-volatility path)."""

    date: dt.date = Field(description="Day from which the level factor moves with this volatility in calm.")
    level_vol_bp: float = Field(description="Daily std of the level factor in calm from that day (bp/day).", ge=0.01,
                                le=50)  # fmt: skip


class CurveSection(Section):
    term_premium_10y_bp: float = _f(45.0, "Fundamental 10y yield above the policy rate (bp).", ge=-300, le=500)
    term_premium_shape_years: float = _f(3.0, "Maturity over which the term premium builds up (years).", ge=0.1, le=30)
    level_vol_calm_bp: float = _f(5.0, "Daily std of the level factor in calm (bp/day).", ge=0.01, le=50)
    level_loading_years: float | None = _f(
        1.03,
        "Maturity over which yields' response to the level factor builds up (years): a yield T years from "
        "maturity moves (1 - exp(-T / this)) / (1 - exp(-10 / this)) times the ten-year's, so bills, anchored "
        "by the expected policy path, barely move (`sim.calibration.level_loading` estimates it from the "
        "daily changes of the constant-maturity yields: 1.03 with s.e. 0.13). None: every maturity moves one for one.",
        gt=0.01,
        le=30,
    )
    level_vol_risk_off_bp: float = _f(10.0, "Daily std of the level factor in risk-off (bp/day).", ge=0.01, le=100)
    level_vol_path: list[LevelVolFrom] = _f(
        [],
        "Later calm volatility of the level factor by date, in increasing order (rate volatility as it moved): "
        "from each date it stands in for level_vol_calm_bp in the factor's moves, and risk-off scales it by "
        "level_vol_risk_off_bp / level_vol_calm_bp. Volatility relative to calm (dealers' risk, haircuts, "
        "spreads, hedging shorts) is still measured against level_vol_calm_bp. Empty: level_vol_calm_bp throughout.",
    )
    slope_vol_bp: float = _f(2.5, "Daily std of the slope factor (bp/day).", ge=0, le=50)
    factor_mean_reversion_per_day: float = _f(0.01, "Pull of level and slope back to zero (per day).", ge=0, le=1)
    p_calm_to_risk_off: float = _f(0.005, "Daily probability of entering risk-off.", ge=0, le=1)
    p_risk_off_to_calm: float = _f(0.10, "Daily probability of leaving risk-off.", ge=0, le=1)
    vol_ewma_decay: float = _f(0.94, "Decay of the EWMA realised-volatility estimate used for risk.", gt=0, lt=1)
    vol_withdrawal_sensitivity: float = _f(
        0.5,
        "Rise in level-factor volatility when dealers have withdrawn all their starting depth (in proportion "
        "below that): flow that dealer balance sheets no longer absorb moves prices more.",
        ge=0,
        le=10,
    )
    inventory_premium_bp: float = _f(12.0, "Duration premium at full dealer risk utilization, 10y (bp).", ge=0, le=200)
    gc_repo_below_top_bp: float = _f(
        17.0,
        "The curve's short end (general collateral repo) below the top of the expected range (bp).",
        ge=-100,
        le=200,
    )

    _level_vol_path_in_order = field_validator("level_vol_path")(dated_rows_in_order)


# ---------------------------------------------------------------- Treasury
class IssuanceSizes(Section):
    """Auction sizes ($bn). Coupons: new issue / reopening. Bills: base size, scaled to the TGA target.

    The opening stock of issues is this calendar's history at these sizes; the bill sizes
    fold in the 6-week and 17-week bills the model does not carry separately.
    """

    bills_4w_bn: Amount = _f(95.0, "4-week bill base size ($bn).", ge=0, le=500)
    bills_8w_bn: Amount = _f(90.0, "8-week bill base size ($bn).", ge=0, le=500)
    bills_13w_bn: Amount = _f(100.0, "13-week bill base size ($bn).", ge=0, le=500)
    bills_26w_bn: Amount = _f(95.0, "26-week bill base size ($bn).", ge=0, le=500)
    bills_52w_bn: Amount = _f(60.0, "52-week bill base size, every four weeks ($bn).", ge=0, le=500)
    notes_2y_bn: Amount = _f(69.0, "2-year note, monthly ($bn).", ge=0, le=300)
    notes_3y_bn: Amount = _f(58.0, "3-year note, monthly ($bn).", ge=0, le=300)
    notes_5y_bn: Amount = _f(70.0, "5-year note, monthly ($bn).", ge=0, le=300)
    notes_7y_bn: Amount = _f(44.0, "7-year note, monthly ($bn).", ge=0, le=300)
    notes_10y_new_bn: Amount = _f(42.0, "10-year new issue, Feb/May/Aug/Nov ($bn).", ge=0, le=300)
    notes_10y_reopen_bn: Amount = _f(39.0, "10-year reopening, other months ($bn).", ge=0, le=300)
    bonds_20y_new_bn: Amount = _f(16.0, "20-year new issue ($bn).", ge=0, le=300)
    bonds_20y_reopen_bn: Amount = _f(13.0, "20-year reopening ($bn).", ge=0, le=300)
    bonds_30y_new_bn: Amount = _f(25.0, "30-year new issue ($bn).", ge=0, le=300)
    bonds_30y_reopen_bn: Amount = _f(22.0, "30-year reopening ($bn).", ge=0, le=300)


SizeName = Literal[
    "bills_4w_bn", "bills_8w_bn", "bills_13w_bn", "bills_26w_bn", "bills_52w_bn", "notes_2y_bn", "notes_3y_bn",
    "notes_5y_bn", "notes_7y_bn", "notes_10y_new_bn", "notes_10y_reopen_bn", "bonds_20y_new_bn",
    "bonds_20y_reopen_bn", "bonds_30y_new_bn", "bonds_30y_reopen_bn",
]  # fmt: skip


class SizesFrom(Section):
    """Auction sizes that change on a date (a refunding statement's new sizes, or the data's)."""

    date: dt.date = Field(description="Auctions held on or after this day take these sizes.")
    sizes: dict[SizeName, Annotated[float, Field(ge=0, le=500)]] = Field(
        description="The sizes that change ($bn, named as in treasury.sizes); the others stay as they were."
    )


class TgaTarget(Section):
    date: dt.date = Field(description="Day from which the Treasury steers its cash to this level.")
    target_bn: Amount = Field(description="TGA level the bill sizes steer to from that day ($bn).", ge=0, le=5000)


class TreasurySection(Section):
    tga_start_bn: Amount = _f(850.0, "Treasury General Account at the start ($bn).", ge=0, le=5000)
    tga_target_bn: Amount = _f(
        850.0, "TGA level the bill sizes steer to ($bn), until the target path's first date.", ge=0, le=5000
    )
    tga_target_path: list[TgaTarget] = _f(
        [], "Later TGA targets by date (a debt-limit year: run down, then rebuilt); each holds until the next."
    )
    tga_floor_bn: Amount = _f(
        150.0,
        "The TGA never falls below this: when the projected balance would, the Treasury sells a cash-management "
        "bill ($bn).",
        ge=0,
        le=5000,
    )
    cmb_horizon_days: int = _f(
        1,
        "Business days ahead over which the Treasury projects its cash for cash-management bills (they settle "
        "the next business day).",
        ge=1,
        le=60,
    )
    cmb_buffer_bn: Amount = _f(
        50.0, "Cushion above the floor a cash-management bill restores the projected balance to ($bn).", ge=0, le=2000
    )
    bill_steering_share: float = _f(0.25, "Share of the TGA gap closed by one week of bills.", ge=0, le=2)
    bill_size_min_share: float = _f(0.4, "Smallest bill size as a share of base.", ge=0, le=1)
    bill_size_max_share: float = _f(2.0, "Largest bill size as a share of base.", ge=1, le=10)
    daily_outlays_bn: Amount = _f(27.0, "Federal spending paid out of the TGA per business day ($bn).", ge=0, le=500)
    daily_receipts_bn: Amount = _f(20.0, "Ordinary tax receipts into the TGA per business day ($bn).", ge=0, le=500)
    tax_date_receipts_bn: Amount = _f(90.0, "Extra receipts on each corporate tax date ($bn).", ge=0, le=1000)
    household_share_of_flows: float = _f(
        0.6, "Share of outlays paid to household deposits (rest to investors).", ge=0, le=1
    )
    sizes: IssuanceSizes = IssuanceSizes()
    sizes_path: list[SizesFrom] = _f(
        [],
        "Later auction sizes by date, in increasing order: from each date the sizes it names replace those in "
        "force. The opening stock's past auctions take the sizes in force on their dates (treasury.sizes before "
        "the first), so the maturities during the run are those the history of sizes leaves.",
    )
    buybacks_bn_per_month: Amount = _f(
        0.0, "Liquidity-support buybacks of off-the-run coupons ($bn/month).", ge=0, le=500
    )
    household_savings_to_funds_share: float = _f(
        0.2, "Share of households' deposits above their opening level moved into funds each day.", ge=0, le=1
    )
    savings_to_real_money_share: float = _f(
        0.6, "Share of households' savings flow going to real-money investors (the rest to money funds).", ge=0, le=1
    )
    outlays_to_real_money_share: float = _f(
        0.5, "Share of investors' outlays paid to real-money investors.", ge=0, le=1
    )
    outlays_to_money_funds_share: float = _f(0.35, "Share of investors' outlays paid to money funds.", ge=0, le=1)
    outlays_to_foreign_official_share: float = _f(
        0.15, "Share of investors' outlays paid to foreign official holders.", ge=0, le=1
    )
    auction_bid_noise_bp: float = _f(0.2, "Std of bidders' idiosyncratic views of value at auction (bp).", ge=0, le=50)
    when_issued_memory: float = _f(
        0.5,
        "When-issued trading expects an auction to stop where the last ones of its tenor stopped against the "
        "curve: the weight of that expectation kept at each auction (the rest is the latest stop).",
        ge=0,
        lt=1,
    )
    auction_demand_noise: float = _f(
        0.05,
        "Log std of end investors' demand at each auction, common to all of them: what tenders outside the "
        "primary dealers over the offering vary by between auctions of one tenor (0.047 over 2025's coupon "
        "auctions that report primary dealers' tenders, treasury/auctions_query.csv).",
        ge=0,
        le=3,
    )
    auction_value_noise_bp: float = _f(
        1.0,
        "Std of end investors' common view of an auction's value against when-issued (bp): positive, they bid "
        "cheaper than WI; negative, through it.",
        ge=0,
        le=50,
    )
    auction_dispersion_vol_elasticity: float = _f(
        0.0,
        "Elasticity of the spread of end investors' auction tenders to rate volatility (realised over calm): "
        "bidders disagree more about value and shade more when rates are volatile (Nyborg, Rydqvist and "
        "Sundaresan 2002), so real money's concession steps around its required concession, foreign officials' "
        "bid-through and every bidder's idiosyncratic view spread by volatility ratio ** elasticity; 0 keeps them "
        "as in calm.",
        ge=0,
        le=5,
    )

    _sizes_path_in_order = field_validator("sizes_path")(dated_rows_in_order)

    @model_validator(mode="after")
    def _outlay_shares_sum_to_one(self) -> TreasurySection:
        total = self.outlays_to_real_money_share + self.outlays_to_money_funds_share
        total += self.outlays_to_foreign_official_share
        if abs(total - 1.0) > 1e-9:
            raise ValueError(
                "outlays_to_real_money_share, outlays_to_money_funds_share and outlays_to_foreign_official_share "
                f"summing to 1 (they sum to {total:g})"
            )
        return self


# ---------------------------------------------------------------- central bank
def _end_on_or_after_start(end: dt.date | None, info: ValidationInfo) -> dt.date | None:
    """A dated program's `end`, unset or on or after its `start`."""
    start = info.data.get("start")
    if start is not None and end is not None and end < start:
        raise ValueError(f"a date on or after start ({start})")
    return end


class PurchaseProgram(Section):
    start: dt.date | None = Field(None, description="First day of purchases; unset: the scenario's start_date.")
    end: dt.date | None = Field(None, description="Last day of purchases; unset: the scenario's end_date.")
    # Up to $5T a month: the spring 2020 purchases ran at $75bn a day, about $1.6T a month.
    bn_per_month: Amount = Field(description="Purchase pace ($bn per month, about 21 business days).", ge=0, le=5000)
    tenors: list[Tenor] = Field(default=list(BILL_TENORS), description="Tenor buckets bought, equal weights.")
    nonbank_seller_share: float = Field(
        default=0.5, description="Share bought (through dealers) from non-bank investors.", ge=0, le=1
    )

    _end_after_start = field_validator("end")(_end_on_or_after_start)

    @field_validator("tenors")
    @classmethod
    def _some_tenors(cls, tenors: list[str]) -> list[str]:
        if not tenors:
            raise ValueError("at least one tenor")
        return tenors


class RunoffCap(Section):
    date: dt.date = Field(description="Date the cap takes effect.")
    bn_per_month: Amount = Field(description="Treasury maturities allowed to run off per month ($bn).", ge=0, le=10000)


class OtherAssetsFrom(Section):
    """The central bank's assets other than Treasuries and its lending to dealers from a date."""

    date: dt.date = Field(description="Day from which the central bank's other assets stand at this level.")
    other_assets_bn: float = Field(description="Agency MBS and debt, other lending and assets ($bn).", ge=-1000,
                                   le=50000)  # fmt: skip


class StandingRepoFacility(Section):
    enabled: bool = _f(True, "Whether dealers can borrow from the SRF.")
    min_bid_above_top_bp: float = _f(0.0, "SRF minimum bid rate above the top of the range (bp).", ge=-50, le=500)
    daily_limit_bn: Amount = _f(500.0, "Aggregate SRF limit per day ($bn).", ge=0, le=5000)
    stigma_bp: float = _f(10.0, "Extra cost dealers attach to using the SRF (bp).", ge=0, le=500)
    centrally_cleared: bool = _f(False, "Cleared SRF trades net against reverse repo in the SLR.")


class RepoOperation(Section):
    """Overnight repo the central bank offers its counterparties (primary dealers) every business day
    from `start` to `end`: up to an amount, at a minimum bid set off IORB (IOER before July 2021), as the
    New York Fed's Desk did from 17 September 2019. Loans mature the next business day."""

    start: dt.date = Field(description="First day the operation is offered.")
    end: dt.date | None = Field(None, description="Last day it is offered; unset: the scenario's end_date.")
    offered_bn_per_day: Amount = Field(
        description="Overnight repo offered each business day, all dealers together ($bn).", ge=0, le=5000
    )
    min_bid_above_iorb_bp: float = Field(
        0.0,
        description="Minimum bid rate over IORB (IOER before July 2021) on the day (bp); loans are awarded at it.",
        ge=-100,
        le=500,
    )

    _end_after_start = field_validator("end")(_end_on_or_after_start)


class CentralBankSection(Section):
    soma_treasuries_bn: Amount = _f(4200.0, "SOMA Treasury holdings at the start, par ($bn).", ge=0, le=50000)
    soma_bills_share: float = _f(0.05, "Share of SOMA held in bills at the start.", ge=0, le=1)
    capital_bn: float = _f(45.0, "Central-bank capital at the start ($bn).", ge=-1000, le=1000)
    currency_bn: Amount = _f(2350.0, "Currency in circulation at the start ($bn).", ge=0, le=20000)
    currency_growth_pct_per_year: float = _f(3.0, "Growth of currency, drained from reserves (%/year).", ge=-20, le=50)
    on_rrp_start_bn: Amount = _f(100.0, "ON RRP balances at the start ($bn).", ge=0, le=5000)
    reinvest_maturities: bool = _f(True, "Roll maturing SOMA holdings into new bills at auction.")
    runoff_caps: list[RunoffCap] = _f([], "Runoff (QT): monthly caps on maturities not reinvested, by date.")
    purchases: list[PurchaseProgram] = _f([], "Purchase programs (QE or reserve-management purchases).")
    srf: StandingRepoFacility = StandingRepoFacility()
    repo_operations: list[RepoOperation] = _f(
        [],
        "Dated overnight repo operations with primary dealers (no stigma: the central bank offers them); "
        "at most one in force on a day.",
    )
    discount_window_above_top_bp: float = _f(0.0, "Primary credit rate above the top of the range (bp).", ge=0, le=500)
    discount_window_stigma_bp: float = _f(300.0, "Extra cost of the discount window's stigma (bp).", ge=0, le=2000)
    pays_interest: bool = _f(
        True,
        "The central bank pays IORB on reserves and its ON RRP rate on facility balances each morning, for the "
        "calendar nights since the last business day, at that day's rates: reserves and money funds' cash grow "
        "by it, the central bank's capital bears it.",
    )
    other_assets_path: list[OtherAssetsFrom] = _f(
        [],
        "The central bank's assets other than Treasuries and its own lending to dealers (agency MBS and debt, "
        "other lending programs) by date, in increasing order: each change from the level in force on the "
        "first simulated day moves reserves - households pay the central bank (by their banks' shares) when "
        "the assets fall (MBS principal paid down, not reinvested) and are paid when they rise. "
        "Empty: those assets move only by other_assets_runoff_bn_per_month.",
    )
    other_assets_runoff_bn_per_month: float = _f(
        0.0,
        "Runoff of the central bank's other assets on top of other_assets_path ($bn per 21 business days, "
        "negative for growth): agency MBS principal paid down and not reinvested, drained from reserves.",
        ge=-1000,
        le=1000,
    )
    securities_lending: bool = _f(True, "The Fed lends SOMA issues to dealers against other Treasuries.")
    securities_lending_share: float = _f(0.3, "Share of SOMA holdings of an issue available to lend.", ge=0, le=1)

    _other_assets_path_in_order = field_validator("other_assets_path")(dated_rows_in_order)


# ---------------------------------------------------------------- dealers
class DealerSection(Section):
    count: int = _f(24, "Number of primary dealers.", ge=2, le=2000)
    size_pareto_alpha: float = _f(2.5, "Pareto tail of dealer sizes (smaller = more unequal).", gt=0.1, le=10)
    bank_affiliated_share: float = _f(0.75, "Share of dealers inside bank holding companies (SLR-bound).", ge=0, le=1)
    window_dresser_share: float = _f(0.35, "Share of bank dealers that window-dress at quarter-ends.", ge=0, le=1)
    quarter_end_shrink_share: float = _f(0.4, "Cut in window-dressers' repo capacity on quarter-end days.", ge=0, le=1)
    quarter_end_sponsored_shift_share: float = _f(
        0.3,
        "Share of the uncleared repo to clients window-dressers move into sponsored (cleared, nettable) repo on "
        "quarter-end days.",
        ge=0,
        le=1,
    )
    inventory_bn: Amount = _f(350.0, "Aggregate net Treasury inventory at the start ($bn).", ge=0, le=10000)
    reserves_bn: Amount = _f(300.0, "Reserves held by bank-affiliated dealers at the start ($bn).", ge=0, le=10000)
    equity_bn: float = _f(
        900.0, "Aggregate Tier 1 capital of the dealers' holding companies ($bn).", ge=SMALLEST_AMOUNT_BN, le=100000
    )
    slr_min_pct: float = _f(5.0, "Minimum supplementary leverage ratio (%).", ge=0.1, le=50)
    nonbank_leverage_max: float = _f(25.0, "Leverage limit of non-bank dealers (assets / equity).", gt=1, le=200)
    initial_utilization: float = _f(0.55, "Share of the markets balance sheet used at the start.", ge=0.01, le=0.99)
    initial_risk_utilization: float = _f(0.35, "Share of the VaR limit used at the start.", ge=0.01, le=0.99)
    exempt_treasuries_from_slr: bool = _f(False, "Treasuries excluded from SLR exposure.")
    exempt_reserves_from_slr: bool = _f(False, "Reserves excluded from SLR exposure.")
    var_z: float = _f(2.33, "VaR confidence multiplier (99%, one day).", ge=0.1, le=10)
    half_spread_bp: float = _f(0.2, "Calm bid/ask half-spread at zero utilization (bp of yield).", ge=0.01, le=50)
    spread_convexity: float = _f(
        0.6, "Rise of the half-spread per unit of illiquidity (relative to calm).", ge=0, le=50
    )
    spread_vol_elasticity: float = _f(1.0, "Elasticity of the half-spread to volatility.", ge=0, le=5)
    depth_bn: float = _f(
        60.0, "Aggregate net customer flow dealers absorb per day at zero use ($bn).", ge=SMALLEST_AMOUNT_BN, le=10000
    )
    depth_exponent: float = _f(1.5, "Depth shrinks as (1 - utilization) to this power.", gt=0, le=10)
    short_end_depth_multiple: float = _f(
        3.0, "Depth is about DV01-neutral across tenors, but at most this multiple of the long end's.", ge=1, le=100
    )
    auction_concession_bp: float = _f(0.2, "Dealer auction bid above WI when unconstrained (bp).", ge=0, le=50)
    auction_headroom_share: float = _f(
        0.1,
        "Share of its room (the smaller of leverage and VaR room) a dealer bids at its concession at one auction.",
        ge=0,
        le=1,
    )
    auction_obligation_share: float = _f(
        1.37,
        "Primary dealers' floor tender: each tenders in all at least this share of its pro-rata part of the "
        "offering (the offering over the number of dealers), its tender covering when-issued sales included. "
        "The rule's obligation is one; primary dealers tendered 1.37 times the amount offered at 2025 H1's "
        "nominal coupon auctions (mean of 40, treasury/auctions_query.csv), mostly at yields end investors' "
        "bids beat, so it sets the bid-to-cover more than the takedown. Below one an auction can go uncovered "
        "(what is not bid for is not issued); above zero every auction has bids.",
        ge=0.01,
        le=10,
    )
    auction_obligation_concession_bp: float = _f(
        2.0,
        "Extra concession on the part a dealer bids only to reach its floor tender (bp).",
        ge=0,
        le=100,
    )
    auction_when_issued_share: float = _f(
        0.0,
        "Share of each auction dealers sell in when-issued trading before it, to end investors who then bid "
        "that much less: dealers bid it at the curve to cover their short and deliver it at issue, so it counts "
        "in their takedown but never in their inventory (0: no when-issued sales).",
        ge=0,
        le=0.5,
    )
    auction_distribution_risk_price: float = _f(
        0.1,
        "Auction concession per bp of daily yield volatility times the square root of the days a dealer's depth "
        "in the bucket needs to distribute what it bids for (the risk of carrying it until then).",
        ge=0,
        le=10,
    )
    auction_distribution_horizon_days: float = _f(
        20.0,
        "Most days of carrying risk a dealer prices into an auction bid (about an auction cycle; past that the "
        "position is its book, hedged and held).",
        gt=0,
        le=250,
    )
    illiquidity_at_limit: float = _f(
        10.0,
        "The illiquidity cost that scales spreads, concessions and client repo markups, at utilization one.",
        gt=0,
        le=1000,
    )
    illiquidity_steepness: float = _f(
        6.0,
        "Below the limit illiquidity is illiquidity_at_limit x exp(steepness x (u - 1)): flat at low use, steep "
        "near the limit.",
        gt=0,
        le=100,
    )
    illiquidity_slope_beyond_limit: float = _f(
        1.0,
        "Beyond the limit illiquidity rises linearly: by this multiple of its value at the limit per unit of "
        "utilization over it.",
        ge=0,
        le=100,
    )
    funding_spread_calm_bp: float = _f(
        6.0,
        "Dealers' marginal repo rate over IORB in calm (bp); funding dearer than this costs carry (the 2025 "
        "baseline's median).",
        ge=-500,
        le=500,
    )
    funding_premium_memory: float = _f(
        0.8, "Weight of yesterday's funding premium in today's (desks plan on recent funding).", ge=0, lt=1
    )
    quote_floor_share: float = _f(
        0.1, "Narrowest half-spread cheap funding allows, as a share of the calm half-spread.", ge=0, le=1
    )
    inventory_holding_days: float = _f(
        10.0, "Days a dealer expects to carry new supply or customer flow before distributing it.", ge=0, le=365
    )
    inventory_funding_elasticity: float = _f(
        0.02,
        "The inventory a dealer wants falls by this log share per bp of funding premium near calm funding (at "
        "most to nothing when funding is very dear, at most double when it is very cheap).",
        ge=0,
        le=1,
    )
    auction_concession_util_bp: float = _f(1.5, "Extra dealer concession per unit of illiquidity (bp).", ge=0, le=100)
    auction_concession_vol_bp: float = _f(
        1.5, "Extra dealer concession per unit of excess vol ratio (bp).", ge=0, le=100
    )
    repo_markup_bp: float = _f(3.0, "Markup on repo to levered clients at zero utilization (bp).", ge=0, le=200)
    repo_markup_util_bp: float = _f(8.0, "Extra markup per unit of illiquidity (bp).", ge=0, le=1000)
    client_repo_scarcity_bp: float = _f(
        40.0,
        "Extra rate every levered client pays per unit share of client repo dealers turn away (window "
        "dressing, SLR): balance-sheet scarcity priced (bp).",
        ge=0,
        le=2000,
    )
    funding_haircut_pct: float = _f(2.0, "Haircut repo lenders take on dealers' collateral in calm (%).", ge=0, le=50)
    funding_haircut_vol_elasticity: float = _f(
        1.0, "Dealers' funding haircut rises with the vol ratio to this power.", ge=0, le=10
    )
    memory_loss_tolerance_pct: float = _f(0.1, "Daily loss (% of equity) dealers shrug off.", ge=0, le=100)
    memory_loss_sensitivity: float = _f(
        0.2, "Fall in risk appetite per 1% of equity lost beyond the tolerance.", ge=0, le=50
    )
    memory_util_sensitivity: float = _f(
        0.1, "Fall in risk appetite per day per unit of utilization above the threshold.", ge=0, le=10
    )
    memory_util_threshold: float = _f(0.85, "Utilization above which risk appetite erodes.", gt=0, le=1)
    memory_recovery_per_day: float = _f(0.05, "Share of lost risk appetite recovered per day.", gt=0, le=1)
    short_cover_share_per_day: float = _f(0.3, "Share of short positions dealers cover each day.", ge=0, le=1)
    short_cover_max_share_of_holders: float = _f(
        0.5, "Most of real money's holdings of an issue dealers buy back in one day to cover shorts.", ge=0, le=1
    )
    inventory_bills_share: float = _f(0.15, "Share of dealers' opening inventory in bills.", ge=0, le=1)
    nonbank_cash_share: float = _f(
        0.01, "Non-bank dealers' cash target as a share of their opening securities.", ge=0, le=1
    )
    initial_utilization_dispersion: float = _f(
        0.08, "Log std of dealers' opening balance-sheet utilization around its mean.", ge=0, le=2
    )
    appetite_floor: float = _f(0.3, "Lowest risk appetite losses and strain can push a dealer to.", ge=0.01, le=1)
    memory_strain_cap: float = _f(
        0.25, "Utilization above the threshold counted at most this much per day in appetite erosion.", ge=0, le=10
    )


# ---------------------------------------------------------------- end investors
class RealMoneySection(Section):
    count: int = _f(40, "Number of real-money investors (asset managers, pensions, insurers).", ge=1, le=20000)
    cash_bn: Amount = _f(
        2000.0, "Cash (deposits) at the start ($bn); they hold the Treasuries no one else does.", ge=0, le=100000
    )
    auction_share: float = _f(
        0.7, "Share of a coupon auction they take at their required concession in calm.", ge=0, le=2
    )
    bill_auction_share: float = _f(
        0.35, "Share of a bill auction they take at their required concession in calm.", ge=0, le=2
    )
    bid_through_share: float = _f(
        0.7, "Share of their auction demand bid well through WI to be sure of a fill (they pay the stop).", ge=0, le=1
    )
    bid_through_bp: float = _f(6.0, "How far below WI the bid-through tenders are placed (bp).", ge=0, le=100)
    required_concession_bp: float = _f(0.0, "Concession to WI they ask for in calm (bp).", ge=-20, le=50)
    demand_elasticity_per_bp: float = _f(0.25, "Rise of auction demand per bp of extra concession.", ge=0, le=5)
    widest_concession_bp: float = _f(
        32.0,
        "Widest concession to WI end investors tender at (bp): their tenders step out 1/32, 1/16, ... 1/2 and all of "
        "it beyond their required concession, so it and the elasticity set how much they tender beyond what clears "
        "(the bid-to-cover) and how much demand a cheap auction draws.",
        ge=1,
        le=200,
    )
    liquidity_sensitivity: float = _f(1.0, "Elasticity of auction demand to bid/ask relative to calm.", ge=0, le=10)
    tail_memory_decay: float = _f(
        0.85, "Decay of remembered tails per auction of the same family (bills, coupons).", ge=0, lt=1
    )
    tail_tolerance_bp: float = _f(
        1.0, "Tails up to this size are taken as normal and not remembered (bp).", ge=0, le=50
    )
    tail_concession_per_bp: float = _f(0.3, "Extra concession asked per bp of remembered tail (bp).", ge=0, le=10)
    tail_demand_cut_per_bp: float = _f(0.03, "Share of auction demand withdrawn per bp of remembered tail.", ge=0, le=1)
    premium_buying_per_bp: float = _f(
        0.15, "Share of dealers' excess inventory bought per day per bp of concession and premium.", ge=0, le=5
    )
    rebalancing_noise_bn: Amount = _f(6.0, "Std of daily rebalancing flow per tenor, whole class ($bn).", ge=0, le=1000)
    lendable_share: float = _f(0.25, "Share of holdings lent out in securities lending programs.", ge=0, le=1)
    selling_in_risk_off_bn: Amount = _f(0.0, "Daily net selling by funds in risk-off ($bn/day).", ge=0, le=1000)
    size_pareto_alpha: float = _f(1.5, "Pareto tail of investor sizes (smaller = more unequal).", gt=0.1, le=10)
    required_concession_dispersion_bp: float = _f(
        0.3, "Std of the calm required concession across investors (bp).", ge=0, le=20
    )
    habitat_dispersion: float = _f(0.5, "Log std of investors' maturity-habitat tilts across tenors.", ge=0, le=5)
    auction_cash_budget_share: float = _f(0.5, "Largest share of their cash they tender at one auction.", ge=0, le=1)
    secondary_cash_budget_share: float = _f(
        0.5, "Largest share of their cash net purchases in the secondary market may use per day.", ge=0, le=1
    )


class ForeignOfficialSection(Section):
    count: int = _f(10, "Number of foreign official holders (reserve managers).", ge=1, le=2000)
    holdings_bn: Amount = _f(3800.0, "Treasury holdings at the start ($bn).", ge=0, le=100000)
    cash_bn: Amount = _f(150.0, "Cash at the start ($bn).", ge=0, le=100000)
    auction_share: float = _f(0.1, "Share of an auction they take in calm (indirect bidders).", ge=0, le=2)
    bid_through_bp: float = _f(3.0, "Their tenders sit this far below WI: they want the paper (bp).", ge=0, le=100)
    selling_in_risk_off_bn: Amount = _f(8.0, "Daily selling in risk-off for dollar cash ($bn/day).", ge=0, le=1000)
    size_pareto_alpha: float = _f(1.5, "Pareto tail of holder sizes (smaller = more unequal).", gt=0.1, le=10)
    bills_share: float = _f(0.1, "Share of their opening holdings in bills.", ge=0, le=1)
    auction_cash_budget_share: float = _f(0.5, "Largest share of their cash they tender at one auction.", ge=0, le=1)


class CapitalFrom(Section):
    """The basis funds' capital from a date (the trade's scale as it grew or shrank)."""

    date: dt.date = Field(description="Day from which the funds steer their capital to this level.")
    capital_bn: float = Field(description="Funds' capital from that day ($bn).", ge=SMALLEST_AMOUNT_BN, le=10000)


class LeveredFundSection(Section):
    count: int = _f(16, "Number of levered (cash-futures basis) funds.", ge=1, le=5000)
    positions_bn: Amount = _f(1000.0, "Long cash Treasury positions at the start ($bn).", ge=0, le=50000)
    capital_bn: float = _f(
        36.0,
        "Funds' capital at the start ($bn); about positions x haircut / target use.",
        ge=SMALLEST_AMOUNT_BN,
        le=10000,
    )
    capital_path: list[CapitalFrom] = _f(
        [],
        "Later levels of the funds' capital by date, in increasing order (the basis trade's scale): from each "
        "date their payouts and capital raising steer their equity to it, and their positions follow it under "
        "the haircut cap. Empty: capital_bn throughout.",
    )
    haircut_pct: float = _f(3.0, "Repo haircut in calm (%).", ge=0.01, le=99)
    haircut_vol_elasticity: float = _f(0.5, "Haircut rises with the vol ratio to this power.", ge=0, le=10)
    financing_cost_tolerance_bp: float = _f(
        50.0, "Rise in dealers' repo markup (bp) at which funds would give up the whole trade.", ge=0.01, le=1000
    )
    target_leverage_use: float = _f(0.85, "Share of the haircut-implied maximum position they aim for.", gt=0, le=1)
    adjustment_per_day: float = _f(0.2, "Share of the gap to their target closed per day.", gt=0, le=1)
    auction_share: float = _f(0.1, "Share of coupon auctions they bid for as direct bidders.", ge=0, le=2)
    capital_payout_per_day: float = _f(
        0.05, "Share of capital above (below) its opening level paid out (raised) per day.", ge=0, le=1
    )
    vol_unwind_ratio: float = _f(2.0, "Vol ratio above which funds unwind regardless of haircuts.", gt=1, le=100)
    refinance_elsewhere_share: float = _f(
        0.8,
        "Share of the repo a dealer turns away (window-dressing, SLR) that funds find the same day at dealers "
        "with leverage headroom.",
        ge=0,
        le=1,
    )
    vol_unwind_target_share: float = _f(
        0.5, "Share of their target position funds keep once vol passes the unwind ratio.", ge=0, le=1
    )
    financing_floor_share: float = _f(
        0.2, "Smallest share of the trade funds keep however dear dealers' financing gets.", ge=0, le=1
    )
    cash_buffer_share: float = _f(
        0.005, "Cash funds keep on hand as a share of their collateral (financed in repo).", ge=0, le=1
    )
    auction_concession_bp: float = _f(0.25, "Their auction tenders sit this far above WI (bp).", ge=-50, le=50)
    size_pareto_alpha: float = _f(1.5, "Pareto tail of fund sizes (smaller = more unequal).", gt=0.1, le=10)

    _capital_path_in_order = field_validator("capital_path")(dated_rows_in_order)


class MoneyFundSection(Section):
    count: int = _f(20, "Number of money market funds.", ge=1, le=5000)
    assets_bn: float = _f(3500.0, "Assets under management at the start ($bn).", ge=SMALLEST_AMOUNT_BN, le=100000)
    bills_share: float = _f(0.55, "Share of assets they like to hold in bills.", ge=0, le=1)
    counterparty_limit_share: float = _f(0.15, "Largest share of a fund lent to one dealer.", gt=0, le=1)
    min_spread_over_rrp_bp: float = _f(
        1.0, "Repo must pay this much over ON RRP to beat the facility (bp).", ge=0, le=100
    )
    no_facility_share: float = _f(
        0.1,
        "Share of the population (by size, the smallest first) that cannot use the ON RRP: GSE-like cash pools "
        "that lend in tri-party below the facility's rate.",
        ge=0,
        le=1,
    )
    no_facility_discount_bp: float = _f(
        5.0,
        "How far below what funds with the ON RRP earn in repo lenders without it lend while funds keep all "
        "their cash at the facility (bp): without it as an outside option they compete for borrowers. The "
        "discount shrinks with the share of funds' cash left idle, to none once funds lend it all.",
        ge=0,
        le=100,
    )
    no_facility_fed_funds_share: float = _f(
        0.3,
        "Share of the no-facility pools' cash lent overnight to banks in fed funds (FHLB-like lenders, who "
        "cannot earn IORB), when banks' bid beats their repo rate.",
        ge=0,
        le=1,
    )
    assets_growth_bn_per_year: float | None = _f(
        None,
        "Growth of money funds' assets the run follows ($bn a year from the opening assets): households move "
        "deposits into funds (or take them out) to close a share of the gap each day, as investors moved from "
        "bank deposits when fund yields beat deposit rates (total funds grew from about $4.6T in January 2022 "
        "to $6.8T in December 2024, ICI). None: funds' assets follow the modelled flows alone (taxes, outlays, "
        "savings, interest).",
        ge=-5000,
        le=5000,
    )
    mortgage_cycle_bn: Amount = _f(
        60.0,
        "Mortgage payments flowing into the no-facility pools around the 15th and paid out to MBS holders (real "
        "money) around the 25th of each month ($bn).",
        ge=0,
        le=2000,
    )
    ask_slope_bp: float = _f(
        12.0,
        "Extra spread over their minimum at which funds lend all their investable cash in repo rather than "
        "keep part at the ON RRP (bp); `ask_curvature` shapes the curve in between.",
        ge=0,
        le=200,
    )
    ask_curvature: float = _f(
        0.05,
        "Shape of funds' supply curve: to lend share s of their investable cash they ask ask_slope_bp x "
        "ln((1 + c) / (1 - s + c)) / ln((1 + c) / c) over their minimum. Small c keeps the rate near the "
        "minimum while much cash sits idle at the ON RRP and steep as the facility empties (funds differ "
        "in how they value its liquidity); large c is a straight line.",
        gt=0,
        le=1e6,
    )
    bill_auction_share: float = _f(0.35, "Share of bill auctions they take in calm.", ge=0, le=2)
    bid_through_bp: float = _f(4.0, "Their bill tenders sit this far below WI (bp).", ge=0, le=100)
    size_pareto_alpha: float = _f(1.5, "Pareto tail of fund sizes (smaller = more unequal).", gt=0.1, le=10)
    invested_cash_share: float = _f(
        0.98, "Share of their cash offered in repo and, what dealers do not take, placed at the ON RRP.", ge=0, le=1
    )
    max_share_of_bills_outstanding: float = _f(
        0.45, "Most of the bills outstanding they hold at the start.", ge=0, le=1
    )
    bill_appetite_per_gap: float = _f(
        4.0, "Rise in bill-auction demand per unit of shortfall from their bill share (of assets).", ge=0, le=100
    )
    bill_market_share: float | None = _f(
        None,
        "Share of the bills outstanding money funds keep, where that is more than `bills_share` of their assets: "
        "their bill-auction demand leans toward it for as much as they hold idle at the ON RRP, so new bills are "
        "bought with facility cash rather than by investors paying with bank deposits, and with the cash they "
        "lend in repo only as far as `bills_from_repo_cash_share` lets them. None: they lean toward `bills_share` "
        "of their assets alone.",
        ge=0,
        le=1,
    )
    bills_from_repo_cash_share: float = _f(
        0.0,
        "Share of the cash they lent in repo yesterday (to dealers and banks) that funds will also move into bills "
        "on the way to their part of the bills outstanding (`bill_market_share`), beside all they held idle at "
        "the ON RRP: a wave of new bills then draws cash out of repo as well as out of the facility, and banks "
        "that borrowed it lose reserves. 0: bills are bought with facility cash only.",
        ge=0,
        le=1,
    )
    bill_appetite_min: float = _f(0.2, "Lowest bill-auction demand relative to calm.", ge=0, le=10)
    bill_appetite_max: float = _f(2.0, "Highest bill-auction demand relative to calm.", ge=0, le=10)
    bill_cash_budget_share: float = _f(0.8, "Largest share of their cash they tender at one bill auction.", ge=0, le=1)
    secondary_bill_share: float = _f(
        0.0,
        "Share of their cash idle at the ON RRP that funds spend in a day on bills (and coupons within a year "
        "of maturity) dealers hold above their normal book, bought in the secondary market toward their bill "
        "target (`bill_target_bn`), each its "
        "part (by size) of dealers' excess: dealers distribute what they took down at auction to funds paying "
        "with facility cash, not only to end investors paying with bank deposits. 0: funds buy bills only at "
        "auction.",
        ge=0,
        le=1,
    )
    opening_repo_share: float = _f(
        0.97, "Most of their free cash lent to dealers in yesterday's repo at the opening.", ge=0, le=1
    )


BANK_RESERVES_MAX_BN = 100000.0


def _opening_level_in_range(level_bn: float) -> bool:
    """Whether banks' opening reserves may be `level_bn` (`BankSection.reserves_bn`'s rule)."""
    return level_bn == 0 or SMALLEST_AMOUNT_BN <= level_bn <= BANK_RESERVES_MAX_BN


class BankSection(Section):
    count: int = _f(30, "Number of banks managing reserves.", ge=1, le=5000)
    reserves_bn: Amount = _f(
        2700.0, "Reserves held by banks (outside dealers) at the start ($bn).", ge=0, le=BANK_RESERVES_MAX_BN
    )
    lowest_comfortable_reserves_bn: float = _f(
        2150.0, "Sum of banks' lowest comfortable reserves ($bn).", ge=SMALLEST_AMOUNT_BN, le=100000
    )
    reserves_per_comfortable: float | None = _f(
        None,
        "Opening reserves as a multiple of `lowest_comfortable_reserves_bn`; when set it decides `reserves_bn`, "
        "so a market opens as scarce under every parameter set that moves the comfortable level (null: "
        "`reserves_bn` as given).",
        ge=0,
        le=10,
    )
    concentration_alpha: float = _f(1.1, "Pareto tail of reserve holdings (a few large holders).", gt=0.1, le=10)
    demand_curve_level_bp: float = _f(
        10.0, "Marginal value of reserves over IORB at the comfortable level (bp).", ge=0, le=1000
    )
    demand_curve_steepness: float = _f(
        25.0, "Steepness of the reserve demand curve (per unit of R/LCLoR).", gt=0, le=200
    )
    lending_hurdle_bp: float = _f(3.0, "Balance-sheet hurdle for lending reserves in repo (bp).", ge=-50, le=200)
    hurdle_dispersion_bp: float = _f(
        3.0, "Std of the lending hurdle across banks, around its reserve-weighted mean (bp).", ge=0, le=200
    )
    hard_floor_share: float = _f(0.85, "Share of the comfortable level a bank never lends below.", ge=0, le=1)
    comfort_size_elasticity: float = _f(
        0.1, "Large banks keep comfortable levels higher relative to their reserves: share to this power.", ge=0, le=2
    )
    comfort_dispersion: float = _f(0.05, "Log std of comfortable levels across banks of one size.", ge=0, le=2)
    tri_party_share: float = _f(
        0.5, "Share of banks' repo lending to dealers through tri-party (the rest through GCF).", ge=0, le=1
    )
    stress_hurdle_bp: float = _f(
        10.0,
        "Rise of banks' lending hurdle per unit of (volatility ratio ** hurdle_vol_elasticity - 1) when "
        "volatility is above normal: stress costs balance sheet and risk capital (bp).",
        ge=0,
        le=200,
    )
    hurdle_vol_elasticity: float = _f(
        1.0, "Power of the volatility ratio in banks' stress hurdle (see stress_hurdle_bp).", ge=0, le=2
    )
    funding_pullback_sensitivity: float = _f(
        1.0,
        "Share of a funding pull-back shock that also hits banks' repo lending (1: as much as money funds').",
        ge=0,
        le=2,
    )
    dealer_parent_deposit_share: float = _f(
        0.3,
        "Share of each investor's deposits held at banks that own primary dealers, spread over them by dealer "
        "size (the rest at its custody bank); the reserves behind them use those holding companies' SLR room.",
        ge=0,
        le=1,
    )
    quarter_end_lending_cut_share: float = _f(
        0.3, "Share of their repo lending window-dressing banks withdraw on quarter-end days.", ge=0, le=1
    )
    quarter_end_hurdle_bp: float = _f(
        4.0,
        "Extra rate banks still lending repo ask on quarter-end days, for balance sheet reported at the "
        "snapshot (bp; times year_end_intensity at year-end).",
        ge=0,
        le=200,
    )
    year_end_intensity: float = _f(
        1.5,
        "Year-end window dressing relative to other quarter-ends (multiplies the cut, capped at all, and the "
        "quarter-end hurdle).",
        ge=0,
        le=10,
    )
    repo_borrowing: bool = _f(
        True,
        "Banks borrow money funds' cash left for the ON RRP at the day's end, in tri-party repo, as far as "
        "reserves are worth the funds' ask for that much more lending (their supply curve) plus what holding "
        "borrowed reserves costs (reserve_arbitrage_cost_bp, arbitrage_cost_slope_bp); an overdraft they borrow "
        "at any rate: funds' cash stays in the banking system as reserves instead of banks ending days short "
        "or overdrawn. False: only dealers borrow money funds' cash.",
    )
    compete_for_fund_cash: bool = _f(
        True,
        "Banks compete with dealers for money funds' cash: funds lend dealers no cheaper than banks bid for the "
        "cash they would otherwise leave at the ON RRP (where banks' demand for reserves meets the funds' supply "
        "curve after dealers' need), and when banks want more than there is even at the funds' top ask they bid "
        "up to the day's fed funds rate (borrowing reserves unsecured is their outside option), so repo prices "
        "reserves as fed funds does. Needs repo_borrowing. False: banks borrow what dealers leave, after the "
        "day's rounds, and take all of it at the funds' top ask when it is short.",
    )
    reserve_arbitrage_cost_bp: float = _f(
        7.0,
        "What holding borrowed reserves costs a bank (deposit-insurance assessment, balance sheet): banks bid "
        "this far below IORB, plus the marginal value of reserves, for fed funds and for money funds' repo (bp).",
        ge=-100,
        le=100,
    )
    arbitrage_cost_slope_bp: float = _f(
        20.0,
        "What holding borrowed reserves above its lowest comfortable level costs a bank more, per comfortable "
        "level held above it (bp): the arbitrage of repo against IORB takes balance sheet, so banks borrow "
        "funds' cash below IORB only so far.",
        ge=0,
        le=1000,
    )
    dealer_parents_in_fed_funds: bool = _f(
        True,
        "The holding companies of bank-affiliated dealers trade in the morning's fed funds market as banks do: "
        "each lends banks the reserves behind the deposits it gained since the opening (which its dealer does "
        "not spend; with what overnight repo returned to its depositors that morning) and borrows what it lost, "
        "at the banks' bid at the reserves of both (where reserves are exempt from the SLR, "
        "dealers.exempt_reserves_from_slr, it lends only when banks bid IORB or more: it holds them otherwise); in "
        "the evening a parent its depositors overdrew borrows the overdraft back from banks at the day's rate. "
        "False: deposits moving to or from the parents leave their reserves there, outside the market.",
    )
    equity_share_of_deposits: float = _f(0.08, "Banks' equity as a share of their deposits.", ge=0, le=1)
    household_deposits_per_reserve: float = _f(
        4.0, "Households' opening deposits as a multiple of banks' reserves.", ge=0, le=100
    )

    @model_validator(mode="before")
    @classmethod
    def _reserves_from_comfortable(cls, data: Any) -> Any:
        # Resolved before the fields, so every reader of `reserves_bn` sees the level the multiple
        # gives (a file extending one with a level in dollars writes `reserves_bn: null`). Values
        # of the wrong type or out of range are left for the fields' own errors, a level the
        # multiple cannot give and a level also given for `_one_opening_level`.
        if not isinstance(data, dict) or data.get("reserves_per_comfortable") is None:
            return data
        if data.get("reserves_bn") is not None:
            return data
        multiple = data["reserves_per_comfortable"]
        lowest = data.get("lowest_comfortable_reserves_bn", cls.model_fields["lowest_comfortable_reserves_bn"].default)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (multiple, lowest)):
            return data
        if not (0 <= multiple <= 10 and SMALLEST_AMOUNT_BN <= lowest <= 100000):
            return data
        level = float(multiple) * float(lowest)
        return {**data, "reserves_bn": level} if _opening_level_in_range(level) else data

    @field_validator("reserves_per_comfortable")
    @classmethod
    def _one_opening_level(cls, multiple: float | None, info: ValidationInfo) -> float | None:
        if multiple is None or "lowest_comfortable_reserves_bn" not in info.data:
            return multiple
        lowest = info.data["lowest_comfortable_reserves_bn"]
        level = multiple * lowest
        if not _opening_level_in_range(level):
            raise ValueError(
                f"a multiple that gives reserves_bn of 0 or {SMALLEST_AMOUNT_BN:g} to {BANK_RESERVES_MAX_BN:g} "
                f"(found {multiple:g} x lowest_comfortable_reserves_bn {lowest:g} = {level:g})"
            )
        given = info.data.get("reserves_bn")
        if given is not None and given != level:
            raise ValueError(
                f"either reserves_bn or reserves_per_comfortable, not both (set this to null to give reserves_bn; "
                f"found reserves_bn {given:g} against {multiple:g} x lowest_comfortable_reserves_bn {lowest:g})"
            )
        return multiple

    @model_serializer(mode="wrap")
    def _without_resolved_reserves(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # A dump carries the multiple, not the level it gave: written over with other parameters
        # (a near-optimal set's comfortable level), it resolves again.
        dumped = handler(self)
        if self.reserves_per_comfortable is not None:
            dumped.pop("reserves_bn", None)
        return dumped


# ---------------------------------------------------------------- markets
class RepoSection(Section):
    rounds_per_day: int = _f(4, "Intraday repo rounds.", ge=1, le=48)
    bargaining_share: float = _f(
        0.5, "Share of the gap to the marginal rate an infra-marginal lender gets.", ge=0, le=1
    )
    round_noise_bp: float = _f(1.0, "Std of the round-to-round rate noise (bp).", ge=0, le=100)
    trade_noise_bp: float = _f(1.5, "Std of trade-level rate noise (bp).", ge=0, le=100)
    tri_party_discount_bp: float = _f(2.0, "Tri-party trades below the marginal rate (bp).", ge=0, le=100)
    max_rate_above_iorb_bp: float = _f(
        800.0, "Rate at which dealers stop bidding and turn to the window (bp over IORB).", gt=0, le=10000
    )
    opening_fund_spread_bp: float = _f(
        5.0, "Money funds' rate on yesterday's repo at the opening, over the ON RRP rate (bp).", ge=-100, le=500
    )
    opening_bank_spread_bp: float = _f(
        3.0, "Banks' rate on yesterday's repo at the opening, over IORB (bp).", ge=-100, le=500
    )
    opening_client_markup_bp: float = _f(
        3.0, "Dealers' markup on yesterday's client repo at the opening, over their cost (bp).", ge=-100, le=500
    )


class SettlementSection(Section):
    fails_charge: bool = _f(True, "TMPG fails charge: 3% minus the policy rate, floored at 0.")
    special_max_bp: float = _f(300.0, "Specialness when lendable supply is exhausted (bp).", ge=0, le=2000)
    specials_exponent: float = _f(2.0, "Convexity of specialness in short demand / lendable supply.", gt=0, le=10)
    daisy_chain_share: float = _f(
        0.35, "Share of yesterday's fails in an issue that cause fails in that issue today.", ge=0, lt=1
    )
    operational_friction: float = _f(
        0.002, "Operational fails per $ of secondary settlement volume, issue by issue.", ge=0, le=1
    )
    operational_fails_vol_elasticity: float = _f(
        0.0,
        "How operational fails rise with rate volatility: the fail rate is operational_friction times realised "
        "volatility over calm (the dealers' vol ratio: yield_vol_bp over curve.level_vol_calm_bp, at least 0.25) "
        "to this power. Volatile markets fail more deliveries (trades are harder to match, chains break); the "
        "public weekly fails were higher in 2022-2024 (median $1.9bn, the MOVE index averaging 115) than in 2025 "
        "(median $1.1bn, the MOVE index 94). 0: volatility leaves operational fails alone.",
        ge=0,
        le=10,
    )
    operational_fails_cost_elasticity: float = _f(
        1.65,
        "How operational fails fall as failing gets dearer: the fail rate is also multiplied by "
        "(operational_fails_reference_cost_pct / cost of failing) to this power, the cost of failing being the "
        "general collateral rate (floored at zero) plus the fails charge, as short sellers weigh it. Desks spend "
        "more on avoiding fails (sourcing, matching, chasing counterparties) when a fail forgoes more interest. "
        "Estimated from the public weekly fails in the tracked issues, January 2022 to September 2025 (195 weeks): "
        "log fails on log cost of failing (SOFR plus the charge) and log MOVE give -1.65 (block-bootstrap s.e. "
        "0.29) and +1.42 (0.37) (`sim.calibration.fails_cost`); the cost of failing ran from 2.8% (2022, "
        "the charge's floor at 3%) to 5.4% (2023-2024). 0: the cost of failing leaves operational fails alone.",
        ge=0,
        le=10,
    )
    operational_fails_reference_cost_pct: float = _f(
        4.33,
        "Cost of failing at which operational fails run at operational_friction (%): 2025's, SOFR plus the "
        "fails charge averaged 4.33% over January-September 2025.",
        gt=0,
        le=20,
    )
    operational_fails_cost_floor_pct: float = _f(
        1.0,
        "Cost of failing below which operational fails rise no further with cheaper failing (%). The public "
        "weeks have none under 2.8%; without the fails charge at near-zero rates (2003, 2008) fails rose to "
        "more than ten times their usual level; this floor keeps the response within (4.33 / 1)^1.65, about 11x.",
        ge=0.1,  # a vanishing floor would let free failing multiply fails without bound
        le=20,
    )
    new_issue_fail_multiplier: float = _f(
        3.0,
        "Operational fail rate on an auction's settlement volume (new issue or reopening), as a multiple of "
        "the rate on secondary trades: the new issue is delivered down when-issued chains on one day.",
        ge=0,
        le=100,
    )
    on_the_run_delivery_multiple: float = _f(
        12.0,
        "Deliveries behind each $ of customer trades in a coupon on-the-run issue, relative to another issue: "
        "on-the-runs also carry the interdealer, hedging and specials repo deliveries that customer flow does "
        "not show, so their operational fails are this multiple of the issue's customer volume.",
        ge=1,
        le=100,
    )
    special_fail_multiplier_per_100bp: float = _f(
        2.0,
        "Rise of an issue's operational fail rate per 100bp of its specialness, as a multiple of the base "
        "rate: a scarce issue is hard to source for delivery.",
        ge=0,
        le=100,
    )
    operational_shock_sigma: float = _f(
        1.2,
        "Log standard deviation of each issue's daily operational fails shock (lognormal, mean 1): one "
        "desk's or custodian's breakdown fails a whole chain of deliveries in that issue.",
        ge=0,
        le=4,
    )
    client_short_share: float = _f(
        0.03,
        "Short positions of hedging and relative-value funds in each coupon on-the-run issue, as a share of its "
        "outstanding; borrowed in the specials market each day (they fail when failing is cheaper).",
        ge=0,
        le=1,
    )
    client_short_vol_cap: float = _f(
        3.0, "Funds' shorts grow with the vol ratio up to this multiple of their calm size.", ge=0, le=100
    )
    fail_decision_scale_bp: float = _f(
        10.0,
        "Spread of short sellers' costs of failing (bp): the share that fails rather than borrow special rises "
        "logistically in specialness over the cost of failing, on this scale.",
        ge=0.01,
        le=500,
    )
    fails_charge_reference_below_top_bp: float = _f(
        12.5, "The fails charge's reference rate below the top of the target range (bp).", ge=0, le=100
    )
    reopening_short_share: float = _f(
        0.0,
        "Dealers' short in the outstanding issue from a coupon reopening's auction to its issue date, as a share "
        "of the amount reopened: hedges of their bids and sales to investors made for regular settlement, "
        "delivered in the issue before the reopened amount settles. It presses on the issue's lendable supply "
        "like any short, and fails when it cannot be sourced. 0: no such short.",
        ge=0,
        le=1,
    )
    bonds_20y_lendable_share: float | None = _f(
        None,
        "Share of end investors' holdings of 20-year bonds lent out in securities lending (unset: "
        "real_money.lendable_share, as for every tenor). The 20-year is the thin issue: in the public fails of "
        "2022 to September 2025 it failed in its reopenings' windows (92% of its fails) and hardly otherwise, "
        "where the 10 and 30-year's reopenings show little.",
        ge=0,
        le=1,
    )
    quarter_end_lending_cut: float = _f(
        0.0,
        "Cut in end investors' securities lending that reaches short sellers over a quarter's last days "
        "(quarter_end_lending_days): dealers shrink the securities financing they intermediate toward the "
        "quarter-end balance sheet (the SOMA's lending is left whole). The public fails spike in the 20-year's "
        "reopening windows that settle at quarter-ends. 0: lending is the same every day.",
        ge=0,
        le=1,
    )
    quarter_end_lending_months: list[Literal[3, 6, 9, 12]] = _f(
        [9, 12],
        "The quarter-ends whose last days quarter_end_lending_cut applies to, by month. The public squeezes "
        "of the 20-year's reopenings settling at (or just across) a quarter-end came at all 7 September and "
        "December ones of 2022 to September 2025 and at 1 of the 8 March and June ones.",
        min_length=0,
        max_length=4,
    )
    quarter_end_lending_days: int = _f(
        10,
        "Business days before a quarter's last business day over which quarter_end_lending_cut applies (the "
        "last day included).",
        ge=0,
        le=60,
    )


class MarketStructureSection(Section):
    central_clearing_cash: bool = _f(False, "Cash Treasury trades centrally cleared (multilateral netting).")
    central_clearing_repo: bool = _f(False, "Repo centrally cleared (nets in the SLR).")
    netting_efficiency: float = _f(0.7, "Share of offsetting repo that nets when cleared.", ge=0, le=1)
    clearing_friction_cut: float = _f(0.5, "Cut in operational fails when cash trades are cleared.", ge=0, le=1)
    all_to_all_share: float = _f(0.0, "Share of unmatched customer flow met all-to-all.", ge=0, le=1)
    sponsored_client_repo_share: float = _f(
        0.25,
        "Share of dealers' repo to levered clients done as sponsored (cleared DVP, in SOFR); the rest is "
        "uncleared bilateral (outside SOFR). All of it with central_clearing_repo.",
        ge=0,
        le=1,
    )
    sponsored_cash_lending_share: float = _f(
        0.4,
        "Share of money funds' and banks' repo lending to dealers done as sponsored (cleared DVP, in SOFR; "
        "DTCC sponsored reverse repo was about $1.0-1.2T in 2025); it nets in the SLR against sponsored "
        "client repo. All of it with central_clearing_repo.",
        ge=0,
        le=1,
    )


class LoopSwitches(Section):
    """Each arrow of the tail -> withdrawal -> spread -> concession loop."""

    takedown_raises_utilization: bool = _f(True, "Dealers warehouse what they take down at auction.")
    utilization_drives_quotes: bool = _f(True, "Dealers widen bid/ask, cut depth and bid at a concession as u rises.")
    liquidity_drives_auction_demand: bool = _f(True, "End investors bid less when bid/ask is wider than calm.")
    tails_drive_concession: bool = _f(True, "End investors remember tails and ask for concession.")
    inventory_premium: bool = _f(True, "Warehoused duration raises yields (preferred habitat).")
    dealer_memory: bool = _f(True, "Losses and high utilization lower risk appetite for a while.")
    funding_cost_drives_dealers: bool = _f(
        True, "Dealers' funding premium enters their inventory, quotes and auction concessions."
    )
    liquidity_drives_volatility: bool = _f(True, "Dealers' withdrawal makes yields more volatile.")


# ---------------------------------------------------------------- shocks
class _Shock(Section):
    date: dt.date = Field(description="First business day of the shock.")
    days: int = Field(default=1, description="Duration in business days.", ge=1, le=5000)


class EndDemandShortfall(_Shock):
    kind: Literal["end_demand_shortfall"]
    tenor: Tenor | Literal["all"] = Field(default="all", description="Tenor whose auctions are hit.")
    share: float = Field(description="Share of end-investor auction demand that stays away.", gt=0, le=1)


class VolatilityJump(_Shock):
    kind: Literal["volatility_jump"]
    multiplier: float = Field(description="Multiplier on the level-factor volatility.", ge=0.01, le=50)
    risk_off: bool = Field(
        default=True,
        description="The jump is also a flight from risk: the market is in risk-off for its days (risk-off "
        "level volatility, which the multiplier scales; foreign officials stop bidding at auctions; real money's "
        "risk-off selling). False: volatility alone, the calm level's scaled by the multiplier.",
    )


class RiskOff(_Shock):
    kind: Literal["risk_off"]


class FundingPullback(_Shock):
    kind: Literal["funding_pullback"]
    share: float = Field(description="Share of money-fund repo lending to dealers withdrawn.", gt=0, le=1)


class ForeignOfficialSelling(_Shock):
    kind: Literal["foreign_official_selling"]
    bn_per_day: float = Field(description="Treasuries sold to dealers per day ($bn).", ge=SMALLEST_AMOUNT_BN, le=1000)


class FundSelling(_Shock):
    kind: Literal["fund_selling"]
    bn_per_day: float = Field(
        description="Treasuries sold by real-money funds per day ($bn).", ge=SMALLEST_AMOUNT_BN, le=1000
    )


class SettlementDisruption(_Shock):
    kind: Literal["settlement_disruption"]
    multiplier: float = Field(description="Multiplier on operational fails.", ge=0.01, le=1000)


class HaircutJump(_Shock):
    kind: Literal["haircut_jump"]
    multiplier: float = Field(description="Multiplier on levered funds' repo haircuts.", ge=0.01, le=50)


SHOCK_KINDS = (
    "end_demand_shortfall", "volatility_jump", "risk_off", "funding_pullback", "foreign_official_selling",
    "fund_selling", "settlement_disruption", "haircut_jump",
)  # fmt: skip
Shock = Annotated[
    EndDemandShortfall
    | VolatilityJump
    | RiskOff
    | FundingPullback
    | ForeignOfficialSelling
    | FundSelling
    | SettlementDisruption
    | HaircutJump,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------- replay of real paths
ReplayedTga = Literal["off", "daily_treasury_statement", "h41_weekly"]


class ReplaySection(Section):
    """Exogenous aggregates driven from the public data folder (`sim.scenario.replay`).

    Read when the scenario is loaded, from the folder named by the PLUMBING_DATA_DIR environment
    variable (or passed to the loader), and written into the keys they drive; repo rates,
    dispersion, auctions, fails and money funds' split of cash stay endogenous.
    """

    tga: ReplayedTga = _f(
        "off",
        "The TGA path replayed: the Daily Treasury Statement's closing balance "
        "(treasury/dts_operating_cash_balance.csv, from mid-2021), or the H.4.1 week average (fred/WTREGEN.csv). "
        "It becomes treasury.tga_target_path: net bill issuance absorbs the difference between the data and "
        "the model's fiscal flows.",
    )
    tga_lead_business_days: int = _f(
        5,
        "Each replayed TGA level is the bills' target this many business days before its date (a week of "
        "bills closes only bill_steering_share of the gap).",
        ge=0,
        le=60,
    )
    auction_sizes: bool = _f(
        False,
        "Size the Treasury's auctions as the data did (treasury/auction_amounts.csv): each month's sizes become "
        "treasury.sizes_path (the file's first month's treasury.sizes), so the opening stock is the history of "
        "real sizes, what matures during the run is what that history left, and the coupons sold are the real "
        "offerings; bills still steer the TGA around their real base sizes. Cash-management bills are carried in "
        "the weekly bill nearest their term, at the par they kept outstanding.",
    )
    rate_volatility: bool = _f(
        False,
        "Move rate volatility as the MOVE index did (market/move_index_daily.csv): each month's mean over "
        "calm_move_index times curve.level_vol_calm_bp becomes curve.level_vol_path, so dealers' risk, "
        "haircuts, spreads, auction dispersion and hedging shorts answer to the volatility of the time.",
    )
    calm_move_index: float = _f(
        100.0,
        "The MOVE level curve.level_vol_calm_bp stands for (2025's first half, the baseline's regime, averaged 100).",
        gt=0,
        le=1000,
    )
    basis_trade: bool = _f(
        False,
        "Scale the basis trade as cleared DVP repo volume moved (market/ofr_repo_segments_daily.csv, from May "
        "2018): each month's mean volume over the first month's times levered_funds.capital_bn becomes "
        "levered_funds.capital_path, so the repo cash the trade takes grows or shrinks as it did.",
    )
    soma_treasuries: bool = _f(
        False,
        "Replay the Fed's Treasury holdings (fred/TREAST.csv): each month's fall becomes that month's runoff "
        "cap, each rise a purchase program over the month (in soma_purchase_tenors).",
    )
    soma_purchase_tenors: list[Tenor] = _f(
        list(BILL_TENORS), "Tenor buckets of the purchases implied by rises in the Fed's Treasury holdings."
    )
    soma_period: Literal["month", "week"] = _f(
        "month",
        "Period over which each change in the Fed's Treasury holdings is measured and spread: the calendar "
        "month, or the H.4.1 week (Thursday to Wednesday), for episodes whose purchases started mid-month.",
    )
    central_bank_other_assets: bool = _f(
        False,
        "Replay the Fed's assets other than Treasuries (fred/WALCL.csv less fred/TREAST.csv, H.4.1 Wednesday "
        "levels: agency MBS running off, lending programs) as central_bank.other_assets_path, so reserves fall "
        "with MBS paydowns as they did.",
    )
    other_assets_trend_after: dt.date | None = _f(
        None,
        "From this date the replayed other assets go on at their mean weekly change over the 13 weeks to it "
        "instead of the data: for windows whose data from then hold the Fed's repo operations, which the model "
        "runs itself (central_bank.repo_operations).",
    )
    administered_rates: bool = _f(
        False,
        "Set policy.rates from the FOMC's decisions (the project's table sim/data/administered_rates.csv, "
        "with sources): target range, IOER or IORB, ON RRP rate, each from its effective date.",
    )
    opening_balances: bool = _f(
        False,
        "Open with the data's reserves (fred/WRESBAL.csv, the week after when the first day's H.4.1 week holds "
        "a quarter-end, whose balances the model has no line for; banks' reserves are the total less "
        "dealers.reserves_bn), ON RRP (fred/RRPONTSYD.csv), TGA (the replayed source, else fred/WTREGEN.csv) "
        "and SOMA Treasuries (fred/TREAST.csv) on the first simulated day (warm-up included).",
    )
    data_folder_read: str | None = _f(
        None,
        "Set by the loader: the data folder the replay was read from, once the replayed values are written "
        "into the keys they drive (a scenario with it set is not read again).",
    )

    @model_validator(mode="after")
    def _trend_needs_the_replay(self) -> ReplaySection:
        if self.other_assets_trend_after is not None and not self.central_bank_other_assets:
            raise ValueError("other_assets_trend_after continues the replayed other assets: set "
                             "central_bank_other_assets too")  # fmt: skip
        return self

    @property
    def active(self) -> bool:
        """Whether anything is replayed."""
        return (
            self.tga != "off"
            or self.auction_sizes
            or self.basis_trade
            or self.rate_volatility
            or self.soma_treasuries
            or self.central_bank_other_assets
            or self.administered_rates
            or self.opening_balances
        )


# ---------------------------------------------------------------- the scenario
class Scenario(Section):
    """A complete market scenario. Every field has a 2025-like default."""

    name: str = _f("baseline", "Short name, used for the results folder.", min_length=1, max_length=80)
    description: str = _f("2025-like market with abundant reserves.", "One-line description.")
    start_date: dt.date = _f(dt.date(2025, 1, 2), "First simulated day.")
    end_date: dt.date = _f(dt.date(2025, 12, 31), "Last simulated day.")
    warmup_business_days: int = _f(
        0, "Business days simulated before start_date so opening balances settle; not recorded.", ge=0, le=1000
    )
    policy: PolicySection = PolicySection()
    curve: CurveSection = CurveSection()
    treasury: TreasurySection = TreasurySection()
    central_bank: CentralBankSection = CentralBankSection()
    dealers: DealerSection = DealerSection()
    real_money: RealMoneySection = RealMoneySection()
    foreign_official: ForeignOfficialSection = ForeignOfficialSection()
    levered_funds: LeveredFundSection = LeveredFundSection()
    money_funds: MoneyFundSection = MoneyFundSection()
    banks: BankSection = BankSection()
    repo: RepoSection = RepoSection()
    settlement: SettlementSection = SettlementSection()
    market_structure: MarketStructureSection = MarketStructureSection()
    loop: LoopSwitches = LoopSwitches()
    shocks: list[Shock] = _f([], "Dated events that stress the market.")
    replay: ReplaySection = ReplaySection()

    @field_validator("end_date")
    @classmethod
    def _end_after_start(cls, end: dt.date, info: ValidationInfo) -> dt.date:
        start = info.data.get("start_date")
        if start is not None and end < start:
            raise ValueError(f"a date on or after start_date ({start})")
        return end
