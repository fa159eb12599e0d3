"""The calibration report: every moment per window with its t-statistic, the loss history, figures.

`write_report` writes `report.md` (fitted parameters; per window, each moment's target, standard
error, simulated value, t-statistic and whether it lies within two standard errors, with the
count per window; scored windows, not fitted, as a validation scorecard), `moments.csv`,
`loss.png` and `moments.png`; `draw_window_overlay` adds a figure of simulated against real
distributions per window when a real data folder is at hand.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from sim.calibration.msm import Evaluation, Target

if TYPE_CHECKING:
    from sim.calibration.fit import CalibrationConfig, Window


def real_data_folder() -> Path | None:
    """The public data folder the report's figures draw (PLUMBING_DATA_DIR), when there is one."""
    from sim.scenario.replay import data_folder

    folder = data_folder(None)
    return folder if folder is not None and folder.is_dir() else None


def draw_window_overlay(
    config: CalibrationConfig, scenario: Any, simulated: dict[str, pd.DataFrame], folder: Path, window: str = ""
) -> Path | None:
    """Simulated (first seed, fitted parameters) against real distributions over a window's days,
    when a real data folder is at hand (PLUMBING_DATA_DIR); None otherwise. The figure is
    `overlay.png` (`overlay_<window>.png` for a named window), linked from report.md."""
    from sim.dashboard.plots import draw_overlay
    from sim.data import load_real_tables

    data_dir = real_data_folder()
    if data_dir is None:
        return None
    real = load_real_tables(data_dir, scenario.start_date, scenario.end_date)
    path = folder / (f"overlay_{window}.png" if window else "overlay.png")
    draw_overlay(simulated, real, path, labels=(f"fitted model, seed {config.seeds[0]}", "real"))
    what = f"{window}: " if window else ""
    with (folder / "report.md").open("a", encoding="utf-8") as report:
        report.write(f"\n![{what}simulated vs real over {scenario.start_date} to {scenario.end_date}]({path.name})\n")
    return path


# Reserves around today's level over which the curve's local slope is measured ($T either side).
SLOPE_HALF_WIDTH_TN = 0.3


def local_slope_bp_per_100bn(reserves_tn: pd.Series, spread_bp: pd.Series, centre_tn: float) -> tuple[float, int]:
    """OLS slope of the spread on reserves within SLOPE_HALF_WIDTH_TN of `centre_tn` (bp per $100bn)
    and the number of points it uses; NaN with fewer than 10."""
    import numpy as np

    near = (reserves_tn - centre_tn).abs() <= SLOPE_HALF_WIDTH_TN
    near &= reserves_tn.notna() & spread_bp.notna()
    if near.sum() < 10:
        return math.nan, int(near.sum())
    slope = np.polyfit(reserves_tn[near].to_numpy(), spread_bp[near].to_numpy(), 1)[0]
    return float(slope) / 10.0, int(near.sum())


