"""The bad-input corpus: every malformed scenario, option set, experiment file and run folder is a
located exit 2, quickly, leaving nothing in the output folder.

Each case names what the message must contain (the file and the key, option or row); each
call is timed against TIME_LIMIT_S. Cases are generated here rather than kept as files.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TIME_LIMIT_S = 30.0

BOMB = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 10)
)
BOMB_UNDER_KEY = "name: x\ndealers:\n" + "".join(
    f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9) if i else ', '.join(['lol'] * 9)}]\n" for i in range(10)
)


def _deep_block(levels: int) -> str:
    return "dealers:\n" + "".join("  " * (i + 1) + f"k{i}:\n" for i in range(levels)) + "  " * (levels + 1) + "x: 1\n"


# Values the schema's plain ranges once admitted but the arithmetic cannot carry (a haircut of
# 2e-308 % made a fund's leverage cap infinite, a $1e-300bn bill NaN prices), and opening
# holdings beyond what the sizes leave outstanding (the run failed with exit 1): refused at
# their key with the bound they miss. name -> (file content, text the message must hold)
_ABOVE_ZERO = "expected 0 or a number >= 1e-06"
_AT_LEAST = "expected greater than or equal to"
BOUND_CASES: dict[str, tuple[str, str]] = {
    "haircut_2e-308": ("levered_funds:\n  haircut_pct: 2.0e-308\n", f"levered_funds.haircut_pct: {_AT_LEAST} 0.01"),
    "haircut_all": ("levered_funds:\n  haircut_pct: 100\n", "levered_funds.haircut_pct: expected less"),
    "bill_size_1e-300": (
        "treasury:\n  sizes:\n    bills_4w_bn: 1.0e-300\n",
        f"treasury.sizes.bills_4w_bn: {_ABOVE_ZERO}",
    ),
    "coupon_size_half_a_thousand_dollars": (
        "treasury:\n  sizes:\n    notes_10y_new_bn: 5.0e-7\n",
        f"treasury.sizes.notes_10y_new_bn: {_ABOVE_ZERO}",
    ),
    "tga_start_subnormal": ("treasury:\n  tga_start_bn: 5.0e-324\n", f"treasury.tga_start_bn: {_ABOVE_ZERO}"),
    "tga_target_path_tiny": (
        "treasury:\n  tga_target_path:\n    - {date: 2025-03-03, target_bn: 1.0e-9}\n",
        f"treasury.tga_target_path[0].target_bn: {_ABOVE_ZERO}",
    ),
    "purchases_tiny": (
        "central_bank:\n  purchases:\n    - {bn_per_month: 1.0e-12}\n",
        f"central_bank.purchases[0].bn_per_month: {_ABOVE_ZERO}",
    ),
    "runoff_cap_tiny": (
        "central_bank:\n  runoff_caps:\n    - {date: 2025-03-03, bn_per_month: 1.0e-200}\n",
        f"central_bank.runoff_caps[0].bn_per_month: {_ABOVE_ZERO}",
    ),
    "soma_tiny": ("central_bank:\n  soma_treasuries_bn: 1.0e-100\n", f"central_bank.soma_treasuries_bn: {_ABOVE_ZERO}"),
    "dealer_inventory_tiny": ("dealers:\n  inventory_bn: 1.0e-308\n", f"dealers.inventory_bn: {_ABOVE_ZERO}"),
    "rebalancing_noise_tiny": (
        "real_money:\n  rebalancing_noise_bn: 1.0e-308\n",
        f"real_money.rebalancing_noise_bn: {_ABOVE_ZERO}",
    ),
    "comfortable_reserves_subnormal": (
        "banks:\n  lowest_comfortable_reserves_bn: 5.0e-324\n",
        f"banks.lowest_comfortable_reserves_bn: {_AT_LEAST} 0.000001",
    ),
    "comfortable_reserves_zero": (
        "banks:\n  lowest_comfortable_reserves_bn: 0\n",
        f"banks.lowest_comfortable_reserves_bn: {_AT_LEAST} 0.000001",
    ),
    "dealer_equity_tiny": ("dealers:\n  equity_bn: 1.0e-300\n", f"dealers.equity_bn: {_AT_LEAST} 0.000001"),
    "dealer_depth_tiny": ("dealers:\n  depth_bn: 1.0e-300\n", f"dealers.depth_bn: {_AT_LEAST} 0.000001"),
    "fund_capital_tiny": (
        "levered_funds:\n  capital_bn: 1.0e-300\n",
        f"levered_funds.capital_bn: {_AT_LEAST} 0.000001",
    ),
    "money_fund_assets_tiny": ("money_funds:\n  assets_bn: 1.0e-300\n", f"money_funds.assets_bn: {_AT_LEAST} 0.000001"),
    "calm_vol_tiny": ("curve:\n  level_vol_calm_bp: 1.0e-300\n", f"curve.level_vol_calm_bp: {_AT_LEAST} 0.01"),
    "risk_off_vol_tiny": (
        "curve:\n  level_vol_risk_off_bp: 1.0e-300\n",
        f"curve.level_vol_risk_off_bp: {_AT_LEAST} 0.01",
    ),
    "term_premium_shape_subnormal": (
        "curve:\n  term_premium_shape_years: 5.0e-324\n",
        f"curve.term_premium_shape_years: {_AT_LEAST} 0.1",
    ),
    "half_spread_subnormal": ("dealers:\n  half_spread_bp: 5.0e-324\n", f"dealers.half_spread_bp: {_AT_LEAST} 0.01"),
    "var_z_subnormal": ("dealers:\n  var_z: 5.0e-324\n", f"dealers.var_z: {_AT_LEAST} 0.1"),
    "slr_minimum_subnormal": ("dealers:\n  slr_min_pct: 5.0e-324\n", f"dealers.slr_min_pct: {_AT_LEAST} 0.1"),
    "initial_utilization_subnormal": (
        "dealers:\n  initial_utilization: 5.0e-324\n",
        f"dealers.initial_utilization: {_AT_LEAST} 0.01",
    ),
    "initial_utilization_next_to_one": (
        "dealers:\n  initial_utilization: 0.9999999999\n",
        "dealers.initial_utilization: expected less than or equal to 0.99",
    ),
    "initial_risk_utilization_subnormal": (
        "dealers:\n  initial_risk_utilization: 5.0e-324\n",
        f"dealers.initial_risk_utilization: {_AT_LEAST} 0.01",
    ),
    "appetite_floor_subnormal": ("dealers:\n  appetite_floor: 5.0e-324\n", f"dealers.appetite_floor: {_AT_LEAST} 0.01"),
    "financing_tolerance_tiny": (
        "levered_funds:\n  financing_cost_tolerance_bp: 1.0e-308\n",
        f"levered_funds.financing_cost_tolerance_bp: {_AT_LEAST} 0.01",
    ),
    "hurdle_elasticity_10": (
        "banks:\n  hurdle_vol_elasticity: 10\n",
        "banks.hurdle_vol_elasticity: expected less than or equal to 2",
    ),
    "soma_beyond_the_issues_outstanding": (
        "central_bank:\n  soma_treasuries_bn: 50000\n",
        "central_bank.soma_treasuries_bn: expected opening holdings within every issue's outstanding",
    ),
    "every_bill_held_before_real_money": (
        "foreign_official: {bills_share: 1}\nmoney_funds: {max_share_of_bills_outstanding: 1}\n",
        "foreign_official.holdings_bn: expected opening holdings within every issue's outstanding",
    ),
    "basis_positions_beyond_the_notes": (
        "levered_funds:\n  positions_bn: 50000\n",
        "levered_funds.positions_bn: expected opening holdings within every issue's outstanding",
    ),
    "haircut_jump_subnormal": (
        "shocks:\n  - {kind: haircut_jump, date: 2025-03-03, multiplier: 5.0e-324}\n",
        f"shocks[0].multiplier: {_AT_LEAST} 0.01",
    ),
    "fund_selling_tiny": (
        "shocks:\n  - {kind: fund_selling, date: 2025-03-03, bn_per_day: 1.0e-9}\n",
        f"shocks[0].bn_per_day: {_AT_LEAST} 0.000001",
    ),
}

# name -> (file content, text the message must hold besides the file name)
SCENARIO_CASES: dict[str, tuple[str | bytes, str]] = {
    "alias_bomb": (BOMB, "aliases expanded"),
    "alias_bomb_under_key": (BOMB_UNDER_KEY, "dealers.a"),
    "many_aliases": ("x: &x 1\nl: [" + ", ".join(["*x"] * 1500) + "]\n", "aliases"),
    "recursive_alias": ("dealers: &d\n  x: *d\n", "dealers.x"),
    "recursive_alias_in_list": ("shocks: &s [*s]\n", "shocks[0]"),
    "deep_brackets": ("name: x\ndealers: " + "[" * 5000 + "]" * 5000 + "\n", "levels of nesting"),
    "deep_block_mappings": (_deep_block(100), "levels of nesting"),
    "deep_braces_top": ("{" * 3000 + "}" * 3000 + "\n", "levels of nesting"),
    "duplicate_top_key": ("name: a\nname: b\n", "name: expected each key once"),
    "duplicate_nested_key": ("dealers:\n  count: 3\n  count: 4\n", "dealers.count"),
    "duplicate_shock_key": ("shocks:\n  - {kind: risk_off, date: 2025-03-03, date: 2025-03-04}\n", "shocks[0].date"),
    "february_30": ("start_date: 2025-02-30\n", "start_date"),
    "month_13": ("end_date: 2025-13-01\n", "end_date"),
    "april_31_in_shock": ("shocks:\n  - {kind: risk_off, date: 2025-04-31}\n", "shocks[0].date"),
    "year_9999": ("start_date: 9999-12-01\nend_date: 9999-12-31\n", "start_date"),
    "year_1_with_warmup": ("start_date: 0001-01-01\nwarmup_business_days: 20\n", "start_date"),
    "end_2300": ("end_date: 2300-01-03\n", "end_date"),
    "shock_in_1900": ("shocks:\n  - {kind: risk_off, date: 1900-01-02}\n", "shocks[0].date"),
    "purchase_after_2200": (
        "central_bank:\n  purchases:\n    - {start: 2201-01-02, end: 2201-03-02, bn_per_month: 40}\n",
        "central_bank.purchases[0].start",
    ),
    "policy_date_1800": ("policy:\n  path:\n    - {date: 1800-01-02, target_upper_pct: 4}\n", "policy.path[0].date"),
    "date_as_number": ("start_date: 20250102\n", "start_date"),
    "empty_file": ("", "empty file"),
    "only_comments": ("# nothing here\n\n", "empty file"),
    "top_level_list": ("- a\n- b\n", "(top level)"),
    "top_level_scalar": ("just text\n", "(top level)"),
    "weekend_horizon": ("start_date: 2025-01-04\nend_date: 2025-01-05\n", "business day"),
    "holiday_horizon": ("start_date: 2025-12-25\nend_date: 2025-12-25\n", "business day"),
    "duplicate_policy_dates": (
        "policy:\n  path:\n    - {date: 2025-03-03, target_upper_pct: 4}\n"
        "    - {date: 2025-03-03, target_upper_pct: 3}\n",
        "policy.path[1].date",
    ),
    "latin1_bytes": (b"name: caf\xe9\n", "UTF-8"),
    "nul_byte": ("name: a\x00b\n", "valid YAML"),
    "bell_character": ("name: a\x07b\n", "valid YAML"),
    "unknown_key": ("name: x\ndealers:\n  cuont: 3\n", "dealers.cuont"),
    "five_thousand_unknown_keys": ("".join(f"key{i}: 1\n" for i in range(5000)), "more problems"),
    "wrong_type": ("dealers:\n  count: lots\n", "dealers.count"),
    "out_of_range": ("repo:\n  rounds_per_day: 0\n", "repo.rounds_per_day"),
    "negative_purchases": (
        "central_bank:\n  purchases:\n    - {start: 2025-01-02, end: 2025-03-31, bn_per_month: -40}\n",
        "central_bank.purchases[0].bn_per_month",
    ),
    "repo_operation_ends_before_start": (
        "central_bank:\n  repo_operations:\n    - {start: 2025-03-03, end: 2025-02-28, offered_bn_per_day: 75}\n",
        "central_bank.repo_operations[0].end",
    ),
    "negative_repo_operation": (
        "central_bank:\n  repo_operations:\n    - {start: 2025-03-03, offered_bn_per_day: -75}\n",
        "central_bank.repo_operations[0].offered_bn_per_day",
    ),
    "overlapping_repo_operations": (
        "central_bank:\n  repo_operations:\n    - {start: 2025-03-03, end: 2025-03-14, offered_bn_per_day: 75}\n"
        "    - {start: 2025-03-10, offered_bn_per_day: 100}\n",
        "central_bank.repo_operations[1].start",
    ),
    "huge_integer": ("dealers:\n  count: 99999999999999999999999999999\n", "dealers.count"),
    "nan_number": ("repo:\n  round_noise_bp: .nan\n", "repo.round_noise_bp"),
    "infinite_number": ("repo:\n  round_noise_bp: .inf\n", "repo.round_noise_bp"),
    "empty_name": ("name: ''\n", "name"),
    "long_name": ("name: " + "x" * 81 + "\n", "name"),
    "end_before_start": ("start_date: 2025-06-02\nend_date: 2025-03-03\n", "end_date"),
    "shocks_not_a_list": ("shocks: {kind: risk_off}\n", "shocks"),
    "unknown_shock_kind": ("shocks:\n  - {kind: meteor, date: 2025-03-03}\n", "shocks[0]"),
    "shock_missing_share": ("shocks:\n  - {kind: funding_pullback, date: 2025-03-03}\n", "shocks[0].share"),
    "section_not_mapping": ("dealers: 5\n", "dealers"),
    "unclosed_bracket": ("name: x\ndescription: [unclosed\n", "valid YAML"),
    "tab_indent": ("dealers:\n\tcount: 3\n", "valid YAML"),
    "undefined_alias": ("name: *nowhere\n", "valid YAML"),
    "python_tag": ("name: !!python/object/apply:os.system ['true']\n", "valid YAML"),
    "two_documents": ("name: a\n---\nname: b\n", "valid YAML"),
    "extends_not_a_string": ("extends: [a, b]\n", "extends"),
    "extends_missing_file": ("extends: nowhere.yaml\n", "extends"),
    "too_large": ("# " + "x" * 1_100_000 + "\n", "bytes"),
    **{f"bound_{name}": case for name, case in BOUND_CASES.items()},
}


def _call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    started = time.perf_counter()
    code = main(argv)
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    assert elapsed < TIME_LIMIT_S, f"{argv} took {elapsed:.1f}s"
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    return code, captured.out, captured.err


def _write(path: Path, content: str | bytes) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _nothing_written(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir()), f"left behind: {sorted(p.name for p in out.iterdir())}"


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_validate(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, expected = SCENARIO_CASES[case]
    path = _write(tmp_path / f"{case}.yaml", content)
    code, out, _ = _call(["validate", str(path)], capsys)
    assert code == 2
    assert f"{case}.yaml" in out and expected in out
    assert len(out.splitlines()) <= 60  # a capped list, never megabytes


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_run_writes_nothing(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    content, expected = SCENARIO_CASES[case]
    path = _write(tmp_path / f"{case}.yaml", content)
    out = tmp_path / "out"
    code, _, err = _call(["run", str(path), "--days", "2", "--out", str(out)], capsys)
    assert code == 2
    assert f"{case}.yaml" in err and expected in err
    _nothing_written(out)


# ---------------------------------------------------------------- files that are not files
def _symlink_loop(tmp: Path) -> Path:
    (tmp / "loop.yaml").symlink_to(tmp / "loop.yaml")
    return tmp / "loop.yaml"


def _extends_loop(tmp: Path) -> Path:
    _symlink_loop(tmp)
    return _write(tmp / "extends_loop.yaml", "extends: loop.yaml\n")


def _extends_cycle(tmp: Path) -> Path:
    _write(tmp / "b.yaml", "extends: a.yaml\n")
    return _write(tmp / "a.yaml", "extends: b.yaml\n")


def _folder(tmp: Path) -> Path:
    (tmp / "folder.yaml").mkdir()
    return tmp / "folder.yaml"


def _device_link(tmp: Path) -> Path:
    (tmp / "zero.yaml").symlink_to("/dev/zero")
    return tmp / "zero.yaml"


def _extends_folder(tmp: Path) -> Path:
    (tmp / "base").mkdir()
    return _write(tmp / "child.yaml", "extends: base\n")


def _extends_bad_date(tmp: Path) -> Path:
    _write(tmp / "base.yaml", "start_date: 2025-02-30\n")
    return _write(tmp / "child.yaml", "extends: base.yaml\n")


def _missing(tmp: Path) -> Path:
    return tmp / "nowhere.yaml"


# name -> (make the file, text the message must hold)
FILE_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "symlink_loop": (_symlink_loop, "loop.yaml"),
    "extends_symlink_loop": (_extends_loop, "extends"),
    "extends_cycle": (_extends_cycle, "extends"),
    "a_folder": (_folder, "a folder"),
    "dev_zero_link": (_device_link, "a device"),
    "extends_a_folder": (_extends_folder, "extends"),
    "extends_bad_date": (_extends_bad_date, "base.yaml: start_date"),
    "missing_file": (_missing, "nowhere.yaml"),
}


@pytest.mark.parametrize("case", sorted(FILE_CASES))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_scenario_that_is_not_a_file(
    case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = FILE_CASES[case]
    path = make(tmp_path)
    out = tmp_path / "out"
    argv = ["validate", str(path)] if command == "validate" else ["run", str(path), "--days", "2", "--out", str(out)]
    code, stdout, stderr = _call(argv, capsys)
    assert code == 2
    assert expected in stdout + stderr
    _nothing_written(out)


def test_control_characters_in_a_name_are_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path / "odd.yaml", 'name: "a\\0b\\nc\\u202ed"\n')
    code, out, _ = _call(["validate", str(path)], capsys)
    assert code == 0
    assert "a\\x00b\\nc\\u202ed" in out and "\x00" not in out and "\u202e" not in out
    bad = _write(tmp_path / "odd2.yaml", 'name: "a\\nb"\ndealers: {count: 0}\n')
    code, out, _ = _call(["validate", str(bad)], capsys)
    assert code == 2 and len(out.splitlines()) == 2


def test_alias_bomb_stays_small_in_a_fresh_process(tmp_path: Path) -> None:
    """The bomb is refused within a 2 GB address space and the time bound, run as a user would."""
    path = _write(tmp_path / "bomb.yaml", BOMB_UNDER_KEY)
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))\n"
        "from sim.cli import main\n"
        f"sys.exit(main(['run', {str(path)!r}, '--out', {str(tmp_path / 'out')!r}]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=TIME_LIMIT_S)
    assert done.returncode == 2, done.stderr
    assert "bomb.yaml" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------- options
def _regular_file(tmp: Path) -> str:
    _write(tmp / "afile", "x")
    return str(tmp / "afile")


# name -> (argv after `run BASELINE`, with {tmp} for the test folder; text the message must hold)
RUN_OPTION_CASES: dict[str, tuple[list[str], str]] = {
    "days_zero": (["--days", "0"], "--days"),
    "days_negative": (["--days", "-3"], "--days"),
    "days_text": (["--days", "many"], "--days"),
    "days_huge": (["--days", "100000000"], "--days"),
    "days_past_2200": (["--days", "60000"], "--days"),
    "start_2300": (["--start", "2300-01-03", "--days", "2"], "--start"),
    "start_1900": (["--start", "1900-01-02", "--days", "2"], "--start"),
    "start_february_30": (["--start", "2025-02-30"], "--start"),
    "end_month_13": (["--end", "2025-13-01"], "--end"),
    "end_2300": (["--end", "2300-01-03"], "--end"),
    "end_before_start": (["--start", "2025-06-02", "--end", "2025-03-03"], "end_date"),
    "weekend_only": (["--start", "2025-01-04", "--end", "2025-01-05"], "business day"),
    "seed_negative": (["--seed", "-1", "--days", "2"], "--seed"),
    "seed_text": (["--seed", "one", "--days", "2"], "--seed"),
    "days_and_end": (["--days", "2", "--end", "2025-03-03"], "--end"),
    "unknown_option": (["--dayz", "2"], "--dayz"),
    "out_is_a_file": (["--days", "2", "--out", "{file}"], "--out"),
    "out_under_a_file": (["--days", "2", "--out", "{file}/sub"], "--out"),
    "out_in_proc": (["--days", "2", "--out", "/proc/plumbing-test-out"], "--out"),
    "reference_not_a_run": (["--days", "2", "--reference", "{tmp}/not-a-run"], "not-a-run"),
}


@pytest.mark.parametrize("case", sorted(RUN_OPTION_CASES))
def test_bad_run_options(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    options, expected = RUN_OPTION_CASES[case]
    afile = _regular_file(tmp_path)
    options = [o.format(tmp=tmp_path, file=afile) for o in options]
    out = tmp_path / "out"
    if "--out" not in options:
        options += ["--out", str(out)]
    code, _, err = _call(["run", str(BASELINE), *options], capsys)
    assert code == 2
    assert expected in err
    _nothing_written(out)
    assert not Path("/proc/plumbing-test-out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


# ---------------------------------------------------------------- run folders
@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("good")
    assert main(["run", str(BASELINE), "--days", "3", "--out", str(out)]) == 0
    [folder] = list((out / "baseline").iterdir())
    return folder


def _corrupt(good: Path, tmp: Path, name: str, change: Callable[[Path], None]) -> Path:
    folder = tmp / name
    shutil.copytree(good, folder)
    change(folder)
    return folder


RUN_FOLDER_CASES: dict[str, tuple[Callable[[Path], None], str]] = {
    "manifest_not_json": (lambda f: _write(f / "manifest.json", "{not json"), "manifest.json"),
    "manifest_a_list": (lambda f: _write(f / "manifest.json", "[1, 2]"), "manifest.json"),
    "manifest_a_string": (lambda f: _write(f / "manifest.json", '"run"'), "manifest.json"),
    "manifest_not_utf8": (lambda f: _write(f / "manifest.json", b"\xff\xfe{}"), "manifest.json"),
    "manifest_empty": (lambda f: _write(f / "manifest.json", ""), "manifest.json"),
    "manifest_missing": (lambda f: (f / "manifest.json").unlink(), "manifest.json"),
    "manifest_deep": (lambda f: _write(f / "manifest.json", "[" * 100000 + "]" * 100000), "manifest.json"),
    "daily_truncated": (
        lambda f: _write(f / "daily.parquet", (f / "daily.parquet").read_bytes()[:200]),
        "daily.parquet",
    ),
    "daily_text": (lambda f: _write(f / "daily.parquet", "date,reserves_bn\n2025-01-02,1\n"), "daily.parquet"),
    "daily_empty": (lambda f: _write(f / "daily.parquet", b""), "daily.parquet"),
    "auctions_missing": (lambda f: (f / "auctions.parquet").unlink(), "auctions.parquet"),
    "dealers_a_folder": (
        lambda f: ((f / "dealers.parquet").unlink(), (f / "dealers.parquet").mkdir()),
        "dealers.parquet",
    ),
    "dealers_garbage": (lambda f: _write(f / "dealers.parquet", os.urandom(4096)), "dealers.parquet"),
}


@pytest.mark.parametrize("case", sorted(RUN_FOLDER_CASES))
@pytest.mark.parametrize("command", ["dashboard", "compare"])
def test_corrupt_run_folder(
    case: str, command: str, good_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    change, expected = RUN_FOLDER_CASES[case]
    folder = _corrupt(good_run, tmp_path, case, change)
    png = tmp_path / "figure.png"
    argv = [command, str(folder), "--png", str(png)]
    if command == "compare":
        argv = [command, str(good_run), str(folder), "--png", str(png)]
    code, _, err = _call(argv, capsys)
    assert code == 2
    assert case in err and expected in err
    assert not png.exists()


NOT_RUN_FOLDERS: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "temporary_folder": (
        lambda good, tmp: Path(shutil.copytree(good, tmp / ".tmp-baseline-20250101T000000Z-seed0-1-2")),
        "temporary folder",
    ),
    "empty_folder": (lambda good, tmp: Path(os.makedirs(tmp / "empty") or tmp / "empty"), "manifest"),
    "a_file": (lambda good, tmp: _write(tmp / "run.txt", "x"), "run.txt"),
    "no_such_folder": (lambda good, tmp: tmp / "nothing", "nothing"),
    "scenario_folder": (lambda good, tmp: good.parent, "manifest"),
}


@pytest.mark.parametrize("case", sorted(NOT_RUN_FOLDERS))
def test_dashboard_refuses_what_is_not_a_finished_run(
    case: str, good_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    make, expected = NOT_RUN_FOLDERS[case]
    folder = make(good_run, tmp_path)
    code, _, err = _call(["dashboard", str(folder), "--png", str(tmp_path / "x.png")], capsys)
    assert code == 2 and expected in err
    assert not (tmp_path / "x.png").exists()


# name -> (argv with {run} and {tmp}; text the message must hold)
OUTPUT_OPTION_CASES: dict[str, tuple[list[str], str]] = {
    "png_into_missing_folder": (["dashboard", "{run}", "--png", "{tmp}/missing/d.png"], "--png"),
    "png_is_a_folder": (["dashboard", "{run}", "--png", "{tmp}"], "--png"),
    "png_under_a_file": (["dashboard", "{run}", "--png", "{tmp}/afile/d.png"], "--png"),
    "json_under_a_file": (["dashboard", "{run}", "--json", "{tmp}/afile/d.json"], "--json"),
    "compare_png_under_a_file": (["compare", "{run}", "{run}", "--png", "{tmp}/afile/c.png"], "--png"),
    "dashboard_run_and_real": (["dashboard", "{run}", "--real", "{tmp}"], "not both"),
    "compare_one_run": (["compare", "{run}"], "two run folders"),
    "dashboard_real_not_a_folder": (["dashboard", "--real", "{tmp}/afile"], "afile"),
    "experiment_out_is_a_file": (
        ["experiment", str(ROOT / "scenarios/experiments/qe_abundant_reserves.yaml"), "--out", "{tmp}/afile"],
        "--out",
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", sorted(OUTPUT_OPTION_CASES))
def test_bad_output_options(case: str, good_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv, expected = OUTPUT_OPTION_CASES[case]
    _write(tmp_path / "afile", "x")
    code, _, err = _call([a.format(run=good_run, tmp=tmp_path) for a in argv], capsys)
    assert code == 2 and expected in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


# ---------------------------------------------------------------- experiment files
def _experiment(tmp: Path, body: str, scenario: str = "extends: {baseline}\nwarmup_business_days: 0\n") -> Path:
    _write(tmp / "ref.yaml", scenario.format(baseline=BASELINE))
    _write(tmp / "var.yaml", scenario.format(baseline=BASELINE))
    return _write(tmp / "exp.yaml", body)


GOOD_EXPERIMENT = "name: e\nreference: ref.yaml\nvariants: {v: var.yaml}\nseeds: [1]\n"
# name -> (experiment file body, scenario body or None for a good one, text the message must hold)
EXPERIMENT_CASES: dict[str, tuple[str | bytes, str | None, str]] = {
    "alias_bomb": (BOMB, None, "aliases expanded"),
    "duplicate_key": (GOOD_EXPERIMENT + "seeds: [2]\n", None, "seeds"),
    "not_utf8": (b"name: \xff\xfe\n", None, "UTF-8"),
    "empty": ("", None, "empty file"),
    "a_list": ("- 1\n", None, "(top level)"),
    "deep_nesting": ("name: " + "[" * 5000 + "]" * 5000 + "\n", None, "nesting"),
    "unknown_key": (GOOD_EXPERIMENT + "sedes: [1]\n", None, "sedes"),
    "missing_reference": (GOOD_EXPERIMENT.replace("ref.yaml", "nowhere.yaml"), None, "reference"),
    "duplicate_seeds": (GOOD_EXPERIMENT.replace("[1]", "[1, 1]"), None, "seeds"),
    "bad_label": (GOOD_EXPERIMENT.replace("{v:", "{'a b':"), None, "variants"),
    "start_february_30": (GOOD_EXPERIMENT + "start_date: 2025-02-30\n", None, "start_date"),
    "end_9999": (GOOD_EXPERIMENT + "end_date: 9999-01-01\n", None, "end_date"),
    "weekend_window": (GOOD_EXPERIMENT + "start_date: 2025-01-04\nend_date: 2025-01-05\n", None, "business day"),
    "scenario_duplicate_key": (GOOD_EXPERIMENT, "name: a\nname: b\n", "reference"),
    "scenario_empty": (GOOD_EXPERIMENT, "", "empty file"),
    "matrix_unknown_stress_file": (
        "name: m\nbaseline: ref.yaml\nstresses: {s: nowhere.yaml}\nfixes: {f: var.yaml}\nseeds: [1]\n",
        None,
        "stresses",
    ),
}


@pytest.mark.parametrize("case", sorted(EXPERIMENT_CASES))
def test_bad_experiment_file(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    body, scenario, expected = EXPERIMENT_CASES[case]
    path = _experiment(tmp_path, "", scenario) if scenario is not None else _experiment(tmp_path, "")
    _write(path, body)
    out = tmp_path / "out"
    code, _, err = _call(["experiment", str(path), "--workers", "1", "--out", str(out)], capsys)
    assert code == 2
    assert ("exp.yaml" in err or "ref.yaml" in err) and expected in err
    _nothing_written(out)


def test_experiment_file_that_is_a_symlink_loop(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _symlink_loop(tmp_path)
    code, _, err = _call(["experiment", str(path), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "loop.yaml" in err
    _nothing_written(tmp_path / "out")


def test_experiment_file_that_is_a_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _call(["experiment", str(_folder(tmp_path)), "--out", str(tmp_path / "out")], capsys)
    assert code == 2 and "folder.yaml" in err and "a folder" in err


def test_unexpected_failure_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.cli

    def broken(args: object) -> int:
        raise ZeroDivisionError("the model divided by zero")

    monkeypatch.setitem(sim.cli.COMMANDS, "list", broken)
    code, _, err = _call(["list"], capsys)
    assert code == 1 and err.count("\n") == 1 and "ZeroDivisionError" in err and "--debug" in err
    assert main(["--debug", "list"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_manifest_json_round_trip_still_reads(good_run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A finished run is accepted (the corpus above is not refusing everything)."""
    manifest = json.loads((good_run / "manifest.json").read_text())
    assert manifest["days"] == 3
    code, _, _ = _call(["dashboard", str(good_run), "--png", str(good_run.parent / "ok.png")], capsys)
    assert code == 0
    (good_run.parent / "ok.png").unlink()


