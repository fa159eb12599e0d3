"""Parameter uncertainty: the fit's near-optimal sets (`plumbing near-optimal`) and experiments run over them."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from sim.calibration.near_optimal import Candidate, Margin, loss_noise_sd, near_optimal, near_optimal_margin
from sim.cli import main
from sim.experiments import ExperimentError, load_experiment, run_experiment
from sim.experiments.uncertainty import crossed_interval, load_parameter_sets
from sim.scenario import ScenarioError
from tests.conftest import SMALL_POPULATIONS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


# ---------------------------------------------------------------- the crossed interval
def test_crossed_interval_by_hand() -> None:
    """Two sets x three seeds: mean squares by hand, Satterthwaite's degrees of freedom by hand."""
    d = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 6.0]])
    grand = d.mean()
    set_means, seed_means = d.mean(axis=1), d.mean(axis=0)
    ms_set = 3 * ((set_means - grand) ** 2).sum() / 1
    ms_seed = 2 * ((seed_means - grand) ** 2).sum() / 2
    ms_e = ((d - set_means[:, None] - seed_means[None, :] + grand) ** 2).sum() / 2
    assert ms_set > ms_e and ms_seed > ms_e
    combined = ms_set + ms_seed - ms_e
    dof = combined**2 / (ms_set**2 / 1 + ms_seed**2 / 2 + ms_e**2 / 2)
    from scipy import stats

    half = stats.t.ppf(0.975, dof) * math.sqrt(combined / 6)
    out = crossed_interval(d)
    assert out["difference"] == pytest.approx(grand)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((grand - half, grand + half))
    assert (out["set_min"], out["set_max"]) == pytest.approx((set_means.min(), set_means.max()))


def test_crossed_interval_covers_the_mean_about_95_percent_of_the_time() -> None:
    """Simulated sets x seeds with both effects random: the interval covers the true mean near 95%."""
    rng = np.random.default_rng(5)
    covered, trials = 0, 2000
    for _ in range(trials):
        d = 1.0 + rng.normal(0, 1.0, (6, 1)) + rng.normal(0, 0.7, (1, 8)) + rng.normal(0, 0.5, (6, 8))
        out = crossed_interval(d)
        covered += out["ci_low"] <= 1.0 <= out["ci_high"]
    # Satterthwaite is approximate: coverage within 91-99% over 2,000 draws (binomial s.e. 0.5%).
    assert 0.91 <= covered / trials <= 0.99


def test_parameter_uncertainty_widens_the_interval_beyond_seed_noise() -> None:
    rng = np.random.default_rng(2)
    seeds = rng.normal(0, 0.3, (1, 6))
    calm = crossed_interval(1.0 + seeds + np.zeros((5, 1)))
    spread = crossed_interval(1.0 + seeds + np.linspace(-2, 2, 5)[:, None])
    assert (spread["ci_high"] - spread["ci_low"]) > 3 * (calm["ci_high"] - calm["ci_low"])


# ---------------------------------------------------------------- near-optimal selection
def test_loss_noise_ignores_what_a_seed_pair_does_to_every_candidate() -> None:
    # The second pair costs every candidate +50 (a hard pair for all): no noise in their order.
    candidates = [Candidate(i, 0.0, (100.0 + i, 150.0 + i), {"a": 1.0}) for i in range(4)]
    assert loss_noise_sd(candidates) == pytest.approx(0.0)
    # Differences -2, 2, 0 about their median 0: median absolute value 2, one evaluation's sd
    # 1.4826 * 2 / sqrt(2), corrected for three candidates.
    noisy = [Candidate(0, 0, (10.0, 12.0), {}), Candidate(1, 0, (20.0, 18.0), {}), Candidate(2, 0, (30.0, 30.0), {})]
    assert loss_noise_sd(noisy) == pytest.approx(1.4826 * 2 / math.sqrt(2) * (1 + 1.2 / 3))


