"""The compact time series an experiment keeps of each run, for its figures.

A run's record carries, besides its dashboard metrics, the few daily series the experiment
figures draw (the reservoir, the pipe, the three dashboard panels and SOFR and EFFR against IORB,
which the reserve demand curve plots against reserves), as JSON-ready lists
rounded to 0.001 of their unit: enough for a chart, about 20 kB a run. Metrics are always
computed from the unrounded tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from sim.dashboard.metrics import (
    FAILS_WEEKLY_COLUMN,
    auction_groups,
    effr_minus_iorb_bp,
    fails_weekly_table,
    median_minus_iorb_bp,
    prepare_auctions,
    prepare_daily,
    repo_dispersion_bp,
)

# Daily columns kept: the reservoir, the pipe, and panels A and C; units in their names.
DAILY_SERIES = (
    "reserves_bn", "soma_bn", "customer_volume_bn", "dealer_utilization", "bid_ask_bp", "repo_dispersion_bp",
    "fails_bn", "sofr_minus_iorb_bp", "effr_minus_iorb_bp",
)  # fmt: skip
DECIMALS = 3


def _numbers(values: pd.Series | np.ndarray) -> list[float | None]:
    rounded = np.round(np.asarray(values, dtype=float), DECIMALS)
    return [None if not np.isfinite(v) else float(v) for v in rounded]


def _dates(values: pd.Series) -> list[str]:
    return [d.date().isoformat() for d in pd.to_datetime(values)]


def run_series(tables: Mapping[str, pd.DataFrame]) -> dict[str, dict[str, list[Any]]]:
    """The series an experiment keeps of one run's standard tables (JSON-ready).

    Returns:
        `daily` (date and DAILY_SERIES), `auctions` (date, tenor_group, tail_bp) and
        `fails_weekly` (week_ending, fails_bn: Thursday-Wednesday sums of the tracked issues' fails), each a mapping of
        column -> list; missing values are None.
    """
    daily = prepare_daily(tables.get("daily"))
    out: dict[str, dict[str, list[Any]]] = {"daily": {"date": []}, "auctions": {}, "fails_weekly": {}}
    if daily is not None:
        daily = daily.assign(
            repo_dispersion_bp=repo_dispersion_bp(daily),
            sofr_minus_iorb_bp=median_minus_iorb_bp(daily),
            effr_minus_iorb_bp=effr_minus_iorb_bp(daily),
        )
        out["daily"] = {"date": _dates(daily["date"])}
        for column in DAILY_SERIES:
            values = daily[column] if column in daily.columns else pd.Series(np.nan, index=daily.index)
            out["daily"][column] = _numbers(values)
    auctions = prepare_auctions(tables.get("auctions"))
    if auctions is None:
        out["auctions"] = {"date": [], "tenor_group": [], "tail_bp": []}
    else:
        tails = auctions["tail_bp"] if "tail_bp" in auctions.columns else pd.Series(np.nan, index=auctions.index)
        out["auctions"] = {
            "date": _dates(auctions["auction_date"]),
            "tenor_group": [None if g is None else str(g) for g in auction_groups(auctions)],
            "tail_bp": _numbers(tails),
        }
    weekly = fails_weekly_table(tables)
    if weekly is None:
        out["fails_weekly"] = {"week_ending": [], "fails_bn": []}
    else:
        out["fails_weekly"] = {
            "week_ending": _dates(weekly["week_end"]),
            "fails_bn": _numbers(weekly[FAILS_WEEKLY_COLUMN]),
        }
    return out


def series_frames(series: Mapping[str, Mapping[str, list[Any]]]) -> dict[str, pd.DataFrame]:
    """A run's kept series as DataFrames with datetime date columns and float values (NaN for None)."""
    frames = {}
    date_column = {"daily": "date", "auctions": "date", "fails_weekly": "week_ending"}
    for name, column in date_column.items():
        data = dict(series.get(name) or {})
        frame = pd.DataFrame(data) if data else pd.DataFrame({column: []})
        frame[column] = pd.to_datetime(frame[column]) if column in frame.columns else pd.to_datetime([])
        for other in frame.columns:
            if other not in (column, "tenor_group"):
                frame[other] = pd.to_numeric(frame[other], errors="coerce").astype(float)
        frames[name] = frame
    return frames
