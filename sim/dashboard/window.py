"""The period two sets of tables are compared over: a run's dates, the real data's, their overlap.

A run scored against the real market must be scored on the same days: reserves, ON RRP
and the policy rates move over years, so a 2025 run measured against 2018-2026 data
mostly measures 2021. These helpers find a set of tables' dates and cut every table to a
window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pandas as pd

# The date each standard table is cut by.
DATE_COLUMNS = {"daily": "date", "auctions": "auction_date", "dealers": "date", "fails_weekly": "week_end"}


def table_span(tables: Mapping[str, Any]) -> tuple[dt.date, dt.date] | None:
    """First and last day of the daily table; None when it has no dated rows."""
    daily = tables.get("daily")
    if daily is None or "date" not in daily.columns:
        return None
    dates = pd.to_datetime(daily["date"]).dropna()
    if dates.empty:
        return None
    return dates.min().date(), dates.max().date()


def restrict(tables: Mapping[str, Any], start: dt.date | None, end: dt.date | None) -> dict[str, Any]:
    """Every standard table cut to the rows dated in [start, end] (either bound optional); other entries kept."""
    out: dict[str, Any] = {}
    for name, table in tables.items():
        column = DATE_COLUMNS.get(name)
        if column is None or not isinstance(table, pd.DataFrame) or column not in table.columns:
            out[name] = table
            continue
        dates = pd.to_datetime(table[column])
        keep = pd.Series(True, index=table.index)
        if start is not None:
            keep &= dates >= pd.Timestamp(start)
        if end is not None:
            keep &= dates <= pd.Timestamp(end)
        out[name] = table.loc[keep].reset_index(drop=True)
    return out


def intersect(
    span: tuple[dt.date, dt.date], start: dt.date | None, end: dt.date | None
) -> tuple[dt.date, dt.date] | None:
    """`span` narrowed by the optional bounds; None when nothing is left."""
    low = max(span[0], start) if start is not None else span[0]
    high = min(span[1], end) if end is not None else span[1]
    return (low, high) if low <= high else None
