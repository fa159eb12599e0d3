"""Near-optimal parameter sets of a fit: the trials the data cannot tell from the best one.

A fit's loss is itself noisy: its moments come from simulations with a few seeds, so the best
trial of a search is partly the luckiest. `plumbing near-optimal CONFIG` takes the fit's best
`candidates` trials from its study (`calibration/fitted/<name>.study.db`, written by `plumbing
calibrate`), evaluates each again on fresh seed pairs (never the fit's own seeds), and measures
the loss's noise from those repeats: with two fresh evaluations a and b of each candidate, the
standard deviation of one evaluation's loss is sd(a - b) / sqrt(2) over the candidates. Each
candidate's fresh loss is the mean of its evaluations; a candidate is near-optimal when its fresh
loss is within two noise standard deviations of the lowest (the difference of two such means has
about one noise standard deviation when there are two evaluations each).

The sets are written to `calibration/fitted/<name>.near_optimal.yaml`, best first, with their
losses; experiment files name that file under `parameter_sets:` to carry the fit's parameter
uncertainty into their findings (see `sim.experiments.uncertainty`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.calibration.fit import CalibrationConfig, calibration_windows, search_problem, windows_calibration
from sim.calibration.msm import stamp
from sim.files import write_atomic
from sim.scenario import Problem, ScenarioError

FRESH_SEED_PAIRS = ((101, 102), (103, 104))
NOISE_MULTIPLE = 2.0  # near-optimal: fresh loss within this many noise sds of the lowest


@dataclass(frozen=True)
class Candidate:
    """One of the fit's best trials, evaluated again.

    Attributes:
        trial: the trial's number in the study.
        fit_loss: its loss in the search (the fit's seeds).
        fresh_losses: its loss on each fresh seed pair.
        params: its parameter values by dotted key.
    """

    trial: int
    fit_loss: float
    fresh_losses: tuple[float, ...]
    params: dict[str, float]

    @property
    def fresh_loss(self) -> float:
        return float(np.mean(self.fresh_losses))


def loss_noise_sd(candidates: Sequence[Candidate]) -> float:
    """Standard deviation of one evaluation's loss, from the candidates' repeats on common seed pairs.

    The residual of a two-way layout (candidate x seed pair): what is left of each loss after the
    candidate's mean and the seed pair's mean (a pair that is hard for every candidate does not
    change their order). With two pairs this is sd(a - b) / sqrt(2) over the candidates.
    """
    losses = np.array([c.fresh_losses for c in candidates], dtype=float)
    rows, columns = losses.shape
    if rows < 2 or columns < 2:
        return math.nan
    residual = losses - losses.mean(axis=1, keepdims=True) - losses.mean(axis=0, keepdims=True) + losses.mean()
    return math.sqrt(float((residual**2).sum()) / ((rows - 1) * (columns - 1)))


def near_optimal(candidates: Sequence[Candidate], noise_sd: float) -> list[Candidate]:
    """The candidates whose fresh loss is within NOISE_MULTIPLE noise sds of the lowest, best first."""
    ranked = sorted(candidates, key=lambda c: (c.fresh_loss, c.trial))
    best = ranked[0].fresh_loss
    return [c for c in ranked if c.fresh_loss - best <= NOISE_MULTIPLE * noise_sd]


def best_trials(config: CalibrationConfig, fitted: Path, count: int) -> list[tuple[int, float, dict[str, float]]]:
    """The study's `count` lowest-loss complete trials, and its first when not among them:
    (number, loss, params). A search starts at the fit it replaces (`starting_point`), so that
    incumbent meets its challengers on the same fresh seeds: two seeds' loss is noisy enough to
    rank it below sets that do worse out of sample.

    Raises:
        ScenarioError: no study beside the fitted file (the fit has not been run here), or one
            of a different problem (`sim.calibration.fit.search_problem`).
    """
    import optuna

    database = fitted.with_suffix(".study.db")
    if not database.is_file():
        raise ScenarioError([Problem(str(database), "", "the fit's study (run `plumbing calibrate` first)",
                                     "no file")])  # fmt: skip
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=config.name, storage=f"sqlite:///{database}")
    problem = search_problem(config, [w for w in calibration_windows(config) if w.fitted])
    if study.user_attrs.get("problem") != problem:
        # Its losses, and so which trials rank best, belong to another fit.
        raise ScenarioError([Problem(str(database), "", "a search of this config's problem as it stands (run "
                                     "`plumbing calibrate` again)", "a search of a different problem: the scenarios, "
                                     "targets, parameter box, seeds or model code have changed since")])  # fmt: skip
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None]
    ranked = sorted(complete, key=lambda t: (float(t.value or math.inf), t.number))[:count]
    first = min(complete, key=lambda t: t.number, default=None)
    if first is not None and first not in ranked:
        ranked.append(first)
    return [(t.number, float(t.value or math.inf), {k: float(v) for k, v in t.params.items()}) for t in ranked]


def evaluate_candidates(
    config: CalibrationConfig,
    trials: Sequence[tuple[int, float, dict[str, float]]],
    seed_pairs: Sequence[Sequence[int]] = FRESH_SEED_PAIRS,
    progress: Callable[[int, int, float], None] | None = None,
) -> list[Candidate]:
    """Each trial's loss on each fresh seed pair, over the fit's fitted windows."""
    windows = [w for w in calibration_windows(config) if w.fitted]
    fits = [windows_calibration(config, windows, list(pair)) for pair in seed_pairs]
    out = []
    try:
        for i, (number, fit_loss, params) in enumerate(trials):
            losses = tuple(fit.evaluate(params).loss for fit in fits)
            out.append(Candidate(number, fit_loss, losses, params))
            if progress is not None:
                progress(i + 1, len(trials), min(c.fresh_loss for c in out))
    finally:
        for fit in fits:
            fit.close()
    return out


def near_optimal_yaml(config: CalibrationConfig, candidates: Sequence[Candidate], noise_sd: float) -> str:
    """The near-optimal file: a header saying how it was made, then the sets, best first."""
    chosen = near_optimal(candidates, noise_sd)
    best = chosen[0].fresh_loss
    header = [
        f"Near-optimal parameter sets of the fit `{config.name}`, written by `plumbing near-optimal` on {stamp()}.",
        f"The fit's best trials and its first (the fit it replaced), {len(candidates)} in all, were evaluated again "
        "on fresh seed pairs "
        f"{[list(p) for p in FRESH_SEED_PAIRS]};",
        f"one evaluation's loss has a noise sd of {noise_sd:.1f}; a set is kept when its fresh loss (mean of its",
        f"evaluations) is within {NOISE_MULTIPLE:g} noise sds of the lowest ({best:.1f}): {len(chosen)} of "
        f"{len(candidates)} kept.",
        f"Regenerate: plumbing near-optimal calibration/configs/{config.name}.yaml",
    ]
    data: dict[str, Any] = {
        "fit": config.name,
        "loss_noise_sd": round(noise_sd, 3),
        "sets": [
            {
                "name": f"trial_{c.trial}",
                "fit_loss": round(c.fit_loss, 3),
                "fresh_loss": round(c.fresh_loss, 3),
                "parameters": {k: float(v) for k, v in sorted(c.params.items())},
            }
            for c in chosen
        ],
        "rejected": [
            {"name": f"trial_{c.trial}", "fit_loss": round(c.fit_loss, 3), "fresh_loss": round(c.fresh_loss, 3)}
            for c in sorted(candidates, key=lambda c: (c.fresh_loss, c.trial))
            if c not in chosen
        ],
    }
    return "".join(f"# {line}\n" for line in header) + yaml.safe_dump(data, sort_keys=False)


def confirmation_markdown(candidates: Sequence[Candidate], noise_sd: float) -> str:
    """The report's section on the best trials evaluated again: each trial's losses, which were kept."""
    kept = near_optimal(candidates, noise_sd)
    search_best = min(candidates, key=lambda c: (c.fit_loss, c.trial))
    lines = [
        f"The search's lowest-loss trials and trial 0, where it started (the fit it replaced), {len(candidates)} "
        "trials in all, were evaluated again on fresh seed pairs "
        f"{[list(p) for p in FRESH_SEED_PAIRS]}. One evaluation's loss has a noise standard deviation of "
        f"{noise_sd:.1f} (the residual of the trial x seed-pair table). The fitted parameters are trial "
        f"{kept[0].trial}'s, the lowest fresh loss ({kept[0].fresh_loss:.1f}); the search's lowest loss, trial "
        f"{search_best.trial} ({search_best.fit_loss:.1f} on the fit's seeds), has a fresh loss of "
        f"{search_best.fresh_loss:.1f}. {len(kept)} trials lie within {NOISE_MULTIPLE:g} noise standard deviations of "
        "the lowest: the near-optimal sets, written beside the fitted file, that experiments with "
        "`parameter_sets:` run under.",
        "",
        "| trial | loss in the search | fresh losses | fresh loss (mean) | near-optimal |",
        "|---:|---:|---|---:|---|",
    ]
    for c in sorted(candidates, key=lambda c: (c.fresh_loss, c.trial)):
        fresh = ", ".join(f"{v:.1f}" for v in c.fresh_losses)
        lines.append(
            f"| {c.trial} | {c.fit_loss:.1f} | {fresh} | {c.fresh_loss:.1f} | {'yes' if c in kept else 'no'} |"
        )
    return "\n".join(lines) + "\n"


def write_near_optimal(
    config: CalibrationConfig,
    repo_root: Path,
    count: int,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Path, list[Candidate], float]:
    """Evaluate the fit's best `count` trials again and write the near-optimal file.

    Returns:
        (the file written, every candidate evaluated, the loss's noise sd).
    """
    fitted = config.fitted or repo_root / "calibration" / "fitted" / f"{config.name}.yaml"
    trials = best_trials(config, fitted, count)
    if len(trials) < 2:
        raise ScenarioError([Problem(str(fitted.with_suffix(".study.db")), "", "at least two completed trials",
                                     f"{len(trials)}")])  # fmt: skip
    candidates = evaluate_candidates(config, trials, progress=progress)
    noise = loss_noise_sd(candidates)
    path = fitted.with_name(f"{fitted.stem}.near_optimal.yaml")
    write_atomic(path, near_optimal_yaml(config, candidates, noise))
    return path, candidates, noise
