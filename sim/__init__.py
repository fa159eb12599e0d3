"""plumbing: an agent-based simulator of the US Treasury market's plumbing."""

from sim.model import TreasuryMarketModel
from sim.scenario import Scenario, ScenarioError, load_scenario

__version__ = "0.1.0"
__all__ = ["Scenario", "ScenarioError", "TreasuryMarketModel", "__version__", "load_scenario"]