@pytest.mark.parametrize("candidates", [6, 12, 24])
@pytest.mark.parametrize("pairs", [2, 4])
def test_loss_noise_measures_normal_noise_without_bias(candidates: int, pairs: int) -> None:
    """Normal noise of sd 20 on top of candidate and seed-pair effects: over 600 tables the mean
    estimate is within 6% of 20 (the estimate's own sd over the tables is 3-7, so the mean's
    standard error is under 0.3: 6% is the small-sample correction's allowance, not luck)."""
    rng = np.random.default_rng(candidates * 10 + pairs)
    estimates = []
    for _ in range(600):
        losses = 300 + 15 * np.arange(candidates)[:, None] + 40 * np.arange(pairs)[None, :]
        losses = losses + rng.normal(0, 20, (candidates, pairs))
        estimates.append(loss_noise_sd([Candidate(i, 0, tuple(row), {}) for i, row in enumerate(losses)]))
    assert np.mean(estimates) == pytest.approx(20, rel=0.06)


def test_one_wild_evaluation_is_paid_by_its_set_not_by_the_band() -> None:
    """A set that scores 700 on one pair (a cliff) raises its own fresh loss; the noise every set
    is judged by moves little, where the root mean square of the residuals would more than double."""
    rng = np.random.default_rng(3)
    losses = 300 + 10 * np.arange(12)[:, None] + rng.normal(0, 20, (12, 4))
    calm = loss_noise_sd([Candidate(i, 0, tuple(row), {}) for i, row in enumerate(losses)])
    losses[5, 1] = 700.0
    wild = [Candidate(i, 0, tuple(row), {}) for i, row in enumerate(losses)]
    assert loss_noise_sd(wild) < 1.3 * calm
    residual = losses - losses.mean(axis=1, keepdims=True) - losses.mean(axis=0, keepdims=True) + losses.mean()
    assert math.sqrt((residual**2).sum() / (11 * 3)) > 2 * calm
    assert 5 not in [c.trial for c in near_optimal(wild, near_optimal_margin(wild, moments=12, parameters=12))]


def _simulation_only(noise_sd: float, evaluations: int) -> Margin:
    return Margin(noise_sd, 2 * noise_sd * math.sqrt(2 / evaluations), math.nan, 0.0)


def test_near_optimal_keeps_the_candidates_within_the_margin_best_first() -> None:
    # Two evaluations each: the difference of two fresh losses has sd noise * sqrt(2 / 2).
    candidates = [Candidate(7, 200.0, (230.0, 232.0), {}), Candidate(3, 190.0, (220.0, 222.0), {}),
                  Candidate(9, 205.0, (260.0, 262.0), {})]  # fmt: skip
    assert [c.trial for c in near_optimal(candidates, _simulation_only(6.0, 2))] == [3, 7]
    assert [c.trial for c in near_optimal(candidates, _simulation_only(30.0, 2))] == [3, 7, 9]


def test_the_simulation_margin_is_two_standard_errors_of_a_difference_of_fresh_losses() -> None:
    """Four evaluations each halve the difference's variance against two; with as many moments as
    parameters the data add nothing."""
    rng = np.random.default_rng(4)
    four = [Candidate(i, 0, tuple(100.0 + 40 * i + rng.normal(0, 10, 4)), {}) for i in range(8)]
    margin = near_optimal_margin(four, moments=20, parameters=20)
    assert margin.data == 0.0 and math.isnan(margin.dispersion)
    assert margin.simulation == pytest.approx(2 * margin.noise_sd * math.sqrt(2 / 4))
    assert margin.total == margin.simulation


