"""The app's model side, without the web stack: the levers become a scenario, the changed market and its
twin step in lockstep from the same seed, the readout and panels follow them, and `plumbing app` without
the `app` extra exits 2 saying how to install it."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from matplotlib.figure import Figure

from sim import TreasuryMarketModel
from sim.app.panels import PANELS
from sim.app.twin import COUPON_TENORS, NO_SHOCK, Levers, TwinMarkets, base_scenario, readout, shipped_shocks
from sim.cli import main
from sim.scenario import ScenarioError, load_scenario
from sim.scenario.catalog import shipped_scenarios

DAYS = 8


@pytest.fixture(scope="module")
def purchases() -> TwinMarkets:
    """$40bn/month of bill purchases beside the baseline, DAYS business days in."""
    model = TwinMarkets(purchases_bn_per_month=40.0, seed=2)
    for _ in range(DAYS):
        model.step()
    return model


def test_the_baseline_levers_change_nothing():
    base = Levers.baseline()
    assert base.describe() == "no change"
    scenario, shipped = base.scenario(), base_scenario()
    for section in ("central_bank", "dealers", "banks", "market_structure", "shocks", "repo", "settlement"):
        assert getattr(scenario, section) == getattr(shipped, section), section


def test_each_lever_sets_its_scenario_key():
    levers = Levers(
        purchases_bn_per_month=60.0, purchase_type="coupons (2-10y)", opening_reserves_bn=2100.0,
        exempt_reserves_from_slr=True, exempt_treasuries_from_slr=True, central_clearing=True, srf_enabled=False,
        shock=next(label for label in shipped_shocks() if label.startswith("volatility jump")),
    )  # fmt: skip
    scenario = levers.scenario()
    program = scenario.central_bank.purchases[-1]
    assert program.bn_per_month == 60.0 and list(program.tenors) == COUPON_TENORS
    assert scenario.banks.reserves_bn == 2100.0
    assert scenario.dealers.exempt_reserves_from_slr and scenario.dealers.exempt_treasuries_from_slr
    assert scenario.market_structure.central_clearing_cash and scenario.market_structure.central_clearing_repo
    assert not scenario.central_bank.srf.enabled
    assert [s.kind for s in scenario.shocks] == ["volatility_jump"]
    for words in ("$60bn/month of coupons (2-10y) purchases", "opening reserves $2,100bn", "the SRF closed",
                  "reserves exempt from the SLR", "central clearing", "shock: volatility jump"):  # fmt: skip
        assert words in levers.describe()


def test_a_lever_outside_the_schema_is_refused():
    bad = Levers(**{**Levers.baseline().__dict__, "opening_reserves_bn": -5.0})
    with pytest.raises(ScenarioError):
        bad.scenario()


def test_the_shock_list_holds_every_shipped_shock():
    options = shipped_shocks()
    assert next(iter(options)) == NO_SHOCK and options[NO_SHOCK] == ()
    shipped = [(s.name, shock) for s in shipped_scenarios() for shock in load_scenario(s.path).shocks]
    assert len(shipped) >= 5
    singles = [shocks[0] for label, shocks in options.items() if len(shocks) == 1]
    for name, shock in shipped:
        assert shock.model_dump(mode="json") in singles, f"{name}: {shock.kind} is not offered"
        assert any(f"[{name}]" in label for label in options)


def test_the_twin_is_the_baseline_market_itself(purchases):
    """Same seed, baseline settings: the twin's days are those of a plain baseline run."""
    plain = TreasuryMarketModel(base_scenario(), seed=2)
    while plain.day_index < purchases.twin.day_index:
        plain.step()
    pd.testing.assert_frame_equal(purchases.tables()[1]["daily"], plain.results()["daily"])


def test_both_markets_step_in_lockstep_and_the_change_shows(purchases):
    changed, twin = purchases.tables()
    assert purchases.days_recorded == DAYS == len(changed["daily"]) == len(twin["daily"])
    assert list(changed["daily"]["date"]) == list(twin["daily"]["date"])
    readings = {r.key: r for r in readout(changed, twin)}
    # About $1.9bn a business day of purchases in one market, none in the other.
    bought = readings["purchases_to_date_bn"]
    assert bought.twin == 0.0 and bought.changed == pytest.approx(40.0 / 21 * DAYS, rel=0.05)
    assert readings["reserves_last_bn"].difference > 0
    before = purchases.date
    purchases.step()
    assert purchases.date > before and purchases.days_recorded == DAYS + 1
    assert len(purchases.tables()[0]["daily"]) == DAYS + 1  # the cached tables follow the step


def test_the_readout_is_empty_before_the_first_day():
    model = TwinMarkets()
    assert model.days_recorded == 0 and model.running
    assert all(r.changed is None and r.twin is None and r.difference is None for r in readout(*model.tables()))
    for draw in PANELS.values():  # every panel says how to start instead of failing
        figure = draw(*model.tables())
        assert any("no day simulated yet" in text.get_text() for ax in figure.axes for text in ax.texts)
        figure.savefig(io.BytesIO(), format="png", dpi=50)


@pytest.mark.parametrize("name", list(PANELS))
def test_each_panel_draws_both_markets(purchases, name):
    figure = PANELS[name](*purchases.tables())
    assert isinstance(figure, Figure)
    labels = {artist.get_label() for ax in figure.axes for artist in [*ax.lines, *ax.collections]}
    assert any("with the change" in label for label in labels) and any("twin" in label for label in labels)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=50)
    assert buffer.getvalue()[:4] == b"\x89PNG"


def test_app_without_the_extra_exits_2_saying_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr("sim.cli.APP_MODULES", ("solara_not_installed_here",))
    assert main(["app", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "app" in err and 'pip install -c requirements.lock -e ".[app]"' in err


def test_the_model_does_not_need_the_web_stack():
    import subprocess
    import sys

    # Importing the simulator, the app's model side and the CLI loads neither Solara nor Mesa's visualization.
    code = (
        "import sys, sim.cli, sim.model, sim.app.twin, sim.app.panels; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'solara' or m.startswith('mesa.visualization')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
