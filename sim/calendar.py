"""Business-day calendar and the Treasury's auction calendar.

US federal holidays are observed (pandas' federal holiday rules). Calendar flags follow
the plumbing's pressure points: month-ends, quarter-ends, mid-month (15th) and
end-of-month coupon settlement, and corporate tax dates (15 Mar/Apr/Jun/Sep/Dec).
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar
from pandas.tseries.offsets import CustomBusinessDay

from sim.scenario.schema import BILL_TENORS

TAX_MONTHS = (3, 4, 6, 9, 12)
QUARTERLY_NEW_ISSUE_MONTHS = (2, 5, 8, 11)
# Coupon tenors that settle (and so mature) at month-end; the others settle on the 15th.
MONTH_END_TENORS = ("2y", "5y", "7y", "20y")
# Tenor length in years, used for maturity dates, duration and trading buckets.
TENOR_YEARS = {
    "4w": 4 / 52,
    "8w": 8 / 52,
    "13w": 13 / 52,
    "26w": 26 / 52,
    "52w": 1.0,
    "2y": 2.0,
    "3y": 3.0,
    "5y": 5.0,
    "7y": 7.0,
    "10y": 10.0,
    "20y": 20.0,
    "30y": 30.0,
}
BILL_WEEKS = {"4w": 4, "8w": 8, "13w": 13, "26w": 26, "52w": 52}


@lru_cache(maxsize=8)
def business_days(start: dt.date, end: dt.date) -> pd.DatetimeIndex:
    """US business days from start to end inclusive."""
    return pd.date_range(start, end, freq=_bday())


@lru_cache(maxsize=1)
def _bday() -> CustomBusinessDay:
    return CustomBusinessDay(calendar=USFederalHolidayCalendar())


def business_days_before(day: dt.date, n: int) -> dt.date:
    """The business day n business days before `day` (itself when n is 0)."""
    if n == 0:
        return day
    earlier = business_days(day - dt.timedelta(days=2 * n + 40), day - dt.timedelta(days=1))
    return earlier[-n].date()


@lru_cache(maxsize=1)
def _busdaycal() -> np.busdaycalendar:
    return np.busdaycalendar(holidays=_bday().holidays)


def shift_business_days(day: pd.Timestamp, n: int, roll: Literal["forward", "backward"] = "forward") -> pd.Timestamp:
    """The business day n business days after `day` (before it when n < 0), counting from
    `day` rolled to a business day (`roll`: 'forward' or 'backward')."""
    shifted = np.busday_offset(np.datetime64(day.date(), "D"), n, roll=roll, busdaycal=_busdaycal())
    return pd.Timestamp(shifted)


def roll_forward(day: pd.Timestamp) -> pd.Timestamp:
    """The day itself if a business day, else the next business day."""
    return shift_business_days(day, 0)


@dataclass(frozen=True)
class AuctionSpec:
    """One scheduled auction.

    Attributes:
        auction_date: day the auction is held.
        issue_date: settlement day (cash to the TGA, securities to winners).
        tenor: tenor label (`4w` ... `30y`).
        reopening: True when it adds to the existing on-the-run issue.
        maturity: maturity of a new issue sold at this auction.
    """

    auction_date: pd.Timestamp
    issue_date: pd.Timestamp
    tenor: str
    reopening: bool
    maturity: pd.Timestamp


def _first_on_or_after(day: pd.Timestamp, previous: pd.Timestamp | None, day_of_month: int) -> bool:
    """True on the first business day of its month on or after `day_of_month`."""
    new_month = previous is None or (previous.year, previous.month) != (day.year, day.month)
    return day.day >= day_of_month and (new_month or previous is None or previous.day < day_of_month)


class MarketCalendar:
    """Business days of a run, their flags and the auctions held on them."""

    def __init__(self, start: dt.date, end: dt.date):
        self.days = business_days(start, end)
        if len(self.days) == 0:
            raise ValueError(f"no business day between {start} and {end}")
        d = self.days
        # The same days as a list: indexing a DatetimeIndex builds a new Timestamp each time.
        self.dates: list[pd.Timestamp] = list(d)
        following_month = np.append(d.month[1:], (d[-1] + _bday()).month)
        self.is_month_end = np.asarray(following_month != d.month)
        self.is_quarter_end = self.is_month_end & np.isin(d.month, (3, 6, 9, 12))
        mid_month = {roll_forward(pd.Timestamp(y, m, 15)) for y, m in {(x.year, x.month) for x in d}}
        self.is_mid_month = np.asarray(d.isin(list(mid_month)))
        self.is_tax_date = self.is_mid_month & np.isin(d.month, TAX_MONTHS)
        self.is_settlement_date = self.is_mid_month | self.is_month_end
        self.business_days_to_quarter_end, self.next_quarter_end_month = self._next_quarter_end(start, end, len(d))
        self.mortgage_flow = self._mortgage_flows(d)
        self.auctions = self._schedule(d[0], d[-1])
        self.auctions_on: dict[pd.Timestamp, list[AuctionSpec]] = {}
        self.issues_on: dict[pd.Timestamp, list[AuctionSpec]] = {}
        for spec in self.auctions:
            self.auctions_on.setdefault(spec.auction_date, []).append(spec)
            self.issues_on.setdefault(spec.issue_date, []).append(spec)
        # Runs over the same dates share one calendar (`market_calendar`): its flags are read-only.
        for flags in (self.is_month_end, self.is_quarter_end, self.is_mid_month, self.is_tax_date,
                      self.is_settlement_date, self.business_days_to_quarter_end,
                      self.next_quarter_end_month):  # fmt: skip
            flags.flags.writeable = False

    @staticmethod
    def _next_quarter_end(start: dt.date, end: dt.date, n_days: int) -> tuple[np.ndarray, np.ndarray]:
        """For each day, the business days to the quarter's last business day (0 on it) and that
        day's month, counted over the days beyond the run's end too, so the run's last weeks know
        how near the quarter-end is."""
        ahead = business_days(start, end + dt.timedelta(days=100))  # past the next quarter-end
        following_month = np.append(ahead.month[1:], (ahead[-1] + _bday()).month)
        quarter_ends = np.flatnonzero((following_month != ahead.month) & np.isin(ahead.month, (3, 6, 9, 12)))
        index = np.arange(n_days)
        upcoming = quarter_ends[np.searchsorted(quarter_ends, index)]
        return upcoming - index, np.asarray(ahead.month)[upcoming]

    @staticmethod
    def _mortgage_flows(days: pd.DatetimeIndex) -> list[str]:
        """'in' on the first business day on or after the 15th (mortgage payments reach the
        GSE-like pools), 'out' on or after the 25th (paid to MBS holders), '' otherwise."""
        flows = []
        for i, day in enumerate(days):
            previous = days[i - 1] if i else None
            if _first_on_or_after(day, previous, 25):
                flows.append("out")
            elif day.day < 25 and _first_on_or_after(day, previous, 15):
                flows.append("in")
            else:
                flows.append("")
        return flows

    def __len__(self) -> int:
        return len(self.days)

    @staticmethod
    def _schedule(first: pd.Timestamp, last: pd.Timestamp) -> list[AuctionSpec]:
        """The regular auctions held from `first` to `last`, and those held just before `first`
        that settle after it: these are held on `first` (the securities they refund are in the
        opening stock, which holds only what had settled by then)."""
        specs = bill_auctions(first, last) + coupon_auctions(first, last)
        kept = [
            s if s.auction_date >= first else replace(s, auction_date=first)
            for s in specs
            if s.auction_date <= last and s.issue_date > first
        ]
        return sorted(kept, key=lambda s: (s.auction_date, s.tenor))


@lru_cache(maxsize=16)
def market_calendar(start: dt.date, end: dt.date) -> MarketCalendar:
    """The calendar from `start` to `end`, built once per process and shared by every run over
    those dates (an experiment's runs, a stress's calm twin): building it takes longer than a
    week of simulated days. Read it, never change it."""
    return MarketCalendar(start, end)


def bill_settlement_day(day: pd.Timestamp) -> pd.Timestamp:
    """The regular bill settlement day of `day`'s week: its Thursday, rolled past a holiday."""
    monday = day.normalize() - pd.Timedelta(days=day.weekday())
    return roll_forward(monday + pd.Timedelta(days=3))


