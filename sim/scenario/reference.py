"""The scenario keys reference, generated from the schema so documentation cannot drift.

Every key of a scenario file is listed with its dotted path, type (with its allowed
range), default and description, read from the pydantic models in `sim.scenario.schema`.
`plumbing keys` prints it; the README carries it between the markers below, and
docs/ODD.md carries each section's tables beside the rules they govern
(`python -m sim.scenario.reference docs/ODD.md` refreshes them).
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from typing import Any, Literal, TypeGuard

import annotated_types as at
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.scenario.bounds import zero_or_at_least
from sim.scenario.schema import Scenario, Section

START_MARKER = "<!-- keys:start -->"
END_MARKER = "<!-- keys:end -->"
_HEADER = "| Key | Type | Default | Description |\n|---|---|---|---|"
_KIND_TEXT = "Which shock this is; it decides the other keys of this table."
_EXTENDS_ROW = (
    "| `extends` | file path | none | Scenario file this one builds on, relative to this file; "
    "mappings merge key by key, lists and values here replace the base's. |"
)


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def _union_members(annotation: Any) -> tuple[Any, ...]:
    annotation = _strip_annotated(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(m for arg in typing.get_args(annotation) for m in _union_members(arg))
    return (annotation,)


def _list_item(annotation: Any) -> Any | None:
    annotation = _strip_annotated(annotation)
    return _strip_annotated(typing.get_args(annotation)[0]) if typing.get_origin(annotation) is list else None


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_name(annotation: Any) -> str:
    members = _union_members(annotation)
    if all(typing.get_origin(m) is Literal for m in members):
        values = [str(v) for m in members for v in typing.get_args(m)]
        return "`" + values[0] + "`" if len(values) == 1 else "one of " + ", ".join(values)
    if len(members) > 1:
        named = [_type_name(m) for m in members if m is not type(None)]
        return " or ".join(named)
    annotation = members[0]
    item = _list_item(annotation)
    if item is not None:
        if all(_is_model(m) for m in _union_members(item)):
            return "list of mappings (below)"
        return "list of " + _type_name(item)
    names = {float: "number", int: "integer", bool: "true/false", str: "text", dt.date: "date (YYYY-MM-DD)"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _ends(field: FieldInfo) -> tuple[str | None, str | None]:
    """A number's lower and upper end as printed, `[` or `(` marking whether it is included."""
    lo = hi = None
    for item in field.metadata:
        if isinstance(item, at.Ge):
            lo = f"[{item.ge:g}"
        elif isinstance(item, at.Gt):
            lo = f"({item.gt:g}"
        elif isinstance(item, at.Le):
            hi = f"{item.le:g}]"
        elif isinstance(item, at.Lt):
            hi = f"{item.lt:g})"
    return lo, hi


def _bounds(field: FieldInfo) -> str:
    length = [f"at least {item.min_length}" for item in field.metadata if isinstance(item, at.MinLen)]
    length += [f"at most {item.max_length}" for item in field.metadata if isinstance(item, at.MaxLen)]
    if length:
        return ", " + " and ".join(length) + " characters"
    lo, hi = _ends(field)
    smallest = zero_or_at_least(field.metadata)
    if smallest is not None and hi:
        # An amount that may be zero: the range printed is that of its non-zero values.
        return f" 0 or in [{smallest:g}, {hi}"
    if lo and hi:
        return f" in {lo}, {hi}"
    if lo:
        return (" >= " if lo[0] == "[" else " > ") + lo[1:]
    if hi:
        return (" <= " if hi[-1] == "]" else " < ") + hi[:-1]
    return ""


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`true`" if value else "`false`"
    if isinstance(value, float):
        return f"`{value:g}`"
    if isinstance(value, list):
        return "`[" + ", ".join(str(v) for v in value) + "]`"
    if isinstance(value, dt.date):
        return f"`{value.isoformat()}`"
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _doc(model: type[BaseModel]) -> str:
    """The model's own docstring (not one inherited from `Section`), as one line."""
    doc = model.__dict__.get("__doc__") or ""
    return " ".join(doc.strip().split("\n\n")[0].split()) if model is not Section else ""


