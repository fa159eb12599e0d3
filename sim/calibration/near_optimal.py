"""Near-optimal parameter sets of a fit: the trials the data cannot tell from the best one.

A fit's loss is itself noisy: its moments come from simulations with a few seeds, so the best
trial of a search is partly the luckiest. `plumbing near-optimal CONFIG` takes the fit's best
`candidates` trials from its study (`calibration/fitted/<name>.study.db`, written by `plumbing
calibrate`), evaluates each again on four fresh seed pairs (never the fit's own seeds), and
keeps those the data cannot tell from the best (`Margin`). Each candidate's fresh loss is the mean
of its evaluations; a candidate is near-optimal when its fresh loss exceeds the lowest by no more
than two margins added together:

- the data's: the loss is a sum of squared t-statistics, so a set whose loss exceeds the best's
  by less than the 95% point of a chi-square with one degree of freedom is not rejected for any
  one function of the parameters (the verdict is one), a quasi-likelihood ratio. The model misses
  its targets by more than their standard errors (the loss at the fit is several times the
  number of moments less parameters), so the chi-square is scaled by that dispersion, the loss
  at the best over its degrees of freedom, as quasi-likelihood does with overdispersed data
  (McCullagh and Nelder 1989, section 9.2). The weighting is diagonal (each target's own s.e.),
  not the moments' full covariance, so the level is approximate.
- the simulation's: two standard errors of the difference of two fresh losses, the noise sd of
  one evaluation (`loss_noise_sd`) times sqrt(2 / evaluations).

The sets are written to `calibration/fitted/<name>.near_optimal.yaml`, best first, with their
losses; experiment files name that file under `parameter_sets:` to carry the fit's parameter
uncertainty into their findings (see `sim.experiments.uncertainty`).
"""

from __future__ import annotations

import itertools
import math
import textwrap
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

# Four pairs: with two, one wild evaluation decided both a set's fresh loss and the noise every
# set was judged by (the estimate ranged 16-105 across fits of nearly the same parameters).
FRESH_SEED_PAIRS = ((101, 102), (103, 104), (105, 106), (107, 108))
NOISE_MULTIPLE = 2.0  # the simulation's margin: standard errors of the difference of two fresh losses
DATA_CONFIDENCE = 0.95  # the data's margin: the quasi-likelihood ratio's level
MAD_TO_SD = 1.4826  # the median absolute deviation of a normal variable, in its standard deviations
# With few candidates the median absolute deviation runs low (the medians are fitted to the same
# draws): under normal noise it is 1 / (1 + 1.2 / candidates) of the sd for 6-48 candidates and
# 3-6 seed pairs, 2-3% less low with 2 pairs (simulated; tests/test_parameter_uncertainty.py).
SMALL_SAMPLE_CORRECTION = 1.2


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

    For each two seed pairs, each candidate's loss on one minus its loss on the other: the
    candidate's own level cancels, and the median of those differences over the candidates is what
    the two pairs do to every candidate (a pair that is hard for all does not change their order).
    What is left has standard deviation sqrt(2) times one evaluation's, and its scale is measured by
    the median absolute value, not the root mean square: a set near a cliff that scores 700 on one
    pair and 360 on another pays for it in its own mean, without widening the band every other set
    is judged by (two such sets took the root-mean-square estimate from about 50 to 105).
    """
    losses = np.array([c.fresh_losses for c in candidates], dtype=float)
    rows, columns = losses.shape
    if rows < 2 or columns < 2:
        return math.nan
    left = []
    for first, second in itertools.combinations(range(columns), 2):
        difference = losses[:, first] - losses[:, second]
        left.append(difference - np.median(difference))
    scale = MAD_TO_SD * float(np.median(np.abs(np.concatenate(left)))) / math.sqrt(2.0)
    return scale * (1.0 + SMALL_SAMPLE_CORRECTION / rows)


@dataclass(frozen=True)
class Margin:
    """How far above the lowest fresh loss a set may score and stay near-optimal (loss units).

    Attributes:
        noise_sd: standard deviation of one evaluation's loss (`loss_noise_sd`).
        simulation: NOISE_MULTIPLE standard errors of the difference of two fresh losses.
        dispersion: the lowest fresh loss over the fit's degrees of freedom (moments less
            parameters); NaN when there are none, and then the data add no margin.
        data: the 95% point of a chi-square with one degree of freedom times the dispersion.
    """

    noise_sd: float
    simulation: float
    dispersion: float
    data: float

    @property
    def total(self) -> float:
        return self.simulation + self.data


def near_optimal_margin(candidates: Sequence[Candidate], moments: int, parameters: int) -> Margin:
    """The margin for these candidates, from a fit of `moments` targets and `parameters` parameters."""
    from scipy import stats

    noise = loss_noise_sd(candidates)
    evaluations = min(len(c.fresh_losses) for c in candidates)
    simulation = NOISE_MULTIPLE * noise * math.sqrt(2.0 / evaluations) if math.isfinite(noise) else 0.0
    best = min(c.fresh_loss for c in candidates)
    freedom = moments - parameters
    dispersion = best / freedom if freedom > 0 else math.nan
    data = float(stats.chi2.ppf(DATA_CONFIDENCE, 1)) * dispersion if freedom > 0 else 0.0
    return Margin(noise, simulation, dispersion, data)


def near_optimal(candidates: Sequence[Candidate], margin: Margin) -> list[Candidate]:
    """The candidates whose fresh loss is within `margin.total` of the lowest, best first."""
    ranked = sorted(candidates, key=lambda c: (c.fresh_loss, c.trial))
    best = ranked[0].fresh_loss
    return [c for c in ranked if c.fresh_loss - best <= margin.total]


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


def _margin_sentence(margin: Margin, moments: int, parameters: int) -> str:
    """How the margin was made, in words, for the file's header and the report."""
    data = (f"the data's {margin.data:.1f} (chi-square(1) at 95% times the dispersion {margin.dispersion:.1f}, the "
            f"lowest fresh loss over {moments} moments less {parameters} parameters)"
            if math.isfinite(margin.dispersion) else
            f"no data margin ({moments} moments, {parameters} parameters: no degrees of freedom)")  # fmt: skip
    return (f"one evaluation's loss has a noise sd of {margin.noise_sd:.1f} (the median absolute residual of the "
            f"trial x seed-pair table, scaled to a normal sd); a set is kept when its fresh loss (the mean of its "
            f"evaluations) exceeds the lowest by at most {margin.total:.1f}: the simulation's {margin.simulation:.1f} "
            f"({NOISE_MULTIPLE:g} standard errors of the difference of two fresh losses) and {data}")  # fmt: skip


