"""Experiment figures: valid compact PNGs written atomically, from synthetic series, runs and matrix
tables, including the awkward cases (no auctions, NaN, one seed, one or many variants)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.container import ErrorbarContainer
from PIL import Image

from sim.experiments.figures import (
    across_seeds,
    draw_experiment_panels,
    draw_reservoir_vs_pipe,
    draw_stress_matrix,
    experiment_panels_figure,
    mean_interval,
    reservoir_vs_pipe_figure,
    significant,
    stack,
    stress_matrix_figure,
    variant_colours,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 250_000


# ---------------------------------------------------------------- synthetic inputs
def make_tables(rng: np.random.Generator, days: int, level: float, auctions: bool = True) -> dict[str, pd.DataFrame]:
    """One seed's compact series: business days, auctions every few days, weekly fails."""
    dates = pd.bdate_range("2024-01-02", periods=days)
    daily = pd.DataFrame({
        "date": dates,
        "reserves_bn": 3200 + level * 100 + rng.normal(0, 20, days).cumsum(),
        "soma_bn": 4500 + rng.normal(0, 5, days).cumsum(),
        "customer_volume_bn": 600 - level * 40 + rng.normal(0, 30, days),
        "dealer_utilization": np.clip(0.7 + 0.1 * level + rng.normal(0, 0.05, days), 0, 1.2),
        "bid_ask_bp": 0.5 + rng.gamma(2, 0.1, days),
        "repo_dispersion_bp": 8 + level * 3 + rng.gamma(2, 2, days),
        "fails_bn": rng.gamma(2, 20, days),
    })  # fmt: skip
    picks = dates[::3]
    auction_table = pd.DataFrame({
        "date": picks,
        "tenor_group": rng.choice(["bills", "2-7y", "10y+"], len(picks)),
        "tail_bp": rng.normal(0.3 * level, 0.8, len(picks)),
    })  # fmt: skip
    weeks = daily.set_index("date")["fails_bn"].resample("W-WED").sum()
    return {
        "daily": daily,
        "auctions": auction_table if auctions else auction_table.iloc[:0],
        "fails_weekly": pd.DataFrame({"week_ending": weeks.index, "fails_bn": weeks.to_numpy()}),
    }


def make_series(labels: list[str], seeds: int, days: int = 60, auctions: bool = True, seed: int = 7):
    rng = np.random.default_rng(seed)
    return {label: [make_tables(rng, days, float(i), auctions) for _ in range(seeds)] for i, label in enumerate(labels)}


