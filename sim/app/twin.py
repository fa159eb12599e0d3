"""A market with the user's levers and its twin without them, stepped day by day in lockstep.

The app's question is the README's: does a change (purchases, more reserves, an SLR
exemption, central clearing, the SRF, a shock) make the market work better, or only fill
the reservoir? Both markets start from the shipped baseline (`scenarios/baseline.yaml`)
with the same seed, so they draw the same random numbers (common random numbers) and any
difference between them is the change's doing. `TwinMarkets` is a Mesa model whose keyword
arguments are the levers, so Mesa's SolaraViz can rebuild it on Reset.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np
import pandas as pd

from sim.dashboard.metrics import FAILS_WEEKLY_COLUMN, high_minus_median_bp, repo_dispersion_bp, weekly_fails
from sim.model import TreasuryMarketModel
from sim.scenario import Scenario, load_scenario, scenario_from_dict
from sim.scenario.catalog import scenarios_dir, shipped_scenarios

BASE_SCENARIO = "baseline.yaml"
BILL_TENORS = ["4w", "8w", "13w", "26w", "52w"]
COUPON_TENORS = ["2y", "3y", "5y", "7y", "10y"]
PURCHASE_TYPES = {"bills": BILL_TENORS, "coupons (2-10y)": COUPON_TENORS}
NO_SHOCK = "none"


@functools.cache
def base_scenario() -> Scenario:
    """The shipped baseline both markets start from (read once)."""
    return load_scenario(scenarios_dir() / BASE_SCENARIO)


def _shock_label(shock: Any, source: str) -> str:
    params = shock.model_dump(exclude={"kind", "date", "days"})
    detail = ", ".join(f"{key} {value:g}" if isinstance(value, float) else f"{key} {value}"
                       for key, value in params.items())  # fmt: skip
    what = f"{shock.kind.replace('_', ' ')}" + (f" ({detail})" if detail else "")
    return f"{what} from {shock.date} for {shock.days} days [{source}]"


@functools.cache
def shipped_shocks() -> dict[str, tuple[dict[str, Any], ...]]:
    """The shocks of the shipped scenarios, each alone and each scenario's set together: label -> shocks.

    The first entry is "none". A scenario's set is only its shocks, not its other settings
    (auction indigestion's fuller dealer balance sheets, for one, stay as in the baseline).
    """
    options: dict[str, tuple[dict[str, Any], ...]] = {NO_SHOCK: ()}
    for shipped in shipped_scenarios():
        if not shipped.valid:
            continue
        shocks = load_scenario(shipped.path).shocks
        if len(shocks) > 1:
            options[f"all {len(shocks)} shocks of {shipped.name}"] = tuple(s.model_dump(mode="json") for s in shocks)
        for shock in shocks:
            options.setdefault(_shock_label(shock, shipped.name), (shock.model_dump(mode="json"),))
    return options


@dataclass(frozen=True)
class Levers:
    """The settings a user moves, in the scenario's units.

    Attributes:
        purchases_bn_per_month: Fed purchases ($bn per month; 0 = none).
        purchase_type: "bills" or "coupons (2-10y)" (keys of PURCHASE_TYPES).
        opening_reserves_bn: banks' reserves at the start ($bn; `banks.reserves_bn`).
        exempt_reserves_from_slr: reserves left out of dealers' leverage exposure.
        exempt_treasuries_from_slr: Treasuries left out of dealers' leverage exposure.
        central_clearing: cash Treasuries and repo centrally cleared.
        srf_enabled: the Standing Repo Facility open to dealers.
        shock: a label of `shipped_shocks()` ("none" for no shock).
    """

    purchases_bn_per_month: float
    purchase_type: str
    opening_reserves_bn: float
    exempt_reserves_from_slr: bool
    exempt_treasuries_from_slr: bool
    central_clearing: bool
    srf_enabled: bool
    shock: str

    @classmethod
    def baseline(cls) -> Levers:
        """The levers as the shipped baseline sets them: the twin's settings."""
        base = base_scenario()
        structure = base.market_structure
        return cls(
            purchases_bn_per_month=0.0,
            purchase_type="bills",
            opening_reserves_bn=base.banks.reserves_bn,
            exempt_reserves_from_slr=base.dealers.exempt_reserves_from_slr,
            exempt_treasuries_from_slr=base.dealers.exempt_treasuries_from_slr,
            central_clearing=structure.central_clearing_cash and structure.central_clearing_repo,
            srf_enabled=base.central_bank.srf.enabled,
            shock=NO_SHOCK,
        )

    def scenario(self) -> Scenario:
        """The baseline with these levers applied (validated like a scenario file).

        Raises:
            ScenarioError: a lever outside the schema's range.
            KeyError: an unknown purchase type or shock label.
        """
        data = base_scenario().model_dump(mode="json")
        cb, dealers, structure = data["central_bank"], data["dealers"], data["market_structure"]
        name = "app"
        if self.purchases_bn_per_month > 0:
            tenors = PURCHASE_TYPES[self.purchase_type]
            cb["purchases"] = [*cb["purchases"], {"bn_per_month": self.purchases_bn_per_month, "tenors": tenors}]
        data["banks"].update(reserves_bn=self.opening_reserves_bn, reserves_per_comfortable=None)
        dealers["exempt_reserves_from_slr"] = self.exempt_reserves_from_slr
        dealers["exempt_treasuries_from_slr"] = self.exempt_treasuries_from_slr
        structure["central_clearing_cash"] = structure["central_clearing_repo"] = self.central_clearing
        cb["srf"]["enabled"] = self.srf_enabled
        data["shocks"] = [*data["shocks"], *shipped_shocks()[self.shock]]
        data["name"] = name
        data["description"] = "The baseline with the app's levers: " + self.describe()
        return scenario_from_dict(data, source="plumbing app")

    def describe(self) -> str:
        """What differs from the baseline, in words ("no change" when nothing does)."""
        base = Levers.baseline()
        changes = []
        if self.purchases_bn_per_month != base.purchases_bn_per_month:
            changes.append(f"${self.purchases_bn_per_month:g}bn/month of {self.purchase_type} purchases")
        if self.opening_reserves_bn != base.opening_reserves_bn:
            changes.append(f"opening reserves ${self.opening_reserves_bn:,.0f}bn")
        words = {
            "exempt_reserves_from_slr": "reserves exempt from the SLR",
            "exempt_treasuries_from_slr": "Treasuries exempt from the SLR",
            "central_clearing": "central clearing of cash and repo",
            "srf_enabled": "the SRF open",
        }
        for key, text in words.items():
            mine, theirs = getattr(self, key), getattr(base, key)
            if mine != theirs:
                changes.append(text if mine else f"not {text}".replace("not the SRF open", "the SRF closed"))
        if self.shock != NO_SHOCK:
            changes.append(f"shock: {self.shock}")
        return "; ".join(changes) or "no change"


class TwinMarkets(mesa.Model):
    """Two Treasury markets stepped in lockstep: one with the user's levers, one with the baseline's.

    Every keyword argument is a lever (see `Levers`); SolaraViz's Reset rebuilds the model
    from them. Building runs both markets' warm-up (the baseline's unrecorded months), so
    the first step is the scenario's first recorded business day. One step is one business
    day of both markets; `running` turns False after the last day.

    Attributes:
        levers: the changed market's settings; `twin_levers` the twin's (the baseline's).
        changed: the market with the levers; `twin` the one without.
    """

    def __init__(
        self,
        purchases_bn_per_month: float = 0.0,
        purchase_type: str = "bills",
        opening_reserves_bn: float | None = None,
        exempt_reserves_from_slr: bool = False,
        exempt_treasuries_from_slr: bool = False,
        central_clearing: bool = False,
        srf_enabled: bool | None = None,
        shock: str = NO_SHOCK,
        seed: int = 0,
    ):
        super().__init__(rng=seed)
        base = Levers.baseline()
        self.levers = Levers(
            purchases_bn_per_month=float(purchases_bn_per_month),
            purchase_type=purchase_type,
            opening_reserves_bn=base.opening_reserves_bn if opening_reserves_bn is None else float(opening_reserves_bn),
            exempt_reserves_from_slr=bool(exempt_reserves_from_slr),
            exempt_treasuries_from_slr=bool(exempt_treasuries_from_slr),
            central_clearing=bool(central_clearing),
            srf_enabled=base.srf_enabled if srf_enabled is None else bool(srf_enabled),
            shock=shock,
        )
        self.twin_levers = base
        self.market_seed = int(seed)
        self.changed = _warmed_up(TreasuryMarketModel(self.levers.scenario(), seed=self.market_seed))
        self.twin = _warmed_up(TreasuryMarketModel(self.twin_levers.scenario(), seed=self.market_seed))
        self._tables: tuple[tuple[int, int], dict[str, pd.DataFrame], dict[str, pd.DataFrame]] | None = None

    def step(self) -> None:
        """One business day of both markets."""
        self.changed.step()
        self.twin.step()
        self.running = self.changed.running and self.twin.running

    @property
    def date(self) -> pd.Timestamp:
        """The last business day simulated (the warm-up's last day before the first step)."""
        return self.changed.date

    @property
    def days_recorded(self) -> int:
        """Business days recorded so far (from the scenario's start date)."""
        return self.changed.recorder.days_recorded

    def tables(self) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
        """The changed market's and the twin's output tables so far (daily, auctions, dealers).

        Built once per simulated day however many panels ask for them.
        """
        day = (self.changed.day_index, self.twin.day_index)
        if self._tables is None or self._tables[0] != day:
            self._tables = (day, self.changed.results(), self.twin.results())
        return self._tables[1], self._tables[2]


def _warmed_up(model: TreasuryMarketModel) -> TreasuryMarketModel:
    """The model stepped through its unrecorded warm-up days."""
    while model.running and model.day_index < model.first_recorded_day:
        model.step()
    return model


# ---------------------------------------------------------------- the readout
@dataclass(frozen=True)
class Reading:
    """One number of the readout for both markets.

    Attributes:
        key: a stable name (used by the page and its tests).
        label: what it is, with its unit.
        changed: the value in the market with the levers (None before any day is recorded).
        twin: the value in the twin.
        unit: "$bn", "bp", "share" or "ratio".
    """

    key: str
    label: str
    unit: str
    changed: float | None
    twin: float | None

    @property
    def difference(self) -> float | None:
        """Changed minus twin, in the unit."""
        return None if self.changed is None or self.twin is None else self.changed - self.twin


def _mean(values: pd.Series | None) -> float | None:
    if values is None:
        return None
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.mean()) if len(values) else None


