"""Values at the ends of the schema's ranges: refused when the arithmetic cannot carry them,
run finite when it can.

The schema's bounds (`sim.scenario.bounds`) are checked key by key here; the property tests
in `tests/test_accounting.py` run whole scenarios drawn across every range, and the
bad-input corpus (`tests/test_bad_inputs.py`) checks that the command line reports a value
out of its bounds at its file and key.
"""

from __future__ import annotations

import datetime as dt
import warnings

import numpy as np
import pytest
from pydantic import BaseModel

from sim import TreasuryMarketModel
from sim.issue_stock import opening_overdraw
from sim.markets.settlement import specialness_bp
from sim.pricing import VOL_RATIO_CAP, YieldCurve
from sim.scenario import ScenarioError, schema
from sim.scenario.bounds import SMALLEST_AMOUNT_BN, zero_or_at_least
from tests.conftest import make_scenario, run_checked
from tests.strategies import HOLDINGS_CAP_BN, OUTLAY_SHARES, SHOCK_MODELS, bounds


def _numeric_fields(model: type[BaseModel], prefix: str = ""):
    """(dotted path, field, model) of every number in the scenario, list items as `path[]`."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _numeric_fields(annotation, f"{path}.")
        elif annotation in (int, float):
            yield path, field, model
    if model is schema.Scenario:
        for path, item in (
            ("policy.path[].", schema.PolicyRateChange),
            ("treasury.tga_target_path[].", schema.TgaTarget),
            ("central_bank.purchases[].", schema.PurchaseProgram),
            ("central_bank.runoff_caps[].", schema.RunoffCap),
            *((f"shocks[{kind}].", shock) for kind, shock in SHOCK_MODELS.items()),
        ):
            yield from _numeric_fields(item, path)


NUMBERS = list(_numeric_fields(schema.Scenario))
AMOUNTS = [(path, field, model) for path, field, model in NUMBERS if zero_or_at_least(field.metadata) is not None]


def test_every_number_has_a_finite_range():
    assert len(NUMBERS) > 200  # the walk reached every section and list item
    for path, field, _ in NUMBERS:
        low, high, _, _ = bounds(field)
        assert np.isfinite([low, high]).all() and low < high, path


def test_amounts_that_may_be_zero_are_zero_or_at_least_a_thousand_dollars():
    """Every `_bn` amount whose range starts at zero keeps the rule; none of them is left out."""
    zero_based = {
        path
        for path, field, _ in NUMBERS
        if ("_bn" in path or path.endswith("bn_per_month")) and bounds(field)[0] == 0 and not bounds(field)[2]
    }
    assert {path for path, _, _ in AMOUNTS} == zero_based
    assert len(AMOUNTS) == 41
    for path, _, model in AMOUNTS:
        name = path.rsplit(".", 1)[-1]
        others = {k: v for k, v in _required(model).items() if k != name}
        assert model.model_validate({**others, name: 0.0}), path
        assert getattr(model.model_validate({**others, name: SMALLEST_AMOUNT_BN}), name) == SMALLEST_AMOUNT_BN
        for tiny in (SMALLEST_AMOUNT_BN / 2, 1e-300, 5e-324):
            with pytest.raises(ValueError, match=r"0 or a number >= 1e-06"):
                model.model_validate({**others, name: tiny})


def _required(model: type[BaseModel]) -> dict[str, object]:
    """Values for a list item's required keys, so one key can be tried alone."""
    values: dict[str, object] = {}
    for name, field in model.model_fields.items():
        if field.is_required():
            values[name] = dt.date(2025, 3, 3) if field.annotation is dt.date else 1.0
    if "kind" in model.model_fields:
        values["kind"] = model.model_fields["kind"].annotation.__args__[0]  # type: ignore[union-attr]
    return values


# key path -> (the smallest value the schema takes, a value just below it that used to break the model)
SCALES = {
    "levered_funds.haircut_pct": (0.01, 2e-308),
    "curve.term_premium_shape_years": (0.1, 5e-324),
    "curve.level_vol_calm_bp": (0.01, 1e-300),
    "curve.level_vol_risk_off_bp": (0.01, 1e-300),
    "dealers.slr_min_pct": (0.1, 5e-324),
    "dealers.initial_utilization": (0.01, 5e-324),
    "dealers.initial_risk_utilization": (0.01, 5e-324),
    "dealers.var_z": (0.1, 5e-324),
    "dealers.half_spread_bp": (0.01, 5e-324),
    "dealers.appetite_floor": (0.01, 5e-324),
    "dealers.equity_bn": (SMALLEST_AMOUNT_BN, 1e-300),
    "dealers.depth_bn": (SMALLEST_AMOUNT_BN, 1e-300),
    "levered_funds.capital_bn": (SMALLEST_AMOUNT_BN, 1e-300),
    "levered_funds.financing_cost_tolerance_bp": (0.01, 1e-308),
    "money_funds.assets_bn": (SMALLEST_AMOUNT_BN, 1e-300),
    "banks.lowest_comfortable_reserves_bn": (SMALLEST_AMOUNT_BN, 5e-324),
}


