"""Loading scenario files: safe YAML, `extends:` inheritance, located validation errors."""

from __future__ import annotations

import datetime as dt
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from sim.messages import printable
from sim.scenario.schema import SHOCK_KINDS, Scenario
from sim.scenario.yamlfile import YamlFileError, absolute_path, load_yaml_file, parse_yaml, read_text_limited

# Dates a scenario may hold: the calendar, the pricing and pandas' timestamps are sound here.
FIRST_DATE, LAST_DATE = dt.date(1990, 1, 1), dt.date(2200, 12, 31)
# At most this many problems are listed; the rest are counted in one closing line.
MAX_LISTED_PROBLEMS = 50

_EXPECTATIONS = {
    "extra_forbidden": "no such key (unknown keys are errors)",
    "missing": "a value (this key is required)",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario file."""

    file: str
    key_path: str
    expected: str
    found: str

    def __str__(self) -> str:
        # Control characters from the file (a NUL or newline in a name) are shown escaped.
        return (
            f"{printable(self.file, 400)}: {printable(self.key_path, 400)}: "
            f"expected {printable(self.expected, 400)}; found {printable(self.found, 400)}"
        )


class ScenarioError(Exception):
    """A scenario could not be loaded; `problems` lists each one with its location."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One line per problem, at most MAX_LISTED_PROBLEMS, then a line counting the rest."""
        shown = [str(p) for p in self.problems[:MAX_LISTED_PROBLEMS]]
        rest = self.problems[MAX_LISTED_PROBLEMS:]
        if rest:
            unknown = sum(p.expected == _EXPECTATIONS["extra_forbidden"] for p in rest)
            files = sorted({p.file for p in rest})
            what = f" ({unknown:,} of them unknown keys)" if unknown else ""
            shown.append(f"... and {len(rest):,} more problems{what} in {', '.join(printable(f) for f in files[:3])}")
        return shown


def _problem(err: YamlFileError) -> Problem:
    return Problem(err.file, err.key_path, err.expected, err.found)


def read_yaml_mapping(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    """The top-level mapping of one scenario file, read within the YAML limits.

    Raises:
        ScenarioError: no such file (reported at `extends` of the file naming it), not a regular
            file, too large, not UTF-8, invalid YAML, a limit passed, a duplicate key, an
            impossible date, an empty file or a top level that is not a mapping.
    """
    where = str(chain[-1]) if chain else None
    key = "extends" if chain else "(file)"
    try:
        text = read_text_limited(path, "an existing scenario file", key, where)
        data = parse_yaml(text, str(path))
    except YamlFileError as err:
        raise ScenarioError([_problem(err)]) from None
    if data is None:
        raise ScenarioError([Problem(str(path), "(file)", "a mapping of scenario keys", "an empty file")])
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "(top level)", "a mapping of keys", type(data).__name__)])
    return data


def nested(key: str, value: Any) -> dict[str, Any]:
    """The mapping that sets the dotted `key` to `value`: `a.b.c`, v -> {"a": {"b": {"c": v}}}."""
    out: Any = value
    for part in reversed(key.split(".")):
        out = {part: out}
    return out


def lookup(data: Any, key: str, missing: Any = None) -> Any:
    """The value at the dotted `key` of nested mappings, `missing` where a part is absent."""
    for part in key.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return missing
        data = data[part]
    return data


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Override nested keys of `base`; lists and scalars are replaced whole."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def resolve_file(path: str | Path, chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], dict[str, Path]]:
    """Read a scenario file and everything it extends into one raw mapping.

    Returns the merged mapping and, for each top-level key, the file that last set it (for
    error messages).
    """
    path = absolute_path(Path(path))
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError([Problem(str(chain[-1]), "extends", "a chain without cycles", cycle)])
    data = read_yaml_mapping(path, chain)
    parent = data.pop("extends", None)
    origin = {key: path for key in data}
    if parent is None:
        return data, origin
    if not isinstance(parent, str):
        raise ScenarioError([Problem(str(path), "extends", "a file path (string)", _show(parent))])
    base, base_origin = resolve_file(path.parent / parent, (*chain, path))
    return deep_merge(base, data), {**base_origin, **origin}


def _key_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


# Values are shown abbreviated: a list of a million items prints as its first few.
_REPR = reprlib.Repr(maxlevel=2, maxdict=4, maxlist=4, maxtuple=4, maxset=4, maxstring=80, maxother=80, maxlong=40)


