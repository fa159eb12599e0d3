"""Morris screening (`plumbing sensitivity`): the design, the runs, the indices, the report, bad configs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from sim.calibration import sensitivity as sensitivity_module
from sim.calibration.sensitivity import analyse, load_screening, run_screening, write_report
from sim.cli import main
from sim.scenario import ScenarioError
from tests.conftest import SMALL_POPULATIONS

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


def _scenario(folder: Path, name: str, shipped: str) -> str:
    """A shipped scenario without warm-up and with small populations: a run takes a fraction of a second."""
    data = {"extends": str(SCENARIOS / shipped), "warmup_business_days": 0, **SMALL_POPULATIONS}
    (folder / f"{name}.yaml").write_text(json.dumps(data), encoding="utf-8")
    return f"{name}.yaml"


def _config(folder: Path, **changes: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {
        "name": "tiny",
        "comparisons": {
            "qe": {
                "reference": _scenario(folder, "ref", "reserve_scarcity.yaml"),
                "variant": _scenario(folder, "qe", "reserve_scarcity_qe_40b_bills.yaml"),
                "start_date": "2025-07-01",
                "end_date": "2025-08-15",
            },
        },  # fmt: skip
        "outputs": [
            {"name": "reserves", "comparison": "qe", "metric": "reserves_mean_bn"},
            {"name": "throughput", "comparison": "qe", "metric": "throughput_index"},
        ],
        "parameters": [
            {"key": "banks.demand_curve_level_bp", "low": 5, "high": 20, "why": "test"},
            {"key": "dealers.auction_headroom_share", "low": 0.02, "high": 0.2, "log": True, "why": "test"},
        ],
        "trajectories": 2,
        "levels": 4,
        "seeds": [1, 2],
        "workers": 1,
        "sampler_seed": 3,
    }
    data.update(changes)
    path = folder / "sensitivity.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("sensitivity")
    screening = load_screening(_config(root / "spec"))
    return root, run_screening(screening, root / "out")


def test_design_moves_one_parameter_per_step_on_the_grid(tiny: tuple[Path, Any]) -> None:
    _, result = tiny
    design, screening = result.design, result.screening
    k = len(screening.config.parameters)
    assert design.shape == (screening.config.trajectories * (k + 1), k)
    bounds = np.array(screening.problem()["bounds"])
    unit = (design - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    # Every coordinate sits on the 4-level grid {0, 1/3, 2/3, 1}; each step moves exactly one by delta.
    assert np.allclose(unit * 3, np.round(unit * 3))
    for path in unit.reshape(screening.config.trajectories, k + 1, k):
        steps = np.abs(np.diff(path, axis=0))
        assert ((steps > 1e-12).sum(axis=1) == 1).all()
        assert np.allclose(steps.max(axis=1), screening.delta)
    # Log parameters are back on their own scale in the scenarios.
    values = [screening.values(row)["dealers.auction_headroom_share"] for row in design]
    grid = 0.02 * 10.0 ** (np.arange(4) / 3)  # 0.02 to 0.2 in four steps equal on a log scale
    assert all(np.isclose(grid, v).any() for v in values)


def test_every_point_runs_every_scenario_and_seed_once(tiny: tuple[Path, Any]) -> None:
    root, result = tiny
    runs = sorted((root / "out" / "sensitivity" / "tiny" / "runs").glob("*.json"))
    assert result.runs == len(result.design) * 2 * 2 == len(runs)
    record = json.loads(runs[0].read_text())
    assert "series" not in record and record["metrics"]
    # The point's parameter values are in the scenario the run was made from.
    first = result.screening.tasks(result.design)[0]
    assert first.scenario["banks"]["demand_curve_level_bp"] == pytest.approx(result.screening.values(result.design[0])[
        "banks.demand_curve_level_bp"])  # fmt: skip


def test_outputs_are_paired_differences_and_indices_match_salib(tiny: tuple[Path, Any]) -> None:
    root, result = tiny
    runs = root / "out" / "sensitivity" / "tiny" / "runs"

    def metric(label: str, seed: int) -> float:
        return json.loads((runs / f"p0000.qe.{label}-seed{seed}.json").read_text())["metrics"]["reserves_mean_bn"]

    by_hand = np.mean([metric("variant", s) - metric("reference", s) for s in (1, 2)])
    assert result.means.at[0, "reserves"] == pytest.approx(by_hand)
    # Bill purchases over six weeks add reserves at every point of the box.
    assert (result.means["reserves"] > 0).all()
    # mu* is at least |mu| and, by hand from one path, the mean absolute effect per range.
    rows = result.indices
    assert (rows.mu_star >= rows.mu.abs() - 1e-12).all()
    assert set(rows["rank"][rows.output == "reserves"]) == {1, 2}
    assert np.isfinite(rows.noise_floor).all() and (rows.noise_floor > 0).all()


def test_analysis_flags_a_parameter_that_moves_an_output_and_not_one_that_does_not(tiny: tuple[Path, Any]) -> None:
    """On a synthetic output linear in the first parameter plus seed-sized noise, only the first decides."""
    _, result = tiny
    screening, design = result.screening, result.design
    bounds = np.array(screening.problem()["bounds"])
    unit = (design - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0])
    rng = np.random.default_rng(0)
    noise_se = 0.01
    outputs = [o.name for o in screening.config.outputs]
    means = pd.DataFrame({name: 3.0 * unit[:, 0] + rng.normal(0, noise_se, len(design)) for name in outputs})
    errors = pd.DataFrame({name: np.full(len(design), noise_se) for name in outputs})
    rows = analyse(screening, design, means, errors)
    first = rows[rows.parameter == "banks.demand_curve_level_bp"]
    second = rows[rows.parameter == "dealers.auction_headroom_share"]
    assert first.decides.all() and not second.decides.any()
    assert first.mu_star.to_numpy() == pytest.approx(3.0, rel=0.1)
    assert math.isclose(first.noise_floor.iloc[0], math.sqrt(2 / math.pi) * math.sqrt(2) * noise_se / screening.delta)


def test_report_names_every_output_and_parameter(tiny: tuple[Path, Any], tmp_path: Path) -> None:
    _, result = tiny
    paths = write_report(result, tmp_path / "report", seconds=12.0)
    text = paths["report"].read_text()
    for output in result.screening.config.outputs:
        assert f"## {output.name}" in text
    for parameter in result.screening.config.parameters:
        assert f"`{parameter.key}`" in text
    assert paths["figure"].read_bytes()[:4] == b"\x89PNG"
    indices = pd.read_csv(paths["indices"])
    assert len(indices) == len(result.screening.config.outputs) * len(result.screening.config.parameters)
    points = pd.read_csv(paths["points"])
    assert len(points) == len(result.design) and "output:reserves" in points


def test_rerun_reads_the_saved_runs(tiny: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    root, result = tiny

    def fail(*args: Any) -> dict[str, Any]:
        raise AssertionError("a saved run was simulated again")

    monkeypatch.setattr(sensitivity_module, "simulate_dashboard", fail)
    again = run_screening(result.screening, root / "out")
    pd.testing.assert_frame_equal(again.indices, result.indices)


@pytest.mark.parametrize(
    ("changes", "key", "found"),
    [
        ({"levels": 3}, "", "even number of levels"),
        ({"parameters": [{"key": "banks.demand_curve_level_bp", "low": 5, "high": 2, "why": "x"},
                         {"key": "repo.bargaining_share", "low": 0.2, "high": 0.8, "why": "x"}]},
         "parameters[0]", "low below high"),
        ({"parameters": [{"key": "banks.no_such_key", "low": 1, "high": 2, "why": "x"},
                         {"key": "repo.bargaining_share", "low": 0.2, "high": 0.8, "why": "x"}]},
         "parameters[0].key", "no_such_key"),
        ({"parameters": [{"key": "repo.bargaining_share", "low": 0.2, "high": 1.8, "why": "x"},
                         {"key": "banks.demand_curve_level_bp", "low": 5, "high": 20, "why": "x"}]},
         "parameters[0].key", "bargaining_share"),
        ({"outputs": [{"name": "x", "comparison": "qe", "metric": "no_such_metric"}]}, "outputs[0].metric",
         "throughput_index"),
        ({"outputs": [{"name": "x", "comparison": "other", "metric": "tail_mean_bp"}]}, "", "comparison 'other'"),
    ],
)  # fmt: skip
def test_bad_configs_are_located_errors(tmp_path: Path, changes: dict[str, Any], key: str, found: str) -> None:
    path = _config(tmp_path, **changes)
    with pytest.raises(ScenarioError) as err:
        load_screening(path)
    text = str(err.value)
    assert str(path) in text and found in text
    assert any(key in p.key_path for p in err.value.problems)


def test_cli_reports_a_bad_config_and_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _config(tmp_path, trajectories=1)
    assert main(["sensitivity", str(path), "--out", str(tmp_path / "out")]) == 2
    assert "trajectories" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_shipped_config_is_valid_and_screens_15_to_25_parameters() -> None:
    screening = load_screening(ROOT / "calibration/configs/sensitivity_verdict.yaml")
    assert 15 <= len(screening.config.parameters) <= 25
    assert all(p.why for p in screening.config.parameters)
    metrics = {(o.comparison, o.metric) for o in screening.config.outputs}
    assert ("qe_abundant", "throughput_index") in metrics and ("qe_scarce", "throughput_index") in metrics


def test_cli_runs_a_screening_and_writes_its_report(tiny: tuple[Path, Any], tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    root, result = tiny
    report = tmp_path / "report"
    code = main(["sensitivity", str(result.screening.path), "--out", str(root / "out"), "--report", str(report),
                 "--quiet"])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert f"report: {report / 'tiny.md'}" in out
    assert (report / "tiny.md").is_file() and (report / "tiny.png").is_file()