def _nested(path: str, value: float) -> dict:
    out: dict = {}
    node = out
    *sections, name = path.split(".")
    for section in sections:
        node = node.setdefault(section, {})
    node[name] = value
    return out


@pytest.mark.parametrize("path", sorted(SCALES))
def test_scales_stop_short_of_zero(path):
    smallest, below = SCALES[path]
    with pytest.raises(ScenarioError) as caught:
        make_scenario(_nested(path, below))
    (problem,) = caught.value.problems
    assert problem.key_path == path and "greater than or equal to" in problem.expected
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run_checked(make_scenario(_nested(path, smallest), end_date=dt.date(2025, 1, 14)), seed=1)


def test_haircuts_stop_short_of_everything():
    """At a 100% haircut lenders lend nothing against the collateral: the opening's client
    collateral (repo lent / (1 - haircut)) has no value."""
    with pytest.raises(ScenarioError, match="levered_funds.haircut_pct"):
        make_scenario({"levered_funds": {"haircut_pct": 100.0}})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run_checked(make_scenario({"levered_funds": {"haircut_pct": 99.0}}, end_date=dt.date(2025, 1, 14)), seed=1)


@pytest.mark.parametrize("kind", ["volatility_jump", "settlement_disruption", "haircut_jump"])
def test_shock_multipliers_stop_short_of_zero(kind):
    shock = {"kind": kind, "date": dt.date(2025, 1, 6), "days": 3}
    with pytest.raises(ScenarioError) as caught:
        make_scenario({"shocks": [{**shock, "multiplier": 1e-300}]})
    assert [p.key_path for p in caught.value.problems] == ["shocks[0].multiplier"]
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        run_checked(make_scenario({"shocks": [{**shock, "multiplier": 0.01}]}, end_date=dt.date(2025, 1, 14)), seed=1)


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_vanishing_lendable_supply_presses_fully_without_overflow():
    special = specialness_bp(np.array([100.0, 0.0, 1.0]), np.array([5e-324, 5e-324, 4.0]), 300.0, 2.0)
    np.testing.assert_allclose(special, [300.0, 0.0, 300.0 / 16])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_bill_steered_to_a_vanishing_size_is_not_auctioned():
    """A bill's floor at a share of 5e-324 of its base would offer ~1e-323 $bn, which tenders
    split among bidders cannot price (its yields were NaN and spread into the books)."""
    scenario = make_scenario(
        {"treasury": {"sizes": {"bills_13w_bn": 5.5}, "bill_size_min_share": 5e-324, "cmb_buffer_bn": 2000}},
        end_date=dt.date(2025, 1, 14),
    )
    auctions = run_checked(scenario, seed=1).results()["auctions"]
    assert (auctions.offering_bn >= SMALLEST_AMOUNT_BN).all()
    assert np.isfinite(auctions.high_yield_pct).all()


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_coupons_are_at_least_an_eighth_when_yields_are_negative():
    """The opening stock's coupons follow the curve down, but not below Treasury's 1/8%: a
    negative coupon made prices negative and dealers' funding capacity with them."""
    scenario = make_scenario(
        {
            "policy": {"target_upper_pct": 0.0},
            "curve": {"term_premium_10y_bp": -300},
            "dealers": {"inventory_bn": 1e-6},
        },
        end_date=dt.date(2025, 1, 31),
    )
    model = run_checked(scenario, seed=1)
    coupons = model.issues.coupon_pct[model.issues.active & ~model.issues.is_bill]
    assert coupons.min() == 0.125
    assert (model.ledger.price[model.issues.active] > 0).all()


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_vanishing_value_buying_is_not_scaled_by_an_overflowing_ratio():
    """Real money buying a few 1e-324 $bn of dealers' excess is within any budget."""
    scenario = make_scenario(
        {"real_money": {"premium_buying_per_bp": 5e-324, "rebalancing_noise_bn": 0.0}}, end_date=dt.date(2025, 1, 14)
    )
    run_checked(scenario, seed=1)


