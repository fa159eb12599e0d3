"""Experiment figures: what a policy or a shock does to the reservoir, the pipe and the dashboard
panels, across variants and seeds, and the stress-by-fix matrix of paired differences.

The reservoir is the stock of bank reserves; the pipe is what dealers can intermediate
(customer volume, balance-sheet utilization). A policy can fill the reservoir without
widening the pipe, so the two are drawn side by side. Inputs are the runner's compact
series (variant label -> one dict of tables per seed, seeds in the same order under every
label), its one-row-per-run table, and the long stress x fix matrix.

Drawn like the dashboard (`sim.dashboard.plots`): matplotlib's object API on the Agg canvas,
PNGs at 100 dpi reduced to 256 colours, and files written atomically so a figure that
exists is complete. Every variant keeps one colour in every panel, in the order given
(the first label, the reference, is tab:blue).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.typing import ColorType
from scipy import stats

from sim.dashboard.metrics import GROUPS, METRIC_SPECS
from sim.dashboard.plots import _legend, _missing, _style, png_bytes
from sim.files import write_atomic

Tables = Mapping[str, pd.DataFrame]
Series = Mapping[str, Sequence[Tables]]
CONFIDENCE = 0.95
GROUP_MARKERS = {"bills": "o", "2-7y": "s", "10y+": "^"}
NO_DATA_COLOUR = "#d9d9d9"
# Both experiment indices are scored so that a higher value is worse (more stress, less throughput).
INDEX_METRICS = ("throughput_index", "stress_index")


# ---------------------------------------------------------------- helpers
def variant_colours(labels: Sequence[str]) -> dict[str, tuple[float, float, float, float]]:
    """One qualitative colour per variant, in order (tab10 up to ten variants, tab20 beyond)."""
    cmap = colormaps["tab10" if len(labels) <= 10 else "tab20"]
    return {label: cmap(i % cmap.N) for i, label in enumerate(labels)}


def _labels(series: Series, runs: pd.DataFrame | None = None) -> list[str]:
    """Variant labels in the series' order, then any that only the runs table knows."""
    labels = [str(label) for label in series]
    if runs is not None and "variant" in runs.columns:
        labels += [v for v in pd.unique(runs["variant"].astype(str)) if v not in labels]
    return labels


def _alpha(n_variants: int) -> float:
    """Band opacity: bands of many variants overlap, so each is fainter."""
    return 0.18 if n_variants <= 3 else 0.1


def stack(series: Series, table: str, date: str, columns: Sequence[str]) -> pd.DataFrame:
    """One long frame of `table` across variants and seeds.

    Args:
        series: variant label -> one dict of tables per seed.
        table: "daily", "auctions" or "fails_weekly".
        date: the table's date column (coerced to datetime; rows without one are dropped).
        columns: value columns to keep (coerced to numbers; a missing column becomes NaN),
            except `tenor_group`, which stays text.

    Returns:
        Columns `variant` (categorical, in the series' order), `seed` (position in the
        label's list), `date` and `columns`.
    """
    labels = _labels(series)
    parts = [
        frame.reindex(columns=[date, *columns]).assign(variant=str(label), seed=i)
        for label, seeds in series.items()
        for i, tables in enumerate(seeds)
        if (frame := tables.get(table)) is not None and len(frame)
    ]
    out = pd.DataFrame({"variant": pd.Series(dtype=str), "seed": pd.Series(dtype=int)})
    if parts:
        out = pd.concat(parts, ignore_index=True)
    out = out.reindex(columns=["variant", "seed", date, *columns]).rename(columns={date: "date"})
    out["variant"] = pd.Categorical(out["variant"].astype(str), categories=labels)
    out["date"] = pd.to_datetime(out["date"], errors="coerce")
    for column in columns:
        if column != "tenor_group":
            out[column] = pd.to_numeric(out[column], errors="coerce").astype(float)
    return out.dropna(subset=["date"]).reset_index(drop=True)


def across_seeds(stacked: pd.DataFrame, column: str, window: int = 1) -> pd.DataFrame:
    """Per variant and date, the mean, min and max across seeds of `column`.

    Args:
        stacked: output of `stack`.
        column: the value to summarise (in its own unit).
        window: trailing rolling mean over this many observations of each seed first
            (business days for daily tables); the first days average fewer, so short
            runs still show.

    Returns:
        Columns `variant`, `date`, `mean`, `min`, `max`, `count` (seeds with a value).
    """
    frame = stacked[["variant", "seed", "date", column]].sort_values(["variant", "seed", "date"])
    if window > 1 and len(frame):
        rolled = frame.groupby(["variant", "seed"], observed=True)[column].rolling(window, min_periods=1).mean()
        frame[column] = rolled.reset_index(level=[0, 1], drop=True)
    summary = frame.groupby(["variant", "date"], observed=True)[column].agg(["mean", "min", "max", "count"])
    return summary.reset_index()


