"""Method of simulated moments: fit scenario parameters to target moments of the dashboard.

The loss is the weighted squared distance between the simulated and the target moments,
each weighted by its target's standard error (floored, so that a moment measured very
precisely cannot swamp the rest). Every evaluation runs the same seeds (common random
numbers), so differences between parameter sets are not seed noise; the seeds of one
evaluation run in parallel processes. The search is Optuna's TPE sampler, a Bayesian
optimiser made for expensive black-box objectives with bounds; its study lives in a
SQLite file, so an interrupted calibration resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import math
import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.scenario import Scenario, scenario_from_dict
from sim.scenario.loader import deep_merge, nested

if TYPE_CHECKING:
    # Imported where a search runs: a plain evaluation needs no Optuna.
    import optuna

MomentFunction = Callable[[Mapping[str, Any]], Mapping[str, float | None]]


@dataclass(frozen=True)
class Parameter:
    """A scenario key to fit, with its bounds (`key` is a dotted path, e.g. `banks.demand_curve_level_bp`)."""

    key: str
    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Target:
    """A target moment: value, standard error and the floor its weight uses."""

    name: str
    value: float
    se: float
    floor: float = 0.0

    @property
    def weight_se(self) -> float:
        """Standard error used in the loss: the target's, floored."""
        return max(self.se, self.floor, 1e-12)


@dataclass
class Evaluation:
    """One parameter set: its values, simulated moments (mean over seeds) and loss."""

    params: dict[str, float]
    moments: dict[str, float | None]
    per_seed: list[dict[str, float | None]] = field(default_factory=list)
    loss: float = math.inf


def apply_parameters(base: Mapping[str, Any], params: Mapping[str, float], keep: Sequence[str] = ()) -> dict[str, Any]:
    """A scenario mapping with the parameters set at their dotted keys, except those in `keep`
    (the base's values stay)."""
    data = dict(base)
    for key, value in params.items():
        if key in keep:
            continue
        data = deep_merge(data, nested(key, value))
    return data


def loss(moments: Mapping[str, float | None], targets: Sequence[Target]) -> float:
    """Sum over targets of ((simulated - target) / se)^2; a moment the run cannot produce costs 1e6."""
    total = 0.0
    for t in targets:
        value = moments.get(t.name)
        if value is None or not math.isfinite(value):
            total += 1e6
            continue
        total += ((value - t.value) / t.weight_se) ** 2
    return total


def _simulate(args: tuple[dict[str, Any], int, str]) -> dict[str, float | None]:
    """Run one scenario and seed in a worker process and return its moments."""
    from sim import TreasuryMarketModel

    scenario_data, seed, moments_ref = args
    module_name, func_name = moments_ref.split(":")
    module = __import__(module_name, fromlist=[func_name])
    moment_function: MomentFunction = getattr(module, func_name)
    scenario = scenario_from_dict(scenario_data)
    tables = TreasuryMarketModel(scenario, seed=seed).run().results()
    return dict(moment_function(tables))


