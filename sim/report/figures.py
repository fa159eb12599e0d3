"""Figures comparing runs panel by panel: A (repo), B (auctions), C (fails), reservoir and pipe.

The single-run dashboard figure is drawn by sim.dashboard.plots.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure state),
so figures render the same on a headless machine and inside tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.dashboard.metrics import FAILS_WEEKLY_COLUMN, repo_dispersion_bp, weekly_fails
from sim.dashboard.plots import png_bytes

Tables = Mapping[str, pd.DataFrame]
TYPE_MARKERS = {"Bill": "o", "Note": "s", "Bond": "^"}
RUN_COLOURS = ("tab:blue", "tab:red")
DPI = 80


def _dates(frame: pd.DataFrame, column: str = "date") -> pd.Series:
    return pd.to_datetime(frame[column])


def _style(ax: Axes, title: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.set_ylabel(ylabel, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    locator = mdates.AutoDateLocator(maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _legend(ax: Axes, **kwargs) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best", **kwargs)


def _png(fig: Figure) -> bytes:
    return png_bytes(fig, DPI)


# ---------------------------------------------------------------- one run
# ---------------------------------------------------------------- two runs
def compare_png(runs: Sequence[tuple[str, Tables]], title: str) -> bytes:
    """Two (or more) runs overlaid panel by panel, one colour per run, as a PNG.

    Args:
        runs: (label, tables) per run; tables hold `daily` and `auctions`.
        title: heading.
    """
    fig = Figure(figsize=(14, 17), layout="constrained")
    axes = fig.subplots(5, 2)
    for i, (label, tables) in enumerate(runs):
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        daily, auctions = tables["daily"], tables["auctions"]
        d = _dates(daily)
        axes[0, 0].fill_between(d, daily["sofr_p1_pct"], daily["sofr_p99_pct"], color=colour, alpha=0.15, lw=0)
        axes[0, 0].plot(d, daily["sofr_median_pct"], color=colour, lw=1.2, label=f"{label} SOFR (band p1-p99)")
        if "bilateral_median_pct" in daily.columns and daily["bilateral_median_pct"].notna().any():
            # Uncleared dealer-to-client repo: traded in the model, but not part of SOFR.
            axes[0, 0].plot(d, daily["bilateral_median_pct"], color=colour, lw=0.7, ls="--",
                            label=f"{label} dealer-to-client (outside SOFR)")  # fmt: skip
        axes[0, 1].plot(d, repo_dispersion_bp(daily), color=colour, lw=1, label=label)
        for kind, marker in TYPE_MARKERS.items():
            group = auctions[auctions["security_type"] == kind]
            when = _dates(group, "auction_date")
            # One legend entry per run; the marker shapes are explained in the panel titles.
            tag = label if kind == "Bill" else None
            axes[1, 0].scatter(when, group["tail_bp"], s=12, color=colour, marker=marker, alpha=0.7, label=tag)
            axes[1, 1].scatter(when, group["dealer_share"], s=12, color=colour, marker=marker, alpha=0.7, label=tag)
        weekly = weekly_fails(daily).set_index("week_end")[FAILS_WEEKLY_COLUMN]
        axes[2, 0].step(weekly.index, weekly.values, where="pre", color=colour, lw=1.2, label=label)
        axes[2, 1].plot(d, daily["reserves_bn"], color=colour, lw=1.2, label=f"{label} reserves")
        axes[2, 1].plot(d, daily["on_rrp_bn"], color=colour, lw=1, ls="--", label=f"{label} ON RRP")
        axes[3, 0].plot(d, daily["bid_ask_bp"], color=colour, lw=1, label=label)
        axes[3, 1].plot(d, daily["dealer_utilization"], color=colour, lw=1, label=label)
        axes[4, 0].plot(d, daily["customer_volume_bn"], color=colour, lw=1, label=label)
        axes[4, 1].plot(d, daily["fill_ratio"], color=colour, lw=1, label=label)
    axes[1, 0].axhline(0.0, color="black", lw=0.8)
    styles = [
        ("A. SOFR and its p1-p99 band", "%"), ("A. SOFR dispersion, 99th - 1st percentile", "bp"),
        ("B. Auction tails (o bills, s notes, ^ bonds)", "bp"),
        ("B. Primary-dealer takedown (o bills, s notes, ^ bonds)", "share"),
        ("C. Fails, weekly Thu-Wed", "$bn"), ("Reservoir: reserves and ON RRP", "$bn"),
        ("Pipe: bid/ask", "bp"), ("Pipe: dealer utilization", "share"),
        ("Pipe: customer volume", "$bn per day"), ("Pipe: fill ratio", "share"),
    ]  # fmt: skip
    for ax, (panel_title, unit) in zip(axes.flat, styles, strict=True):
        _style(ax, panel_title, unit)
        _legend(ax)
    fig.suptitle(title, fontsize=12)
    return _png(fig)
