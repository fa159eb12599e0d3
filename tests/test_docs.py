"""The documents stay true: docs/ODD.md's key tables are current and every key it names exists; every figure
the READMEs show is one `python -m sim.docs.figures` regenerates, and is under version control."""

from __future__ import annotations

import re
from pathlib import Path

from sim.docs.figures import FIGURES, READMES
from sim.scenario.reference import key_paths, refresh_section_blocks
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[1]
ODD = ROOT / "docs" / "ODD.md"


def test_odd_key_tables_are_generated_from_the_schema():
    text = ODD.read_text(encoding="utf-8")
    assert refresh_section_blocks(text) == text, "run `python -m sim.scenario.reference docs/ODD.md`"


def test_every_key_the_odd_names_exists():
    text = ODD.read_text(encoding="utf-8")
    sections = set(Scenario.model_fields)
    named = {
        token for token in re.findall(r"`([a-z_]+(?:\.[a-z_0-9\[\]]+)+)`", text) if token.split(".")[0] in sections
    }
    assert len(named) > 50
    known = key_paths()
    # A section of its own (e.g. `central_bank.srf`) is named by its keys' common prefix.
    missing = {key for key in named if key not in known and not any(k.startswith(key + ".") for k in known)}
    assert not missing, f"docs/ODD.md names keys the schema lacks: {sorted(missing)}"


def test_every_submodel_section_has_its_keys_table():
    text = ODD.read_text(encoding="utf-8")
    blocks = set(re.findall(r"<!-- keys of (\w+) -->", text))
    behavioural = set(Scenario.model_fields) - {
        "name",
        "description",
        "start_date",
        "end_date",
        "warmup_business_days",
        "shocks",
    }
    assert blocks == behavioural


def test_every_figure_the_readmes_show_is_regenerated_by_one_script():
    shown = set()
    for readme in READMES:
        text = (ROOT / readme).read_text(encoding="utf-8")
        folder = Path(readme).parent
        shown |= {(folder / link).as_posix() for link in re.findall(r"!\[[^\]]*\]\(([^)\s]+)\)", text)}
    assert len(shown) >= 6
    regenerated = {figure.path for figure in FIGURES}
    assert shown == regenerated, "python -m sim.docs.figures and the READMEs' images differ"
    for path in shown:
        assert (ROOT / path).is_file(), f"{path} is shown but missing"
        # Under results/ git keeps only reference/: a figure anywhere else there would be untracked.
        assert not path.startswith("results/") or path.startswith("results/reference/")
