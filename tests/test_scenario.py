"""Scenario files: safe loading, `extends:`, and located errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from sim.scenario import Scenario, ScenarioError, load_scenario, scenario_to_yaml


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def problems(path: Path) -> list:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value.problems


def test_defaults_describe_a_2025_like_market():
    s = Scenario()
    assert s.dealers.count == 24
    assert 2800 <= s.banks.reserves_bn + s.dealers.reserves_bn <= 3100  # reserves about $2.9-3.0T
    assert s.central_bank.on_rrp_start_bn <= 200  # ON RRP near zero
    assert s.policy.target_upper_pct - s.policy.iorb_below_top_bp / 100 == pytest.approx(4.40)


def test_extends_overrides_nested_keys_only(tmp_path):
    write(tmp_path / "base.yaml", "name: base\ndealers: {count: 10, slr_min_pct: 4.0}\nbanks: {count: 5}\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nname: child\ndealers: {count: 12}\n")
    s = load_scenario(child)
    assert (s.name, s.dealers.count, s.dealers.slr_min_pct, s.banks.count) == ("child", 12, 4.0, 5)


def test_resolved_scenario_round_trips_through_yaml(tmp_path):
    s = Scenario(shocks=[{"kind": "risk_off", "date": dt.date(2025, 3, 3), "days": 5}])
    again = load_scenario(write(tmp_path / "resolved.yaml", scenario_to_yaml(s)))
    assert again == s


def test_unknown_key_is_named_with_file_and_path(tmp_path):
    path = write(tmp_path / "bad.yaml", "dealers:\n  cuont: 3\n")
    (problem,) = problems(path)
    assert problem.file == str(path.resolve())
    assert problem.key_path == "dealers.cuont"
    assert "unknown" in problem.expected


def test_wrong_type_and_out_of_range_are_each_reported(tmp_path):
    path = write(tmp_path / "bad.yaml", "dealers: {count: many}\nbanks: {reserves_bn: -5}\n")
    found = {p.key_path: p for p in problems(path)}
    assert set(found) == {"dealers.count", "banks.reserves_bn"}
    assert found["dealers.count"].found == "'many'"
    assert "greater than or equal to 0" in found["banks.reserves_bn"].expected


def test_errors_in_lists_and_shocks_name_the_item(tmp_path):
    path = write(
        tmp_path / "bad.yaml",
        "central_bank:\n  purchases: [{start: 2025-02-01, end: 2025-01-01, bn_per_month: 40}]\n"
        "shocks: [{kind: volatility_jump, date: 2025-03-01, multiplier: -2}]\n",
    )
    paths = {p.key_path for p in problems(path)}
    assert paths == {"central_bank.purchases[0].end", "shocks[0].multiplier"}


def test_an_error_in_a_base_file_names_that_file(tmp_path):
    base = write(tmp_path / "base.yaml", "dealers: {count: 1}\n")
    child = write(tmp_path / "child.yaml", "extends: base.yaml\nname: child\n")
    (problem,) = problems(child)
    assert problem.file == str(base.resolve()) and problem.key_path == "dealers.count"


def test_missing_file_invalid_yaml_and_cycles(tmp_path):
    (missing,) = problems(tmp_path / "nope.yaml")
    assert "no file" in missing.found
    (syntax,) = problems(write(tmp_path / "broken.yaml", "dealers: [count: 3\n"))
    assert syntax.expected == "valid YAML" and "line" in syntax.found
    write(tmp_path / "a.yaml", "extends: b.yaml\n")
    write(tmp_path / "b.yaml", "extends: a.yaml\n")
    (cycle,) = problems(tmp_path / "a.yaml")
    assert cycle.key_path == "extends"


def test_yaml_is_loaded_safely(tmp_path):
    path = write(tmp_path / "evil.yaml", "name: !!python/object/apply:os.system ['echo hi']\n")
    (problem,) = problems(path)
    assert problem.expected == "valid YAML"


def test_end_before_start_is_an_error(tmp_path):
    (problem,) = problems(write(tmp_path / "dates.yaml", "start_date: 2025-06-01\nend_date: 2025-05-01\n"))
    assert problem.key_path == "end_date"


def test_shocks_outside_the_run_are_reported_not_dropped():
    from sim.calendar import business_days
    from sim.shocks import ShockSchedule

    days = business_days(dt.date(2025, 3, 3), dt.date(2025, 3, 31))
    shocks = Scenario(
        shocks=[
            {"kind": "risk_off", "date": dt.date(2025, 2, 3), "days": 3},  # over before the run
            {"kind": "risk_off", "date": dt.date(2025, 2, 27), "days": 4},  # its last two days run
            {"kind": "fund_selling", "date": dt.date(2025, 3, 28), "days": 5, "bn_per_day": 10},  # runs past the end
            {"kind": "risk_off", "date": dt.date(2025, 5, 1)},  # after the run
        ]
    ).shocks
    book = ShockSchedule(shocks, days)
    assert len(book.outside_window) == 4
    assert book.risk_off[:2].all() and not book.risk_off[2:].any()  # Mar 3 and 4 only
    assert book.fund_selling[-2:].sum() == 20.0  # Mar 28 and 31


def test_outlay_shares_must_sum_to_one(tmp_path):
    bad = write(tmp_path / "bad.yaml", "name: bad\ntreasury: {outlays_to_money_funds_share: 0.5}\n")
    found = problems(bad)
    assert len(found) == 1
    assert "treasury" in str(found[0]) and "summing to 1" in str(found[0]) and "1.15" in str(found[0])
    good = write(
        tmp_path / "good.yaml",
        "name: good\ntreasury: {outlays_to_money_funds_share: 0.2, outlays_to_foreign_official_share: 0.3}\n",
    )
    assert load_scenario(good).treasury.outlays_to_money_funds_share == 0.2


def test_behavioural_keys_reach_the_model():
    # Keys that were constants: changing one changes the run (they are read, not decorative).
    import datetime as dt

    from tests.conftest import make_scenario, run

    window = {"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 28)}
    base = run(make_scenario(window), seed=3)["daily"]
    for override in (
        {"money_funds": {"invested_cash_share": 0.9}},
        {"banks": {"reserve_arbitrage_cost_bp": 2.0, "household_deposits_per_reserve": 3.0}},
        {"curve": {"gc_repo_below_top_bp": 5.0}},
        {"real_money": {"habitat_dispersion": 0.1}},
    ):
        moved = run(make_scenario(window, override), seed=3)["daily"]
        assert not moved.equals(base), override


# ---------------------------------------------------------------- reserves against the comfortable level
def test_reserves_given_against_the_comfortable_level_follow_it(tmp_path):
    from sim.calibration.msm import apply_parameters
    from sim.scenario import scenario_from_dict

    write(tmp_path / "base.yaml", "name: base\nbanks: {lowest_comfortable_reserves_bn: 2000, reserves_bn: 3000}\n")
    path = write(tmp_path / "scarce.yaml", "extends: base.yaml\nname: scarce\nbanks: {reserves_bn: null, "
                                            "reserves_per_comfortable: 1.05}\n")  # fmt: skip
    scarce = load_scenario(path)
    assert scarce.banks.reserves_bn == pytest.approx(2100.0)
    # A parameter set written over the resolved scenario (as experiments over near-optimal sets
    # do) moves the comfortable level, and the reserves with it.
    moved = scenario_from_dict(apply_parameters(scarce.model_dump(mode="json"),
                                                {"banks.lowest_comfortable_reserves_bn": 1800.0}))  # fmt: skip
    assert moved.banks.reserves_bn == pytest.approx(1890.0)
    # The resolved file reruns as it is.
    assert load_scenario(write(tmp_path / "resolved.yaml", scenario_to_yaml(scarce))) == scarce
    # Without the multiple the level is the one given.
    plain = load_scenario(write(tmp_path / "plain.yaml", "extends: scarce.yaml\nbanks: {reserves_bn: 2500, "
                                                         "reserves_per_comfortable: null}\n"))  # fmt: skip
    assert plain.banks.reserves_bn == 2500.0


def test_a_level_and_a_multiple_that_disagree_are_named(tmp_path):
    write(tmp_path / "base.yaml", "name: base\nbanks: {reserves_per_comfortable: 1.05}\n")
    path = write(tmp_path / "child.yaml", "extends: base.yaml\nbanks: {reserves_bn: 2500}\n")
    (problem,) = problems(path)
    assert problem.file == str(path.resolve()) and problem.key_path == "banks.reserves_per_comfortable"
    assert "not both" in problem.expected and "2500" in problem.expected


def test_a_multiple_out_of_range_is_its_own_error(tmp_path):
    path = write(tmp_path / "bad.yaml", "banks: {reserves_per_comfortable: -1}\n")
    (problem,) = problems(path)
    assert problem.key_path == "banks.reserves_per_comfortable" and problem.found == "-1"
    # A multiple in range whose level is not is named at the multiple, not at the level it gives.
    large = "banks: {reserves_per_comfortable: 10, lowest_comfortable_reserves_bn: 50000}\n"
    path = write(tmp_path / "large.yaml", large)
    (problem,) = problems(path)
    assert problem.key_path == "banks.reserves_per_comfortable" and "500000" in problem.expected


def test_the_scarce_market_opens_just_above_the_fitted_comfortable_level():
    scenario = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "reserve_scarcity.yaml")
    ratio = scenario.banks.reserves_bn / scenario.banks.lowest_comfortable_reserves_bn
    assert scenario.banks.reserves_per_comfortable is not None and 1.0 < ratio < 1.1
