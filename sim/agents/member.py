"""The Mesa agent of one institution: a view onto its row of its population's arrays.

Why views: decisions are vectorised over each population (dozens of institutions, hundreds
of issues), so the state lives in arrays; an agent object holds no copy of it. Each
institution is still a `mesa.Agent`, so `model.agents_by_type`, `AgentSet.select` and an
app can inspect one dealer or one fund, and parameters are stored once.
"""

from __future__ import annotations

from typing import Any

import mesa


class PopulationMember(mesa.Agent):
    """One institution of a population.

    Args:
        model: the market model.
        population: the population object whose arrays hold this institution's state.
        index: its position within the population (row of every population array).
        account: its ledger account (= holder row for trading accounts).
    """

    def __init__(self, model: mesa.Model, population: Any, index: int, account: int):
        super().__init__(model)
        self.population = population
        self.index = index
        self.account = account

    @property
    def size_share(self) -> float:
        """Share of its population's size (balance sheet, holdings or assets)."""
        return float(self.population.size_share[self.index])

    @property
    def cash_bn(self) -> float:
        """Reserves or deposits it holds today ($bn)."""
        return float(self.model.ledger.money_bn[self.account])