# ---------------------------------------------------------------- real-data folders
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"


def _lines(relative: str, change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        path = folder / relative
        path.write_text("\n".join(change(path.read_text(encoding="utf-8").splitlines())) + "\n", encoding="utf-8")

    return apply


def _cell(line: int, column: int, value: str) -> Callable[[list[str]], list[str]]:
    """Set one cell (0-based column) of a file line (1-based, the header is line 1)."""

    def change(lines: list[str]) -> list[str]:
        cells = lines[line - 1].split(",")
        cells[column] = value
        return [*lines[: line - 1], ",".join(cells), *lines[line:]]

    return change


def _replace_with(relative: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
    def apply(folder: Path) -> None:
        (folder / relative).unlink()
        make(folder / relative)

    return apply


def _format_sample_only(folder: Path) -> None:
    export = folder / "nyfed" / "reference_rates.csv"
    export.rename(folder / "nyfed" / "reference_rates_format_sample.csv")
    (folder / "fred" / "SOFR.csv").unlink()


# name -> (change to a good data folder, the file named, where in it: "row N" or "" for the whole file)
DATA_CASES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    "fred_truncated_mid_row": (_lines("fred/SOFR.csv", lambda ls: [*ls[:-1], ls[-1][:8]]), "SOFR.csv", "short row"),
    "fred_non_numeric": (_lines("fred/SOFR.csv", _cell(3, 1, "abc")), "SOFR.csv", "row 3"),
    "fred_sofr_1e308": (_lines("fred/SOFR.csv", _cell(3, 1, "1e308")), "SOFR.csv", "row 3"),
    "fred_sofr_60pct": (_lines("fred/SOFR.csv", _cell(4, 1, "60")), "SOFR.csv", "row 4"),
    "fred_sofr_minus_10pct": (_lines("fred/SOFR.csv", _cell(4, 1, "-10")), "SOFR.csv", "row 4"),
    "fred_dated_2300": (_lines("fred/SOFR.csv", _cell(3, 0, "2300-01-03")), "SOFR.csv", "row 3"),
    "fred_dated_1850": (_lines("fred/SOFR1.csv", _cell(3, 0, "1850-01-03")), "SOFR1.csv", "row 3"),
    "fred_february_30": (_lines("fred/SOFR.csv", _cell(2, 0, "2022-02-30")), "SOFR.csv", "row 2"),
    "fred_duplicate_date": (_lines("fred/SOFR.csv", lambda ls: [*ls, ls[2]]), "SOFR.csv", "duplicate date"),
    "fred_long_row": (_lines("fred/EFFR.csv", _cell(2, 1, "0.3,0.4")), "EFFR.csv", "row 2"),
    "fred_reserves_negative": (_lines("fred/WRESBAL.csv", _cell(2, 1, "-5")), "WRESBAL.csv", "row 2"),
    "fred_on_rrp_negative": (_lines("fred/RRPONTSYD.csv", _cell(2, 1, "-1")), "RRPONTSYD.csv", "row 2"),
    "fred_iorb_implausible": (_lines("fred/IORB.csv", _cell(2, 1, "75")), "IORB.csv", "row 2"),
    "fred_yield_text": (_lines("fred/DGS10.csv", _cell(2, 1, "n/a")), "DGS10.csv", "row 2"),
    "fred_empty_file": (lambda f: _write(f / "fred/SOFR1.csv", ""), "SOFR1.csv", "empty"),
    "fred_header_renamed": (_lines("fred/SOFR.csv", _cell(1, 1, "sofr")), "SOFR.csv", "row 1"),
    "fred_not_utf8": (
        lambda f: _write(f / "fred/TREAST.csv", b"observation_date,TREAST\n2022-04-06,\xff\n"),
        "TREAST.csv",
        "UTF-8",
    ),  # fmt: skip
    "fred_a_folder": (_replace_with("fred/SOFR.csv", lambda p: p.mkdir()), "SOFR.csv", "a folder"),
    "fred_dev_zero": (_replace_with("fred/SOFR.csv", lambda p: p.symlink_to("/dev/zero")), "SOFR.csv", "device"),
    "fred_dangling_link": (
        _replace_with("fred/SOFR99.csv", lambda p: p.symlink_to(p.parent / "gone.csv")),
        "SOFR99.csv",
        "link",
    ),  # fmt: skip
    "fred_weekly_a_folder": (_replace_with("fred/WTREGEN.csv", lambda p: p.mkdir()), "WTREGEN.csv", "a folder"),
    "nyfed_short_row": (
        _lines("nyfed/reference_rates.csv", lambda ls: [*ls[:3], ls[3][:20], *ls[4:]]),
        "reference_rates.csv",
        "row 4",
    ),  # fmt: skip
    "nyfed_rate_99pct": (_lines("nyfed/reference_rates.csv", _cell(2, 2, "99")), "reference_rates.csv", "row 2"),
    "nyfed_negative_volume": (
        _lines("nyfed/reference_rates.csv", _cell(4, 7, "-340")),
        "reference_rates.csv",
        "row 4",
    ),  # fmt: skip
    "nyfed_month_13": (
        _lines("nyfed/reference_rates.csv", _cell(2, 0, "13/04/2022")),
        "reference_rates.csv",
        "row 2",
    ),  # fmt: skip
    "nyfed_duplicate_type_date": (
        _lines("nyfed/reference_rates.csv", lambda ls: [*ls[:4], ls[3], *ls[4:]]),
        "reference_rates.csv",
        "duplicate",
    ),  # fmt: skip
    "nyfed_second_export_a_folder": (
        lambda f: (f / "nyfed/reference_rates_2022.csv").mkdir(),
        "reference_rates_2022.csv",
        "a folder",
    ),  # fmt: skip
    "nyfed_format_sample_only": (_format_sample_only, "SOFR.csv", "not found"),
    "fails_truncated_mid_row": (
        _lines("nyfed/pd_fails_weekly.csv", lambda ls: [*ls[:-1], ls[-1][:30]]),
        "pd_fails_weekly.csv",
        "short row",
    ),  # fmt: skip
    "fails_negative": (_lines("nyfed/pd_fails_weekly.csv", _cell(2, 1, "-120")), "pd_fails_weekly.csv", "row 2"),
    "fails_duplicate_week": (
        _lines("nyfed/pd_fails_weekly.csv", lambda ls: [*ls, ls[1]]),
        "pd_fails_weekly.csv",
        "duplicate week",
    ),  # fmt: skip
    "fails_a_folder": (
        _replace_with("nyfed/pd_fails_weekly.csv", lambda p: p.mkdir()),
        "pd_fails_weekly.csv",
        "a folder",
    ),  # fmt: skip
    "auctions_short_row": (
        _lines("treasury/auctions_query.csv", lambda ls: [*ls[:1], ls[1][:40], *ls[2:]]),
        "auctions_query.csv",
        "row 2",
    ),  # fmt: skip
    "auctions_yield_75pct": (
        _lines("treasury/auctions_query.csv", _cell(2, 16, "75.0")),
        "auctions_query.csv",
        "row 2",
    ),  # fmt: skip
    "auctions_negative_offering": (
        _lines("treasury/auctions_query.csv", _cell(2, 21, "-4e10")),
        "auctions_query.csv",
        "row 2",
    ),  # fmt: skip
    "dts_negative_tga": (
        _lines("treasury/dts_operating_cash_balance.csv", _cell(2, 2, "-888000")),
        "dts_operating_cash_balance.csv",
        "row 2",
    ),  # fmt: skip
    "dts_duplicate_opening": (
        _lines("treasury/dts_operating_cash_balance.csv", lambda ls: [*ls, ls[1]]),
        "dts_operating_cash_balance.csv",
        "duplicate",
    ),  # fmt: skip
    "dts_short_row": (
        _lines("treasury/dts_operating_cash_balance.csv", lambda ls: [*ls[:-1], ls[-1][:25]]),
        "dts_operating_cash_balance.csv",
        "short row",
    ),  # fmt: skip
    "sofr_volume_negative": (
        _lines("market/sofr_volume_daily.csv", _cell(2, 1, "-950000000000")),
        "sofr_volume_daily.csv",
        "row 2",
    ),  # fmt: skip
    "sofr_volume_a_folder": (
        _replace_with("market/sofr_volume_daily.csv", lambda p: p.mkdir()),
        "sofr_volume_daily.csv",
        "a folder",
    ),  # fmt: skip
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_bad_data_folder(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    change, file, where = DATA_CASES[case]
    folder = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, folder, ignore=shutil.ignore_patterns("responses", "README.md"))
    change(folder)
    png = tmp_path / "figure.png"
    code, _, err = _call(["dashboard", "--real", str(folder), "--png", str(png)], capsys)
    assert code == 2, err
    assert file in err and where in err
    assert not png.exists()


def test_the_good_data_folder_loads(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The corpus's starting point is clean: every case above fails because of its one change."""
    folder = tmp_path / "data"
    shutil.copytree(FIXTURE_DATA, folder, ignore=shutil.ignore_patterns("responses", "README.md"))
    code, _, err = _call(["dashboard", "--real", str(folder), "--png", str(tmp_path / "figure.png")], capsys)
    assert code == 0, err
