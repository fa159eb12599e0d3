"""The output tables carry the contract's columns, one row per day / auction / dealer-day."""

from __future__ import annotations

import datetime as dt

from sim import TreasuryMarketModel
from tests.conftest import make_scenario

DAILY = """date reserves_bn tga_bn on_rrp_bn soma_bn srf_usage_bn iorb_pct on_rrp_rate_pct repo_p1_pct repo_p25_pct
repo_median_pct repo_p75_pct repo_p99_pct repo_volume_bn dealer_inventory_bn dealer_dv01_mn dealer_utilization
dealer_headroom_bn bid_ask_bp market_depth_bn customer_volume_bn fill_ratio repo_intermediated_bn fails_bn yield_vol_bp
risk_off yield_2y_pct yield_10y_pct yield_30y_pct is_month_end is_quarter_end is_tax_date is_settlement_date""".split()
AUCTIONS = """auction_date issue_date tenor security_type offering_bn wi_yield_pct high_yield_pct median_yield_pct
low_yield_pct tail_bp bid_to_cover dealer_share direct_share indirect_share""".split()
DEALERS = """date dealer_id bank_affiliated equity_bn inventory_bn dv01_mn repo_borrowed_bn reverse_repo_bn
reserves_bn slr slr_headroom_bn risk_headroom_bn utilization""".split()


def test_tables_follow_the_output_contract():
    model = TreasuryMarketModel(
        make_scenario({"start_date": dt.date(2025, 6, 2), "end_date": dt.date(2025, 7, 31)}), seed=3
    )
    model.run()
    tables = model.results()
    daily, auctions, dealers = tables["daily"], tables["auctions"], tables["dealers"]
    assert set(DAILY) <= set(daily.columns)
    assert set(AUCTIONS) <= set(auctions.columns)
    assert set(DEALERS) <= set(dealers.columns)
    assert len(daily) == len(model.calendar) == 42  # June-July 2025 business days (Juneteenth, July 4th off)
    assert len(dealers) == len(daily) * model.config.dealers.count
    scheduled = [a for a in model.calendar.auctions]
    assert len(auctions) == len(scheduled)
    assert set(auctions.security_type) == {"Bill", "Note", "Bond"}
    # Shares of an auction's allotment add up; yields are ordered low <= median <= high.
    shares = auctions.dealer_share + auctions.direct_share + auctions.indirect_share
    assert ((shares - 1.0).abs() < 1e-9).all()
    assert (auctions.low_yield_pct <= auctions.median_yield_pct).all()
    assert (auctions.median_yield_pct <= auctions.high_yield_pct).all()
    assert (auctions.bid_to_cover > 1.0).all()
    assert ((daily.repo_p1_pct <= daily.repo_median_pct) & (daily.repo_median_pct <= daily.repo_p99_pct)).all()
    assert daily.is_quarter_end.sum() == 1 and daily.is_month_end.sum() == 2
    assert ((daily.fill_ratio > 0) & (daily.fill_ratio <= 1)).all()


def test_warmup_days_are_simulated_but_not_recorded():
    scenario = make_scenario({"start_date": dt.date(2025, 6, 2), "end_date": dt.date(2025, 6, 30)})
    warm = scenario.model_copy(update={"warmup_business_days": 30})
    model = TreasuryMarketModel(warm, seed=3)
    model.run()
    tables = model.results()
    assert len(model.calendar) == 20 + 30  # June 2025 has 20 business days
    assert len(tables["daily"]) == 20 and tables["daily"].date.iloc[0] == dt.datetime(2025, 6, 2)
    assert (tables["auctions"].auction_date >= "2025-06-02").all()
    assert len(tables["dealers"]) == 20 * model.config.dealers.count
    # The warm-up changes the state the recorded days start from.
    cold = TreasuryMarketModel(scenario, seed=3).run().results()["daily"]
    assert not cold.reserves_bn.equals(tables["daily"].reserves_bn)
