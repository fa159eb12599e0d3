"""Reading a publisher's CSV file cell by cell, so that every bad cell is reported by file, line and column.

All sources share one reader: cells are read as text, then each column the loaders use is parsed as dates
or numbers here. A cell is missing only when it is one of the markers the publisher's format defines
(empty everywhere; `null` in Fiscal Data downloads; `*` where the New York Fed withholds a value; `.` in
FRED's older downloads); any other text that does not parse raises `DataFileError`. So does a row with
fewer or more fields than the header (a file cut mid-row is not padded with missing values), a date
outside 1900-2200, a value outside the series' plausible range (rates -5..50%, balances and volumes not
negative), and a folder, device or dangling link where a file should be.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import stat
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.errors import DataFileError

EMPTY = frozenset({""})
_FORMAT_NAMES = {"%Y-%m-%d": "YYYY-MM-DD", "%m/%d/%Y": "MM/DD/YYYY"}
# Dates a public file may hold: FRED's series start in 1954; nothing is published for after 2200.
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
# Plausible rates in percent: negative policy rates have reached -0.75%, US rates 20% (1980).
RATE_RANGE_PCT = (-5.0, 50.0)
NON_NEGATIVE = (0.0, float("inf"))


def present(path: str | Path) -> bool:
    """Whether a data file is there: True for a regular file, False for nothing at all.

    Raises:
        DataFileError: something else is at the path (a folder, a device, a pipe, a link to
            nothing or a link loop), which a missing file must not be mistaken for.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            raise DataFileError(path, None, None, "expected a regular file; found a link to nothing") from None
        return False
    except OSError as err:
        raise DataFileError(path, None, None, f"expected a regular file; found {err.strerror or err}") from None
    if stat.S_ISREG(mode):
        return True
    kind = "a folder" if stat.S_ISDIR(mode) else "a device, pipe or socket"
    raise DataFileError(path, None, None, f"expected a regular file; found {kind}")


class CsvFile:
    """One CSV file read as text, with the file line of every data row.

    Attributes:
        path: the file read.
        frame: the data rows as stripped text cells (blank lines skipped).
        lines: 1-based line number in the file of each row of `frame` (the header is line 1).
    """

    def __init__(self, path: str | Path, required: Iterable[str] = ()):
        self.path = Path(path)
        self.header_line = 1
        if not present(self.path):
            raise DataFileError(self.path, None, None, "file not found")
        try:
            text = self.path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataFileError(self.path, None, None, f"not UTF-8 text ({exc.reason})") from None
        columns, rows, lines = self._records(text)
        frame = pd.DataFrame(rows, columns=columns, dtype=str) if rows else pd.DataFrame(columns=columns, dtype=str)
        self.frame = frame.apply(lambda column: column.str.strip()) if rows else frame
        self.lines = pd.Series(lines, index=frame.index, dtype=int)
        header = ", ".join(frame.columns) or "(none)"
        for name in required:
            if name not in frame.columns:
                raise DataFileError(
                    self.path, self.header_line, name, f"required column missing from the header (found: {header})"
                )

    def _records(self, text: str) -> tuple[list[str], list[list[str]], list[int]]:
        """Header, data rows and each row's file line; every row must have the header's number of fields."""
        reader = csv.reader(io.StringIO(text))
        header: list[str] | None = None
        rows: list[list[str]] = []
        lines: list[int] = []
        try:
            for row in reader:
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue  # a blank line
                if header is None:
                    header = [name.strip() for name in row]
                    self.header_line = reader.line_num
                    repeated = sorted({name for name in header if header.count(name) > 1})
                    if repeated:
                        raise DataFileError(self.path, reader.line_num, repeated[0], "column named twice in the header")
                    continue
                if len(row) != len(header):
                    column = header[len(row)] if len(row) < len(header) else None
                    kind = "a short row" if len(row) < len(header) else "a long row"
                    message = f"expected {len(header)} fields (as in the header); found {len(row)} ({kind})"
                    raise DataFileError(self.path, reader.line_num, column, message)
                rows.append(row)
                lines.append(reader.line_num)
        except csv.Error as exc:
            raise DataFileError(self.path, reader.line_num, None, f"not CSV ({exc})") from None
        if header is None:
            raise DataFileError(self.path, 1, None, "file is empty; expected a header line")
        return header, rows, lines

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
        outside = (parsed < pd.Timestamp(FIRST_DATE)) | (parsed > pd.Timestamp(LAST_DATE))
        if outside.any():
            index = outside.idxmax()
            raise self.error(
                index, column, f"expected a date from {FIRST_DATE} to {LAST_DATE}; found {raw.loc[index]!r}"
            )
        return parsed

    def numbers(
        self,
        column: str,
        missing: frozenset[str] = EMPTY,
        where: pd.Series | None = None,
        bounds: tuple[float, float] | None = None,
        unit: str = "",
    ) -> pd.Series:
        """`column` parsed as floats; cells in `missing` become NaN, any other non-number raises `DataFileError`.

        Args:
            bounds: (low, high), inclusive: the plausible values of the series (e.g. RATE_RANGE_PCT,
                NON_NEGATIVE); a value outside raises `DataFileError`.
            unit: the values' unit, for the message.
        """
        raw = self.text(column, where)
        is_missing = raw.isin(missing)
        parsed = pd.to_numeric(raw.where(~is_missing), errors="coerce").astype(float)
        bad = ~is_missing & ~np.isfinite(parsed)
        if bad.any():
            index = bad.idxmax()
            raise self.error(index, column, f"expected a number; found {raw.loc[index]!r}")
        if bounds is not None:
            low, high = bounds
            outside = (parsed < low) | (parsed > high)  # NaN (missing) compares False
            if outside.any():
                index = outside.idxmax()
                span = f"a value of at least {low:g}" if high == float("inf") else f"a value from {low:g} to {high:g}"
                raise self.error(index, column, f"expected {span}{unit}; found {raw.loc[index]!r}")
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
