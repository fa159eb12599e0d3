"""Replay: exogenous aggregates read from a data folder into the keys they drive, and its errors.

Synthetic H.4.1-style files (written here, with known paths) test the mechanics exactly; the
project's table of FOMC decisions is checked against the real IORB and EFFR files, and a
replayed 2025 window against the real TGA and SOMA, when PLUMBING_DATA_DIR points to them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim import TreasuryMarketModel
from sim.calendar import business_days_before
from sim.data.fomc import RATES_TABLE, administered_rates_table
from sim.pricing import YieldCurve
from sim.runs import prepare_scenario
from sim.scenario import ScenarioError, load_scenario, scenario_to_yaml
from sim.scenario.replay import replayed_series
from sim.scenario.schema import TENORS, CurveSection, LeveredFundSection
from tests.conftest import SMALL_POPULATIONS

REAL = os.environ.get("PLUMBING_DATA_DIR", "")
needs_real = pytest.mark.skipif(not REAL or not Path(REAL).is_dir(), reason="PLUMBING_DATA_DIR not set")
FIXTURE_DATA = Path(__file__).parent / "fixtures" / "data"
START, END, WARMUP = dt.date(2025, 2, 3), dt.date(2025, 4, 30), 20
FIRST_DAY = business_days_before(START, WARMUP)
WEDNESDAYS = pd.date_range("2024-11-06", "2025-06-25", freq="W-WED")
# Known paths ($ millions, as H.4.1 files state them): SOMA Treasuries run off by $25bn a month
# and then rise by $40bn in April; the TGA swings between $600bn and $800bn.
SOMA_MN = pd.Series(4_300_000.0 - 25_000.0 * np.arange(len(WEDNESDAYS)) * 12 / 52, index=WEDNESDAYS)
APRIL_ON = WEDNESDAYS >= "2025-04-01"
SOMA_MN[APRIL_ON] += 40_000.0 * np.clip((WEDNESDAYS[APRIL_ON] - pd.Timestamp("2025-04-01")).days / 29, 0, 1)
TGA_MN = pd.Series(700_000.0 + 100_000.0 * np.sin(np.arange(len(WEDNESDAYS)) / 3.0), index=WEDNESDAYS)
RESERVES_MN = pd.Series(3_200_000.0, index=WEDNESDAYS)


def _write_fred(folder: Path, series_id: str, values: pd.Series) -> None:
    (folder / "fred").mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame({"observation_date": values.index.strftime("%Y-%m-%d"), series_id: values.to_numpy()})
    frame.to_csv(folder / "fred" / f"{series_id}.csv", index=False)


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    _write_fred(folder, "TREAST", SOMA_MN)
    _write_fred(folder, "WTREGEN", TGA_MN)
    _write_fred(folder, "WRESBAL", RESERVES_MN)
    days = pd.bdate_range("2024-11-01", "2025-06-30")
    _write_fred(folder, "RRPONTSYD", pd.Series(np.linspace(200.0, 100.0, len(days)), index=days))
    return folder


def _scenario_file(tmp_path: Path, replay: dict, **top: object) -> Path:
    steering = {"bill_steering_share": 1.0, "bill_size_min_share": 0.1, "bill_size_max_share": 5.0}
    body = {"name": "replayed", "start_date": START, "end_date": END, "warmup_business_days": WARMUP,
            **SMALL_POPULATIONS, "treasury": steering, "replay": replay, **top}  # fmt: skip
    path = tmp_path / "replayed.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


EVERYTHING = {"tga": "h41_weekly", "soma_treasuries": True, "administered_rates": True, "opening_balances": True}


# ---------------------------------------------------------------- what is written into the scenario
def test_opening_balances_are_the_datas_on_the_first_simulated_day(tmp_path, data):
    scenario = load_scenario(_scenario_file(tmp_path, EVERYTHING), data_dir=data)
    on_or_before = lambda s: float(s[s.index <= pd.Timestamp(FIRST_DAY)].iloc[-1])  # noqa: E731
    assert scenario.central_bank.soma_treasuries_bn == pytest.approx(on_or_before(SOMA_MN) / 1000, abs=1e-3)
    assert scenario.treasury.tga_start_bn == pytest.approx(on_or_before(TGA_MN) / 1000, abs=1e-3)
    assert scenario.banks.reserves_bn == pytest.approx(3200.0 - scenario.dealers.reserves_bn, abs=1e-3)
    assert 100.0 < scenario.central_bank.on_rrp_start_bn < 200.0
    assert scenario.replay.data_folder_read == str(data.resolve())


def test_the_tga_becomes_the_bills_target_ahead_of_each_observation(tmp_path, data):
    scenario = load_scenario(_scenario_file(tmp_path, {**EVERYTHING, "tga_lead_business_days": 3}), data_dir=data)
    path = {t.date: t.target_bn for t in scenario.treasury.tga_target_path}
    inside = (TGA_MN.index > pd.Timestamp(FIRST_DAY)) & (TGA_MN.index <= pd.Timestamp(END))
    for wednesday, level_mn in TGA_MN[inside].items():
        steer_from = business_days_before(wednesday.date(), 3)
        assert path[steer_from] == pytest.approx(level_mn / 1000, abs=1e-3)


def test_soma_changes_become_monthly_runoff_caps_and_purchases(tmp_path, data):
    scenario = load_scenario(_scenario_file(tmp_path, EVERYTHING), data_dir=data)
    caps = {c.date.month: c.bn_per_month for c in scenario.central_bank.runoff_caps}
    assert caps[2] == pytest.approx(25.0 * 12 / 52 * 4, rel=0.3)  # four weekly falls in February
    assert caps[4] == 0.0  # April rose
    (april,) = [p for p in scenario.central_bank.purchases if p.start.month == 4]
    assert april.tenors == ["4w", "8w", "13w", "26w", "52w"]
    assert april.bn_per_month > 0


def test_weekly_soma_periods_spread_each_weeks_rise_over_that_week(tmp_path, data):
    scenario = load_scenario(_scenario_file(tmp_path, {**EVERYTHING, "soma_period": "week"}), data_dir=data)
    purchases = [p for p in scenario.central_bank.purchases if p.start >= dt.date(2025, 4, 1)]
    # April's rise comes week by week (Thursday to Wednesday), each paced over its own business days.
    assert len(purchases) >= 4 and all((p.end - p.start).days <= 6 for p in purchases)
    for program in purchases:
        thursday, wednesday = pd.Timestamp(program.start), pd.Timestamp(program.end)
        rise_bn = (SOMA_MN[SOMA_MN.index <= wednesday].iloc[-1] - SOMA_MN[SOMA_MN.index < thursday].iloc[-1]) / 1000
        business = len(pd.bdate_range(thursday, wednesday))
        assert program.bn_per_month == pytest.approx(rise_bn * 21 / business, abs=1e-3)
    # Weekly falls become caps paced per 21 business days of their own week, from its first day.
    weekly_fall_bn = 25.0 * 12 / 52
    for cap in [c for c in scenario.central_bank.runoff_caps if c.date.month == 2]:
        business = len(pd.bdate_range(cap.date, cap.date + dt.timedelta(days=6)).difference(
            pd.to_datetime(["2025-02-17"])))  # Presidents' Day  # fmt: skip
        assert cap.bn_per_month == pytest.approx(weekly_fall_bn * 21 / business, rel=1e-3)


def test_administered_rates_come_from_the_fomc_table(tmp_path, data):
    scenario = load_scenario(_scenario_file(tmp_path, EVERYTHING), data_dir=data)
    first = scenario.policy.rates[0]
    assert first.date == dt.date(2024, 12, 19) and first.iorb_pct == 4.40 and first.on_rrp_pct == 4.25
    daily = TreasuryMarketModel(scenario, seed=1).run().results()["daily"]
    assert (daily.iorb_pct == 4.40).all() and (daily.on_rrp_rate_pct == 4.25).all()


def test_a_replayed_run_follows_the_data_and_keeps_its_books(tmp_path, data):
    scenario = load_scenario(_scenario_file(tmp_path, EVERYTHING), data_dir=data)
    model = TreasuryMarketModel(scenario, seed=1).run()
    gaps = model.accounting_gaps()
    assert max(gaps.values()) < 1e-9
    daily = model.results()["daily"].set_index("date")
    daily.index = pd.to_datetime(daily.index)
    soma = (SOMA_MN / 1000).reindex(daily.index, method="ffill")
    # SOMA runs off as its issues mature (a month's $23bn on the month's maturity days, where the
    # data fall weekly); what matures beyond the cap is reinvested when the next auctions settle,
    # a dip of the day's whole maturities for a few days. At each week's high, after that
    # settlement: within a month's runoff of the data, and closer on average.
    gap = (daily.soma_bn.resample("W").max() - soma.resample("W").max()).abs()
    assert gap.max() < 30.0 and gap.mean() < 15.0
    # Bills steer the TGA to the data's path a week ahead; the model's own fiscal flows (a tax
    # date's $90bn, the deficit between an auction and its settlement) stay, so the path is
    # followed in its swings (on seed 1: correlation 0.88, error $58bn against a spread of $77bn).
    tga = (TGA_MN / 1000).reindex(daily.index, method="ffill")
    assert np.corrcoef(daily.tga_bn, tga)[0, 1] > 0.75
    assert float(np.sqrt(((daily.tga_bn - tga) ** 2).mean())) < float(tga.std())


# ---------------------------------------------------------------- runs without the data, dates moved
def test_a_resolved_replayed_scenario_reruns_without_the_data(tmp_path, data, monkeypatch):
    scenario = load_scenario(_scenario_file(tmp_path, EVERYTHING), data_dir=data)
    resolved = tmp_path / "resolved.yaml"
    resolved.write_text(scenario_to_yaml(scenario), encoding="utf-8")
    monkeypatch.delenv("PLUMBING_DATA_DIR", raising=False)
    shutil.rmtree(data)
    again = load_scenario(resolved)
    assert again == scenario


def test_moved_dates_read_the_replay_again(tmp_path, data):
    path = _scenario_file(tmp_path, EVERYTHING)
    scenario = prepare_scenario(path, end=dt.date(2025, 5, 30), data_dir=data)
    assert max(t.date for t in scenario.treasury.tga_target_path) > END
    assert max(c.date for c in scenario.central_bank.runoff_caps).month == 5


# ---------------------------------------------------------------- errors, located
def test_without_a_data_folder_the_replay_key_is_named(tmp_path, monkeypatch):
    monkeypatch.delenv("PLUMBING_DATA_DIR", raising=False)
    path = _scenario_file(tmp_path, EVERYTHING)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    (problem,) = err.value.problems
    assert problem.file == str(path.resolve()) and problem.key_path == "replay"
    assert "PLUMBING_DATA_DIR" in problem.expected


def test_a_missing_series_names_its_file(tmp_path, data):
    (data / "fred" / "TREAST.csv").unlink()
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"soma_treasuries": True}), data_dir=data)
    (problem,) = err.value.problems
    assert problem.file.endswith("fred/TREAST.csv") and problem.key_path == "replay.soma_treasuries"
    assert problem.found == "no such file"


def test_dates_outside_the_data_name_the_file_the_series_and_the_dates(tmp_path, data):
    _write_fred(data, "WTREGEN", TGA_MN[TGA_MN.index < "2025-03-01"])
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"tga": "h41_weekly"}), data_dir=data)
    (problem,) = err.value.problems
    assert problem.file.endswith("fred/WTREGEN.csv") and problem.key_path == "replay.tga"
    assert f"WTREGEN from {FIRST_DAY} to {END}" in problem.expected
    assert "to 2025-02-26" in problem.found


def test_the_daily_statement_outside_its_dates_is_named(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"tga": "daily_treasury_statement"}), data_dir=FIXTURE_DATA)
    (problem,) = err.value.problems
    assert problem.file.endswith("treasury/dts_operating_cash_balance.csv") and problem.key_path == "replay.tga"
    assert "TGA closing balance" in problem.expected and "2022-0" in problem.found


def test_rates_before_the_fomc_table_are_an_error(tmp_path, data):
    dates = {"start_date": dt.date(2017, 3, 1), "end_date": dt.date(2017, 6, 30)}
    path = _scenario_file(tmp_path, {"administered_rates": True}, **dates)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.file == str(RATES_TABLE) and problem.key_path == "replay.administered_rates"
    assert "the table starts 2017-06-15" in problem.found


def test_a_key_the_replay_would_overwrite_is_named_in_the_scenario_file(tmp_path, data):
    caps = {"runoff_caps": [{"date": START, "bn_per_month": 5}]}
    path = _scenario_file(tmp_path, {"soma_treasuries": True}, central_bank=caps)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.file == str(path.resolve()) and problem.key_path == "central_bank.runoff_caps"
    assert "replay.soma_treasuries" in problem.expected


# ---------------------------------------------------------------- the rate table as a scenario key
def _rates_file(tmp_path: Path, rows: list[dict], **policy: object) -> Path:
    body = {"start_date": START, "end_date": END, "policy": {"rates": rows, **policy}}
    path = tmp_path / "rates.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    return path


ROW = {
    "date": dt.date(2025, 1, 2),
    "target_lower_pct": 4.25,
    "target_upper_pct": 4.5,
    "iorb_pct": 4.4,
    "on_rrp_pct": 4.25,
}


def test_a_rate_table_sets_each_rate_from_its_date(tmp_path):
    change = {**ROW, "date": dt.date(2025, 3, 3), "iorb_pct": 4.35}  # a technical adjustment of IORB alone
    daily = TreasuryMarketModel(load_scenario(_rates_file(tmp_path, [ROW, change])), seed=1).run().results()["daily"]
    before, after = daily[daily.date < "2025-03-03"], daily[daily.date >= "2025-03-03"]
    assert (before.iorb_pct == 4.40).all() and (after.iorb_pct == 4.35).all()
    assert (daily.on_rrp_rate_pct == 4.25).all()


@pytest.mark.parametrize(
    ("rows", "policy", "key", "expected"),
    [
        ([ROW, ROW], {}, "policy.rates[1].date", "one row of rates per date"),
        ([{**ROW, "date": dt.date(2025, 2, 4)}], {}, "policy.rates[0].date", "in force on the first simulated day"),
        ([{**ROW, "target_lower_pct": 4.75}], {}, "policy.rates[0]", "target_lower_pct at or below"),
        ([ROW], {"path": [{"date": dt.date(2025, 3, 3), "target_upper_pct": 4.25}]}, "policy", "not both"),
    ],
)
def test_a_bad_rate_table_is_located(tmp_path, rows, policy, key, expected):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_rates_file(tmp_path, rows, **policy))
    assert any(p.key_path == key and expected in p.expected for p in err.value.problems), err.value.problems


def test_the_fomc_table_is_ordered_sourced_and_consistent():
    table = administered_rates_table()
    assert table.date.is_monotonic_increasing and table.date.is_unique
    assert (table.source.str.startswith("https://www.federalreserve.gov/")).all()
    assert ((table.target_lower_pct <= table.iorb_pct) & (table.iorb_pct <= table.target_upper_pct)).all()
    assert ((table.on_rrp_pct - table.target_lower_pct).abs() <= 0.05 + 1e-12).all()


@needs_real
def test_the_fomc_table_matches_the_real_iorb_and_brackets_effr():
    from sim.data.fred import fred_path, read_fred_series

    table = administered_rates_table().set_index("date")
    iorb = read_fred_series(fred_path(REAL, "IORB"), "IORB").dropna()
    in_force = table.reindex(table.index.union(iorb.index)).ffill().loc[iorb.index]
    assert np.allclose(in_force.iorb_pct, iorb, atol=1e-9)
    effr = read_fred_series(fred_path(REAL, "EFFR"), "EFFR").dropna().loc[table.index[0] :]
    in_force = table.reindex(table.index.union(effr.index)).ffill().loc[effr.index]
    outside = effr[(effr < in_force.target_lower_pct - 1e-9) | (effr > in_force.target_upper_pct + 1e-9)]
    assert list(outside.index.date) == [dt.date(2019, 9, 17)]  # the repo spike's day only


@needs_real
def test_the_2025_window_replays_the_real_tga_and_soma(tmp_path):
    root = Path(__file__).resolve().parents[1]
    scenario = load_scenario(root / "calibration" / "scenarios" / "window_2025_h1.yaml", data_dir=REAL)
    scenario = scenario.model_copy(update={"end_date": dt.date(2025, 4, 30)})
    daily = TreasuryMarketModel(scenario, seed=1).run().results()["daily"].set_index("date")
    daily.index = pd.to_datetime(daily.index)
    from sim.data.fred import fred_path, read_fred_series
    from sim.data.treasury import read_tga_closing

    tga = read_tga_closing(Path(REAL) / "treasury" / "dts_operating_cash_balance.csv").reindex(
        daily.index, method="ffill"
    )
    soma = (read_fred_series(fred_path(REAL, "TREAST"), "TREAST") / 1000).reindex(daily.index, method="ffill")
    assert (daily.soma_bn - soma).abs().max() < 40.0  # under 1% of $4.2T
    # The TGA swung from about $820bn to $300bn and back to $680bn; bills keep it within about a
    # week's bill issuance of the data on average.
    assert float((daily.tga_bn - tga).abs().mean()) < 120.0


# ---------------------------------------------------------------- auction sizes
def _write_amounts(folder: Path, first: str = "2023-01", last: str = "2025-06") -> None:
    """A Fiscal Data auction_amounts.csv with known sizes: each month a 2-year note of $60bn and a 2-year FRN
    of $28bn (the same term); a 10-year new issue of $42bn in February, May, August and November, a
    reopening ("9-Year 10-Month") of $39bn otherwise, and a 10-year TIPS ("10-Year", $16bn) in January;
    13-week bills of $70bn every Monday, 17-week bills of $60bn from 2024 and a weekly 42-day
    cash-management bill of $50bn; the other tenors at 2025's sizes, the 20-year only from June 2024."""
    rows = []

    def add(kind: str, term: str, day: pd.Timestamp, bn: float) -> None:
        rows.append({"record_date": day.date(), "security_type": kind, "security_term": term,
                     "auction_date": day.date(), "announcemt_date": day.date(), "offering_amt": int(bn * 1e9),
                     "total_accepted": int(bn * 1e9), "closing_time_comp": "01:00 PM"})  # fmt: skip

    for month in pd.period_range(first, last, freq="M"):
        mid = month.start_time + pd.Timedelta(days=14)
        add("Note", "2-Year", mid, 60.0)
        add("Note", "2-Year", mid + pd.Timedelta(days=1), 28.0)
        new = month.month in (2, 5, 8, 11)
        add("Note", "10-Year" if new else "9-Year 10-Month", mid - pd.Timedelta(days=5), 42.0 if new else 39.0)
        if month.month == 1:
            add("Note", "10-Year", mid + pd.Timedelta(days=3), 16.0)
        for kind, term, bn in (("Note", "3-Year", 58.0), ("Note", "5-Year", 70.0), ("Note", "7-Year", 44.0),
                               ("Bond", "30-Year" if new else "29-Year 11-Month", 25.0 if new else 22.0)):  # fmt: skip
            add(kind, term, mid + pd.Timedelta(days=2), bn)
        if month >= pd.Period("2024-06", "M"):  # a tenor brought back
            add("Bond", "20-Year" if new else "19-Year 10-Month", mid - pd.Timedelta(days=7), 16.0 if new else 13.0)
        for monday in pd.date_range(month.start_time, month.end_time, freq="W-MON"):
            for term, bn in (("4-Week", 95.0), ("8-Week", 90.0), ("13-Week", 70.0), ("26-Week", 72.0)):
                add("Bill", term, monday, bn)
            if monday.year >= 2024:
                add("Bill", "17-Week", monday, 60.0)
            add("Bill", "42-Day", monday, 50.0)
        add("Bill", "52-Week", mid, 48.0)
    (folder / "treasury").mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(folder / "treasury" / "auction_amounts.csv", index=False)


