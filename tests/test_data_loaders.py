"""Loaders of real public data: standard columns and units on small fabricated fixtures, located errors on
malformed files, and (when PLUMBING_DATA_DIR points to the shared data folder) the real files."""

from __future__ import annotations

import datetime as dt
import math
import os
import pickle
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.calendar import MarketCalendar, business_days
from sim.data import DataFileError, load_real_tables
from sim.data.nyfed import read_reference_rates, reference_rate_files
from sim.data.real import as_of, calendar_flags, on_rrp_rate_from_iorb
from sim.data.treasury import end_investor_cover_log_sd
from sim.scenario.schema import TreasurySection
from sim.tables import AUCTION_COLUMNS, DAILY_COLUMNS, FAILS_WEEKLY_COLUMNS

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "data"
DAY = pd.Timestamp


@pytest.fixture(scope="module")
def tables() -> dict:
    return load_real_tables(FIXTURES)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A writable copy of the fixture folder (without the recorded download responses)."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES, target, ignore=shutil.ignore_patterns("responses"))
    return target


def row(daily: pd.DataFrame, day: str) -> pd.Series:
    [found] = daily.index[daily["date"] == DAY(day)]
    return daily.loc[found]


# --- daily -----------------------------------------------------------------------------------------------------


def test_daily_has_the_standard_columns_in_order(tables: dict) -> None:
    daily = tables["daily"]
    expected = [
        "date", "reserves_bn", "tga_bn", "on_rrp_bn", "soma_bn", "iorb_pct", "on_rrp_rate_pct", "sofr_p1_pct",
        "sofr_p25_pct", "sofr_median_pct", "sofr_p75_pct", "sofr_p99_pct", "sofr_volume_bn", "tgcr_median_pct",
        "effr_pct", "yield_2y_pct", "yield_10y_pct", "yield_30y_pct", "is_month_end", "is_quarter_end",
        "is_tax_date", "is_settlement_date",
    ]  # fmt: skip
    assert list(daily.columns) == expected
    # Real tables carry SOFR, not the all-trade repo percentiles of a simulated run.
    assert not any(c.startswith("repo_") for c in daily.columns)
    assert set(expected) <= set(DAILY_COLUMNS)
    assert pd.api.types.is_datetime64_any_dtype(daily["date"])
    assert all(daily[c].dtype == bool for c in expected[-4:])
    assert tables["notes"] == []


def test_daily_rows_are_the_published_sofr_dates(tables: dict) -> None:
    dates = tables["daily"]["date"]
    # 16 FRED dates (Good Friday 2022-04-15 has an empty SOFR cell) plus 2022-05-04 from the NY Fed export.
    assert len(dates) == 17
    assert DAY("2022-04-15") not in set(dates)
    assert dates.iloc[0] == DAY("2022-04-11") and dates.iloc[-1] == DAY("2022-05-04")
    assert dates.is_monotonic_increasing and dates.is_unique


def test_repo_percentiles_in_percent(tables: dict) -> None:
    r = row(tables["daily"], "2022-04-29")
    assert r["sofr_median_pct"] == pytest.approx(0.31)
    assert r["sofr_p1_pct"] == pytest.approx(0.26)
    # Dispersion on the fixture's month-end spike: SOFR99 - SOFR1 = 0.81 - 0.26 = 55 bp.
    assert 100 * (r["sofr_p99_pct"] - r["sofr_p1_pct"]) == pytest.approx(55.0)
    daily = tables["daily"]
    assert (daily["sofr_p1_pct"] <= daily["sofr_median_pct"]).all()
    assert (daily["sofr_median_pct"] <= daily["sofr_p99_pct"]).all()


def test_nyfed_export_adds_dates_and_volume(tables: dict) -> None:
    daily = tables["daily"]
    may4 = row(daily, "2022-05-04")  # only in the NY Fed export
    assert (may4["sofr_median_pct"], may4["sofr_p1_pct"], may4["sofr_p99_pct"]) == pytest.approx((0.34, 0.29, 0.45))
    assert may4["sofr_volume_bn"] == 1020
    # Both volume sources on 2022-05-02: the NY Fed export ($bn) wins over market/sofr_volume_daily.csv.
    assert row(daily, "2022-05-02")["sofr_volume_bn"] == 1000
    assert row(daily, "2022-04-28")["sofr_volume_bn"] == pytest.approx(950.0)  # 950e9 USD
    assert math.isnan(row(daily, "2022-04-27")["sofr_volume_bn"])