def _show(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    text = _REPR.repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def problems_from(err: ValidationError, origin: dict[str, Path], default_file: str) -> list[Problem]:
    """Turn pydantic's errors into located problems."""
    problems = []
    for e in err.errors(include_url=False):
        loc = tuple(e["loc"])
        # Discriminated unions add the tag name to the location; it is not a key of the file.
        loc = tuple(x for x in loc if not (isinstance(x, str) and x.startswith("function-after")))
        if len(loc) >= 3 and loc[0] == "shocks" and isinstance(loc[1], int) and isinstance(loc[2], str):
            if loc[2] in SHOCK_KINDS:
                loc = loc[:2] + loc[3:]
        top = loc[0] if loc and isinstance(loc[0], str) else None
        file = str(origin.get(top, default_file)) if top else default_file
        message = e["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
        expected = _EXPECTATIONS.get(e["type"], message)
        found = "nothing" if e["type"] == "missing" else _show(e.get("input"))
        problems.append(Problem(file, _key_path(loc), expected, found))
    return problems


def load_scenario(
    path: str | Path,
    overrides: dict[str, Any] | None = None,
    overrides_from: str | None = None,
    data_dir: str | Path | None = None,
) -> Scenario:
    """Load and validate a scenario file (following `extends:`), and read its replay.

    Args:
        path: YAML scenario file.
        overrides: nested keys to set on top of the file (e.g. from the command line).
        overrides_from: the file the overrides came from (e.g. an experiment file), named in
            the problems of those keys.
        data_dir: the public data folder a `replay:` reads; None reads PLUMBING_DATA_DIR.

    Raises:
        ScenarioError: listing every problem with file, key path, expected and found.
    """
    data, origin = resolve_file(path)
    if overrides:
        data = deep_merge(data, overrides)
        if overrides_from is not None:
            origin = {**origin, **dict.fromkeys(overrides, Path(overrides_from))}
    default_file = str(absolute_path(Path(path)))
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from(err, origin, default_file)) from None
    except RecursionError:
        raise ScenarioError([Problem(default_file, "(file)", "nesting a scenario can hold", "deeper")]) from None
    check_scenario(scenario, origin, default_file)
    return _replayed(scenario, origin, default_file, data_dir)


def read_mapping_file(path: str | Path, what: str) -> dict[str, Any]:
    """The top-level mapping of a project YAML file (an experiment, a calibration config, an episode).

    Raises:
        ScenarioError: no such file, invalid YAML or past the reader's limits, or a top level that
            is not a mapping (`what` says which file was expected).
    """
    try:
        data = load_yaml_file(path, what)
    except YamlFileError as err:
        raise ScenarioError([Problem(err.file, err.key_path, err.expected, err.found)]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "(top level)", "a mapping of keys", type(data).__name__)])
    return data


def validated_file[M: BaseModel](path: str | Path, model: type[M], what: str) -> M:
    """A project YAML file validated as `model`; every problem located like a scenario's."""
    data = read_mapping_file(path, what)
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from(err, {}, str(path))) from None