def test_auction_sizes_become_the_sizes_and_their_dated_changes(tmp_path, data):
    _write_amounts(data)
    scenario = load_scenario(_scenario_file(tmp_path, {"auction_sizes": True}), data_dir=data)
    sizes = scenario.treasury.sizes
    # The nominal issue of a term, not the FRN or the TIPS sharing it; the kind of 10-year each month sells.
    assert sizes.notes_2y_bn == 60.0 and sizes.notes_10y_reopen_bn == 39.0 and sizes.notes_10y_new_bn == 42.0
    assert sizes.bills_13w_bn == 70.0 and sizes.bonds_20y_reopen_bn == 0.0  # not sold until June 2024
    # The 42-day cash-management bill is carried in the 8-week at the par it keeps outstanding (42/56).
    assert sizes.bills_8w_bn == round(90.0 + 50.0 * 42 / 56)
    changes = {row.date: row.sizes for row in scenario.treasury.sizes_path}
    # From 2024 the 17-week bill is carried in the 13-week, at the par it keeps outstanding.
    assert changes[dt.date(2024, 1, 1)] == {"bills_13w_bn": round(70.0 + 60.0 * 17 / 13)}
    assert changes[dt.date(2024, 6, 1)] == {"bonds_20y_reopen_bn": 13.0}
    assert changes[dt.date(2024, 8, 1)] == {"bonds_20y_new_bn": 16.0}  # the first new issue after its return
    assert max(changes) <= END and len(changes) == 3
    assert replayed_series(scenario)["auction_sizes"] == "treasury/auction_amounts.csv"