def test_effr_from_fred_and_the_nyfed_export(tables: dict) -> None:
    daily = tables["daily"]
    assert row(daily, "2022-04-29")["effr_pct"] == pytest.approx(0.32)  # fred/EFFR.csv
    assert row(daily, "2022-05-03")["effr_pct"] == pytest.approx(0.33)  # both sources, equal
    assert row(daily, "2022-05-04")["effr_pct"] == pytest.approx(0.33)  # only in the NY Fed export
    # Fixture IORB is 0.40%: EFFR 7 bp below it on an ordinary day.
    assert 100 * (row(daily, "2022-04-28")["effr_pct"] - row(daily, "2022-04-28")["iorb_pct"]) == pytest.approx(-7.0)


def test_tgcr_only_from_the_nyfed_export(tables: dict) -> None:
    daily = tables["daily"]
    assert list(daily["tgcr_median_pct"].iloc[-3:]) == pytest.approx([0.31, 0.32, 0.33])
    assert daily["tgcr_median_pct"].iloc[:-3].isna().all()  # FRED has no TGCR


def test_on_rrp_rate_is_iorb_less_the_fomc_spread(tables: dict) -> None:
    assert list(tables["daily"]["on_rrp_rate_pct"]) == pytest.approx([0.30] * 17)  # IORB 0.40% - 10 bp
    iorb = pd.Series([5.40, 4.65, 4.40, 4.40], index=pd.to_datetime(["2021-06-01", "2024-12-18", "2024-12-19",
                                                                     "2025-01-02"]))  # fmt: skip
    got = on_rrp_rate_from_iorb(iorb)
    # Before the first spread: unknown; then IORB - 10 bp; from 19 December 2024 IORB - 15 bp.
    assert math.isnan(got[0])
    assert got[1:] == pytest.approx([4.55, 4.25, 4.25])


def test_effr_from_the_nyfed_export_alone_is_noted(data_dir: Path) -> None:
    (data_dir / "fred" / "EFFR.csv").unlink()
    got = load_real_tables(data_dir)
    daily = got["daily"]
    assert got["notes"] == ["fred/EFFR.csv: not found; effr_pct from the New York Fed export only"]
    assert list(daily["effr_pct"].iloc[-3:]) == pytest.approx([0.33, 0.33, 0.33])
    assert daily["effr_pct"].iloc[:-3].isna().all()


def test_no_effr_source_omits_the_column(data_dir: Path) -> None:
    (data_dir / "fred" / "EFFR.csv").unlink()
    (data_dir / "nyfed" / "reference_rates.csv").unlink()
    got = load_real_tables(data_dir)
    assert "effr_pct" not in got["daily"].columns and "tgcr_median_pct" not in got["daily"].columns
    assert any(n.startswith("fred/EFFR.csv: not found (nor EFFR rows") for n in got["notes"])


def test_two_nyfed_exports_must_agree_on_tgcr(data_dir: Path) -> None:
    second = data_dir / "nyfed" / "reference_rates_2022.csv"
    shutil.copy(data_dir / "nyfed" / "reference_rates.csv", second)
    edit_line(second, 9, set_cell(2, "0.31"))  # 2022-05-03 TGCR, 0.32 in the first export
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(second), 9, "Rate (%)")
    assert "TGCR 0.31 on 2022-05-03 disagrees with an earlier" in caught.value.message


def test_reserves_carried_forward_from_wednesday(tables: dict) -> None:
    daily = tables["daily"]
    assert row(daily, "2022-04-20")["reserves_bn"] == pytest.approx(3800.25)  # the Wednesday itself
    assert row(daily, "2022-04-25")["reserves_bn"] == pytest.approx(3800.25)  # Monday after: still 04-20
    assert row(daily, "2022-04-19")["reserves_bn"] == pytest.approx(3852.5)  # Tuesday before: 04-13
    assert row(daily, "2022-05-04")["reserves_bn"] == pytest.approx(3751.0)  # 04-27 value, 7 days on
    assert row(daily, "2022-05-04")["soma_bn"] == pytest.approx(5705.0)  # TREAST has its own 05-04 value


