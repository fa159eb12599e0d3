"""Dashboard scoring: z-scores against an ensemble and a single reference, traffic lights, the
stress and throughput indices, JSON round trips, simulated-vs-real distances and the figures."""

from __future__ import annotations

import copy
import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sim import TreasuryMarketModel
from sim.dashboard import METRIC_SPECS, Dashboard, compute_dashboard, distribution_distances, score, weekly_fails
from sim.dashboard.plots import draw_dashboard, draw_overlay
from sim.dashboard.scoring import FLOOR_BY_UNIT, TYPICAL_REL, format_value, light_for
from sim.scenario import Scenario


@pytest.fixture(scope="module")
def sim_tables() -> dict[str, pd.DataFrame]:
    scenario = Scenario().model_copy(update={"end_date": dt.date(2025, 4, 30)})
    return TreasuryMarketModel(scenario, seed=1).run().results()


@pytest.fixture(scope="module")
def dashboard(sim_tables) -> Dashboard:
    return compute_dashboard(sim_tables, "baseline seed 1")


def real_shaped(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The simulated numbers cut to what public sources publish."""
    daily = tables["daily"][["date", "sofr_p1_pct", "sofr_p25_pct", "sofr_median_pct", "sofr_p75_pct", "sofr_p99_pct",
                             "iorb_pct", "on_rrp_bn", "reserves_bn", "tga_bn", "is_month_end", "is_quarter_end",
                             "is_tax_date", "is_settlement_date"]]  # fmt: skip
    auctions = tables["auctions"].assign(wi_yield_pct=np.nan, tail_bp=np.nan)
    return {"daily": daily, "auctions": auctions, "fails_weekly": weekly_fails(tables["daily"])}


def stressed(dashboard: Dashboard, factor: float = 3.0) -> Dashboard:
    """The same dashboard with repo dispersion, tails, fails and bid/ask tripled and fill cut."""
    worse = copy.deepcopy(dashboard)
    worse.label = "stressed"
    for name in ("repo_dispersion_mean_bp", "repo_dispersion_p90_bp", "tail_mean_bp", "tail_p90_bp",
                 "fails_weekly_mean_bn", "fails_weekly_p90_bn", "bid_ask_mean_bp", "bid_ask_p90_bp",
                 "dealer_utilization_mean"):  # fmt: skip
        worse.metrics[name] = worse.metrics[name] * factor
    worse.metrics["fill_ratio_mean"] = worse.metrics["fill_ratio_mean"] / factor
    return worse


# ---------------------------------------------------------------- ensembles and lights
def test_identical_ensemble_is_all_green_with_zero_indices(dashboard):
    dashboard = copy.deepcopy(dashboard)
    dashboard.metrics["fails_specials_corr"] = None  # as where the data lack specials
    card = score(dashboard, [dashboard, copy.deepcopy(dashboard), copy.deepcopy(dashboard)])
    lights = card.lights()
    assert set(lights.values()) <= {"green", "n/a"}
    assert lights["fails_specials_corr"] == "n/a"  # not available on either side
    assert card.stress_index == pytest.approx(0.0)
    assert all(v == pytest.approx(0.0) for v in card.stress_by_panel.values())
    assert card.throughput_index == pytest.approx(0.0)
    assert card.reference.startswith("ensemble of 3")


def test_stressed_dashboard_gets_red_lights_and_positive_indices(dashboard):
    card = score(stressed(dashboard), [dashboard] * 3)
    lights = card.lights()
    for name in ("repo_dispersion_mean_bp", "tail_mean_bp", "fails_weekly_mean_bn", "bid_ask_mean_bp",
                 "fill_ratio_mean", "dealer_utilization_mean"):  # fmt: skip
        assert lights[name] == "red", name
    assert card.stress_index > 0
    assert all(card.stress_by_panel[p] > 0 for p in ("A", "B", "C"))
    assert card.throughput_index > 0  # positive = less throughput
    # Lights are direction-aware: the mirror image (calmer, more throughput) stays green.
    calm = score(stressed(dashboard, 1 / 3), [dashboard] * 3)
    assert calm.lights()["repo_dispersion_mean_bp"] == "green"
    assert calm.lights()["fill_ratio_mean"] == "green"
    assert calm.stress_index < 0 and calm.throughput_index < 0


def test_ensemble_z_and_percentile_by_hand():
    spec = METRIC_SPECS["repo_dispersion_mean_bp"]
    members = [Dashboard(f"m{i}", (None, None), {spec.name: v}) for i, v in enumerate([10.0, 12.0, 14.0])]
    card = score(Dashboard("x", (None, None), {spec.name: 16.0}), members)
    s = next(s for s in card.scores if s.name == spec.name)
    # Mean 12, standard deviation (ddof 1) 2: z = 2, red; above all three members.
    assert (s.reference, s.scale, s.z, s.percentile, s.light) == (12.0, 2.0, 2.0, 100.0, "red")
    assert card.stress_by_panel["A"] == pytest.approx(2.0)
    assert card.stress_index == pytest.approx(2.0)  # only panel A has data
    assert card.throughput_index is None


def test_single_reference_uses_the_typical_dispersion():
    ref = Dashboard("ref", (None, None), {"repo_dispersion_mean_bp": 10.0, "reserves_mean_bn": 3000.0,
                                          "fill_ratio_mean": 0.9, "tail_share_ge_1bp": 0.0})  # fmt: skip
    run = Dashboard("run", (None, None), {"repo_dispersion_mean_bp": 13.0, "reserves_mean_bn": 2000.0,
                                          "fill_ratio_mean": 0.99, "tail_share_ge_1bp": 0.01})  # fmt: skip
    scores = {s.name: s for s in score(run, ref).scores}
    # 13 vs 10 with a 20% typical dispersion: z = 3 / 2 = 1.5, amber.
    assert scores["repo_dispersion_mean_bp"].z == pytest.approx(3.0 / (TYPICAL_REL * 10.0))
    assert scores["repo_dispersion_mean_bp"].light == "amber"
    # The reservoir has no direction: a move either way counts (|z| = 1.67, amber).
    assert scores["reserves_mean_bn"].z == pytest.approx(-1000.0 / 600.0)
    assert scores["reserves_mean_bn"].light == "amber"
    # More throughput is never a warning.
    assert scores["fill_ratio_mean"].light == "green"
    # A zero reference falls back on the unit's floor: 0.01 / 0.02.
    assert scores["tail_share_ge_1bp"].z == pytest.approx(0.01 / FLOOR_BY_UNIT["share"])
    assert scores["repo_spike_days"].light == "n/a"


def test_light_thresholds():
    assert [light_for(z) for z in (-5.0, 0.99, 1.0, 1.99, 2.0, None)] == ["green", "green", "amber", "amber", "red",
                                                                          "n/a"]  # fmt: skip


# ---------------------------------------------------------------- serialisation and text
def test_dashboard_json_round_trip(dashboard):
    dashboard = copy.deepcopy(dashboard)
    dashboard.metrics["fails_specials_corr"] = None  # missing values travel as null
    text = json.dumps(dashboard.to_dict(), allow_nan=False)
    again = Dashboard.from_dict(json.loads(text))
    assert again == dashboard
    entry = json.loads(text)["metrics"]["repo_dispersion_mean_bp"]
    assert (entry["unit"], entry["panel"], entry["direction"]) == ("bp", "A", "stress")
    assert json.loads(text)["metrics"]["fails_specials_corr"]["value"] is None
    assert dashboard.period == ("2025-01-02", "2025-04-30")


def test_reads_the_earlier_flat_dashboard_json():
    old = {"scenario": "baseline", "seed": 7, "start_date": "2025-01-02", "end_date": "2025-03-27",
           "metrics": {"reserves_mean_bn": 3000.0, "fails_mean_bn": None}}  # fmt: skip
    dashboard = Dashboard.from_dict(old)
    assert dashboard.label == "baseline" and dashboard.period == ("2025-01-02", "2025-03-27")
    assert dashboard.metrics == {"reserves_mean_bn": 3000.0, "fails_mean_bn": None}
    assert dashboard.spec("fails_mean_bn").direction == "neither"  # a name this version does not score


def test_format_value():
    assert [format_value(v, u) for v, u in ((-0.001, "bp"), (3012.44, "$bn"), (None, "share"), (0.5, "share"),
                                             (3.0, "count"))] == ["0.00", "3,012.4", "n/a", "0.500", "3"]  # fmt: skip


def test_scorecard_to_dict_and_table(dashboard):
    dashboard = copy.deepcopy(dashboard)
    dashboard.metrics["fails_specials_corr"] = None
    card = score(stressed(dashboard), dashboard)
    data = json.loads(json.dumps(card.to_dict(), allow_nan=False))
    assert data["scores"]["tail_mean_bp"]["light"] == "red"
    assert data["stress_index"] == pytest.approx(card.stress_index)
    text = card.table()
    assert "Plumbing-stress index" in text and "Throughput index" in text
    label = METRIC_SPECS["repo_dispersion_mean_bp"].label
    assert label in text and "repo_dispersion_mean_bp" not in text and "red" in text
    assert METRIC_SPECS["fails_specials_corr"].label not in card.table(only_available=True)


def test_real_shaped_dashboard_scores_without_errors(sim_tables, dashboard):
    real = compute_dashboard(real_shaped(sim_tables), "real-shaped")
    card = score(real, dashboard)
    lights = card.lights()
    assert lights["bid_ask_mean_bp"] == "n/a" and lights["tail_mean_bp"] == "n/a"
    assert lights["repo_dispersion_mean_bp"] == "green"  # the same numbers
    assert card.throughput_index is None  # real data publish no pipe
    assert card.stress_index == pytest.approx(0.0)


# ---------------------------------------------------------------- simulated vs real
def test_distribution_distances(sim_tables):
    same = distribution_distances(sim_tables, real_shaped(sim_tables)).set_index("metric")
    assert same.loc["repo_dispersion_bp", "ks_statistic"] == pytest.approx(0.0)
    assert same.loc["fails_weekly_bn", "difference"] == pytest.approx(0.0)
    assert same.loc["dealer_share:bills", "n_sim"] == same.loc["dealer_share:bills", "n_real"] > 0
    # Shift the real repo distribution by 5 bp: the statistic is scipy's on the same samples.
    real = real_shaped(sim_tables)
    real["daily"] = real["daily"].assign(sofr_p99_pct=real["daily"]["sofr_p99_pct"] + 0.05)
    shifted = distribution_distances(sim_tables, real).set_index("metric")
    a = (sim_tables["daily"]["sofr_p99_pct"] - sim_tables["daily"]["sofr_p1_pct"]) * 100
    b = (real["daily"]["sofr_p99_pct"] - real["daily"]["sofr_p1_pct"]) * 100
    expected = stats.ks_2samp(a, b)
    assert shifted.loc["repo_dispersion_bp", "ks_statistic"] == pytest.approx(expected.statistic)
    assert shifted.loc["repo_dispersion_bp", "ks_pvalue"] == pytest.approx(expected.pvalue)
    assert shifted.loc["repo_dispersion_bp", "difference"] == pytest.approx(-5.0)
    # Nothing on one side: NaN, not an exception.
    empty = distribution_distances(sim_tables, {}).set_index("metric")
    assert empty["ks_statistic"].isna().all() and (empty["n_real"] == 0).all()


def test_figures_are_written_for_both_shapes(tmp_path, sim_tables, dashboard):
    card = score(stressed(dashboard), dashboard)
    sim_png = draw_dashboard(sim_tables, dashboard, tmp_path / "sim.png", card)
    real = real_shaped(sim_tables)
    real_png = draw_dashboard(real, compute_dashboard(real, "real-shaped"), tmp_path / "real.png")
    overlay = draw_overlay(sim_tables, real, tmp_path / "overlay.png")
    for path in (sim_png, real_png, overlay):
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size < 400_000
    draw_dashboard({}, compute_dashboard({}, "nothing"), tmp_path / "empty.png")


# ---------------------------------------------------------------- against the real market
def test_against_real_data_lights_measure_distance_not_direction(dashboard):
    real = copy.deepcopy(dashboard)
    real.label = "real"
    # Reality had 49 spike days and calmer dispersion; a run with none is far from it, not "good".
    real.metrics["repo_spike_days"] = 49.0
    real.metrics["repo_dispersion_mean_bp"] = dashboard.metrics["repo_dispersion_mean_bp"] * 3
    real.metrics["bid_ask_mean_bp"] = None  # not in the public files
    versus_runs = score(dashboard, real)
    versus_real = score(dashboard, real, real="reference")
    for name in ("repo_spike_days", "repo_dispersion_mean_bp"):
        assert versus_runs.lights()[name] == "green", "between runs, calmer is green"
        assert versus_real.lights()[name] == "red", "against reality, far is off whichever the direction"
    text = versus_real.table(only_available=True)
    assert "Match to reality" in text and "Simulated" in text and "Real" in text
    spike_line = next(line for line in text.splitlines() if METRIC_SPECS["repo_spike_days"].label in line)
    assert spike_line.rstrip().endswith("off") and "-5.00" in spike_line  # 0 against 49 days: z = -1 / 0.2
    bid_ask_line = next(line for line in text.splitlines() if METRIC_SPECS["bid_ask_mean_bp"].label in line)
    assert "not published" in bid_ask_line and "nan" not in text
    # The indices keep their direction: + = more stress than the real period.
    assert versus_real.stress_index == pytest.approx(versus_runs.stress_index)
    assert json.loads(json.dumps(versus_real.to_dict()))["lights_mean"] == "distance to the real market"


def test_one_z_rule_shown_everywhere():
    from sim.dashboard.scoring import format_z

    assert [format_z(z) for z in (None, 0.0, 4.996, 5.0, 5.01, 32.18, -10.0)] == [
        "n/a", "+0.00", "+5.00", "+5.00", ">+5", ">+5", "<-5"
    ]  # fmt: skip


def test_distances_text_names_each_distribution_and_marks_what_is_not_published(sim_tables):
    from sim.dashboard.scoring import distances_text

    real = real_shaped(sim_tables)
    text = distances_text(distribution_distances(sim_tables, {"daily": real["daily"]}))
    assert "SOFR 99th-1st percentile dispersion, daily" in text and "nan" not in text
    fails_line = next(line for line in text.splitlines() if line.startswith("Fails to deliver"))
    assert "not published" in fails_line