def test_the_data_margin_is_a_chi_square_scaled_by_the_fits_dispersion() -> None:
    """Best fresh loss 240 over 49 moments less 37 parameters: dispersion 20, and the data's margin
    3.84 (chi-square, one degree of freedom, 95%) times that; a set 60 above the best is kept,
    one 100 above is not (the simulation's margin here is a few units)."""
    candidates = [Candidate(0, 0, (240.0, 241.0, 239.0, 240.0), {}), Candidate(1, 0, (300.0, 302.0, 299.0, 299.0), {}),
                  Candidate(2, 0, (340.0, 339.0, 341.0, 340.0), {})]  # fmt: skip
    margin = near_optimal_margin(candidates, moments=49, parameters=37)
    assert margin.dispersion == pytest.approx(240.0 / 12)
    assert margin.data == pytest.approx(3.8415 * 20.0, rel=1e-4)
    assert margin.simulation < 5.0
    assert [c.trial for c in near_optimal(candidates, margin)] == [0, 1]
    # The worse the best set fits, the less the data can tell sets apart.
    worse = [Candidate(c.trial, 0, tuple(v + 240.0 for v in c.fresh_losses), {}) for c in candidates]
    assert [c.trial for c in near_optimal(worse, near_optimal_margin(worse, 49, 37))] == [0, 1, 2]


def _tiny_fit(folder: Path, **extra: Any) -> Path:
    """A calibration config of one parameter and one moment over a month of a small market."""
    (folder / "targets.yaml").write_text(yaml.safe_dump({"moments": [
        {"name": "repo_dispersion_ordinary_mean_bp", "value": 18.0, "se": 1.0, "unit": "bp", "level_comparable": True},
    ]}))  # fmt: skip
    config = folder / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "name": "tiny", "targets": "targets.yaml", "start_date": "2025-03-03", "end_date": "2025-03-31",
        "scenario": {"warmup_business_days": 0, **SMALL_POPULATIONS},
        "parameters": [{"key": "repo.trade_noise_bp", "low": 0.5, "high": 3.0}],
        "seeds": [1], "workers": 1, "trials": 3, "fitted": "out/tiny.yaml", "report": "out/report", **extra,
    }))  # fmt: skip
    return config


def test_the_confirmation_takes_the_best_trials_and_the_fit_the_search_started_from(tmp_path: Path) -> None:
    import optuna

    from sim.calibration.fit import calibration_windows, load_config, search_problem
    from sim.calibration.near_optimal import best_trials

    config = load_config(_tiny_fit(tmp_path))
    fitted = tmp_path / "out" / "tiny.yaml"
    fitted.parent.mkdir()
    study = optuna.create_study(study_name="tiny", storage=f"sqlite:///{fitted.with_suffix('.study.db')}")
    study.set_user_attr("problem", search_problem(config, calibration_windows(config)))
    distribution = {"repo.trade_noise_bp": optuna.distributions.FloatDistribution(0.5, 3.0)}
    for value, loss in ((1.0, 50.0), (1.5, 10.0), (2.0, 20.0), (2.5, 30.0)):  # trial 0 started the search
        study.add_trial(optuna.trial.create_trial(params={"repo.trade_noise_bp": value}, distributions=distribution,
                                                  value=loss))  # fmt: skip
    assert [number for number, _, _ in best_trials(config, fitted, 2)] == [1, 2, 0]
    assert [number for number, _, _ in best_trials(config, fitted, 4)] == [1, 2, 3, 0]
    assert best_trials(config, fitted, 2)[-1][2] == {"repo.trade_noise_bp": 1.0}


