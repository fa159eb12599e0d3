"""Progress bars: drawn on a terminal only, never with --quiet, never on stdout."""

from __future__ import annotations

import datetime as dt
import io

from sim.cli import main
from sim.progress import DayProgress, RunProgress, TrialProgress, progress_wanted


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal_and_not_when_quiet() -> None:
    assert progress_wanted(stream=Terminal())
    assert not progress_wanted(quiet=True, stream=Terminal())
    assert not progress_wanted(stream=io.StringIO())


def test_day_run_and_trial_bars_show_count_and_note() -> None:
    stream = Terminal()
    days = DayProgress(stream=stream)
    for day in range(1, 4):
        days(day, 3, dt.date(2025, 1, day + 1))
    assert "3/3" in stream.getvalue() and "2025-01-04" in stream.getvalue()
    assert days.bar is None, "the bar closes itself at the last day"
    stream = Terminal()
    with RunProgress(stream=stream, description="exp") as runs:
        runs(2, 8, "resuming saved runs")
        runs(3, 8, "last qe seed 4")
    assert "exp" in stream.getvalue() and "3/8" in stream.getvalue() and "last qe seed 4" in stream.getvalue()
    assert runs.bar is None, "leaving the block ends the bar's line"
    stream = Terminal()
    TrialProgress(stream=stream)(1, 1, 12.3456)
    assert "1/1" in stream.getvalue() and "best loss 12.346" in stream.getvalue()


def test_disabled_bar_writes_nothing() -> None:
    stream = Terminal()
    days = DayProgress(enabled=False, stream=stream)
    days(1, 2, dt.date(2025, 1, 2))
    assert stream.getvalue() == "" and days.bar is None


def test_run_draws_no_bar_when_stderr_is_not_a_terminal(tmp_path, capsys) -> None:
    from pathlib import Path

    scenario = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.yaml"
    assert main(["run", str(scenario), "--days", "3", "--out", str(tmp_path), "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith(str(tmp_path)) and len(out.strip().splitlines()) == 1
    assert "day/s" not in err and "%|" not in err
