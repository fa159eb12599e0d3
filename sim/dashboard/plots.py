"""Dashboard figures: panels A (repo), B (auctions), C (fails), the reservoir vs the pipe, and
the simulated-vs-real overlay of the comparable distributions.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no global state), so they
render alike on a headless machine and in tests. Panels whose inputs a table lacks (real
data publish no dealer utilization or tails) say so instead of failing. PNGs are written
at 100 dpi and reduced to 256 colours: line charts need no more, and files shrink threefold.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeGuard

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from sim.dashboard.metrics import (
    DISTRIBUTION_UNITS,
    FAILS_DAILY_COLUMN,
    FAILS_SPIKE_RATIO,
    GROUPS,
    PANEL_TITLES,
    auction_groups,
    distributions,
    fails_spike_weeks,
    fails_weekly_table,
    high_minus_median_bp,
    prepare_auctions,
    prepare_daily,
    repo_dispersion_bp,
    repo_spike_baseline_bp,
    spike_days,
)
from sim.dashboard.scoring import MATCH_WORDS, Dashboard, Scorecard, distribution_distances, format_z

Tables = Mapping[str, pd.DataFrame]
DPI = 100
GROUP_COLOURS = {"bills": "tab:blue", "2-7y": "tab:orange", "10y+": "tab:red"}
LIGHT_COLOURS = {"green": "#8fd18f", "amber": "#ffd27f", "red": "#f28b82", "n/a": "#dddddd"}
SIM_COLOUR, REAL_COLOUR = "tab:blue", "black"


# ---------------------------------------------------------------- helpers
def _has(frame: pd.DataFrame | None, *columns: str) -> TypeGuard[pd.DataFrame]:
    """True when every column is present with at least one value."""
    return frame is not None and all(c in frame.columns and frame[c].notna().any() for c in columns)


def _style(ax: Axes, title: str, ylabel: str, dates: bool = True) -> None:
    ax.set_title(title, fontsize=9, loc="left")
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(labelsize=7)
    ax.grid(alpha=0.3)
    if dates:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=9)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _legend(ax: Axes, *extra: Axes, **kwargs) -> None:
    handles, labels = ax.get_legend_handles_labels()
    for other in extra:
        h, lab = other.get_legend_handles_labels()
        handles, labels = handles + h, labels + lab
    if handles:
        ax.legend(handles, labels, fontsize=6.5, loc="best", **kwargs)


def _missing(ax: Axes, title: str, what: str) -> None:
    """An empty panel that says which input the data lack."""
    ax.set_title(title, fontsize=9, loc="left")
    ax.text(0.5, 0.5, f"not available: {what}", ha="center", va="center", fontsize=8, color="grey",
            transform=ax.transAxes)  # fmt: skip
    ax.set_xticks([])
    ax.set_yticks([])


def _line(ax: Axes, frame: pd.DataFrame, column: str, **kwargs) -> None:
    """A daily column against its dates, skipping missing days (weekly H.4.1 series, holidays)
    so that sparse observations still join up."""
    values = pd.to_numeric(frame[column], errors="coerce")
    known = values.notna()
    ax.plot(frame.loc[known, "date"], values[known], **kwargs)


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def png_bytes(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure rendered at `dpi` and reduced to 256 colours (line charts need no more;
    files shrink about threefold), as PNG bytes."""
    canvas = FigureCanvasAgg(fig)
    fig.set_dpi(dpi)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
    buffer = io.BytesIO()
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(buffer, format="png", optimize=True)
    return buffer.getvalue()


