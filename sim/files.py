"""Writing result files so that a file that exists is complete."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

FILE_MODE = 0o644  # mkstemp makes 0600 files; results are for anyone on the machine to read


class RunFolderError(ValueError):
    """A folder given as a run is missing, unfinished or corrupt, or a results folder cannot be made."""


def write_atomic(path: str | Path, data: bytes | str) -> Path:
    """Write `data` (text as UTF-8) to `path` through a temporary file beside it, renamed into place.

    A reader never sees half a file, and an interrupted write leaves the old file (or none).
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        os.fchmod(handle, FILE_MODE)
        with os.fdopen(handle, "wb") as stream:
            stream.write(payload)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
