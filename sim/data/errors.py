"""The error every loader raises on a malformed public data file, located to file, line and column."""

from __future__ import annotations

from pathlib import Path


class DataFileError(Exception):
    """A public data file that cannot be read as its publisher's format says it should be.

    Attributes:
        file: path of the offending file (as given to the loader).
        row: 1-based line number in the file (the header is line 1); None when the whole file is at fault
            (e.g. it does not exist).
        column: name of the offending column; None when no single column is at fault.
        message: what was expected and what was found.
    """

    def __init__(self, file: str | Path, row: int | None, column: str | None, message: str):
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [f"row {self.row}"] if self.row is not None else []
        where += [f"column {self.column}"] if self.column is not None else []
        prefix = f"{self.file}: " + (", ".join(where) + ": " if where else "")
        return prefix + self.message

    def __reduce__(self):  # keep the four attributes when pickled (e.g. across processes)
        return (type(self), (self.file, self.row, self.column, self.message))