# The balances that fill the opening's issues: at their largest they outrun what even the
# largest auction sizes leave outstanding, and the opening refuses the scenario.
OPENING_HOLDINGS = {
    *HOLDINGS_CAP_BN,
    ("money_funds", "assets_bn"),
    ("money_funds", "bills_share"),
    ("money_funds", "max_share_of_bills_outstanding"),
    ("central_bank", "soma_bills_share"),
    ("dealers", "inventory_bills_share"),
}


def corner(model: type[BaseModel], end: str, where: tuple[str, ...] = ()) -> dict:
    """Every number of `model` at one end of its range: "lowest" (amounts at their smallest
    non-zero value), "zero" (amounts at zero, the rest lowest) or "highest" (opening holdings
    left at their defaults). Populations stay small so the run is quick."""
    out: dict = {}
    for name, field in model.model_fields.items():
        key = (*where, name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out[name] = corner(field.annotation, end, key)
            continue
        if (
            field.annotation not in (int, float)
            or name in OUTLAY_SHARES
            or (end == "highest" and key in OPENING_HOLDINGS)
        ):
            continue
        low, high, exclude_low, exclude_high = bounds(field)
        high = min(high, 50) if name == "count" else high
        if field.annotation is int:
            out[name] = int(high) - exclude_high if end == "highest" else int(low) + exclude_low
        elif end == "highest":
            out[name] = float(np.nextafter(high, -np.inf)) if exclude_high else high
        else:
            smallest = zero_or_at_least(field.metadata)
            lowest = float(np.nextafter(low, np.inf)) if exclude_low else low
            out[name] = lowest if smallest is None else (0.0 if end == "zero" else smallest)
    return out


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("end", ["lowest", "zero", "highest"])
def test_every_number_at_one_end_of_its_range_at_once(end):
    data = corner(schema.Scenario, end)
    data.pop("warmup_business_days")
    model = run_checked(make_scenario(data, end_date=dt.date(2025, 1, 14)), seed=1)
    for name, table in model.results().items():
        numeric = table.select_dtypes(include=[np.number])
        assert np.isfinite(numeric.to_numpy(dtype=float)).all(), f"non-finite value in the {name} table"


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_window_dressers_cutting_all_their_room_at_a_quarter_end():
    """A shrink share of one leaves window-dressers a sliver of room on the snapshot day, so
    their utilization is very high, not a division by zero."""
    dressers = {"window_dresser_share": 1.0, "quarter_end_shrink_share": 1.0, "bank_affiliated_share": 1.0}
    scenario = make_scenario({"dealers": dressers}, start_date=dt.date(2025, 3, 27), end_date=dt.date(2025, 4, 3))
    dealers = run_checked(scenario, seed=1).results()["dealers"]
    assert np.isfinite(dealers.select_dtypes(include=[np.number]).to_numpy(dtype=float)).all()


def test_behaviour_reads_the_volatility_ratio_at_most_a_hundred():
    curve = YieldCurve(schema.CurveSection(level_vol_calm_bp=0.01))
    curve.realised_vol_bp = 5000.0  # 500,000 times calm
    assert curve.vol_ratio == VOL_RATIO_CAP == 100.0
    curve.realised_vol_bp = 0.5
    assert curve.vol_ratio == 50.0


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_negative_hurdle_in_extreme_volatility_keeps_the_books_exact():
    """Banks' hurdle scales with the volatility ratio to its elasticity: at -50bp, a ratio in
    the tens of thousands and an elasticity of ten, repo traded at -1e14 % and the books broke."""
    with pytest.raises(ScenarioError, match="banks.hurdle_vol_elasticity"):
        make_scenario({"banks": {"hurdle_vol_elasticity": 10}})
    stress = {"kind": "volatility_jump", "date": dt.date(2025, 1, 6), "days": 20, "multiplier": 50}
    scenario = make_scenario(
        {
            "curve": {"level_vol_calm_bp": 0.01, "level_vol_risk_off_bp": 100, "vol_ewma_decay": 5e-324},
            "banks": {"lending_hurdle_bp": -50, "hurdle_vol_elasticity": 2},
            "shocks": [stress, {"kind": "risk_off", "date": dt.date(2025, 1, 6), "days": 20}],
        },
        end_date=dt.date(2025, 1, 31),
    )
    model = run_checked(scenario, seed=1)
    assert model.curve.vol_ratio == VOL_RATIO_CAP
    daily = model.results()["daily"]
    assert (daily.sofr_p1_pct > -50 * VOL_RATIO_CAP**2 / 100 - 100).all()


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ({"central_bank": {"soma_treasuries_bn": 50000}}, "central_bank.soma_treasuries_bn"),
        (
            {"foreign_official": {"bills_share": 1.0}, "money_funds": {"max_share_of_bills_outstanding": 1.0}},
            "foreign_official.holdings_bn",
        ),  # fmt: skip
        ({"levered_funds": {"positions_bn": 12000}}, "levered_funds.positions_bn"),
    ],
)
def test_validation_refuses_what_the_opening_cannot_hold(override, key):
    """Every number in range, but together more than the sizes leave outstanding of an issue:
    refused when the scenario is validated, at the key of the class holding most of it, and
    for the same reason the opening itself would refuse it."""
    with pytest.raises(ScenarioError) as caught:
        make_scenario(override)
    (problem,) = caught.value.problems
    assert problem.key_path == key and "opening holdings within every issue's outstanding" in problem.expected
    unvalidated = schema.Scenario.model_validate(override)
    with pytest.raises(ValueError, match="opening holdings exceed the outstanding"):
        TreasuryMarketModel(unvalidated, seed=1)
    assert opening_overdraw(schema.Scenario()) is None