def month_end_settlement(year: int, month: int) -> pd.Timestamp:
    """The month's last business day, when 2y/5y/7y/20y issues settle (and mature)."""
    last = pd.Timestamp(year, month, monthrange(year, month)[1])
    return shift_business_days(last, 0, roll="backward")


def mid_month_settlement(year: int, month: int) -> pd.Timestamp:
    """The 15th rolled to a business day, when 3y/10y/30y issues settle (and mature)."""
    return roll_forward(pd.Timestamp(year, month, 15))


def bill_auctions(first: pd.Timestamp, last: pd.Timestamp) -> list[AuctionSpec]:
    """Weekly bills in the weeks from `first`'s to `last`'s, close to Treasury's calendar.

    13w/26w auctioned Monday, 4w/8w Tuesday, 52w every fourth Tuesday (ISO weeks divisible
    by four); all issued on the week's Thursday (the next business day after a holiday).
    """
    specs: list[AuctionSpec] = []
    for monday in pd.date_range(first.normalize() - pd.Timedelta(days=first.weekday()), last, freq="W-MON"):
        thursday = bill_settlement_day(monday)
        for tenor, weekday in (("13w", 0), ("26w", 0), ("4w", 1), ("8w", 1), ("52w", 1)):
            if tenor == "52w" and (monday.isocalendar().week % 4) != 0:
                continue
            auction = roll_forward(monday + pd.Timedelta(days=weekday))
            if auction >= thursday:
                auction = shift_business_days(thursday, -1)
            specs.append(AuctionSpec(auction, thursday, tenor, False, maturity_date(thursday, tenor)))
    return specs


