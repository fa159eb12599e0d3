"""Data collection into the output contract's tables (daily, auctions, dealers).

Rows are written into preallocated numpy arrays, one row per day (and per dealer per
day), so recording costs little on the hot path. A scenario with central-bank repo
operations adds their awards as a last column of the daily and dealers tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim import tables
from sim.agents.dealer import BINDING_CONSTRAINTS

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel

DAILY_COLUMNS = tables.DAILY_COLUMNS[1 : -len(tables.DAILY_FLAGS)]  # the numbers, in contract order
FLAG_COLUMNS = tables.DAILY_FLAGS
EXTRA_DAILY_COLUMNS = ("discount_window_bn", "purchases_bn", "specials_max_bp", "lf_unfunded_bn")
AUCTION_COLUMNS = tables.AUCTION_COLUMNS
DEALER_COLUMNS = (
    "equity_bn",
    "inventory_bn",
    "dv01_mn",
    "repo_borrowed_bn",
    "reverse_repo_bn",
    "reserves_bn",
    "slr",
    "slr_headroom_bn",
    "risk_headroom_bn",
    "utilization",
    "funding_headroom_bn",
    "risk_appetite",
    "srf_borrowed_bn",
    "funding_cost_pct",
    "binding_constraint",
)
REPO_OPERATIONS_DAILY_COLUMNS = ("repo_operations_bn",)
REPO_OPERATIONS_DEALER_COLUMNS = ("repo_operations_borrowed_bn",)


class Recorder:
    """Collects each day's observations for `results()`."""

    def __init__(self, model: TreasuryMarketModel):
        n_days = len(model.calendar) - model.first_recorded_day
        n_dealers = model.config.dealers.count
        # Only a scenario that schedules repo operations has their columns.
        self.repo_operations = bool(model.config.central_bank.repo_operations)
        self.extra_daily_columns = EXTRA_DAILY_COLUMNS + (REPO_OPERATIONS_DAILY_COLUMNS if self.repo_operations else ())
        self.dealer_columns = DEALER_COLUMNS + (REPO_OPERATIONS_DEALER_COLUMNS if self.repo_operations else ())
        self.daily = np.full((n_days, len(DAILY_COLUMNS) + len(self.extra_daily_columns)), np.nan)
        self.dealers = np.full((n_days, n_dealers, len(self.dealer_columns)), np.nan)
        self.auctions: list[dict] = []
        self.days_recorded = 0

    def record_auction(self, row: dict) -> None:
        self.auctions.append(row)

    def record_day(self, m: TreasuryMarketModel) -> None:
        led = m.ledger
        n_d = m.config.dealers.count
        c = m.dealers.constraints
        assert c is not None, "constraints are measured at the opening"
        market = m.market
        inventory = led.holdings_bn[:n_d] @ led.price
        exposure_weight = np.maximum(c.exposure_bn - m.dealers.other_assets_bn, 1e-12)
        headroom = np.minimum(c.slr_headroom_bn, c.risk_headroom_bn)
        yields = m.market_yield_pct(np.array([2.0, 10.0, 30.0]))
        wanted = m.flows.wanted_bn
        row = m.day_index - m.first_recorded_day
        self.daily[row] = [
            led.reserves_bn(),
            led.tga_bn,
            float(led.on_rrp_bn.sum()),
            led.soma_par_bn(),
            market.srf_usage_bn,
            market.rates.iorb_pct,
            market.rates.on_rrp_pct,
            *market.repo_percentiles,
            market.repo_volume_bn,
            *market.sofr_percentiles,
            market.sofr_volume_bn,
            market.tgcr_median_pct,
            market.bilateral_median_pct,
            market.effr_pct,
            float(inventory.sum()),
            float(m.dealers.dv01_mn.sum()),
            float((c.utilization * exposure_weight).sum() / exposure_weight.sum()),
            float(headroom.sum()),
            2.0 * market.half_spread_today_bp,
            m.flows.market_depth_bn,
            m.flows.customer_bn,
            m.flows.customer_bn / wanted if wanted > 0 else 1.0,
            market.repo_intermediated_bn,
            market.fails_bn,
            market.fails_tracked_bn,
            m.curve.realised_vol_bp,
            float(m.curve.risk_off),
            *yields,
            market.discount_window_bn,
            m.flows.purchased_bn,
            float(market.specialness_bp.max(initial=0.0)),
            market.lf_unfunded_bn,
            *((market.repo_operations_bn,) if self.repo_operations else ()),
        ]
        columns = (
            led.equity_bn[:n_d],
            inventory,
            m.dealers.dv01_mn,
            led.repo_borrowed_bn[:n_d] - m.dealers.parent_fed_funds_borrowed_bn,  # the parents' fed funds are not repo
            led.repo_lent_bn[:n_d] - m.dealers.parent_fed_funds_lent_bn,
            np.where(m.dealers.bank_affiliated, led.money_bn[:n_d], 0.0),
            c.slr,
            c.slr_headroom_bn,
            c.risk_headroom_bn,
            c.utilization,
            m.dealers.funding_headroom_bn,
            m.dealers.appetite,
            m.dealers.srf_borrowed_bn,
            m.dealers.funding_cost_pct,
            m.dealers.binding_constraint(led.srf_bn[:n_d] + led.discount_window_bn[:n_d]),
            *((m.dealers.repo_operations_borrowed_bn,) if self.repo_operations else ()),
        )
        today = self.dealers[row]
        for k, column in enumerate(columns):
            today[:, k] = column  # straight into the preallocated table, no stacked copy
        self.days_recorded = row + 1

    def tables(self, m: TreasuryMarketModel) -> dict[str, pd.DataFrame]:
        n = self.days_recorded
        first = m.first_recorded_day
        dates = m.calendar.days[first : first + n]
        daily = pd.DataFrame(self.daily[:n], columns=list(DAILY_COLUMNS + self.extra_daily_columns))
        daily.insert(0, "date", dates)
        daily["risk_off"] = daily["risk_off"].astype(int)
        for name in FLAG_COLUMNS:
            daily[name] = getattr(m.calendar, name)[first : first + n]
        daily = daily[["date", *DAILY_COLUMNS, *FLAG_COLUMNS, *self.extra_daily_columns]]
        auctions = pd.DataFrame(self.auctions, columns=list(AUCTION_COLUMNS))
        n_d = m.config.dealers.count
        width = len(self.dealer_columns)
        dealers = pd.DataFrame(self.dealers[:n].reshape(n * n_d, width), columns=list(self.dealer_columns))
        dealers.insert(0, "date", np.repeat(dates, n_d))
        dealers.insert(1, "dealer_id", np.tile(np.arange(n_d), n))
        dealers.insert(2, "bank_affiliated", np.tile(m.dealers.bank_affiliated, n))
        codes = dealers["binding_constraint"].to_numpy(dtype=np.int64)
        dealers["binding_constraint"] = pd.Categorical.from_codes(codes, categories=list(BINDING_CONSTRAINTS))
        return {"daily": daily, "auctions": auctions, "dealers": dealers}