def scenario_from_dict(data: dict[str, Any], source: str = "<dict>", data_dir: str | Path | None = None) -> Scenario:
    """Validate a mapping as a scenario, with the same located errors as a file."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from(err, {}, source)) from None
    check_scenario(scenario, {}, source)
    return _replayed(scenario, {}, source, data_dir)


def _replayed(scenario: Scenario, origin: dict[str, Path], default_file: str, data_dir: str | Path | None) -> Scenario:
    """The scenario with its replay read (`sim.scenario.replay`); problems located to the data file
    or to the scenario file holding the key."""
    from sim.scenario.replay import ReplayProblem, replay_scenario  # reads the calendar, which imports the schema

    try:
        replayed = replay_scenario(scenario, data_dir)
    except ReplayProblem as p:
        file = str(origin.get(p.key_path.split(".")[0], default_file)) if p.file == "(scenario)" else p.file
        raise ScenarioError([Problem(file, p.key_path, p.expected, p.found)]) from None
    if replayed is not scenario:
        check_scenario(replayed, origin, default_file)
    return replayed


def _dates(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], dt.date]]:
    """Every date in a validated scenario, with its location."""
    if isinstance(value, dt.date):
        return [(path, value)]
    if isinstance(value, BaseModel):
        return [found for name in type(value).model_fields for found in _dates(getattr(value, name), (*path, name))]
    if isinstance(value, list | tuple):
        return [found for i, item in enumerate(value) for found in _dates(item, (*path, i))]
    return []


def check_scenario(scenario: Scenario, origin: dict[str, Path], default_file: str) -> None:
    """What the schema's field rules cannot see: dates in range, one policy change a day, one repo
    operation a day, a business day, opening holdings the issues outstanding can hold.

    Raises:
        ScenarioError: dates outside FIRST_DATE..LAST_DATE, two policy changes on one date, repo
            operations in force on the same day, a horizon (start_date to end_date) without a
            business day, or opening holdings of the central bank, foreign officials, money funds,
            levered funds and dealers beyond what `treasury.sizes` leave outstanding of an issue
            (named at the largest holder's key).
    """
    # The calendar and the issue stock import the schema, so not at the top.
    from sim.calendar import business_days
    from sim.issue_stock import opening_overdraw

    def file_of(loc: tuple[Any, ...]) -> str:
        return str(origin.get(loc[0], default_file)) if loc else default_file

    problems = []
    for loc, day in _dates(scenario):
        if not FIRST_DATE <= day <= LAST_DATE:
            problems.append(Problem(file_of(loc), _key_path(loc), f"a date from {FIRST_DATE} to {LAST_DATE}", str(day)))
    seen: dict[dt.date, int] = {}
    for i, change in enumerate(scenario.policy.path):
        if change.date in seen:
            loc = ("policy", "path", i, "date")
            problems.append(Problem(file_of(loc), _key_path(loc), "one change of the target range per date",
                                    f"{change.date} again (also policy.path[{seen[change.date]}])"))  # fmt: skip
        seen.setdefault(change.date, i)
    problems += _rate_table_problems(scenario, file_of)
    problems += _repo_operation_problems(scenario, file_of)
    if not problems and len(business_days(scenario.start_date, scenario.end_date)) == 0:
        found = f"{scenario.start_date} to {scenario.end_date}, no business day"
        problems.append(Problem(file_of(("end_date",)), "end_date", "at least one business day from start_date", found))
    over = None if problems else opening_overdraw(scenario)
    if over is not None:
        expected = "opening holdings within every issue's outstanding at treasury.sizes (lower this or raise the sizes)"
        found = f"{over.amount_bn:,.1f}bn more than {over.issue} (held with the other classes' opening holdings)"
        problems.append(Problem(file_of(tuple(over.key.split(".")[:1])), over.key, expected, found))
    if problems:
        raise ScenarioError(problems)


def _rate_table_problems(scenario: Scenario, file_of: Any) -> list[Problem]:
    """`policy.rates`: one row per date, and a row in force on the first simulated day."""
    from sim.calendar import business_days_before

    rows = scenario.policy.rates
    problems = []
    seen: dict[dt.date, int] = {}
    for i, row in enumerate(rows):
        if row.date in seen:
            loc = ("policy", "rates", i, "date")
            problems.append(Problem(file_of(loc), _key_path(loc), "one row of rates per date",
                                    f"{row.date} again (also policy.rates[{seen[row.date]}])"))  # fmt: skip
        seen.setdefault(row.date, i)
    if rows and FIRST_DATE <= scenario.start_date <= LAST_DATE:
        first_day = business_days_before(scenario.start_date, scenario.warmup_business_days)
        earliest = min(range(len(rows)), key=lambda i: rows[i].date)
        if rows[earliest].date > first_day:
            loc = ("policy", "rates", earliest, "date")
            problems.append(Problem(file_of(loc), _key_path(loc),
                                    f"a row in force on the first simulated day ({first_day}, warm-up included)",
                                    str(rows[earliest].date)))  # fmt: skip
    return problems


def _repo_operation_problems(scenario: Scenario, file_of: Any) -> list[Problem]:
    """`central_bank.repo_operations`: at most one in force on a day (an operation without an end runs
    to end_date)."""
    operations = scenario.central_bank.repo_operations
    spans = sorted((op.start, op.end or scenario.end_date, i) for i, op in enumerate(operations))
    problems = []
    latest: tuple[dt.date, int] | None = None  # the latest end so far, and its operation
    for start, end, i in spans:
        if latest is not None and start <= latest[0]:
            loc = ("central_bank", "repo_operations", i, "start")
            problems.append(Problem(file_of(loc), _key_path(loc),
                                    f"a start after the end of central_bank.repo_operations[{latest[1]}] ({latest[0]})",
                                    str(start)))  # fmt: skip
        if latest is None or end > latest[0]:
            latest = (end, i)
    return problems


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (every key, defaults included)."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