def test_the_opening_stock_and_the_offerings_follow_the_history_of_sizes(tmp_path):
    # 2-year notes of $40bn to June 2024, then $60bn: the 2-year issues outstanding at the start
    # are the history's, and an auction in the run sells the size in force on its day.
    path = tmp_path / "sized.yaml"
    body = {"start_date": START, "end_date": END, "warmup_business_days": WARMUP, **SMALL_POPULATIONS,
            "treasury": {"sizes": {"notes_2y_bn": 40.0},
                         "sizes_path": [{"date": dt.date(2024, 7, 1), "sizes": {"notes_2y_bn": 60.0}},
                                        {"date": dt.date(2025, 3, 1), "sizes": {"notes_2y_bn": 75.0}}]}}  # fmt: skip
    path.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
    model = TreasuryMarketModel(load_scenario(path), seed=1)
    issues = model.issues
    two_year = issues.active & (issues.tenor == TENORS.index("2y"))
    issued = pd.to_datetime(issues.issue_day[two_year], unit="D")
    expected = np.where(issued >= pd.Timestamp("2024-07-01"), 60.0, 40.0)
    assert len(issued) == 24 and np.array_equal(issues.outstanding_bn[two_year], expected)
    auctions = model.run().results()["auctions"]
    sold = auctions[auctions.tenor == "2y"].set_index("auction_date").offering_bn
    assert set(sold.round(6)) == {60.0, 75.0}
    assert (sold[pd.to_datetime(sold.index) >= pd.Timestamp("2025-03-01")] == 75.0).all()


