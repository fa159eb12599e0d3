"""The standard tables that simulated runs and real public data are both turned into.

The dashboard reads only these tables, so one metric function scores a simulated market
and a real one alike. Amounts in $ billions, rates and yields in percent, spreads and
tails in basis points. A real table carries the columns its sources publish; columns a
source lacks are simply absent (the dashboard reports such metrics as not available).

daily: one row per business day, column `date` (datetime64) first.
auctions: one row per auction.
fails_weekly: one row per Thursday-to-Wednesday week, `week_end` the Wednesday.

Fails come two ways. `fails_bn` (daily) and `fails_to_deliver_bn` (weekly) cover every issue
a source counts: all issues in a run; in the public file, the sum of its by-issue series
reported that week (nominal coupons, FRN, TIPS). `fails_tracked_bn` (daily in a run, weekly
in both) covers the on-the-run issue of each nominal coupon tenor (2, 3, 5, 7, 10, 20 and 30
years) only, which a run and the public file both measure; panel C and the calibration's
fails moments read it.
"""

from __future__ import annotations

DAILY_REPO = ("repo_p1_pct", "repo_p25_pct", "repo_median_pct", "repo_p75_pct", "repo_p99_pct", "repo_volume_bn")
DAILY_SOFR = ("sofr_p1_pct", "sofr_p25_pct", "sofr_median_pct", "sofr_p75_pct", "sofr_p99_pct", "sofr_volume_bn")
DAILY_REFERENCE_RATES = ("tgcr_median_pct", "bilateral_median_pct", "effr_pct")
DAILY_RATES = ("iorb_pct", "on_rrp_rate_pct")
DAILY_RESERVOIR = ("reserves_bn", "tga_bn", "on_rrp_bn", "soma_bn", "srf_usage_bn")
DAILY_PIPE = (
    "dealer_inventory_bn", "dealer_dv01_mn", "dealer_utilization", "dealer_headroom_bn", "bid_ask_bp",
    "market_depth_bn", "customer_volume_bn", "fill_ratio", "repo_intermediated_bn",
)  # fmt: skip
DAILY_MARKET = (
    "fails_bn", "fails_tracked_bn", "yield_vol_bp", "risk_off", "yield_2y_pct", "yield_10y_pct", "yield_30y_pct",
)  # fmt: skip
DAILY_FLAGS = ("is_month_end", "is_quarter_end", "is_tax_date", "is_settlement_date")
DAILY_COLUMNS = ("date", *DAILY_RESERVOIR[:4], "srf_usage_bn", *DAILY_RATES, *DAILY_REPO, *DAILY_SOFR,
                 *DAILY_REFERENCE_RATES, *DAILY_PIPE, *DAILY_MARKET, *DAILY_FLAGS)  # fmt: skip

AUCTION_COLUMNS = (
    "auction_date", "issue_date", "tenor", "security_type", "offering_bn", "wi_yield_pct", "high_yield_pct",
    "median_yield_pct", "low_yield_pct", "tail_bp", "bid_to_cover", "dealer_share", "direct_share", "indirect_share",
)  # fmt: skip

FAILS_WEEKLY_COLUMNS = ("week_end", "fails_to_deliver_bn", "fails_to_receive_bn", "fails_tracked_bn")

TENOR_GROUPS = {
    "bills": ("4w", "8w", "13w", "26w", "52w"),
    "2-7y": ("2y", "3y", "5y", "7y"),
    "10y+": ("10y", "20y", "30y"),
}
