"""The dashboard on the real public files (runs when PLUMBING_DATA_DIR points to them; CI sets it).

The same code that scores simulated runs must read the real market's plumbing: quarter-ends
and September 2019 as repo spikes tagged with the calendar pressure around them, fails
spike weeks as a small share of weeks, and auction metrics of plausible size by tenor.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from sim.dashboard import compute_dashboard, weekly_fails
from sim.dashboard.metrics import fails_spike_weeks, high_minus_median_bp, spike_days, tenor_group
from sim.data import load_real_tables

DATA = os.environ.get("PLUMBING_DATA_DIR", "")
pytestmark = pytest.mark.skipif(not DATA or not Path(DATA).is_dir(), reason="PLUMBING_DATA_DIR not set")


@pytest.fixture(scope="module")
def real() -> dict:
    return load_real_tables(DATA, dt.date(2018, 4, 1), dt.date(2025, 9, 30))


@pytest.fixture(scope="module")
def spikes(real) -> dict:
    table = spike_days(real["daily"])
    return {row.date.date(): list(row.tags) for row in table.itertuples(index=False)}


def test_september_2019_is_a_spike_after_a_tax_date_and_a_settlement(spikes):
    tags = spikes.get(dt.date(2019, 9, 17))
    assert tags is not None, "17 September 2019 is not flagged as a repo spike"
    assert any("tax date" in t for t in tags) and any("settlement" in t for t in tags)
    assert dt.date(2019, 9, 16) in spikes and dt.date(2019, 9, 18) in spikes


def test_quarter_ends_show_up_as_spikes_tagged_quarter_end(spikes):
    quarter_end_spikes = [d for d, tags in spikes.items() if "quarter-end" in tags]
    assert len(quarter_end_spikes) >= 4
    # Most spike days have calendar pressure around them, which is what the tags are for.
    tagged = sum(1 for tags in spikes.values() if tags)
    assert tagged >= 0.7 * len(spikes)


def test_fails_spike_weeks_are_found_and_rare(real):
    weeks = fails_spike_weeks(real["fails_weekly"])
    share = weeks["spike"].mean()
    assert weeks["spike"].sum() >= 3
    assert share < 0.2


def test_auction_metrics_have_plausible_size_by_tenor(real):
    auctions = real["auctions"]
    auctions = auctions[auctions["auction_date"] >= "2025-01-01"]
    hm = high_minus_median_bp(auctions)
    groups = auctions.apply(lambda r: tenor_group(r["tenor"], r["security_type"]), axis=1)
    coupons = groups != "bills"
    assert 1.0 <= hm[coupons].mean() <= 10.0  # a few bp
    share = auctions.loc[coupons, "dealer_share"]
    assert ((share >= 0.05) & (share <= 0.30)).mean() >= 0.8  # mostly 5-30%


def test_real_dashboard_has_every_panel_the_data_supports(real):
    dashboard = compute_dashboard(real, "real 2018-2025")
    m = dashboard.metrics
    assert m["repo_dispersion_mean_bp"] is not None and m["repo_spike_days"] >= 10
    assert m["high_minus_median_mean_bp"] is not None and m["tail_mean_bp"] is None  # no WI in public data
    assert m["reserves_mean_bn"] is not None and m["customer_volume_mean_bn"] is None  # no pipe series


def test_model_weekly_fails_are_built_like_the_new_york_feds(real):
    from sim import TreasuryMarketModel
    from sim.scenario import Scenario

    daily = TreasuryMarketModel(Scenario(end_date=dt.date(2025, 3, 31)), seed=2).run().results()["daily"]
    weekly = weekly_fails(daily)
    assert set(real["fails_weekly"]["week_end"].dt.day_of_week) == {2}
    assert set(weekly["week_end"].dt.day_of_week) == {2}  # weeks end on Wednesdays, like the real table
