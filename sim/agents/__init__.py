"""The market's institutions: per kind, a population (state arrays and vectorised decisions)
and a Mesa agent per institution that views its row of them."""

from sim.agents.bank import BankReserveManager, Banks
from sim.agents.central_bank import CentralBank
from sim.agents.dealer import Dealer, Dealers
from sim.agents.foreign_official import ForeignOfficial, ForeignOfficials
from sim.agents.levered_fund import LeveredFund, LeveredFunds
from sim.agents.money_fund import MoneyFund, MoneyFunds
from sim.agents.real_money import RealMoneyInvestor, RealMoneyInvestors
from sim.agents.treasury import Treasury

__all__ = [
    "BankReserveManager",
    "Banks",
    "CentralBank",
    "Dealer",
    "Dealers",
    "ForeignOfficial",
    "ForeignOfficials",
    "LeveredFund",
    "LeveredFunds",
    "MoneyFund",
    "MoneyFunds",
    "RealMoneyInvestor",
    "RealMoneyInvestors",
    "Treasury",
]
