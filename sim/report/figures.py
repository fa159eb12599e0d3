"""Dashboard figures: panels A (repo), B (auctions), C (fails) and the reservoir vs the pipe.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global figure state),
so figures render the same on a headless machine and inside tests.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.report.summary import repo_dispersion_bp, weekly_fails_bn

Tables = Mapping[str, pd.DataFrame]
TYPE_COLOURS = {"Bill": "tab:blue", "Note": "tab:orange", "Bond": "tab:red"}
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
    """The figure as a 256-colour PNG: line charts need no more, and files shrink about threefold."""
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(DPI)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


# ---------------------------------------------------------------- one run
def _repo_band(ax: Axes, daily: pd.DataFrame) -> None:
    d = _dates(daily)
    band = {"color": "tab:blue", "lw": 0}
    ax.fill_between(d, daily["repo_p1_pct"], daily["repo_p99_pct"], alpha=0.15, label="p1-p99", **band)
    ax.fill_between(d, daily["repo_p25_pct"], daily["repo_p75_pct"], alpha=0.35, label="p25-p75", **band)
    ax.plot(d, daily["repo_median_pct"], color="tab:blue", lw=1.2, label="median")
    ax.plot(d, daily["iorb_pct"], color="black", ls="--", lw=1, label="IORB")
    ax.plot(d, daily["on_rrp_rate_pct"], color="grey", ls=":", lw=1, label="ON RRP rate")
    _style(ax, "A. Repo rates: percentiles of the day's trades", "%")
    _legend(ax, ncol=3)


def _dispersion(ax: Axes, daily: pd.DataFrame) -> None:
    d = _dates(daily)
    ax.plot(d, repo_dispersion_bp(daily), color="tab:blue", lw=1)
    # Quarter-ends are where window-dressing dealers shrink repo: mark them so spikes read at a glance.
    for day in d[daily["is_quarter_end"].astype(bool)]:
        ax.axvline(day, color="tab:red", alpha=0.3, lw=1)
    _style(ax, "A. Repo dispersion, 99th - 1st percentile (quarter-ends marked)", "bp")


def _scatter_by_type(ax: Axes, auctions: pd.DataFrame, column: str) -> None:
    """One auction-date scatter of `column`, coloured bills / notes / bonds."""
    for kind, colour in TYPE_COLOURS.items():
        group = auctions[auctions["security_type"] == kind]
        ax.scatter(_dates(group, "auction_date"), group[column], s=12, color=colour, label=f"{kind}s", alpha=0.8)


def _tails(ax: Axes, auctions: pd.DataFrame) -> None:
    _scatter_by_type(ax, auctions, "tail_bp")
    ax.axhline(0.0, color="black", lw=0.8)
    ax.axhline(1.0, color="grey", ls=":", lw=0.8)
    _style(ax, "B. Auction tails: high yield - when-issued", "bp")
    _legend(ax, ncol=3)


def _dealer_share(ax: Axes, auctions: pd.DataFrame) -> None:
    _scatter_by_type(ax, auctions, "dealer_share")
    _style(ax, "B. Primary-dealer takedown", "share of offering")
    _legend(ax, ncol=3)


def _fails(ax: Axes, daily: pd.DataFrame) -> None:
    weekly = weekly_fails_bn(daily)
    # Weeks end on Wednesday; draw each week's bar over the Thursday-to-Wednesday it covers.
    ax.bar(weekly.index - pd.Timedelta(days=3), weekly.values, width=6, color="tab:orange", alpha=0.4,
           label="weekly, Thu-Wed")  # fmt: skip
    ax.plot(_dates(daily), daily["fails_bn"], color="tab:red", lw=1, label="daily")
    _style(ax, "C. Fails to deliver", "$bn")
    _legend(ax)


def _reservoir(ax: Axes, daily: pd.DataFrame) -> None:
    d = _dates(daily)
    ax.plot(d, daily["reserves_bn"], lw=1.2, label="reserves")
    ax.plot(d, daily["on_rrp_bn"], lw=1.2, label="ON RRP")
    ax.plot(d, daily["tga_bn"], lw=1.2, label="TGA")
    _style(ax, "Reservoir: reserves, ON RRP, TGA", "$bn")
    _legend(ax, ncol=3)


def _pipe_volume(ax: Axes, daily: pd.DataFrame) -> None:
    d = _dates(daily)
    ax.plot(d, daily["customer_volume_bn"], color="tab:green", lw=1, label="customer volume ($bn)")
    _style(ax, "Pipe: customer volume and bid/ask", "$bn per day")
    right = ax.twinx()
    right.plot(d, daily["bid_ask_bp"], color="tab:purple", lw=1, label="bid/ask (bp, right)")
    right.set_ylabel("bp", fontsize=9)
    right.tick_params(labelsize=8)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, fontsize=7, loc="best")


def _pipe_use(ax: Axes, daily: pd.DataFrame) -> None:
    d = _dates(daily)
    ax.plot(d, daily["dealer_utilization"], color="tab:brown", lw=1.2, label="dealer utilization")
    ax.plot(d, daily["fill_ratio"], color="tab:green", lw=1, label="fill ratio")
    # Utilization can pass 1 (a limit breached after a loss or a vol spike): keep it in view.
    ax.set_ylim(0, max(1.05, 1.05 * float(daily["dealer_utilization"].max())))
    _style(ax, "Pipe: dealer balance-sheet use and customer fill", "share")
    _legend(ax)


def dashboard_png(tables: Tables, title: str) -> bytes:
    """The dashboard of one run as a PNG: panels A, B, C and the reservoir vs the pipe.

    Args:
        tables: the run's `daily` and `auctions` tables.
        title: heading (scenario, seed, dates).
    """
    daily, auctions = tables["daily"], tables["auctions"]
    fig = Figure(figsize=(14, 14), layout="constrained")
    axes = fig.subplots(4, 2)
    _repo_band(axes[0, 0], daily)
    _dispersion(axes[0, 1], daily)
    _tails(axes[1, 0], auctions)
    _dealer_share(axes[1, 1], auctions)
    _fails(axes[2, 0], daily)
    _reservoir(axes[2, 1], daily)
    _pipe_volume(axes[3, 0], daily)
    _pipe_use(axes[3, 1], daily)
    fig.suptitle(title, fontsize=12)
    return _png(fig)


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
        axes[0, 0].fill_between(d, daily["repo_p1_pct"], daily["repo_p99_pct"], color=colour, alpha=0.15, lw=0)
        axes[0, 0].plot(d, daily["repo_median_pct"], color=colour, lw=1.2, label=f"{label} median (band p1-p99)")
        axes[0, 1].plot(d, repo_dispersion_bp(daily), color=colour, lw=1, label=label)
        for kind, marker in TYPE_MARKERS.items():
            group = auctions[auctions["security_type"] == kind]
            when = _dates(group, "auction_date")
            # One legend entry per run; the marker shapes are explained in the panel titles.
            tag = label if kind == "Bill" else None
            axes[1, 0].scatter(when, group["tail_bp"], s=12, color=colour, marker=marker, alpha=0.7, label=tag)
            axes[1, 1].scatter(when, group["dealer_share"], s=12, color=colour, marker=marker, alpha=0.7, label=tag)
        weekly = weekly_fails_bn(daily)
        axes[2, 0].step(weekly.index, weekly.values, where="pre", color=colour, lw=1.2, label=label)
        axes[2, 1].plot(d, daily["reserves_bn"], color=colour, lw=1.2, label=f"{label} reserves")
        axes[2, 1].plot(d, daily["on_rrp_bn"], color=colour, lw=1, ls="--", label=f"{label} ON RRP")
        axes[3, 0].plot(d, daily["bid_ask_bp"], color=colour, lw=1, label=label)
        axes[3, 1].plot(d, daily["dealer_utilization"], color=colour, lw=1, label=label)
        axes[4, 0].plot(d, daily["customer_volume_bn"], color=colour, lw=1, label=label)
        axes[4, 1].plot(d, daily["fill_ratio"], color=colour, lw=1, label=label)
    axes[1, 0].axhline(0.0, color="black", lw=0.8)
    styles = [
        ("A. Repo median and p1-p99 band", "%"), ("A. Repo dispersion, 99th - 1st percentile", "bp"),
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