def test_auction_sizes_outside_the_file_name_it_and_the_dates(tmp_path, data):
    _write_amounts(data, last="2025-02")
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"auction_sizes": True}), data_dir=data)
    (problem,) = err.value.problems
    assert problem.file.endswith("treasury/auction_amounts.csv") and problem.key_path == "replay.auction_sizes"
    assert f"auctions from {FIRST_DAY} to {END}" in problem.expected and "to 2025-02" in problem.found


def test_an_unknown_auction_term_is_located_in_the_file(tmp_path, data):
    _write_amounts(data)
    amounts = data / "treasury" / "auction_amounts.csv"
    amounts.write_text(amounts.read_text().replace("9-Year 10-Month", "9 years", 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"auction_sizes": True}), data_dir=data)
    (problem,) = err.value.problems
    assert problem.file.endswith("treasury/auction_amounts.csv") and "security_term" in problem.found
    assert "'9 years'" in problem.found


def test_sizes_the_replay_would_overwrite_are_named(tmp_path, data):
    _write_amounts(data)
    path = _scenario_file(tmp_path, {"auction_sizes": True}, treasury={"sizes": {"notes_2y_bn": 50.0}})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.key_path == "treasury.sizes" and "replay.auction_sizes" in problem.expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"date": "2025-03-01", "sizes": {"notes_2y_bn": 60}}, {"date": "2025-02-01", "sizes": {"notes_2y_bn": 50}}],
         "increasing order"),
        ([{"date": "2025-03-01", "sizes": {"notes_4y_bn": 60}}], "notes_4y_bn"),
        ([{"date": "2025-03-01", "sizes": {"notes_2y_bn": -1}}], "greater than or equal to 0"),
    ],
)  # fmt: skip
def test_a_bad_sizes_path_is_located(tmp_path, rows, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({"treasury": {"sizes_path": rows}}), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    problem = err.value.problems[0]
    assert problem.key_path.startswith("treasury.sizes_path") and expected in f"{problem.expected} {problem.found}"


@needs_real
def test_the_real_auction_sizes_pick_the_nominal_issues():
    from sim.data.treasury import monthly_auction_sizes, read_auction_sizes

    table = monthly_auction_sizes(read_auction_sizes(Path(REAL) / "treasury" / "auction_amounts.csv"))
    january_2022 = table.loc[pd.Period("2022-01", "M")]
    # January 2022: the 2-year note ($54bn; the FRN was $26bn), the 10-year reopening ($36bn; the
    # 10-year TIPS $16bn), the 20-year reopening ($20bn); no 20-year before May 2020.
    assert (january_2022["2y"], january_2022["10y"], january_2022["20y"]) == (54.0, 36.0, 20.0)
    assert (table.loc[: pd.Period("2020-04", "M"), "20y"] == 0).all() and table.loc[
        pd.Period("2020-05", "M"), "20y"
    ] > 0
    # Bills outstanding the sizes imply (each size times the weeks it is outstanding) grew from about
    # $3.6T in January 2022 to about $6.2T in January 2025, cash-management bills included (the
    # 119-day series held about $0.5T in 2021-2022, the 42-day about $0.4T in 2024; without them,
    # $3.1T and $5.8T).
    weeks = pd.Series({"4w": 4, "8w": 8, "13w": 13, "26w": 26, "52w": 13})
    implied = (table[weeks.index] * weeks).sum(axis=1)
    assert 3300 < implied[pd.Period("2022-01", "M")] < 3900 and 5800 < implied[pd.Period("2025-01", "M")] < 6600


def test_cash_management_bills_keep_the_par_they_hold_outstanding():
    from sim.data.treasury import monthly_auction_sizes

    mondays = pd.date_range("2024-03-04", "2024-03-25", freq="W-MON")  # four weeks of bill auctions
    rows = [(day, "13w", "13w", 70.0) for day in mondays] + [(day, "8w", "8w", 90.0) for day in mondays]
    rows += [(day, "8w", "42d", 50.0 * 42 / 56) for day in mondays]  # a weekly 42-day series
    rows += [(mondays[1], "4w", "14d", 40.0 * 14 / 28)]  # one 14-day bill
    sizes = pd.DataFrame(rows, columns=["auction_date", "tenor", "sold_as", "offering_bn"])
    sizes["auction_date"] = pd.to_datetime(sizes["auction_date"])
    march = monthly_auction_sizes(sizes).loc[pd.Period("2024-03", "M")]
    # A weekly series counts for its mean (scaled); a single bill for its size spread over the month's
    # four weeks of bill auctions, so the par-weeks it adds are those it held.
    assert march["8w"] == pytest.approx(90.0 + 37.5) and march["13w"] == pytest.approx(70.0)
    weekly_14_day = march["4w"]
    assert weekly_14_day == pytest.approx(20.0 / 4)
    # Sold in each of the four weeks and outstanding four weeks, against $40bn outstanding two weeks.
    assert weekly_14_day * 4 * 4 == pytest.approx(40.0 * 2)


@pytest.mark.parametrize(
    ("term", "host", "scale"),
    [("42-Day", "8w", 42 / 56), ("119-Day", "13w", 119 / 91), ("154-Day", "26w", 154 / 182),
     ("273-Day", "26w", 273 / 182), ("1-Day", "4w", 1 / 28), ("21-Day", "4w", 21 / 28)],
)  # fmt: skip
def test_a_cash_management_bill_goes_to_the_weekly_bill_nearest_its_term(term, host, scale):
    from sim.data.treasury import _model_tenor

    found = _model_tenor(term)
    assert found is not None and found[0] == host and found[1] == term.split("-")[0] + "d"
    assert found[2] == pytest.approx(scale)


# ---------------------------------------------------------------- the basis trade's scale
def _levered_position_bn(model: TreasuryMarketModel) -> float:
    led = model.ledger
    return float((led.holdings_bn[model.slices["levered_fund"]] @ led.price).sum())


def test_a_capital_path_scales_the_basis_trade(tmp_path):
    # Capital doubled from March: funds raise it and their positions grow toward the doubled cap.
    def run(path: list[dict]) -> tuple[float, float, float]:
        body = {"start_date": START, "end_date": END, "warmup_business_days": WARMUP, **SMALL_POPULATIONS,
                "levered_funds": {"count": 4, "capital_path": path}}  # fmt: skip
        file = tmp_path / "basis.yaml"
        file.write_text(yaml.safe_dump(body, sort_keys=False), encoding="utf-8")
        model = TreasuryMarketModel(load_scenario(file), seed=1)
        while model.running and model.calendar.dates[model.day_index] < pd.Timestamp("2025-03-01"):
            model.step()
        before = _levered_position_bn(model)
        model.run()
        assert max(model.accounting_gaps().values()) < 1e-9
        equity = float(model.ledger.equity_bn[model.slices["levered_fund"]].sum())
        return before, _levered_position_bn(model), equity

    capital = LeveredFundSection().capital_bn
    flat_before, flat_after, flat_equity = run([])
    doubled_before, doubled_after, doubled_equity = run([{"date": dt.date(2025, 3, 1), "capital_bn": 2 * capital}])
    assert doubled_before == flat_before  # nothing changes before the date
    # Equity steers to the doubled level (5% of the gap a day for two months: about 95% of the way).
    assert doubled_equity == pytest.approx(2 * flat_equity, rel=0.15)
    # Positions follow the cap they raise: well over half again the flat run's by the end.
    assert doubled_after > 1.5 * flat_after


def _write_dvp(folder: Path, first: str = "2024-10-01", last: str = "2025-06-30") -> pd.Series:
    """Cleared DVP volume rising by $100bn a month from $2T (October 2024), in the OFR file's layout."""
    days = pd.bdate_range(first, last)
    months = (days.year - days[0].year) * 12 + days.month - days[0].month
    volume_bn = pd.Series(2000.0 + 100.0 * months, index=days)
    (folder / "market").mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "dvp_overnight_avg_rate_pct": 4.3,
                  "gcf_agency_avg_rate_pct": 4.3, "triparty_overnight_avg_rate_pct": 4.3,
                  "dvp_total_volume_usd": volume_bn.to_numpy() * 1e9, "gcf_total_volume_usd": 1e11,
                  "triparty_total_volume_usd": 2e12}).to_csv(folder / "market" / "ofr_repo_segments_daily.csv",
                                                                index=False)  # fmt: skip
    return volume_bn


