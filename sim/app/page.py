"""The app's web page: Mesa's SolaraViz around `TwinMarkets`, served by `plumbing app`.

The sidebar holds Mesa's controls (Reset, Play, Step; the play and render intervals) and
the levers; a moved lever applies on Reset, which rebuilds both markets from the levers.
The main area holds the readout (headline numbers of both markets so far, and their
difference) and the dashboard panels, each market drawn over its twin, redrawn as the
markets step. Served with `solara run sim.app.page` (what `plumbing app` starts).
"""

from __future__ import annotations

import html
from typing import Any

import solara
from mesa.visualization import SolaraViz

from sim.app.panels import PANELS
from sim.app.twin import PURCHASE_TYPES, Levers, Reading, TwinMarkets, readout, shipped_shocks

TITLE = "plumbing: a change to the Treasury market beside the same market without it"
PLAY_INTERVAL_MS = 150
DAYS_PER_RENDER = 5
PNG_DPI = 72


def model_params() -> dict[str, Any]:
    """The levers as SolaraViz inputs, each starting at the baseline's setting (the twin's)."""
    base = Levers.baseline()
    return {
        "purchases_bn_per_month": {"type": "SliderFloat", "label": "Fed purchases ($bn/month)",
                                   "value": base.purchases_bn_per_month, "min": 0.0, "max": 120.0, "step": 10.0},
        "purchase_type": {"type": "Select", "label": "Purchases of", "value": base.purchase_type,
                          "values": list(PURCHASE_TYPES)},
        "opening_reserves_bn": {"type": "SliderFloat", "label": "Banks' opening reserves ($bn)",
                                "value": base.opening_reserves_bn, "min": 1500.0, "max": 4500.0, "step": 100.0},
        "exempt_reserves_from_slr": {"type": "Checkbox", "label": "Reserves exempt from the SLR",
                                     "value": base.exempt_reserves_from_slr},
        "exempt_treasuries_from_slr": {"type": "Checkbox", "label": "Treasuries exempt from the SLR",
                                       "value": base.exempt_treasuries_from_slr},
        "central_clearing": {"type": "Checkbox", "label": "Central clearing of cash and repo",
                             "value": base.central_clearing},
        "srf_enabled": {"type": "Checkbox", "label": "Standing Repo Facility open", "value": base.srf_enabled},
        "shock": {"type": "Select", "label": "Shock (from the shipped scenarios)", "value": base.shock,
                  "values": list(shipped_shocks())},
        "seed": {"type": "SliderInt", "label": "Seed (both markets)", "value": 0, "min": 0, "max": 20, "step": 1},
    }  # fmt: skip


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    return f"{value:,.1f}" if unit == "$bn" else f"{value:.2f}" if unit == "bp" else f"{value:.3f}"


def _signed(value: float | None, unit: str) -> str:
    text = _number(value, unit)
    return text if value is None or text.startswith("-") or not value else "+" + text


def readout_html(readings: list[Reading]) -> str:
    """The readout as an HTML table; each number cell names its reading and side (`data-key`, `data-side`)."""
    rows = []
    for r in readings:
        cells = [("changed", _number(r.changed, r.unit)), ("twin", _number(r.twin, r.unit)),
                 ("difference", _signed(r.difference, r.unit))]  # fmt: skip
        rows.append(f"<tr><td>{html.escape(r.label)}</td>" + "".join(
            f"<td data-key='{r.key}' data-side='{side}' style='text-align:right'>{text}</td>" for side, text in cells
        ) + "</tr>")  # fmt: skip
    header = "<tr><th></th><th>with the change</th><th>without (twin)</th><th>difference</th></tr>"
    style = "font-size: 0.8em; line-height: 1.15; border-spacing: 0.6em 0.1em"
    return f"<table class='plumbing-readout' style='{style}'>{header}{''.join(rows)}</table>"


def status_html(model: TwinMarkets) -> str:
    """Where the markets stand (date, days done) and what the change is, as HTML (plain text: no Markdown formulas)."""
    total = len(model.changed.calendar) - model.changed.first_recorded_day
    return (
        f"<p style='font-size: 0.85em'><b>{model.date:%Y-%m-%d}</b>, day {model.days_recorded} of {total}. "
        f"<b>The change:</b> {html.escape(model.levers.describe())}. Move a lever, then Reset to rebuild both "
        "markets; Step advances the render interval's business days.</p>"
    )


def Readout(model: TwinMarkets) -> solara.Element:
    """Where the markets stand and what the change has done so far."""
    changed, twin = model.tables()
    with solara.Column() as column:
        solara.HTML(tag="div", unsafe_innerHTML=status_html(model))
        solara.HTML(tag="div", unsafe_innerHTML=readout_html(readout(changed, twin)))
    return column


def _panel(name: str):
    draw = PANELS[name]

    def Panel(model: TwinMarkets) -> solara.Element:
        changed, twin = model.tables()
        return solara.FigureMatplotlib(draw(changed, twin), format="png", dpi=PNG_DPI)

    Panel.__name__ = f"Panel_{name.replace(' ', '_')}"
    return Panel


COMPONENTS = [(Readout, 0), *((_panel(name), 0) for name in PANELS)]


@solara.component
def Page() -> None:
    """One page per browser session, with its own pair of markets."""
    model = solara.use_memo(lambda: TwinMarkets(**{k: v["value"] for k, v in model_params().items()}), [])
    SolaraViz(model, components=COMPONENTS, model_params=model_params(), name=TITLE,
              play_interval=PLAY_INTERVAL_MS, render_interval=DAYS_PER_RENDER)  # fmt: skip
