"""The `plumbing` command: run folders, located input errors, atomic writes, list/validate/compare/keys."""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim import TreasuryMarketModel
from sim.calendar import business_days
from sim.cli import main
from sim.dashboard import METRIC_SPECS
from sim.scenario import load_scenario
from sim.scenario.reference import keys_markdown, keys_section

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
QE = SCENARIOS / "qe_40b_bills.yaml"

# The output contract (OUTPUTS.md), spelled out here so a renamed column fails a test.
RUN_FILES = {
    "manifest.json", "scenario.yaml", "daily.parquet", "auctions.parquet", "dealers.parquet",
    "dashboard.json", "dashboard.png", "report.html",
}  # fmt: skip
DAILY = """date reserves_bn tga_bn on_rrp_bn soma_bn srf_usage_bn iorb_pct on_rrp_rate_pct repo_p1_pct repo_p25_pct
repo_median_pct repo_p75_pct repo_p99_pct repo_volume_bn dealer_inventory_bn dealer_dv01_mn dealer_utilization
dealer_headroom_bn bid_ask_bp market_depth_bn customer_volume_bn fill_ratio repo_intermediated_bn fails_bn
yield_vol_bp risk_off yield_2y_pct yield_10y_pct yield_30y_pct is_month_end is_quarter_end is_tax_date
is_settlement_date""".split()
AUCTIONS = """auction_date issue_date tenor security_type offering_bn wi_yield_pct high_yield_pct median_yield_pct
low_yield_pct tail_bp bid_to_cover dealer_share direct_share indirect_share""".split()
DEALERS = """date dealer_id bank_affiliated equity_bn inventory_bn dv01_mn repo_borrowed_bn reverse_repo_bn
reserves_bn slr slr_headroom_bn risk_headroom_bn utilization""".split()
MANIFEST = {"scenario", "seed", "package_version", "started_at_utc", "wall_seconds", "days"}


def only_run_folder(out: Path, scenario: str) -> Path:
    """The single run folder under `out/scenario`, checking nothing else was left in `out`."""
    assert sorted(p.name for p in out.iterdir()) == [scenario], "stray files or temp folders under --out"
    [folder] = list((out / scenario).iterdir())
    return folder


@pytest.fixture(scope="module")
def baseline_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("baseline")
    assert main(["run", str(BASELINE), "--days", "60", "--seed", "7", "--out", str(out)]) == 0
    return only_run_folder(out, "baseline")


@pytest.fixture(scope="module")
def qe_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("qe")
    assert main(["run", str(QE), "--days", "60", "--seed", "7", "--out", str(out)]) == 0
    return only_run_folder(out, "qe_40b_bills")


