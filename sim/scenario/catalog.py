"""The named reference scenarios shipped in the project's `scenarios/` folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sim
from sim.scenario.loader import ScenarioError, load_scenario


@dataclass(frozen=True)
class ShippedScenario:
    """One scenario file, its name and one-line description (or why it does not load)."""

    path: Path
    name: str
    description: str
    valid: bool


def scenarios_dir() -> Path:
    """The `scenarios/` folder at the project root beside the package, else `./scenarios`."""
    beside_package = Path(sim.__file__).resolve().parent.parent / "scenarios"
    return beside_package if beside_package.is_dir() else Path.cwd() / "scenarios"


def shipped_scenarios(folder: Path | None = None) -> list[ShippedScenario]:
    """Every `*.yaml` scenario in `folder` (default `scenarios_dir()`), sorted by file name."""
    folder = scenarios_dir() if folder is None else folder
    found = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            found.append(ShippedScenario(path, path.stem, f"INVALID: {err.problems[0]}", False))
            continue
        found.append(ShippedScenario(path, scenario.name, scenario.description, True))
    return found