def test_dvp_volume_becomes_the_basis_funds_capital_path(tmp_path, data):
    volume_bn = _write_dvp(data)
    scenario = load_scenario(_scenario_file(tmp_path, {"basis_trade": True}), data_dir=data)
    capital = scenario.levered_funds.capital_bn
    path = {row.date: row.capital_bn for row in scenario.levered_funds.capital_path}
    # Each month after the first simulated day's, at its mean volume over that first month's.
    monthly = volume_bn[volume_bn.index >= pd.Timestamp(FIRST_DAY)].groupby(lambda d: d.to_period("M")).mean()
    monthly = monthly[monthly.index <= pd.Period(END, "M")]
    assert list(path) == [m.start_time.date() for m in monthly.index[1:]]
    for month, level in monthly.iloc[1:].items():
        assert path[month.start_time.date()] == pytest.approx(capital * level / monthly.iloc[0], abs=1e-3)
    assert replayed_series(scenario)["basis_trade"].startswith("market/ofr_repo_segments_daily.csv")


@pytest.mark.parametrize(
    ("first", "last", "expected_found"),
    [("2024-10-01", "2025-03-31", "to 2025-03-31"), ("2025-04-01", "2025-06-30", "from 2025-04-01")],
)
def test_dvp_volume_outside_the_simulated_days_is_located(tmp_path, data, first, last, expected_found):
    _write_dvp(data, first, last)
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"basis_trade": True}), data_dir=data)
    (problem,) = err.value.problems
    assert problem.file.endswith("market/ofr_repo_segments_daily.csv") and problem.key_path == "replay.basis_trade"
    assert f"cleared DVP volume from {START} to {END}" in problem.expected and expected_found in problem.found