def near_optimal_yaml(config: CalibrationConfig, candidates: Sequence[Candidate], margin: Margin,
                      moments: int, parameters: int) -> str:  # fmt: skip
    """The near-optimal file: a header saying how it was made, then the sets, best first."""
    chosen = near_optimal(candidates, margin)
    best = chosen[0].fresh_loss
    lines = textwrap.wrap(f"{_margin_sentence(margin, moments, parameters)}.", width=96, break_on_hyphens=False)
    header = [
        f"Near-optimal parameter sets of the fit `{config.name}`, written by `plumbing near-optimal` on {stamp()}.",
        f"The fit's best trials and its first (the fit it replaced), {len(candidates)} in all, were evaluated again "
        f"on fresh seed pairs {[list(p) for p in FRESH_SEED_PAIRS]};",
        *lines,
        f"The lowest fresh loss is {best:.1f}: {len(chosen)} of {len(candidates)} kept.",
        f"Regenerate: plumbing near-optimal calibration/configs/{config.name}.yaml",
    ]
    data: dict[str, Any] = {
        "fit": config.name,
        "loss_noise_sd": round(margin.noise_sd, 3),
        "margin": round(margin.total, 3),
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


def confirmation_markdown(candidates: Sequence[Candidate], margin: Margin, moments: int, parameters: int) -> str:
    """The report's section on the best trials evaluated again: each trial's losses, which were kept."""
    kept = near_optimal(candidates, margin)
    search_best = min(candidates, key=lambda c: (c.fit_loss, c.trial))
    sentence = _margin_sentence(margin, moments, parameters)
    lines = [
        f"The search's lowest-loss trials and trial 0, where it started (the fit it replaced), {len(candidates)} "
        "trials in all, were evaluated again on fresh seed pairs "
        f"{[list(p) for p in FRESH_SEED_PAIRS]}. The fitted parameters are trial {kept[0].trial}'s, the lowest "
        f"fresh loss ({kept[0].fresh_loss:.1f}); the search's lowest loss, trial {search_best.trial} "
        f"({search_best.fit_loss:.1f} on the fit's seeds), has a fresh loss of {search_best.fresh_loss:.1f}. "
        f"{sentence[0].upper()}{sentence[1:]}. {len(kept)} trials are kept: the near-optimal sets, written beside "
        "the fitted file, that experiments with `parameter_sets:` run under.",
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


def fit_degrees(config: CalibrationConfig) -> tuple[int, int]:
    """(moments, parameters) of the fit: the targets of its fitted windows and the box's keys."""
    windows = [w for w in calibration_windows(config) if w.fitted]
    return sum(len(w.targets) for w in windows), len(config.parameters)


def write_near_optimal(
    config: CalibrationConfig,
    repo_root: Path,
    count: int,
    progress: Callable[[int, int, float], None] | None = None,
) -> tuple[Path, list[Candidate], Margin]:
    """Evaluate the fit's best `count` trials again and write the near-optimal file.

    Returns:
        (the file written, every candidate evaluated, the margin they were kept by).
    """
    fitted = config.fitted or repo_root / "calibration" / "fitted" / f"{config.name}.yaml"
    trials = best_trials(config, fitted, count)
    if len(trials) < 2:
        raise ScenarioError([Problem(str(fitted.with_suffix(".study.db")), "", "at least two completed trials",
                                     f"{len(trials)}")])  # fmt: skip
    candidates = evaluate_candidates(config, trials, progress=progress)
    moments, parameters = fit_degrees(config)
    margin = near_optimal_margin(candidates, moments, parameters)
    path = fitted.with_name(f"{fitted.stem}.near_optimal.yaml")
    write_atomic(path, near_optimal_yaml(config, candidates, margin, moments, parameters))
    return path, candidates, margin
