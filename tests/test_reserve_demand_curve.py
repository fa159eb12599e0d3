"""The reserve demand curve: the experiment file, the curve's binned medians by hand, the figure and table,
the real weekly points from synthetic FRED files and (when PLUMBING_DATA_DIR points to them) from the real
ones, and a small sweep run end to end, twice, with identical output."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import load_experiment, run_experiment
from sim.experiments.reserve_curve import (
    SPREADS,
    TABLE_COLUMNS,
    binned_medians,
    curve_table,
    draw_reserve_demand_curve,
    model_points,
    real_data_dir,
    real_weekly_points,
    reserve_demand_curve_figure,
    run_medians,
)
from tests.test_experiment_sweep import _problems, _write_sweep

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
SHIPPED = SCENARIOS / "experiments" / "reserve_demand_curve.yaml"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
REAL_DIR = os.environ.get("PLUMBING_DATA_DIR", "")


# ---------------------------------------------------------------- the experiment file
def test_unknown_figure_is_an_error(tmp_path: Path) -> None:
    path = _write_sweep(tmp_path, {"key": "banks.reserves_bn", "values": [1]}, figures=["reserve_curve"])
    problems = _problems(path)
    assert len(problems) == 1 and "figures[0]" in problems[0] and "'reserve_demand_curve'" in problems[0]


def test_shipped_reserve_demand_curve_sweeps_banks_reserves() -> None:
    experiment = load_experiment(SHIPPED)
    assert experiment.figures == ("reserve_demand_curve",) and experiment.sweep_key == "banks.reserves_bn"
    opening = sorted(s["banks"]["reserves_bn"] + s["dealers"]["reserves_bn"] for s in experiment.scenarios.values())
    assert len(opening) == len(set(opening)) >= 8, "distinct levels, the reference's among them"
    assert opening[0] <= 2400 and opening[-1] >= 4000


# ---------------------------------------------------------------- the curve by hand
def _points() -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["a", "a", "a", "b", "b", "b"],
        "seed": [1, 1, 1, 1, 1, 1],
        "date": pd.bdate_range("2025-01-02", periods=3).tolist() * 2,
        "reserves_tn": [2.41, 2.49, 2.55, 2.42, 3.01, 2.40],
        "sofr_minus_iorb_bp": [1.0, 3.0, -2.0, 8.0, -10.0, 5.0],
        "effr_minus_iorb_bp": [-7.0, -6.0, np.nan, -5.0, -9.0, -7.0],
    })  # fmt: skip


def test_binned_medians_by_hand() -> None:
    curve = binned_medians(_points(), width_tn=0.1)
    # [2.4, 2.5): 2.41, 2.49, 2.42, 2.40 -> SOFR 1, 3, 8, 5 (median 4), EFFR -7, -6, -5, -7 (median -6.5);
    # [2.5, 2.6): 2.55 -> -2 and no EFFR; [3.0, 3.1): 3.01 -> -10, -9.
    assert list(curve.columns) == ["reserves_tn", *SPREADS, "n"]
    np.testing.assert_allclose(curve["reserves_tn"], [2.45, 2.55, 3.05])
    np.testing.assert_allclose(curve["sofr_minus_iorb_bp"], [4.0, -2.0, -10.0])
    np.testing.assert_allclose(curve["effr_minus_iorb_bp"], [-6.5, np.nan, -9.0])
    assert curve["n"].tolist() == [4, 1, 1]
    assert binned_medians(_points(), width_tn=0.1, min_points=2)["reserves_tn"].tolist() == pytest.approx([2.45])
    wide = binned_medians(_points(), width_tn=1.0)
    np.testing.assert_allclose(wide["reserves_tn"], [2.5, 3.5])
    np.testing.assert_allclose(wide["sofr_minus_iorb_bp"], [3.0, -10.0])  # median of 1, 3, -2, 8, 5
    assert binned_medians(_points().iloc[:0]).empty


def test_run_medians_by_hand() -> None:
    runs = run_medians(_points(), {"b": 2500})
    assert runs[["variant", "seed"]].values.tolist() == [["a", 1], ["b", 1]]
    np.testing.assert_allclose(runs["reserves_tn"], [2.49, 2.42])
    np.testing.assert_allclose(runs["sofr_minus_iorb_bp"], [1.0, 5.0])
    np.testing.assert_allclose(runs["effr_minus_iorb_bp"], [-6.5, -7.0])
    assert np.isnan(runs["swept_value"][0]) and runs["swept_value"][1] == 2500 and runs["n"].tolist() == [3, 3]


def test_model_points_read_the_saved_series() -> None:
    daily = {"date": ["2025-01-02", "2025-01-03"], "reserves_bn": [3000.0, None],
             "sofr_minus_iorb_bp": [-10.0, -9.0], "effr_minus_iorb_bp": [-7.0, -7.0]}  # fmt: skip
    records = {("reference", 1): {"series": {"daily": daily}}, ("x", 1): {"series": {"daily": {"date": []}}}}
    points = model_points(records, ["reference", "x"], [1])
    assert points[["variant", "seed", "reserves_tn", "sofr_minus_iorb_bp"]].values.tolist() == [
        ["reference", 1, 3.0, -10.0]]  # fmt: skip
    assert model_points({}, ["reference"], [1]).empty


def _real_weeks() -> pd.DataFrame:
    return pd.DataFrame({"week_end": pd.to_datetime(["2021-08-04", "2024-08-07"]), "year": [2021, 2024],
                         "reserves_tn": [3.9, 3.3], "sofr_minus_iorb_bp": [-10.0, -8.0],
                         "effr_minus_iorb_bp": [-7.0, -7.0]})  # fmt: skip


def test_figure_writes_a_small_png_model_only_or_with_the_real_weeks(tmp_path: Path) -> None:
    points = _points()
    runs, curve = run_medians(points), binned_medians(points)
    alone = draw_reserve_demand_curve(points, runs, curve, None, tmp_path / "alone.png", "t", "no data folder")
    both = draw_reserve_demand_curve(points, runs, curve, _real_weeks(), tmp_path / "both.png", "t")
    for path in (alone, both):
        data = path.read_bytes()
        assert data[:8] == PNG_SIGNATURE and len(data) < 150_000
    fig = reserve_demand_curve_figure(points, runs, curve, None, "t", "no data folder")
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert texts == ["real data not drawn: no data folder"] * 2
    assert "the model only (no real data)" in fig.texts[0].get_text()
    fig = reserve_demand_curve_figure(points, runs, curve, _real_weeks(), "t")
    assert not [t for ax in fig.axes for t in ax.texts]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "real 2021, one week" in legend and "real 2024, one week" in legend


def test_table_holds_runs_curve_and_real_bins() -> None:
    points = _points()
    table = curve_table(run_medians(points), binned_medians(points), _real_weeks())
    assert list(table.columns) == TABLE_COLUMNS
    assert table["kind"].tolist() == ["model_run"] * 2 + ["model_bin"] * 3 + ["real_bin"] * 2
    assert curve_table(run_medians(points), binned_medians(points), None)["kind"].nunique() == 2


# ---------------------------------------------------------------- the real side
def _fred(folder: Path, series_id: str, values: dict[str, float]) -> None:
    path = folder / "fred" / f"{series_id}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{day},{value}\n" for day, value in values.items())
    path.write_text(f"observation_date,{series_id}\n{rows}", encoding="utf-8")


def test_real_weekly_points_from_synthetic_fred_files(tmp_path: Path) -> None:
    # Thursday 2021-07-29 to Wednesday 2021-08-04 is one H.4.1 week; the next ends 2021-08-11.
    days = pd.bdate_range("2021-07-27", "2021-08-11")
    iorb = {d.date().isoformat(): 0.15 for d in pd.date_range("2021-07-27", "2021-08-11")}
    sofr = {d.date().isoformat(): 0.05 + 0.01 * i for i, d in enumerate(days)}
    _fred(tmp_path, "IORB", iorb)
    _fred(tmp_path, "SOFR", sofr)
    _fred(tmp_path, "EFFR", dict.fromkeys(sofr, 0.08))
    _fred(tmp_path, "WRESBAL", {"2021-07-28": 3_500_000, "2021-08-04": 3_800_000, "2021-08-11": 3_900_000})
    weeks = real_weekly_points(tmp_path)
    assert weeks["week_end"].dt.strftime("%Y-%m-%d").tolist() == ["2021-07-28", "2021-08-04", "2021-08-11"]
    assert weeks["year"].tolist() == [2021, 2021, 2021]
    np.testing.assert_allclose(weeks["reserves_tn"], [3.5, 3.8, 3.9])  # $ millions -> $ trillions
    # The week to 07-28 is over IOER (0.15%, the FOMC table's, before IORB began): SOFR 0.05 and
    # 0.06, -9.5 bp. Week 2: SOFR on 07-29 .. 08-04 = 0.07 .. 0.11, mean 0.09: -6 bp. Week 3: -1 bp.
    np.testing.assert_allclose(weeks["sofr_minus_iorb_bp"], [-9.5, -6.0, -1.0], atol=1e-9)
    np.testing.assert_allclose(weeks["effr_minus_iorb_bp"], [-7.0, -7.0, -7.0], atol=1e-9)
    assert real_data_dir(tmp_path) == (tmp_path, "")
    (tmp_path / "fred" / "EFFR.csv").unlink()
    assert real_data_dir(tmp_path) == (None, f"{tmp_path} lacks fred/EFFR.csv")
    assert real_data_dir(tmp_path / "nowhere")[0] is None


def test_without_a_data_folder_the_figure_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PLUMBING_DATA_DIR", raising=False)
    assert real_data_dir() == (None, "no data folder given and PLUMBING_DATA_DIR not set")


@pytest.mark.skipif(not REAL_DIR or not Path(REAL_DIR).is_dir(), reason="PLUMBING_DATA_DIR not set")
def test_real_weekly_points_from_the_public_files() -> None:
    weeks = real_weekly_points(REAL_DIR)
    assert weeks["week_end"].iloc[0] == pd.Timestamp("2018-04-04") and (weeks["week_end"].dt.day_of_week == 2).all()
    assert weeks["reserves_tn"].between(1.3, 4.5).all(), "WRESBAL in $ millions, shown in $ trillions"
    # The scarce end: September 2019's week of the repo spike, reserves about $1.4T, SOFR far over IOER.
    spike = weeks[weeks["week_end"] == pd.Timestamp("2019-09-18")].iloc[0]
    assert spike["reserves_tn"] < 1.5 and spike["sofr_minus_iorb_bp"] > 30
    last = weeks[weeks["week_end"] == pd.Timestamp("2025-09-24")].iloc[0]
    assert last["reserves_tn"] == pytest.approx(3.002218)
    assert weeks[list(SPREADS)].notna().all().all() and weeks["effr_minus_iorb_bp"].median() == pytest.approx(-7.0)
    assert len(weeks) > 200


# ---------------------------------------------------------------- the whole experiment, small
def test_small_sweep_writes_the_figure_and_table_and_repeats_exactly(tmp_path: Path) -> None:
    path = _write_sweep(tmp_path / "spec", {"key": "banks.reserves_bn", "values": [2200, 3200]},
                        start_date="2025-03-03", end_date="2025-03-14", figures=["reserve_demand_curve"])  # fmt: skip
    first = run_experiment(path, tmp_path / "a", workers=2, data_dir=tmp_path / "no_data")
    folder = tmp_path / "a" / "sweep_test"
    table = pd.read_csv(folder / "reserve_demand_curve.csv")
    runs = table[table["kind"] == "model_run"]
    assert runs["variant"].tolist() == ["reference", "banks.reserves_bn-2200", "banks.reserves_bn-3200"]
    assert runs["swept_value"].tolist()[1:] == [2200, 3200] and (runs["n"] == 10).all()
    # The key reached the market: reserves follow the opening value, at most $1T apart and at
    # least $0.25T (banks short of their comfortable levels borrow back money funds' cash from
    # the ON RRP, which refills much of the lower opening, and at the higher one funds keep
    # cash at the facility: $0.36T apart on these seeds).
    reserves = runs.set_index("variant")["reserves_tn"]
    assert 0.25 < reserves["banks.reserves_bn-3200"] - reserves["banks.reserves_bn-2200"] < 1.2
    assert runs[list(SPREADS)].notna().all().all()
    assert (folder / "reserve_demand_curve.png").read_bytes()[:8] == PNG_SIGNATURE
    assert set(first.table["variant"]) == {"banks.reserves_bn-2200", "banks.reserves_bn-3200"}
    # Same file and seeds, in one process this time: identical numbers and figure.
    run_experiment(path, tmp_path / "b", workers=1, data_dir=tmp_path / "no_data")
    for name in ("reserve_demand_curve.csv", "reserve_demand_curve.png", "findings.csv"):
        assert (tmp_path / "b" / "sweep_test" / name).read_bytes() == (folder / name).read_bytes(), name
