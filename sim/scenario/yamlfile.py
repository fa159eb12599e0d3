"""Reading the project's YAML files (scenarios, experiments, calibration configs) within limits.

A scenario is a few kilobytes of keys, so the reader refuses anything that could only be an
accident or an attack before it is expanded: files over `MAX_BYTES`, mappings and lists
nested deeper than `MAX_DEPTH`, more than `MAX_ALIASES` alias uses, and documents whose
nodes, with every alias expanded, number more than `MAX_NODES` (a "billion laughs" file of a
few hundred bytes stops after reading those bytes). The limits are counted while the parser
composes the document, before any Python object is built. Duplicate keys in one mapping are
errors (YAML leaves them undefined; PyYAML silently keeps the last), and a date that is not
a calendar date (2025-02-30) is reported at its key rather than raised from the parser.

Every error is a `YamlFileError` naming the file, the key path where known, what was
expected and what was found; messages never echo the (possibly huge) input.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.events import AliasEvent, ScalarEvent
from yaml.nodes import MappingNode, Node, ScalarNode

from sim.messages import printable

MAX_BYTES = 1_000_000
MAX_DEPTH = 64
MAX_ALIASES = 1_000
MAX_NODES = 200_000


class YamlFileError(Exception):
    """A YAML file that cannot be read: file, key path ("(file)" when none), expected, found."""

    def __init__(self, file: str, key_path: str, expected: str, found: str):
        self.file, self.key_path, self.expected, self.found = file, key_path, expected, found
        super().__init__(f"{file}: {key_path}: expected {expected}; found {found}")


class _LimitExceeded(ComposerError):
    """Raised inside the composer when the document passes a limit (carries the key path)."""

    def __init__(self, expected: str, found: str, key_path: str, mark: Any):
        super().__init__(None, None, found, mark)
        self.expected, self.found, self.key_path = expected, found, key_path


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "an unknown position"


class LimitedLoader(yaml.SafeLoader):
    """PyYAML's safe loader counting nodes, depth and aliases while composing, and refusing duplicate keys."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._aliases = 0
        self._nodes = 0  # nodes of the document with every alias expanded
        self._weight: dict[int, int] = {}  # id(node) -> its expanded node count
        self._path: list[str] = []
        self._node_path: dict[int, str] = {}  # id(scalar node) -> its key path, for construction errors

    def key_path(self) -> str:
        parts = self._path if len(self._path) <= 12 else [*self._path[:8], "[...]", *self._path[-3:]]
        text = ""
        for part in parts:
            text += part if part.startswith("[") or not text else "." + part
        return text or "(top level)"

    def _limit(self, expected: str, found: str, mark: Any) -> _LimitExceeded:
        return _LimitExceeded(expected, f"{found} at {_where(mark)}", self.key_path(), mark)

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        pushed = isinstance(index, ScalarNode | int)
        if pushed:
            self._path.append(f"[{index}]" if isinstance(index, int) else printable(str(index.value), 80))
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise self._limit(f"at most {MAX_DEPTH} levels of nesting", "deeper nesting", mark)
            if self.check_event(AliasEvent):
                self._aliases += 1
                if self._aliases > MAX_ALIASES:
                    raise self._limit(f"at most {MAX_ALIASES} aliases", "more", self.peek_event().start_mark)
                mark = self.peek_event().start_mark
                node = super().compose_node(parent, index)
                if id(node) not in self._weight:  # its anchor is still open: the alias sits inside it
                    raise self._limit("aliases to finished values", "an alias inside the value it names", mark)
                self._count(self._weight[id(node)], mark)
                return node
            is_scalar = self.check_event(ScalarEvent)
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            if node is not None:
                if is_scalar:
                    self._weight[id(node)] = 1
                    self._node_path[id(node)] = self.key_path()
                    self._count(1, mark)
                else:  # a collection: its own node, its children were counted as they were composed
                    children = node.value if not isinstance(node, MappingNode) else [x for kv in node.value for x in kv]
                    self._weight[id(node)] = 1 + sum(self._weight.get(id(child), 1) for child in children)
                    self._count(1, mark)
            return node
        finally:
            self._depth -= 1
            if pushed:
                self._path.pop()

    def _count(self, nodes: int, mark: Any) -> None:
        self._nodes += nodes
        if self._nodes > MAX_NODES:
            raise self._limit(f"at most {MAX_NODES:,} values with aliases expanded", "more", mark)

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[str, Any] = {}
        for key, _ in node.value:
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in seen:
                    first = seen[key.value]
                    self._path.append(printable(str(key.value), 80))
                    try:
                        raise self._limit(
                            "each key once in a mapping",
                            f"a duplicate (first at line {first.line + 1})",
                            key.start_mark,
                        )
                    finally:
                        self._path.pop()
                seen[key.value] = key.start_mark
        return node