def draw_reserve_curve(runs: dict[str, dict[str, pd.DataFrame]], folder: Path) -> str | None:
    """SOFR - IORB against reserves: each window's fitted run (its days) beside the real weekly
    points since 2018, and the local slopes near today's reserves; the figure goes to
    `reserve_curve.png` and the returned paragraph (None without a data folder) into the report."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    from sim.experiments.reserve_curve import real_weekly_points

    data_dir = real_data_folder()
    if data_dir is None or not runs:
        return None
    real = real_weekly_points(data_dir)
    today = real.iloc[-1]
    fig = Figure(figsize=(8, 4.5), layout="constrained")
    ax = fig.subplots()
    ax.scatter(real["reserves_tn"], real["sofr_minus_iorb_bp"], s=8, color="tab:gray", alpha=0.6,
               label="real weeks 2018-2025 (H.4.1; over IOER, then IORB)")  # fmt: skip
    model_x, model_y = [], []
    for name, tables in runs.items():
        daily = tables["daily"]
        x = daily["reserves_bn"] / 1000.0
        y = (daily["sofr_median_pct"] - daily["iorb_pct"]) * 100.0
        ax.scatter(x, y, s=4, alpha=0.5, label=f"model, {name or 'window'} (days)")
        model_x.append(x)
        model_y.append(y)
    ax.axvline(today["reserves_tn"], color="black", lw=0.8, ls="--")
    ax.set(xlabel="reserves ($T)", ylabel="SOFR - IORB (bp)", title="SOFR over IORB against reserves")
    ax.set_ylim(-20, 60)
    ax.legend(fontsize=7)
    fig.savefig(folder / "reserve_curve.png", dpi=90)
    centre = float(today["reserves_tn"])
    model_slope, model_n = local_slope_bp_per_100bn(pd.concat(model_x), pd.concat(model_y), centre)
    real_slope, real_n = local_slope_bp_per_100bn(real["reserves_tn"], real["sofr_minus_iorb_bp"], centre)
    return (
        f"Near today's reserves (${centre:.2f}T, the H.4.1 week to {today['week_end'].date()}), within "
        f"${SLOPE_HALF_WIDTH_TN:.1f}T either side, SOFR - IORB changes by {model_slope:+.2f}bp per $100bn more "
        f"reserves in the fitted model (least squares over {model_n} simulated days of the windows) and by "
        f"{real_slope:+.2f}bp in the real weekly points ({real_n} weeks). The curve's slope from the time "
        "series mixes the demand curve with what moved reserves (the TGA, quarter-ends); the swept curve of "
        "results/README.md section 5 holds the rest fixed.\n\n![reserve curve](reserve_curve.png)\n"
    )


def moment_table(
    table: pd.DataFrame, targets: list[Target], evaluation: Evaluation, se_floor_share: float = 0.0
) -> pd.DataFrame:
    """Target, SE, simulated value and t-statistic per moment (fitted ones first). Where the SE is
    zero to rounding (a real series that never moved, EFFR - IORB at -7bp for years, is not
    measured with infinite precision) the t-statistic divides by the fit's floor instead,
    `se_floor_share` of |target|."""
    fitted_names = {t.name for t in targets}
    weight_se = {t.name: t.weight_se for t in targets}
    rows = []
    for r in table.itertuples(index=False):
        simulated = evaluation.moments.get(r.name)
        se = float(r.se) if pd.notna(r.se) else math.nan
        negligible = math.isfinite(se) and se <= 1e-9 * max(1.0, abs(float(r.value)))
        se_t = se_floor_share * abs(float(r.value)) if negligible else se
        t = (simulated - r.value) / se_t if simulated is not None and se_t > 0 else math.nan
        rows.append({
            "moment": r.name, "unit": getattr(r, "unit", ""), "target": r.value, "se": se, "simulated": simulated,
            "t": t, "within_2se": bool(abs(t) <= 2) if math.isfinite(t) else None, "fitted": r.name in fitted_names,
            "weight_se": weight_se.get(r.name), "level_comparable": getattr(r, "level_comparable", True),
        })  # fmt: skip
    frame = pd.DataFrame(rows)
    return frame.sort_values("fitted", ascending=False, kind="stable").reset_index(drop=True)


def _window_table(window: Window, config: CalibrationConfig, final: Evaluation) -> pd.DataFrame:
    """A window's moments with targets (measured in its data), t-statistics, and which the fit uses."""
    table = window.table[window.table["value"].notna()]
    frame = moment_table(table, window.targets if window.fitted else [], final, config.se_floor_share)
    base_names = frame["moment"].str.removeprefix(window.prefix)
    fit_set = list(window.fit_set)
    frame["in_fit_set"] = base_names.isin(fit_set) if fit_set else frame["level_comparable"].astype(bool)
    frame.insert(0, "window", window.name)
    return frame


def _within_line(frame: pd.DataFrame, rows: pd.Series) -> tuple[int, int]:
    within = frame.loc[rows, "within_2se"].fillna(False)
    return int(within.sum()), int(len(within))


def _figures(folder: Path, name: str, moments: pd.DataFrame, history: list[float]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 3.5), layout="constrained")
    ax = fig.subplots()
    ax.plot(range(1, len(history) + 1), history, ".", color="tab:gray", label="trial")
    ax.plot(range(1, len(history) + 1), pd.Series(history).cummin(), color="tab:blue", label="best so far")
    ax.set_yscale("log")
    ax.set(xlabel="trial", ylabel="loss (sum of squared t)", title=f"{name}: loss history")
    ax.legend()
    fig.savefig(folder / "loss.png", dpi=90)
    fitted_rows = moments[moments["fitted"] & moments["simulated"].notna()]
    fig = Figure(figsize=(8, 0.45 * max(len(fitted_rows), 4) + 1), layout="constrained")
    ax = fig.subplots()
    y = range(len(fitted_rows))
    ax.barh(list(y), fitted_rows["t"].clip(-10, 10),
            color=["tab:green" if abs(t) <= 2 else "tab:red" for t in fitted_rows["t"]])  # fmt: skip
    ax.axvline(-2, color="black", lw=0.8, ls="--")
    ax.axvline(2, color="black", lw=0.8, ls="--")
    ax.set_yticks(list(y), fitted_rows["moment"])
    ax.set(xlabel="(simulated - target) / standard error, clipped at +-10", title="Fitted moments")
    fig.savefig(folder / "moments.png", dpi=90)


