"""The reserve demand curve: overnight rates against IORB as reserves vary, model beside the real market.

Banks value reserves more as they grow scarce (DESIGN.md section 5: flat when reserves are
abundant, steep near banks' lowest comfortable level), so the price of overnight money over
interest on reserve balances - SOFR minus IORB in repo, EFFR minus IORB in fed funds -
should rise as reserves fall. An experiment that sweeps banks' opening reserves
(`scenarios/experiments/reserve_demand_curve.yaml`) gives each run a different level; the
x-axis is the reserves each day actually held (`reserves_bn` of the daily table, which the
Treasury's cash, the ON RRP and the Fed's operations move away from the opening value).

The model side is every simulated day of every run: each run's medians, and the median of
the daily points in bins of reserves (the curve). The real side is weekly: H.4.1 reserve
balances (FRED WRESBAL, the week's average, dated on the Wednesday that ends it) against
the same week's (Thursday to Wednesday) averages of SOFR - IORB and EFFR - IORB, from
SOFR's first day (3 April 2018; IOER, from the project's table of FOMC decisions, before IORB
began on 29 July 2021). Reserves in $ trillions, spreads in basis points.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.dashboard.plots import _style, png_bytes
from sim.data.fomc import rates_in_force
from sim.data.fred import fred_path, read_fred_series
from sim.data.real import IORB_START
from sim.experiments.design import Experiment
from sim.files import write_atomic

SPREADS = {"sofr_minus_iorb_bp": "SOFR - IORB", "effr_minus_iorb_bp": "EFFR - IORB"}
# Width of the reserve bins the curve takes medians over ($T), and the fewest points a bin needs to be drawn.
BIN_WIDTH_TN = 0.1
MIN_POINTS_PER_BIN = 5
# SOFR's first day; the spreads are over IOER until IORB replaced it on 29 July 2021.
REAL_START = dt.date(2018, 4, 3)
# The FRED files the real side reads: daily rates (percent) and weekly reserves ($ millions).
REAL_SERIES = ("SOFR", "EFFR", "IORB", "WRESBAL")
DATA_DIR_VARIABLE = "PLUMBING_DATA_DIR"
FIGURE_FILE, TABLE_FILE = "reserve_demand_curve.png", "reserve_demand_curve.csv"
TABLE_COLUMNS = ["kind", "variant", "seed", "swept_value", "reserves_tn", *SPREADS, "n"]


# ---------------------------------------------------------------- the model side
def model_points(records: Mapping[tuple[str, int], Mapping[str, Any]], labels: Sequence[str],
                 seeds: Sequence[int]) -> pd.DataFrame:  # fmt: skip
    """Every simulated day of every run as one point.

    Args:
        records: (label, seed) -> the run's saved record (its `series.daily` holds `date`,
            `reserves_bn` and the two spreads in bp).
        labels: the experiment's labels, in order.
        seeds: its seeds.

    Returns:
        Columns `variant`, `seed`, `date`, `reserves_tn` ($T) and the two spreads (bp), in
        label, seed and date order; days without reserves are dropped.
    """
    parts = []
    for label in labels:
        for seed in seeds:
            daily = ((records.get((label, seed)) or {}).get("series") or {}).get("daily") or {}
            if not daily.get("date"):
                continue
            frame = pd.DataFrame({"date": pd.to_datetime(daily["date"])})
            frame["reserves_tn"] = pd.to_numeric(pd.Series(daily.get("reserves_bn")), errors="coerce") / 1000.0
            for column in SPREADS:
                values = daily.get(column) or [None] * len(frame)
                frame[column] = pd.to_numeric(pd.Series(values), errors="coerce").astype(float)
            parts.append(frame.assign(variant=label, seed=seed))
    columns = ["variant", "seed", "date", "reserves_tn", *SPREADS]
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns}).astype({"variant": str, "seed": int})
    out = pd.concat(parts, ignore_index=True)[columns]
    return out.dropna(subset=["reserves_tn"]).reset_index(drop=True)


def run_medians(points: pd.DataFrame, swept: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Each run's median reserves ($T) and spreads (bp) over its days.

    Returns:
        One row per (variant, seed) in order of appearance: `variant`, `seed`, `swept_value`
        (the value a sweep set, NaN for the reference), the medians and `n` (days).
    """
    grouped = points.groupby(["variant", "seed"], sort=False)
    out = grouped[["reserves_tn", *SPREADS]].median()
    out["n"] = grouped.size()
    out = out.reset_index()
    out.insert(2, "swept_value", out["variant"].map(lambda label: (swept or {}).get(label, np.nan)))
    return out