def coupon_auctions(first: pd.Timestamp, last: pd.Timestamp) -> list[AuctionSpec]:
    """Monthly notes and bonds in the months from the one before `first` to `last`'s.

    2y/5y/7y late in the month and 20y a week earlier, issued at month-end; 3y/10y/30y early
    in the month, issued on the 15th; new issues of 10y/20y/30y in Feb/May/Aug/Nov and
    reopenings in between.
    """
    specs: list[AuctionSpec] = []
    for month_start in pd.date_range(first - pd.offsets.MonthBegin(1), last, freq="MS"):
        year, month = month_start.year, month_start.month
        month_end = month_end_settlement(year, month)
        mid = mid_month_settlement(year, month)
        quarterly_new = month in QUARTERLY_NEW_ISSUE_MONTHS
        for tenor, lag in (("20y", 7), ("2y", 5), ("5y", 4), ("7y", 3)):
            reopen = tenor == "20y" and not quarterly_new
            specs.append(
                AuctionSpec(
                    shift_business_days(month_end, -lag), month_end, tenor, reopen, maturity_date(month_end, tenor)
                )
            )
        first_bday = roll_forward(month_start)
        for tenor, lag in (("3y", 5), ("10y", 6), ("30y", 7)):
            reopen = tenor != "3y" and not quarterly_new
            specs.append(
                AuctionSpec(shift_business_days(first_bday, lag), mid, tenor, reopen, maturity_date(mid, tenor))
            )
    return specs


def day_number(ts: pd.Timestamp) -> int:
    """Days since 1970-01-01 of a timestamp (the model's integer day count)."""
    return int(ts.value // 86_400_000_000_000)


def maturity_date(issue_date: pd.Timestamp, tenor: str) -> pd.Timestamp:
    """Maturity of a new issue, on the settlement day of the auction that refunds it.

    Bills mature on the regular bill settlement day (Thursday, holiday-rolled) the tenor's
    weeks after their issue week, even when a holiday pushed their issue to the Friday;
    2y/5y/7y/20y at the month-end and 3y/10y/30y on the 15th of the month the tenor's years
    later, when that tenor's new issues settle.
    """
    if tenor in BILL_TENORS:
        return bill_settlement_day(issue_date + pd.Timedelta(weeks=BILL_WEEKS[tenor]))
    year = issue_date.year + int(TENOR_YEARS[tenor])
    if tenor in MONTH_END_TENORS:
        return month_end_settlement(year, issue_date.month)
    return mid_month_settlement(year, issue_date.month)
