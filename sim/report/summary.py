"""The dashboard numbers of a run, computed from its raw daily and auction series.

A stand-in for the full dashboard (DESIGN.md section 8: scoring against a reference,
spike tagging, persistence): plain summary statistics of panels A (repo), B (auctions),
C (fails) and of the reservoir and the pipe, so that runs can be compared today.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Metric:
    """One dashboard number: its key (unit in the name), label, panel and display format."""

    key: str
    label: str
    panel: str
    fmt: str


METRICS: tuple[Metric, ...] = (
    Metric("repo_dispersion_mean_bp", "Repo 99th-1st pct dispersion, mean (bp)", "A repo", ".2f"),
    Metric("repo_dispersion_p90_bp", "Repo 99th-1st pct dispersion, p90 (bp)", "A repo", ".2f"),
    Metric("repo_median_minus_iorb_mean_bp", "Repo median minus IORB, mean (bp)", "A repo", ".2f"),
    Metric("repo_median_vol_20d_bp", "20-day vol of daily median changes, mean (bp)", "A repo", ".2f"),
    Metric("tail_bills_mean_bp", "Auction tail, bills, mean (bp)", "B auctions", ".2f"),
    Metric("tail_bills_p90_bp", "Auction tail, bills, p90 (bp)", "B auctions", ".2f"),
    Metric("tail_coupons_mean_bp", "Auction tail, coupons, mean (bp)", "B auctions", ".2f"),
    Metric("tail_coupons_p90_bp", "Auction tail, coupons, p90 (bp)", "B auctions", ".2f"),
    Metric("tail_ge_1bp_share", "Auctions tailing >= 1bp (share)", "B auctions", ".3f"),
    Metric("dealer_share_mean", "Dealer takedown share, mean", "B auctions", ".3f"),
    Metric("fails_mean_bn", "Fails to deliver, daily mean ($bn)", "C fails", ".2f"),
    Metric("fails_max_bn", "Fails to deliver, daily max ($bn)", "C fails", ".2f"),
    Metric("fails_weekly_max_bn", "Fails, largest Thu-Wed week ($bn)", "C fails", ".2f"),
    Metric("reserves_mean_bn", "Reserves, mean ($bn)", "Reservoir", ".0f"),
    Metric("on_rrp_mean_bn", "ON RRP, mean ($bn)", "Reservoir", ".0f"),
    Metric("srf_usage_mean_bn", "SRF usage, mean ($bn)", "Reservoir", ".2f"),
    Metric("customer_volume_mean_bn", "Customer volume intermediated, mean ($bn/day)", "Pipe", ".1f"),
    Metric("fill_ratio_mean", "Fill ratio, mean", "Pipe", ".3f"),
    Metric("bid_ask_mean_bp", "Bid/ask, mean (bp)", "Pipe", ".3f"),
    Metric("dealer_utilization_mean", "Dealer utilization, mean", "Pipe", ".3f"),
    Metric("dealer_headroom_mean_bn", "Dealer headroom, mean ($bn)", "Pipe", ".0f"),
)


def repo_dispersion_bp(daily: pd.DataFrame) -> pd.Series:
    """Daily 99th minus 1st percentile repo rate (bp)."""
    return (daily["repo_p99_pct"] - daily["repo_p1_pct"]) * 100.0


def weekly_fails_bn(daily: pd.DataFrame) -> pd.Series:
    """Fails summed over Thursday-to-Wednesday weeks, like the New York Fed's dealer statistics ($bn).

    Indexed by the Wednesday that ends each week.
    """
    fails = daily.set_index(pd.to_datetime(daily["date"]))["fails_bn"]
    return fails.resample("W-WED").sum()


def _mean(values: pd.Series) -> float:
    values = values.dropna()
    return float(values.mean()) if len(values) else math.nan


def _quantile(values: pd.Series, q: float) -> float:
    values = values.dropna()
    return float(np.quantile(values, q)) if len(values) else math.nan


def summarise(tables: Mapping[str, pd.DataFrame]) -> dict[str, float]:
    """The dashboard numbers of one run, keyed as in `METRICS` (NaN where a run has no data).

    Args:
        tables: the run's `daily` and `auctions` tables (output contract columns).

    Returns:
        Metric key -> value. Units are in the keys: bp, $bn, or a share in [0, 1].
    """
    daily = tables["daily"]
    auctions = tables["auctions"]
    dispersion = repo_dispersion_bp(daily)
    median_bp = daily["repo_median_pct"] * 100.0
    # Vol of day-to-day changes over a trailing 20 business days; NaN until 20 changes exist.
    median_vol = median_bp.diff().rolling(20, min_periods=20).std()
    bills = auctions["security_type"] == "Bill"
    tails = auctions["tail_bp"]
    values = {
        "repo_dispersion_mean_bp": _mean(dispersion),
        "repo_dispersion_p90_bp": _quantile(dispersion, 0.9),
        "repo_median_minus_iorb_mean_bp": _mean(median_bp - daily["iorb_pct"] * 100.0),
        "repo_median_vol_20d_bp": _mean(median_vol),
        "tail_bills_mean_bp": _mean(tails[bills]),
        "tail_bills_p90_bp": _quantile(tails[bills], 0.9),
        "tail_coupons_mean_bp": _mean(tails[~bills]),
        "tail_coupons_p90_bp": _quantile(tails[~bills], 0.9),
        "tail_ge_1bp_share": _mean((tails >= 1.0).astype(float)) if len(tails) else math.nan,
        "dealer_share_mean": _mean(auctions["dealer_share"]),
        "fails_mean_bn": _mean(daily["fails_bn"]),
        "fails_max_bn": float(daily["fails_bn"].max()) if len(daily) else math.nan,
        "fails_weekly_max_bn": float(weekly_fails_bn(daily).max()) if len(daily) else math.nan,
        "reserves_mean_bn": _mean(daily["reserves_bn"]),
        "on_rrp_mean_bn": _mean(daily["on_rrp_bn"]),
        "srf_usage_mean_bn": _mean(daily["srf_usage_bn"]),
        "customer_volume_mean_bn": _mean(daily["customer_volume_bn"]),
        "fill_ratio_mean": _mean(daily["fill_ratio"]),
        "bid_ask_mean_bp": _mean(daily["bid_ask_bp"]),
        "dealer_utilization_mean": _mean(daily["dealer_utilization"]),
        "dealer_headroom_mean_bn": _mean(daily["dealer_headroom_bn"]),
    }
    return {m.key: values[m.key] for m in METRICS}


def format_value(metric: Metric, value: float | None) -> str:
    """A metric value for display; `n/a` where the run had no data for it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    text = format(value, metric.fmt)
    # A difference that rounds to zero reads as 0, not -0.
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def json_ready(metrics: Mapping[str, float]) -> dict[str, float | None]:
    """Metrics with NaN replaced by None, so the JSON is strict (null, not NaN)."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()}


def comparison_table(a: Mapping[str, float], b: Mapping[str, float]) -> str:
    """Two runs' dashboard numbers as an aligned text table: metric, A, B, B - A."""
    rows = [("Metric", "A", "B", "B - A")]
    for m in METRICS:
        rows.append(
            (m.label, format_value(m, a[m.key]), format_value(m, b[m.key]), format_value(m, b[m.key] - a[m.key]))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        f"{row[0]:<{widths[0]}}  "
        + "  ".join(f"{cell:>{width}}" for cell, width in zip(row[1:], widths[1:], strict=True))
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
