"""The verdict of a scored run: which headline numbers moved beyond the reference's noise, and which did not.

It reads the scorecard's own rule (sim.dashboard.scoring), never a second one:

- a metric's noise is the scale its z-score divides by: the reference ensemble's standard
  deviation across seeds, or for a single reference the typical seed-to-seed variation
  (TYPICAL_REL x |reference|), each floored at the unit's smallest meaningful difference;
- it moved beyond noise when |z| >= GREEN_BELOW (1): the threshold below which its traffic
  light stays green, whichever the direction.

The plumbing-stress and throughput indices are averages of such z-scores. Their noise is
the spread (standard deviation) of the reference members' own indices, each member scored
against the ensemble as the experiments score their reference runs; a single reference has
no spread of its own, so its indices' noise is one typical variation (1.0, the unit an
index is measured in).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.dashboard.metrics import MetricSpec
from sim.dashboard.scoring import (
    GREEN_BELOW,
    TYPICAL_REL,
    Dashboard,
    Scorecard,
    format_value,
    reference_scale,
    score,
)

# The numbers a desk reads first, in the order a verdict lists them (short names with their units).
HEADLINE_METRICS: dict[str, str] = {
    "reserves_mean_bn": "reserves",
    "on_rrp_mean_bn": "ON RRP",
    "srf_usage_mean_bn": "SRF use",
    "repo_median_minus_iorb_mean_bp": "SOFR minus IORB",
    "repo_dispersion_mean_bp": "SOFR dispersion (p99-p1)",
    "repo_spike_days": "repo spike days",
    "effr_minus_iorb_mean_bp": "EFFR minus IORB",
    "tail_mean_bp": "auction tails",
    "dealer_share_mean": "dealer takedown",
    "fails_weekly_mean_bn": "weekly fails",
    "bid_ask_mean_bp": "bid/ask",
    "customer_volume_mean_bn": "customer volume",
    "dealer_utilization_mean": "dealer utilization",
    "fill_ratio_mean": "fill ratio",
}
STRESS_INDEX, THROUGHPUT_INDEX = "stress_index", "throughput_index"
INDEX_LABELS = {STRESS_INDEX: "plumbing-stress index", THROUGHPUT_INDEX: "throughput index"}
# An index is an average of z-scores: measured in typical variations, so a single reference's noise is 1.
SINGLE_REFERENCE_INDEX_NOISE = 1.0
_INDEX_SPEC = MetricSpec("index", "index", "index", "index", "stress")


@dataclass(frozen=True)
class Finding:
    """One headline number against the reference.

    Attributes:
        name: metric name (METRIC_SPECS) or "stress_index" / "throughput_index".
        label: short readable name.
        unit: the metric's unit ("bp", "$bn", "share", ...; "index" for the indices).
        change: value minus the reference (the ensemble's mean), in the unit.
        noise: the reference's noise in the unit (see the module docstring).
        moved: |change| >= GREEN_BELOW x noise.
    """

    name: str
    label: str
    unit: str
    change: float
    noise: float
    moved: bool

    def text(self) -> str:
        """E.g. "reserves +$197.0bn against noise $2.0bn"."""
        change, noise = format_change(self.change, self.unit), format_amount(self.noise, self.unit)
        return f"{self.label} {change} against noise {noise}"


@dataclass
class Verdict:
    """What moved beyond noise and what did not.

    Attributes:
        scorecard: the dashboard scored against the reference (every metric's z and light).
        members: how many runs the reference holds (1 = a single reference).
        moved: headline findings beyond noise, the indices first.
        unmoved: headline findings within noise.
        other_moved: names of the other metrics beyond noise (not headline ones).
        other_total: how many other metrics could be judged.
    """

    scorecard: Scorecard
    members: int
    moved: list[Finding] = field(default_factory=list)
    unmoved: list[Finding] = field(default_factory=list)
    other_moved: list[str] = field(default_factory=list)
    other_total: int = 0

    @property
    def reference(self) -> str:
        """The reference's description (the scorecard's)."""
        return self.scorecard.reference

    def noise_note(self) -> str:
        """What "noise" means for this reference, in one sentence."""
        if self.members >= 2:
            return (f"Noise is the standard deviation across the reference's {self.members} runs; a number moved "
                    f"beyond noise when it differs from their mean by at least {GREEN_BELOW:g} noise.")  # fmt: skip
        return ("A single reference has no spread of its own: noise is the typical seed-to-seed variation "
                f"({TYPICAL_REL:.0%} of the reference value, at least the unit's smallest meaningful difference; "
                f"{SINGLE_REFERENCE_INDEX_NOISE:g} for the indices).")  # fmt: skip

    def summary(self) -> str:
        """One line: how many headline numbers moved beyond noise, and which."""
        total = len(self.moved) + len(self.unmoved)
        if not self.moved:
            return f"None of the {total} headline numbers moved beyond noise."
        names = ", ".join(f.label for f in self.moved)
        return f"{len(self.moved)} of the {total} headline numbers moved beyond noise: {names}."

    def lines(self) -> list[str]:
        """The verdict as plain text lines."""
        lines = [f"Scored against {self.reference.rstrip('.')}.", self.summary(), self.noise_note()]
        if self.moved:
            lines.append("Moved beyond noise: " + "; ".join(f.text() for f in self.moved) + ".")
        if self.unmoved:
            lines.append("No material change: " + "; ".join(f.text() for f in self.unmoved) + ".")
        lines.append(self.others_text())
        return lines

    def others_text(self) -> str:
        """How many of the remaining metrics moved beyond noise."""
        return (f"Of the other {self.other_total} metrics with a value on both sides, {len(self.other_moved)} moved "
                "beyond noise (|z| >= 1 in the table below).")  # fmt: skip


def format_amount(value: float, unit: str) -> str:
    """A non-negative size in its unit, as a desk writes it: "$2.0bn", "0.41bp", "0.058"."""
    text = format_value(abs(value), unit)
    if unit == "$bn":
        return f"${text}bn"
    if unit == "$bn/day":
        return f"${text}bn/day"
    if unit == "bp":
        return f"{text}bp"
    if unit == "index":
        return f"{abs(value):.2f}"
    return text


def format_change(value: float, unit: str) -> str:
    """A signed change in its unit: "+$197.0bn", "-2.30bp", "+0.058", "-0.05"."""
    amount = format_amount(value, unit)
    zero = not amount.strip("$bn/dayp").strip("0.,")
    return amount if zero else ("-" if value < 0 else "+") + amount


def index_noise(reference: Sequence[Dashboard]) -> dict[str, tuple[float, float]]:
    """Each index's reference level and noise: the members' mean index and its spread across them.

    Args:
        reference: the reference dashboards (an ensemble of seeds, or one run).

    Returns:
        "stress_index" and "throughput_index" -> (mean of the members' own indices, their
        standard deviation) when 2+ members have the index; (0.0, 1.0) for a single
        reference (an index is in units of typical variation); missing when no member has it.
    """
    members = list(reference)
    if len(members) < 2:
        return {name: (0.0, SINGLE_REFERENCE_INDEX_NOISE) for name in INDEX_LABELS}
    cards = [score(member, members) for member in members]
    out = {}
    for name in INDEX_LABELS:
        values = [v for card in cards if (v := getattr(card, name)) is not None]
        if len(values) >= 2:
            mean = float(np.mean(values))
            out[name] = (mean, reference_scale(_INDEX_SPEC, mean, values))
    return out


def judge(
    dashboard: Dashboard, reference: Dashboard | Sequence[Dashboard], scorecard: Scorecard | None = None
) -> Verdict:
    """The verdict of a dashboard against its reference (see the module docstring for the rule).

    Args:
        dashboard: the judged run's dashboard.
        reference: one reference dashboard or an ensemble of them.
        scorecard: `score(dashboard, reference)` when already computed.
    """
    members = [reference] if isinstance(reference, Dashboard) else list(reference)
    card = scorecard if scorecard is not None else score(dashboard, members)
    verdict = Verdict(card, len(members))
    levels = index_noise(members)
    for name, label in INDEX_LABELS.items():
        value = getattr(card, name)
        if value is None or name not in levels:
            continue
        level, noise = levels[name]
        change = value - level
        _file(verdict, Finding(name, label, "index", change, noise, abs(change) >= GREEN_BELOW * noise))
    by_name = {s.name: s for s in card.scores}
    for name, label in HEADLINE_METRICS.items():
        s = by_name.get(name)
        if s is None or s.z is None or s.value is None or s.reference is None or s.scale is None:
            continue
        _file(verdict, Finding(name, label, s.unit, s.value - s.reference, s.scale, abs(s.z) >= GREEN_BELOW))
    others = {s.name: s.z for s in card.scores if s.name not in HEADLINE_METRICS and s.z is not None}
    verdict.other_total = len(others)
    verdict.other_moved = [name for name, z in others.items() if abs(z) >= GREEN_BELOW]
    return verdict


def _file(verdict: Verdict, finding: Finding) -> None:
    (verdict.moved if finding.moved else verdict.unmoved).append(finding)
