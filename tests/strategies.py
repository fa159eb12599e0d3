"""Hypothesis strategies for scenarios anywhere in the schema's ranges.

Every number of every section is drawn from the range its schema field accepts, read from
the field itself (`ge`/`gt`/`le`/`lt` and the zero-or-at-least rule of amounts), so a
bound added to the schema is the bound drawn from. Populations are kept small except in
one example in twenty (a run of the schema's largest takes many seconds a day); opening
holdings are capped near what the issues outstanding can hold, and validation refuses the
rest (`valid_or_reject`).
"""

from __future__ import annotations

import datetime as dt
import typing
from typing import Any

from annotated_types import Ge, Gt, Le, Lt
from hypothesis import reject
from hypothesis import strategies as st
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sim.issue_stock import HOLDING_KEYS
from sim.scenario import Scenario, ScenarioError, schema
from sim.scenario.bounds import zero_or_at_least
from sim.scenario.schema import SHOCK_KINDS, TENORS
from tests.conftest import make_scenario

# First days drawn from: the year's start (a quarter-end in the warm-up), and a week or so
# before each quarter-end, the June tax date and the year-end, so snapshot days, tax receipts,
# month-end settlements and the year-end's window dressing fall inside short runs.
STARTS = (dt.date(2025, 1, 2), dt.date(2025, 3, 24), dt.date(2025, 6, 9), dt.date(2025, 9, 23), dt.date(2025, 12, 22))
# Holder classes and their population sections.
POPULATIONS = ("dealers", "real_money", "foreign_official", "levered_funds", "money_funds", "banks")
# Populations this share of their schema maximum, except in the large-population examples.
SMALL_POPULATION_SHARE = 0.1
# Opening holdings capped near what the default issues outstanding (~$31tn) can hold, so
# most draws open; validation refuses the rest (a located error) and they are rejected.
HOLDINGS_CAP_BN = {
    ("central_bank", "soma_treasuries_bn"): 20000.0,
    ("foreign_official", "holdings_bn"): 20000.0,
    ("levered_funds", "positions_bn"): 10000.0,
    ("dealers", "inventory_bn"): 5000.0,
}
OUTLAY_SHARES = ("outlays_to_real_money_share", "outlays_to_money_funds_share", "outlays_to_foreign_official_share")
SHOCK_MODELS: dict[str, type[BaseModel]] = {
    typing.get_args(model.model_fields["kind"].annotation)[0]: model
    for model in typing.get_args(typing.get_args(schema.Shock)[0])
}
assert set(SHOCK_MODELS) == set(SHOCK_KINDS)


def bounds(field: FieldInfo) -> tuple[float, float, bool, bool]:
    """A field's range: low, high, and whether each end is excluded."""
    low = high = None
    exclude_low = exclude_high = False
    for bound in field.metadata:
        if isinstance(bound, Ge):
            low = bound.ge
        elif isinstance(bound, Gt):
            low, exclude_low = bound.gt, True
        elif isinstance(bound, Le):
            high = bound.le
        elif isinstance(bound, Lt):
            high, exclude_high = bound.lt, True
    assert low is not None and high is not None, f"{field.description!r} has no range"
    return float(low), float(high), exclude_low, exclude_high


def in_range(field: FieldInfo, cap: float | None = None) -> st.SearchStrategy[Any]:
    """Any value the schema accepts for `field` (at most `cap`): its ends, the smallest values
    above zero it admits, and everything between."""
    low, high, exclude_low, exclude_high = bounds(field)
    if cap is not None and cap < high:
        high, exclude_high = cap, False
    if field.annotation is int:
        return st.integers(int(low) + exclude_low, int(high) - exclude_high)
    smallest = zero_or_at_least(field.metadata)
    if smallest is not None:
        return st.just(0.0) | st.floats(smallest, high, exclude_max=exclude_high)
    return st.floats(low, high, exclude_min=exclude_low, exclude_max=exclude_high)


def numbers(draw: st.DrawFn, model: type[BaseModel], where: tuple[str, ...] = ()) -> dict[str, Any]:
    """Every plain number and switch of a section (sections inside it are drawn separately)."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if field.annotation in (int, float):
            out[name] = draw(in_range(field, HOLDINGS_CAP_BN.get((*where, name))))
        elif field.annotation is bool:
            out[name] = draw(st.booleans())
    return out


@st.composite
def population(draw: st.DrawFn, key: str, large: bool) -> dict[str, Any]:
    model = schema.Scenario.model_fields[key].annotation
    assert isinstance(model, type) and issubclass(model, BaseModel)
    values = numbers(draw, model, (key,))
    most = int(bounds(model.model_fields["count"])[1])
    cap = most if large else max(int(most * SMALL_POPULATION_SHARE), 2)
    values["count"] = draw(in_range(model.model_fields["count"], cap))
    return values


@st.composite
def outlay_shares(draw: st.DrawFn) -> dict[str, float]:
    """Shares of the Treasury's outlays to investors: each in [0, 1], summing to one."""
    first = draw(st.floats(0.0, 1.0))
    second = draw(st.floats(0.0, 1.0 - first))
    return dict(zip(OUTLAY_SHARES, (first, second, max(1.0 - first - second, 0.0)), strict=True))


