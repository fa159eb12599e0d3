"""Progress of the long jobs on stderr: a run's days, an experiment's runs, a fit's trials.

Every bar is drawn by tqdm (which Mesa already depends on), and only on a terminal: when
stderr is a file or a pipe, or with `--quiet`, nothing is drawn, so logs and the outputs
scripts parse stay as they are. stdout is never touched.
"""

from __future__ import annotations

import datetime as dt
import sys
from typing import Self, TextIO

from tqdm import tqdm


def progress_wanted(quiet: bool = False, stream: TextIO | None = None) -> bool:
    """Whether to draw progress: not asked to be quiet, and the stream (stderr) is a terminal."""
    stream = sys.stderr if stream is None else stream
    if quiet:
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class ProgressBar:
    """One tqdm bar fed with (done, total, note) calls; does nothing when not `enabled`.

    The bar is opened at the first call (when the total is known), shows the note (the
    simulated date, the run just finished, the best loss) after the count and closes
    itself when done reaches total.
    """

    def __init__(self, unit: str, enabled: bool = True, stream: TextIO | None = None, description: str = ""):
        self.unit = unit
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.description = description
        self.bar: tqdm | None = None

    def update(self, done: int, total: int, note: str = "") -> None:
        """Move the bar to `done` of `total` units, with `note` after the count."""
        if not self.enabled:
            return
        if self.bar is None:
            # `initial` counts work already done (saved runs, resumed trials) so the ETA uses only this session's pace.
            self.bar = tqdm(
                total=total, initial=done, unit=self.unit, desc=self.description or None, file=self.stream,
                dynamic_ncols=True, leave=True, smoothing=0.1,
            )  # fmt: skip
        if note:
            self.bar.set_postfix_str(note, refresh=False)
        self.bar.total = total
        if done > self.bar.n:
            self.bar.update(done - self.bar.n)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Close the bar (it stays on screen); safe to call twice."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        # An error or a stop signal mid-job: end the bar's line so the message after it starts on its own.
        self.close()


class DayProgress(ProgressBar):
    """A run's days: the callback `TreasuryMarketModel.run(progress=...)` takes."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, description: str = ""):
        super().__init__("day", enabled, stream, description)

    def __call__(self, done: int, total: int, date: dt.date) -> None:
        self.update(done, total, f"{date:%Y-%m-%d}" if self.enabled else "")


class RunProgress(ProgressBar):
    """An experiment's runs: runs done of all its runs (saved ones included), the run just finished."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, description: str = ""):
        super().__init__("run", enabled, stream, description)

    def __call__(self, done: int, total: int, finished: str) -> None:
        self.update(done, total, finished)


class TrialProgress(ProgressBar):
    """A calibration's trials, with the best loss so far."""

    def __init__(self, enabled: bool = True, stream: TextIO | None = None, description: str = ""):
        super().__init__("trial", enabled, stream, description)

    def __call__(self, done: int, total: int, best: float) -> None:
        self.update(done, total, f"best loss {best:.3f}")
