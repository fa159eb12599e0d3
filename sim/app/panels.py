"""The app's dashboard panels: the market with the change drawn over its twin, one figure per panel.

Repo (SOFR against IORB and SOFR's 99th-1st percentile dispersion), auction tails, weekly
fails, throughput (bid/ask and dealer utilization) and the reservoir (reserves and ON RRP),
as in the run dashboard (sim.dashboard.plots), each with both markets so the change's
effect is the gap between the two colours. Drawn with matplotlib's object API (no pyplot),
small, so a panel redraws in a fraction of a second as the markets step.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import matplotlib.dates as mdates
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter, NullLocator

from sim.dashboard.metrics import FAILS_WEEKLY_COLUMN, repo_dispersion_bp, weekly_fails

Tables = Mapping[str, pd.DataFrame]
CHANGED, TWIN = ("with the change", "tab:red"), ("without (twin)", "tab:blue")
FIGSIZE = (6.0, 3.4)


def _style(ax: Axes, title: str, ylabel: str) -> None:
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _figure(rows: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(FIGSIZE[0], FIGSIZE[1] * (1 if rows == 1 else 0.75 * rows)), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _both(changed: Tables, twin: Tables, draw: Callable[[Tables, str, str], None]) -> None:
    """Draw the twin first, then the changed market over it."""
    for tables, (label, colour) in ((twin, TWIN), (changed, CHANGED)):
        if not tables["daily"].empty:
            draw(tables, label, colour)


def _started(changed: Tables, twin: Tables, fig: Figure) -> bool:
    """Whether a day has been recorded; before the first, the figure's axes say how to start, without ticks."""
    if not (changed["daily"].empty and twin["daily"].empty):
        return True
    for ax in fig.axes:
        ax.text(0.5, 0.5, "no day simulated yet: Step or Play", ha="center", va="center", fontsize=8, color="grey",
                transform=ax.transAxes)  # fmt: skip
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(NullLocator())
            axis.set_major_formatter(NullFormatter())
    return False


def _legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7, loc="best")


def repo_panel(changed: Tables, twin: Tables) -> Figure:
    """A. SOFR minus IORB (bp) and SOFR's 99th-1st percentile dispersion (bp), daily."""
    fig, (level, dispersion) = _figure(2)

    def draw(tables: Tables, label: str, colour: str) -> None:
        daily = tables["daily"]
        level.plot(daily["date"], 100.0 * (daily["sofr_median_pct"] - daily["iorb_pct"]), color=colour, lw=1.1,
                   label=label)  # fmt: skip
        spread = repo_dispersion_bp(daily)
        if spread is not None:
            dispersion.plot(daily["date"], spread, color=colour, lw=1.0, label=label)

    _both(changed, twin, draw)
    level.axhline(0.0, color="black", lw=0.6)
    _style(level, "A. Repo: SOFR minus IORB", "bp")
    _style(dispersion, "A. Repo: SOFR dispersion, 99th - 1st percentile", "bp")
    _legend(level)
    _started(changed, twin, fig)
    return fig


def tails_panel(changed: Tables, twin: Tables) -> Figure:
    """B. Each auction's tail: high yield minus when-issued (bp), by auction date."""
    fig, (ax,) = _figure()

    def draw(tables: Tables, label: str, colour: str) -> None:
        auctions = tables["auctions"]
        if not auctions.empty:
            ax.scatter(pd.to_datetime(auctions["auction_date"]), auctions["tail_bp"], s=12, color=colour, alpha=0.7,
                       label=label)  # fmt: skip

    _both(changed, twin, draw)
    ax.axhline(0.0, color="black", lw=0.6)
    _style(ax, "B. Auction tails (high - when-issued)", "bp")
    _legend(ax)
    _started(changed, twin, fig)
    return fig


def fails_panel(changed: Tables, twin: Tables) -> Figure:
    """C. Fails to deliver, Thursday-to-Wednesday weeks ($bn)."""
    fig, (ax,) = _figure()

    def draw(tables: Tables, label: str, colour: str) -> None:
        weekly = weekly_fails(tables["daily"])
        if not weekly.empty:
            ax.step(weekly["week_end"], weekly[FAILS_WEEKLY_COLUMN], where="pre", color=colour, lw=1.2, label=label)

    _both(changed, twin, draw)
    _style(ax, "C. Fails to deliver, tracked issues, weekly (Thu-Wed)", "$bn")
    _legend(ax)
    _started(changed, twin, fig)
    return fig


def throughput_panel(changed: Tables, twin: Tables) -> Figure:
    """The pipe: bid/ask (bp) and dealer utilization (ratio of the binding limit), daily."""
    fig, (bid_ask, utilization) = _figure(2)

    def draw(tables: Tables, label: str, colour: str) -> None:
        daily = tables["daily"]
        bid_ask.plot(daily["date"], daily["bid_ask_bp"], color=colour, lw=1.0, label=label)
        utilization.plot(daily["date"], daily["dealer_utilization"], color=colour, lw=1.0, label=label)

    _both(changed, twin, draw)
    _style(bid_ask, "Pipe: bid/ask", "bp")
    _style(utilization, "Pipe: dealer utilization", "ratio")
    _legend(bid_ask)
    _started(changed, twin, fig)
    return fig


def reserves_panel(changed: Tables, twin: Tables) -> Figure:
    """The reservoir: banks' reserves (solid) and ON RRP (dashed), $bn."""
    fig, (ax,) = _figure()

    def draw(tables: Tables, label: str, colour: str) -> None:
        daily = tables["daily"]
        ax.plot(daily["date"], daily["reserves_bn"], color=colour, lw=1.2, label=f"reserves, {label}")
        ax.plot(daily["date"], daily["on_rrp_bn"], color=colour, lw=0.9, ls="--", label=f"ON RRP, {label}")

    _both(changed, twin, draw)
    _style(ax, "Reservoir: reserves and ON RRP", "$bn")
    _legend(ax)
    _started(changed, twin, fig)
    return fig


PANELS: dict[str, Callable[[Tables, Tables], Figure]] = {
    "repo": repo_panel,
    "auction tails": tails_panel,
    "fails": fails_panel,
    "throughput": throughput_panel,
    "reserves": reserves_panel,
}