def test_as_of_does_not_carry_stale_values() -> None:
    weekly = pd.Series([1.0, np.nan, 3.0], index=pd.to_datetime(["2022-04-06", "2022-04-13", "2022-04-27"]))
    dates = pd.to_datetime(["2022-04-05", "2022-04-06", "2022-04-12", "2022-04-14", "2022-04-20", "2022-04-28"])
    got = as_of(weekly, pd.DatetimeIndex(dates))
    # Before the first week: nothing; 04-13 is missing, so 04-06 carries 7 days at most (to 04-13).
    np.testing.assert_array_equal(got, [np.nan, 1.0, 1.0, np.nan, np.nan, 3.0])


def test_tga_closing_balance(tables: dict) -> None:
    daily = tables["daily"]
    # From 2022-04-18 the DTS has a closing-balance row ($ millions).
    assert row(daily, "2022-04-19")["tga_bn"] == pytest.approx(865.0)
    # Before, a day's close is the next statement's opening balance: 04-12 closes at 04-13's opening.
    assert row(daily, "2022-04-12")["tga_bn"] == pytest.approx(508.0)
    # 04-14 closes at the Good Friday statement's opening (no SOFR that day, but a DTS).
    assert row(daily, "2022-04-14")["tga_bn"] == pytest.approx(568.5)
    # No DTS after 2022-05-02: FRED WTREGEN weekly average carried forward.
    assert row(daily, "2022-05-02")["tga_bn"] == pytest.approx(898.0)
    assert row(daily, "2022-05-03")["tga_bn"] == pytest.approx(905.0)
    assert row(daily, "2022-05-04")["tga_bn"] == pytest.approx(955.0)


def test_other_daily_series(tables: dict) -> None:
    r = row(tables["daily"], "2022-04-18")
    assert r["iorb_pct"] == pytest.approx(0.40)
    assert r["on_rrp_bn"] == pytest.approx(1790.0)
    assert r["soma_bn"] == pytest.approx(5702.0)  # TREAST 04-13, millions -> bn
    assert (r["yield_2y_pct"], r["yield_10y_pct"], r["yield_30y_pct"]) == pytest.approx((2.55, 2.85, 2.95))


def test_calendar_flags_on_published_dates(tables: dict) -> None:
    daily = tables["daily"].set_index("date")

    def flagged(name: str) -> list[str]:
        return [d.date().isoformat() for d in daily.index[daily[name]]]

    assert flagged("is_month_end") == ["2022-04-29"]
    assert flagged("is_quarter_end") == []
    # 2022-04-15 (Good Friday) had no SOFR, so the tax date moves to the next published day.
    assert flagged("is_tax_date") == ["2022-04-18"]
    assert flagged("is_settlement_date") == ["2022-04-18", "2022-04-29"]


def test_calendar_flags_match_the_model_calendar_on_business_days() -> None:
    calendar = MarketCalendar(dt.date(2024, 1, 1), dt.date(2024, 12, 31))
    flags = calendar_flags(calendar.days)
    for name in ("is_month_end", "is_quarter_end", "is_tax_date", "is_settlement_date"):
        np.testing.assert_array_equal(flags[name].to_numpy(), getattr(calendar, name), err_msg=name)


def test_calendar_flags_follow_published_days() -> None:
    days = business_days(dt.date(2024, 3, 1), dt.date(2024, 6, 28))
    # No publication on Good Friday 2024-03-29, nor (say) on 2024-04-15.
    published = days[~days.isin([DAY("2024-03-29"), DAY("2024-04-15")])]
    flags = calendar_flags(published)

    def flagged(name: str) -> list[str]:
        return [d.date().isoformat() for d in published[flags[name].to_numpy()]]

    # The last date's month-end comes from the business calendar (next business day 2024-07-01).
    assert flagged("is_month_end") == ["2024-03-28", "2024-04-30", "2024-05-31", "2024-06-28"]
    assert flagged("is_quarter_end") == ["2024-03-28", "2024-06-28"]
    # 2024-06-15 is a Saturday: the tax date is the next published day.
    assert flagged("is_tax_date") == ["2024-03-15", "2024-04-16", "2024-06-17"]
    assert flagged("is_settlement_date") == [
        "2024-03-15", "2024-03-28", "2024-04-16", "2024-04-30", "2024-05-15", "2024-05-31", "2024-06-17",
        "2024-06-28",
    ]  # fmt: skip
    # A window that starts after the 15th does not flag its first day; one starting on the first
    # business day after a weekend 15th does.
    late = calendar_flags(business_days(dt.date(2024, 5, 20), dt.date(2024, 5, 31)))
    assert not late["is_settlement_date"].iloc[0]
    monday = calendar_flags(business_days(dt.date(2024, 6, 17), dt.date(2024, 6, 20)))
    assert monday["is_tax_date"].iloc[0]