def test_overdrawn_money_funds_lend_nothing_rather_than_a_negative_amount():
    """Tiny funds bidding twice their share at bill auctions are overdrawn when the bills settle;
    a negative limit per dealer had them lend negative cash no dealer borrowed."""
    scenario = make_scenario(
        {"money_funds": {"assets_bn": 1e-6, "bill_auction_share": 2}, "curve": {"level_vol_calm_bp": 0.01}},
        {"central_bank": {"on_rrp_start_bn": 529.0}, "dealers": {"inventory_bn": 0.0}},
        start_date=dt.date(2025, 3, 24),
        end_date=dt.date(2025, 4, 7),
    )
    model = run_checked(scenario, seed=381)
    assert model.money_funds.dealer_limit_bn(-5.0, 0.0) == 0.0


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_a_vanishing_holding_sold_in_full_does_not_overflow():
    """Foreign officials holding a few 1e-313 $bn of bills sell their bucket share in risk-off:
    sales beyond a holding deliver all of it, without dividing by the holding. (The example a
    property test found, shrunk: a small market of bills and one bond, all flows off.)"""
    sizes = {name: 0.0 for name in schema.IssuanceSizes.model_fields}
    sizes |= {"bills_4w_bn": 63.0, "bills_13w_bn": 298.0, "bills_52w_bn": 1.0, "bonds_30y_reopen_bn": 77.0}
    sizes |= {"bonds_20y_new_bn": 16.0, "bonds_20y_reopen_bn": 13.0}
    scenario = make_scenario(
        {
            "curve": {"p_calm_to_risk_off": 1.0},
            "treasury": {"daily_outlays_bn": 0.0, "daily_receipts_bn": 0.0, "sizes": sizes},
            "central_bank": {"soma_treasuries_bn": 0.0},
            "dealers": {"inventory_bn": 0.0, "depth_bn": 14.0},
            "real_money": {"cash_bn": 0.0, "rebalancing_noise_bn": 0.0, "auction_cash_budget_share": 0.0},
            "foreign_official": {"holdings_bn": 2.0, "selling_in_risk_off_bn": 1.0, "bills_share": 2.2250738585e-313},
            "levered_funds": {"positions_bn": 0.0, "capital_bn": 81.0, "haircut_pct": 1.0},
            "money_funds": {"mortgage_cycle_bn": 0.0, "max_share_of_bills_outstanding": 0.0},
            "market_structure": {"all_to_all_share": 0.875},
            "loop": {"utilization_drives_quotes": False},
        },
        {
            "treasury": {"outlays_to_real_money_share": 0.0, "outlays_to_money_funds_share": 0.0},
            "real_money": {"secondary_cash_budget_share": 0.25},
            "levered_funds": {"target_leverage_use": 0.75, "adjustment_per_day": 0.75},
            "money_funds": {"bill_cash_budget_share": 0.0},
        },
        {"treasury": {"outlays_to_foreign_official_share": 1.0}},
        start_date=dt.date(2025, 12, 22),
        end_date=dt.date(2025, 12, 29),
    )
    run_checked(scenario, seed=0)