def day_within(draw: st.DrawFn, start: dt.date, days: int) -> dt.date:
    return start + dt.timedelta(days=draw(st.integers(0, days)))


@st.composite
def shock(draw: st.DrawFn, start: dt.date, horizon_days: int) -> dict[str, Any]:
    kind = draw(st.sampled_from(SHOCK_KINDS))
    model = SHOCK_MODELS[kind]
    values = {"kind": kind, "date": day_within(draw, start, horizon_days), "days": draw(st.integers(1, 20))}
    values |= {k: v for k, v in numbers(draw, model).items() if k != "days"}
    if "tenor" in model.model_fields:
        values["tenor"] = draw(st.sampled_from(("all", *TENORS)))
    return values


@st.composite
def dated_items(draw: st.DrawFn, model: type[BaseModel], start: dt.date, horizon_days: int) -> list[dict[str, Any]]:
    """Up to two changes (policy rate, TGA target, runoff cap) on distinct dates in the horizon."""
    dates = draw(st.lists(st.integers(0, horizon_days), max_size=2, unique=True))
    return [{"date": start + dt.timedelta(days=d), **numbers(draw, model)} for d in sorted(dates)]


@st.composite
def purchases(draw: st.DrawFn, start: dt.date, horizon_days: int) -> list[dict[str, Any]]:
    if not draw(st.booleans()):
        return []
    program = numbers(draw, schema.PurchaseProgram)
    first = day_within(draw, start, horizon_days)
    program |= {"start": first, "end": first + dt.timedelta(days=draw(st.integers(0, 120)))}
    program["tenors"] = draw(st.lists(st.sampled_from(TENORS), min_size=1, max_size=4))
    return [program]


@st.composite
def repo_operations(draw: st.DrawFn, start: dt.date, horizon_days: int) -> list[dict[str, Any]]:
    """None, or one overnight repo operation from a day in the horizon, open-ended or not."""
    if not draw(st.booleans()):
        return []
    first = day_within(draw, start, horizon_days)
    operation = numbers(draw, schema.RepoOperation) | {"start": first}
    if draw(st.booleans()):
        operation["end"] = first + dt.timedelta(days=draw(st.integers(0, 60)))
    return [operation]


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A scenario with every number drawn across its schema range, over a week to two months
    from one of `STARTS`."""
    # One example in twenty has populations up to the schema's largest, over a week:
    # larger runs would take minutes each.
    large = draw(st.sampled_from([False] * 19 + [True]))
    start = draw(st.sampled_from(STARTS))
    days = draw(st.integers(5, 7 if large else 60))
    data: dict[str, Any] = {key: draw(population(key, large)) for key in POPULATIONS}
    for key in ("curve", "repo", "settlement", "market_structure", "loop"):
        data[key] = numbers(draw, typing.cast(type[BaseModel], schema.Scenario.model_fields[key].annotation))
    data["policy"] = numbers(draw, schema.PolicySection)
    data["policy"]["path"] = draw(dated_items(schema.PolicyRateChange, start, days))
    treasury = numbers(draw, schema.TreasurySection, ("treasury",)) | draw(outlay_shares())
    treasury["sizes"] = numbers(draw, schema.IssuanceSizes)
    treasury["tga_target_path"] = draw(dated_items(schema.TgaTarget, start, days))
    data["treasury"] = treasury
    central_bank = numbers(draw, schema.CentralBankSection, ("central_bank",))
    central_bank["srf"] = numbers(draw, schema.StandingRepoFacility)
    central_bank["runoff_caps"] = draw(dated_items(schema.RunoffCap, start, days))
    central_bank["purchases"] = draw(purchases(start, days))
    central_bank["repo_operations"] = draw(repo_operations(start, days))
    data["central_bank"] = central_bank
    data["shocks"] = draw(st.lists(shock(start, days), max_size=3))
    data["warmup_business_days"] = draw(st.integers(0, 3))
    return valid_or_reject(data, start_date=start, end_date=start + dt.timedelta(days=days))


def valid_or_reject(data: dict[str, Any], **top: Any) -> Scenario:
    """The scenario, or a rejected example when its opening holdings outrun the issues its sizes
    leave outstanding (every number in range, but not together: validation refuses it)."""
    try:
        return make_scenario(data, **top)
    except ScenarioError as error:
        if all(problem.key_path in HOLDING_KEYS.values() for problem in error.problems):
            reject()
        raise
