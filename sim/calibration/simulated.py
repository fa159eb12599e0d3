"""The target moments measured on a simulated run, by the same code that measures them on real data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.calibration.moments import compute_moments


def simulated_moments(tables: Mapping[str, Any]) -> dict[str, float | None]:
    """Every target moment of a run: its repo, reserves and fails moments and its auction moments.

    The real targets come from two windows (2022-2024 for repo, 2025 H1 for auctions); a
    simulated run is one window, measured for both families.
    """
    return {**compute_moments(tables, "repo"), **compute_moments(tables, "auctions")}
