"""The Treasury's cash: the opening stock matures where the auction calendar refunds it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.calendar import MONTH_END_TENORS, bill_settlement_day, mid_month_settlement, month_end_settlement
from sim.scenario.schema import TENORS
from tests.conftest import make_scenario


def _opening_issues(model: TreasuryMarketModel) -> pd.DataFrame:
    iss = model.issues
    live = np.flatnonzero(iss.active)
    return pd.DataFrame(
        {
            "tenor": [TENORS[t] for t in iss.tenor[live]],
            "is_bill": iss.is_bill[live],
            "maturity": pd.to_datetime(iss.maturity_day[live], unit="D"),
        }
    )


@pytest.mark.parametrize("start", [dt.date(2024, 7, 10), dt.date(2025, 3, 3), dt.date(2025, 6, 20)])
def test_the_opening_stock_matures_on_the_calendars_settlement_days(start):
    model = TreasuryMarketModel(make_scenario({"start_date": start, "end_date": start + dt.timedelta(days=366)}))
    issues = _opening_issues(model)
    for row in issues.itertuples():
        due = row.maturity
        if row.is_bill:
            expected = bill_settlement_day(due)
        elif row.tenor in MONTH_END_TENORS:
            expected = month_end_settlement(due.year, due.month)
        else:
            expected = mid_month_settlement(due.year, due.month)
        assert due == expected, f"{row.tenor} matures on {due.date()}, not a settlement day"
    # Within the run, each maturing opening issue is refunded on its day: an auction of the
    # same tenor settles then (10y/30y new issues in the quarterly months they were first sold).
    settling = {(day, spec.tenor) for day, specs in model.calendar.issues_on.items() for spec in specs}
    in_run = issues[issues.maturity <= model.calendar.days[-1]]
    assert len(in_run) > 100
    unrefunded = [(r.tenor, r.maturity.date()) for r in in_run.itertuples() if (r.maturity, r.tenor) not in settling]
    assert not unrefunded