def test_date_window(tables: dict) -> None:
    window = load_real_tables(FIXTURES, dt.date(2022, 4, 18), dt.date(2022, 4, 26))
    daily = window["daily"]
    assert daily["date"].min() == DAY("2022-04-18") and daily["date"].max() == DAY("2022-04-26")
    assert len(daily) == 7
    # Flags come from the full set of published dates, not the window's edges.
    assert not daily["is_month_end"].iloc[-1]
    assert list(window["auctions"]["tenor"]) == ["13w", "52w", "20y", "2y"]
    assert list(window["fails_weekly"]["week_end"]) == [DAY("2022-04-20")]
    pd.testing.assert_frame_equal(daily, tables["daily"].iloc[4:11].reset_index(drop=True))


# --- auctions --------------------------------------------------------------------------------------------------


def test_end_investors_cover_varies_about_the_mean_of_like_auctions(tmp_path: Path) -> None:
    header = (
        "auction_date,security_type,original_security_term,inflation_index_security,floating_rate,"
        "offering_amt,comp_tendered,primary_dealer_tendered"
    )
    rows = [
        # Two 20-year reopenings of $13bn (cover e and e**1.2) and two new issues of $16bn (1 and e**0.2):
        # each pair deviates by +-0.1 about its own mean whatever the size effect between them.
        f"2025-01-22,Bond,20-Year,No,No,13000000000,{13e9 * (math.e + 1):.0f},13000000000",
        f"2025-03-18,Bond,20-Year,No,No,13000000000,{13e9 * (math.e**1.2 + 1):.0f},13000000000",
        "2025-02-19,Bond,20-Year,No,No,16000000000,32000000000,16000000000",
        f"2025-05-21,Bond,20-Year,No,No,16000000000,{16e9 * (math.e**0.2 + 1):.0f},16000000000",
        # Left out: no primary dealers' tenders reported, a TIPS, a bill, another year.
        "2025-02-12,Note,10-Year,No,No,42000000000,99000000000,null",
        "2025-01-23,Bond,20-Year,Yes,No,13000000000,99000000000,13000000000",
        "2025-01-07,Bill,13-Week,No,No,80000000000,99000000000,80000000000",
        "2024-08-21,Bond,20-Year,No,No,16000000000,99000000000,16000000000",
    ]
    path = tmp_path / "auctions_query.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    log_sd, used = end_investor_cover_log_sd(path, 2025)
    assert used == 4
    # Deviations +-0.1 in two groups: 4 x 0.01 over 4 - 2 degrees of freedom.
    assert log_sd == pytest.approx(math.sqrt(0.04 / 2), rel=1e-6)


def test_end_investors_cover_needs_the_tender_columns(tmp_path: Path) -> None:
    path = tmp_path / "auctions_query.csv"
    path.write_text("auction_date,security_type,offering_amt\n2025-01-22,Bond,13000000000\n")
    with pytest.raises(DataFileError, match="original_security_term"):
        end_investor_cover_log_sd(path, 2025)


def test_auctions_standard_table(tables: dict) -> None:
    auctions = tables["auctions"]
    assert list(auctions.columns) == list(AUCTION_COLUMNS)
    # TIPS and the FRN are dropped; sorted by auction date.
    assert list(auctions["tenor"]) == ["13w", "52w", "20y", "2y", "5y", "7y"]
    assert list(auctions["security_type"]) == ["Bill", "Bill", "Bond", "Note", "Note", "Note"]
    assert pd.api.types.is_datetime64_any_dtype(auctions["auction_date"])
    assert pd.api.types.is_datetime64_any_dtype(auctions["issue_date"])
    assert auctions["wi_yield_pct"].isna().all() and auctions["tail_bp"].isna().all()
    shares = auctions[["dealer_share", "direct_share", "indirect_share"]].sum(axis=1)
    np.testing.assert_allclose(shares, 1.0)


