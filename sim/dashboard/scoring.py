"""Scoring the dashboard (DESIGN.md section 8): a run or a real period against a reference.

A `Dashboard` is one set of tables turned into named metrics (sim.dashboard.metrics). A
`Scorecard` compares it with a reference, metric by metric, as a z-score:

- against an ensemble of dashboards (many seeds of a baseline): z = (x - mean) / s, s the
  ensemble's standard deviation (ddof 1), floored at the unit's minimum meaningful
  difference (`FLOOR_BY_UNIT`) so an ensemble that agrees exactly does not turn a
  rounding difference into a huge z. The percentile of x among the members is reported
  too (mid-rank, 0-100).
- against a single reference (a baseline run or a real period): there is no spread to
  learn from, so z = (x - ref) / (TYPICAL_REL x |ref|), with the same floor. TYPICAL_REL
  is a typical seed-to-seed dispersion: over 8 seeds of the six-month baseline the
  coefficient of variation of the metrics has a median of 15%; it is 1-10% for fails,
  reserves, TGA, fill ratio, utilization and bid-to-cover, 20-35% for repo dispersion,
  tail means and the pipe's extremes, and above 50% for shares of rare events. 20% sits
  in the middle, so a 20% change reads as one standard deviation and a 40% change as red.
  Metrics that sit near zero (the spread to IORB) carry their own absolute floor.

Traffic lights are direction-aware: each metric says whether a higher value means more
stress, less stress, less throughput, more throughput, or neither. For the first four
the signed z (positive = worse) decides: green below 1, amber below 2, red from 2; a
move toward calm or toward more throughput stays green however large. For "neither"
metrics (the reservoir, correlations) |z| decides, since a big move either way is news.

Against the real market the question is not "better or worse" but "does it match": with
`real=` given to `score`, a light measures distance to reality whatever its direction
(|z| < 1 within the typical variation: "within"; < 2 "near"; from 2 "off"), and the text
table says so. The indices stay directional (+ = more stress than the real period).

One z rule everywhere: z is computed as above, never clipped in the numbers; wherever it
is shown, |z| above Z_SHOWN_CAP (the index cap) prints as ">+5" or "<-5", since beyond that
the size says only "far".

Indices (positive = worse than the reference, 0 = like it):
- plumbing-stress index: each of panels A, B, C averages the signed z of its index
  metrics, and the index averages the panels, so panel B's many tenor-group metrics do
  not outvote repo and fails;
- throughput index: the average signed z of the pipe's index metrics (positive = the pipe
  carries less than the reference).
Each signed z enters an index capped at +/- INDEX_CAP, so one extreme metric cannot make
an index on its own; the uncapped z is shown beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim.dashboard.metrics import (
    DISTRIBUTION_LABELS,
    DISTRIBUTION_UNITS,
    METRIC_SPECS,
    PANEL_TITLES,
    MetricSpec,
    compute_detail,
    compute_metrics,
    distributions,
    prepare_auctions,
    prepare_daily,
)
from sim.dashboard.metrics import (
    _number as finite_number,
)

Tables = Mapping[str, pd.DataFrame]
TYPICAL_REL = 0.20
# The smallest difference worth one standard deviation, in each unit.
FLOOR_BY_UNIT: dict[str, float] = {
    "bp": 0.25, "$bn": 0.5, "$bn/day": 0.5, "share": 0.02, "ratio": 0.02, "correlation": 0.15, "count": 1.0,
}  # fmt: skip
DEFAULT_FLOOR = 1e-6
INDEX_CAP = 5.0
GREEN_BELOW, AMBER_BELOW = 1.0, 2.0
STRESS_PANELS = ("A", "B", "C")
# |z| shown beyond this reads ">+5" / "<-5" (the numbers keep their value; indices cap at the same).
Z_SHOWN_CAP = INDEX_CAP
# Against real data a light is a distance to reality, not a judgement of better or worse.
MATCH_WORDS = {"green": "within", "amber": "near", "red": "off", "n/a": "n/a"}
MATCH_LEGEND = (
    "Match to reality: within = |z| < 1 (inside the typical variation), near = |z| < 2, off = |z| >= 2, "
    "whichever the direction"
)
NOT_PUBLISHED = "not published"


# ---------------------------------------------------------------- the dashboard
@dataclass
class Dashboard:
    """The dashboard numbers of one run or one real period.

    Attributes:
        label: what was measured ("baseline seed 1", "SOFR 2019").
        period: first and last date covered (ISO strings; None if unknown).
        metrics: metric name -> value in the unit of METRIC_SPECS[name], or None when the
            data lacked the inputs.
        detail: spike days with their tags, spike weeks and the auction metrics per tenor.
    """

    label: str
    period: tuple[str | None, str | None]
    metrics: dict[str, float | None]
    detail: dict[str, Any] = field(default_factory=dict)

    def spec(self, name: str) -> MetricSpec:
        """The metric's spec; a neutral one for a name this version does not know."""
        return METRIC_SPECS.get(name) or MetricSpec(name, name, "", "?", "neither", False)

    def frame(self) -> pd.DataFrame:
        """The metrics as a table: name, panel, label, unit, direction, in_index, value."""
        rows = [asdict(self.spec(name)) | {"name": name, "value": value} for name, value in self.metrics.items()]
        return pd.DataFrame(rows, columns=["name", "panel", "label", "unit", "direction", "in_index", "value"])

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every metric with its value (null when not available), unit, panel and direction."""
        metrics = {}
        for name, value in self.metrics.items():
            spec = self.spec(name)
            metrics[name] = {"value": _finite(value), "unit": spec.unit, "panel": spec.panel,
                             "direction": spec.direction, "in_index": spec.in_index, "label": spec.label}  # fmt: skip
        return {
            "label": self.label,
            "period": {"start": self.period[0], "end": self.period[1]},
            "metrics": metrics,
            "detail": self.detail,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Dashboard:
        """The inverse of `to_dict`.

        Also reads a run folder's earlier dashboard.json (flat `metrics` of bare numbers,
        `scenario`, `start_date`, `end_date` at the top level).
        """
        period = data.get("period") or {"start": data.get("start_date"), "end": data.get("end_date")}
        metrics = {}
        for name, entry in (data.get("metrics") or {}).items():
            value = entry.get("value") if isinstance(entry, Mapping) else entry
            metrics[name] = _finite(value)
        label = data.get("label") or data.get("scenario") or ""
        return cls(str(label), (period.get("start"), period.get("end")), metrics, dict(data.get("detail") or {}))


def _finite(value: Any) -> float | None:
    """A finite float, or None (NaN, inf, missing)."""
    return finite_number(value)


def _period(tables: Tables) -> tuple[str | None, str | None]:
    """First and last date of the daily table, else of the auctions, else of the weekly fails."""
    candidates = []
    daily = prepare_daily(tables.get("daily"))
    if daily is not None:
        candidates.append(daily["date"])
    auctions = prepare_auctions(tables.get("auctions"))
    if auctions is not None:
        candidates.append(auctions["auction_date"])
    weekly = tables.get("fails_weekly")
    if weekly is not None and "week_end" in weekly.columns and len(weekly):
        candidates.append(pd.to_datetime(weekly["week_end"]))
    for dates in candidates:
        dates = dates.dropna()
        if len(dates):
            return dates.min().date().isoformat(), dates.max().date().isoformat()
    return None, None


def compute_dashboard(tables: Tables, label: str, auction_mix: Mapping[str, float] | None = None) -> Dashboard:
    """The dashboard of one set of standard tables (a simulated run or a real period).

    Args:
        tables: `daily`, `auctions` and, for real data, `fails_weekly`; missing tables or
            columns give None metrics.
        label: name shown on scorecards and figures.
        auction_mix: auctions per tenor group the all-auction rows weight the groups by: a real
            period's (`auction_group_counts`) when a run is scored against it; None: the run's own.
    """
    return Dashboard(label, _period(tables), compute_metrics(tables, auction_mix), compute_detail(tables))


# ---------------------------------------------------------------- the scorecard
@dataclass(frozen=True)
class MetricScore:
    """One metric against its reference.

    Attributes:
        reference: the reference value (the ensemble mean for an ensemble).
        scale: the standard deviation the z-score divides by (metric's unit).
        z: (value - reference) / scale.
        signed_z: z oriented so positive is worse (more stress or less throughput); equal
            to |z| for metrics with no direction.
        percentile: mid-rank of the value among ensemble members (0-100), None otherwise.
        light: "green", "amber", "red", or "n/a" when the value or reference is missing.
    """

    name: str
    label: str
    panel: str
    unit: str
    direction: str
    in_index: bool
    value: float | None
    reference: float | None
    scale: float | None
    z: float | None
    signed_z: float | None
    percentile: float | None
    light: str


@dataclass
class Scorecard:
    """A dashboard scored against a reference: lights per metric and the two indices.

    Attributes:
        label: the scored dashboard's label.
        reference: description of the reference ("baseline", "ensemble of 8: ...").
        scores: one MetricScore per metric, in METRIC_SPECS order.
        stress_by_panel: mean capped signed z of panels A, B, C (None without data).
        stress_index: mean of the available panel values (positive = more stress).
        throughput_index: mean capped signed z of the pipe (positive = less throughput).
        real: which side is the real market ("reference" or "value"), or None when both
            are runs; with real data the lights measure distance to reality.
    """

    label: str
    reference: str
    scores: list[MetricScore]
    stress_by_panel: dict[str, float | None]
    stress_index: float | None
    throughput_index: float | None
    real: str | None = None

    def lights(self) -> dict[str, str]:
        """Metric name -> light."""
        return {s.name: s.light for s in self.scores}

    def counts(self) -> dict[str, dict[str, int]]:
        """Per panel, how many metrics are green / amber / red / n/a."""
        out: dict[str, dict[str, int]] = {}
        for s in self.scores:
            panel = out.setdefault(s.panel, {"green": 0, "amber": 0, "red": 0, "n/a": 0})
            panel[s.light] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready scorecard (NaN never appears; missing numbers are null)."""
        return {
            "label": self.label,
            "reference": self.reference,
            "stress_index": self.stress_index,
            "stress_by_panel": self.stress_by_panel,
            "throughput_index": self.throughput_index,
            "counts": self.counts(),
            "real": self.real,
            "lights_mean": "distance to the real market" if self.real else "better or worse than the reference",
            "scores": {s.name: {k: v for k, v in asdict(s).items() if k != "name"} for s in self.scores},
        }

    def unpublished(self) -> list[MetricScore]:
        """The metrics the real side lacks (none when both sides are runs)."""
        if self.real is None:
            return []
        return [s for s in self.scores if (s.reference if self.real == "reference" else s.value) is None]

    def table(self, only_available: bool = False) -> str:
        """The scorecard as plain text: indices first, then one line per metric (readable names, units).

        Args:
            only_available: drop the metrics with no light (value or reference missing),
                except, against real data, those the real side lacks: they stay, marked
                "not published".
        """
        against = "the real period" if self.real else "the reference"
        lines = [
            f"Scorecard: {self.label}  vs  {self.reference}",
            f"Plumbing-stress index: {_fmt(self.stress_index, '+.2f')}  ("
            + ", ".join(f"{p} {_fmt(v, '+.2f')}" for p, v in self.stress_by_panel.items())
            + f")   [+ = more stress than {against}]",
            f"Throughput index:      {_fmt(self.throughput_index, '+.2f')}   [+ = less throughput than {against}]",
        ]
        value_head, reference_head = {"reference": ("Simulated", "Real"), "value": ("Real", "Simulated")}.get(
            self.real or "", ("Value", "Reference")
        )
        if self.real:
            lines.append(MATCH_LEGEND)
        lines.append("")
        rows = [("Panel", "Metric", "Unit", value_head, reference_head, "z", "Match" if self.real else "Light")]
        unpublished = {s.name for s in self.unpublished()}
        for s in self.scores:
            if only_available and s.light == "n/a" and s.name not in unpublished:
                continue
            value, reference = format_value(s.value, s.unit), format_value(s.reference, s.unit)
            z, light = format_z(s.z), MATCH_WORDS[s.light] if self.real else s.light
            if s.name in unpublished:
                value, reference = (NOT_PUBLISHED, reference) if self.real == "value" else (value, NOT_PUBLISHED)
                z = light = ""
            rows.append((PANEL_TITLES.get(s.panel, s.panel), s.label, s.unit, value, reference, z, light))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        right = {3, 4, 5}
        for j, row in enumerate(rows):
            cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
            lines.append("  ".join(cells).rstrip())
            if j == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def format_z(z: float | None) -> str:
    """A z-score as shown everywhere: two decimals, beyond +/- Z_SHOWN_CAP as ">+5" / "<-5"; "n/a" when missing."""
    if z is None:
        return "n/a"
    if z > Z_SHOWN_CAP:
        return f">+{Z_SHOWN_CAP:g}"
    if z < -Z_SHOWN_CAP:
        return f"<-{Z_SHOWN_CAP:g}"
    return f"{z:+.2f}"


def _fmt(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


VALUE_FORMATS = {"bp": ".2f", "$bn": ",.1f", "$bn/day": ",.1f", "share": ".3f", "ratio": ".3f", "correlation": ".2f",
                 "count": ".0f"}  # fmt: skip


def format_value(value: float | None, unit: str) -> str:
    """A metric value for display in its unit's precision; "n/a" when not available."""
    if value is None:
        return "n/a"
    text = format(value, VALUE_FORMATS.get(unit, ".4g"))
    # A value that rounds to zero reads as 0, not -0.
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def light_for(signed_z: float | None) -> str:
    """Traffic light of a signed z (positive = worse): green < 1 <= amber < 2 <= red."""
    if signed_z is None:
        return "n/a"
    if signed_z < GREEN_BELOW:
        return "green"
    return "amber" if signed_z < AMBER_BELOW else "red"


def reference_scale(spec: MetricSpec, reference: float, members: Sequence[float] | None = None) -> float:
    """The standard deviation a metric's deviation is measured in (metric's unit).

    Ensemble (2+ members): their standard deviation; single reference: TYPICAL_REL x |ref|;
    both floored at the spec's own floor, else FLOOR_BY_UNIT[unit].
    """
    floor = spec.floor if spec.floor is not None else FLOOR_BY_UNIT.get(spec.unit, DEFAULT_FLOOR)
    if members is not None and len(members) >= 2:
        return max(float(np.std(members, ddof=1)), floor)
    return max(TYPICAL_REL * abs(reference), floor)


def _score_one(spec: MetricSpec, value: float | None, members: list[float], real: bool = False) -> MetricScore:
    reference = scale = z = signed = percentile = None
    if members:
        reference = float(np.mean(members))
        scale = reference_scale(spec, reference, members)
        if len(members) >= 2 and value is not None:
            below = sum(m < value for m in members) + 0.5 * sum(m == value for m in members)
            percentile = 100.0 * below / len(members)
    if value is not None and reference is not None and scale is not None:
        z = (value - reference) / scale
        signed = z * spec.sign if spec.sign else abs(z)
    # Against real data the light is the distance to reality; between runs, how much worse.
    light = light_for(abs(z) if real and z is not None else signed)
    return MetricScore(spec.name, spec.label, spec.panel, spec.unit, spec.direction, spec.in_index, value, reference,
                       scale, z, signed, percentile, light)  # fmt: skip


def _index(scores: Sequence[MetricScore]) -> float | None:
    values = [float(np.clip(s.signed_z, -INDEX_CAP, INDEX_CAP)) for s in scores if s.signed_z is not None]
    return float(np.mean(values)) if values else None


def score(dashboard: Dashboard, reference: Dashboard | Sequence[Dashboard], real: str | None = None) -> Scorecard:
    """Score a dashboard against a single reference or an ensemble of them.

    Args:
        dashboard: what is judged.
        reference: one Dashboard (a baseline run, a real period) or several (an ensemble
            of seeds); see the module docstring for the z-score in each case.
        real: "reference" when the reference is the real market, "value" when the judged
            dashboard is (a real period against a simulated ensemble), None between runs.
            With real data, lights measure distance to reality in either direction.

    Returns:
        A Scorecard over every metric of METRIC_SPECS (plus any other metric the dashboard
        holds), with lights, the plumbing-stress index and the throughput index.
    """
    members = [reference] if isinstance(reference, Dashboard) else list(reference)
    if not members:
        raise ValueError("score: the reference ensemble is empty")
    description = (
        members[0].label if len(members) == 1
        else f"ensemble of {len(members)}: " + ", ".join(m.label for m in members[:3]) + (", ..." if len(members) > 3
                                                                                            else "")
    )  # fmt: skip
    names = list(METRIC_SPECS) + [n for n in dashboard.metrics if n not in METRIC_SPECS]
    scores = []
    for name in names:
        ref_values = [v for m in members if (v := _finite(m.metrics.get(name))) is not None]
        scores.append(_score_one(dashboard.spec(name), _finite(dashboard.metrics.get(name)), ref_values, bool(real)))
    by_panel: dict[str, float | None] = {}
    for panel in STRESS_PANELS:
        by_panel[panel] = _index([s for s in scores if s.panel == panel and s.in_index and s.direction in
                                  ("stress", "calm")])  # fmt: skip
    available = [v for v in by_panel.values() if v is not None]
    stress = float(np.mean(available)) if available else None
    throughput = _index([s for s in scores if s.panel == "pipe" and s.in_index and s.direction in
                         ("less_throughput", "more_throughput")])  # fmt: skip
    if real not in (None, "reference", "value"):
        raise ValueError(f"score: real must be None, 'reference' or 'value'; found {real!r}")
    return Scorecard(dashboard.label, description, scores, by_panel, stress, throughput, real)


# ---------------------------------------------------------------- simulated vs real distributions
def distribution_distances(sim_tables: Tables | Sequence[Tables], real_tables: Tables) -> pd.DataFrame:
    """How far a simulated distribution lies from the real one, metric by metric.

    `sim_tables` may be one run's tables or several runs' (an ensemble of seeds), whose
    observations are pooled metric by metric (never by concatenating their tables, which
    would mix the runs' days and weeks).

    For each distribution metric (daily SOFR dispersion, SOFR minus IORB, 20-day SOFR vol,
    EFFR minus IORB, auction high - median and dealer share by tenor group, weekly fails): sample sizes,
    the simulated and real means, their difference (sim - real) and the two-sample
    Kolmogorov-Smirnov statistic and p-value (scipy.stats.ks_2samp). NaN where either side
    lacks the data. Daily and weekly observations are autocorrelated, so the p-value
    overstates significance; read the statistic (the largest gap between the two ECDFs,
    0-1) as the distance.

    Returns:
        One row per metric: metric, unit, n_sim, n_real, sim_mean, real_mean, difference,
        ks_statistic, ks_pvalue.
    """
    runs = [sim_tables] if isinstance(sim_tables, Mapping) else list(sim_tables)
    per_run = [distributions(t) for t in runs]
    sim = {}
    for name in DISTRIBUTION_UNITS:
        parts = [d[name] for d in per_run if d.get(name) is not None]
        sim[name] = pd.concat(parts, ignore_index=True) if parts else None
    real = distributions(real_tables)
    rows = []
    for name, unit in DISTRIBUTION_UNITS.items():
        a, b = sim.get(name), real.get(name)
        row: dict[str, Any] = {"metric": name, "unit": unit, "n_sim": 0 if a is None else len(a),
                               "n_real": 0 if b is None else len(b)}  # fmt: skip
        row["sim_mean"] = float(a.mean()) if a is not None else np.nan
        row["real_mean"] = float(b.mean()) if b is not None else np.nan
        row["difference"] = row["sim_mean"] - row["real_mean"]
        if a is not None and b is not None:
            from scipy import stats  # a third of a second to import: only comparisons with real data need it

            test = stats.ks_2samp(a.to_numpy(), b.to_numpy())
            row["ks_statistic"], row["ks_pvalue"] = float(test.statistic), float(test.pvalue)
        else:
            row["ks_statistic"] = row["ks_pvalue"] = np.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["metric", "unit", "n_sim", "n_real", "sim_mean", "real_mean", "difference",
                                       "ks_statistic", "ks_pvalue"])  # fmt: skip


def distances_text(distances: pd.DataFrame, real_label: str = "real") -> str:
    """`distribution_distances` as plain text: readable names with units, "not published" where the real data lack one.

    The Kolmogorov-Smirnov statistic is the largest gap between the two ECDFs (0 = the same
    distribution, 1 = no overlap).
    """
    rows = [("Distribution", "Unit", "n sim", f"n {real_label}", "Simulated mean", "Real mean", "Sim - real",
             "KS distance")]  # fmt: skip
    for r in distances.itertuples(index=False):
        label = DISTRIBUTION_LABELS.get(r.metric, r.metric)
        if r.n_real == 0:
            real_mean = difference = ks = NOT_PUBLISHED
        else:
            real_mean, difference = format_value(_finite(r.real_mean), r.unit), _signed(_finite(r.difference), r.unit)
            ks = _fmt(_finite(r.ks_statistic), ".2f")
        sim_mean = format_value(_finite(r.sim_mean), r.unit) if r.n_sim else "n/a"
        rows.append((label, r.unit, str(r.n_sim), str(r.n_real), sim_mean, real_mean, difference, ks))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        cells = [c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if j == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _signed(value: float | None, unit: str) -> str:
    text = format_value(value, unit)
    return text if value is None or text.startswith("-") or not value else "+" + text
