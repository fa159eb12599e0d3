"""New York Fed files: the all-reference-rates export (`nyfed/reference_rates*.csv`) and weekly
primary-dealer fails (`nyfed/pd_fails_weekly.csv`).

The reference-rates export is the NY Fed's own CSV layout (dates MM/DD/YYYY, rates in percent, volume in
$ billions, five rate types per date); its SOFR rows (rate, percentiles, volume) and the rates of its EFFR
and TGCR rows are read. The fails file has one row per Wednesday
as-of date, values in $ millions, and the NY Fed's `*` (value withheld) read as missing.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sim.data.csvfile import NON_NEGATIVE, RATE_RANGE_PCT, CsvFile, present

NYFED_MISSING = frozenset({"", "*"})

# NY Fed export column -> standard daily column, per rate type read. SOFR gives its whole distribution;
# EFFR (fed funds) and TGCR (tri-party general collateral) only their published rate.
REFERENCE_RATE, REFERENCE_VOLUME = "Rate (%)", "Volume ($Billions)"
REFERENCE_RATE_COLUMNS: dict[str, dict[str, str]] = {
    "SOFR": {
        REFERENCE_RATE: "sofr_median_pct",
        "1st Percentile (%)": "sofr_p1_pct",
        "25th Percentile (%)": "sofr_p25_pct",
        "75th Percentile (%)": "sofr_p75_pct",
        "99th Percentile (%)": "sofr_p99_pct",
        REFERENCE_VOLUME: "sofr_volume_bn",
    },
    "EFFR": {REFERENCE_RATE: "effr_pct"},
    "TGCR": {REFERENCE_RATE: "tgcr_median_pct"},
}
REFERENCE_DATE, REFERENCE_TYPE = "Effective Date", "Rate Type"

FAILS_DATE = "as_of_date"
FAILS_DELIVER_TOTAL = "ust_total_fails_to_deliver_mn"
FAILS_RECEIVE_TOTAL = "ust_total_fails_to_receive_mn"
FAILS_REPORTED = "ust_total_fails_to_deliver_n_reported"
# Nominal coupon tenors with a by-issue fails-to-deliver series (TIPS and the FRN are left out).
NOMINAL_FAILS_TENORS = ("2y", "3y", "5y", "7y", "10y", "20y", "30y")


# Files beside the exports that show the layout only; never read as data.
FORMAT_SAMPLE_SUFFIX = "_format_sample.csv"


def reference_rate_files(data_dir: str | Path) -> list[Path]:
    """The NY Fed all-rates exports in a data folder (`nyfed/reference_rates*.csv`), sorted by name.

    A format sample (`reference_rates*_format_sample.csv`) is not an export and is left out.

    Raises:
        DataFileError: a name that matches but is not a regular file (a folder, a device).
    """
    found = sorted((Path(data_dir) / "nyfed").glob("reference_rates*.csv"))
    return [path for path in found if not path.name.endswith(FORMAT_SAMPLE_SUFFIX) and present(path)]


def read_reference_rates(path: str | Path) -> dict[str, pd.DataFrame]:
    """The SOFR, EFFR and TGCR rows of one NY Fed all-rates export.

    Args:
        path: a `reference_rates*.csv` file in the NY Fed's layout.

    Returns:
        Rate type ("SOFR", "EFFR", "TGCR") -> one row per date with a published rate, indexed by `date`
        (sorted), with the standard columns of REFERENCE_RATE_COLUMNS (rates in percent; `sofr_volume_bn`
        in $ billions) and `line` (the row's line in the file, for error messages). A type the file does
        not list comes back with no rows.

    Raises:
        DataFileError: missing column, a bad date or number in any row, or two rows of one type for one date.
    """
    sofr_columns = REFERENCE_RATE_COLUMNS["SOFR"]  # every column read from any type
    table = CsvFile(path, required=(REFERENCE_DATE, REFERENCE_TYPE, *sofr_columns))
    dates = table.dates(REFERENCE_DATE, fmt="%m/%d/%Y")
    kinds = table.text(REFERENCE_TYPE)
    # Every row's numbers are parsed, so a malformed cell is reported whatever its rate type.
    numbers = {
        column: table.numbers(
            column,
            missing=NYFED_MISSING,
            bounds=NON_NEGATIVE if column == REFERENCE_VOLUME else RATE_RANGE_PCT,
            unit=" ($ billions)" if column == REFERENCE_VOLUME else "%",
        )
        for column in sofr_columns
    }
    out: dict[str, pd.DataFrame] = {}
    for kind, columns in REFERENCE_RATE_COLUMNS.items():
        # A row without a rate is not a publication.
        published = (kinds == kind) & numbers[REFERENCE_RATE].notna()
        table.check_unique(dates.loc[published], REFERENCE_DATE)
        frame = pd.DataFrame({name: numbers[column].loc[published] for column, name in columns.items()})
        frame["line"] = table.lines.loc[published]
        frame.index = pd.DatetimeIndex(dates.loc[published].to_numpy(), name="date")
        out[kind] = frame.sort_index()
    return out


def read_sofr_rows(path: str | Path) -> pd.DataFrame:
    """The SOFR rows of one NY Fed all-rates export (`read_reference_rates(path)["SOFR"]`).

    Returns:
        One row per date with a published SOFR, indexed by `date` (sorted): `sofr_median_pct` (SOFR),
        `sofr_p1_pct`, `sofr_p25_pct`, `sofr_p75_pct`, `sofr_p99_pct` (percent), `sofr_volume_bn`
        ($ billions), and `line` (the row's line in the file, for error messages).

    Raises:
        DataFileError: as `read_reference_rates`.
    """
    return read_reference_rates(path)["SOFR"]


def read_fails_weekly(path: str | Path) -> pd.DataFrame:
    """Primary-dealer fails by week in the standard `fails_weekly` table.

    Args:
        path: `nyfed/pd_fails_weekly.csv` (one row per Wednesday as-of date, $ millions).

    Returns:
        Columns `week_end` (the Wednesday), `fails_to_deliver_bn`, `fails_to_receive_bn` (the file's totals
        over the reported by-issue series, $ billions), `fails_reported_series` (how many of the 11
        fails-to-deliver series had a value that week; fewer than 11 makes the totals a lower bound) and
        `fails_to_deliver_<tenor>_bn` for each nominal coupon tenor the file has, and `fails_tracked_bn`: the
        sum of those nominal coupon series reported that week (the issues a simulated run counts as tracked;
        the model has no FRN or TIPS), NaN when none is reported, a lower bound when some are missing.
        Sorted by week.

    Raises:
        DataFileError: missing column, a bad date or number, a date that is not a Wednesday, a week listed twice.
    """
    table = CsvFile(path, required=(FAILS_DATE, FAILS_DELIVER_TOTAL, FAILS_RECEIVE_TOTAL, FAILS_REPORTED))
    weeks = table.dates(FAILS_DATE)
    not_wednesday = weeks.dt.day_of_week != 2
    if not_wednesday.any():
        index = not_wednesday.idxmax()
        day = weeks.loc[index]
        raise table.error(index, FAILS_DATE, f"expected a Wednesday (weeks run Thursday to Wednesday); "
                                             f"found {day.date().isoformat()}, a {day.day_name()}")  # fmt: skip
    table.check_unique(weeks, FAILS_DATE, what="week")
    reported = table.numbers(FAILS_REPORTED, missing=NYFED_MISSING, bounds=NON_NEGATIVE)
    fractional = reported.notna() & (reported != np.round(reported))
    if fractional.any():
        index = fractional.idxmax()
        raise table.error(index, FAILS_REPORTED, f"expected a whole count; found {table.text(FAILS_REPORTED)[index]!r}")
    frame = pd.DataFrame(
        {
            "week_end": weeks,
            "fails_to_deliver_bn": table.numbers(FAILS_DELIVER_TOTAL, missing=NYFED_MISSING, bounds=NON_NEGATIVE)
            / 1000.0,
            "fails_to_receive_bn": table.numbers(FAILS_RECEIVE_TOTAL, missing=NYFED_MISSING, bounds=NON_NEGATIVE)
            / 1000.0,
            "fails_reported_series": reported.astype("Int64"),
        }
    )
    for tenor in NOMINAL_FAILS_TENORS:
        column = f"ust_{tenor}_fails_to_deliver_mn"
        if table.has(column):
            fails = table.numbers(column, missing=NYFED_MISSING, bounds=NON_NEGATIVE)
            frame[f"fails_to_deliver_{tenor}_bn"] = fails / 1000.0
    nominal = [c for c in (f"fails_to_deliver_{tenor}_bn" for tenor in NOMINAL_FAILS_TENORS) if c in frame]
    tracked = frame[nominal].sum(axis=1, min_count=1) if nominal else pd.Series(np.nan, index=frame.index)
    frame.insert(3, "fails_tracked_bn", tracked)  # after the totals, as in sim.tables.FAILS_WEEKLY_COLUMNS
    return frame.sort_values("week_end").reset_index(drop=True)
