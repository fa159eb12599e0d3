"""The run report answers first: the figure, then the verdict (what moved beyond the reference's noise and
what did not, by the scorecard's own rule), then every metric grouped by dashboard panel."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.dashboard import METRIC_SPECS, Dashboard, score
from sim.dashboard.scoring import GREEN_BELOW, TYPICAL_REL
from sim.dashboard.verdict import Verdict, format_change, index_noise, judge
from sim.report.html import report_html
from sim.scenario import Scenario

PNG = b"\x89PNG\r\n\x1a\nnot really a picture"
MANIFEST = {"seed": 4, "days": 60, "package_version": "0", "started_at_utc": "2026-01-01T00:00:00Z"}


RESERVES, TAILS, BID_ASKS = [3000.0, 3002.0, 2998.0, 3000.0], [2.0, 2.6, 1.4, 2.0], [1.0, 1.6, 0.4, 1.0]


def board(label: str, reserves: float, tail: float, bid_ask: float) -> Dashboard:
    """A dashboard with three metrics known (one of the reservoir, one of panel B, one of the pipe), the rest not."""
    metrics: dict[str, float | None] = dict.fromkeys(METRIC_SPECS)
    metrics |= {"reserves_mean_bn": reserves, "tail_mean_bp": tail, "bid_ask_mean_bp": bid_ask}
    return Dashboard(label, ("2025-01-02", "2025-03-31"), metrics)


@pytest.fixture
def ensemble() -> list[Dashboard]:
    rows = zip(RESERVES, TAILS, BID_ASKS, strict=True)
    return [board(f"baseline seed {i}", *values) for i, values in enumerate(rows)]


def names(findings) -> list[str]:
    return [f.name for f in findings]


def test_a_metric_beyond_noise_is_listed_as_moved_and_one_within_as_not(ensemble):
    # Reserves up $197bn against a spread of $1.6bn; tails up 0.10bp against a spread of 0.49bp.
    verdict = judge(board("purchases", 3197.0, 2.1, 1.0), ensemble)
    assert "reserves_mean_bn" in names(verdict.moved) and "reserves_mean_bn" not in names(verdict.unmoved)
    assert "tail_mean_bp" in names(verdict.unmoved) and "tail_mean_bp" not in names(verdict.moved)
    reserves_noise, tail_noise = float(np.std(RESERVES, ddof=1)), float(np.std(TAILS, ddof=1))
    text = "\n".join(verdict.lines())
    assert f"reserves +$197.0bn against noise ${reserves_noise:.1f}bn" in text
    assert f"auction tails +0.10bp against noise {tail_noise:.2f}bp" in text
    assert (
        verdict.summary()
        == f"1 of the {len(verdict.moved) + len(verdict.unmoved)} headline numbers moved beyond noise: reserves."
    )


@pytest.mark.parametrize("z", [0.99, 1.01, -0.99, -1.01])
def test_moved_is_the_scorecards_own_threshold(ensemble, z):
    """Beyond noise means |z| >= 1 of the scorecard, in either direction; nothing else decides."""
    tails = [m.metrics["tail_mean_bp"] for m in ensemble]
    noise = float(np.std(tails, ddof=1))
    judged = board("tails", 3000.0, float(np.mean(tails)) + z * noise, 1.0)
    verdict = judge(judged, ensemble)
    card = score(judged, ensemble)
    tail = next(s for s in card.scores if s.name == "tail_mean_bp")
    assert tail.z == pytest.approx(z)
    moved = abs(z) >= GREEN_BELOW
    assert ("tail_mean_bp" in names(verdict.moved)) is moved
    assert ("tail_mean_bp" in names(verdict.unmoved)) is not moved
    finding = next(f for f in verdict.moved + verdict.unmoved if f.name == "tail_mean_bp")
    assert finding.noise == pytest.approx(tail.scale) and finding.change == pytest.approx(z * noise)


def test_index_noise_is_the_spread_of_the_members_own_indices(ensemble):
    levels = index_noise(ensemble)
    # The only pipe metric is bid/ask: each member's throughput index is its own z against the ensemble.
    spread = float(np.std(BID_ASKS, ddof=1))
    own = [(value - np.mean(BID_ASKS)) / spread for value in BID_ASKS]
    mean, noise = levels["throughput_index"]
    assert mean == pytest.approx(0.0, abs=1e-12) and noise == pytest.approx(np.std(own, ddof=1))
    # Bid/ask two standard deviations wider: the throughput index moves beyond its noise.
    wider = judge(board("wider", 3000.0, 2.0, 1.0 + 2 * spread), ensemble)
    assert "throughput_index" in names(wider.moved)
    calm = judge(board("same", 3000.0, 2.0, 1.0), ensemble)
    assert "throughput_index" in names(calm.unmoved)
    assert "throughput index 0.00 against noise" in "\n".join(calm.lines())


def test_a_single_reference_uses_the_typical_variation(ensemble):
    # $197bn on $3,000bn is 6.6%, inside the typical 20% seed-to-seed variation of a single reference.
    verdict = judge(board("purchases", 3197.0, 2.0, 1.0), ensemble[0])
    assert verdict.members == 1 and "reserves_mean_bn" in names(verdict.unmoved)
    assert f"reserves +$197.0bn against noise ${TYPICAL_REL * 3000:,.1f}bn" in "\n".join(verdict.lines())
    assert "single reference" in verdict.noise_note()


def test_format_change_signs_and_units():
    assert format_change(197.04, "$bn") == "+$197.0bn"
    assert format_change(-2.3, "bp") == "-2.30bp"
    assert format_change(0.0, "$bn/day") == "$0.0bn/day"
    assert format_change(-0.049, "index") == "-0.05"


def report(verdict: Verdict | None, dashboard: Dashboard) -> str:
    scenario = Scenario().model_copy(update={"end_date": dt.date(2025, 3, 31)})
    return report_html(scenario, MANIFEST, dashboard, PNG, verdict)


def test_report_opens_with_the_figure_then_the_verdict_then_the_tables_by_panel(ensemble):
    judged = board("purchases", 3197.0, 2.1, 1.0)
    page = report(judge(judged, ensemble), judged)
    figure, moved, unmoved = page.index("<img"), page.index("<ul id='moved'>"), page.index("<ul id='unmoved'>")
    first_table = page.index("<table")
    assert figure < moved < unmoved < first_table
    moved_list = page[moved : page.index("</ul>", moved)]
    unmoved_list = page[unmoved : page.index("</ul>", unmoved)]
    assert "reserves +$197.0bn" in moved_list and "auction tails" not in moved_list
    assert "auction tails +0.10bp" in unmoved_list and "reserves" not in unmoved_list
    # Every metric after, one table per panel, in the dashboard's panel order.
    headings = [page.index(f"<h3>{title}</h3>") for title in ("A repo", "B auctions", "C fails", "Pipe (throughput)",
                                                                "Reservoir")]  # fmt: skip
    assert headings == sorted(headings) and headings[0] > unmoved
    reservoir_table = page[headings[-1] : page.index("</table>", headings[-1])]
    assert "Reserves, mean" in reservoir_table and "Bid/ask" not in reservoir_table
    assert "<th>Noise</th>" in page


def test_report_without_a_reference_says_so_in_one_line(ensemble):
    page = report(None, ensemble[0])
    assert page.index("<img") < page.index("No reference was given") < page.index("<table")
    line = next(line for line in page.splitlines() if "No reference was given" in line)
    assert line.startswith("<p class='verdict'>") and line.endswith("</p>")
    assert "Moved beyond noise" not in page and "<th>Noise</th>" not in page