def test_a_capital_path_the_replay_would_overwrite_is_named(tmp_path, data):
    _write_dvp(data)
    path = _scenario_file(tmp_path, {"basis_trade": True},
                          levered_funds={"capital_path": [{"date": START, "capital_bn": 40.0}]})  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.key_path == "levered_funds.capital_path" and "replay.basis_trade" in problem.expected


@pytest.mark.parametrize(("section", "key", "field"), [("levered_funds", "capital_path", "capital_bn"),
                                                       ("curve", "level_vol_path", "level_vol_bp")])  # fmt: skip
def test_a_dated_path_out_of_order_is_located(tmp_path, section, key, field):
    rows = [{"date": "2025-03-01", field: 4}, {"date": "2025-02-01", field: 5}]
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({section: {key: rows}}), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    problem = err.value.problems[0]
    assert problem.key_path.startswith(f"{section}.{key}") and "increasing order" in problem.expected


# ---------------------------------------------------------------- rate volatility
def test_a_level_vol_path_scales_the_level_factors_moves_from_its_date():
    calm = CurveSection()
    path = CurveSection(level_vol_path=[{"date": dt.date(2025, 3, 3), "level_vol_bp": 2 * calm.level_vol_calm_bp}])
    shocks = np.array([1.0, 0.0])
    moves = {}
    for name, section in (("calm", calm), ("path", path)):
        curve = YieldCurve(section)
        curve.step(shocks, 0.5, False, 1.0, day=pd.Timestamp("2025-02-28"))
        before = curve.level_bp
        curve.step(shocks, 0.5, False, 1.0, day=pd.Timestamp("2025-03-03"))
        moves[name] = (before, curve.level_bp - before * (1 - section.factor_mean_reversion_per_day))
    assert moves["path"][0] == moves["calm"][0] == pytest.approx(calm.level_vol_calm_bp)  # same before the date
    assert moves["path"][1] == pytest.approx(2 * moves["calm"][1])  # twice the move from it
    # Risk-off scales the path's level as it scales the calm one.
    curve = YieldCurve(path)
    curve.step(shocks, 0.0, True, 1.0, day=pd.Timestamp("2025-03-04"))
    assert curve.level_bp == pytest.approx(path.level_vol_risk_off_bp * 2)
    # Volatility relative to calm is still measured against the calm level.
    curve.realised_vol_bp = 2 * path.level_vol_calm_bp
    assert curve.vol_ratio == pytest.approx(2.0)


