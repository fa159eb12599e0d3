"""The dashboard commands: `plumbing dashboard`, `compare --real`, `run --reference`, `fetch-data`."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_DATA = ROOT / "tests" / "fixtures" / "data"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def short_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs")
    assert (
        main(["run", str(ROOT / "scenarios" / "baseline.yaml"), "--days", "40", "--seed", "3", "--out", str(out)]) == 0
    )
    return next((out / "baseline").iterdir())


def test_dashboard_of_a_run_prints_every_panel_and_draws(short_run, tmp_path, capsys):
    png, js = tmp_path / "d.png", tmp_path / "d.json"
    assert main(["dashboard", str(short_run), "--png", str(png), "--json", str(js)]) == 0
    out = capsys.readouterr().out
    for panel in ("A repo", "B auctions", "C fails", "Pipe", "Reservoir"):
        assert panel in out
    assert png.read_bytes()[:8] == PNG
    data = json.loads(js.read_text())
    assert data["metrics"]["repo_dispersion_mean_bp"]["unit"] == "bp" and data["scorecard"] is None


def test_dashboard_scored_against_reference_runs(short_run, tmp_path, capsys):
    js = tmp_path / "scored.json"
    assert main(["dashboard", str(short_run), "--reference", str(short_run), "--png", str(tmp_path / "s.png"),
                 "--json", str(js)]) == 0  # fmt: skip
    card = json.loads(js.read_text())["scorecard"]
    # A run scored against itself: every available light is green and both indices are zero.
    assert card["stress_index"] == pytest.approx(0.0) and card["throughput_index"] == pytest.approx(0.0)
    assert {s["light"] for s in card["scores"].values()} <= {"green", "n/a"}
    out = capsys.readouterr().out
    assert "Plumbing-stress index" in out
    # The verdict comes first: against itself nothing moved beyond noise.
    verdict = re.search(r"None of the \d+ headline numbers moved beyond noise", out)
    assert verdict is not None and verdict.start() < out.index("Plumbing-stress index")


def test_run_with_a_reference_writes_a_scorecard(short_run, tmp_path):
    out = tmp_path / "runs"
    code = main(["run", str(ROOT / "scenarios" / "qe_40b_bills.yaml"), "--days", "40", "--seed", "3",
                 "--out", str(out), "--reference", str(short_run)])  # fmt: skip
    assert code == 0
    folder = next((out / "qe_40b_bills").iterdir())
    card = json.loads((folder / "dashboard.json").read_text())["scorecard"]
    assert card is not None and "stress_index" in card
    page = (folder / "report.html").read_text()
    assert "Scored against" in page
    # The answer first: the figure, the verdict against the reference, then the tables.
    order = [page.index(text) for text in ("<img", "Moved beyond noise", "No material change", "<table")]
    assert order == sorted(order)


@pytest.fixture(scope="module")
def fixture_period_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run over the fixture data's weeks (2022-04-11 to 2022-05-04)."""
    out = tmp_path_factory.mktemp("runs2022")
    args = ["run", str(ROOT / "scenarios" / "baseline.yaml"), "--start", "2022-04-11", "--end", "2022-05-04"]
    assert main([*args, "--seed", "1", "--out", str(out)]) == 0
    return next((out / "baseline").iterdir())