# ---------------------------------------------------------------- run
def test_run_writes_every_contract_file(baseline_run: Path) -> None:
    assert baseline_run.name.endswith("-seed7")
    assert {p.name for p in baseline_run.iterdir()} == RUN_FILES
    daily = pd.read_parquet(baseline_run / "daily.parquet")
    auctions = pd.read_parquet(baseline_run / "auctions.parquet")
    dealers = pd.read_parquet(baseline_run / "dealers.parquet")
    assert set(DAILY) <= set(daily.columns)
    assert set(AUCTIONS) <= set(auctions.columns)
    assert set(DEALERS) <= set(dealers.columns)
    assert len(daily) == 60 and len(auctions) > 0 and len(dealers) == 60 * dealers["dealer_id"].nunique()

    manifest = json.loads((baseline_run / "manifest.json").read_text())
    assert MANIFEST <= set(manifest)
    assert manifest["scenario"] == "baseline" and manifest["seed"] == 7 and manifest["days"] == 60
    assert manifest["package_version"] == sim.__version__ and manifest["wall_seconds"] > 0

    # --days 60 ends the run on the 60th business day, and the written scenario says so.
    written = load_scenario(baseline_run / "scenario.yaml")
    sixtieth = business_days(written.start_date, written.end_date)
    assert len(sixtieth) == 60 and str(written.end_date) == manifest["end_date"]
    assert pd.Timestamp(daily["date"].iloc[-1]).date() == written.end_date

    dashboard = json.loads((baseline_run / "dashboard.json").read_text())
    assert set(dashboard["metrics"]) == set(METRIC_SPECS)
    assert dashboard["metrics"]["reserves_mean_bn"]["value"] == pytest.approx(daily["reserves_bn"].mean())
    assert dashboard["scorecard"] is None  # no --reference given
    assert (baseline_run / "dashboard.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    page = (baseline_run / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "data:image/png;base64," in page
    assert "<link" not in page and 'src="http' not in page  # self-contained
    for text in ("baseline", html.escape(written.description), "Standing Repo Facility", "SLR exemptions"):
        assert text in page


def test_no_report_leaves_out_the_figure_and_report_and_keeps_the_numbers(
    baseline_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["run", str(BASELINE), "--days", "60", "--seed", "7", "--out", str(tmp_path), "--no-report"]) == 0
    folder = only_run_folder(tmp_path, "baseline")
    assert capsys.readouterr().out.strip() == str(folder)
    assert {p.name for p in folder.iterdir()} == RUN_FILES - {"dashboard.png", "report.html"}
    for table in ("daily", "auctions", "dealers"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(folder / f"{table}.parquet"), pd.read_parquet(baseline_run / f"{table}.parquet")
        )
    written, reported = (json.loads((f / "dashboard.json").read_text()) for f in (folder, baseline_run))
    assert written["metrics"] == reported["metrics"]


def test_rerun_from_written_scenario_gives_identical_tables(baseline_run: Path, tmp_path: Path) -> None:
    assert main(["run", str(baseline_run / "scenario.yaml"), "--seed", "7", "--out", str(tmp_path)]) == 0
    again = only_run_folder(tmp_path, "baseline")
    for name in ("daily", "auctions", "dealers"):
        first = pd.read_parquet(baseline_run / f"{name}.parquet")
        second = pd.read_parquet(again / f"{name}.parquet")
        pd.testing.assert_frame_equal(first, second, check_exact=True)


BAD_FILES = {
    "invalid_yaml": ("name: x\ndescription: [unclosed\n", "(file)"),
    "unknown_key": ("name: x\ndealers:\n  cuont: 3\n", "dealers.cuont"),
    "wrong_type": ("name: x\ndealers:\n  count: lots\n", "dealers.count"),
    "negative_purchase": (
        "name: x\ncentral_bank:\n  purchases:\n    - {start: 2025-01-02, end: 2025-03-31, bn_per_month: -40}\n",
        "central_bank.purchases[0].bn_per_month",
    ),
    "end_before_start": ("name: x\nstart_date: 2025-06-02\nend_date: 2025-03-03\n", "end_date"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_scenario_file_is_a_located_error_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, key_path = BAD_FILES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{case}.yaml" in err and key_path in err
    assert not out.exists()


def test_missing_file_is_a_located_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "nowhere.yaml"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "nowhere.yaml" in err and "(file)" in err
    assert not out.exists()


def test_end_before_start_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(["run", str(BASELINE), "--start", "2025-06-02", "--end", "2025-03-03", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert "baseline.yaml" in err and "end_date" in err and "2025-03-03" in err
    assert not out.exists()


@pytest.mark.parametrize(("error", "code"), [(RuntimeError("model blew up"), 1), (KeyboardInterrupt(), 130)])
def test_failure_mid_run_leaves_nothing_behind(
    error: BaseException, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    step = TreasuryMarketModel.step

    def step_then_fail(self: TreasuryMarketModel) -> None:
        if self.day_index == 3:
            raise error
        step(self)

    monkeypatch.setattr(TreasuryMarketModel, "step", step_then_fail)
    fresh, existing = tmp_path / "fresh", tmp_path / "existing"
    existing.mkdir()
    (existing / "keep.txt").write_text("an earlier result")
    for out in (fresh, existing):
        assert main(["run", str(BASELINE), "--days", "10", "--out", str(out)]) == code
    assert not fresh.exists()
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert "no run folder written" in capsys.readouterr().err


def test_shocks_after_the_last_day_are_warned_about(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "late_shock.yaml"
    path.write_text(f"extends: {BASELINE}\nname: late\nshocks:\n  - {{kind: risk_off, date: 2025-11-03, days: 3}}\n")
    assert main(["run", str(path), "--days", "5", "--out", str(tmp_path / "out")]) == 0
    assert "warning: shocks[0]" in capsys.readouterr().err
    manifest = json.loads((only_run_folder(tmp_path / "out", "late") / "manifest.json").read_text())
    assert manifest["warnings"] and "shocks[0]" in manifest["warnings"][0]


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_runs_five_days(path: Path, tmp_path: Path) -> None:
    assert main(["run", str(path), "--days", "5", "--out", str(tmp_path)]) == 0
    [folder] = [f for d in tmp_path.iterdir() for f in d.iterdir()]
    assert {p.name for p in folder.iterdir()} == RUN_FILES
    assert json.loads((folder / "manifest.json").read_text())["days"] == 5


def test_qe_scenario_buys_bills(qe_run: Path) -> None:
    daily = pd.read_parquet(qe_run / "daily.parquet")
    # $40bn a month is about $1.9bn a business day.
    assert daily["purchases_bn"].mean() == pytest.approx(40.0 / 21.0, rel=0.1)


# ---------------------------------------------------------------- validate, list, compare, keys
def test_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(BASELINE), str(QE)]) == 0
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nrepo:\n  rounds_per_day: 0\n")
    assert main(["validate", str(BASELINE), str(bad)]) == 2
    out = capsys.readouterr().out
    assert "bad.yaml" in out and "repo.rounds_per_day" in out and "expected" in out and "found 0" in out


def test_validate_runs_as_a_module() -> None:
    done = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(QE)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "qe_40b_bills" in done.stdout


def test_list_shows_the_shipped_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for path in (BASELINE, QE):
        assert path.name in out and load_scenario(path).description in out


def test_compare_prints_a_table_and_writes_a_png(
    baseline_run: Path,
    qe_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    png = tmp_path / "figures" / "cmp.png"
    assert main(["compare", str(baseline_run), str(qe_run), "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "baseline-seed7" in out and "qe_40b_bills-seed7" in out
    for spec in METRIC_SPECS.values():  # readable names, not keys
        assert spec.label in out
    assert "Plumbing-stress index" in out and "Throughput index" in out
    # Without --png the figure goes beside the run scored, never into the current folder.
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["compare", str(baseline_run), str(qe_run)]) == 0
    assert (qe_run / "compare-vs-baseline-seed7.png").is_file()
    assert list(here.iterdir()) == []
    assert main(["compare", str(baseline_run), str(tmp_path / "not-a-run")]) == 2


def test_keys_prints_the_generated_reference(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys"]) == 0
    out = capsys.readouterr().out
    assert out == keys_markdown()
    for key in ("central_bank.purchases[].bn_per_month", "dealers.exempt_treasuries_from_slr", "shocks[].kind"):
        assert f"`{key}`" in out


def test_readme_keys_section_matches_the_schema() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert keys_section(readme) == keys_markdown().strip("\n"), (
        "README.md's scenario keys are out of date: run `plumbing keys --write README.md`"
    )


def test_readme_command_table_lists_exactly_the_subcommands_and_their_options() -> None:
    import argparse
    import re

    from sim.cli import _parser

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Commands\n", 1)[1].split("\n## ", 1)[0]
    documented: dict[str, set[str]] = {}
    for command, usage in re.findall(r"^\| `plumbing ([a-z][a-z-]*)([^`]*)` \|", section, flags=re.MULTILINE):
        documented.setdefault(command, set()).update(re.findall(r"--[a-z][a-z-]*", usage))
    actions = [a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)]
    commands = actions[0].choices
    assert set(documented) == set(commands), "README's command table differs from `plumbing --help`"
    for name, parser in commands.items():
        options = {o for a in parser._actions if a.help != argparse.SUPPRESS for o in a.option_strings
                   if o.startswith("--") and o != "--help"}  # fmt: skip
        assert documented[name] == options, f"README's `plumbing {name}` options differ from `plumbing {name} --help`"


def test_keys_write_says_unchanged_when_nothing_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = tmp_path / "README.md"
    readme.write_text((ROOT / "README.md").read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["keys", "--write", str(readme)]) == 0
    assert "unchanged" in capsys.readouterr().out
    readme.write_text(readme.read_text(encoding="utf-8").replace("`repo.rounds_per_day`", "`stale`"), encoding="utf-8")
    assert main(["keys", "--write", str(readme)]) == 0
    assert "updated" in capsys.readouterr().out and "`repo.rounds_per_day`" in readme.read_text(encoding="utf-8")