def test_auction_values(tables: dict) -> None:
    auctions = tables["auctions"].set_index("tenor")
    seven = auctions.loc["7y"]
    assert seven["offering_bn"] == 40.0
    assert seven["issue_date"] == DAY("2022-04-29")
    # Dealer share = PD / (PD + direct + indirect) = 10 / (10 + 5 + 25).
    assert (seven["dealer_share"], seven["direct_share"], seven["indirect_share"]) == pytest.approx(
        (0.25, 0.125, 0.625)
    )
    assert (seven["high_yield_pct"], seven["median_yield_pct"], seven["low_yield_pct"]) == pytest.approx(
        (2.90, 2.84, 2.70)
    )
    assert seven["bid_to_cover"] == pytest.approx(2.5)
    assert auctions.loc["20y", "dealer_share"] == pytest.approx(2.4 / 15.0)
    # 13-week bill: all three investment rates published, so they are used.
    bill = auctions.loc["13w"]
    assert (bill["high_yield_pct"], bill["median_yield_pct"], bill["low_yield_pct"]) == pytest.approx(
        (0.803, 0.772, 0.711)
    )
    # 52-week bill: only the high investment rate is published, so the three discount rates are used.
    year = auctions.loc["52w"]
    assert (year["high_yield_pct"], year["median_yield_pct"], year["low_yield_pct"]) == pytest.approx(
        (1.95, 1.90, 1.80)
    )


# --- fails -----------------------------------------------------------------------------------------------------


def test_fails_weekly(tables: dict) -> None:
    fails = tables["fails_weekly"]
    assert list(fails.columns[:4]) == list(FAILS_WEEKLY_COLUMNS)
    assert list(fails.columns[4:]) == [
        "fails_reported_series",
        *(f"fails_to_deliver_{t}_bn" for t in ("2y", "3y", "5y", "7y", "10y", "20y", "30y")),
    ]
    assert (fails["week_end"].dt.day_of_week == 2).all()
    first = fails.iloc[0]
    assert first["week_end"] == DAY("2022-04-06")
    assert first["fails_to_deliver_bn"] == pytest.approx(2.074)  # 2,074 million
    assert first["fails_to_receive_bn"] == pytest.approx(1.503)
    assert first["fails_reported_series"] == 8
    assert first["fails_to_deliver_10y_bn"] == pytest.approx(1.5)
    # The tracked issues: the seven nominal coupon series reported (7y withheld), not the FRN or TIPS.
    assert first["fails_tracked_bn"] == pytest.approx(2.062)
    assert math.isnan(fails.iloc[1]["fails_to_deliver_3y_bn"])  # empty cell stays missing


# --- absent files ----------------------------------------------------------------------------------------------


def test_absent_optional_files_are_noted(data_dir: Path) -> None:
    for name in ("fred/IORB.csv", "treasury/dts_operating_cash_balance.csv", "market/sofr_volume_daily.csv"):
        (data_dir / name).unlink()
    (data_dir / "nyfed" / "reference_rates.csv").unlink()
    got = load_real_tables(data_dir)
    daily = got["daily"]
    assert "iorb_pct" not in daily.columns and "sofr_volume_bn" not in daily.columns
    assert row(daily, "2022-04-19")["tga_bn"] == pytest.approx(590.0)  # WTREGEN of Wednesday 04-13
    assert len(got["notes"]) == 3
    assert any(n.startswith("fred/IORB.csv: not found") for n in got["notes"])
    assert any("tga_bn from fred/WTREGEN.csv" in n for n in got["notes"])


def test_absent_auctions_and_fails_give_empty_tables(data_dir: Path) -> None:
    (data_dir / "treasury" / "auctions_query.csv").unlink()
    (data_dir / "nyfed" / "pd_fails_weekly.csv").unlink()
    got = load_real_tables(data_dir)
    assert list(got["auctions"].columns) == list(AUCTION_COLUMNS) and len(got["auctions"]) == 0
    assert list(got["fails_weekly"].columns) == list(FAILS_WEEKLY_COLUMNS) and len(got["fails_weekly"]) == 0
    assert len(got["notes"]) == 2


def test_nyfed_export_alone_is_enough(data_dir: Path) -> None:
    for series_id in ("SOFR", "SOFR1", "SOFR25", "SOFR75", "SOFR99"):
        (data_dir / "fred" / f"{series_id}.csv").unlink()
    daily = load_real_tables(data_dir)["daily"]
    assert list(daily["date"]) == [DAY("2022-05-02"), DAY("2022-05-03"), DAY("2022-05-04")]
    assert list(daily["sofr_p25_pct"]) == pytest.approx([0.31, 0.31, 0.33])