def _write(data: bytes, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------- panel A
def _repo_band(ax: Axes, daily: pd.DataFrame | None) -> None:
    title = "A. SOFR: percentiles of the day's SOFR-eligible repo vs IORB"
    if daily is None or not _has(daily, "sofr_median_pct"):
        _missing(ax, title, "SOFR percentiles")
        return
    d = daily["date"]
    band: dict[str, Any] = {"color": "tab:blue", "lw": 0}
    if _has(daily, "sofr_p1_pct", "sofr_p99_pct"):
        ax.fill_between(d, daily["sofr_p1_pct"], daily["sofr_p99_pct"], alpha=0.15, label="SOFR p1-p99", **band)
    if _has(daily, "sofr_p25_pct", "sofr_p75_pct"):
        ax.fill_between(d, daily["sofr_p25_pct"], daily["sofr_p75_pct"], alpha=0.35, label="SOFR p25-p75", **band)
    _line(ax, daily, "sofr_median_pct", color="tab:blue", lw=1.1, label="SOFR")
    if _has(daily, "bilateral_median_pct"):
        # Uncleared dealer-to-client repo: traded in the model, but not part of SOFR.
        _line(ax, daily, "bilateral_median_pct", color="tab:purple", ls="--", lw=0.7,
              label="dealer-to-client (outside SOFR)")  # fmt: skip
    if _has(daily, "effr_pct"):
        _line(ax, daily, "effr_pct", color="tab:green", lw=0.8, label="EFFR")
    if _has(daily, "iorb_pct"):
        _line(ax, daily, "iorb_pct", color="black", ls="--", lw=0.9, label="IORB")
    _style(ax, title, "%")
    _legend(ax, ncol=3)


def _dispersion(ax: Axes, daily: pd.DataFrame | None, dashboard: Dashboard) -> None:
    m = dashboard.metrics
    title = (f"A. SOFR dispersion p99-p1: mean {_fmt(m.get('repo_dispersion_mean_bp'), '.1f')}bp, "
             f"spike days {_fmt(m.get('repo_spike_days'), '.0f')}, "
             f"20d vol {_fmt(m.get('repo_median_vol_20d_mean_bp'), '.2f')}bp")  # fmt: skip
    dispersion = repo_dispersion_bp(daily)
    if daily is None or dispersion is None:
        _missing(ax, title, "1st and 99th SOFR percentiles")
        return
    d = daily["date"]
    ax.plot(d, dispersion, color="tab:blue", lw=0.9, label="dispersion")
    ax.plot(d, repo_spike_baseline_bp(dispersion), color="grey", lw=0.8, ls=":", label="trailing 60-day median")
    spikes = spike_days(daily)
    if spikes is not None and len(spikes):
        ax.scatter(spikes["date"], spikes["dispersion_bp"], color="tab:red", s=16, zorder=3, label="spike day")
        # Name the causes of the three largest spikes; the full list is in dashboard.json.
        middle = d.iloc[0] + (d.iloc[-1] - d.iloc[0]) / 2
        for row in spikes.nlargest(3, "dispersion_bp").itertuples(index=False):
            text = f"{row.date:%d %b %Y}: " + (", ".join(row.tags) if row.tags else "no calendar flag")
            # Text runs away from the nearer edge so it stays inside the panel.
            left = row.date > middle
            ax.annotate(text, (row.date, row.dispersion_bp), fontsize=6, xytext=(-4 if left else 4, -2),
                        textcoords="offset points", ha="right" if left else "left", color="tab:red")  # fmt: skip
    # A log scale keeps a September-2019-size spike from flattening every other day.
    if float(np.nanmax(dispersion)) > 10 * max(float(np.nanmedian(dispersion)), 1e-9):
        ax.set_yscale("log")
    _style(ax, title, "bp")
    _legend(ax)


# ---------------------------------------------------------------- panel B
def _by_group_scatter(ax: Axes, auctions: pd.DataFrame, values: pd.Series) -> None:
    groups = auction_groups(auctions)
    for group in GROUPS:
        mask = (groups == group) & values.notna()
        if mask.any():
            ax.scatter(auctions.loc[mask, "auction_date"], values[mask], s=10, alpha=0.75,
                       color=GROUP_COLOURS[group], label=group)  # fmt: skip


def _auction_tails(ax: Axes, auctions: pd.DataFrame | None, dashboard: Dashboard) -> None:
    m = dashboard.metrics
    if _has(auctions, "tail_bp"):
        title = (f"B. Auction tails, high - WI: mean {_fmt(m.get('tail_mean_bp'), '.2f')}bp, "
                 f">=1bp {_fmt(m.get('tail_share_ge_1bp'), '.0%')}, "
                 f"lag-1 autocorr {_fmt(m.get('tail_autocorr_lag1'), '.2f')}")  # fmt: skip
        _by_group_scatter(ax, auctions, pd.to_numeric(auctions["tail_bp"], errors="coerce"))
        ax.axhline(1.0, color="grey", ls=":", lw=0.8)
    else:
        # Public results have no when-issued yield: show what they do have.
        title = f"B. High - median accepted yield: mean {_fmt(m.get('high_minus_median_mean_bp'), '.2f')}bp"
        spread = high_minus_median_bp(auctions)
        if auctions is None or spread is None:
            _missing(ax, "B. Auction tails / high - median yield", "auction yields")
            return
        _by_group_scatter(ax, auctions, spread)
    ax.axhline(0.0, color="black", lw=0.6)
    _style(ax, title, "bp")
    _legend(ax, ncol=3)


def _dealer_share(ax: Axes, auctions: pd.DataFrame | None, dashboard: Dashboard) -> None:
    title = f"B. Primary-dealer takedown: mean {_fmt(dashboard.metrics.get('dealer_share_mean'), '.1%')}"
    if auctions is None or not _has(auctions, "dealer_share"):
        _missing(ax, title, "dealer shares")
        return
    _by_group_scatter(ax, auctions, pd.to_numeric(auctions["dealer_share"], errors="coerce"))
    _style(ax, title, "share of offering")
    _legend(ax, ncol=3)


# ---------------------------------------------------------------- panel C, reservoir, pipe
def _fails(ax: Axes, tables: Tables, daily: pd.DataFrame | None, dashboard: Dashboard) -> None:
    m = dashboard.metrics
    title = (f"C. Fails to deliver, tracked issues, Thu-Wed weeks: "
             f"mean {_fmt(m.get('fails_weekly_mean_bn'), '.1f')}bn, "
             f"spike weeks {_fmt(m.get('fails_spike_weeks'), '.0f')}, "
             f"lag-1 autocorr {_fmt(m.get('fails_autocorr_lag1'), '.2f')}")  # fmt: skip
    weeks = fails_spike_weeks(fails_weekly_table(tables))
    if weeks is None:
        _missing(ax, title, "fails")
        return
    # Each bar spans the Thursday-to-Wednesday week it sums.
    starts = pd.to_datetime(weeks["week_end"]) - pd.Timedelta(days=3)
    colours = np.where(weeks["spike"], "tab:red", "tab:orange")
    ax.bar(starts, weeks["fails_bn"], width=6, color=colours, alpha=0.6, label="weekly (red: spike week)")
    ax.plot(pd.to_datetime(weeks["week_end"]), FAILS_SPIKE_RATIO * weeks["baseline_bn"], color="grey", ls=":", lw=0.8,
            label="spike threshold")  # fmt: skip
    if _has(daily, FAILS_DAILY_COLUMN):
        _line(ax, daily, FAILS_DAILY_COLUMN, color="tab:red", lw=0.7, label="daily")
    _style(ax, title, "$bn")
    _legend(ax)


def _reservoir(ax: Axes, daily: pd.DataFrame | None) -> None:
    title = "Reservoir: reserves, ON RRP, TGA"
    present = [(c, lab) for c, lab in (("reserves_bn", "reserves"), ("on_rrp_bn", "ON RRP"), ("tga_bn", "TGA"))
               if _has(daily, c)]  # fmt: skip
    if not present:
        _missing(ax, title, "reserves, ON RRP, TGA")
        return
    for column, label in present:
        _line(ax, daily, column, lw=1.1, label=label)
    _style(ax, title, "$bn")
    _legend(ax, ncol=3)


def _pipe_volume(ax: Axes, daily: pd.DataFrame | None, dashboard: Dashboard) -> None:
    title = (f"Pipe: customer volume (mean {_fmt(dashboard.metrics.get('customer_volume_mean_bn'), '.0f')}bn/day)"
             " and bid/ask")  # fmt: skip
    if not _has(daily, "customer_volume_bn") and not _has(daily, "bid_ask_bp"):
        _missing(ax, "Pipe: customer volume and bid/ask", "customer volume, bid/ask (not published)")
        return
    if _has(daily, "customer_volume_bn"):
        _line(ax, daily, "customer_volume_bn", color="tab:green", lw=0.9, label="customer volume")
    _style(ax, title, "$bn per day")
    right = None
    if _has(daily, "bid_ask_bp"):
        right = ax.twinx()
        _line(right, daily, "bid_ask_bp", color="tab:purple", lw=0.9, label="bid/ask (bp, right)")
        right.set_ylabel("bp", fontsize=8)
        right.tick_params(labelsize=7)
    _legend(ax, *([right] if right is not None else []))


def _pipe_use(ax: Axes, daily: pd.DataFrame | None, dashboard: Dashboard) -> None:
    title = (f"Pipe: dealer utilization (mean {_fmt(dashboard.metrics.get('dealer_utilization_mean'), '.2f')})"
             " and fill ratio")  # fmt: skip
    series = (("dealer_utilization", "dealer utilization", "tab:brown"), ("fill_ratio", "fill ratio", "tab:green"))
    present = [(c, lab, col) for c, lab, col in series if _has(daily, c)]
    if daily is None or not present:
        _missing(ax, "Pipe: dealer utilization and fill ratio", "dealer utilization, fill ratio (not published)")
        return
    top = 1.05
    for column, label, colour in present:
        _line(ax, daily, column, color=colour, lw=1.0, label=label)
        top = max(top, 1.05 * float(np.nanmax(daily[column])))
    ax.set_ylim(0, top)  # utilization can pass 1 after a loss or a volatility spike: keep it in view
    _style(ax, title, "share")
    _legend(ax)


def _scorecard_table(ax: Axes, scorecard: Scorecard, rows: int = 14) -> None:
    """Indices, lights per panel, and the metrics furthest toward stress, as a coloured table."""
    ax.axis("off")
    counts = scorecard.counts()
    summary = (f"{scorecard.label} vs {scorecard.reference}.  Plumbing-stress index "
               f"{_fmt(scorecard.stress_index, '+.2f')} (" + ", ".join(
                   f"{p} {_fmt(v, '+.2f')}" for p, v in scorecard.stress_by_panel.items())
               + f");  throughput index {_fmt(scorecard.throughput_index, '+.2f')} (+ = less throughput).  "
               + "  ".join(f"{PANEL_TITLES.get(p, p)}: {c['green']}G {c['amber']}A {c['red']}R"
                           for p, c in counts.items()))  # fmt: skip
    ax.set_title(summary, fontsize=7.5, loc="left", wrap=True)
    scored = [(s, s.signed_z) for s in scorecard.scores if s.signed_z is not None]
    # Index metrics with a direction first: they are what the lights are about.
    ranked = sorted(scored, key=lambda pair: (not pair[0].in_index or pair[0].direction == "neither", -pair[1]))
    worst = [s for s, _ in ranked[:rows]]
    if not worst:
        ax.text(0.5, 0.5, "no metric could be scored against this reference", ha="center", fontsize=8)
        return
    cells = [[PANEL_TITLES.get(s.panel, s.panel), s.label, s.unit, _fmt(s.value, ".4g"), _fmt(s.reference, ".4g"),
              format_z(s.z), MATCH_WORDS[s.light] if scorecard.real else s.light] for s in worst]  # fmt: skip
    colours = [["white"] * 6 + [LIGHT_COLOURS[s.light]] for s in worst]
    headers = ["panel", "metric (index metrics, worst first)", "unit", "value", "reference", "z",
               "match to reality" if scorecard.real else "light"]  # fmt: skip
    table = ax.table(cellText=cells, cellColours=colours, loc="upper center", cellLoc="left", colLabels=headers,
                     colWidths=[0.1, 0.36, 0.08, 0.1, 0.1, 0.08, 0.08])  # fmt: skip
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.05)


