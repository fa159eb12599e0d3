"""Agents of the Treasury market, one class per kind; population decisions are vectorised."""

from sim.agents.bank import BankReserveManager
from sim.agents.central_bank import CentralBank
from sim.agents.dealer import Dealer
from sim.agents.foreign_official import ForeignOfficial
from sim.agents.levered_fund import LeveredFund
from sim.agents.money_fund import MoneyFund
from sim.agents.real_money import RealMoneyInvestor
from sim.agents.treasury import Treasury

__all__ = [
    "BankReserveManager",
    "CentralBank",
    "Dealer",
    "ForeignOfficial",
    "LeveredFund",
    "MoneyFund",
    "RealMoneyInvestor",
    "Treasury",
]