def test_two_nyfed_exports_must_agree(data_dir: Path) -> None:
    second = data_dir / "nyfed" / "reference_rates_2022.csv"
    shutil.copy(data_dir / "nyfed" / "reference_rates.csv", second)
    assert len(load_real_tables(data_dir)["daily"]) == 17  # identical overlap: accepted once
    edit_line(second, 6, set_cell(7, "1021"))  # 2022-05-04 SOFR volume
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(second), 6, "Volume ($Billions)")


def test_no_sofr_source_names_the_expected_file(data_dir: Path) -> None:
    (data_dir / "fred" / "SOFR.csv").unlink()
    (data_dir / "nyfed" / "reference_rates.csv").unlink()
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    assert caught.value.file == str(data_dir / "fred" / "SOFR.csv")
    assert "not found" in str(caught.value)


# --- malformed files -------------------------------------------------------------------------------------------


def edit_line(path: Path, line: int, change: Callable[[str], str]) -> None:
    lines = path.read_text().split("\n")
    lines[line - 1] = change(lines[line - 1])
    path.write_text("\n".join(lines))


def set_cell(column: int, value: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        cells = text.split(",")
        cells[column] = value
        return ",".join(cells)

    return change


MALFORMED = [
    # (file, line edited, change, expected column, words in the message)
    ("fred/SOFR.csv", 4, set_cell(0, "2022-13-45"), "observation_date", "expected a date YYYY-MM-DD"),
    ("fred/SOFR.csv", 6, set_cell(0, ""), "observation_date", "found nothing"),
    ("fred/WRESBAL.csv", 3, set_cell(1, "3,852,500"), None, "expected 2 fields"),
    ("fred/WRESBAL.csv", 3, set_cell(1, "n/a"), "WRESBAL", "expected a number; found 'n/a'"),
    ("fred/DGS10.csv", 5, set_cell(1, "null"), "DGS10", "expected a number"),
    ("fred/IORB.csv", 11, set_cell(0, "2022-04-17"), "observation_date", "duplicate date 2022-04-17 (first on row 10)"),
    ("nyfed/reference_rates.csv", 11, set_cell(0, "2022-05-03"), "Effective Date", "MM/DD/YYYY"),
    ("nyfed/reference_rates.csv", 11, set_cell(2, "0.35"), "Rate (%)", "disagrees with fred/SOFR.csv (0.33)"),
    ("nyfed/reference_rates.csv", 11, set_cell(6, "0.5"), "99th Percentile (%)", "fred/SOFR99.csv"),
    ("nyfed/reference_rates.csv", 11, set_cell(7, "lots"), "Volume ($Billions)", "expected a number"),
    ("nyfed/reference_rates.csv", 7, set_cell(2, "0.34"), "Rate (%)",
     "EFFR 0.34 on 2022-05-03 disagrees with fred/EFFR.csv (0.33)"),
    ("nyfed/reference_rates.csv", 8, set_cell(2, "n/a"), "Rate (%)", "expected a number"),  # an OBFR row
    ("nyfed/reference_rates.csv", 13, set_cell(1, "EFFR"), "Effective Date",
     "duplicate date 2022-05-02 (first on row 12)"),
    ("fred/EFFR.csv", 6, set_cell(1, "0.33%"), "EFFR", "expected a number; found '0.33%'"),
    ("fred/EFFR.csv", 4, set_cell(0, "2022-04-12"), "observation_date", "duplicate date 2022-04-12 (first on row 3)"),
    ("nyfed/pd_fails_weekly.csv", 3, set_cell(0, "2022-04-14"), "as_of_date", "expected a Wednesday"),
    ("nyfed/pd_fails_weekly.csv", 4, set_cell(23, "1.8k"), "ust_total_fails_to_deliver_mn", "expected a number"),
    ("nyfed/pd_fails_weekly.csv", 5, set_cell(24, "7.5"), "ust_total_fails_to_deliver_n_reported", "whole count"),
    ("treasury/auctions_query.csv", 3, set_cell(21, "48bn"), "offering_amt", "expected a number; found '48bn'"),
    ("treasury/auctions_query.csv", 2, set_cell(4, "04/28/2022"), "auction_date", "expected a date"),
    ("treasury/auctions_query.csv", 9, set_cell(22, "13 weeks"), "original_security_term", "13 weeks"),
    ("treasury/auctions_query.csv", 9, set_cell(2, "Strip"), "security_type", "Bill, Note or Bond"),
    ("treasury/auctions_query.csv", 9, set_cell(26, "Maybe"), "inflation_index_security", "Yes or No"),
    ("treasury/dts_operating_cash_balance.csv", 6, set_cell(2, "n.a."), "Opening Balance Today", "expected a number"),
    ("market/sofr_volume_daily.csv", 3, set_cell(0, "20220429"), "date", "expected a date"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "line", "change", "column", "words"), MALFORMED)
def test_malformed_cell_is_located(
    data_dir: Path, name: str, line: int, change: Callable[[str], str], column: str | None, words: str
) -> None:
    path = data_dir / name
    edit_line(path, line, change)
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    error = caught.value
    assert (error.file, error.row, error.column) == (str(path), line, column)
    assert words in error.message
    where = f"row {line}, column {column}: " if column else f"row {line}: "
    assert str(error) == f"{path}: {where}{error.message}"


@pytest.mark.parametrize(
    ("name", "column"),
    [
        ("fred/SOFR.csv", "SOFR"),
        ("fred/TREAST.csv", "observation_date"),
        ("nyfed/reference_rates.csv", "1st Percentile (%)"),
        ("nyfed/pd_fails_weekly.csv", "ust_total_fails_to_receive_mn"),
        ("treasury/auctions_query.csv", "primary_dealer_accepted"),
        ("treasury/dts_operating_cash_balance.csv", "Type of Account"),
    ],
)
def test_missing_column_names_the_header(data_dir: Path, name: str, column: str) -> None:
    path = data_dir / name
    edit_line(path, 1, lambda header: header.replace(column, column.upper() + "_X"))
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    assert (caught.value.file, caught.value.row, caught.value.column) == (str(path), 1, column)
    assert "missing from the header" in str(caught.value)


def test_two_closing_balances_on_one_day(data_dir: Path) -> None:
    path = data_dir / "treasury" / "dts_operating_cash_balance.csv"
    edit_line(path, 8, set_cell(1, "Treasury General Account (TGA) Closing Balance"))  # 2022-04-29 withdrawals row
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    assert (caught.value.row, caught.value.column) == (9, "Record Date")
    assert "duplicate Type of Account row for date 2022-04-29 (first on row 8)" in caught.value.message


def test_blank_lines_keep_line_numbers(data_dir: Path) -> None:
    path = data_dir / "fred" / "SOFR.csv"
    edit_line(path, 3, lambda text: text + "\n\n")  # two blank lines after line 3
    edit_line(path, 8, set_cell(1, "0.3O"))  # originally line 6 (2022-04-15)
    with pytest.raises(DataFileError) as caught:
        load_real_tables(data_dir)
    assert (caught.value.row, caught.value.column) == (8, "SOFR")


def test_publisher_missing_markers_are_accepted(data_dir: Path) -> None:
    edit_line(data_dir / "nyfed" / "pd_fails_weekly.csv", 2, set_cell(1, "*"))  # NY Fed: withheld
    edit_line(data_dir / "fred" / "RRPONTSYD.csv", 3, set_cell(1, "."))  # FRED's older downloads
    got = load_real_tables(data_dir)
    assert math.isnan(got["fails_weekly"].iloc[0]["fails_to_deliver_2y_bn"])
    assert math.isnan(row(got["daily"], "2022-04-12")["on_rrp_bn"])


def test_error_message_format_and_pickling() -> None:
    error = DataFileError("fred/SOFR.csv", 7, "SOFR", "expected a number; found 'x'")
    assert str(error) == "fred/SOFR.csv: row 7, column SOFR: expected a number; found 'x'"
    assert str(DataFileError("a.csv", None, None, "file not found")) == "a.csv: file not found"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.file, copy.row, copy.column, copy.message) == (error.file, 7, "SOFR", error.message)


