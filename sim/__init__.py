"""plumbing: an agent-based simulator of the US Treasury market's plumbing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Scenario", "ScenarioError", "TreasuryMarketModel", "__version__", "load_scenario"]

if TYPE_CHECKING:
    from sim.model import TreasuryMarketModel
    from sim.scenario import Scenario, ScenarioError, load_scenario


def __getattr__(name: str) -> Any:
    # Imported on first use, so `plumbing --help` (and Ctrl-C while it starts) need not load the model.
    if name == "TreasuryMarketModel":
        from sim.model import TreasuryMarketModel

        return TreasuryMarketModel
    if name in ("Scenario", "ScenarioError", "load_scenario"):
        import sim.scenario

        return getattr(sim.scenario, name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
