"""The Treasury: issuer and fiscal agent.

It runs the auction calendar, pays outlays and collects taxes through the TGA (tax dates
bring large inflows that drain reserves), steers bill sizes so the TGA tracks its target
(bills are the financing buffer), and can buy back off-the-run coupons for liquidity
support.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.scenario.schema import BILL_TENORS, TreasurySection

BILL_WEEKS_PER_AUCTION = {"4w": 1.0, "8w": 1.0, "13w": 1.0, "26w": 1.0, "52w": 4.0}


class Treasury(mesa.Agent):
    """The US Treasury's debt management and cash management."""

    def __init__(self, model: mesa.Model, params: TreasurySection):
        super().__init__(model)
        self.params = params
        sizes = params.sizes
        # A week's worth of bills at base sizes, the unit the TGA gap is spread over.
        self.base_week_bn = sum(getattr(sizes, f"bills_{t}_bn") / BILL_WEEKS_PER_AUCTION[t] for t in BILL_TENORS)

    def offering_bn(self, tenor: str, reopening: bool, tga_bn: float, soma_addon_bn: float) -> float:
        """Public offering of an auction ($bn).

        Coupons are sized by the scenario. Bills close a share of the TGA's gap to its
        target, spread over the week's bill auctions, within the scenario's bounds.
        """
        s = self.params.sizes
        if tenor in BILL_TENORS:
            base = getattr(s, f"bills_{tenor}_bn")
            gap = self.params.tga_target_bn - tga_bn
            scale = 1.0 + self.params.bill_steering_share * gap / max(self.base_week_bn, 1e-9)
            scale = float(np.clip(scale, self.params.bill_size_min_share, self.params.bill_size_max_share))
            return base * scale
        kind = {"2y": "notes_2y", "3y": "notes_3y", "5y": "notes_5y", "7y": "notes_7y"}.get(tenor)
        if kind:
            return getattr(s, f"{kind}_bn")
        prefix = {"10y": "notes_10y", "20y": "bonds_20y", "30y": "bonds_30y"}[tenor]
        return getattr(s, f"{prefix}_{'reopen' if reopening else 'new'}_bn")

    def receipts_bn(self, tax_date: bool) -> float:
        """Taxes collected today ($bn)."""
        return self.params.daily_receipts_bn + (self.params.tax_date_receipts_bn if tax_date else 0.0)

    def buybacks_today_bn(self, is_buyback_day: bool) -> float:
        """Par of off-the-run coupons to buy back today ($bn); buybacks run weekly."""
        return self.params.buybacks_bn_per_month * 12.0 / 52.0 if is_buyback_day else 0.0