def _write_move(folder: Path, first: str = "2024-10-01", last: str = "2025-06-30") -> pd.Series:
    """A MOVE index at 100, then 150 from March 2025."""
    days = pd.bdate_range(first, last)
    move = pd.Series(np.where(days >= pd.Timestamp("2025-03-01"), 150.0, 100.0), index=days)
    (folder / "market").mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "move_close": move.to_numpy()}).to_csv(
        folder / "market" / "move_index_daily.csv", index=False
    )
    return move


def test_the_move_index_becomes_the_level_vol_path(tmp_path, data):
    _write_move(data)
    replay = {"rate_volatility": True, "calm_move_index": 100.0}
    scenario = load_scenario(_scenario_file(tmp_path, replay), data_dir=data)
    calm = scenario.curve.level_vol_calm_bp
    path = {row.date: row.level_vol_bp for row in scenario.curve.level_vol_path}
    assert min(path) == FIRST_DAY and path[FIRST_DAY] == pytest.approx(calm)
    assert path[dt.date(2025, 3, 1)] == pytest.approx(1.5 * calm) and path[dt.date(2025, 4, 1)] == pytest.approx(
        1.5 * calm
    )
    assert replayed_series(scenario)["rate_volatility"].startswith("market/move_index_daily.csv")
    # The run's yields move more after March: their daily changes' spread rises about in proportion.
    daily = TreasuryMarketModel(scenario, seed=1).run().results()["daily"].set_index("date")
    changes = daily.yield_10y_pct.diff().mul(100).dropna()
    changes.index = pd.to_datetime(changes.index)
    ratio = changes[changes.index >= "2025-03-03"].std() / changes[changes.index < "2025-03-01"].std()
    assert 1.2 < ratio < 2.2


