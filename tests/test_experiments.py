"""Policy experiments: per-run files, resume, local processes vs Dask, file errors, paired findings."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.experiments import (
    FINDING_METRICS,
    ExperimentError,
    Findings,
    load_any,
    load_experiment,
    paired_difference,
    run_experiment,
    simulate_run,
)
from sim.experiments import runner as runner_module

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
TINY_HORIZON = {"start_date": "2025-03-03", "end_date": "2025-04-30"}
SEEDS = [1, 2]


def _write_scenario(folder: Path, name: str, shipped: str) -> str:
    """A test scenario: a shipped one without its warm-up, so a run takes a fraction of a second."""
    path = folder / f"{name}.yaml"
    path.write_text(f"extends: {SCENARIOS / shipped}\nwarmup_business_days: 0\n", encoding="utf-8")
    return path.name


def _write_experiment(folder: Path, name: str, reference: str, variants: dict[str, str], seeds: list[int],
                      horizon: dict[str, str], **extra: Any) -> Path:  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    data = {
        "name": name,
        "description": "test experiment",
        "reference": _write_scenario(folder, "ref", reference),
        "variants": {label: _write_scenario(folder, label, shipped) for label, shipped in variants.items()},
        "seeds": seeds,
        **horizon,
        **extra,
    }
    path = folder / "experiment.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Findings]:
    """A two-variant, two-seed experiment on a two-month horizon, run once on local processes."""
    root = tmp_path_factory.mktemp("experiment")
    path = _write_experiment(root / "spec", "tiny", "baseline.yaml",
                             {"qe_bills": "qe_40b_bills.yaml", "indigestion": "auction_indigestion.yaml"},
                             SEEDS, TINY_HORIZON)  # fmt: skip
    out = root / "out"
    return path, out, run_experiment(path, out, workers=2)


def test_writes_one_file_per_run_and_the_findings_table(tiny: tuple[Path, Path, Findings]) -> None:
    _, out, findings = tiny
    folder = out / "tiny"
    runs = sorted(p.name for p in (folder / "runs").iterdir())
    expected = sorted(f"{label}-seed{s}.json" for label in ("reference", "qe_bills", "indigestion") for s in SEEDS)
    assert runs == expected, "one JSON per (scenario, seed) and no temporary files left"
    record = json.loads((folder / "runs" / "qe_bills-seed2.json").read_text())
    assert (record["variant"], record["seed"], record["experiment"]) == ("qe_bills", 2, "tiny")
    assert record["scenario"] == "qe_40b_bills" and "reserves_mean_bn" in record["metrics"]
    # The kept series cover every recorded day and feed the figures.
    daily = record["series"]["daily"]
    assert daily["date"][0] == "2025-03-03" and daily["date"][-1] == "2025-04-30"
    assert len(daily["reserves_bn"]) == len(daily["date"]) and all(v is not None for v in daily["reserves_bn"])
    for figure in ("reservoir_vs_pipe.png", "panels.png"):
        assert (folder / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure

    table = findings.table
    assert list(table.columns) == ["variant", "reference", "metric", "reference_mean", "variant_mean", "difference",
                                   "ci_low", "ci_high", "n"]  # fmt: skip
    assert set(table["reference"]) == {"reference"}
    assert list(table["variant"]) == ["qe_bills"] * len(FINDING_METRICS) + ["indigestion"] * len(FINDING_METRICS)
    assert list(table["metric"]) == list(FINDING_METRICS) * 2
    reserves = table[table["metric"] == "reserves_mean_bn"].iloc[0]
    assert reserves["n"] == len(SEEDS) and math.isfinite(reserves["difference"])
    assert reserves["ci_low"] <= reserves["difference"] <= reserves["ci_high"]
    # The table's difference is the mean of the per-seed paired differences of the saved runs.
    by_seed = findings.runs.set_index(["variant", "seed"])["reserves_mean_bn"]
    paired = [by_seed["qe_bills", s] - by_seed["reference", s] for s in SEEDS]
    assert reserves["difference"] == pytest.approx(sum(paired) / len(paired))

    on_disk = pd.read_csv(folder / "findings.csv")
    pd.testing.assert_frame_equal(on_disk, table, check_exact=False, rtol=1e-12)
    markdown = (folder / "findings.md").read_text()
    assert "| qe_bills | reserves_mean_bn |" in markdown and "Student's t" in markdown


def test_rerun_resumes_from_saved_runs(tiny: tuple[Path, Path, Findings], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path, out, findings = tiny
    shutil.copytree(out, tmp_path / "out")
    (tmp_path / "out" / "tiny" / "runs" / "indigestion-seed1.json").unlink()
    calls: list[tuple[str, int]] = []

    def counting(scenario: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
        calls.append((label, seed))
        return simulate_run(scenario, label, seed)

    monkeypatch.setattr(runner_module, "simulate_run", counting)
    progress: list[tuple[int, int, str]] = []
    resumed = run_experiment(path, tmp_path / "out", workers=1, progress=lambda *call: progress.append(call))
    assert calls == [("indigestion", 1)], "only the missing run is simulated again"
    # Progress counts the saved runs as done, then names each run as it finishes.
    assert progress == [(5, 6, "resuming saved runs"), (6, 6, "last indigestion seed 1")]
    pd.testing.assert_frame_equal(resumed.table, findings.table)

    def failing(scenario: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
        raise AssertionError(f"{label} seed {seed} simulated again although saved")

    monkeypatch.setattr(runner_module, "simulate_run", failing)
    again = run_experiment(path, tmp_path / "out", workers=1)
    pd.testing.assert_frame_equal(again.table, findings.table)


def test_dask_cluster_gives_the_same_findings_as_local_processes(tiny: tuple[Path, Path, Findings],
                                                                 tmp_path: Path) -> None:  # fmt: skip
    distributed = pytest.importorskip("dask.distributed")
    path, out, findings = tiny
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = run_experiment(path, tmp_path / "out", scheduler=cluster.scheduler_address)
    pd.testing.assert_frame_equal(on_dask.table, findings.table, check_exact=True)
    pd.testing.assert_frame_equal(on_dask.runs, findings.runs, check_exact=True)
    for saved in sorted((out / "tiny" / "runs").iterdir()):
        assert json.loads((tmp_path / "out" / "tiny" / "runs" / saved.name).read_text()) == json.loads(
            saved.read_text()
        ), saved.name


def test_unknown_key_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    path = _write_experiment(tmp_path, "bad", "baseline.yaml", {"qe": "qe_40b_bills.yaml"}, SEEDS, TINY_HORIZON,
                             sead=[3])  # fmt: skip
    with pytest.raises(ExperimentError) as caught:
        run_experiment(path, tmp_path / "out")
    message = str(caught.value)
    assert str(path) in message and "sead" in message and "unknown keys are errors" in message
    assert not (tmp_path / "out").exists()


def test_missing_variant_file_is_an_error_naming_file_and_key(tmp_path: Path) -> None:
    path = _write_experiment(tmp_path, "bad", "baseline.yaml", {"qe": "qe_40b_bills.yaml"}, SEEDS, TINY_HORIZON)
    data = json.loads(path.read_text())
    data["variants"]["ghost"] = "no_such_scenario.yaml"
    path.write_text(json.dumps(data))
    with pytest.raises(ExperimentError) as caught:
        run_experiment(path, tmp_path / "out")
    message = str(caught.value)
    assert str(path) in message and "variants.ghost" in message and "no_such_scenario.yaml" in message


def test_overrides_set_keys_in_the_reference_and_every_variant(tmp_path: Path) -> None:
    overrides = {"dealers": {"auction_distribution_risk_price": 0.0}, "curve": {"vol_withdrawal_sensitivity": 0.0}}
    path = _write_experiment(tmp_path, "channel", "baseline.yaml", {"qe": "qe_40b_bills.yaml"}, SEEDS, TINY_HORIZON,
                             overrides=overrides)  # fmt: skip
    experiment = load_experiment(path)
    for label in ("reference", "qe"):
        scenario = experiment.scenarios[label]
        assert scenario["dealers"]["auction_distribution_risk_price"] == 0.0
        assert scenario["curve"]["vol_withdrawal_sensitivity"] == 0.0
        assert scenario["start_date"] == TINY_HORIZON["start_date"]
    # The variant's own keys stay: the purchases are still there.
    assert experiment.scenarios["qe"]["central_bank"]["purchases"]
    assert not experiment.scenarios["reference"]["central_bank"]["purchases"]


def test_a_bad_override_names_the_scenario_and_the_key(tmp_path: Path) -> None:
    path = _write_experiment(tmp_path, "bad", "baseline.yaml", {"qe": "qe_40b_bills.yaml"}, SEEDS, TINY_HORIZON,
                             overrides={"dealers": {"auction_headroom_share": 7}})  # fmt: skip
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    message = str(caught.value)
    assert "reference -> dealers.auction_headroom_share" in message and "variants.qe" in message


def test_paired_difference_by_hand() -> None:
    # Differences 1, 2, 3: mean 2, sd 1, t(0.975, 2 df) = 4.302653, half-width 4.302653 / sqrt(3).
    result = paired_difference([10.0, 20.0, 30.0], [11.0, 22.0, 33.0])
    assert result["difference"] == pytest.approx(2.0)
    assert result["ci_low"] == pytest.approx(2.0 - 2.484138, abs=1e-6)
    assert result["ci_high"] == pytest.approx(2.0 + 2.484138, abs=1e-6)
    assert (result["reference_mean"], result["variant_mean"], result["n"]) == (20.0, 22.0, 3)
    single = paired_difference([1.0], [2.0])
    assert single["difference"] == 1.0 and math.isnan(single["ci_low"]) and math.isnan(single["ci_high"])


def test_bill_purchases_raise_reserves_in_a_reserve_scarce_market(tmp_path: Path) -> None:
    # The purchases begin on 1 July; two months of them, three common seeds.
    path = _write_experiment(tmp_path / "spec", "scarcity", "reserve_scarcity.yaml",
                             {"qe_bills": "reserve_scarcity_qe_40b_bills.yaml"}, [1, 2, 3],
                             {"start_date": "2025-07-01", "end_date": "2025-08-29"})  # fmt: skip
    findings = run_experiment(path, tmp_path / "out", workers=2)
    reserves = findings.table.set_index("metric").loc["reserves_mean_bn"]
    assert reserves["n"] == 3
    assert reserves["ci_low"] > 0, f"reserves change {reserves['difference']:.1f}bn, CI low {reserves['ci_low']:.1f}"


@pytest.mark.parametrize("path", sorted((SCENARIOS / "experiments").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_experiment_files_are_valid(path: Path) -> None:
    experiment = load_any(path)
    sets = max(1, len(experiment.parameter_sets))
    assert len(experiment.tasks()) == len(experiment.labels) * len(experiment.seeds) * sets
    assert all(variant in experiment.labels and reference in experiment.labels
               for variant, reference in experiment.comparisons)  # fmt: skip
    if experiment.kind == "experiment":
        assert experiment.labels[0] == "reference" and experiment == load_experiment(path)


@pytest.mark.parametrize(
    "saved", ["[]", "{}", '{"scenario": "x", "record_version": 2}', "{not json", '{"metrics": []}']
)
def test_corrupt_saved_runs_are_run_again_with_a_warning(
    tiny: tuple[Path, Path, Findings], tmp_path: Path, saved: str
) -> None:
    path, out, first = tiny
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    runs = sorted((copy / first.name / "runs").glob("*.json"))
    runs[0].write_text(saved, encoding="utf-8")
    calls: list[tuple[str, int]] = []
    warnings: list[str] = []

    def counting(scenario: dict[str, Any], label: str, seed: int) -> dict[str, Any]:
        calls.append((label, seed))
        return simulate_run(scenario, label, seed)

    again = run_experiment(path, copy, workers=1, simulate=counting, notify=warnings.append)
    label, seed = runs[0].stem.rsplit("-seed", 1)
    assert calls == [(label, int(seed))]  # only the corrupt run is simulated again
    assert len(warnings) == 1 and runs[0].name in warnings[0] and "running it again" in warnings[0]
    pd.testing.assert_frame_equal(again.table, first.table)
    assert json.loads(runs[0].read_text(encoding="utf-8"))["metrics"]
