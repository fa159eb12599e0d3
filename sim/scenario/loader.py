"""Loading scenario files: safe YAML, `extends:` inheritance, located validation errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.scenario.schema import SHOCK_KINDS, Scenario

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
        return f"{self.file}: {self.key_path}: expected {self.expected}; found {self.found}"


class ScenarioError(Exception):
    """A scenario could not be loaded; `problems` lists each one with its location."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def read_yaml_mapping(path: Path, chain: tuple[Path, ...]) -> dict[str, Any]:
    if not path.is_file():
        where = str(chain[-1]) if chain else str(path)
        key = "extends" if chain else "(file)"
        raise ScenarioError([Problem(where, key, "an existing scenario file", f"no file at {path}")])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise ScenarioError([Problem(str(path), "(file)", "valid YAML", f"a syntax error at {at}")]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(str(path), "(file)", "UTF-8 text", "undecodable bytes")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(str(path), "(top level)", "a mapping of keys", type(data).__name__)])
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
    path = Path(path).resolve()
    if path in chain:
        cycle = " -> ".join(str(p) for p in (*chain, path))
        raise ScenarioError([Problem(str(chain[-1]), "extends", "a chain without cycles", cycle)])
    data = read_yaml_mapping(path, chain)
    parent = data.pop("extends", None)
    origin = {key: path for key in data}
    if parent is None:
        return data, origin
    if not isinstance(parent, str):
        raise ScenarioError([Problem(str(path), "extends", "a file path (string)", repr(parent))])
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


def _show(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    text = repr(value)
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


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load and validate a scenario file (following `extends:`).

    Args:
        path: YAML scenario file.
        overrides: nested keys to set on top of the file (e.g. from the command line).

    Raises:
        ScenarioError: listing every problem with file, key path, expected and found.
    """
    data, origin = resolve_file(path)
    if overrides:
        data = deep_merge(data, overrides)
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from(err, origin, str(Path(path).resolve()))) from None


def scenario_from_dict(data: dict[str, Any], source: str = "<dict>") -> Scenario:
    """Validate a mapping as a scenario, with the same located errors as a file."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as err:
        raise ScenarioError(problems_from(err, {}, source)) from None


def scenario_to_yaml(scenario: Scenario) -> str:
    """The fully resolved scenario as YAML (every key, defaults included)."""
    return yaml.safe_dump(scenario.model_dump(mode="json"), sort_keys=False)