def test_near_optimal_command_evaluates_the_best_trials_again(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    config = _tiny_fit(tmp_path)
    assert main(["near-optimal", str(config), "--quiet"]) == 2  # no fit yet: the study is missing
    assert "plumbing calibrate" in capsys.readouterr().err
    assert main(["calibrate", str(config), "--quiet"]) == 0
    assert main(["near-optimal", str(config), "--candidates", "3", "--quiet"]) == 0
    written = tmp_path / "out" / "tiny.near_optimal.yaml"
    data = yaml.safe_load(written.read_text())
    kept, rejected = data["sets"], data["rejected"]
    assert len(kept) + len(rejected) == 3 and kept  # the 3 trials: the best by loss and the first among them
    assert [s["fresh_loss"] for s in kept] == sorted(s["fresh_loss"] for s in kept)
    assert data["loss_noise_sd"] >= 0 and data["margin"] >= 0
    sets = load_parameter_sets(written)
    assert all(0.5 <= values["repo.trade_noise_bp"] <= 3.0 for values in sets.values())


# ---------------------------------------------------------------- experiments over parameter sets
def _sets_file(folder: Path) -> Path:
    path = folder / "sets.yaml"
    path.write_text(yaml.safe_dump({"fit": "test", "sets": [
        {"name": "best", "parameters": {"repo.trade_noise_bp": 1.0, "real_money.bid_through_bp": 4.0}},
        {"name": "other", "parameters": {"repo.trade_noise_bp": 2.5, "real_money.bid_through_bp": 7.0}},
    ]}))  # fmt: skip
    return path


def _experiment(folder: Path, **extra: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, shipped in (("ref", "reserve_scarcity.yaml"), ("qe", "reserve_scarcity_qe_40b_bills.yaml")):
        data = {"extends": str(SCENARIOS / shipped), "warmup_business_days": 0, **SMALL_POPULATIONS}
        (folder / f"{name}.yaml").write_text(json.dumps(data), encoding="utf-8")
    spec = {"name": "sets", "reference": "ref.yaml", "variants": {"qe": "qe.yaml"}, "seeds": [1, 2],
            "start_date": "2025-07-01", "end_date": "2025-08-15", **extra}  # fmt: skip
    path = folder / "experiment.yaml"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def test_experiment_over_parameter_sets_pairs_within_each_set(tmp_path: Path) -> None:
    path = _experiment(tmp_path / "spec", parameter_sets="sets.yaml")
    _sets_file(tmp_path / "spec")
    findings = run_experiment(path, tmp_path / "out", workers=1)
    runs = sorted(p.name for p in (tmp_path / "out" / "sets" / "runs").glob("*.json"))
    assert runs == sorted(f"{s}.{label}-seed{seed}.json" for s in ("best", "other") for label in ("reference", "qe")
                          for seed in (1, 2))  # fmt: skip
    table = findings.table.set_index("metric")
    assert (table["n"] == 4).all() and (table["parameter_sets"] == 2).all()
    # The best set's own columns are what the experiment finds with that set written in as overrides.
    alone = _experiment(tmp_path / "alone", overrides={"repo": {"trade_noise_bp": 1.0},
                                                       "real_money": {"bid_through_bp": 4.0}})  # fmt: skip
    plain = run_experiment(alone, tmp_path / "out_alone", workers=1).table.set_index("metric")
    for metric in ("reserves_mean_bn", "repo_dispersion_mean_bp", "throughput_index"):
        assert table.at[metric, "best_set_difference"] == pytest.approx(plain.at[metric, "difference"])
        assert table.at[metric, "best_set_ci_low"] == pytest.approx(plain.at[metric, "ci_low"], nan_ok=True)
        assert table.at[metric, "set_min"] <= table.at[metric, "difference"] <= table.at[metric, "set_max"]
    # Purchases add reserves under every set.
    assert table.at["reserves_mean_bn", "set_min"] > 0
    text = (tmp_path / "out" / "sets" / "findings.md").read_text()
    assert "2 near-optimal parameter sets" in text and "best set 95% CI (seeds)" in text


def test_bad_parameter_sets_are_located_errors(tmp_path: Path) -> None:
    missing = _experiment(tmp_path / "a", parameter_sets="nowhere.yaml")
    with pytest.raises(ExperimentError) as err:
        load_experiment(missing)
    assert any(p.key_path == "parameter_sets" and "nowhere.yaml" in p.found for p in err.value.problems)
    folder = tmp_path / "b"
    bad = _experiment(folder, parameter_sets="sets.yaml")
    (folder / "sets.yaml").write_text(yaml.safe_dump({"fit": "x", "sets": [
        {"name": "s1", "parameters": {"repo.no_such_key": 1.0}}]}))  # fmt: skip
    with pytest.raises(ExperimentError) as err:
        load_experiment(bad)
    assert any("sets[s1]" in p.key_path and str(folder / "sets.yaml") == p.file for p in err.value.problems)
    (folder / "sets.yaml").write_text(yaml.safe_dump({"fit": "x", "sets": []}))
    with pytest.raises(ExperimentError):
        load_experiment(bad)


def test_shipped_near_optimal_file_loads_and_applies_to_the_qe_experiments() -> None:
    path = ROOT / "calibration" / "fitted" / "baseline.near_optimal.yaml"
    if not path.exists():
        pytest.skip("no near-optimal file shipped")
    # As many sets as the fit's confirmation kept (one, when no other trial lies within the loss's
    # noise of the best: calibration/reports/baseline/report.md, "The fit on fresh seeds").
    sets = load_parameter_sets(path)
    assert len(sets) >= 1
    for name in ("qe_abundant_parameter_uncertainty", "qe_scarce_parameter_uncertainty"):
        experiment = load_experiment(SCENARIOS / "experiments" / f"{name}.yaml")
        assert experiment.parameter_sets == sets


def test_each_set_opens_the_scarce_market_at_the_same_distance_from_its_comfortable_level(tmp_path: Path) -> None:
    # Sets that disagree on banks' comfortable level each run the scarce market as scarce against
    # their own level (banks.reserves_per_comfortable), and the abundant one at the same dollars.
    from sim.scenario import load_scenario, scenario_from_dict

    multiple = load_scenario(SCENARIOS / "reserve_scarcity.yaml").banks.reserves_per_comfortable
    assert multiple is not None
    sets = tmp_path / "sets.yaml"
    sets.write_text(yaml.safe_dump({"fit": "test", "sets": [
        {"name": "high", "parameters": {"banks.lowest_comfortable_reserves_bn": 2600.0}},
        {"name": "low", "parameters": {"banks.lowest_comfortable_reserves_bn": 1900.0}},
    ]}))  # fmt: skip
    for name, scarce in (("qe_scarce_parameter_uncertainty", True), ("qe_abundant_parameter_uncertainty", False)):
        spec = yaml.safe_load((SCENARIOS / "experiments" / f"{name}.yaml").read_text())
        for key in ("reference", *([] if "variants" not in spec else ["variants"])):
            value = spec[key]
            spec[key] = (str(SCENARIOS / "experiments" / value) if isinstance(value, str)
                         else {k: str(SCENARIOS / "experiments" / v) for k, v in value.items()})  # fmt: skip
        spec["parameter_sets"] = str(sets)
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(spec), encoding="utf-8")
        opening = {}
        for task in load_experiment(path).tasks():
            banks = scenario_from_dict(task.scenario).banks
            opening[task.label] = (banks.reserves_bn, banks.lowest_comfortable_reserves_bn)
        assert {label.split(".")[0] for label in opening} == {"high", "low"}
        for reserves, lowest in opening.values():
            if scarce:
                assert reserves == pytest.approx(multiple * lowest)
            else:
                assert reserves == opening["high.reference"][0]


def test_a_parameter_sets_file_must_be_a_near_optimal_file(tmp_path: Path) -> None:
    path = tmp_path / "sets.yaml"
    path.write_text("sets: [{name: a, parameters: {x.y: 1}}]\n")
    with pytest.raises(ScenarioError) as err:
        load_parameter_sets(path)
    assert "fit" in str(err.value)


def test_calibrate_with_confirmation_fits_the_best_trial_on_fresh_seeds(tmp_path: Path) -> None:
    config = _tiny_fit(tmp_path, confirm_candidates=3)
    assert main(["calibrate", str(config), "--quiet"]) == 0
    fitted = yaml.safe_load((tmp_path / "out" / "tiny.yaml").read_text())
    best_fresh = next(iter(load_parameter_sets(tmp_path / "out" / "tiny.near_optimal.yaml").values()))
    assert fitted["repo"]["trade_noise_bp"] == pytest.approx(best_fresh["repo.trade_noise_bp"])
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "## The fit on fresh seeds" in report and "| near-optimal |" in report
