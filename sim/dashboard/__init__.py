"""The dashboard of DESIGN.md section 8, computed alike from a simulated run and from real public data.

metrics: panels A (repo), B (auctions), C (fails), the pipe and the reservoir as functions of
the standard tables (sim.tables). scoring: a `Dashboard` of named metrics, scored against a
reference (a baseline run, an ensemble or a real period) into traffic lights and a
plumbing-stress and a throughput index; simulated-vs-real distribution distances.
plots: the dashboard figure and the simulated-vs-real overlay.
"""

from __future__ import annotations

from sim.dashboard.metrics import METRIC_SPECS, MetricSpec, compute_metrics, weekly_fails
from sim.dashboard.scoring import Dashboard, Scorecard, compute_dashboard, distribution_distances, score

__all__ = [
    "METRIC_SPECS",
    "Dashboard",
    "MetricSpec",
    "Scorecard",
    "compute_dashboard",
    "compute_metrics",
    "distribution_distances",
    "score",
    "weekly_fails",
]
