"""Experiment files with a `sweep:`: one variant per value with the key applied (nothing else moved),
beside variant files, and every bad sweep located by file, key path, expectation and what was found."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from sim.experiments import ExperimentError, load_any, load_experiment
from sim.experiments.sweep import sweep_label, value_label

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _write_sweep(folder: Path, sweep: Any, **extra: Any) -> Path:
    """An experiment file sweeping the baseline (without its warm-up, so a run takes a fraction of a second)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ref.yaml").write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nwarmup_business_days: 0\n")
    data = {"name": "sweep_test", "reference": "ref.yaml", "seeds": [1], "sweep": sweep, **extra}
    path = folder / "experiment.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ExperimentError) as caught:
        load_experiment(path)
    return [str(problem) for problem in caught.value.problems]


def test_sweep_gives_one_variant_per_value_with_the_key_applied(tmp_path: Path) -> None:
    path = _write_sweep(tmp_path, {"key": "banks.reserves_bn", "values": [2000, 2500.0, 3100.5]},
                        start_date="2025-03-03", end_date="2025-03-14")  # fmt: skip
    experiment = load_experiment(path)
    labels = ["banks.reserves_bn-2000", "banks.reserves_bn-2500", "banks.reserves_bn-3100.5"]
    assert experiment.labels == ["reference", *labels]
    assert experiment.comparisons == [(label, "reference") for label in labels]
    assert experiment.swept == dict(zip(labels, [2000, 2500.0, 3100.5], strict=True))
    assert experiment.sweep_key == "banks.reserves_bn"
    reference = experiment.scenarios["reference"]
    for label, value in experiment.swept.items():
        scenario = experiment.scenarios[label]
        assert scenario["banks"]["reserves_bn"] == value
        # Nothing else moves: the reference with one key set, horizon overrides included.
        undone = {**scenario["banks"], "reserves_bn": reference["banks"]["reserves_bn"]}
        assert {**scenario, "banks": undone} == reference
        assert (scenario["start_date"], scenario["end_date"]) == ("2025-03-03", "2025-03-14")
    assert len(experiment.tasks()) == 4 and load_any(path) == experiment


def test_sweep_sits_beside_variant_files_and_sets_switches_and_dates(tmp_path: Path) -> None:
    (tmp_path / "qe.yaml").write_text(f"extends: {SCENARIOS / 'qe_40b_bills.yaml'}\nwarmup_business_days: 0\n")
    path = _write_sweep(tmp_path, {"key": "srf.enabled", "values": [True]}, variants={"qe": "qe.yaml"})
    problems = _problems(path)
    assert len(problems) == 1 and "sweep.key" in problems[0] and "no key 'srf' at the top level" in problems[0]
    path = _write_sweep(tmp_path, {"key": "loop.dealer_memory", "values": [False]}, variants={"qe": "qe.yaml"})
    experiment = load_experiment(path)
    assert experiment.labels == ["reference", "qe", "loop.dealer_memory-false"]
    assert experiment.scenarios["loop.dealer_memory-false"]["loop"]["dealer_memory"] is False
    (tmp_path / "sweep.yaml").write_text("name: dates\nreference: ref.yaml\nseeds: [1]\n"
                                         "sweep: {key: end_date, values: [2025-06-30]}\n")  # fmt: skip
    experiment = load_experiment(tmp_path / "sweep.yaml")
    assert experiment.labels == ["reference", "end_date-2025-06-30"]
    assert experiment.scenarios["end_date-2025-06-30"]["end_date"] == "2025-06-30"


def test_value_labels() -> None:
    assert [value_label(v) for v in (1700, 1700.0, 0.25, True, "all", dt.date(2025, 1, 2))] == [
        "1700", "1700", "0.25", "true", "all", "2025-01-02"]  # fmt: skip
    assert sweep_label("banks.reserves_bn", -5) == "banks.reserves_bn--5"


@pytest.mark.parametrize(
    ("sweep", "extra", "where", "found"),
    [
        ({"key": "banks.reserve_bn", "values": [1]}, {}, "sweep.key", "no key 'reserve_bn' under banks"),
        ({"key": "banks.reserves_bn.x", "values": [1]}, {}, "sweep.key", "holds a value, not a section"),
        ({"key": "banks.reserves_bn", "values": [2000, -5]}, {}, "sweep.values[1] -> banks.reserves_bn", "-5"),
        ({"key": "banks.reserves_bn", "values": [2000, 2000.0]}, {}, "sweep.values", "repeated: 2000"),
        ({"key": "banks.reserves_bn", "values": []}, {}, "sweep.values", "at least one value"),
        ({"key": "banks.reserves_bn", "values": [{"a": 1}]}, {}, "sweep.values[0]", "a number, true/false"),
        ({"key": "shocks", "values": [[]]}, {}, "sweep.values[0]", "a number, true/false"),
        ({"key": "name", "values": ["a b"]}, {}, "sweep.values[0]", "'name-a b'"),
        ({"key": "banks.reserves_bn", "values": [1]}, {"variants": {"banks.reserves_bn-1": "ref.yaml"}},
         "sweep.values[0]", "a label no variant file uses"),
        ({"key": "banks.reserves_bn"}, {}, "sweep.values", "this key is required"),
    ],
)  # fmt: skip
def test_bad_sweep_is_an_error_naming_file_key_and_value(
    tmp_path: Path, sweep: dict[str, Any], extra: dict[str, Any], where: str, found: str
) -> None:
    path = _write_sweep(tmp_path, sweep, **extra)
    problems = _problems(path)
    assert any(p.startswith(f"{path}: {where}:") and found in p for p in problems), problems


def test_an_experiment_needs_variants_or_a_sweep(tmp_path: Path) -> None:
    path = _write_sweep(tmp_path, None)
    problems = _problems(path)
    assert len(problems) == 1 and "at least one variant, in `variants:` or `sweep:`" in problems[0]