def make_runs(labels: list[str], seeds: int, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(labels) * seeds
    return pd.DataFrame({
        "variant": np.repeat(labels, seeds),
        "seed": np.tile(np.arange(seeds), len(labels)),
        "scenario": "synthetic",
        "reserves_mean_bn": 3200 + rng.normal(0, 50, n) + 100 * np.repeat(np.arange(len(labels)), seeds),
        "throughput_index": rng.normal(0, 1, n),
        "stress_index": rng.normal(0, 1, n),
    })  # fmt: skip


def make_matrix(stresses: list[str], fixes: list[str], seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for metric in ("throughput_index", "stress_index", "reserves_mean_bn"):
        for stress in stresses:
            for fix in fixes:
                d = rng.normal(0, 1)
                rows.append({"stress": stress, "fix": fix, "metric": metric, "calm_mean": 0.0,
                             "stressed_mean": 1.0, "fixed_mean": 1.0 + d, "difference": d,
                             "ci_low": d - 0.5, "ci_high": d + 0.5, "n": 5})  # fmt: skip
    return pd.DataFrame(rows)


def assert_png(path: Path, min_width: int = 400) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) < MAX_PNG_BYTES
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    assert min_width <= width <= 3000
    assert 250 <= height <= 2000
    # Written atomically: no temporary file remains beside the figure.
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


# ---------------------------------------------------------------- pure helpers
def test_significant_excludes_zero_only() -> None:
    low = [0.1, -0.5, -0.2, np.nan, 0.0, np.nan]
    high = [0.3, -0.1, 0.4, 1.0, 0.5, np.nan]
    assert significant(low, high).tolist() == [True, True, False, False, False, False]
    assert significant(np.array([[0.1, -1.0]]), np.array([[0.2, 1.0]])).shape == (1, 2)


def test_mean_interval_is_student_t() -> None:
    frame = pd.DataFrame({"variant": ["a", "a", "a", "b"], "x": [1.0, 2.0, 3.0, 5.0]})
    out = mean_interval(frame, "variant", "x")
    assert out.loc["a", "mean"] == pytest.approx(2.0)
    # t(0.975, 2) = 4.302653; sd = 1; n = 3
    assert out.loc["a", "half"] == pytest.approx(4.302653 / np.sqrt(3), rel=1e-6)
    assert np.isnan(out.loc["b", "half"])  # one seed: no interval
    assert out["n"].tolist() == [3, 1]


def test_across_seeds_band_and_rolling_mean() -> None:
    dates = pd.bdate_range("2024-01-02", periods=3)
    series = {"ref": [{"daily": pd.DataFrame({"date": dates, "x": [1.0, 2.0, 3.0]})},
                      {"daily": pd.DataFrame({"date": dates, "x": [3.0, 4.0, np.nan]})}]}  # fmt: skip
    stacked = stack(series, "daily", "date", ["x"])
    plain = across_seeds(stacked, "x")
    assert plain["mean"].tolist() == [2.0, 3.0, 3.0]  # NaN in one seed: the other seed alone
    assert plain["min"].tolist() == [1.0, 2.0, 3.0]
    assert plain["max"].tolist() == [3.0, 4.0, 3.0]
    assert plain["count"].tolist() == [2, 2, 1]
    rolled = across_seeds(stacked, "x", window=2)
    # Per seed first: [1, 1.5, 2.5] and [3, 3.5, 4], then across seeds.
    assert rolled["mean"].tolist() == pytest.approx([2.0, 2.5, 3.25])


def test_stack_keeps_variant_order_and_tolerates_missing_tables() -> None:
    series = make_series(["reference", "qt", "srf"], seeds=2, days=10)
    series["srf"][1] = {"daily": series["srf"][1]["daily"]}  # this seed has no auctions table
    stacked = stack(series, "auctions", "date", ["tenor_group", "tail_bp"])
    assert list(stacked["variant"].cat.categories) == ["reference", "qt", "srf"]
    assert set(stacked.loc[stacked["variant"] == "srf", "seed"]) == {0}
    empty = stack({"reference": [{}]}, "daily", "date", ["reserves_bn"])
    assert empty.empty and list(empty.columns) == ["variant", "seed", "date", "reserves_bn"]


def test_variant_colours_distinct_up_to_twelve() -> None:
    one = variant_colours(["reference"])
    assert one["reference"][:3] == pytest.approx((0.12156862745098039, 0.4666666666666667, 0.7058823529411765))
    twelve = variant_colours([f"v{i}" for i in range(12)])
    assert len(set(twelve.values())) == 12


# ---------------------------------------------------------------- reservoir vs pipe
def test_reservoir_vs_pipe_writes_png(tmp_path: Path) -> None:
    labels = ["reference", "qe", "srf"]
    path = draw_reservoir_vs_pipe(make_runs(labels, 4), make_series(labels, 4), tmp_path / "fig" / "rp.png", "qe-test")
    assert path == tmp_path / "fig" / "rp.png"
    assert_png(path)


def test_reservoir_vs_pipe_intervals_only_with_several_seeds() -> None:
    labels = ["reference", "qe"]
    many = reservoir_vs_pipe_figure(make_runs(labels, 4), make_series(labels, 4, days=30), "x")
    bars = [c for c in many.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2 and all(c.has_xerr and c.has_yerr for c in bars)
    assert many.axes[0].yaxis_inverted()  # up = more throughput
    one = reservoir_vs_pipe_figure(make_runs(labels, 1), make_series(labels, 1, days=30), "x")
    bars = [c for c in one.axes[0].containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2 and not any(c.has_xerr or c.has_yerr for c in bars)
    # A min-max band across seeds is shaded only when there are several seeds.
    assert len(many.axes[1].collections) == 2 and len(one.axes[1].collections) == 0


def test_reservoir_vs_pipe_handles_nan_and_missing(tmp_path: Path) -> None:
    labels = ["reference", "qt"]
    runs = make_runs(labels, 3)
    runs.loc[[0, 4], "throughput_index"] = np.nan
    series = make_series(labels, 3, days=15)
    series["qt"][0]["daily"]["customer_volume_bn"] = np.nan
    assert_png(draw_reservoir_vs_pipe(runs, series, tmp_path / "a.png"))
    # Nothing to draw at all: the panels say so rather than raising.
    blank = runs.assign(throughput_index=np.nan)
    fig = reservoir_vs_pipe_figure(blank, {"reference": [{}]})
    assert sum("not available" in t for t in texts(fig)) == 3


# ---------------------------------------------------------------- panels
def test_experiment_panels_write_png(tmp_path: Path) -> None:
    labels = ["reference", *[f"v{i}" for i in range(11)]]  # twelve variants
    path = draw_experiment_panels(make_series(labels, 2, days=45), tmp_path / "panels.png", "many")
    assert_png(path)


def test_experiment_panels_empty_auctions_single_seed_single_variant(tmp_path: Path) -> None:
    series = make_series(["reference"], 1, days=12, auctions=False)
    series["reference"][0]["daily"].loc[3:6, "repo_dispersion_bp"] = np.nan
    fig = experiment_panels_figure(series, "short")
    missing = [t for t in texts(fig) if "not available" in t]
    assert len(missing) == 1 and "auction tails" in missing[0]
    assert_png(draw_experiment_panels(series, tmp_path / "p.png", "short"))


def test_experiment_panels_draw_tails_per_variant() -> None:
    series = make_series(["reference", "qt"], 3, days=40)
    auctions = series["qt"][0]["auctions"]
    auctions["tenor_group"] = auctions["tenor_group"].astype(object)
    auctions.loc[0, "tenor_group"], auctions.loc[1, "tail_bp"] = None, np.nan  # an unmapped security, a missing WI
    fig = experiment_panels_figure(series, "t")
    tails = fig.axes[1]
    assert not any("not available" in t.get_text() for t in tails.texts)
    assert [t.get_text() for t in tails.get_legend().get_texts()] == ["bills", "2-7y", "10y+", "other"]
    assert len(tails.lines) >= 2  # one monthly-mean line per variant (plus the zero line)
    assert len(tails.collections) > 0


# ---------------------------------------------------------------- stress x fix matrix
def test_stress_matrix_marks_significant_cells_and_greys_missing(tmp_path: Path) -> None:
    matrix = make_matrix(["repo-spike", "auction-glut", "fails"], ["srf", "central-clearing"])
    drop = (matrix["stress"] == "fails") & (matrix["fix"] == "srf") & (matrix["metric"] == "throughput_index")
    matrix = matrix[~drop]
    fig = stress_matrix_figure(matrix, "m")
    heat = fig.axes[0]
    shown = matrix[matrix["metric"] == "throughput_index"]
    expected = int(significant(shown["ci_low"], shown["ci_high"]).sum())
    starred = [t for t in heat.texts if t.get_text().endswith("*")]
    assert expected > 0 and len(starred) == expected
    assert all(t.get_fontweight() == "bold" for t in starred)
    assert sum(t.get_text() == "no data" for t in heat.texts) == 1
    mask = np.ma.getmaskarray(heat.images[0].get_array())
    assert mask[0, 2] and mask.sum() == 1  # row srf, column fails
    low, high = heat.images[0].get_clim()
    assert low == -high > -np.inf  # symmetric about zero
    assert_png(draw_stress_matrix(matrix, tmp_path / "m.png", "m"), min_width=300)


def test_stress_matrix_nan_ci_and_unknown_metric(tmp_path: Path) -> None:
    matrix = make_matrix(["s"], ["f"]).assign(ci_low=np.nan, ci_high=np.nan, n=1)
    fig = stress_matrix_figure(matrix, "one", metrics=("throughput_index", "absent_metric", "reserves_mean_bn"))
    assert not any(t.endswith("*") for t in texts(fig))  # n=1: no interval, nothing marked
    assert sum("not available" in t for t in texts(fig)) == 1
    empty = pd.DataFrame(columns=["stress", "fix", "metric", "difference", "ci_low", "ci_high", "n"])
    assert_png(draw_stress_matrix(empty, tmp_path / "e.png", "empty"), min_width=300)


# ---------------------------------------------------------------- atomic writes
def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "m.png"
    path.write_bytes(b"old")

    def refuse(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("sim.files.os.replace", refuse)
    with pytest.raises(OSError):
        draw_stress_matrix(make_matrix(["s"], ["f"]), path, "m")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["m.png"]
    monkeypatch.undo()
    draw_stress_matrix(make_matrix(["s"], ["f"]), path, "m")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o644)