def binned_medians(points: pd.DataFrame, width_tn: float = BIN_WIDTH_TN, min_points: int = 1) -> pd.DataFrame:
    """The median of each spread over the points whose reserves fall in each bin.

    Bins are [k * width, (k + 1) * width) $T; a bin is labelled by its centre.

    Args:
        points: `reserves_tn` and the spread columns (bp), e.g. `model_points`.
        width_tn: bin width ($T).
        min_points: bins with fewer points are left out.

    Returns:
        One row per bin, lowest reserves first: `reserves_tn` (the bin's centre), the median
        of each spread (bp, NaN where the bin has no value of it) and `n` (points in the bin).
    """
    known = points.dropna(subset=["reserves_tn"])
    columns = ["reserves_tn", *SPREADS, "n"]
    if known.empty:
        return pd.DataFrame({c: pd.Series(dtype=float) for c in columns})
    # A small tolerance keeps values printed on a bin edge (2.4 / 0.1 = 23.999...) in the bin they name.
    index = np.floor(known["reserves_tn"].to_numpy() / width_tn + 1e-9).astype(int)
    grouped = known.groupby(index)
    out = grouped[list(SPREADS)].median()
    out["n"] = grouped.size()
    out.insert(0, "reserves_tn", (out.index.to_numpy() + 0.5) * width_tn)
    return out[out["n"] >= min_points].reset_index(drop=True)[columns]


# ---------------------------------------------------------------- the real side
def real_weekly_points(data_dir: str | Path, start: dt.date = REAL_START) -> pd.DataFrame:
    """Weekly real reserves against the week's average SOFR - IORB and EFFR - IORB.

    Args:
        data_dir: the public data folder (its `fred/` files, see `sim.data.fred`).
        start: first day of the daily spreads used (SOFR begins on 3 April 2018; before IORB
            began on 29 July 2021 the spreads are over IOER, from the FOMC table).

    Returns:
        One row per H.4.1 week with reserves and at least one spread: `week_end` (the
        Wednesday), `year`, `reserves_tn` (WRESBAL, the week's average, $T) and each spread
        (bp): the mean over the week's days (Thursday to Wednesday) with both rates published.

    Raises:
        DataFileError: a file is missing or malformed (named with its row and column).
    """
    read = {series_id: read_fred_series(fred_path(data_dir, series_id), series_id) for series_id in REAL_SERIES}
    # IOER before IORB began, from the project's table of FOMC decisions.
    days = read["SOFR"].index.union(read["EFFR"].index)
    iorb = read["IORB"].reindex(days)
    iorb = iorb.mask(days < pd.Timestamp(IORB_START), rates_in_force(days)["iorb_pct"])
    daily = pd.DataFrame({
        "sofr_minus_iorb_bp": (read["SOFR"] - iorb) * 100.0,
        "effr_minus_iorb_bp": (read["EFFR"] - iorb) * 100.0,
    })  # fmt: skip
    daily = daily[daily.index >= pd.Timestamp(start)]
    # H.4.1 weeks end on Wednesday: a week's label is its last day.
    weekly = daily.resample("W-WED", closed="right", label="right").mean()
    reserves = read["WRESBAL"].dropna() / 1e6  # $ millions -> $ trillions
    out = weekly.join(reserves.rename("reserves_tn"), how="inner")
    out = out.dropna(subset=["reserves_tn"]).dropna(subset=list(SPREADS), how="all")
    out = out.rename_axis("week_end").reset_index()
    out.insert(1, "year", out["week_end"].dt.year)
    return out[["week_end", "year", "reserves_tn", *SPREADS]]


