"""FRED series files (`fred/<SERIES_ID>.csv`, FRED's download layout `observation_date,<SERIES_ID>`).

Each file holds one series in FRED's own units: SOFR and its percentiles, IORB, yields in percent; ON RRP
take-up (RRPONTSYD) in $ billions; H.4.1 balances (WRESBAL, WTREGEN, TREAST) in $ millions, dated on
Wednesdays. An empty cell is a day FRED lists without a value (a holiday); FRED's older downloads wrote `.`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.data.csvfile import NON_NEGATIVE, RATE_RANGE_PCT, CsvFile

DATE_COLUMN = "observation_date"
FRED_MISSING = frozenset({"", "."})
# Plausible values per series: rates and yields in percent; balances ($ millions, ON RRP $ billions)
# cannot be negative. A series not listed is read unchecked.
RATE_SERIES = ("SOFR", "SOFR1", "SOFR25", "SOFR75", "SOFR99", "EFFR", "IORB", "DGS1MO", "DGS3MO", "DGS2", "DGS5",
               "DGS10", "DGS30", "T10Y3M")  # fmt: skip
BALANCE_SERIES = ("RRPONTSYD", "WRESBAL", "TREAST", "WTREGEN", "WALCL")


def series_bounds(series_id: str) -> tuple[tuple[float, float] | None, str]:
    """The plausible range of a FRED series and its unit, for the check of every value."""
    if series_id in RATE_SERIES:
        return RATE_RANGE_PCT, "%"
    if series_id in BALANCE_SERIES:
        return NON_NEGATIVE, ""
    return None, ""


def fred_path(data_dir: str | Path, series_id: str) -> Path:
    """Where the FRED series `series_id` lives in a data folder."""
    return Path(data_dir) / "fred" / f"{series_id}.csv"


def read_fred_series(path: str | Path, series_id: str) -> pd.Series:
    """One FRED series as floats indexed by observation date, in FRED's units.

    Args:
        path: the series file (`fred/<SERIES_ID>.csv`).
        series_id: the FRED id, which is also the value column's name.

    Returns:
        Values (NaN where FRED lists the date without a value), DatetimeIndex named `date`, sorted.

    Raises:
        DataFileError: missing file or column, an unparseable date or number, a short or long row, a
            date listed twice, or an implausible value (`series_bounds`).
    """
    table = CsvFile(path, required=(DATE_COLUMN, series_id))
    dates = table.dates(DATE_COLUMN)
    table.check_unique(dates, DATE_COLUMN)
    bounds, unit = series_bounds(series_id)
    values = table.numbers(series_id, missing=FRED_MISSING, bounds=bounds, unit=unit)
    series = pd.Series(values.to_numpy(), index=pd.DatetimeIndex(dates.to_numpy(), name="date"), name=series_id)
    return series.sort_index()
