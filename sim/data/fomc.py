"""The FOMC's administered rates by effective date: the project's table of published decisions.

`sim/data/administered_rates.csv` lists, from June 2017, every change of the target range, of
interest on excess reserves (IOER, to 28 July 2021) or on reserve balances (IORB, from 29 July
2021; same rate that day) and of the ON RRP offering rate, each row with its effective date, a
line on the decision and the Federal Reserve release it comes from. Technical adjustments move
IOER or the ON RRP rate without the range, so each rate keeps its own date. The table matches
FRED's IORB on every day both cover (tested). Scenarios replay it (`replay.administered_rates`);
real tables take IOER before FRED's IORB starts, and the ON RRP rate, from it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pandas as pd

from sim.data.csvfile import CsvFile

RATES_TABLE = Path(__file__).with_name("administered_rates.csv")
RATE_COLUMNS = ("target_lower_pct", "target_upper_pct", "iorb_pct", "on_rrp_pct")
# The table holds every decision up to its last row; the next scheduled decision after it (10
# December 2025) could change the rates, so it answers for days before that only.
VALID_BEFORE = dt.date(2025, 12, 10)


@lru_cache(maxsize=1)
def administered_rates_table(path: Path = RATES_TABLE) -> pd.DataFrame:
    """Rates (%) by effective date (`date`), with each decision's `decision` line and `source` URL.

    Raises:
        DataFileError: a malformed table (missing column, bad date or number).
    """
    table = CsvFile(path, required=("effective_date", *RATE_COLUMNS, "decision", "source"))
    frame = pd.DataFrame({"date": table.dates("effective_date")})
    for column in RATE_COLUMNS:
        frame[column] = table.numbers(column, missing=frozenset())
    frame["decision"] = table.text("decision")
    frame["source"] = table.text("source")
    return frame.sort_values("date", kind="stable").reset_index(drop=True)


def rates_in_force(dates: pd.DatetimeIndex) -> pd.DataFrame:
    """The rates (%) in force on each date, indexed by `dates`; NaN before the table's first row
    and from VALID_BEFORE on."""
    table = administered_rates_table().set_index("date")[list(RATE_COLUMNS)]
    in_force = table.reindex(table.index.union(dates)).ffill().reindex(dates)
    in_force.loc[(dates < table.index[0]) | (dates >= pd.Timestamp(VALID_BEFORE))] = float("nan")
    return in_force