def mean_interval(values: pd.DataFrame, by: str, column: str, confidence: float = CONFIDENCE) -> pd.DataFrame:
    """Per group, the mean of `column` and the half-width of its Student-t interval.

    half = t(1 - (1 - confidence) / 2, n - 1) * sd / sqrt(n), sd with ddof=1, over the
    group's finite values; NaN with fewer than two values (one seed has no interval).

    Returns:
        Indexed by `by` (groups in order of appearance): `mean`, `half`, `n`.
    """
    numbers = pd.to_numeric(values[column], errors="coerce").astype(float)
    grouped = numbers.groupby(values[by], sort=False, observed=True)
    out = grouped.agg(["mean", "std", "count"]).rename(columns={"count": "n"})
    n = out["n"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["half"] = stats.t.ppf(1 - (1 - confidence) / 2, n - 1) * out["std"].to_numpy() / np.sqrt(n)
    return out[["mean", "half", "n"]]


def significant(ci_low: object, ci_high: object) -> np.ndarray:
    """True where a confidence interval excludes zero (both ends on the same side of it).

    Args:
        ci_low, ci_high: interval ends, array-like of equal shape; NaN (fewer than two
            paired seeds) counts as not significant.

    Returns:
        A boolean array of that shape.
    """
    low, high = np.asarray(ci_low, dtype=float), np.asarray(ci_high, dtype=float)
    return (low > 0) | (high < 0)  # comparisons with NaN are False


def _bands(ax: Axes, summary: pd.DataFrame, colours: Mapping[str, ColorType], alpha: float, **line) -> None:
    """Each variant's mean across seeds as a line over a shaded min-max band across seeds."""
    for label, part in summary.groupby("variant", observed=True):
        colour = colours[str(label)]
        ax.plot(part["date"], part["mean"], color=colour, lw=1.0, label=str(label), **line)
        if (part["count"] > 1).any():  # one seed has no spread to shade
            ax.fill_between(part["date"], part["min"], part["max"], color=colour, alpha=alpha, lw=0)


def _has_values(summary: pd.DataFrame) -> bool:
    return bool(len(summary)) and bool(summary["mean"].notna().any())


def _band_panel(ax: Axes, stacked: pd.DataFrame, column: str, window: int, title: str, ylabel: str,
                colours: Mapping[str, ColorType], what: str, **line) -> pd.DataFrame | None:  # fmt: skip
    """A time panel of one column across variants; says what is missing instead of failing."""
    summary = across_seeds(stacked, column, window)
    if not _has_values(summary):
        _missing(ax, title, what)
        return None
    _bands(ax, summary, colours, _alpha(len(colours)), **line)
    _style(ax, title, ylabel)
    return summary


def _variant_handles(colours: Mapping[str, ColorType]) -> list[Line2D]:
    return [Line2D([], [], color=colour, lw=2, label=label) for label, colour in colours.items()]


# ---------------------------------------------------------------- reservoir vs pipe
def _scatter(ax: Axes, runs: pd.DataFrame, colours: Mapping[str, ColorType]) -> None:
    """Each run's mean reserves against its throughput index, and each variant's mean with a
    t-interval cross over its seeds."""
    title = "Runs: mean reserves vs throughput index"
    frame = runs.reindex(columns=["variant", "reserves_mean_bn", "throughput_index"]).copy()
    frame["variant"] = frame["variant"].astype(str)
    for column in ("reserves_mean_bn", "throughput_index"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
    points = frame.dropna(subset=["reserves_mean_bn", "throughput_index"])
    if points.empty:
        _missing(ax, title, "runs with both mean reserves and a throughput index")
        return
    x = mean_interval(points, "variant", "reserves_mean_bn")
    y = mean_interval(points, "variant", "throughput_index")
    for label, part in points.groupby("variant", sort=False):
        colour = colours[label]
        ax.scatter(part["reserves_mean_bn"], part["throughput_index"], s=16, alpha=0.55, color=colour,
                   label=f"{label} (n={len(part)})")  # fmt: skip
        hx, hy = x.at[label, "half"], y.at[label, "half"]
        ax.errorbar(x.at[label, "mean"], y.at[label, "mean"], xerr=hx if np.isfinite(hx) else None,
                    yerr=hy if np.isfinite(hy) else None, fmt="X", ms=8, color=colour, mec="black", mew=0.6,
                    capsize=3, lw=1.2, zorder=3)  # fmt: skip
    ax.axhline(0.0, color="grey", lw=0.6, ls=":")  # the reference ensemble scores zero on average
    # The index counts less throughput as positive; flipped, up means a wider pipe.
    ax.invert_yaxis()
    _style(ax, title, "throughput index (axis inverted: up = more throughput)", dates=False)
    ax.set_xlabel("mean reserves, $bn      (X: variant mean with 95% t-interval over seeds)", fontsize=8)
    _legend(ax, ncol=1 if len(colours) <= 6 else 2)


def reservoir_vs_pipe_figure(runs: pd.DataFrame, series: Series, title: str = "") -> Figure:
    """The reservoir against the pipe, as a matplotlib Figure (see `draw_reservoir_vs_pipe`)."""
    colours = variant_colours(_labels(series, runs))
    daily = stack(series, "daily", "date", ["reserves_bn", "customer_volume_bn"])
    fig = Figure(figsize=(12, 6), layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.25])
    _scatter(fig.add_subplot(grid[:, 0]), runs, colours)
    top = fig.add_subplot(grid[0, 1])
    bottom = fig.add_subplot(grid[1, 1], sharex=top)
    band = "mean across seeds, band min-max"
    _band_panel(top, daily, "reserves_bn", 1, f"Reservoir: reserves ({band})", "$bn", colours, "reserves")
    _band_panel(bottom, daily, "customer_volume_bn", 20,
                f"Pipe: customer volume, 20-business-day mean ({band})", "$bn per day", colours,
                "customer volume")  # fmt: skip
    fig.suptitle(f"{title + chr(10) if title else ''}The reservoir (reserves) against the pipe (throughput)",
                 fontsize=10)  # fmt: skip
    return fig


def draw_reservoir_vs_pipe(runs: pd.DataFrame, series: Series, path: str | Path, title: str = "") -> Path:
    """Write the reservoir-vs-pipe figure of an experiment to a PNG.

    Left: each run's mean reserves ($bn) against its throughput index (z-score-like against
    the reference ensemble, + = less throughput; the axis is inverted so up = more
    throughput), coloured by variant, with each variant's mean and a 95% Student-t interval
    cross over its seeds (none with one seed). Right: reserves ($bn) and customer volume
    ($bn/day, 20-business-day rolling mean), the mean across seeds with a min-max band.

    Args:
        runs: one row per run with `variant`, `reserves_mean_bn`, `throughput_index`.
        series: variant label -> one dict of tables per seed (uses `daily`).
        path: PNG to write (folders are created; written atomically).
        title: the experiment's name, heading the figure.

    Returns:
        The path written.
    """
    return write_atomic(path, png_bytes(reservoir_vs_pipe_figure(runs, series, title)))


# ---------------------------------------------------------------- panels A, B, C and the pipe
def _tails(ax: Axes, auctions: pd.DataFrame, colours: Mapping[str, ColorType]) -> None:
    """Each auction's mean tail across seeds (colour: variant, marker: tenor group) and a line
    of each variant's monthly mean."""
    title = "B. Auction tails, high - WI: each auction's mean across seeds; line: monthly mean"
    auctions = auctions.dropna(subset=["tail_bp"])
    if auctions.empty:
        _missing(ax, title, "auction tails (no auctions with a tail in these runs)")
        return
    auctions = auctions.assign(tenor_group=auctions["tenor_group"].fillna("other").astype(str))
    # Auctions of one group on one date (4- and 8-week bills) share a point: the day's tail there.
    per_auction = auctions.groupby(["variant", "date", "tenor_group"], observed=True)["tail_bp"].mean().reset_index()
    # Each auction weighs once in its month, whatever the number of seeds.
    per_auction["month"] = per_auction["date"].dt.to_period("M")
    # Placed at the month's mean auction date, so a line never runs past the last auction.
    by_month = per_auction.groupby(["variant", "month"], observed=True)
    monthly = by_month.agg(tail_bp=("tail_bp", "mean"), mid=("date", "mean")).reset_index()
    groups = [g for g in GROUPS if g in set(per_auction["tenor_group"])]
    groups += sorted(set(per_auction["tenor_group"]) - set(groups))
    for label, part in per_auction.groupby("variant", observed=True):
        colour = colours[str(label)]
        for group in groups:
            rows = part[part["tenor_group"] == group]
            ax.scatter(rows["date"], rows["tail_bp"], s=10, alpha=0.6, color=colour,
                       marker=GROUP_MARKERS.get(group, "D"), lw=0)  # fmt: skip
    for label, part in monthly.groupby("variant", observed=True):
        ax.plot(part["mid"], part["tail_bp"], color=colours[str(label)], lw=1.2)
    ax.axhline(0.0, color="black", lw=0.6)
    _style(ax, title, "bp")
    shapes = [Line2D([], [], color="grey", marker=GROUP_MARKERS.get(g, "D"), ls="", label=g) for g in groups]
    ax.legend(handles=shapes, fontsize=6.5, loc="upper left", ncol=len(shapes))


def experiment_panels_figure(series: Series, title: str) -> Figure:
    """The dashboard panels across variants, as a matplotlib Figure (see `draw_experiment_panels`)."""
    colours = variant_colours(_labels(series))
    daily = stack(series, "daily", "date", ["repo_dispersion_bp", "dealer_utilization"])
    auctions = stack(series, "auctions", "date", ["tenor_group", "tail_bp"])
    fails = stack(series, "fails_weekly", "week_ending", ["fails_bn"])
    fig = Figure(figsize=(13, 7.5), layout="constrained")
    (a, b), (c, d) = fig.subplots(2, 2)
    band = "mean across seeds, band min-max"
    dispersion = _band_panel(a, daily, "repo_dispersion_bp", 5, f"A. Repo dispersion p99-p1, 5-day mean ({band})",
                             "bp", colours, "repo dispersion")  # fmt: skip
    # A September-2019-size spike in one variant would flatten the others: use a log scale then.
    if dispersion is not None and (dispersion["min"] > 0).all():
        if float(dispersion["max"].max()) > 10 * max(float(dispersion["mean"].median()), 1e-9):
            a.set_yscale("log")
    _tails(b, auctions, colours)
    _band_panel(c, fails, "fails_bn", 1, f"C. Fails to deliver, weekly ({band})", "$bn per week", colours,
                "weekly fails", marker="o", ms=2.5)  # fmt: skip
    use = _band_panel(d, daily, "dealer_utilization", 5, f"Pipe: dealer utilization, 5-day mean ({band})",
                      "share of capacity", colours, "dealer utilization")  # fmt: skip
    if use is not None:
        d.axhline(1.0, color="grey", ls=":", lw=0.8)  # full balance-sheet capacity; losses can push past it
        d.set_ylim(bottom=0)
    fig.legend(handles=_variant_handles(colours), loc="outside lower center", ncol=min(len(colours), 6), fontsize=7)
    fig.suptitle(f"{title}\nDashboard panels across variants", fontsize=10)
    return fig


def draw_experiment_panels(series: Series, path: str | Path, title: str) -> Path:
    """Write the dashboard panels of an experiment, across variants, to a PNG.

    A repo dispersion p99-p1 (bp; 5-business-day rolling mean of each seed, then the mean
    across seeds with a min-max band); B auction tails (bp; each auction's mean across
    seeds as markers, colour by variant and shape by tenor group, and a line per variant of
    the monthly mean); C weekly fails to deliver ($bn; mean across seeds with a band); and
    the pipe: dealer utilization (share of balance-sheet capacity, 5-day mean).

    Args:
        series: variant label -> one dict of tables per seed (`daily`, `auctions`,
            `fails_weekly`; an empty or missing table leaves its panel saying so).
        path: PNG to write (folders are created; written atomically).
        title: the experiment's name, heading the figure.

    Returns:
        The path written.
    """
    return write_atomic(path, png_bytes(experiment_panels_figure(series, title)))


# ---------------------------------------------------------------- stress x fix matrix
def metric_sign(metric: str) -> int:
    """+1 when a higher value is worse (more stress, less throughput), -1 when better, 0 when neither."""
    if metric in INDEX_METRICS:
        return 1
    spec = METRIC_SPECS.get(metric)
    return 0 if spec is None else spec.sign


def _ordered(values: pd.Series) -> list[str]:
    return [str(v) for v in pd.unique(values.dropna().astype(str))]


def _heatmap(ax: Axes, cells: pd.DataFrame, metric: str, fixes: list[str], stresses: list[str], fig: Figure) -> None:
    """One metric's fixed-minus-stressed differences, fixes down and stresses across."""
    sign = metric_sign(metric)
    reading = {1: "green = the fix lowers it (better)", -1: "green = the fix raises it (better)"}
    title = f"{metric}: fixed - stressed\n{reading.get(sign, 'no better or worse direction')}"
    cells = cells.drop_duplicates(["fix", "stress"], keep="last")
    if cells.empty or not fixes or not stresses:
        _missing(ax, title, f"{metric} in the matrix")
        return
    wide = cells.pivot(index="fix", columns="stress", values=["difference", "ci_low", "ci_high"])
    grid = {k: wide[k].reindex(index=fixes, columns=stresses).to_numpy(dtype=float) for k in wide.columns.levels[0]}
    diff = grid["difference"]
    marked = significant(grid["ci_low"], grid["ci_high"]) & np.isfinite(diff)
    limit = float(np.nanmax(np.abs(diff))) if np.isfinite(diff).any() else 0.0
    limit = limit if limit > 0 else 1.0  # symmetric about zero, so white-ish means "no change"
    # RdYlGn_r puts green below zero: right when lower is better; flipped when higher is better.
    cmap = colormaps[{1: "RdYlGn_r", -1: "RdYlGn"}.get(sign, "PuOr_r")].with_extremes(bad=NO_DATA_COLOUR)
    image = ax.imshow(np.ma.masked_invalid(diff), cmap=cmap, vmin=-limit, vmax=limit, aspect="auto")
    for (i, j), value in np.ndenumerate(diff):
        if not np.isfinite(value):
            ax.text(j, i, "no data", ha="center", va="center", fontsize=6.5, color="dimgrey")
            continue
        star = bool(marked[i, j])
        ink = "white" if abs(value) > 0.7 * limit else "black"  # dark ends of the map need light text
        shown = 0.0 if abs(value) < 1e-9 else value  # paired runs that differ only by float dust
        ax.text(j, i, f"{shown:+.3g}{'*' if star else ''}", ha="center", va="center", fontsize=7.5,
                fontweight="bold" if star else "normal", color=ink)  # fmt: skip
    ax.set_xticks(range(len(stresses)), stresses, rotation=30, ha="right", fontsize=7)
    ax.set_yticks(range(len(fixes)), fixes, fontsize=7)
    ax.set_xlabel("stress", fontsize=8)
    ax.set_ylabel("fix", fontsize=8)
    ax.set_title(title, fontsize=8.5, loc="left")
    colourbar = fig.colorbar(image, ax=ax, shrink=0.85)
    colourbar.ax.tick_params(labelsize=7)
    colourbar.set_label("fixed - stressed", fontsize=7)


def stress_matrix_figure(matrix: pd.DataFrame, title: str,
                         metrics: Sequence[str] = ("throughput_index", "stress_index")) -> Figure:  # fmt: skip
    """The stress x fix heatmaps, as a matplotlib Figure (see `draw_stress_matrix`)."""
    matrix = matrix.reindex(columns=["stress", "fix", "metric", "difference", "ci_low", "ci_high"])
    fixes, stresses = _ordered(matrix["fix"]), _ordered(matrix["stress"])
    width = max(4.5, 0.9 * len(stresses) + 3.0)
    height = max(3.2, 0.45 * len(fixes) + 2.2)
    fig = Figure(figsize=(width * max(len(metrics), 1), height), layout="constrained")
    axes = fig.subplots(1, max(len(metrics), 1), squeeze=False)[0]
    for ax, metric in zip(axes, metrics, strict=False):
        cells = matrix[matrix["metric"].astype(str) == metric].astype({"fix": str, "stress": str})
        _heatmap(ax, cells, metric, fixes, stresses, fig)
    if not metrics:
        _missing(axes[0], "stress x fix", "metrics to draw")
    fig.suptitle(f"{title}: what each fix changes under each stress\n"
                 "mean paired difference over seeds; * bold = 95% CI excludes 0; grey = no data",
                 fontsize=10)  # fmt: skip
    return fig


def draw_stress_matrix(matrix: pd.DataFrame, path: str | Path, title: str,
                       metrics: Sequence[str] = ("throughput_index", "stress_index")) -> Path:  # fmt: skip
    """Write the stress x fix matrix as heatmaps, one per metric, to a PNG.

    Rows are fixes and columns stresses (in order of appearance); colour is the mean paired
    difference fixed minus stressed (the metric's unit; the indices are z-score-like) on a
    diverging map centred at zero with symmetric limits: green where the fix helps, red
    where it hurts (a neutral map for metrics with no better direction). Each cell shows
    the difference, bold with "*" when its 95% interval excludes zero; cells with no data
    are grey.

    Args:
        matrix: long table with `stress`, `fix`, `metric`, `difference`, `ci_low`, `ci_high`.
        path: PNG to write (folders are created; written atomically).
        title: the experiment's name, heading the figure.
        metrics: which metrics to draw, one heatmap each.

    Returns:
        The path written.
    """
    return write_atomic(path, png_bytes(stress_matrix_figure(matrix, title, metrics)))