def _timestamp(loader: LimitedLoader, node: ScalarNode) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError as err:
        where = loader._node_path.get(id(node), "(file)")
        found = f"{printable(str(node.value), 40)} ({err}) at {_where(node.start_mark)}"
        raise YamlFileError("", where, "a calendar date YYYY-MM-DD", found) from None


LimitedLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def absolute_path(path: str | Path) -> Path:
    """`path` made absolute with links resolved; a symlink loop is left as written, for the reader to report."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_text_limited(path: Path, what: str, key: str = "(file)", where: str | None = None) -> str:
    """The UTF-8 text of a regular file of at most `MAX_BYTES` bytes.

    Args:
        path: the file.
        what: what the file should be, for messages ("a scenario file").
        key: the key to report a missing file under (e.g. "extends" in the file that names it).
        where: the file to report a missing file in (default: `path` itself).

    Raises:
        YamlFileError: no such file, a symlink loop, a folder or device, too large, not UTF-8.
    """
    report = where or str(path)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise YamlFileError(report, key, what, f"no file at {path}") from None
    except OSError as err:  # ELOOP (a symlink loop), EACCES, ENAMETOOLONG, ENOTDIR...
        raise YamlFileError(report, key, what, f"{path}: {err.strerror or err}") from None
    if not stat.S_ISREG(info.st_mode):
        raise YamlFileError(report, key, what, f"{_kind(info.st_mode)} at {path}")
    if info.st_size > MAX_BYTES:
        raise YamlFileError(str(path), "(file)", f"at most {MAX_BYTES:,} bytes", f"{info.st_size:,} bytes")
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except OSError as err:
        raise YamlFileError(str(path), "(file)", "a readable file", str(err.strerror or err)) from None
    if len(data) > MAX_BYTES:
        raise YamlFileError(str(path), "(file)", f"at most {MAX_BYTES:,} bytes", "more")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise YamlFileError(str(path), "(file)", "UTF-8 text", f"an undecodable byte at line {line}") from None


def parse_yaml(text: str, file: str) -> Any:
    """Parse one YAML document within the limits (see the module docstring).

    Raises:
        YamlFileError: a syntax error, a limit passed, a duplicate key, an impossible date.
    """
    if len(text) > MAX_BYTES:
        raise YamlFileError(file, "(file)", f"at most {MAX_BYTES:,} characters", f"{len(text):,}")
    loader = None
    try:
        loader = LimitedLoader(text)
        return loader.get_single_data()
    except _LimitExceeded as err:
        raise YamlFileError(file, err.key_path, err.expected, err.found) from None
    except YamlFileError as err:
        raise YamlFileError(file, err.key_path, err.expected, err.found) from None
    except yaml.reader.ReaderError as err:
        line = text[: err.position].count("\n") + 1
        found = f"a character YAML does not allow (U+{err.character:04X}) at line {line}"
        raise YamlFileError(file, "(file)", "valid YAML", found) from None
    except yaml.YAMLError as err:
        problem = printable(str(getattr(err, "problem", None) or type(err).__name__), 120)
        at = _where(getattr(err, "problem_mark", None))
        raise YamlFileError(file, "(file)", "valid YAML", f"{problem} at {at}") from None
    except RecursionError:
        raise YamlFileError(file, "(file)", f"at most {MAX_DEPTH} levels of nesting", "deeper nesting") from None
    finally:
        if loader is not None:
            loader.dispose()


def load_yaml_file(path: str | Path, what: str = "a YAML file") -> Any:
    """Read and parse one YAML file within the limits; an empty document is an error.

    Raises:
        YamlFileError: as `read_text_limited` and `parse_yaml`, or a file with no document.
    """
    path = Path(path)
    data = parse_yaml(read_text_limited(path, what), str(path))
    if data is None:
        raise YamlFileError(str(path), "(file)", "a mapping of keys", "an empty file")
    return data
