"""The loop's arrows, and what an arrow switched off holds its input to.

Each arrow of the weak-auction loop (`loop:` in a scenario) carries one input into a
decision: dealers' utilization into their quotes, bid/ask into end investors' auction
demand, remembered tails into the concession they ask, and so on. Switched off, the input
does not stop moving: it follows the path it takes in the calm twin, the same scenario and
seed with its shocks removed and every arrow on. Purchases, rule changes and the calendar
stay. So an arrow switched off removes what a stress sends along it, not the market's
ordinary variation, and a scenario without shocks runs the same with any arrow off.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario.schema import LoopSwitches

# Each arrow and the input it carries (what the calm twin's path replaces when it is off).
ARROW_INPUTS = {
    "takedown_raises_utilization": "each dealer's award at each auction ($bn par)",
    "utilization_drives_quotes": "each dealer's utilization, as its quotes, depth and concessions read it",
    "liquidity_drives_auction_demand": "bid/ask relative to calm, as end investors' auction demand reads it",
    "tails_drive_concession": "the tails end investors remember, by auction family (bp)",
    "inventory_premium": "dealers' risk use, as the duration premium reads it",
    "dealer_memory": "each dealer's risk appetite",
    "funding_cost_drives_dealers": "each dealer's funding premium (bp)",
    "liquidity_drives_volatility": "the share of their starting depth dealers have withdrawn",
}
OPENING = -1  # the day index of decisions made at the opening, before the first day


class CalmPath:
    """The inputs the loop's arrows carry, day by day: recorded in a calm twin, followed when off.

    Modes: live (every arrow on: inputs pass through), recording (the calm twin: inputs pass
    through and are kept), following (some arrow off: its inputs are the twin's).

    Attributes:
        day: today's day index (OPENING before the first day), set by the model each step.
    """

    def __init__(self, loop: LoopSwitches, paths: dict[tuple[Any, ...], Any] | None = None, record: bool = False):
        self.loop = loop
        self.record = record
        self.paths: dict[tuple[Any, ...], Any] = {} if paths is None else paths
        self.following = paths is not None
        self.day = OPENING

    def follow(self, arrow: str, actual: Any, *key: Any) -> Any:
        """The input `arrow` carries today (and at `key` within the day, e.g. an auction).

        Returns `actual` while the arrow is on; the calm twin's value when it is off. An event
        the twin did not have (a cash-management bill the stress called for) keeps its actual
        input.
        """
        if arrow not in ARROW_INPUTS:
            raise KeyError(f"unknown loop arrow {arrow!r}; arrows: {', '.join(ARROW_INPUTS)}")
        full_key = (arrow, self.day, *key)
        if self.record:
            self.paths[full_key] = np.copy(actual) if isinstance(actual, np.ndarray) else actual
            return actual
        if self.following and not getattr(self.loop, arrow):
            calm = self.paths.get(full_key)
            if calm is not None:
                return np.copy(calm) if isinstance(calm, np.ndarray) else calm
        return actual


def arrows_off(loop: LoopSwitches) -> list[str]:
    """The arrows switched off in `loop`."""
    return [arrow for arrow in ARROW_INPUTS if not getattr(loop, arrow)]