def _last(values: pd.Series) -> float | None:
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.iloc[-1]) if len(values) else None


def _readings_of(tables: Mapping[str, pd.DataFrame]) -> dict[str, float | None]:
    """The readout's numbers of one market's tables so far."""
    daily, auctions = tables["daily"], tables["auctions"]
    if daily.empty:
        return {}
    fails = weekly_fails(daily)
    spread_bp = 100.0 * (daily["sofr_median_pct"] - daily["iorb_pct"])
    tails = high_minus_median_bp(auctions) if not auctions.empty else None
    return {
        "purchases_to_date_bn": float(np.nansum(daily["purchases_bn"])),
        "reserves_last_bn": _last(daily["reserves_bn"]),
        "sofr_minus_iorb_mean_bp": _mean(spread_bp),
        "sofr_dispersion_mean_bp": _mean(repo_dispersion_bp(daily)),
        "auction_tail_mean_bp": _mean(auctions["tail_bp"]) if not auctions.empty else None,
        "high_minus_median_mean_bp": _mean(tails),
        "fails_weekly_mean_bn": _mean(fails[FAILS_WEEKLY_COLUMN]) if not fails.empty else None,
        "bid_ask_mean_bp": _mean(daily["bid_ask_bp"]),
        "dealer_utilization_mean": _mean(daily["dealer_utilization"]),
        "customer_volume_mean_bn": _mean(daily["customer_volume_bn"]),
    }


