"""The stress-test matrix: fixes as what they set on top of the baseline, the scenarios a matrix
implies, twin runs simulated once, the matrix table and its located errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.experiments import ExperimentError, load_any, run_experiment, simulate_run
from sim.experiments import runner as runner_module
from sim.experiments.matrix import apply_fix, fix_fragment, matrix_table
from sim.experiments.runner import Experiment

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _yaml(path: Path, data: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture
def spec_folder(tmp_path: Path) -> Path:
    """A quick baseline (no warm-up, two months), two stresses and three fixes written as the
    baseline plus the fix."""
    folder = tmp_path / "spec"
    _yaml(folder / "base.yaml", {"extends": str(SCENARIOS / "baseline.yaml"), "warmup_business_days": 0,
                                 "start_date": "2025-03-03", "end_date": "2025-04-30"})  # fmt: skip
    _yaml(folder / "scarce.yaml", {"extends": "base.yaml", "name": "scarce", "banks": {"reserves_bn": 2400},
                                   "central_bank": {"srf": {"enabled": False}}})  # fmt: skip
    _yaml(folder / "shock.yaml", {"extends": "base.yaml", "name": "shock", "start_date": "2025-03-10",
                                  "shocks": [{"kind": "risk_off", "date": "2025-03-17", "days": 5}]})  # fmt: skip
    _yaml(folder / "srf.yaml", {"extends": "base.yaml", "name": "fix_srf", "central_bank": {"srf": {"enabled": True}}})
    _yaml(folder / "slr_step.yaml", {"extends": "base.yaml", "dealers": {"exempt_treasuries_from_slr": True}})
    jump = {"kind": "volatility_jump", "date": "2025-03-20", "multiplier": 1.2}
    _yaml(folder / "slr.yaml", {"extends": "slr_step.yaml", "name": "fix_slr", "description": "SLR relief",
                                "shocks": [jump]})  # fmt: skip
    return folder


def _matrix(folder: Path, **changes: Any) -> Path:
    data = {"name": "m", "baseline": "base.yaml", "stresses": {"scarce": "scarce.yaml", "shock": "shock.yaml"},
            "fixes": {"srf": "srf.yaml", "slr": "slr.yaml"}, "seeds": [1, 2]} | changes  # fmt: skip
    return _yaml(folder / "matrix.yaml", data)


def test_a_fix_is_what_its_files_set_on_the_way_from_the_baseline(spec_folder: Path) -> None:
    fragment = fix_fragment(spec_folder / "slr.yaml", spec_folder / "base.yaml")
    # Both files of the chain contribute; name and description are not part of the fix.
    assert fragment == {"dealers": {"exempt_treasuries_from_slr": True},
                        "shocks": [{"kind": "volatility_jump", "date": "2025-03-20", "multiplier": 1.2}]}  # fmt: skip
    # A value equal to the baseline's still counts: it switches the SRF on where a stress switched it off.
    assert fix_fragment(spec_folder / "srf.yaml", spec_folder / "base.yaml") == {
        "central_bank": {"srf": {"enabled": True}}
    }


def test_apply_fix_sets_keys_and_adds_shocks() -> None:
    stress = {"banks": {"reserves_bn": 1.0, "count": 3}, "shocks": [{"kind": "a"}]}
    fixed = apply_fix(stress, {"banks": {"reserves_bn": 2.0}, "shocks": [{"kind": "b"}, {"kind": "a"}]})
    assert fixed == {"banks": {"reserves_bn": 2.0, "count": 3}, "shocks": [{"kind": "a"}, {"kind": "b"}]}
    assert stress["banks"]["reserves_bn"] == 1.0, "the stress itself is left alone"


def test_matrix_builds_calm_stressed_and_fixed_scenarios(spec_folder: Path) -> None:
    experiment = load_any(_matrix(spec_folder))
    assert experiment.kind == "stress_matrix"
    assert experiment.labels == ["scarce.calm", "scarce", "scarce.srf", "scarce.slr",
                                 "shock.calm", "shock", "shock.srf", "shock.slr"]  # fmt: skip
    scenarios = experiment.scenarios
    # The calm window is the baseline over the stress's dates.
    assert scenarios["shock.calm"]["start_date"] == "2025-03-10" and scenarios["shock.calm"]["shocks"] == []
    assert scenarios["shock.calm"]["banks"] == scenarios["shock"]["banks"]
    assert scenarios["scarce.srf"]["central_bank"]["srf"]["enabled"] is True
    assert scenarios["scarce.srf"]["banks"]["reserves_bn"] == 2400
    assert scenarios["shock.slr"]["dealers"]["exempt_treasuries_from_slr"] is True
    assert [s["kind"] for s in scenarios["shock.slr"]["shocks"]] == ["risk_off", "volatility_jump"]
    assert scenarios["shock.slr"]["name"] == "shock+slr"
    assert ("scarce.srf", "scarce") in experiment.comparisons and ("scarce", "scarce.calm") in experiment.comparisons
    assert experiment.scored_against["shock.slr"] == "shock.calm"


def test_identical_scenarios_are_simulated_once_per_seed(spec_folder: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    calls: list[tuple[str, int]] = []

    def counting(scenario: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
        calls.append((label, seed))
        return simulate_run(scenario, label, seed)

    monkeypatch.setattr(runner_module, "simulate_run", counting)
    findings = run_experiment(_matrix(spec_folder, stresses={"shock": "shock.yaml"}), tmp_path / "out", workers=1)
    # The baseline has the SRF on already, so shock.srf is the shock itself: simulated once.
    assert sorted(calls) == sorted((label, s) for label in ("shock.calm", "shock", "shock.slr") for s in (1, 2))
    runs = sorted(p.name for p in (tmp_path / "out" / "m" / "runs").iterdir())
    assert runs == sorted(f"{label}-seed{s}.json" for label in ("shock.calm", "shock", "shock.srf", "shock.slr")
                          for s in (1, 2))  # fmt: skip
    twin = json.loads((tmp_path / "out" / "m" / "runs" / "shock.srf-seed1.json").read_text())
    assert twin["variant"] == "shock.srf"
    srf = findings.matrix.set_index(["fix", "metric"]).loc[("srf", "throughput_index")]
    assert srf["difference"] == 0.0 and srf["ci_low"] == 0.0
    for name in ("findings.md", "findings.csv", "matrix.csv", "matrix.png", "panels-shock.png",
                 "reservoir_vs_pipe-shock.png"):  # fmt: skip
        assert (tmp_path / "out" / "m" / name).stat().st_size > 0, name
    markdown = (tmp_path / "out" / "m" / "findings.md").read_text()
    assert "## throughput_index: change with each fix" in markdown and "| slr |" in markdown


def test_matrix_table_reports_the_share_of_damage_undone() -> None:
    seeds = [1, 2, 3]
    runs = pd.DataFrame({
        "variant": ["s.calm"] * 3 + ["s"] * 3 + ["s.fix"] * 3,
        "seed": seeds * 3,
        "tail_mean_bp": [1.0, 1.0, 1.0, 3.0, 3.2, 2.8, 2.0, 2.2, 1.8],
        "repo_spike_days": [0.0, 0.0, 0.0, 1.0, -1.0, 0.0, 0.0, 0.0, 0.0],
        "reserves_mean_bn": [3000.0, 3000.0, 3000.0, 2000.0, 2100.0, 1900.0, 2500.0, 2600.0, 2400.0],
        "customer_volume_mean_bn": [300.0, 300.0, 300.0, 400.0, 410.0, 390.0, 350.0, 360.0, 340.0],
    })  # fmt: skip
    experiment = Experiment(Path("m.yaml"), "m", "", seeds, dict.fromkeys(["s.calm", "s", "s.fix"], {}),
                            [("s", "s.calm"), ("s.fix", "s")], dict.fromkeys(["s.calm", "s", "s.fix"], "s.calm"),
                            kind="stress_matrix")  # fmt: skip
    rows = []
    for variant, reference in experiment.comparisons:
        for metric in ("tail_mean_bp", "repo_spike_days", "reserves_mean_bn", "customer_volume_mean_bn"):
            ref = runs[runs.variant == reference][metric].to_numpy()
            var = runs[runs.variant == variant][metric].to_numpy()
            diff = var - ref
            rows.append({"variant": variant, "reference": reference, "metric": metric, "reference_mean": ref.mean(),
                         "variant_mean": var.mean(), "difference": diff.mean(), "ci_low": diff.mean() - 0.1,
                         "ci_high": diff.mean() + 0.1 if metric == "tail_mean_bp" else 1.0, "n": 3})  # fmt: skip
    table = matrix_table(experiment, runs, pd.DataFrame(rows)).set_index(["fix", "metric"])
    # The stress adds 2bp of tails; the fix takes 1bp off: half the damage undone.
    tails = table.loc[("fix", "tail_mean_bp")]
    assert (tails["calm_mean"], tails["stressed_mean"], tails["fixed_mean"]) == (1.0, 3.0, 2.0)
    assert tails["share_of_damage_undone"] == pytest.approx(0.5)
    assert table.loc[("none", "tail_mean_bp"), "difference"] == pytest.approx(2.0)
    # No measurable damage (its interval spans zero): no share is claimed.
    assert np.isnan(table.loc[("fix", "repo_spike_days"), "share_of_damage_undone"])
    # Harm inside the calm market's own spread across seeds is not material: no share.
    noisy = runs.assign(tail_mean_bp=runs["tail_mean_bp"].where(runs["variant"] != "s.calm", [-1.0, 4.0, 0.0] * 3))
    noisy_table = matrix_table(experiment, noisy, pd.DataFrame(rows)).set_index(["fix", "metric"])
    assert np.isnan(noisy_table.loc[("fix", "tail_mean_bp"), "share_of_damage_undone"])
    # Reserves have no bad side; more customer volume is not damage: no share either.
    assert np.isnan(table.loc[("fix", "reserves_mean_bn"), "share_of_damage_undone"])
    assert np.isnan(table.loc[("fix", "customer_volume_mean_bn"), "share_of_damage_undone"])


@pytest.mark.parametrize(
    ("changes", "key", "expected"),
    [
        ({"stresses": {"scarce": "nowhere.yaml"}}, "stresses.scarce", "an existing scenario file"),
        ({"fixes": {"calm": "srf.yaml"}}, "fixes", "labels of letters"),
        ({"fixes": {"orphan": str(SCENARIOS / "fix_buybacks.yaml")}}, "fixes.orphan -> extends", "reaches"),
        ({"sead": [1]}, "sead", "unknown keys are errors"),
        ({"fixes": {"same": "base.yaml"}}, "fixes.same", "sets something on top of the baseline"),
    ],
)
def test_bad_matrix_files_are_located_errors(spec_folder: Path, tmp_path: Path, changes: dict[str, Any], key: str,
                                             expected: str) -> None:  # fmt: skip
    path = _matrix(spec_folder, **changes)
    with pytest.raises(ExperimentError) as caught:
        run_experiment(path, tmp_path / "out")
    message = str(caught.value)
    assert key in message and expected in message, message
    assert not (tmp_path / "out").exists()


def test_an_invalid_fix_file_is_located(spec_folder: Path) -> None:
    _yaml(spec_folder / "bad.yaml", {"extends": "base.yaml", "dealers": {"initial_utilization": 3}})
    with pytest.raises(ExperimentError) as caught:
        load_any(_matrix(spec_folder, fixes={"bad": "bad.yaml"}))
    message = str(caught.value)
    assert "fixes.bad -> dealers.initial_utilization" in message and "bad.yaml" in message, message