def test_a_move_index_short_of_the_simulated_days_is_located(tmp_path, data):
    _write_move(data, last="2025-04-15")
    with pytest.raises(ScenarioError) as err:
        load_scenario(_scenario_file(tmp_path, {"rate_volatility": True}), data_dir=data)
    (problem,) = err.value.problems
    assert problem.file.endswith("market/move_index_daily.csv") and problem.key_path == "replay.rate_volatility"
    assert f"the MOVE index from {FIRST_DAY} to {END}" in problem.expected and "to 2025-04-15" in problem.found


def test_a_level_vol_path_the_replay_would_overwrite_is_named(tmp_path, data):
    _write_move(data)
    path = _scenario_file(tmp_path, {"rate_volatility": True},
                          curve={"level_vol_path": [{"date": START, "level_vol_bp": 6.0}]})  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.key_path == "curve.level_vol_path" and "replay.rate_volatility" in problem.expected


def test_reserves_against_the_comfortable_level_are_named_where_the_replay_opens_them(tmp_path, data):
    path = _scenario_file(tmp_path, {"opening_balances": True}, banks={"reserves_per_comfortable": 1.1})
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.file == str(path.resolve()) and problem.key_path == "banks.reserves_per_comfortable"
    assert "WRESBAL" in problem.expected and problem.found == "1.1"


def test_a_runoff_on_top_of_the_replayed_other_assets_is_named(tmp_path, data):
    # The data's path of the Fed's other assets already runs off: a runoff on top counts it twice.
    _write_fred(data, "WALCL", SOMA_MN + 2_000_000.0)
    path = _scenario_file(tmp_path, {"central_bank_other_assets": True},
                          central_bank={"other_assets_runoff_bn_per_month": 19})  # fmt: skip
    with pytest.raises(ScenarioError) as err:
        load_scenario(path, data_dir=data)
    (problem,) = err.value.problems
    assert problem.file == str(path.resolve()) and problem.key_path == "central_bank.other_assets_runoff_bn_per_month"
    assert problem.found == "19"