READOUT: tuple[tuple[str, str, str], ...] = (
    ("purchases_to_date_bn", "Fed purchases to date ($bn)", "$bn"),
    ("reserves_last_bn", "Reserves, last day ($bn)", "$bn"),
    ("sofr_minus_iorb_mean_bp", "SOFR minus IORB, mean (bp)", "bp"),
    ("sofr_dispersion_mean_bp", "SOFR dispersion p99-p1, mean (bp)", "bp"),
    ("auction_tail_mean_bp", "Auction tail vs when-issued, mean (bp)", "bp"),
    ("high_minus_median_mean_bp", "Auction high minus median, mean (bp)", "bp"),
    ("fails_weekly_mean_bn", "Fails to deliver, weekly mean ($bn)", "$bn"),
    ("bid_ask_mean_bp", "Bid/ask, mean (bp)", "bp"),
    ("dealer_utilization_mean", "Dealer utilization, mean", "ratio"),
    ("customer_volume_mean_bn", "Customer volume, mean ($bn/day)", "$bn"),
)


def readout(changed: Mapping[str, pd.DataFrame], twin: Mapping[str, pd.DataFrame]) -> list[Reading]:
    """The headline numbers so far of the changed market and its twin, in READOUT order."""
    mine, theirs = _readings_of(changed), _readings_of(twin)
    return [Reading(key, label, unit, mine.get(key), theirs.get(key)) for key, label, unit in READOUT]