# --- the real files (only where PLUMBING_DATA_DIR points to them) ----------------------------------------------

REAL_DIR = os.environ.get("PLUMBING_DATA_DIR", "")
needs_real_data = pytest.mark.skipif(
    not REAL_DIR or not Path(REAL_DIR).is_dir(), reason="PLUMBING_DATA_DIR does not point to a data folder"
)


@pytest.fixture(scope="module")
def real() -> dict:
    return load_real_tables(REAL_DIR, dt.date(2018, 4, 1), dt.date(2025, 9, 30))


@needs_real_data
def test_real_daily(real: dict) -> None:
    daily = real["daily"]
    assert real["notes"] == []
    assert 1_850 <= len(daily) <= 1_890
    assert daily["date"].min() == DAY("2018-04-03") and daily["date"].max() == DAY("2025-09-30")
    both = daily.dropna(subset=["sofr_p1_pct", "sofr_median_pct", "sofr_p99_pct"])
    assert len(both) >= len(daily) - 5
    assert (both["sofr_p1_pct"] <= both["sofr_median_pct"]).all()
    assert (both["sofr_median_pct"] <= both["sofr_p99_pct"]).all()
    # IOER (from the FOMC table) before IORB: 2.10% on the day of the September 2019 spike.
    assert daily["iorb_pct"].notna().all()
    assert daily.loc[daily["date"] == DAY("2019-09-17"), "iorb_pct"].item() == pytest.approx(2.10)
    assert daily.loc[daily["date"] == DAY("2019-09-17"), "on_rrp_rate_pct"].item() == pytest.approx(2.00)
    # Orders of magnitude in $ billions: reserves in the trillions, TGA and SOMA present every day.
    assert daily["reserves_bn"].between(1_000, 5_000).all()
    assert daily["tga_bn"].notna().all() and daily["soma_bn"].between(1_000, 7_000).all()
    assert daily["is_quarter_end"].sum() == 30  # 2018Q2 .. 2025Q3
    # EFFR on every SOFR date (both are published on federal business days), 7 bp under IORB in 2022-2024.
    assert daily["effr_pct"].notna().sum() >= len(daily) - 5
    window = daily[(daily["date"] >= DAY("2022-01-01")) & (daily["date"] <= DAY("2024-12-31"))]
    assert (100 * (window["effr_pct"] - window["iorb_pct"])).median() == pytest.approx(-7.0)
    # The folder holds no New York Fed export (TGCR's only source), just its format sample, never read as data.
    assert "tgcr_median_pct" not in daily.columns


