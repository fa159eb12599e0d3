"""Foreign official holders: central banks and reserve managers.

Steady indirect bidders at auction in calm; in risk-off they sell Treasuries for dollar
cash (the dash for cash of March 2020), which dealers must absorb.
"""

from __future__ import annotations

import numpy as np

from sim.agents.member import PopulationMember
from sim.scenario.schema import ForeignOfficialSection


class ForeignOfficial(PopulationMember):
    """One foreign official holder (a view onto its row of `ForeignOfficials`)."""


class ForeignOfficials:
    """The foreign official population: size shares (of holdings and auction demand) and decisions."""

    def __init__(self, params: ForeignOfficialSection, size_share: np.ndarray):
        self.params = params
        self.size_share = size_share

    def auction_bids(
        self,
        offering_bn: float,
        wi_pct: float,
        risk_off: bool,
        cash_bn: np.ndarray,
        shortfall_share: float,
        dispersion: float = 1.0,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Tenders (bidder index, yield %, amount $bn): a steady share bid through WI, none in risk-off;
        `dispersion` scales how far through, relative to calm."""
        if risk_off:
            amounts = np.zeros_like(self.size_share)
        else:
            amounts = offering_bn * self.params.auction_share * self.size_share * (1.0 - shortfall_share)
            amounts = np.minimum(amounts, np.maximum(cash_bn, 0.0) * self.params.auction_cash_budget_share)
        return (
            np.arange(self.size_share.size),
            np.full(self.size_share.size, wi_pct - dispersion * self.params.bid_through_bp / 100.0),
            amounts,
        )

    def sales(self, risk_off: bool, shock_selling_bn: float, holdings_bn: np.ndarray) -> np.ndarray:
        """Sales wanted today by holder and bucket ($bn par), in proportion to holdings."""
        total = (self.params.selling_in_risk_off_bn if risk_off else 0.0) + shock_selling_bn
        held = holdings_bn.sum()
        if total <= 0 or held <= 0:
            return np.zeros_like(holdings_bn)
        return np.minimum(total * holdings_bn / held, np.maximum(holdings_bn, 0.0))
