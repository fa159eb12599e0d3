"""The Treasury's cash: the opening stock matures where the auction calendar refunds it, and
in the 2025 debt-limit scenario the TGA follows its dated target path without breaching its
floor."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import TreasuryMarketModel
from sim.calendar import MONTH_END_TENORS, bill_settlement_day, day_number, mid_month_settlement, month_end_settlement
from sim.scenario import load_scenario
from sim.scenario.schema import BILL_TENORS, TENORS
from tests.conftest import assert_books_balance, make_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
DEBT_LIMIT = SCENARIOS / "debt_limit_2025.yaml"
# How far the TGA may stand from a target that has held for some weeks ($bn): a week of bills
# closes half the gap, and a week's net outlays, tax receipts and coupon settlements move the
# balance by up to about $100bn between bill settlement days.
PATH_BAND_BN = 150.0


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


@pytest.fixture(scope="module")
def debt_limit_runs() -> dict[int, tuple[TreasuryMarketModel, pd.Series, float]]:
    """The debt-limit scenario over its full year with seeds 1 and 2, books checked every day:
    the model, the recorded TGA by date and the lowest balance on any day (warm-up included)."""
    out = {}
    for seed in (1, 2):
        model = TreasuryMarketModel(load_scenario(DEBT_LIMIT), seed=seed)
        lowest = model.ledger.tga_bn
        while model.running:
            model.step()
            assert_books_balance(model)
            lowest = min(lowest, model.ledger.tga_bn)
        tga = model.results()["daily"].set_index("date")["tga_bn"]
        out[seed] = (model, tga, lowest)
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_in_the_debt_limit_year_the_tga_never_falls_below_its_floor(debt_limit_runs, seed):
    model, tga, lowest = debt_limit_runs[seed]
    assert tga.index[-1] == pd.Timestamp("2025-12-31")
    assert lowest >= model.config.treasury.tga_floor_bn


@pytest.mark.parametrize("seed", [1, 2])
def test_in_the_debt_limit_year_the_tga_follows_its_target_down_and_back_up(debt_limit_runs, seed):
    model, tga, _ = debt_limit_runs[seed]
    target = pd.Series([model.treasury.tga_target_bn(day) for day in tga.index], index=tga.index)
    # Early July: the $300bn target has held since 19 May, so the cash has been run down to it.
    early_july = tga["2025-07-01":"2025-07-11"]
    assert (target[early_july.index] == 300).all()
    assert early_july.max() < 300 + PATH_BAND_BN
    assert (early_july - target[early_july.index]).abs().max() <= PATH_BAND_BN
    # 30 September: the $890bn target has held since 25 August, so the cash has been rebuilt.
    end_september = pd.Timestamp("2025-09-30")
    assert target[end_september] == 890
    assert tga[end_september] > 890 - PATH_BAND_BN
    # Run down, then rebuilt: about $600bn from the July balance to the September one.
    assert tga[end_september] - early_july.mean() > 400


def test_bills_issued_together_roll_over_the_days_maturing_bills_in_their_base_proportions():
    model = TreasuryMarketModel(make_scenario({"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 6, 30)}))
    model.step()
    iss, sizes = model.issues, model.treasury.sizes.on(model.date)
    checked = 0
    for day in sorted(d for d in model.calendar.issues_on if model.date < d <= model.date + pd.Timedelta(days=28)):
        tenors = sorted({spec.tenor for spec in model.calendar.issues_on[day] if spec.tenor in BILL_TENORS})
        maturing_bn = iss.outstanding_bn[iss.active & iss.is_bill & (iss.maturity_day == day_number(day))].sum()
        if len(tenors) < 2 or maturing_bn <= 0:
            continue
        rolled = {t: model.treasury.bill_rollover_bn(model, t, day) for t in tenors}
        # All of the day's maturing bills, whatever their tenor, are rolled over between them...
        assert sum(rolled.values()) == pytest.approx(maturing_bn, rel=1e-12)
        # ...each tenor taking its base size's share of them.
        for t in tenors:
            base_share = getattr(sizes, f"bills_{t}_bn") / sum(getattr(sizes, f"bills_{u}_bn") for u in tenors)
            assert rolled[t] / maturing_bn == pytest.approx(base_share, rel=1e-12)
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("seed", [1, 2])
def test_in_the_debt_limit_year_steering_keeps_the_regular_bills_in_their_proportions(debt_limit_runs, seed):
    # Running the cash down and building it back steers every regular bill alike: a tenor's
    # auctions are not starved while another takes the gap (each tenor's median size against
    # its base size within 15% of the others').
    model, _, _ = debt_limit_runs[seed]
    auctions = model.results()["auctions"]
    bills = auctions[auctions["tenor"].isin(["4w", "8w", "13w", "26w"])]
    base = [getattr(model.treasury.sizes.on(pd.Timestamp(day)), f"bills_{tenor}_bn")
            for day, tenor in zip(bills["auction_date"], bills["tenor"], strict=True)]  # fmt: skip
    ratios = (bills["offering_bn"] / np.asarray(base)).groupby(bills["tenor"]).median()
    assert len(ratios) == 4 and ratios.max() / ratios.min() < 1.15, ratios.to_dict()
