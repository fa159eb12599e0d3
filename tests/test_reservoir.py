"""The reservoir's channels: purchases' reserves on dealers' parents' balance sheets, the
Treasury's cash above its floor, the SRF as a marginal source of funding."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import TreasuryMarketModel
from sim.opening import custodians_by_size
from tests.conftest import make_scenario, run_checked

# Ends before the quarter-end snapshot, on which money funds park cash at the ON RRP and reserves dip.
MARCH = {"start_date": dt.date(2025, 3, 3), "end_date": dt.date(2025, 3, 28)}
QE_FROM_NONBANKS = {"central_bank": {"purchases": [{"bn_per_month": 40, "nonbank_seller_share": 1.0}]}}


def parents_cash_exposure_bn(model: TreasuryMarketModel) -> float:
    """The part of bank-affiliated dealers' leverage exposure that is their parents' cash: reserves,
    and the fed funds the parents sold out of them (banks.dealer_parents_in_fed_funds), $bn."""
    n = model.config.dealers.count
    led = model.ledger
    long_value = np.maximum(led.holdings_bn[:n], 0.0) @ led.price
    none = np.zeros(n)
    with_cash = model.dealers.market_exposure_bn(long_value, led.money_bn[:n], led.repo_lent_bn[:n], none, 0.0)
    without_repo_lent = led.repo_lent_bn[:n] - model.dealers.parent_fed_funds_lent_bn
    without = model.dealers.market_exposure_bn(long_value, none, without_repo_lent, none, 0.0)
    return float((with_cash - without)[model.dealers.bank_affiliated].sum())


@pytest.mark.parametrize("exempt", [False, True])
def test_proceeds_paid_to_a_dealer_parents_depositor_use_its_slr_room_unless_reserves_are_exempt(exempt):
    model = TreasuryMarketModel(make_scenario(MARCH, {"dealers": {"exempt_reserves_from_slr": exempt}}), seed=1)
    led = model.ledger
    seller = int(model.accounts_of("real_money")[0])
    share = model.config.banks.dealer_parent_deposit_share
    assert share > 0 and led.parent_share[seller] == share, "every investor banks partly with dealers' parents"
    slot = int(np.argmax(led.holdings_bn[seller]))
    before = parents_cash_exposure_bn(model)
    par = 0.5 * float(led.holdings_bn[seller, slot])
    led.central_bank_buys(np.array([seller]), np.array([slot]), np.array([par]), led.price[[slot]])
    proceeds = par * float(led.price[slot])
    assert parents_cash_exposure_bn(model) - before == pytest.approx(0.0 if exempt else share * proceeds, abs=1e-9)


def test_purchases_from_nonbanks_raise_dealer_parents_cash_exposure_and_not_when_reserves_are_exempt():
    # Over a month, sellers' deposits move on (they buy, pay, park cash with money funds), so the
    # parents keep a part of the reserves created, not exactly their deposit share: the band is
    # wide; its point is the sign, and exactly nothing once reserves are exempt.
    share = 0.3
    for seed in (1, 2, 3):
        for exempt in (False, True):
            keys = {"dealers": {"exempt_reserves_from_slr": exempt}, "banks": {"dealer_parent_deposit_share": share}}
            base, with_qe = make_scenario(MARCH, keys), make_scenario(MARCH, QE_FROM_NONBANKS, keys)
            calm, bought = TreasuryMarketModel(base, seed=seed).run(), TreasuryMarketModel(with_qe, seed=seed).run()
            created = bought.ledger.reserves_bn() - calm.ledger.reserves_bn()
            extra = parents_cash_exposure_bn(bought) - parents_cash_exposure_bn(calm)
            assert created > 10.0, "the month's purchases create reserves (some go on to the ON RRP)"
            if exempt:
                assert extra == 0.0
            else:
                assert 0.02 * created < extra < 0.6 * created, (seed, extra, created)


def test_without_deposits_at_dealer_parents_purchases_leave_their_cash_as_it_was():
    no_parents = {"banks": {"dealer_parent_deposit_share": 0.0}}
    calm = TreasuryMarketModel(make_scenario(MARCH, no_parents), seed=1).run()
    bought = TreasuryMarketModel(make_scenario(MARCH, no_parents, QE_FROM_NONBANKS), seed=1).run()
    created = bought.ledger.reserves_bn() - calm.ledger.reserves_bn()
    extra = parents_cash_exposure_bn(bought) - parents_cash_exposure_bn(calm)
    assert abs(extra) < 0.02 * created


def _tga_path_over_ten_years(path: str) -> tuple[str, float, float]:
    from sim.scenario import load_scenario

    scenario = load_scenario(path)
    ten_years = scenario.model_copy(
        update={"end_date": scenario.start_date.replace(year=scenario.start_date.year + 10)}
    )
    model = TreasuryMarketModel(ten_years, seed=1)
    lowest = model.ledger.tga_bn
    while model.running:
        model.step()
        lowest = min(lowest, model.ledger.tga_bn)
    return path, lowest, scenario.treasury.tga_floor_bn


@pytest.mark.slow
def test_the_treasury_cash_never_falls_below_its_floor_in_any_shipped_scenario_over_ten_years():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from tests.golden.fingerprints import shipped_scenarios

    paths = [str(p) for p in shipped_scenarios()]
    with ProcessPoolExecutor(max_workers=2, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(_tga_path_over_ten_years, paths))
    below = {path: round(lowest, 1) for path, lowest, floor in results if lowest < floor}
    assert not below, f"TGA below its floor: {below}"
    assert len(results) == len(paths) >= 18


# The SRF's tests need days when private repo reaches the facility's rate. The shipped
# reserve_scarcity scenario (4% above banks' comfortable level) does at some fits and not at
# others, so they run it at a level in dollars where private repo gets there on some seeds.
SRF_TEST_RESERVES_BN = 2100.0


def _scarcity(seed: int, srf_enabled: bool) -> dict:
    from sim.scenario import load_scenario

    scenario = load_scenario(
        Path(__file__).resolve().parents[1] / "scenarios" / "reserve_scarcity.yaml",
        overrides={"central_bank": {"srf": {"enabled": srf_enabled}}, "end_date": "2025-09-30",
                   "banks": {"reserves_bn": SRF_TEST_RESERVES_BN, "reserves_per_comfortable": None}},
    )  # fmt: skip
    return TreasuryMarketModel(scenario, seed=seed).run().results()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_when_private_repo_is_dearer_than_the_srf_dealers_borrow_there_instead_of_at_the_window(seed):
    with_srf, without = _scarcity(seed, True), _scarcity(seed, False)
    daily, dealers = with_srf["daily"], with_srf["dealers"]
    assert (daily.srf_usage_bn > 0).any(), "scarce reserves make private repo dear on some days"
    # Without the SRF, the dearest days' shortfall goes to the window (on a mild path private
    # repo may cover it all at its high rate); with the SRF, less of it does.
    assert daily.discount_window_bn.sum() <= without["daily"].discount_window_bn.sum()
    # The dealers table adds up to the daily total, and those dealers' funding cost is the SRF's rate.
    by_day = dealers.groupby("date").srf_borrowed_bn.sum().to_numpy()
    assert by_day == pytest.approx(daily.srf_usage_bn.to_numpy(), abs=1e-9)
    borrowers = dealers[dealers.srf_borrowed_bn > 0].merge(daily[["date", "iorb_pct"]], on="date")
    assert (borrowers.funding_cost_pct > borrowers.iorb_pct).all()


SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def _dash_for_cash(seed: int, pullback: bool = True) -> pd.DataFrame:
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / "dash_for_cash.yaml", overrides={"end_date": "2025-03-21"})
    if not pullback:
        scenario = scenario.model_copy(update={"shocks": [s for s in scenario.shocks if s.kind != "funding_pullback"]})
    daily = TreasuryMarketModel(scenario, seed=seed).run().results()["daily"].set_index("date")
    daily.index = daily.index.astype(str)
    return daily


@pytest.mark.parametrize("seed", [1, 2])
def test_a_funding_pullback_makes_repo_dearer_in_a_dash_for_cash(seed):
    # Money funds withdraw 30% of their repo cash from 12 March: dealers turn to dearer banks'
    # cash (and the SRF), so SOFR over IORB rises against the same stress without the pull-back
    # (same seed, so the same draws). By 0.22 and 0.42bp on seeds 1-2 over those days (0.61 and
    # 0.56 on seeds 3-4; the bound is half the smallest): with money funds growing through 2025,
    # banks hold cash borrowed back from the ON RRP that they lend on (over 1bp when the
    # baseline's funds shrank and the facility was empty).
    days = slice("2025-03-12", "2025-03-21")
    spread = {}
    for pullback in (True, False):
        daily = _dash_for_cash(seed, pullback)
        spread[pullback] = float(((daily.sofr_median_pct - daily.iorb_pct) * 100).loc[days].mean())
    assert spread[True] > spread[False] + 0.1, spread


def test_the_srf_caps_the_dearest_days_of_scarce_reserves():
    # Dealers borrow at the facility rather than bid private cash above its rate plus stigma (the
    # top of the range, 10bp over IORB here, plus 10bp), so with it SOFR's median stays under that
    # cap on every day; without it the dearest day goes past the cap on some paths, and on those
    # the facility lowers it. On a path that never gets there the facility never makes the
    # dearest day dearer, and may make it cheaper: it lowers the outside option lenders bargain
    # towards. Without the facility the dearest days of seeds 1-4 are 139.5, 185.4, 11.9 and
    # 14.5bp over IORB, with it 14.4, 18.2, 11.9 and 11.8bp (seed 4 cheaper by 2.7bp below the
    # cap), so two of the four are capped.
    from sim.scenario import load_scenario

    stigma_bp = load_scenario(SCENARIOS / "reserve_scarcity.yaml").central_bank.srf.stigma_bp
    cap_bp = 10.0 + stigma_bp
    capped = 0
    for seed in (1, 2, 3, 4):
        peaks = {}
        for enabled in (True, False):
            daily = _scarcity(seed, enabled)["daily"]
            peaks[enabled] = float(((daily.sofr_median_pct - daily.iorb_pct) * 100).max())
        assert peaks[True] <= cap_bp, f"seed {seed}: dearest day {peaks}"
        if peaks[False] > cap_bp:
            assert peaks[True] < peaks[False] - 1.0, f"seed {seed}: dearest day {peaks}"
            capped += 1
        else:
            assert peaks[True] <= peaks[False] + 0.5, f"seed {seed}: dearest day {peaks}"
    assert capped >= 1  # the scarce market does get past the cap on some paths


def test_in_a_dash_for_cash_dealers_reach_the_srf_on_stressed_days_only():
    # Volatility triples from 10 March (banks' stress hurdle) and the pull-back starts on 12
    # March: on some seeds the market cannot fill dealers' need below the SRF rate plus stigma on
    # a stressed day; before the shocks no seed reaches it.
    used = []
    for seed in (1, 2, 3, 4):
        daily = _dash_for_cash(seed)
        # Before the shocks, and after the year-end turn has passed (its days may reach it).
        assert daily.loc["2025-01-08":"2025-03-07", "srf_usage_bn"].max() == 0.0
        used.append(daily.loc["2025-03-10":"2025-03-21", "srf_usage_bn"].max() > 1.0)
    assert any(used)


def test_the_srf_is_used_in_reserve_scarcity_at_the_quarter_end():
    daily = _scarcity(1, True)["daily"].set_index("date")
    daily.index = daily.index.astype(str)
    assert daily.loc["2025-09-30", "srf_usage_bn"] > 0.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_in_the_abundant_baseline_the_srf_is_used_only_around_quarter_ends(seed):
    # The baseline year's reserves sit above banks' comfortable levels: private repo covers
    # nearly every ordinary day. Snapshot days (and the days right after) may reach the SRF by an
    # amount of the order of the real record ($75bn on 31 December 2025), not trillions; other
    # days only rarely and by little (SOFR reached the SRF's rate on 15 September 2025 with no
    # quarter-end near, fred/SOFR.csv).
    from sim.scenario import load_scenario

    model = TreasuryMarketModel(load_scenario(SCENARIOS / "baseline.yaml"), seed=seed).run()
    daily = model.results()["daily"]
    quarter_ends = np.flatnonzero(daily.is_quarter_end.to_numpy())
    near = np.zeros(len(daily), dtype=bool)
    for i in quarter_ends:
        near[max(i - 1, 0) : i + 3] = True
    usage = daily.srf_usage_bn.to_numpy()
    ordinary = usage[~near]
    assert (ordinary > 0.0).sum() <= 5, list(daily.date[(usage > 0.0) & ~near])
    assert ordinary.max() < 5.0
    assert usage.max() < 250.0


def test_in_the_calm_baseline_no_dealer_sits_over_its_limit_on_a_typical_day():
    # Real dealers manage their balance sheets to their limits; outside quarter-ends none runs over
    # them for long in a calm year. The statistic: over the year's days, the median of the highest
    # dealer utilization, which a dealer over its limit on a few snapshot days does not move.
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / "baseline.yaml")
    for seed in (1, 2, 3, 4):
        dealers = TreasuryMarketModel(scenario, seed=seed).run().results()["dealers"]
        typical_highest = float(dealers.groupby("date").utilization.max().median())
        assert typical_highest < 1.0, f"seed {seed}: the most used dealer is at {typical_highest:.2f} of its limit"


@pytest.mark.parametrize("growth_bn", [600.0, 0.0])
def test_money_funds_follow_their_growth_path_out_of_households_deposits(growth_bn):
    # A half-year with funds' assets steered to grow at a stated pace, or to hold still: they
    # end within $60bn (a tenth of a year's growth at $600bn) of the path, while their flows
    # alone (this market's taxes outrun its outlays to funds) take them more than $200bn away
    # from it. Households' deposits pay for the difference, and the books balance every day.
    half_year = {"start_date": dt.date(2025, 1, 2), "end_date": dt.date(2025, 6, 30)}
    steered = run_checked(make_scenario(half_year, {"money_funds": {"assets_growth_bn_per_year": growth_bn}}), seed=1)
    unsteered = run_checked(make_scenario(half_year), seed=1)
    funds = steered.accounts_of("money_fund")
    start_bn = steered.money_funds.path_start_bn
    assert start_bn is not None and unsteered.money_funds.path_start_bn is None
    path_end_bn = start_bn + growth_bn * steered.day_index / 252.0
    end_bn = steered.money_funds.assets_bn(steered.ledger, funds)
    assert abs(end_bn - path_end_bn) < 60.0
    unsteered_end_bn = unsteered.money_funds.assets_bn(unsteered.ledger, funds)
    assert path_end_bn - unsteered_end_bn > 200.0
    households = steered.accounts_of("household")
    moved_bn = steered.ledger.money_bn[households].sum() - unsteered.ledger.money_bn[households].sum()
    assert moved_bn < -0.5 * (end_bn - unsteered_end_bn)


# ------------------------------------------------------------------ money funds' place in the bill market
def _funds(bill_market_share: float | None, **keys: float) -> TreasuryMarketModel:
    return TreasuryMarketModel(make_scenario({"money_funds": {"bill_market_share": bill_market_share, **keys}}), 1)


def test_money_funds_lean_toward_their_share_of_the_bill_market_when_it_is_the_larger_target():
    funds = _funds(0.4).money_funds
    assets = 1000.0 * funds.size_share
    # $1T of bills outstanding: 40% of it ($400bn) is less than bills_share of $1T of assets.
    ample = 10.0 * assets  # cash idle at the facility, more than any gap
    np.testing.assert_allclose(funds.bill_target_bn(assets, 1000.0, ample), funds.params.bills_share * assets)
    # $5T outstanding: each fund's part of $2T, by size.
    np.testing.assert_allclose(funds.bill_target_bn(assets, 5000.0, ample), 2000.0 * funds.size_share)
    # Only cash idle at the facility moves into bills: with $100bn idle, the target rises by that
    # much; with none, cash lent in repo stays there.
    idle = 100.0 * funds.size_share
    own = funds.params.bills_share * assets
    np.testing.assert_allclose(funds.bill_target_bn(assets, 5000.0, idle), own + idle)
    np.testing.assert_allclose(funds.bill_target_bn(assets, 5000.0, 0.0 * assets), own)
    # With `bills_from_repo_cash_share`, that share of the cash lent in repo pays for bills as well.
    repo = 300.0 * funds.size_share
    np.testing.assert_allclose(funds.bill_target_bn(assets, 5000.0, idle, repo), own + idle)  # share 0
    shifting = _funds(0.4, bills_from_repo_cash_share=0.5).money_funds
    np.testing.assert_allclose(shifting.bill_target_bn(assets, 5000.0, idle, repo), own + idle + 0.5 * repo)
    gap = 2000.0 * funds.size_share - own  # the most either cash can add: the way to the market part
    np.testing.assert_allclose(shifting.bill_target_bn(assets, 5000.0, idle, 100.0 * repo), own + gap)
    held, cash = funds.params.bills_share * assets, 0.5 * assets  # at their own-assets target
    assert (
        shifting.bill_bids(50.0, 4.3, held, assets, cash, 5000.0, 0.0 * cash, cash)[2]
        > funds.bill_bids(50.0, 4.3, held, assets, cash, 5000.0, 0.0 * cash, cash)[2]
    ).all()
    few = funds.bill_bids(50.0, 4.3, held, assets, cash, 1000.0, cash)[2]
    many = funds.bill_bids(50.0, 4.3, held, assets, cash, 5000.0, cash)[2]
    assert many.sum() > few.sum()
    # Without the key, bills outstanding do not enter their tenders.
    plain = _funds(None).money_funds
    np.testing.assert_array_equal(
        plain.bill_bids(50.0, 4.3, held, assets, cash, 1000.0, cash)[2],
        plain.bill_bids(50.0, 4.3, held, assets, cash, 5000.0, cash)[2],
    )


REAL_DIR = os.environ.get("PLUMBING_DATA_DIR", "")


@pytest.mark.skipif(not REAL_DIR or not Path(REAL_DIR).is_dir(), reason="PLUMBING_DATA_DIR not set")
def test_funds_that_keep_their_bill_market_share_buy_the_2023_rebuilds_bills_out_of_their_cash():
    # The 2023 debt-limit rebuild on the replayed paths (TGA +$403bn from 1 June to 1 September):
    # funds holding on to their share of a growing bill market buy the new bills themselves with
    # the cash they held at the ON RRP and lent in repo, where funds leaning toward a share of
    # their own assets leave them to dealers, who finance them in repo with the same cash (same
    # seed, same replayed TGA and SOMA). At 0.65 (the fit's share, 0.631) funds buy $426-448bn of
    # bills over the three months against $74-90bn (seeds 1-3), and the TGA's rise drains the ON
    # RRP and reserves together by the same amount either way ($602-604bn, QT's runoff included).
    # Which of the two gives more is the fit's: at this fit the ON RRP falls by $383-388bn with
    # the share kept and $473-483bn without (reserves $215-220bn and $121-130bn); at the previous
    # fit, with banks' arbitrage cheaper, it fell by $41-62bn more with the share kept.
    from sim.scenario import load_scenario

    window = Path(__file__).resolve().parents[1] / "calibration" / "scenarios" / "window_2022_2024.yaml"
    for seed in (1, 2):
        change, bought = {}, {}
        for share in (None, 0.65):
            overrides = {
                "start_date": "2023-05-01",
                "end_date": "2023-09-01",
                "money_funds": {"bill_market_share": share},
            }
            model = TreasuryMarketModel(load_scenario(window, overrides=overrides, data_dir=REAL_DIR), seed=seed)
            funds, fund_bills_bn = model.accounts_of("money_fund"), {}
            while model.running:
                model.step()
                issues = model.ledger.holdings_bn.shape[1]
                fund_bills_bn[str(model.date.date())] = model.ledger.holdings_bn[funds][
                    :, model.issues.is_bill[:issues]
                ].sum()
            daily = model.results()["daily"].set_index("date")
            daily.index = daily.index.astype(str)
            first, last = daily.loc["2023-06-01"], daily.loc["2023-09-01"]
            change[share] = {k: float(last[k] - first[k]) for k in ("on_rrp_bn", "reserves_bn", "tga_bn")}
            bought[share] = fund_bills_bn["2023-09-01"] - fund_bills_bn["2023-06-01"]
        assert change[0.65]["tga_bn"] == pytest.approx(change[None]["tga_bn"], abs=5.0)
        assert change[None]["tga_bn"] > 350.0
        # Half the smallest difference in bills bought, and a tenth of the TGA's rise for the drain.
        assert bought[0.65] > bought[None] + 170.0, (seed, bought)
        drained = {share: -(c["on_rrp_bn"] + c["reserves_bn"]) for share, c in change.items()}
        assert drained[0.65] == pytest.approx(drained[None], abs=40.0), (seed, change)


# ------------------------------------------------------------------ banks borrowing funds' idle cash
SHORT_BANKS = {"banks": {"reserves_bn": 1200.0}, "money_funds": {"assets_bn": 5000.0}}


def _end_of_day_states(
    repo_borrowing: bool, arbitrage_cost_bp: float = 7.0, bank_reserves_bn: float = 1200.0
) -> tuple[TreasuryMarketModel, list[dict[str, float]]]:
    """Each day's end: the lowest bank reserves and the largest shortfall against a bank's lowest
    comfortable level, what banks borrowed in repo and what money funds left at the ON RRP ($bn),
    with the books checked daily."""
    banks_keys = {"repo_borrowing": repo_borrowing, "reserve_arbitrage_cost_bp": arbitrage_cost_bp,
                  "reserves_bn": bank_reserves_bn}  # fmt: skip
    scenario = make_scenario(MARCH, SHORT_BANKS, {"banks": banks_keys})
    model = TreasuryMarketModel(scenario, seed=1)
    banks, funds = model.accounts_of("bank"), model.accounts_of("money_fund")
    states = []
    while model.running:
        model.step()
        gaps = model.accounting_gaps()
        assert max(gaps.values()) < 1e-9, gaps
        led = model.ledger
        states.append({
            "lowest_reserves_bn": float(led.money_bn[banks].min()),
            "worst_gap_bn": float((led.money_bn[banks] - model.banks.lowest_comfortable_bn).min()),
            "banks_borrowed_bn": model.market.banks_borrowed_from_funds_bn,
            "on_rrp_bn": float(led.on_rrp_bn[funds].sum()),
        })  # fmt: skip
    return model, states


def test_banks_short_of_reserves_borrow_the_funds_cash_left_for_the_on_rrp():
    off_model, off = _end_of_day_states(False)
    on_model, on = _end_of_day_states(True)
    # Without the channel banks end days far below their lowest comfortable reserves (the
    # shortest by $594bn), one overdrawn at the end of every day (by up to $14bn), while funds'
    # cash sits at the facility; with it, no bank ends a day overdrawn while the funds had cash
    # there to lend (here banks want more than the funds' $1.05T and bid it all, overdrawn banks
    # first), and the shortest bank ends far less short.
    assert min(s["worst_gap_bn"] for s in off) < -50.0 and max(s["banks_borrowed_bn"] for s in off) < 1e-9
    assert all(s["lowest_reserves_bn"] > -1e-6 or s["on_rrp_bn"] < 1e-6 for s in on)
    assert sum(s["lowest_reserves_bn"] < -1.0 for s in off) >= len(off) // 2
    assert min(s["lowest_reserves_bn"] for s in on) > -1e-6
    assert min(s["worst_gap_bn"] for s in on) > min(s["worst_gap_bn"] for s in off) + 100.0
    assert sum(s["banks_borrowed_bn"] > 0 for s in on) >= len(on) // 2
    # The cash comes out of the facility: over the month it holds less by about what banks borrow.
    borrowed = np.mean([s["banks_borrowed_bn"] for s in on])
    drained = np.mean([a["on_rrp_bn"] - b["on_rrp_bn"] for a, b in zip(off, on, strict=True)])
    assert drained == pytest.approx(borrowed, rel=0.35)
    # Funds lend it up their supply curve: repo trades dearer against the ON RRP rate.
    spread = {name: (m.results()["daily"].sofr_median_pct - m.results()["daily"].on_rrp_rate_pct).mean() * 100
              for name, m in (("off", off_model), ("on", on_model))}  # fmt: skip
    assert spread["on"] > spread["off"]


def test_banks_borrow_less_of_the_funds_cash_when_holding_borrowed_reserves_costs_them_more():
    # The demand is priced: at a cost of 15bp the last dollar of reserves must be worth 15bp over
    # IORB plus the funds' ask, against 5bp, so banks stop further below (or less far above) their
    # comfortable levels and leave more of the funds' cash at the facility. Reserves of $2.6T keep
    # the cash from running out either way (on seed 1: $25bn less borrowed, $100bn more at the
    # ON RRP on average; the bounds are below half of that).
    _, cheap = _end_of_day_states(True, arbitrage_cost_bp=5.0, bank_reserves_bn=2600.0)
    _, dear = _end_of_day_states(True, arbitrage_cost_bp=15.0, bank_reserves_bn=2600.0)
    assert min(s["on_rrp_bn"] for s in cheap) > 50.0
    mean = {name: {k: np.mean([s[k] for s in states]) for k in ("banks_borrowed_bn", "on_rrp_bn")}
            for name, states in (("cheap", cheap), ("dear", dear))}  # fmt: skip
    assert mean["dear"]["banks_borrowed_bn"] < mean["cheap"]["banks_borrowed_bn"] - 10.0, mean
    assert mean["dear"]["on_rrp_bn"] > mean["cheap"]["on_rrp_bn"] + 40.0, mean
    assert all(s["lowest_reserves_bn"] > -1e-6 for s in dear)


# ------------------------------------------------------------------ the price of banks' borrowing
def _banks(count: int = 4, comfortable_bn: float = 100.0, arbitrage_cost_slope_bp: float = 20.0):
    from sim.agents.bank import Banks
    from sim.scenario.schema import BankSection

    params = BankSection(
        demand_curve_level_bp=10.0,
        demand_curve_steepness=25.0,
        reserve_arbitrage_cost_bp=7.0,
        arbitrage_cost_slope_bp=arbitrage_cost_slope_bp,
    )
    share = np.full(count, 1.0 / count)
    return Banks(params, share, np.full(count, comfortable_bn), np.zeros(count))


def test_a_bank_borrows_to_where_its_last_dollar_of_reserves_is_worth_the_rate_and_its_costs():
    banks = _banks()
    reserves = np.array([-20.0, 40.0, 95.0, 300.0])
    iorb = 4.40
    for rate in (4.25, 4.34, 4.40, 4.50):
        borrowed = banks.repo_borrowing_bn(reserves, np.array([rate]), iorb)[:, 0]
        ratio = (reserves + borrowed) / 100.0
        short = borrowed > 0
        # The last dollar's value covers the rate over IORB, the fixed cost and, above the
        # comfortable level, the balance sheet the excess takes.
        worth_bp = banks.marginal_value_bp(reserves + borrowed) - 7.0 - 20.0 * np.maximum(ratio - 1.0, 0.0)
        np.testing.assert_allclose(worth_bp[short], (rate - iorb) * 100.0, atol=1e-9)
        assert borrowed[0] >= 20.0 and borrowed[-1] == 0.0  # the overdraft always; the rich bank none
    # Dearer repo, less borrowed. Below IORB less the fixed cost banks borrow beyond their
    # comfortable level, as far as the spread pays for the balance sheet; with no such cost
    # holding reserves there is pure arbitrage, without limit.
    amounts = banks.repo_borrowing_bn(reserves, np.array([4.25, 4.34, 4.40, 4.50]), iorb).sum(axis=0)
    assert (np.diff(amounts) < 0).all()
    held = reserves + banks.repo_borrowing_bn(reserves, np.array([4.25]), iorb)[:, 0]
    assert (held[:3] > 100.0).all() and np.isfinite(held).all()
    free = _banks(arbitrage_cost_slope_bp=0.0)
    assert np.isinf(free.repo_borrowing_bn(reserves, np.array([4.25]), iorb)).all()
    assert np.isfinite(free.repo_borrowing_bn(reserves, np.array([4.40]), iorb)).all()
    # On a snapshot banks borrow the cut share less, but never less than their overdraft.
    full = banks.repo_borrowing_bn(reserves, np.array([4.40]), iorb)[:, 0]
    cut = banks.repo_borrowing_bn(reserves, np.array([4.40]), iorb, cut_share=0.9)[:, 0]
    assert cut[0] == pytest.approx(20.0) and cut[1] == pytest.approx(0.1 * full[1])


def _supply(floor_pct: float = 4.34, slope_pct: float = 0.10, cash_bn: float = 500.0, max_rate_pct: float = 4.50):
    from types import SimpleNamespace

    return SimpleNamespace(
        facility_funds_cash_bn=cash_bn,
        facility_floor_pct=floor_pct,
        fund_ask_slope_pct=slope_pct,
        fund_ask_curvature=np.inf,
        max_rate_pct=max_rate_pct,
    )


def test_banks_and_funds_meet_where_demand_equals_the_funds_ask_for_that_much_more():
    from sim.markets.repo import bank_borrowing_point

    banks, iorb = _banks(), 4.40
    reserves = np.array([30.0, 60.0, 90.0, 120.0])

    def demand(rates):
        return banks.repo_borrowing_bn(reserves, rates, iorb)

    amount, rate = bank_borrowing_point(_supply(), 0.0, 4.30, 400.0, demand)
    assert 0 < amount < 400.0
    assert rate == pytest.approx(4.34 + 0.10 * amount / 500.0, abs=1e-9)  # on the funds' supply curve
    assert float(demand(np.array([rate])).sum()) == pytest.approx(amount, rel=0.02)  # and on banks' demand
    # Funds that already lent most of their cash to dealers ask more: banks take less, dearer.
    amount_late, rate_late = bank_borrowing_point(_supply(), 450.0, 4.30, 400.0, demand)
    assert amount_late < amount and rate_late > rate
    # Less cash than banks want even at the funds' top ask: they take all of it there.
    scarce, scarce_rate = bank_borrowing_point(_supply(), 0.0, 4.30, 10.0, demand)
    assert scarce == 10.0 and scarce_rate == pytest.approx(4.34 + 0.10 * 10.0 / 500.0)
    assert float(demand(np.array([scarce_rate])).sum()) > 10.0


def test_what_banks_borrow_is_split_overdrafts_first_then_by_what_each_wants():
    from sim.markets.repo import borrowing_by_bank_bn

    overdraft = np.array([10.0, 0.0, 0.0])
    comfortable = np.array([100.0, 100.0, 200.0])
    split = borrowing_by_bank_bn(np.array([30.0, 20.0, 0.0]), overdraft, comfortable, 40.0)
    np.testing.assert_allclose(split, [10.0 + 15.0, 15.0, 0.0])  # beyond overdrafts 20 and 20: 30 split
    assert split.sum() == pytest.approx(40.0)
    np.testing.assert_allclose(borrowing_by_bank_bn(np.full(3, np.inf), overdraft, comfortable, 5.0), [5.0, 0, 0])
    np.testing.assert_allclose(
        borrowing_by_bank_bn(np.full(3, np.inf), overdraft, comfortable, 50.0), [20.0, 10.0, 20.0]
    )


# ------------------------------------------------------------------ banks competing for funds' cash
def test_banks_short_of_the_funds_cash_bid_up_to_where_they_want_what_there_is_never_above_their_cap():
    from sim.markets.repo import bank_borrowing_point, bid_up_rate_pct

    banks, iorb = _banks(), 4.40
    reserves = np.array([85.0, 90.0, 95.0, 120.0])  # three banks a little short, one long

    def demand(rates):
        return banks.repo_borrowing_bn(reserves, rates, iorb)

    top = 4.34 + 0.10 * 10.0 / 500.0  # the funds' ask for all of $10bn
    assert float(demand(np.array([top])).sum()) > 10.0
    # No cap above the top ask: banks ration the cash at it, as without competition.
    assert bid_up_rate_pct(top, -np.inf, 10.0, demand) == top
    assert bid_up_rate_pct(top, top - 0.01, 10.0, demand) == top
    # A high cap: the rate at which banks want the $10bn there is (about 4.98% by hand: 92.5%
    # of comfortable reserves is worth 10 x exp(25 x 0.075) = 65bp, less the 7bp cost).
    rate = bid_up_rate_pct(top, 5.40, 10.0, demand)
    assert top < rate < 5.40 and rate == pytest.approx(4.98, abs=0.01)
    assert float(demand(np.array([rate])).sum()) == pytest.approx(10.0, rel=0.02)
    # A cap below that: banks still want more there, so the cap is the rate.
    assert bid_up_rate_pct(top, 4.60, 10.0, demand) == 4.60
    amount, capped_rate = bank_borrowing_point(_supply(), 0.0, 4.30, 10.0, demand, 4.60)
    assert amount == 10.0 and capped_rate == 4.60
    # Overdrafts are borrowed at any rate: with more overdrawn than there is, the cap.
    overdrawn = np.array([-20.0, 90.0, 95.0, 120.0])
    assert bid_up_rate_pct(top, 5.40, 10.0, lambda r: banks.repo_borrowing_bn(overdrawn, r, iorb)) == 5.40


def test_funds_lend_dealers_no_cheaper_than_banks_bid_for_the_same_cash():
    from sim.markets.repo import clear_repo_day, day_clearing_rate_pct
    from tests.test_repo_day import two_round_day

    # Funds cover the dealer's $10bn with cash to spare, asking more the more they lend.
    calm = two_round_day(fund_cash_bn=np.array([40.0]), fund_ask_slope_pct=0.10)
    base = clear_repo_day(calm)
    assert day_clearing_rate_pct(calm) < 4.36
    bid = replace(calm, banks_bid_pct=4.38)
    day = clear_repo_day(bid)
    assert day_clearing_rate_pct(bid) == pytest.approx(4.38)
    # The same cash changes hands, dearer: every fund trade at or above banks' bid.
    assert day.dealer_borrowed_bn == pytest.approx(base.dealer_borrowed_bn)
    assert day.fund_lent_bn == pytest.approx(base.fund_lent_bn)
    lent = day.trade_volumes_bn[0] > 0
    assert (day.trade_rates_pct[0][lent] >= 4.38 - 1e-12).all()
    assert (base.trade_rates_pct[0][lent] < 4.38).all()
    assert day.dealer_interest_bn.sum() > base.dealer_interest_bn.sum()
    # A bid below the day's rate changes nothing.
    low = clear_repo_day(replace(calm, banks_bid_pct=4.0))
    np.testing.assert_array_equal(low.dealer_interest_bn, base.dealer_interest_bn)


def _repo_over_iorb_bp(bank_reserves_bn: float, compete: bool, seed: int) -> tuple[float, float]:
    """Mean SOFR - IORB and EFFR - IORB (bp) over March, with banks' opening reserves as given."""
    scenario = make_scenario(MARCH, {"banks": {"reserves_bn": bank_reserves_bn, "compete_for_fund_cash": compete}})
    daily = run_checked(scenario, seed=seed).results()["daily"]
    return (
        float((daily.sofr_median_pct - daily.iorb_pct).mean() * 100),
        float((daily.effr_pct - daily.iorb_pct).mean() * 100),
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_when_banks_compete_for_the_funds_cash_repo_answers_to_scarce_reserves_up_to_fed_funds(seed):
    # Opening reserves of $1.7T hold about $2.1T through March, where banks' fed funds bid is 20bp
    # over IORB and money funds' cash is all lent by the day's end. Taking what dealers leave,
    # banks do not move repo (on seeds 1-3 SOFR sat 4 to 7bp under IORB); bidding for it at the
    # reserves they would hold once it left for the facility, they lift it to their fed funds bid
    # (+20bp on seeds 1-3), never above. With $2.7T they want only about what funds leave idle,
    # and repo rises by less than 1bp (0.0-0.8bp on seeds 1-3).
    scarce_off, _ = _repo_over_iorb_bp(1700.0, False, seed)
    scarce_on, effr = _repo_over_iorb_bp(1700.0, True, seed)
    assert effr > 10.0
    assert scarce_on > scarce_off + 10.0, (scarce_off, scarce_on)
    assert scarce_on < effr + 1.0
    abundant_off, _ = _repo_over_iorb_bp(2700.0, False, seed)
    abundant_on, _ = _repo_over_iorb_bp(2700.0, True, seed)
    assert -0.1 < abundant_on - abundant_off < 2.0, (abundant_off, abundant_on)


@pytest.mark.parametrize("seed", [1, 2])
def test_banks_bid_for_the_funds_cash_on_the_funds_supply_curve_not_at_a_quarter_ends_tranche_rate(seed):
    # On the quarter-end window-dressing dealers take less from funds and borrow the rest from
    # banks' tranches, whose asks set the dealers' rate (+6bp or more over the days before). Banks'
    # bid for the funds' idle cash is priced on the funds' supply curve, so it does not hand the
    # funds that tranche rate: SOFR on the snapshot moves by under 1.5bp with competition (0.04
    # and 0.41bp on seeds 1-2; pricing the bid at the dealers' rate made it 7-8bp).
    days = {"start_date": dt.date(2025, 3, 24), "end_date": dt.date(2025, 4, 4)}
    sofr = {}
    for compete in (False, True):
        daily = run_checked(make_scenario(days, {"banks": {"compete_for_fund_cash": compete}}), seed=seed).results()
        table = daily["daily"].set_index("date")
        table.index = table.index.astype(str)
        sofr[compete] = table.sofr_median_pct * 100
    assert sofr[False].loc["2025-03-31"] > sofr[False].loc["2025-03-24":"2025-03-28"].mean() + 3.0
    assert abs(sofr[True].loc["2025-03-31"] - sofr[False].loc["2025-03-31"]) < 1.5


@settings(max_examples=200, deadline=None)
@given(
    depositors=st.lists(st.floats(0.001, 1.0), min_size=1, max_size=40),
    banks=st.lists(st.floats(0.001, 1.0), min_size=1, max_size=30),
)
def test_custody_follows_size_no_bank_takes_more_than_one_depositor_over_its_share(depositors, banks):
    depositor_share = np.array(depositors) / sum(depositors)
    bank_share = np.array(banks) / sum(banks)
    custodian = custodians_by_size(depositor_share, bank_share)
    assert custodian.shape == depositor_share.shape and 0 <= custodian.min() and custodian.max() < bank_share.size
    held = np.bincount(custodian, weights=depositor_share, minlength=bank_share.size)
    # Each depositor goes where the most room is left, which is never negative: a bank ends over
    # its size share by less than the largest depositor.
    assert (held - bank_share).max() < depositor_share.max() + 1e-12
    assert custodian[np.argmax(depositor_share)] == np.argmax(bank_share)


def test_dealers_that_hold_reserves_are_left_out_of_custody_matching():
    # Bank-affiliated dealers hold reserves themselves; matched with the others they would take
    # the room of the largest banks and push the other dealers to banks short of their size.
    model = TreasuryMarketModel(make_scenario(MARCH), seed=1)
    dealers = model.accounts_of("dealer")
    affiliated = model.dealers.bank_affiliated
    assert affiliated.any() and not affiliated.all()
    custodian = model.ledger.custodian[dealers]
    assert (custodian[affiliated] == dealers[affiliated]).all()
    banks = model.accounts_of("bank")
    expected = banks[custodians_by_size(model.dealers.size_share[~affiliated], model.banks.size_share)]
    assert (custodian[~affiliated] == expected).all()


@pytest.mark.parametrize("seed", range(1, 9))
def test_no_custodian_holds_more_of_the_funds_cash_than_its_own_reserves(seed):
    # Custody follows size: a fund moving all its cash to the ON RRP cannot overdraw its bank,
    # so what banks borrow of the funds' cash answers to what reserves are worth to them, not to
    # which bank a large fund drew (drawn by size, on 7 of these 8 seeds one bank held 1.4-4.6
    # times its reserves in funds' cash, and banks borrowed $180-250bn a day to cover overdrafts).
    model = TreasuryMarketModel(make_scenario(MARCH), seed=seed)
    led = model.ledger
    banks, funds = model.accounts_of("bank"), model.accounts_of("money_fund")
    investable = led.money_bn[funds] + led.on_rrp_bn[funds] + led.repo_lent_bn[funds]
    at_custodians = led.reserves_paid_out_bn(funds, investable)[banks]
    assert at_custodians.sum() > 0.5 * investable.sum()
    assert (at_custodians < led.money_bn[banks]).all()