class Calibration:
    """A method-of-simulated-moments fit.

    Args:
        base: the scenario mapping every evaluation starts from.
        parameters: the keys to fit, with bounds.
        targets: the target moments.
        moments: "module:function" computing a run's moments from its tables (a name, so
            worker processes can import it).
        seeds: the seeds of every evaluation (common random numbers).
        workers: processes per evaluation (seeds and windows run in parallel).
        windows: several windows of history fitted jointly, by name, each with its own base
            scenario mapping (`base` is then unused): one parameter set runs in every window,
            and each window's moments are named `<window>/<moment>`.
        own_keys: per window, the fitted keys it keeps at its own scenario's values.
    """

    def __init__(
        self,
        base: Mapping[str, Any] | None,
        parameters: Sequence[Parameter],
        targets: Sequence[Target],
        moments: str,
        seeds: Sequence[int],
        workers: int = 2,
        windows: Mapping[str, Mapping[str, Any]] | None = None,
        own_keys: Mapping[str, Sequence[str]] | None = None,
    ):
        if windows is None and base is None:
            raise ValueError("a base scenario or windows")
        self.windows = {"": dict(base or {})} if windows is None else {name: dict(b) for name, b in windows.items()}
        self.own_keys = {name: tuple(keys) for name, keys in (own_keys or {}).items()}
        self.parameters = list(parameters)
        self.targets = list(targets)
        self.moments = moments
        self.seeds = list(seeds)
        self.workers = max(1, min(workers, len(self.seeds) * len(self.windows)))
        self._pool: ProcessPoolExecutor | None = None
        for window_base in self.windows.values():
            scenario_from_dict(window_base)  # fail early on a bad base scenario

    def scenario(self, params: Mapping[str, float], window: str | None = None) -> Scenario:
        """The full scenario of a parameter set (in `window`, else the first window), the window's
        own keys left at its values."""
        name = next(iter(self.windows)) if window is None else window
        return scenario_from_dict(apply_parameters(self.windows[name], params, self.own_keys.get(name, ())))

    def evaluate(self, params: Mapping[str, float]) -> Evaluation:
        """Simulated moments (mean over the seeds) and loss of one parameter set, in every window
        (the loss counts the targets only: a window scored, not fitted, has none)."""
        jobs = []
        for name in self.windows:
            data = self.scenario(params, name).model_dump(mode="json")
            jobs += [(data, seed, self.moments) for seed in self.seeds]
        if self.workers > 1:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
            per_job = list(self._pool.map(_simulate, jobs))
        else:
            per_job = [_simulate(job) for job in jobs]
        # One mapping per seed, every window's moments in it under `<window>/` (no prefix for one
        # unnamed window).
        per_seed: list[dict[str, float | None]] = [{} for _ in self.seeds]
        for w, name in enumerate(self.windows):
            prefix = f"{name}/" if name else ""
            for i in range(len(self.seeds)):
                per_seed[i].update({prefix + k: v for k, v in per_job[w * len(self.seeds) + i].items()})
        names = {t.name for t in self.targets} | set().union(*(m.keys() for m in per_seed))
        means: dict[str, float | None] = {}
        for name in names:
            values = [m.get(name) for m in per_seed]
            finite = [v for v in values if v is not None and math.isfinite(v)]
            means[name] = float(np.mean(finite)) if len(finite) == len(values) and finite else None
        return Evaluation(dict(params), means, per_seed, loss(means, self.targets))

    def clipped(self, params: Mapping[str, float]) -> dict[str, float]:
        """The box's parameters of `params` (those it names), each clipped to its bounds."""
        box = {p.key: p for p in self.parameters}
        return {k: float(min(max(v, box[k].low), box[k].high)) for k, v in params.items() if k in box}

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def run(
        self,
        trials: int,
        storage: str | None = None,
        study_name: str = "calibration",
        sampler_seed: int = 0,
        progress: Callable[[int, int, float], None] | None = None,
        start: Mapping[str, float] | None = None,
        problem: str | None = None,
        notice: Callable[[str], None] | None = None,
    ) -> tuple[Evaluation, list[float]]:
        """Search the parameter box; returns the best evaluation and the loss history.

        Args:
            trials: total trials wanted; a resumed study runs only the missing ones.
            storage: Optuna storage URL (e.g. "sqlite:///fit.db"); None keeps it in memory.
            study_name: name of the study inside the storage.
            sampler_seed: seed of the TPE sampler (the search is reproducible).
            progress: called after each trial with (trials done, trials wanted, best loss).
            start: a parameter set a new study evaluates first (clipped to the box), e.g. the
                fit being replaced, so a re-fit never ends worse than it.
            problem: digest of what the losses depend on (`sim.calibration.fit.search_problem`),
                kept with the study: a stored study of another problem (or of none recorded) is
                deleted and the search starts again, since its losses belong to a different fit.
            notice: told, in a sentence, when a stored study is set aside that way.
        """
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        sampler = optuna.samplers.TPESampler(seed=sampler_seed, n_startup_trials=min(10, max(trials // 3, 1)))
        study = optuna.create_study(
            study_name=study_name, storage=storage, sampler=sampler, direction="minimize", load_if_exists=True
        )
        if problem is not None and study.user_attrs.get("problem") != problem:
            if study.trials and storage is not None:  # (a study in memory is always new)
                stale = len(study.trials)
                optuna.delete_study(study_name=study_name, storage=storage)
                study = optuna.create_study(study_name=study_name, storage=storage, sampler=sampler,
                                            direction="minimize")  # fmt: skip
                if notice is not None:
                    notice(f"{storage}: the stored search ({stale} trials) was of a different problem (the "
                           "scenarios, targets, parameter box, seeds or model code have changed since); "
                           "it is deleted and the search starts again")  # fmt: skip
            study.set_user_attr("problem", problem)
        done = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
        if start is not None and not study.trials:
            study.enqueue_trial(self.clipped(start))

        def objective(trial: optuna.Trial) -> float:
            params: dict[str, float] = {}
            for p in self.parameters:
                if p.integer:
                    params[p.key] = trial.suggest_int(p.key, int(p.low), int(p.high), log=p.log)
                else:
                    params[p.key] = trial.suggest_float(p.key, p.low, p.high, log=p.log)
            evaluation = self.evaluate(params)
            trial.set_user_attr("moments", {k: v for k, v in evaluation.moments.items() if v is not None})
            return evaluation.loss

        def callback(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
            if progress is not None:
                completed = sum(1 for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE)
                progress(completed, trials, study.best_value)

        try:
            if trials > done:
                study.optimize(objective, n_trials=trials - done, callbacks=[callback])
        finally:
            self.close()
        complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        history = [_loss(t) for t in complete]
        best = study.best_trial
        best_eval = Evaluation(dict(best.params), dict(best.user_attrs.get("moments", {})), [], _loss(best))
        return best_eval, history


def _loss(trial: optuna.trial.FrozenTrial) -> float:
    """A completed trial's loss: a single-objective study sets one on every completed trial."""
    if trial.value is None:
        raise ValueError(f"trial {trial.number} has no loss")
    return float(trial.value)


def fitted_fragment(params: Mapping[str, float], header: str) -> str:
    """The fitted parameters as a scenario fragment (YAML, nested keys) with a comment header."""
    import yaml

    data: dict[str, Any] = {}
    for key, value in sorted(params.items()):
        data = deep_merge(data, nested(key, float(value)))
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=True)


def stamp() -> str:
    """UTC time of a fit, for headers."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
