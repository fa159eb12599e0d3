"""Banks' reserve managers: the reserve demand curve and the supply of repo cash.

A bank lends reserves in repo only when repo pays enough over IORB: a balance-sheet
hurdle plus the marginal value of the reserves it would give up. That value is small when
reserves are far above the bank's lowest comfortable level and rises steeply as they
approach it (a reserve demand curve flat when abundant, steep when scarce). Reserves are
unevenly held: a few large banks with high comfortable levels hold most of them.
"""

from __future__ import annotations

import mesa
import numpy as np

from sim.scenario.schema import BankSection

TRANCHES = 10


class BankReserveManager(mesa.Agent):
    """One bank's reserve manager.

    Args:
        model: the market model.
        index: position within its population.
        account: ledger account (its reserve account).
        lowest_comfortable_bn: reserves below which the bank will not willingly go ($bn).
    """

    def __init__(self, model: mesa.Model, index: int, account: int, lowest_comfortable_bn: float):
        super().__init__(model)
        self.index = index
        self.account = account
        self.lowest_comfortable_bn = lowest_comfortable_bn


class ReserveDesk:
    """Decisions of the banks' reserve managers (arrays over banks)."""

    def __init__(self, params: BankSection, lowest_comfortable_bn: np.ndarray, hurdle_offset_bp: np.ndarray):
        self.params = params
        self.lowest_comfortable_bn = lowest_comfortable_bn
        self.hurdle_offset_bp = hurdle_offset_bp  # banks differ in what balance sheet costs them

    def marginal_value_bp(self, reserves_bn: np.ndarray) -> np.ndarray:
        """Value over IORB of the last dollar of reserves (bp), the reserve demand curve.

        Args:
            reserves_bn: reserves by bank, shape (banks,) or (banks, k).
        """
        p = self.params
        comfortable = self.lowest_comfortable_bn.reshape((-1,) + (1,) * (np.ndim(reserves_bn) - 1))
        ratio = reserves_bn / comfortable
        return p.demand_curve_level_bp * np.exp(np.minimum(p.demand_curve_steepness * (1.0 - ratio), 50.0))

    def repo_tranches(self, reserves_bn: np.ndarray, iorb_pct: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lending offers: (bank index, asking rate %, amount $bn), TRANCHES per bank.

        Each bank splits what it could lend (reserves above its hard floor) into equal
        tranches; each asks IORB + hurdle + the marginal value of reserves after lending it.
        """
        p = self.params
        lendable = np.maximum(reserves_bn - p.hard_floor_share * self.lowest_comfortable_bn, 0.0)
        piece = lendable / TRANCHES
        steps = np.arange(1, TRANCHES + 1)
        after = reserves_bn[:, None] - piece[:, None] * steps[None, :]
        value = self.marginal_value_bp(after)
        ask = iorb_pct + (p.lending_hurdle_bp + self.hurdle_offset_bp[:, None] + value) / 100.0
        banks = np.repeat(np.arange(reserves_bn.size), TRANCHES)
        return banks, ask.ravel(), np.repeat(piece, TRANCHES)
