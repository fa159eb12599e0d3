"""U.S. Treasury Fiscal Data files: auction results (`treasury/auctions_query.csv`, the `auctions_query`
dataset's snake_case fields, `null` for missing) and the Daily Treasury Statement's operating cash balance
(`treasury/dts_operating_cash_balance.csv`, the site export's headers, newest first).

Auction amounts are in US dollars and yields/rates in percent; DTS balances are in $ millions.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.csvfile import NON_NEGATIVE, RATE_RANGE_PCT, CsvFile

FISCAL_MISSING = frozenset({"", "null"})

# Yield columns per security type: (high, median, low), all in percent.
COUPON_YIELDS = ("high_yield", "avg_med_yield", "low_yield")
BILL_INVESTMENT_RATES = ("high_investment_rate", "avg_med_investment_rate", "low_investment_rate")
BILL_DISCOUNT_RATES = ("high_discnt_rate", "avg_med_discnt_rate", "low_discnt_rate")
BIDDER_CLASSES = ("primary_dealer_accepted", "direct_bidder_accepted", "indirect_bidder_accepted")
AUCTION_REQUIRED = (
    "auction_date", "issue_date", "security_type", "original_security_term", "inflation_index_security",
    "floating_rate", "offering_amt", "bid_to_cover_ratio", *COUPON_YIELDS, *BILL_INVESTMENT_RATES,
    *BILL_DISCOUNT_RATES, *BIDDER_CLASSES,
)  # fmt: skip
NOMINAL_TYPES = ("Bill", "Note", "Bond")
_TERM = re.compile(r"^(\d+)-(Day|Week|Year)$")
_TERM_UNIT = {"Day": "d", "Week": "w", "Year": "y"}

DTS_DATE, DTS_ACCOUNT, DTS_BALANCE = "Record Date", "Type of Account", "Opening Balance Today"
# The TGA's opening-balance row under each of the DTS Table I layouts (to 2021-09-30, to 2022-04-15, since).
DTS_OPENING_ACCOUNTS = (
    "Federal Reserve Account",
    "Treasury General Account (TGA)",
    "Treasury General Account (TGA) Opening Balance",
)
DTS_CLOSING_ACCOUNT = "Treasury General Account (TGA) Closing Balance"
# A day's close is the next statement's opening balance only if that statement follows within a long weekend.
MAX_DTS_GAP_DAYS = 5


def tenor_label(term: str) -> str | None:
    """`original_security_term` as a model tenor label ("13-Week" -> "13w", "10-Year" -> "10y"); None if not one."""
    found = _TERM.match(term)
    return f"{int(found.group(1))}{_TERM_UNIT[found.group(2)]}" if found else None


def read_auctions(path: str | Path) -> pd.DataFrame:
    """Nominal bill, note and bond auctions in the standard `auctions` table.

    TIPS (`inflation_index_security` = Yes) and FRNs (`floating_rate` = Yes) are left out. Yields: notes and
    bonds use `high_yield`, `avg_med_yield`, `low_yield`; bills use the investment rates (bond-equivalent, so
    comparable with coupon yields) when all three are published, else the three discount rates, so high,
    median and low of one auction are always on the same basis. Public data has no when-issued yield, so
    `wi_yield_pct` and `tail_bp` are NaN. Bidder shares are each class's accepted amount over the sum of
    primary dealer, direct and indirect accepted (they add to 1, as in the model).

    Args:
        path: `treasury/auctions_query.csv`.

    Returns:
        The `sim.tables.AUCTION_COLUMNS` columns (offering in $ billions, yields in percent), one row per
        auction, sorted by auction date.

    Raises:
        DataFileError: missing column, a bad date or number, a Yes/No flag with another value, an unknown
            security type or an `original_security_term` that is not `<n>-Day/Week/Year`.
    """
    table = CsvFile(path, required=AUCTION_REQUIRED)
    auction_date = table.dates("auction_date")
    issue_date = table.dates("issue_date")
    inflation_linked = _yes(table, "inflation_index_security")
    floating = _yes(table, "floating_rate")
    keep = ~(inflation_linked | floating)
    security_type = table.text("security_type", keep)
    unknown = ~security_type.isin(NOMINAL_TYPES)
    if unknown.any():
        index = unknown.idxmax()
        raise table.error(index, "security_type", f"expected Bill, Note or Bond; found {security_type[index]!r}")
    terms = table.text("original_security_term", keep)
    tenors = terms.map(tenor_label)
    if tenors.isna().any():
        index = tenors.isna().idxmax()
        raise table.error(index, "original_security_term", f"expected e.g. 13-Week or 10-Year; found {terms[index]!r}")

    def number(column: str) -> pd.Series:
        # Yields and rates in percent within the plausible range; amounts and ratios not negative.
        is_rate = column in COUPON_YIELDS + BILL_INVESTMENT_RATES + BILL_DISCOUNT_RATES
        bounds = RATE_RANGE_PCT if is_rate else NON_NEGATIVE
        return table.numbers(column, missing=FISCAL_MISSING, where=keep, bounds=bounds, unit="%" if is_rate else "")

    is_bill = (security_type == "Bill").to_numpy()
    coupon = np.column_stack([number(c) for c in COUPON_YIELDS])
    investment = np.column_stack([number(c) for c in BILL_INVESTMENT_RATES])
    discount = np.column_stack([number(c) for c in BILL_DISCOUNT_RATES])
    bill_rates = np.where(np.isfinite(investment).all(axis=1, keepdims=True), investment, discount)
    yields = np.where(is_bill[:, None], bill_rates, coupon)
    accepted = np.column_stack([number(c) for c in BIDDER_CLASSES])
    total = accepted.sum(axis=1, keepdims=True)  # NaN if any class is unreported
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.where(total > 0, accepted / total, np.nan)
    frame = pd.DataFrame(
        {
            "auction_date": auction_date.loc[keep].to_numpy(),
            "issue_date": issue_date.loc[keep].to_numpy(),
            "tenor": tenors.to_numpy(dtype=object),
            "security_type": security_type.to_numpy(dtype=object),
            "offering_bn": number("offering_amt").to_numpy() / 1e9,
            "wi_yield_pct": np.nan,
            "high_yield_pct": yields[:, 0],
            "median_yield_pct": yields[:, 1],
            "low_yield_pct": yields[:, 2],
            "tail_bp": np.nan,
            "bid_to_cover": number("bid_to_cover_ratio").to_numpy(),
            "dealer_share": shares[:, 0],
            "direct_share": shares[:, 1],
            "indirect_share": shares[:, 2],
        }
    )
    return frame.sort_values(["auction_date", "issue_date"], kind="stable").reset_index(drop=True)


TENDER_REQUIRED = (
    "auction_date", "security_type", "original_security_term", "inflation_index_security", "floating_rate",
    "offering_amt", "comp_tendered", "primary_dealer_tendered",
)  # fmt: skip


def end_investor_cover_log_sd(path: str | Path, year: int) -> tuple[float, int]:
    """How much end investors' demand varies between like auctions: the pooled standard deviation of
    log(tenders outside the primary dealers / offering) about its mean over auctions of one tenor and size,
    in one year's nominal coupon auctions (the empirical counterpart of `treasury.auction_demand_noise`).

    Like auctions share tenor and size because smaller reopenings draw more cover than new issues (20-year:
    1.2-1.3 times the $13bn reopenings against 1.05-1.15 times the $16bn new issues in 2025), as the model's
    end demand, proportional to the offering, does not. Only auctions that report both competitive and
    primary dealers' tenders count (Fiscal Data fills `primary_dealer_tendered` for recent auctions only).

    Args:
        path: `treasury/auctions_query.csv`.
        year: the calendar year of the auctions.

    Returns:
        (log standard deviation, number of auctions used); NaN if no group of like auctions has two.

    Raises:
        DataFileError: a missing column or a bad date or number.
    """
    table = CsvFile(path, required=TENDER_REQUIRED)
    in_year = table.dates("auction_date").dt.year == year
    nominal = ~(_yes(table, "inflation_index_security") | _yes(table, "floating_rate"))
    coupon = table.text("security_type").isin(("Note", "Bond")) & nominal & in_year
    dollars = {
        c: table.numbers(c, missing=FISCAL_MISSING, where=coupon, bounds=NON_NEGATIVE) for c in TENDER_REQUIRED[5:]
    }
    end_investors = dollars["comp_tendered"] - dollars["primary_dealer_tendered"]
    cover = (end_investors / dollars["offering_amt"]).where(end_investors > 0)
    like = table.text("original_security_term", coupon) + "/" + dollars["offering_amt"].astype(str)
    frame = pd.DataFrame({"like": like, "log_cover": np.log(cover)}).dropna()
    deviations = frame.log_cover - frame.groupby("like").log_cover.transform("mean")
    degrees = len(frame) - frame["like"].nunique()
    if degrees < 1:
        return float("nan"), len(frame)
    return float(np.sqrt((deviations**2).sum() / degrees)), len(frame)


def _yes(table: CsvFile, column: str) -> pd.Series:
    """A Fiscal Data Yes/No flag as booleans (missing counts as No); any other value raises."""
    text = table.text(column)
    odd = ~text.isin({"Yes", "No"} | FISCAL_MISSING)
    if odd.any():
        index = odd.idxmax()
        raise table.error(index, column, f"expected Yes or No; found {text[index]!r}")
    return text == "Yes"


AMOUNTS_REQUIRED = ("security_type", "security_term", "auction_date", "offering_amt")
# Terms in auction_amounts.csv: a new issue's "10-Year" or "13-Week"; a reopening's time left, "9-Year 10-Month";
# cash-management bills in days ("42-Day"), folded into the weekly bills (the model still sells its own when its
# TGA nears the floor, `cash_management_bill_bn`).
_AMOUNT_TERM = re.compile(r"^(\d+)-(Week|Year)(?: (\d+)-Month)?$")
_DAYS_TERM = re.compile(r"^(\d+)-Day$")
# The weekly bills a cash-management bill is carried under: the one nearest its term (the longer on a tie).
CMB_HOST_WEEKS = (4, 8, 13, 26)
# Bills the model carries under a neighbouring tenor, scaled so that the par they keep outstanding is
# kept: the 6-week in the 8-week (6/8 of its size), the 17-week in the 13-week (17/13).
FOLDED_BILLS = {6: ("8w", 6.0 / 8.0), 17: ("13w", 17.0 / 13.0)}
MODEL_BILL_WEEKS = (4, 8, 13, 26, 52)
MODEL_COUPON_YEARS = (2, 3, 5, 7, 10, 20, 30)


def read_auction_sizes(path: str | Path) -> pd.DataFrame:
    """Every bill, note and bond auction's offering under the model's tenor labels.

    Notes and bonds: a new issue's term ("10-Year") or a reopening's time left ("9-Year 10-Month"),
    rounded up to whole years. The file has no TIPS or FRN flag and those share these terms (the 2-year
    FRN is a "2-Year" note, the 10-year TIPS a "10-Year" one): where a month has several auctions of a
    tenor, the nominal one is the largest (`monthly_auction_sizes`). Bills: 4, 8, 13, 26 and 52 weeks;
    the 6- and 17-week bills folded into the 8- and 13-week (`FOLDED_BILLS`); cash-management bills
    (terms in days) folded into the weekly bill nearest their term (`CMB_HOST_WEEKS`), scaled by their
    term over the host's, so that the par they keep outstanding is kept (recurring series of them
    held $0.5-0.8T in 2020-2022 and about $0.4T in 2024: the 42-, 105-, 119- and 154-day bills).

    Args:
        path: `treasury/auction_amounts.csv` (Fiscal Data, offering in US dollars).

    Returns:
        `auction_date`, `tenor` (the model's, e.g. "13w", "10y"), `sold_as` (the bill or coupon as sold,
        e.g. "17w"), `offering_bn` ($ billions; a folded bill's scaled), sorted by auction date.

    Raises:
        DataFileError: missing column, a bad date or amount, a security type other than Bill, Note or Bond,
            or a term that is none of the above.
    """
    table = CsvFile(path, required=AMOUNTS_REQUIRED)
    security_type = table.text("security_type")
    unknown = ~security_type.isin(NOMINAL_TYPES)
    if unknown.any():
        index = unknown.idxmax()
        raise table.error(index, "security_type", f"expected Bill, Note or Bond; found {security_type[index]!r}")
    terms = table.text("security_term")
    auction_date = table.dates("auction_date")
    offering = table.numbers("offering_amt", bounds=NON_NEGATIVE) / 1e9
    tenors, sold_as, scales = [], [], []
    for index, term in terms.items():
        found = _model_tenor(term)
        if found is None:
            expected = "e.g. 13-Week, 10-Year or 9-Year 10-Month"
            raise table.error(index, "security_term", f"expected {expected}; found {term!r}")
        tenors.append(found[0])
        sold_as.append(found[1])
        scales.append(found[2])
    frame = pd.DataFrame({"auction_date": auction_date.to_numpy(), "tenor": tenors, "sold_as": sold_as,
                          "offering_bn": offering.to_numpy() * np.asarray(scales, dtype=float)})  # fmt: skip
    return frame.sort_values("auction_date", kind="stable").reset_index(drop=True)


def _model_tenor(term: str) -> tuple[str, str, float] | None:
    """The model tenor an auction's term is sold under, the bill or coupon as sold, and the scale
    of a folded bill (else 1); None for a term the model has no place for."""
    days = _DAYS_TERM.match(term)
    if days:
        term_days = int(days.group(1))
        host_weeks = min(reversed(CMB_HOST_WEEKS), key=lambda weeks: abs(7 * weeks - term_days))
        return f"{host_weeks}w", f"{term_days}d", term_days / (7.0 * host_weeks)
    found = _AMOUNT_TERM.match(term)
    if not found:
        return None
    number, unit, months = int(found.group(1)), found.group(2), found.group(3)
    if unit == "Week":
        if months is not None:
            return None
        if number in MODEL_BILL_WEEKS:
            return f"{number}w", f"{number}w", 1.0
        if number in FOLDED_BILLS:
            host, scale = FOLDED_BILLS[number]
            return host, f"{number}w", scale
        return None
    years = number + (1 if months is not None and int(months) > 0 else 0)
    return (f"{years}y", f"{years}y", 1.0) if years in MODEL_COUPON_YEARS else None


def monthly_auction_sizes(sizes: pd.DataFrame) -> pd.DataFrame:
    """Each tenor's auction size per calendar month ($bn): a bill's mean over the month's auctions
    (a folded bill's mean added to its host's; a cash-management bill's total over the month's weeks
    of bill auctions, so that a single one counts for its size and a weekly series for its mean), a
    coupon's largest (the nominal issue, not a TIPS or FRN sharing its term); zero for a tenor not
    auctioned that month (the 20-year before May 2020).
    Rows: every month from the file's first to its last (a monthly PeriodIndex); columns: the
    model's tenors."""
    month = sizes["auction_date"].dt.to_period("M").rename("month")
    is_bill = sizes["tenor"].str.endswith("w").to_numpy()
    bills = sizes[is_bill].assign(month=month[is_bill])
    cash_management = bills["sold_as"].str.endswith("d")
    by_series = bills[~cash_management].groupby(["month", "sold_as", "tenor"])["offering_bn"].mean()
    bill_weeks = bills.assign(week=bills["auction_date"].dt.to_period("W")).groupby("month")["week"].nunique()
    cmb_totals = bills[cash_management].groupby(["month", "sold_as", "tenor"])["offering_bn"].sum()
    cmb_weekly = cmb_totals / bill_weeks.reindex(cmb_totals.index.get_level_values("month")).to_numpy()
    bill_sizes = pd.concat([by_series, cmb_weekly]).groupby(level=["month", "tenor"]).sum().unstack("tenor")
    coupons = sizes[~is_bill].assign(month=month[~is_bill])
    coupon_sizes = coupons.groupby(["month", "tenor"])["offering_bn"].max().unstack("tenor")
    months = pd.period_range(month.min(), month.max(), freq="M")
    columns = [f"{w}w" for w in MODEL_BILL_WEEKS] + [f"{y}y" for y in MODEL_COUPON_YEARS]
    return pd.concat([bill_sizes, coupon_sizes], axis=1).reindex(index=months, columns=columns).fillna(0.0)


def read_tga_closing(path: str | Path) -> pd.Series:
    """The TGA's closing balance per Daily Treasury Statement day, in $ billions.

    From 2022-04-18 the statement has a `Treasury General Account (TGA) Closing Balance` row (the amount in
    `Opening Balance Today`). Before, Table I lists opening balances only, so a day's close is the opening
    balance of the next statement (at most `MAX_DTS_GAP_DAYS` calendar days later); the last day of such a
    file has no close.

    Args:
        path: `treasury/dts_operating_cash_balance.csv` (site export headers, $ millions).

    Returns:
        Closing balances ($ billions) indexed by record date (`date`), sorted.

    Raises:
        DataFileError: missing column, a bad date or number, or two TGA rows of one kind on one date.
    """
    table = CsvFile(path, required=(DTS_DATE, DTS_ACCOUNT, DTS_BALANCE))
    dates = table.dates(DTS_DATE)
    account = table.text(DTS_ACCOUNT)
    balance = table.numbers(DTS_BALANCE, missing=FISCAL_MISSING)
    # The TGA's own balances cannot be negative (deposit and withdrawal rows are other accounts).
    table.numbers(DTS_BALANCE, missing=FISCAL_MISSING, bounds=NON_NEGATIVE,
                  where=account.isin((*DTS_OPENING_ACCOUNTS, DTS_CLOSING_ACCOUNT)))  # fmt: skip

    def by_date(rows: pd.Series) -> pd.Series:
        table.check_unique(dates.loc[rows], DTS_DATE, what=f"{DTS_ACCOUNT} row for date")
        return pd.Series(balance.loc[rows].to_numpy(), index=pd.DatetimeIndex(dates.loc[rows].to_numpy())).sort_index()

    opening = by_date(account.isin(DTS_OPENING_ACCOUNTS)).dropna()
    closing = by_date(account == DTS_CLOSING_ACCOUNT).dropna()
    next_day = opening.index[1:]
    follows = (next_day - opening.index[:-1]) <= pd.Timedelta(days=MAX_DTS_GAP_DAYS)
    from_next_open = pd.Series(opening.to_numpy()[1:][follows], index=opening.index[:-1][follows])
    close = closing.combine_first(from_next_open) / 1000.0
    close.index.name = "date"
    return close.rename("tga_bn")
