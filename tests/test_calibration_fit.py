"""The calibrated model against its targets, and `plumbing calibrate` end to end on a tiny fit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import TreasuryMarketModel
from sim.calibration.fit import base_mapping, load_config, read_targets
from sim.calibration.simulated import simulated_moments
from sim.cli import main
from sim.scenario import load_scenario, scenario_from_dict
from sim.scenario.loader import deep_merge
from sim.scenario.yamlfile import load_yaml_file

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "calibration" / "configs" / "baseline.yaml"


@pytest.mark.slow
def test_calibrated_model_is_within_two_standard_errors_for_most_moments():
    config = load_config(CONFIG)
    targets = read_targets(config.targets).set_index("name")
    fitted = load_yaml_file(ROOT / "calibration" / "fitted" / "baseline.yaml")
    # The calibration window with the fitted behaviour, as the fit evaluated it.
    scenario = scenario_from_dict(deep_merge(base_mapping(config), fitted))
    runs = [simulated_moments(TreasuryMarketModel(scenario, seed=seed).run().results()) for seed in config.seeds]
    within, misses = 0, []
    for name in config.moments:
        simulated = np.mean([run[name] for run in runs])
        t = (simulated - targets.loc[name, "value"]) / targets.loc[name, "se"]
        if abs(t) <= 2:
            within += 1
        else:
            misses.append(name)
    assert within > len(config.moments) / 2, f"only {within} of {len(config.moments)} within 2 SE; misses {misses}"
    # The report names every miss, and the shipped baseline carries the fitted behaviour.
    report = (ROOT / "calibration" / "reports" / "baseline" / "report.md").read_text()
    missed_line = next(line for line in report.splitlines() if line.startswith("Fitted moments that miss"))
    for name in misses:
        assert f"`{name}`" in missed_line
    baseline = load_scenario(ROOT / "scenarios" / "baseline.yaml")
    assert baseline.repo.trade_noise_bp == pytest.approx(fitted["repo"]["trade_noise_bp"])


def test_calibrate_command_writes_fragment_and_report_and_resumes(tmp_path, capsys):
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump({"moments": [
        {"name": "repo_dispersion_ordinary_mean_bp", "value": 18.0, "se": 1.0, "unit": "bp", "level_comparable": True},
        {"name": "dealer_share_mean:2-7y", "value": 0.12, "se": 0.01, "unit": "share", "level_comparable": True},
    ]}))  # fmt: skip
    config = tmp_path / "tiny.yaml"
    base = {
        "name": "tiny", "targets": "targets.yaml", "start_date": "2025-03-03", "end_date": "2025-04-15",
        "scenario": {"dealers": {"count": 6}, "real_money": {"count": 8}, "banks": {"count": 5}},
        "parameters": [{"key": "repo.trade_noise_bp", "low": 0.5, "high": 3.0}],
        "seeds": [1], "workers": 1, "trials": 2, "fitted": "out/tiny.yaml", "report": "out/report",
    }  # fmt: skip
    config.write_text(yaml.safe_dump(base))
    assert main(["calibrate", str(config)]) == 0
    fragment = load_yaml_file(tmp_path / "out" / "tiny.yaml")
    assert 0.5 <= fragment["repo"]["trade_noise_bp"] <= 3.0
    report = (tmp_path / "out" / "report" / "report.md").read_text()
    assert "repo_dispersion_ordinary_mean_bp" in report and (tmp_path / "out" / "report" / "loss.png").is_file()
    # Resuming: asking for 3 trials runs only the one missing.
    config.write_text(yaml.safe_dump({**base, "trials": 3}))
    capsys.readouterr()
    assert main(["calibrate", str(config), "--quiet"]) == 0
    assert "3 trials" in (tmp_path / "out" / "report" / "report.md").read_text()
    assert "best loss" not in capsys.readouterr().err, "no progress bar when quiet"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({**base, "trials": 0, "surprise": 1}))
    assert main(["calibrate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "trials" in err and "surprise" in err
