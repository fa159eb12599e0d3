"""Market files compiled from public feeds: SOFR underlying volume (`market/sofr_volume_daily.csv`)
the OFR's repo segment volumes (`market/ofr_repo_segments_daily.csv`) and the MOVE index of Treasury
option-implied volatility (`market/move_index_daily.csv`).

The file has one row per date with `sofr_volume_usd` in US dollars (the New York Fed publishes whole
billions); it stands in for the NY Fed export's `Volume ($Billions)` where that export is absent.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sim.data.csvfile import NON_NEGATIVE, CsvFile


def read_sofr_volume(path: str | Path) -> pd.Series:
    """SOFR underlying volume in $ billions, indexed by date (sorted).

    Raises:
        DataFileError: missing column, a bad date or number, or a date listed twice.
    """
    table = CsvFile(path, required=("date", "sofr_volume_usd"))
    dates = table.dates("date")
    table.check_unique(dates, "date")
    volume = table.numbers("sofr_volume_usd", bounds=NON_NEGATIVE) / 1e9
    series = pd.Series(volume.to_numpy(), index=pd.DatetimeIndex(dates.to_numpy(), name="date"), name="sofr_volume_bn")
    return series.sort_index()


REPO_SEGMENTS_DVP = "dvp_total_volume_usd"


def read_dvp_volume(path: str | Path) -> pd.Series:
    """Cleared DVP repo volume (FICC's DVP service, where dealers finance levered clients' positions and
    sponsored repo clears), in $ billions, indexed by date (sorted; days without a value left out).

    Raises:
        DataFileError: missing column, a bad date or number, or a date listed twice.
    """
    table = CsvFile(path, required=("date", REPO_SEGMENTS_DVP))
    dates = table.dates("date")
    table.check_unique(dates, "date")
    volume = table.numbers(REPO_SEGMENTS_DVP, missing=frozenset({""}), bounds=NON_NEGATIVE) / 1e9
    series = pd.Series(volume.to_numpy(), index=pd.DatetimeIndex(dates.to_numpy(), name="date"), name="dvp_volume_bn")
    return series.dropna().sort_index()


def read_move_index(path: str | Path) -> pd.Series:
    """The ICE BofA MOVE index's daily close (index points, about the annualised normal volatility of
    Treasury yields in bp), indexed by date (sorted).

    Raises:
        DataFileError: missing column, a bad date or number, or a date listed twice.
    """
    table = CsvFile(path, required=("date", "move_close"))
    dates = table.dates("date")
    table.check_unique(dates, "date")
    level = table.numbers("move_close", bounds=NON_NEGATIVE)
    return pd.Series(level.to_numpy(), index=pd.DatetimeIndex(dates.to_numpy(), name="date"), name="move").sort_index()