@needs_real_data
def test_real_nyfed_format_sample_is_not_data() -> None:
    sample = Path(REAL_DIR) / "nyfed" / "reference_rates_format_sample.csv"
    assert sample.is_file() and sample not in reference_rate_files(REAL_DIR)
    # Its 2026-01-02 and 2026-01-05 rows, after FRED's last date, do not enter the daily table.
    assert load_real_tables(REAL_DIR, dt.date(2026, 1, 1))["daily"].empty
    # Read as an export on purpose, its layout is the export's.
    rates = read_reference_rates(sample)
    assert list(rates["SOFR"]["sofr_median_pct"]) == pytest.approx([3.75, 3.70])
    assert list(rates["TGCR"]["tgcr_median_pct"]) == pytest.approx([3.70, 3.66])


@needs_real_data
def test_real_auctions(real: dict) -> None:
    auctions = real["auctions"]
    year = auctions[(auctions["auction_date"] >= DAY("2025-01-01")) & (auctions["auction_date"] <= DAY("2025-09-30"))]
    coupons = year[year["security_type"] != "Bill"]
    # 79 note and bond auctions, less 9 TIPS and 9 FRNs.
    assert len(coupons) == 61
    share = coupons["dealer_share"]
    assert share.between(0.05, 0.30).mean() >= 0.9
    assert (coupons["high_yield_pct"] >= coupons["median_yield_pct"]).all()


@needs_real_data
def test_auction_demand_noise_is_what_real_end_investors_tenders_vary_by() -> None:
    # 20 auctions in 6 groups of like auctions (14 degrees of freedom): the sd's standard error is
    # about sd / sqrt(2 x 14), 0.009; the default must sit within two of them.
    log_sd, used = end_investor_cover_log_sd(Path(REAL_DIR) / "treasury" / "auctions_query.csv", 2025)
    assert used == 20
    assert abs(TreasurySection().auction_demand_noise - log_sd) <= 2 * log_sd / math.sqrt(2 * 14)


@needs_real_data
def test_real_fails(real: dict) -> None:
    fails = real["fails_weekly"]
    assert len(fails) == 195
    assert (fails["week_end"].dt.day_of_week == 2).all()
    assert fails["week_end"].diff().dropna().eq(pd.Timedelta(weeks=1)).all()
