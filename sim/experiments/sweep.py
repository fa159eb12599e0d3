"""A sweep over one scenario key: the reference market with one parameter set to each of a list of values.

An experiment file may carry, besides (or instead of) its variant files, a section

```yaml
sweep:
  key: banks.reserves_bn          # a scenario key path, as `plumbing keys` lists it
  values: [1700, 2200, 2700]      # each value is one variant: the reference with the key set to it
```

Each value becomes the variant labelled `<key>-<value>` (e.g. `banks.reserves_bn-1700`): the
reference scenario with that key set (after the experiment's horizon overrides), validated
like any scenario. The key path runs through the schema's sections (mappings) to a key that
holds one value: a number, a switch, a text or a date (lists such as `shocks` are varied with
variant files). Every sweep variant is compared with the reference, seed by seed, like a
variant file.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from sim.experiments.design import LABEL
from sim.scenario import Problem, Scenario, ScenarioError, load_scenario
from sim.scenario.loader import deep_merge, nested


def _plain_value(value: Any) -> Any:
    if not isinstance(value, bool | int | float | str | dt.date):
        raise ValueError("a number, true/false, a text or a date")
    return value


# One swept value: what a scenario key holds (a section is swept key by key; lists by variant files).
SweepValue = Annotated[Any, AfterValidator(_plain_value)]


class SweepSpec(BaseModel):
    """The `sweep:` section of an experiment file as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(description="Scenario key path to set, sections joined by dots (e.g. banks.reserves_bn).")
    values: list[SweepValue] = Field(description="Values of the key, one variant each, in order.")

    @field_validator("values")
    @classmethod
    def _some_distinct_values(cls, value: list[Any]) -> list[Any]:
        if not value:
            raise ValueError("at least one value")
        labels = [value_label(v) for v in value]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(f"distinct values (repeated: {', '.join(repeated)})")
        return value


def value_label(value: Any) -> str:
    """A swept value as it appears in its variant's label: 1700 and 1700.0 both read `1700`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def sweep_label(key: str, value: Any) -> str:
    """The variant label of one swept value: `<key>-<value>`."""
    return f"{key}-{value_label(value)}"


def key_path_problem(key: str) -> str | None:
    """Why `key` does not name a scenario key (text for a Problem's `found`), or None when it does."""
    model: type[BaseModel] | None = Scenario
    walked: list[str] = []
    for part in key.split("."):
        if model is None:
            return f"{key!r} ({'.'.join(walked)} holds a value, not a section)"
        field = model.model_fields.get(part)
        if field is None:
            where = f"under {'.'.join(walked)}" if walked else "at the top level"
            return f"{key!r} (no key {part!r} {where})"
        walked.append(part)
        annotation = field.annotation
        model = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None
    return None


def sweep_scenarios(
    path: Path, sweep: SweepSpec, reference_file: Path | None, overrides: dict[str, Any], taken: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, Any], list[Problem]]:
    """The sweep's scenarios: the reference file with the key set to each value.

    Args:
        path: the experiment file (where problems are located).
        sweep: its `sweep:` section.
        reference_file: the reference scenario file; None when it is invalid (only the key is checked).
        overrides: the experiment's overrides (its keys for every scenario, then start_date and
            end_date), applied first.
        taken: labels already used by variant files.

    Returns:
        label -> fully resolved scenario (JSON-ready) in the order of the values; label ->
        the value swept; and the problems found (a bad key path, a label that clashes with a
        variant's, a value the schema refuses, each at `sweep.key` or `sweep.values[i]`).
    """
    problems: list[Problem] = []
    if (why := key_path_problem(sweep.key)) is not None:
        return {}, {}, [Problem(str(path), "sweep.key", "a scenario key path such as banks.reserves_bn", why)]
    if reference_file is None:
        return {}, {}, []
    scenarios: dict[str, dict[str, Any]] = {}
    values: dict[str, Any] = {}
    for i, value in enumerate(sweep.values):
        label = sweep_label(sweep.key, value)
        where = f"sweep.values[{i}]"
        if not LABEL.match(label):
            problems.append(Problem(str(path), where, "a value whose label is letters, digits, '_', '.' or '-'",
                                    repr(label)))  # fmt: skip
            continue
        if label in taken:
            problems.append(Problem(str(path), where, "a label no variant file uses", label))
            continue
        try:
            scenario = load_scenario(reference_file, deep_merge(overrides, nested(sweep.key, value)))
        except ScenarioError as err:
            # The reference loads on its own, so what the schema refuses here is the value.
            problems.extend(Problem(str(path), f"{where} -> {p.key_path}", p.expected, p.found) for p in err.problems)
            continue
        scenarios[label] = scenario.model_dump(mode="json")
        values[label] = value
    return scenarios, values, problems