def _tables(model: type[BaseModel], prefix: str, heading: str) -> list[str]:
    """One Markdown table per mapping: `model`'s plain keys, then its sections and lists in order."""
    rows: list[str] = [_EXTENDS_ROW] if model is Scenario else []
    nested: list[str] = []
    # A shock's `kind` picks its other keys, so it leads its table.
    fields = sorted(model.model_fields.items(), key=lambda item: item[0] != "kind")
    for name, field in fields:
        path = f"{prefix}{name}"
        annotation = _strip_annotated(field.annotation)
        if _is_model(annotation):
            nested += _tables(annotation, f"{path}.", f"`{path}`")
            continue
        rows.append(
            f"| `{path}` | {_type_name(annotation)}{_bounds(field)} | {_default(field)} "
            f"| {_cell(field.description or (_KIND_TEXT if name == 'kind' else ''))} |"
        )
        item = _list_item(annotation)
        members = [m for m in _union_members(item) if _is_model(m)] if item is not None else []
        for member in members:
            kind = member.model_fields.get("kind")
            if len(members) > 1 and kind is not None:
                tag = typing.get_args(_strip_annotated(kind.annotation))[0]
                nested += _tables(member, f"{path}[].", f"`{path}[]` with `kind: {tag}`")
            else:
                nested += _tables(member, f"{path}[].", f"`{path}[]` (each item)")
    doc = _doc(model)
    table = f"#### {heading}\n\n" + (f"{doc}\n\n" if doc else "") + _HEADER + "\n" + "\n".join(rows) + "\n"
    return [table, *nested] if rows else nested


def keys_markdown() -> str:
    """Every scenario key as Markdown: one table per section, dotted paths, types, defaults."""
    intro = (
        "Generated from the schema (`plumbing keys`). Units are in the names: `_bn` $ billions, "
        "`_pct` percent, `_bp` basis points, `_days` business days. Ranges are inclusive `[ ]` or "
        "exclusive `( )`. Unknown keys are errors.\n"
    )
    return "\n".join([intro, *_tables(Scenario, "", "Top level")])


def key_paths() -> set[str]:
    """Every dotted key path of a scenario file (list items as `path[].key`)."""
    paths: set[str] = set()
    for table in _tables(Scenario, "", "Top level"):
        for line in table.splitlines():
            if line.startswith("| `"):
                paths.add(line.split("`")[1])
    return paths


SECTION_BLOCK = re.compile(r"(<!-- keys of (\w+) -->\n).*?(<!-- end of keys -->)", re.DOTALL)


def section_tables(section: str) -> str:
    """The keys tables of one top-level section (e.g. `dealers`), as in `plumbing keys`."""
    field = Scenario.model_fields.get(section)
    annotation = _strip_annotated(field.annotation) if field is not None else None
    if not _is_model(annotation):
        raise ValueError(f"expected a scenario section name, found {section!r}")
    return "\n".join(_tables(annotation, f"{section}.", f"`{section}`"))


def refresh_section_blocks(text: str) -> str:
    """`text` with every `<!-- keys of SECTION -->` ... `<!-- end of keys -->` block regenerated."""
    return SECTION_BLOCK.sub(lambda m: m.group(1) + section_tables(m.group(2)) + "\n" + m.group(3), text)


def replace_keys_section(text: str, generated: str) -> str:
    """`text` with the part between the keys markers replaced by `generated`.

    Raises:
        ValueError: the markers are missing or out of order.
    """
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"expected the markers {START_MARKER} ... {END_MARKER}")
    return text[: start + len(START_MARKER)] + "\n" + generated.rstrip("\n") + "\n" + text[end:]


def keys_section(text: str) -> str:
    """The text between the keys markers (without the surrounding newlines)."""
    start, end = text.find(START_MARKER), text.find(END_MARKER)
    if start < 0 or end < start:
        raise ValueError(f"expected the markers {START_MARKER} ... {END_MARKER}")
    return text[start + len(START_MARKER) : end].strip("\n")


if __name__ == "__main__":
    import sys
    from pathlib import Path

    for name in sys.argv[1:]:
        document = Path(name)
        document.write_text(refresh_section_blocks(document.read_text(encoding="utf-8")), encoding="utf-8")
        print(f"refreshed the keys tables of {document}")