def draw_dashboard(tables: Tables, dashboard: Dashboard, path: str | Path, scorecard: Scorecard | None = None) -> Path:
    """Write the dashboard figure of one run or real period to a PNG (see `render_dashboard`).

    Returns:
        The path written (folders are created).
    """
    return _write(render_dashboard(tables, dashboard, scorecard), path)


def render_dashboard(tables: Tables, dashboard: Dashboard, scorecard: Scorecard | None = None) -> bytes:
    """The dashboard of one run or real period as PNG bytes (for files and inline HTML).

    Panels: A SOFR percentile band vs IORB (with EFFR, and a run's dealer-to-client repo, which is
    outside SOFR) and SOFR dispersion with spike days (largest three
    annotated with their tags); B tails (or high - median yield when there is no WI) and
    dealer share by auction date and tenor group; C weekly fails with spike weeks; the
    reservoir next to the pipe (customer volume, bid/ask, dealer utilization, fill ratio).
    With a scorecard, a table of indices and the metrics furthest toward stress.

    Args:
        tables: `daily`, `auctions` and optionally `fails_weekly` (standard tables).
        dashboard: `compute_dashboard(tables, label)`; its numbers head the panels.
        scorecard: optional `score(dashboard, reference)`.
    """
    daily, auctions = prepare_daily(tables.get("daily")), prepare_auctions(tables.get("auctions"))
    rows = 5 if scorecard is not None else 4
    fig = Figure(figsize=(14, 3.1 * rows + (1.2 if scorecard is not None else 0)), layout="constrained")
    grid = fig.add_gridspec(rows, 2, height_ratios=[1] * 4 + ([1.45] if scorecard is not None else []))
    axes = [[fig.add_subplot(grid[r, c]) for c in range(2)] for r in range(4)]
    _repo_band(axes[0][0], daily)
    _dispersion(axes[0][1], daily, dashboard)
    _auction_tails(axes[1][0], auctions, dashboard)
    _dealer_share(axes[1][1], auctions, dashboard)
    _fails(axes[2][0], tables, daily, dashboard)
    _reservoir(axes[2][1], daily)
    _pipe_volume(axes[3][0], daily, dashboard)
    _pipe_use(axes[3][1], daily, dashboard)
    if scorecard is not None:
        _scorecard_table(fig.add_subplot(grid[4, :]), scorecard)
    start, end = dashboard.period
    fig.suptitle(f"{dashboard.label}  |  {start} to {end}", fontsize=11)
    return png_bytes(fig)


