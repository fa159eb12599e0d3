"""The one-page HTML report of a run: the dashboard figure, the verdict against a reference, the metrics by panel.

Self-contained: the figure is embedded as a base64 PNG and the styles are inline, so the
page can be mailed or archived without its folder.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import Any

from sim.dashboard import Dashboard, Scorecard
from sim.dashboard.metrics import PANEL_TITLES, PANELS
from sim.dashboard.scoring import format_value, format_z
from sim.dashboard.verdict import Verdict
from sim.scenario import Scenario


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _shock_text(shock: Any) -> str:
    params = shock.model_dump(exclude={"kind", "date", "days"})
    detail = ", ".join(f"{k} {v}" for k, v in params.items())
    return f"{shock.kind} from {shock.date} for {shock.days} business day(s)" + (f": {detail}" if detail else "")


def key_settings(scenario: Scenario) -> list[tuple[str, str]]:
    """The levers a reader checks first, as (setting, value) text pairs."""
    cb, srf = scenario.central_bank, scenario.central_bank.srf
    ms, dealers = scenario.market_structure, scenario.dealers
    programs = [
        f"${p.bn_per_month:g}bn/month of {', '.join(p.tenors)} from {p.start or scenario.start_date} "
        f"to {p.end or scenario.end_date} ({p.nonbank_seller_share:.0%} from non-banks)"
        for p in cb.purchases
    ]
    operations = [
        f"${op.offered_bn_per_day:g}bn/day from {op.start} to {op.end or scenario.end_date} "
        f"at a minimum bid of IORB {op.min_bid_above_iorb_bp:+g}bp"
        for op in cb.repo_operations
    ]
    srf_text = (
        f"on: minimum bid top of range + {srf.min_bid_above_top_bp:g}bp, limit ${srf.daily_limit_bn:g}bn/day, "
        f"stigma {srf.stigma_bp:g}bp, centrally cleared: {_yes(srf.centrally_cleared)}"
        if srf.enabled
        else "off"
    )
    slr_text = (
        f"Treasuries: {_yes(dealers.exempt_treasuries_from_slr)}; reserves: {_yes(dealers.exempt_reserves_from_slr)}"
    )
    clearing_text = (
        f"cash: {_yes(ms.central_clearing_cash)}; repo: {_yes(ms.central_clearing_repo)} "
        f"(netting efficiency {ms.netting_efficiency:.0%})"
    )
    return [
        ("Policy rate (top of range at start)", f"{scenario.policy.top_of_range_pct(scenario.start_date):.2f}%"),
        ("Purchases", "; ".join(programs) or "none"),
        ("Standing Repo Facility", srf_text),
        ("Repo operations (overnight)", "; ".join(operations) or "none"),
        ("SLR exemptions", slr_text),
        ("Central clearing", clearing_text),
        ("All-to-all trading", f"{ms.all_to_all_share:.0%} of unmatched flow"),
        ("Buybacks", f"${scenario.treasury.buybacks_bn_per_month:g}bn/month"),
        ("Fed securities lending", _yes(cb.securities_lending)),
        ("Fails charge", _yes(scenario.settlement.fails_charge)),
        ("Shocks", "; ".join(_shock_text(s) for s in scenario.shocks) or "none"),
    ]


def _rows(pairs: list[tuple[str, str]]) -> str:
    return "\n".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in pairs)


def _run_summary(scenario: Scenario, manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What was run, as (item, value) pairs: enough to find and rerun it."""
    return [
        ("Scenario", scenario.name),
        ("Description", scenario.description),
        ("Simulated dates", f"{scenario.start_date} to {scenario.end_date} ({manifest['days']} business days)"),
        ("Seed", str(manifest["seed"])),
        ("Package version", str(manifest["package_version"])),
        ("Started (UTC)", str(manifest["started_at_utc"])),
    ]


def _metric_tables(dashboard: Dashboard, scorecard: Scorecard | None) -> str:
    """The full dashboard, one table per panel; with a scorecard, each metric's reference, noise, z and light too."""
    scores = {s.name: s for s in scorecard.scores} if scorecard is not None else {}
    header = "<th>Metric</th><th>Unit</th><th>Value</th>"
    if scorecard is not None:
        header += "<th>Reference</th><th>Noise</th><th>z</th><th>Light</th>"
    frame = dashboard.frame()
    panels = [p for p in PANELS if p in set(frame["panel"])] + sorted(set(frame["panel"]) - set(PANELS))
    sections = []
    for panel in panels:
        rows = []
        for row in frame[frame["panel"] == panel].itertuples():
            numbers = [format_value(row.value, row.unit)]
            if scorecard is not None:
                s = scores.get(row.name)
                z = format_z(s.z) if s and s.z is not None else ""
                numbers += [format_value(s.reference, row.unit) if s else "",
                            format_value(s.scale, row.unit) if s else "", z, s.light if s else ""]  # fmt: skip
            rows.append(
                f"<tr><td>{html.escape(str(row.label))}</td><td>{html.escape(str(row.unit))}</td>"
                + "".join(f"<td class='num'>{html.escape(str(n))}</td>" for n in numbers) + "</tr>"
            )  # fmt: skip
        title = html.escape(PANEL_TITLES.get(str(panel), str(panel)))
        sections.append(f"<h3>{title}</h3>\n<table class='metrics'><tr>{header}</tr>\n" + "\n".join(rows) + "</table>")
    return "\n".join(sections)


