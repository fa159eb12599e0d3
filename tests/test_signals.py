"""Stop signals leave nothing behind: SIGINT, SIGTERM and SIGHUP at several moments of a run, temporary
folders of killed runs swept by the next run, run-folder names claimed atomically."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.runs import _claim_target, sweep_abandoned

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.yaml"


def _finished_runs_only(out: Path) -> None:
    """Everything under `out` is a finished run folder (manifest present); no temporary folders."""
    if not out.exists():
        return
    for entry in out.iterdir():
        assert not entry.name.startswith(".tmp-"), f"temporary folder left: {entry.name}"
        for run in entry.iterdir():
            assert (run / "manifest.json").is_file(), f"unfinished run folder: {run}"


@pytest.mark.parametrize("delay_s", [0.05, 1.0, 2.5])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_stop_signal_leaves_nothing_behind(signum: int, delay_s: float, tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim.cli", "run", str(BASELINE), "--days", "120", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay_s)
    process.send_signal(signum)
    _, err = process.communicate(timeout=120)
    # Finished before the signal (0), stopped by our handler (128 + n), or killed before Python set it (-n).
    # A SIGINT that lands while the interpreter itself is still starting (importing `site`, before
    # any of the project's code) is Python's own KeyboardInterrupt at start-up: exit 1, nothing written.
    interpreter_starting = process.returncode == 1 and "init_import_site" in err
    assert process.returncode in (0, 128 + signum, -signum) or interpreter_starting, err
    if process.returncode == 128 + signum:
        assert "Traceback" not in err and "interrupted" in err
    _finished_runs_only(out)
    if process.returncode != 0:
        assert not out.exists() or not any(out.iterdir())


def test_a_stop_signal_inside_an_import_is_an_interruption(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A signal landing while a C extension initializes (a lazy import mid-run) surfaces as that
    # import's own failure, `ImportError: initialization failed`; it is still the interruption.
    import sim.runs
    from sim import cli

    def import_interrupted(*args: object, **kwargs: object) -> None:
        try:
            cli._on_stop_signal(signal.SIGTERM, None)
        except KeyboardInterrupt:
            raise ImportError("initialization failed") from None

    monkeypatch.setattr(sim.runs, "execute_run", import_interrupted)
    out = tmp_path / "out"
    assert main(["run", str(BASELINE), "--days", "5", "--out", str(out)]) == 128 + signal.SIGTERM
    assert "interrupted; no run folder written" in capsys.readouterr().err
    _finished_runs_only(out)
    # The handlers are back, and the next command's failures are its own.
    assert signal.getsignal(signal.SIGTERM) is not cli._on_stop_signal
    monkeypatch.setattr(sim.runs, "execute_run", lambda *a, **k: (_ for _ in ()).throw(ImportError("broken")))
    assert main(["run", str(BASELINE), "--days", "5", "--out", str(out)]) == 1
    assert "run failed (ImportError: broken)" in capsys.readouterr().err


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_temporary_folders_of_killed_runs_are_swept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dead = tmp_path / f".tmp-baseline-20250101T000000Z-seed0-{_dead_pid()}-123"
    alive = tmp_path / f".tmp-baseline-20250101T000000Z-seed0-{os.getpid()}-456"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "daily.parquet").write_bytes(b"partial")
    assert sweep_abandoned(tmp_path) == [dead]
    assert alive.is_dir()
    alive.rename(tmp_path / f".tmp-baseline-20250101T000000Z-seed0-{_dead_pid()}-456")
    assert main(["run", str(BASELINE), "--days", "2", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["baseline"]


def test_a_killed_run_is_swept_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim.cli", "run", str(BASELINE), "--days", "250", "--out", str(out)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (out.is_dir() and any(out.iterdir())):
        time.sleep(0.05)
    process.kill()  # SIGKILL: no handler runs, the temporary folder stays
    process.wait()
    assert [p.name.startswith(".tmp-") for p in out.iterdir()] == [True]
    assert main(["run", str(BASELINE), "--days", "2", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["baseline"]


def test_run_folder_names_are_claimed_atomically(tmp_path: Path) -> None:
    first = _claim_target(tmp_path, "20250101T000000Z-seed0")
    second = _claim_target(tmp_path, "20250101T000000Z-seed0")
    assert first.name == "20250101T000000Z-seed0" and second.name == "20250101T000000Z-seed0-2"
    assert first.is_dir() and second.is_dir()