def real_data_dir(data_dir: str | Path | None = None) -> tuple[Path | None, str]:
    """The data folder to read (the argument, else `PLUMBING_DATA_DIR`) and, when there is none, why."""
    folder = data_dir if data_dir is not None else os.environ.get(DATA_DIR_VARIABLE, "")
    if not folder:
        return None, f"no data folder given and {DATA_DIR_VARIABLE} not set"
    path = Path(folder)
    if not path.is_dir():
        return None, f"no data folder at {path}"
    missing = [f"fred/{s}.csv" for s in REAL_SERIES if not fred_path(path, s).is_file()]
    if missing:
        return None, f"{path} lacks {', '.join(missing)}"
    return path, ""


# ---------------------------------------------------------------- the figure and the table
def _year_colours(years: Sequence[int]) -> dict[int, Any]:
    cmap = colormaps["viridis"]
    unique = sorted(set(years))
    return {year: cmap(i / max(len(unique) - 1, 1)) for i, year in enumerate(unique)}


def _y_limits(column: str, points: pd.DataFrame, runs: pd.DataFrame, curve: pd.DataFrame,
              real: pd.DataFrame | None) -> tuple[float, float, int]:  # fmt: skip
    """The spread axis: every real week, run median and curve point, and the bulk (99%) of the model's
    days, so a few extreme days do not flatten the rest; returns (low, high, model days beyond)."""
    days = points[column].dropna()
    shown = [runs[column], curve[column], real[column] if real is not None else pd.Series(dtype=float)]
    if len(days):
        shown.append(pd.Series(np.percentile(days, [0.5, 99.5])))
    values = pd.concat(shown).dropna()
    if values.empty:
        return -1.0, 1.0, 0
    pad = max(1.0, 0.05 * float(values.max() - values.min()))
    low, high = float(values.min()) - pad, float(values.max()) + pad
    return low, high, int(((days < low) | (days > high)).sum())


def _panel(ax: Axes, column: str, points: pd.DataFrame, runs: pd.DataFrame, curve: pd.DataFrame,
           real: pd.DataFrame | None, no_real: str) -> None:  # fmt: skip
    """One spread against reserves: model days, run medians and binned curve; real weeks by year."""
    ax.scatter(points["reserves_tn"], points[column], s=3, color="0.6", alpha=0.3, linewidths=0,
               label="model, one day")  # fmt: skip
    if real is not None and len(real):
        colours = _year_colours(real["year"].tolist())
        for year, weeks in real.groupby("year"):
            ax.scatter(weeks["reserves_tn"], weeks[column], s=14, color=colours[int(year)], alpha=0.85,
                       linewidths=0, label=f"real {year}, one week")  # fmt: skip
    ax.scatter(runs["reserves_tn"], runs[column], s=30, facecolors="none", edgecolors="black", linewidths=0.9,
               label="model, one run (its median day)", zorder=3)  # fmt: skip
    ax.plot(curve["reserves_tn"], curve[column], color="tab:red", lw=1.8, marker="o", ms=3,
            label=f"model curve (median day per ${BIN_WIDTH_TN:g}T of reserves)", zorder=4)  # fmt: skip
    ax.axhline(0.0, color="grey", lw=0.6, ls=":")
    low, high, beyond = _y_limits(column, points, runs, curve, real)
    ax.set_ylim(low, high)
    note = f" ({beyond} model days beyond the axis)" if beyond else ""
    _style(ax, f"{SPREADS[column]} against reserves{note}", "bp", dates=False)
    ax.set_xlabel("reserves, $ trillions (model: each day's; real: the week's average)", fontsize=8)
    if real is None:
        ax.text(0.02, 0.97, f"real data not drawn: {no_real}", transform=ax.transAxes, fontsize=7, color="grey",
                va="top")  # fmt: skip


