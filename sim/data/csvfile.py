"""Reading a publisher's CSV file cell by cell, so that every bad cell is reported by file, line and column.

All sources share one reader: cells are read as text, then each column the loaders use is parsed as dates
or numbers here. A cell is missing only when it is one of the markers the publisher's format defines
(empty everywhere; `null` in Fiscal Data downloads; `*` where the New York Fed withholds a value; `.` in
FRED's older downloads); any other text that does not parse raises `DataFileError`.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.errors import DataFileError

EMPTY = frozenset({""})
_FORMAT_NAMES = {"%Y-%m-%d": "YYYY-MM-DD", "%m/%d/%Y": "MM/DD/YYYY"}


class CsvFile:
    """One CSV file read as text, with the file line of every data row.

    Attributes:
        path: the file read.
        frame: the data rows as stripped text cells (blank lines skipped).
        lines: 1-based line number in the file of each row of `frame` (the header is line 1).
    """

    def __init__(self, path: str | Path, required: Iterable[str] = ()):
        self.path = Path(path)
        if not self.path.is_file():
            raise DataFileError(self.path, None, None, "file not found")
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataFileError(self.path, None, None, f"not UTF-8 text ({exc.reason})") from None
        # One record per line in these formats: data rows sit on the non-blank lines after the header.
        filled = [number for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False)
        except pd.errors.EmptyDataError:
            raise DataFileError(self.path, 1, None, "file is empty; expected a header line") from None
        except pd.errors.ParserError as exc:
            # pandas names the file line: "Error tokenizing data. C error: Expected 2 fields in line 5, saw 3".
            message = str(exc).strip().split("C error: ")[-1]
            found = re.search(r"line (\d+)", message)
            raise DataFileError(self.path, int(found.group(1)) if found else None, None, message) from None
        self.frame = frame.fillna("").astype(str).apply(lambda column: column.str.strip())
        self.lines = pd.Series(filled[1 : len(frame) + 1], index=frame.index, dtype=int)
        header = ", ".join(frame.columns) or "(none)"
        for name in required:
            if name not in frame.columns:
                raise DataFileError(
                    self.path, filled[0], name, f"required column missing from the header (found: {header})"
                )

    def __len__(self) -> int:
        return len(self.frame)

    def has(self, column: str) -> bool:
        """Whether the header names `column`."""
        return column in self.frame.columns

    def error(self, index: object, column: str | None, message: str) -> DataFileError:
        """A `DataFileError` located at the row with frame index `index`."""
        return DataFileError(self.path, int(self.lines.loc[index]), column, message)

    def text(self, column: str, where: pd.Series | None = None) -> pd.Series:
        """The stripped text of `column` (rows selected by the boolean `where`, default all)."""
        values = self.frame[column]
        return values if where is None else values.loc[where]

    def dates(self, column: str, fmt: str = "%Y-%m-%d", where: pd.Series | None = None) -> pd.Series:
        """`column` parsed as dates in format `fmt`; an empty or unparseable cell raises `DataFileError`."""
        raw = self.text(column, where)
        parsed = pd.to_datetime(raw, format=fmt, errors="coerce")
        bad = parsed.isna()
        if bad.any():
            index = bad.idxmax()
            found = raw.loc[index]
            expected = f"expected a date {_FORMAT_NAMES.get(fmt, fmt)}"
            raise self.error(index, column, f"{expected}; found {found!r}" if found else f"{expected}; found nothing")
        return parsed

    def numbers(self, column: str, missing: frozenset[str] = EMPTY, where: pd.Series | None = None) -> pd.Series:
        """`column` parsed as floats; cells in `missing` become NaN, any other non-number raises `DataFileError`."""
        raw = self.text(column, where)
        is_missing = raw.isin(missing)
        parsed = pd.to_numeric(raw.where(~is_missing), errors="coerce").astype(float)
        bad = ~is_missing & ~np.isfinite(parsed)
        if bad.any():
            index = bad.idxmax()
            raise self.error(index, column, f"expected a number; found {raw.loc[index]!r}")
        return parsed

    def check_unique(self, values: pd.Series, column: str, what: str = "date") -> None:
        """Raise `DataFileError` at the second row holding a value already seen (one row per date)."""
        repeated = values.duplicated(keep="first")
        if repeated.any():
            index = repeated.idxmax()
            value = values.loc[index]
            first = values.index[(values == value).to_numpy()][0]
            shown = value.date().isoformat() if isinstance(value, pd.Timestamp) else value
            raise self.error(index, column, f"duplicate {what} {shown} (first on row {int(self.lines.loc[first])})")
