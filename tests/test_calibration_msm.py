"""Method of simulated moments: a fit recovers the parameters that generated its targets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import pytest

from sim import TreasuryMarketModel
from sim.calibration.msm import Calibration, Parameter, Target, apply_parameters, fitted_fragment, loss
from sim.scenario import scenario_from_dict

# A short, small market so each evaluation takes a fraction of a second.
TOY_BASE = {
    "start_date": dt.date(2025, 3, 3),
    "end_date": dt.date(2025, 4, 30),
    "dealers": {"count": 8},
    "real_money": {"count": 10},
    "levered_funds": {"count": 4},
    # Every fund has the ON RRP, lends at one rate whatever share of its cash it lends (no
    # slope) and to any dealer (no limit rations them), so the lowest repo rate is the funds'
    # floor (pinned by one parameter).
    "money_funds": {"count": 5, "no_facility_share": 0.0, "ask_slope_bp": 0.0, "counterparty_limit_share": 1.0},
    "banks": {"count": 6},
    # Lenders take their ask (no share of the gap, no trade noise): the floor is observable.
    "repo": {"bargaining_share": 0.0, "trade_noise_bp": 0.0},
}
TRUE = {"dealers.half_spread_bp": 0.25, "money_funds.min_spread_over_rrp_bp": 2.0}


def toy_moments(tables: Mapping[str, Any]) -> dict[str, float]:
    """Bid/ask (bp) and the lowest repo rate over the ON RRP rate (bp), each pinned by one parameter."""
    daily = tables["daily"]
    return {
        "bid_ask_mean_bp": float(daily["bid_ask_bp"].mean()),
        "repo_p1_over_on_rrp_bp": float(((daily["repo_p1_pct"] - daily["on_rrp_rate_pct"]) * 100).mean()),
    }


def test_apply_parameters_and_loss():
    data = apply_parameters(TOY_BASE, TRUE)
    assert data["dealers"] == {"count": 8, "half_spread_bp": 0.25}
    assert data["money_funds"] == {
        "count": 5,
        "no_facility_share": 0.0,
        "ask_slope_bp": 0.0,
        "counterparty_limit_share": 1.0,
        "min_spread_over_rrp_bp": 2.0,
    }
    assert scenario_from_dict(data).money_funds.min_spread_over_rrp_bp == 2.0
    targets = [Target("a", 1.0, 0.5), Target("b", 2.0, 0.0, floor=1.0)]
    assert loss({"a": 2.0, "b": 2.0}, targets) == pytest.approx(4.0)
    assert loss({"a": None, "b": 2.0}, targets) >= 1e6
    text = fitted_fragment(TRUE, "fit of a toy")
    assert text.startswith("# fit of a toy\n") and "half_spread_bp: 0.25" in text


@pytest.mark.slow
def test_calibration_recovers_known_parameters():
    true_scenario = scenario_from_dict(apply_parameters(TOY_BASE, TRUE))
    truth = toy_moments(TreasuryMarketModel(true_scenario, seed=4).run().results())
    # Targets measured to 2% (their standard errors), the precision the fit is judged by.
    targets = [Target(name, value, 0.02 * abs(value)) for name, value in truth.items()]
    fit = Calibration(
        TOY_BASE,
        [Parameter("dealers.half_spread_bp", 0.05, 0.8), Parameter("money_funds.min_spread_over_rrp_bp", 0.0, 6.0)],
        targets,
        moments="tests.test_calibration_msm:toy_moments",
        seeds=[4],  # common random numbers: the seed of the targets
        workers=1,
    )
    best, history = fit.run(trials=60, sampler_seed=1)
    assert len(history) == 60 and min(history) == pytest.approx(best.loss)
    # Within 10% of the truth on both parameters.
    for key, value in TRUE.items():
        assert best.params[key] == pytest.approx(value, rel=0.10), f"{key}: fitted {best.params[key]:.3f}"


def test_a_new_search_starts_from_the_given_point_clipped_to_the_box(tmp_path):
    # The first trial of a new study is the start (so a re-fit never ends worse than the fit it
    # replaces); a key outside the box is ignored, a value outside it clipped; a resumed study
    # does not evaluate the start again.
    fit = Calibration(
        TOY_BASE,
        [Parameter("dealers.half_spread_bp", 0.05, 0.8), Parameter("money_funds.min_spread_over_rrp_bp", 0.0, 6.0)],
        [Target("bid_ask_mean_bp", 1.0, 0.1)],
        moments="tests.test_calibration_msm:toy_moments",
        seeds=[4],
        workers=1,
    )
    start = {"dealers.half_spread_bp": 0.3, "money_funds.min_spread_over_rrp_bp": 9.0, "repo.rounds_per_day": 3}
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    _, history = fit.run(trials=2, storage=storage, study_name="s", sampler_seed=1, start=start)
    import optuna

    trials = optuna.load_study(study_name="s", storage=storage).trials
    assert trials[0].params == {"dealers.half_spread_bp": 0.3, "money_funds.min_spread_over_rrp_bp": 6.0}
    _, history = fit.run(
        trials=3, storage=storage, study_name="s", sampler_seed=1, start={"dealers.half_spread_bp": 0.7}
    )
    trials = optuna.load_study(study_name="s", storage=storage).trials
    assert len(history) == 3 and all(t.params["dealers.half_spread_bp"] != 0.7 for t in trials)