# ---------------------------------------------------------------- simulated vs real
def _ecdf(ax: Axes, values: pd.Series, colour: str, label: str) -> None:
    x = np.sort(values.to_numpy(dtype=float))
    ax.step(x, np.arange(1, len(x) + 1) / len(x), where="post", color=colour, lw=1.2, label=f"{label} (n={len(x)})")


def draw_overlay(sim_tables: Tables, real_tables: Tables, path: str | Path,
                 labels: tuple[str, str] = ("simulated", "real")) -> Path:  # fmt: skip
    """Write the simulated-vs-real overlay to a PNG (see `render_overlay`); returns the path."""
    return _write(render_overlay(sim_tables, real_tables, labels), path)


def render_overlay(sim_tables: Tables, real_tables: Tables, labels: tuple[str, str] = ("simulated", "real")) -> bytes:
    """Simulated vs real distributions of the comparable metrics, as ECDFs, as PNG bytes.

    ECDFs rather than histograms: the samples differ in size (six simulated months against
    years of real data) and the largest vertical gap between the two curves is the
    Kolmogorov-Smirnov statistic shown in each title.

    Panels: daily SOFR dispersion, SOFR minus IORB, 20-day SOFR vol, EFFR minus IORB; auction high -
    median yield and dealer share for bills, 2-7y and 10y+; weekly fails to deliver.

    Args:
        sim_tables, real_tables: standard tables of the two sides.
        labels: legend names of the two sides.
    """
    sim, real = distributions(sim_tables), distributions(real_tables)
    distances = distribution_distances(sim_tables, real_tables).set_index("metric")
    names = list(DISTRIBUTION_UNITS)
    ncols = 3
    nrows = -(-len(names) // ncols)
    fig = Figure(figsize=(14, 3.0 * nrows), layout="constrained")
    axes = list(fig.subplots(nrows, ncols, squeeze=False).flat)
    for ax, name in zip(axes, names, strict=False):
        a, b = sim.get(name), real.get(name)
        row = distances.loc[name]
        title = f"{name}  KS {_fmt(_finite(row['ks_statistic']), '.2f')}"
        if a is None and b is None:
            _missing(ax, title, "both sides lack the input")
            continue
        if a is not None:
            _ecdf(ax, a, SIM_COLOUR, f"{labels[0]}, mean {a.mean():.3g}")
        if b is not None:
            _ecdf(ax, b, REAL_COLOUR, f"{labels[1]}, mean {b.mean():.3g}")
        _style(ax, title, "cumulative share", dates=False)
        ax.set_xlabel(DISTRIBUTION_UNITS[name], fontsize=8)
        _legend(ax)
    for ax in axes[len(names) :]:
        ax.axis("off")
    fig.suptitle(f"{labels[0]} vs {labels[1]}: distributions of the comparable dashboard metrics", fontsize=11)
    return png_bytes(fig)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]  # a cell of any type: what float() rejects is caught
    except (TypeError, ValueError):
        return None
    return number if np.isfinite(number) else None