def _verdict_section(verdict: Verdict | None) -> str:
    """The answer first: what moved beyond the reference's noise and what did not, or one line saying there is none."""
    if verdict is None:
        return ("<p class='verdict'>No reference was given, so there is no verdict: rerun with "
                "<code>plumbing run SCENARIO --reference RUN ...</code> (one run, or several seeds as an "
                "ensemble) to see what moved beyond noise.</p>")  # fmt: skip

    def items(findings: list) -> str:
        return "".join(f"<li>{html.escape(f.text())}</li>" for f in findings) or "<li>none</li>"

    return f"""<div class='verdict'>
<p class='verdict-summary'><strong>{html.escape(verdict.summary())}</strong></p>
<p>Scored against {html.escape(verdict.reference.rstrip("."))}. {html.escape(verdict.noise_note())} The indices are
positive when the run is worse than the reference (more plumbing stress, less throughput).</p>
<h3>Moved beyond noise</h3>
<ul id='moved'>{items(verdict.moved)}</ul>
<h3>No material change</h3>
<ul id='unmoved'>{items(verdict.unmoved)}</ul>
<p>{html.escape(verdict.others_text())}</p>
</div>"""


def _spike_table(dashboard: Dashboard) -> str:
    """The repo spike days with the calendar pressure around each: where to look first for stress."""
    spikes = dashboard.detail.get("repo_spike_days") or []
    if not spikes:
        return "<p>No repo spike days.</p>"
    spike_rows = "\n".join(
        f"<tr><td>{html.escape(str(d.get('date')))}</td>"
        f"<td class='num'>{format_value(d.get('dispersion_bp'), 'bp')}</td>"
        f"<td>{html.escape(', '.join(d.get('tags') or []) or 'no calendar pressure')}</td></tr>"
        for d in spikes
    )
    spike_header = "<tr><th>Date</th><th>Dispersion</th><th>Around it</th></tr>"
    return f"<h3>Repo spike days</h3><table>{spike_header}{spike_rows}</table>"


def report_html(
    scenario: Scenario,
    manifest: Mapping[str, Any],
    dashboard: Dashboard,
    dashboard_png: bytes,
    verdict: Verdict | None = None,
) -> str:
    """The report page of one run: the figure, the verdict, the metrics by panel, then what was run.

    Args:
        scenario: the resolved scenario that was run.
        manifest: the run's manifest (seed, version, days, start time, wall seconds, warnings).
        dashboard: the run's dashboard (sim.dashboard).
        dashboard_png: the dashboard figure, embedded inline.
        verdict: the run against its reference, when it had one (sim.dashboard.verdict):
            what moved beyond the reference's noise, and the scorecard of every metric.
    """
    scorecard = None if verdict is None else verdict.scorecard
    warnings = "".join(f"<p class='warn'>Warning: {html.escape(w)}</p>" for w in manifest.get("warnings", []))
    image = base64.b64encode(dashboard_png).decode("ascii")
    title = html.escape(f"plumbing run: {scenario.name}, seed {manifest['seed']}")
    facts = html.escape(f"{scenario.start_date} to {scenario.end_date}, {manifest['days']} business days. "
                        f"{scenario.description}")  # fmt: skip
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 72em; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 0.25em 0.8em; text-align: left; vertical-align: top; }}
td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
.warn {{ color: #a40; }}
.verdict {{ background: #f6f8fa; padding: 0.5em 1em; border-left: 4px solid #4a7; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>{title}</h1>
<p>{facts}</p>
{warnings}
<img alt="Dashboard panels: A repo, B auctions, C fails, reservoir vs pipe" src="data:image/png;base64,{image}">
<h2>Verdict</h2>
{_verdict_section(verdict)}
<h2>Dashboard, by panel</h2>
{_metric_tables(dashboard, scorecard)}
{_spike_table(dashboard)}
<h2>Run</h2>
<table>{_rows(_run_summary(scenario, manifest))}</table>
<h2>Key settings</h2>
<table>{_rows(key_settings(scenario))}</table>
</body></html>
"""
