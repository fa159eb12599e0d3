"""Business-day calendar and the Treasury's auction calendar.

US federal holidays are observed (pandas' federal holiday rules). Calendar flags follow
the plumbing's pressure points: month-ends, quarter-ends, mid-month (15th) and
end-of-month coupon settlement, and corporate tax dates (15 Mar/Apr/Jun/Sep/Dec).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from pandas.tseries.holiday import USFederalHolidayCalendar
from pandas.tseries.offsets import CustomBusinessDay

from sim.scenario.schema import BILL_TENORS

TAX_MONTHS = (3, 4, 6, 9, 12)
QUARTERLY_NEW_ISSUE_MONTHS = (2, 5, 8, 11)
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


def roll_forward(day: pd.Timestamp) -> pd.Timestamp:
    """The day itself if a business day, else the next business day."""
    return _bday().rollforward(day)


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
        following_month = np.append(d.month[1:], (d[-1] + _bday()).month)
        self.is_month_end = np.asarray(following_month != d.month)
        self.is_quarter_end = self.is_month_end & np.isin(d.month, (3, 6, 9, 12))
        mid_month = {roll_forward(pd.Timestamp(y, m, 15)) for y, m in {(x.year, x.month) for x in d}}
        self.is_mid_month = np.asarray(d.isin(list(mid_month)))
        self.is_tax_date = self.is_mid_month & np.isin(d.month, TAX_MONTHS)
        self.is_settlement_date = self.is_mid_month | self.is_month_end
        self.mortgage_flow = self._mortgage_flows(d)
        self.auctions = self._schedule(d)
        self.auctions_on: dict[pd.Timestamp, list[AuctionSpec]] = {}
        self.issues_on: dict[pd.Timestamp, list[AuctionSpec]] = {}
        for spec in self.auctions:
            self.auctions_on.setdefault(spec.auction_date, []).append(spec)
            self.issues_on.setdefault(spec.issue_date, []).append(spec)

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
    def _schedule(days: pd.DatetimeIndex) -> list[AuctionSpec]:
        """Auctions in the window, close to Treasury's regular calendar.

        Bills weekly (13w/26w Monday, 4w/8w Tuesday, 52w every fourth Tuesday; issued
        Thursday); 2y/5y/7y late in the month and 20y a week earlier, issued at month-end;
        3y/10y/30y early in the month, issued on the 15th, new issues of 10y/20y/30y in
        Feb/May/Aug/Nov and reopenings in between.
        """
        bday = _bday()
        first, last = days[0], days[-1]
        specs: list[AuctionSpec] = []
        # Weekly bills: anchor on the Monday of each week.
        for monday in pd.date_range(first - pd.Timedelta(days=first.weekday()), last, freq="W-MON"):
            thursday = roll_forward(monday + pd.Timedelta(days=3))
            for tenor, weekday in (("13w", 0), ("26w", 0), ("4w", 1), ("8w", 1), ("52w", 1)):
                if tenor == "52w" and (monday.isocalendar().week % 4) != 0:
                    continue
                auction = roll_forward(monday + pd.Timedelta(days=weekday))
                if auction >= thursday:
                    auction = thursday - bday
                specs.append(AuctionSpec(auction, thursday, tenor, False, thursday))
        for month_start in pd.date_range(first - pd.offsets.MonthBegin(1), last, freq="MS"):
            month_end = bday.rollback(month_start + pd.offsets.MonthEnd(0))
            mid = roll_forward(month_start + pd.Timedelta(days=14))
            quarterly_new = month_start.month in QUARTERLY_NEW_ISSUE_MONTHS
            for tenor, lag in (("20y", 7), ("2y", 5), ("5y", 4), ("7y", 3)):
                reopen = tenor == "20y" and not quarterly_new
                specs.append(AuctionSpec(month_end - lag * bday, month_end, tenor, reopen, month_end))
            first_bday = roll_forward(month_start)
            for tenor, lag in (("3y", 5), ("10y", 6), ("30y", 7)):
                reopen = tenor != "3y" and not quarterly_new
                specs.append(AuctionSpec(first_bday + lag * bday, mid, tenor, reopen, mid))
        kept = sorted(
            (s for s in specs if first <= s.auction_date <= last),
            key=lambda s: (s.auction_date, s.tenor),
        )
        return [
            AuctionSpec(s.auction_date, s.issue_date, s.tenor, s.reopening, maturity_date(s.issue_date, s.tenor))
            for s in kept
        ]


def day_number(ts: pd.Timestamp) -> int:
    """Days since 1970-01-01 of a timestamp (the model's integer day count)."""
    return int(ts.value // 86_400_000_000_000)


def maturity_date(issue_date: pd.Timestamp, tenor: str) -> pd.Timestamp:
    """Maturity of a new issue: bills in weeks, coupons in years (rolled to a business day)."""
    if tenor in BILL_TENORS:
        return roll_forward(issue_date + pd.Timedelta(weeks=BILL_WEEKS[tenor]))
    return roll_forward(issue_date + pd.DateOffset(years=int(TENOR_YEARS[tenor])))