def _moment_rows(out: io.StringIO, frame: pd.DataFrame) -> None:
    out.write("| moment | unit | target | SE | simulated | t | within 2 SE | fitted |\n")
    out.write("|---|---|---|---|---|---|---|---|\n")
    for r in frame.itertuples(index=False):
        sim = "n/a" if r.simulated is None or pd.isna(r.simulated) else f"{r.simulated:.4g}"
        t = "" if pd.isna(r.t) else f"{r.t:+.2f}"
        ok = {True: "yes", False: "**no**"}.get(r.within_2se, "")
        out.write(f"| {r.moment} | {r.unit} | {r.target:.4g} | {r.se:.3g} | {sim} | {t} | {ok} | "
                  f"{'yes' if r.fitted else 'no'} |\n")  # fmt: skip


def write_report(
    folder: Path, config: CalibrationConfig, windows: list[Window], final: Evaluation, history: list[float]
) -> dict[str, Path]:
    """report.md, moments.csv, loss.png and moments.png in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    frames = [_window_table(w, config, final) for w in windows]
    moments = pd.concat(frames, ignore_index=True)
    moments.to_csv(folder / "moments.csv", index=False)
    _figures(folder, config.name, moments, history)
    within, fitted_count = _within_line(moments, moments["fitted"])
    out = io.StringIO()
    out.write(f"# Calibration report: {config.name}\n\n{config.description}\n\n")
    out.write(f"Method of simulated moments, {len(history)} trials (Optuna TPE, the first at the fit it replaced: ")
    out.write(f"loss {history[0]:.3f} there), seeds {config.seeds} as common random numbers, ")
    spans = [f"{w.name + ' ' if w.name else ''}{w.base['start_date']} to {w.base['end_date']}"
             + ("" if w.fitted else " (scored, not fitted)") for w in windows]  # fmt: skip
    out.write(f"simulated window{'s' if len(windows) > 1 else ''} {'; '.join(spans)}. Loss at the fit: ")
    out.write(f"{final.loss:.3f}. {within} of {fitted_count} fitted moments lie within two standard ")
    out.write("errors of their targets.\n\n## Fitted parameters\n\n| parameter | bounds | fitted |\n|---|---|---|\n")
    for p in config.parameters:
        out.write(f"| `{p.key}` | [{p.low:g}, {p.high:g}]{' log' if p.log else ''} | {final.params[p.key]:.4g} |\n")
    for window, frame in zip(windows, frames, strict=True):
        if window.name:
            kind = "fitted" if window.fitted else "scored, not fitted: the validation scorecard"
            count, of = _within_line(frame, frame["fitted"] if window.fitted else frame["in_fit_set"])
            out.write(
                f"\n## Window `{window.name}`: {window.base['start_date']} to {window.base['end_date']} ({kind})\n\n"
            )
            what = "fitted moments" if window.fitted else "moments of the fit's list"
            out.write(f"{count} of {of} {what} within two standard errors; moments its data lack are left out.\n\n")
        else:
            out.write("\n## Moments\n\n")
        _moment_rows(out, frame)
    misses = moments.loc[moments["fitted"] & (moments["within_2se"] == False), "moment"].tolist()  # noqa: E712
    out.write("\n## Moments outside two standard errors\n\n")
    out.write(("Fitted moments that miss: " + ", ".join(f"`{m}`" for m in misses) + ".\n\n") if misses else "None.\n\n")
    scored = moments[
        ~moments["fitted"] & moments["in_fit_set"] & moments["window"].isin([w.name for w in windows if not w.fitted])
    ]
    scored_misses = scored.loc[scored["within_2se"] == False, "moment"].tolist()  # noqa: E712
    if scored_misses:
        out.write("Scored (not fitted) moments that miss: " + ", ".join(f"`{m}`" for m in scored_misses) + ".\n\n")
    if config.notes:
        out.write(config.notes.strip() + "\n")
    out.write("\n![loss history](loss.png)\n\n![fitted moments](moments.png)\n")
    (folder / "report.md").write_text(out.getvalue(), encoding="utf-8")
    return {"report": folder / "report.md", "moments": folder / "moments.csv"}
