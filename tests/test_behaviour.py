"""Emergent behaviour, tested as directions over several seeds (common random numbers).

- The loop: an auction left to dealers tails by several bp; one weak auction raises dealer
  utilization, bid/ask and later tails; with the loop's arrows switched off it does not.
- Regimes: near banks' lowest comfortable reserves a tax date with a coupon settlement
  spikes SOFR; with abundant reserves the same date does not.
- Purchases add reserves one for one, less what the TGA and ON RRP absorb, in both regimes.
- At near-zero rates funds short the on-the-run issues fail unless failing is charged.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from sim.scenario.schema import BankSection
from tests.conftest import ALL_LOOP_ARROWS_OFF, make_scenario, run

# ------------------------------------------------------------------ the loop
SHOCK_DAY = "2025-02-11"  # a 10-year auction
WINDOW_END = "2025-02-21"  # through its settlement and the week after
LOOP_SEEDS = (1, 2, 3, 4, 5)
PROPAGATION_SEEDS = (1, 2, 3, 4, 5, 6, 7, 8)
# A calm market (no regime switches) so the weak auction is the only disturbance.
CALM = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 3, 14), "curve": {"p_calm_to_risk_off": 0.0}}
WEAK_AUCTION = {"shocks": [{"kind": "end_demand_shortfall", "date": SHOCK_DAY, "tenor": "10y", "share": 1.0}]}


# Investors' deposits away from dealers' parents: their payments for auction awards would
# otherwise move reserves, and so leverage exposure, on dealers' consolidated balance sheets
# (a reservoir channel, not an arrow of the loop).
NO_DEPOSITS_AT_DEALER_PARENTS = {"banks": {"dealer_parent_deposit_share": 0.0}}


def _loop_effect(seed: int, arrows_off: bool) -> dict[str, float | pd.Series]:
    base = [CALM, ALL_LOOP_ARROWS_OFF] if arrows_off else [CALM]
    base.append(NO_DEPOSITS_AT_DEALER_PARENTS)
    calm, shocked = run(make_scenario(*base), seed), run(make_scenario(*base, WEAK_AUCTION), seed)
    days = (calm["daily"].date >= SHOCK_DAY) & (calm["daily"].date <= WINDOW_END)
    later = (calm["auctions"].auction_date > SHOCK_DAY) & (calm["auctions"].auction_date <= WINDOW_END)
    tail_change = (shocked["auctions"].tail_bp - calm["auctions"].tail_bp)[later]
    return {
        "utilization": (shocked["daily"].dealer_utilization - calm["daily"].dealer_utilization)[days].mean(),
        "bid_ask": (shocked["daily"].bid_ask_bp - calm["daily"].bid_ask_bp)[days].mean(),
        "tail": tail_change.mean(),
        "tail_by_tenor": tail_change.groupby(calm["auctions"].tenor[later]).mean(),
    }


@pytest.mark.slow
def test_a_weak_auction_propagates_through_dealers_to_later_auctions():
    effects = [_loop_effect(seed, arrows_off=False) for seed in PROPAGATION_SEEDS]
    for seed, effect in zip(PROPAGATION_SEEDS, effects, strict=True):
        assert effect["utilization"] > 0, f"seed {seed}: dealer utilization did not rise"
        assert effect["bid_ask"] > 0, f"seed {seed}: bid/ask did not widen"
        assert effect["tail"] > 0, f"seed {seed}: later auctions did not tail more"
    by_tenor = pd.concat([e["tail_by_tenor"] for e in effects], axis=1)
    raised = by_tenor.index[by_tenor.mean(axis=1) > 0].tolist()
    assert len(raised) >= 4, f"later tails rose only in {raised}"
    assert {"20y", "30y"} & set(raised), "neither later coupon auction tailed more"
    # The magnitude: later coupon tails rise by more than twice the standard error of the
    # rise across seeds (paired: the same seed with and without the shock). On seeds 1-8
    # the rise is 0.05-1.0bp, mean about 0.27bp, standard error about 0.11bp.
    coupons = by_tenor.loc[by_tenor.index.str.endswith("y")].mean(axis=0)
    standard_error = coupons.std(ddof=1) / np.sqrt(coupons.size)
    assert coupons.mean() > 2 * standard_error, f"later coupon tails rose {coupons.round(2).tolist()}bp by seed"


def test_an_auction_left_to_dealers_tails_by_several_bp():
    # With no end demand at a 10-year auction, dealers take all of it: their bids beyond what
    # their room allows sit at their obligation's concession, and carrying $40bn-odd of
    # 10-years until their depth distributes it is priced in. On seeds 1-5 that auction tails
    # 4.2-5.8bp where the calm run's same auction tails -3 to +1.4bp (ordinary surprise).
    extras = []
    for seed in LOOP_SEEDS:
        base = [CALM, NO_DEPOSITS_AT_DEALER_PARENTS]
        calm, shocked = run(make_scenario(*base), seed), run(make_scenario(*base, WEAK_AUCTION), seed)
        tenth = (calm["auctions"].auction_date == SHOCK_DAY) & (calm["auctions"].tenor == "10y")
        assert shocked["auctions"].dealer_share[tenth].iloc[0] == pytest.approx(1.0)
        tail = float(shocked["auctions"].tail_bp[tenth].iloc[0])
        assert tail > 3.0, f"seed {seed}: the auction left to dealers tailed only {tail:.1f}bp"
        extras.append(tail - float(calm["auctions"].tail_bp[tenth].iloc[0]))
    assert sum(extras) / len(extras) > 3.0, f"tails beyond the calm run's, by seed: {extras}"


@pytest.mark.slow
def test_with_the_loop_switched_off_the_weak_auction_stays_contained():
    for seed in LOOP_SEEDS[:3]:
        effect = _loop_effect(seed, arrows_off=True)
        assert abs(effect["utilization"]) < 1e-3
        assert abs(effect["bid_ask"]) < 1e-9
        # Only investors' cash differs (they paid for what dealers passed on): < 0.01bp.
        assert abs(effect["tail"]) < 1e-2


# ------------------------------------------------------------------ regimes
TAX_AND_SETTLEMENT_DAY = "2025-09-15"  # corporate tax date and mid-month coupon settlement
REGIME_SEEDS = (1, 2, 3, 4)
# September 2019-like plumbing: money funds fully lent, no ON RRP cushion, no SRF.
PLUMBING_2019 = {
    "start_date": dt.date(2025, 9, 2),
    "end_date": dt.date(2025, 9, 19),
    "money_funds": {"assets_bn": 2300},
    "central_bank": {"on_rrp_start_bn": 0, "srf": {"enabled": False}},
}
NEAR_COMFORT = {"banks": {"reserves_bn": BankSection().lowest_comfortable_reserves_bn}}
ABUNDANT = {"banks": {"reserves_bn": 2700}}


def _spike(seed: int, reserves: dict) -> tuple[float, float]:
    """Return (SOFR dispersion on the day / its calm median, SOFR median minus IORB in bp)."""
    daily = run(make_scenario(PLUMBING_2019, reserves), seed)["daily"]
    dispersion = (daily.sofr_p99_pct - daily.sofr_p1_pct) * 100
    calm = dispersion[daily.date < TAX_AND_SETTLEMENT_DAY].median()
    day = daily.date == TAX_AND_SETTLEMENT_DAY
    median_over_iorb = ((daily.sofr_median_pct - daily.iorb_pct) * 100)[day].iloc[0]
    return float(dispersion[day].iloc[0] / calm), float(median_over_iorb)


@pytest.mark.slow
def test_scarce_reserves_spike_on_a_tax_and_settlement_date_and_abundant_reserves_absorb_it():
    # The same date drains reserves in both markets; near banks' lowest comfortable level the
    # drain climbs the steep part of the reserve demand curve, far above it the curve is flat.
    # How high the spike goes depends on the draw: dealers facing dear funding shed inventory
    # (the funding channel), which takes part of the drain off the market, more on some paths.
    spikes = []
    for seed in REGIME_SEEDS:
        scarce_ratio, scarce_over_iorb = _spike(seed, NEAR_COMFORT)
        abundant_ratio, abundant_over_iorb = _spike(seed, ABUNDANT)
        spikes.append(scarce_over_iorb)
        # Money funds are fully lent in both, so tri-party trades are bid up to the banks' marginal
        # cash: abundant, that is IORB plus the banks' hurdle (a few bp); scarce, it spikes.
        assert abundant_over_iorb < 10.0, f"seed {seed}: SOFR {abundant_over_iorb:.1f}bp over IORB, abundant"
        assert scarce_over_iorb > abundant_over_iorb + 8.0, f"seed {seed}: {scarce_over_iorb:.1f}bp scarce"
        assert scarce_ratio > max(abundant_ratio, 1.2), (
            f"seed {seed}: dispersion {scarce_ratio:.1f}x vs {abundant_ratio:.1f}x"
        )
    assert sum(spikes) / len(spikes) > 20.0, f"SOFR over IORB on the day, by seed: {spikes}"


# ------------------------------------------------------------------ purchases
# Ends a week after the purchases, on a bill settlement day: maturities (the month-end ones
# of 30 May included) are reinvested with the bills that settle then.
QE_SPAN = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 6, 5)}
BILL_PURCHASES = {"central_bank": {"purchases": [{"start": "2025-01-15", "end": "2025-05-30", "bn_per_month": 40}]}}


@pytest.mark.slow
@pytest.mark.parametrize("regime", [ABUNDANT, NEAR_COMFORT], ids=["abundant", "scarce"])
def test_purchases_add_reserves_less_tga_and_on_rrp_offsets(regime):
    no_srf = {"central_bank": {"srf": {"enabled": False}}}
    without = run(make_scenario(QE_SPAN, regime, no_srf), seed=5)["daily"].iloc[-1]
    with_qe = run(make_scenario(QE_SPAN, regime, no_srf, BILL_PURCHASES), seed=5)["daily"]
    bought = with_qe.purchases_bn.sum()
    end = with_qe.iloc[-1]
    assert bought == pytest.approx(40 / 21 * with_qe.date.between("2025-01-15", "2025-05-30").sum(), rel=1e-6)
    assert end.soma_bn - without.soma_bn == pytest.approx(bought, rel=1e-6)  # maturities are reinvested
    added = end.reserves_bn - without.reserves_bn
    offsets = (end.tga_bn - without.tga_bn) + (end.on_rrp_bn - without.on_rrp_bn)
    # The rest is the discount window and the bills' discount booked to the Fed's capital.
    assert added == pytest.approx(bought - offsets, rel=0.03, abs=5.0)
    assert added > 0.5 * bought


def test_runoff_caps_shrink_the_soma_by_the_cap():
    span = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 6, 30)}
    qt = {"central_bank": {"runoff_caps": [{"date": "2025-01-01", "bn_per_month": 30}]}}
    soma = run(make_scenario(span, qt), seed=1)["daily"]["soma_bn"]
    kept = run(make_scenario(span), seed=1)["daily"]["soma_bn"]
    assert kept.iloc[-1] == pytest.approx(kept.iloc[0], abs=60)  # full reinvestment (maturities roll monthly)
    # Six months of a $30bn cap: maturities beyond it are reinvested, so the runoff is the cap.
    # Measured against full reinvestment: the month-end maturities of the last day are
    # reinvested in the next week's bills, after the run's end, in both runs.
    runoff = (soma.iloc[0] - soma.iloc[-1]) - (kept.iloc[0] - kept.iloc[-1])
    assert 150 <= runoff <= 190


# ------------------------------------------------------------------ fails at near-zero rates
ZERO_RATES = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 3, 31), "policy": {"target_upper_pct": 0.25}}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_funds_shorts_fail_at_zero_rates_unless_failing_is_charged(seed):
    def mean_fails(client_short_share: float, charge: bool) -> float:
        settings = {"settlement": {"client_short_share": client_short_share, "fails_charge": charge}}
        return float(run(make_scenario(ZERO_RATES, settings), seed)["daily"].fails_bn.mean())

    # Without funds' shorts, only operational fails (and their daisy chains); with them, the shorts'
    # fails on top, under each regime of the charge.
    operational, operational_charged = mean_fails(0.0, charge=False), mean_fails(0.0, charge=True)
    shorts_free = mean_fails(0.03, charge=False) - operational
    shorts_charged = mean_fails(0.03, charge=True) - operational_charged
    # Borrowing a special issue costs more than failing at ~10bp general collateral: funds fail
    # ($13-16bn a day on seeds 1-3); the charge (about 3% a year) makes failing dearer than
    # borrowing, and their fails all but vanish ($0.01-0.02bn).
    assert shorts_free > 100 * max(shorts_charged, 0.0)
    assert shorts_charged < 0.2 * operational_charged
    # The charge makes operational fails dearer too, so desks avoid more of them
    # (settlement.operational_fails_cost_elasticity): at 3% rather than ~0.1% (the response's
    # floor, 1%), about (3 / 1)^1.65 = 6 times fewer.
    assert operational_charged < 0.5 * operational