def test_dashboard_and_compare_against_a_real_period(fixture_period_run, tmp_path, capsys, monkeypatch):
    png = tmp_path / "real.png"
    assert main(["dashboard", "--real", str(FIXTURE_DATA), "--png", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    # The data folder can also come from the environment.
    monkeypatch.setenv("PLUMBING_DATA_DIR", str(FIXTURE_DATA))
    overlay = tmp_path / "overlay.png"
    capsys.readouterr()
    assert main(["compare", str(fixture_period_run), "--real", "--png", str(overlay)]) == 0
    out = capsys.readouterr().out
    assert "KS distance" in out and "Scorecard" in out
    assert overlay.read_bytes()[:8] == PNG
    # By default the real period is the run's own dates, and the output says so.
    assert "window    = 2022-04-11 to 2022-05-04: the days both the run (2022-04-11 to 2022-05-04)" in out
    # The run's all-auction rows are weighted to the real period's mix of auctions, and it says so.
    assert "All-auction rows: the run's tenor groups weighted as the real period's auctions (" in out


def test_start_and_end_restrict_the_run_and_the_real_side(fixture_period_run, tmp_path, capsys):
    args = ["compare", str(fixture_period_run), "--real", str(FIXTURE_DATA), "--png", str(tmp_path / "c.png")]
    assert main([*args, "--start", "2022-04-20"]) == 0
    out = capsys.readouterr().out
    assert "window    = 2022-04-20 to 2022-05-04" in out and "within --start/--end" in out
    assert "real      = real 2022-04-20 to 2022-05-04" in out
    # Dates outside the run, or a run the data do not cover, are refused with what each side holds.
    assert main([*args, "--start", "2023-01-01"]) == 2
    assert "expected dates within the run (2022-04-11 to 2022-05-04)" in capsys.readouterr().err


def test_a_run_outside_the_data_is_refused(short_run, tmp_path, capsys):
    png = tmp_path / "c.png"
    assert main(["compare", str(short_run), "--real", str(FIXTURE_DATA), "--png", str(png)]) == 2
    err = capsys.readouterr().err
    assert "no repo data between 2025-01-02" in err and "the real data hold none of those days" in err
    assert not png.exists()


def test_dashboard_real_against_reference_runs_scores_their_window(fixture_period_run, tmp_path, capsys):
    png = tmp_path / "d.png"
    assert main(["dashboard", "--real", str(FIXTURE_DATA), "--reference", str(fixture_period_run),
                 "--start", "2022-04-25", "--png", str(png)]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Window: 2022-04-25 to 2022-05-04: the days both the reference run" in out
    assert "Scorecard: real 2022-04-25 to 2022-05-04" in out
    assert "All-auction rows: the runs' tenor groups weighted as the real period's auctions (" in out


def test_reference_runs_of_different_horizons_are_refused(short_run, fixture_period_run, tmp_path, capsys):
    png = tmp_path / "d.png"
    code = main(["dashboard", str(short_run), "--reference", str(short_run), str(fixture_period_run),
                 "--png", str(png)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "expected runs over the same dates" in err and "2022-04-11 to 2022-05-04" in err
    assert not png.exists()


def test_bad_real_data_requests_exit_2(short_run, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PLUMBING_DATA_DIR", raising=False)
    assert main(["dashboard", "--real"]) == 2
    assert "PLUMBING_DATA_DIR" in capsys.readouterr().err
    assert main(["dashboard", "--real", str(tmp_path / "nowhere")]) == 2
    assert main(["compare", str(short_run)]) == 2  # neither a second run nor --real
    broken = tmp_path / "broken"
    (broken / "fred").mkdir(parents=True)
    (broken / "fred" / "SOFR.csv").write_text("observation_date,SOFR\n2025-01-02,4.3\n2025-01-03,abc\n")
    assert main(["dashboard", "--real", str(broken)]) == 2
    err = capsys.readouterr().err
    assert "SOFR.csv" in err and "row 3" in err and "SOFR" in err


def test_fetch_data_reports_failures_and_writes_nothing(tmp_path, monkeypatch, capsys):
    import sim.data.fetch as fetch

    def offline(url: str) -> bytes:
        raise OSError("network unreachable")

    monkeypatch.setattr(fetch, "default_opener", offline)
    out = tmp_path / "data"
    assert main(["fetch-data", "--out", str(out), "--start", "2025-09-01", "--end", "2025-09-05"]) == 1
    assert "fred.stlouisfed.org" in capsys.readouterr().err
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


@pytest.mark.skipif(not os.environ.get("PLUMBING_DATA_DIR"), reason="needs the real data folder")
def test_compare_with_real_2025(short_run, tmp_path, capsys):
    assert main(["compare", str(short_run), "--real", "--start", "2025-01-01", "--end", "2025-09-30",
                 "--png", str(tmp_path / "c.png")]) == 0  # fmt: skip
    assert "High minus median accepted yield, per auction, 2-7y" in capsys.readouterr().out


def test_holdout_scores_a_scenario_on_a_real_period(tmp_path, capsys):
    png = tmp_path / "holdout.png"
    args = ["holdout", str(ROOT / "scenarios" / "baseline.yaml"), "--real", str(FIXTURE_DATA)]
    assert main([*args, "--start", "2022-04-11", "--end", "2022-05-04", "--seeds", "1", "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "KS distance" in out and "Scorecard" in out and png.read_bytes()[:8] == PNG
    assert "All-auction rows: the runs' tenor groups weighted as the real period's auctions (" in out
    assert main(args) == 2  # a held-out period needs its dates


def test_figures_go_to_the_run_folder_or_the_png_path_never_here(fixture_period_run, tmp_path, capsys, monkeypatch):
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    real = ["--real", str(FIXTURE_DATA)]
    assert main(["dashboard", *real]) == 0
    assert "--png PATH" in capsys.readouterr().err
    assert main(["compare", str(fixture_period_run), *real]) == 0
    assert (fixture_period_run / "compare-real-2022-04-11-to-2022-05-04.png").read_bytes()[:8] == PNG
    assert main(["dashboard", *real, "--reference", str(fixture_period_run)]) == 0
    assert (fixture_period_run / "dashboard-real-2022-04-11-to-2022-05-04.png").read_bytes()[:8] == PNG
    assert main(["dashboard", str(fixture_period_run)]) == 0
    assert f"figure: {fixture_period_run / 'dashboard.png'}" in capsys.readouterr().out
    assert main(["holdout", str(ROOT / "scenarios" / "baseline.yaml"), *real, "--start", "2022-04-11",
                 "--end", "2022-04-20", "--seeds", "1"]) == 0  # fmt: skip
    assert list(here.iterdir()) == [], "nothing written into the current folder unasked"