def reserve_demand_curve_figure(points: pd.DataFrame, runs: pd.DataFrame, curve: pd.DataFrame,
                                real: pd.DataFrame | None, title: str = "", no_real: str = "") -> Figure:  # fmt: skip
    """The reserve demand curve as a matplotlib Figure (see `draw_reserve_demand_curve`)."""
    fig = Figure(figsize=(12, 5.2), layout="constrained")
    axes = [fig.add_subplot(1, 2, i + 1) for i in range(len(SPREADS))]
    for ax, column in zip(axes, SPREADS, strict=True):
        _panel(ax, column, points, runs, curve, real, no_real)
    # One legend for both panels, below them, so no point hides behind it.
    handles, labels = axes[0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside lower center", ncol=min(len(handles), 5), fontsize=7,
                   markerscale=1.5)  # fmt: skip
    source = "model vs real weeks (FRED: WRESBAL, SOFR, EFFR; IOER, IORB; from 2018-04-03)" if real is not None else (
        "the model only (no real data)")  # fmt: skip
    fig.suptitle(f"{title + chr(10) if title else ''}The reserve demand curve: overnight rates over IORB against "
                 f"reserves, {source}", fontsize=10)  # fmt: skip
    return fig


def draw_reserve_demand_curve(points: pd.DataFrame, runs: pd.DataFrame, curve: pd.DataFrame,
                              real: pd.DataFrame | None, path: str | Path, title: str = "",
                              no_real: str = "") -> Path:  # fmt: skip
    """Write the two-panel reserve demand curve figure to a PNG.

    Left SOFR - IORB, right EFFR - IORB (bp) against reserves ($T): the model's days (grey
    dots), each run's medians (open circles) and the binned median curve (red), and the real
    weeks coloured by year.

    Args:
        points: `model_points`; runs: `run_medians`; curve: `binned_medians` of the points.
        real: `real_weekly_points`, or None to draw the model alone.
        path: PNG to write (folders are created; written atomically).
        title: heading (the experiment's name).
        no_real: why the real data are not drawn (shown on the panels when `real` is None).

    Returns:
        The path written.
    """
    return write_atomic(path, png_bytes(reserve_demand_curve_figure(points, runs, curve, real, title, no_real)))


def curve_table(runs: pd.DataFrame, curve: pd.DataFrame, real: pd.DataFrame | None) -> pd.DataFrame:
    """The figure's numbers as one table: `kind` model_run (one row per run), model_bin (the
    curve) and real_bin (the real weeks' medians in the same bins); reserves in $T, spreads in bp."""
    parts = [runs.assign(kind="model_run"), curve.assign(kind="model_bin")]
    if real is not None:
        parts.append(binned_medians(real).assign(kind="real_bin"))
    return pd.concat(parts, ignore_index=True).reindex(columns=TABLE_COLUMNS)


def write_reserve_demand_curve(experiment: Experiment, records: Mapping[tuple[str, int], Mapping[str, Any]],
                               folder: Path, data_dir: str | Path | None = None) -> list[Path]:  # fmt: skip
    """Draw `reserve_demand_curve.png` and write `reserve_demand_curve.csv` for an experiment's runs.

    Args:
        experiment: the loaded `Experiment` (its labels, seeds, swept values and name).
        records: (label, seed) -> saved run record.
        folder: the experiment's results folder.
        data_dir: the public data folder; None reads `PLUMBING_DATA_DIR`. Without one (or
            without its FRED files) the figure is the model's alone and says so.

    Returns:
        The files written.
    """
    points = model_points(records, experiment.labels, experiment.seeds)
    runs = run_medians(points, experiment.swept)
    curve = binned_medians(points, min_points=MIN_POINTS_PER_BIN)
    folder_found, no_real = real_data_dir(data_dir)
    real = real_weekly_points(folder_found) if folder_found is not None else None
    png = draw_reserve_demand_curve(points, runs, curve, real, folder / FIGURE_FILE, experiment.name, no_real)
    table = curve_table(runs, curve, real)
    csv = write_atomic(folder / TABLE_FILE, table.to_csv(index=False, float_format="%.6g"))
    return [png, csv]
