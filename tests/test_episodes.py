"""Named historical episodes: the statistics, the file's checks, the page, and the shipped episodes' bands."""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibration.episodes import (
    STATISTICS,
    TABLE_STATISTICS,
    Band,
    episode_page,
    load_episode,
    measure,
    run_episode,
)
from sim.cli import main
from sim.scenario import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date.fromisoformat
REAL = os.environ.get("PLUMBING_DATA_DIR", "")
needs_real = pytest.mark.skipif(not REAL or not Path(REAL).is_dir(), reason="PLUMBING_DATA_DIR not set")


def _daily() -> pd.DataFrame:
    """Ten business days around the 30 June 2025 quarter-end, with known paths."""
    dates = pd.bdate_range("2025-06-23", "2025-07-04")
    n = len(dates)
    daily = pd.DataFrame({
        "date": dates,
        "tga_bn": 300.0 + 50.0 * np.arange(n),
        "reserves_bn": 3300.0 - 10.0 * np.arange(n),
        "on_rrp_bn": np.full(n, 100.0),
        "iorb_pct": np.full(n, 4.40),
        "sofr_median_pct": np.full(n, 4.33),
        "sofr_p99_pct": np.full(n, 4.45),
        "is_quarter_end": dates == pd.Timestamp("2025-06-30"),
    })  # fmt: skip
    qe = daily["is_quarter_end"]
    daily.loc[qe, "sofr_median_pct"] = 4.41
    daily.loc[qe, "on_rrp_bn"] = 250.0
    return daily


def test_statistics_read_the_daily_table():
    daily, start, end = _daily(), DAY("2025-06-23"), DAY("2025-07-04")
    stat = {name: function(daily, start, end) for name, (function, _, _) in STATISTICS.items()}
    assert stat["tga_change_bn"] == pytest.approx(450.0) and stat["reserves_change_bn"] == pytest.approx(-90.0)
    assert stat["reserves_fall_share_of_tga_rise"] == pytest.approx(0.2)
    assert stat["sofr_minus_iorb_max_bp"] == pytest.approx(1.0) and stat["sofr_p99_minus_iorb_max_bp"] == pytest.approx(
        5.0
    )
    # 30 June against the five days before: SOFR 4.41 vs 4.33 (+8bp), ON RRP 250 vs 100 (+150).
    assert stat["quarter_end_sofr_jump_min_bp"] == pytest.approx(8.0)
    assert stat["quarter_end_on_rrp_jump_min_bn"] == pytest.approx(150.0)
    # No quarter-end in the dates: nothing to measure.
    assert math.isnan(STATISTICS["quarter_end_sofr_jump_min_bp"][0](daily, DAY("2025-07-01"), end))


def test_auction_and_fails_statistics_compare_the_dates_with_the_eight_weeks_before():
    auctions = pd.DataFrame({
        "auction_date": ["2025-02-20", "2025-03-12", "2025-03-13", "2025-04-08", "2025-04-09", "2025-04-09"],
        "tenor": ["10y", "3y", "4w", "3y", "10y", "13w"],
        "high_yield_pct": [4.050, 4.040, 4.200, 4.090, 4.100, 4.500],
        "median_yield_pct": [4.000, 4.000, 4.000, 4.000, 4.000, 4.000],
    })  # fmt: skip
    weekly = pd.DataFrame({
        "week_end": pd.to_datetime(["2025-01-29", "2025-02-19", "2025-03-26", "2025-04-09", "2025-04-16"]),
        "fails_to_deliver_bn": [9.0, 1.0, 3.0, 4.0, 6.0],
        "fails_to_receive_bn": [np.nan] * 5,
        "fails_tracked_bn": [9.0, 1.0, 3.0, 4.0, 6.0],
    })  # fmt: skip
    tables = {"daily": None, "auctions": auctions, "fails_weekly": weekly}
    rise = TABLE_STATISTICS["coupon_high_minus_median_rise_bp"][0]
    # Coupons only (bills left out): during 9 and 10bp, mean 9.5; before (from 11 February) 5 and 4bp, mean 4.5.
    assert rise(tables, DAY("2025-04-08"), DAY("2025-04-10")) == pytest.approx(5.0)
    ratio = TABLE_STATISTICS["fails_weekly_rise_ratio"][0]
    # Weeks to 9 and 16 April (mean 5) against the weeks to 19 February and 26 March (mean 2); 29 January is too early.
    assert ratio(tables, DAY("2025-04-09"), DAY("2025-04-16")) == pytest.approx(2.5)
    assert math.isnan(rise(tables, DAY("2025-05-01"), DAY("2025-05-30")))


def test_a_band_holds_within_its_edges_only():
    band = Band(
        name="b", statistic="tga_change_bn", start=DAY("2025-01-02"), end=DAY("2025-02-03"), low=400, source="s"
    )
    assert band.holds(400.0) and band.holds(1e6) and not band.holds(399.0) and not band.holds(math.nan)
    assert band.text() == ">= 400 $bn"


def _episode_file(tmp_path: Path, **change: object) -> Path:
    body = {"name": "tiny", "description": "d", "scenario": "tiny_scenario.yaml", "seeds": [1, 2],
            "bands": [{"name": "TGA up", "statistic": "tga_change_bn", "start": "2025-03-03", "end": "2025-03-28",
                       "low": -1000, "source": "s"}], **change}  # fmt: skip
    (tmp_path / "tiny_scenario.yaml").write_text(yaml.safe_dump({
        "start_date": "2025-03-03", "end_date": "2025-03-28", "dealers": {"count": 6}, "real_money": {"count": 8},
        "banks": {"count": 5},
    }))  # fmt: skip
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("band", "key", "expected"),
    [
        ({"statistic": "nonsense"}, "bands[0]", "statistic one of"),
        ({"low": None}, "bands[0]", "low or high"),
        ({"end": "2025-03-01"}, "bands[0]", "end on or after start"),
        ({"source": ""}, "bands[0].source", "at least 1 character"),
    ],
)
def test_a_bad_episode_file_is_located(tmp_path, band, key, expected):
    good = {"name": "TGA up", "statistic": "tga_change_bn", "start": "2025-03-03", "end": "2025-03-28", "low": -1000,
            "source": "s"}  # fmt: skip
    path = _episode_file(tmp_path, bands=[{**good, **band}])
    with pytest.raises(ScenarioError) as err:
        load_episode(path)
    assert any(p.file == str(path) and p.key_path == key and expected in p.expected for p in err.value.problems), (
        err.value.problems
    )


def test_the_episodes_command_writes_a_page_per_episode(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("PLUMBING_DATA_DIR", raising=False)
    path = _episode_file(tmp_path)
    assert main(["episodes", str(path), "--out", str(tmp_path / "pages")]) == 0
    page = (tmp_path / "pages" / "tiny.md").read_text()
    assert (
        "# Episode: tiny" in page and "| TGA up | `tga_change_bn` | 2025-03-03 to 2025-03-28 | >= -1000 $bn |" in page
    )
    assert "1 of 1 bands hold on every seed" in page and "seed 1" in page and "seed 2" in page
    assert "tiny: 1 of 1 bands hold" in capsys.readouterr().out


def test_the_page_marks_a_seed_out_of_its_band():
    episode = load_episode(ROOT / "scenarios" / "episodes" / "quarter_ends_2025.yaml")
    daily = _daily()
    falls = daily.assign(on_rrp_bn=np.where(daily["is_quarter_end"], 50.0, 100.0))  # ON RRP down at the quarter-end
    measured = measure(episode, {1: daily, 2: falls})
    page = episode_page(episode, measured)
    assert "(out)" in page and "**no**" in page and "1 of 2 bands hold on every seed" in page


# ---------------------------------------------------------------- the shipped stressed episodes
EPISODES = ROOT / "scenarios" / "episodes"
# Strict expected failures: a model that meets one of these bands must say so here and on the
# episode's page.
# September 2019: the model's repo does not spike on the 17th: SOFR prints 2.4-3.5bp under IOER
# (its 99th percentile 3.4-3.5bp over) on seeds 1-3. After the tax date money funds' cash and banks'
# tranches still cover dealers' need (calibration/configs/baseline.yaml, notes).
SPIKE_MISSED = pytest.mark.xfail(strict=True, reason="no repo spike on 17 September 2019 in the model")
# April 2025: bids disperse with volatility by the fit's elasticity (0.27): the 8-10 April auctions
# bid 0.5bp wider, 0.4bp narrower and 0.1bp wider on seeds 1-3 (real 3.4bp wider); fails rise by
# 18% and 151% on seeds 1 and 3 and fall by 7% on seed 2 (real +43%).
BIDDING_MISSED = pytest.mark.xfail(strict=True, reason="the 8-10 April auctions bid less than 1bp wider")
FAILS_MISSED = pytest.mark.xfail(strict=True, reason="on seeds 1 and 2 fails rise by less than a fifth by 16 April")
# March 2020: dealers' net positions rise by $32bn and $23bn on seeds 1 and 2 (the real ones absorbed
# customers' sales, +$27bn in four weeks) and end flat on seed 3 (-$3.5bn); on seed 3 bid/ask over
# 20 April to 15 May is still 0.806 of the stressed weeks' mean (the band asks for 0.8 or less;
# 0.74 and 0.59 on seeds 1 and 2).
POSITIONS_FLAT = pytest.mark.xfail(strict=True, reason="on seed 3 dealers' net positions end flat by 18 March")
RELIEF_LATE = pytest.mark.xfail(strict=True, reason="on seed 3 bid/ask falls back only to 0.806 of the stress by May")
SHIPPED_BANDS = [
    pytest.param("september_2019", "SOFR over 100bp above IOER on 17 September", marks=SPIKE_MISSED),
    pytest.param("september_2019", "SOFR's 99th percentile over 300bp above IOER on 17 September",
                 marks=SPIKE_MISSED),
    ("september_2019", "SOFR back within 20bp of IOER during 23-27 September"),
    pytest.param("april_2025", "the 8-10 April coupon auctions bid wider than the eight weeks before (by 1bp or more)",
                 marks=BIDDING_MISSED),
    pytest.param("april_2025", "weekly fails in the tracked issues rise by a fifth or more in the weeks to 16 April",
                 marks=FAILS_MISSED),
    ("april_2025", "repo stays orderly - SOFR no more than 10bp over IORB"),
    ("march_2020", "dealers' bid/ask doubles in the worst two weeks (9-20 March)"),
    pytest.param("march_2020", "dealers' net positions rise (20 February to 18 March)", marks=POSITIONS_FLAT),
    pytest.param("march_2020", "relief - bid/ask from 20 April to 15 May below its mean of the eight weeks before "
                               "(which held the stress)", marks=RELIEF_LATE),
    ("march_2020", "repo stays within 50bp of IOER in March"),
    ("debt_limit_rebuild_2023", "the TGA is rebuilt by over $400bn (June to August)"),
    ("debt_limit_rebuild_2023", "reserves fall by less than half of the TGA's rise"),
    ("debt_limit_rebuild_2023", "the ON RRP falls by more than half of the TGA's rise"),
    ("quarter_ends_2022_2024", "SOFR does not fall at any quarter-end"),
    ("quarter_ends_2022_2024", "ON RRP take-up rises at every quarter-end"),
    ("quarter_ends_2025", "SOFR rises 3bp or more at every quarter-end"),
    ("quarter_ends_2025", "ON RRP take-up rises at every quarter-end"),
]  # fmt: skip


@functools.cache
def _shipped_episode(name: str) -> pd.DataFrame:
    """Every seed of a shipped episode, run once for all its bands."""
    return run_episode(load_episode(EPISODES / f"{name}.yaml"), data_dir=REAL)


@needs_real
@pytest.mark.parametrize(("episode", "band"), SHIPPED_BANDS)
def test_the_shipped_episodes_meet_their_bands_on_every_seed(episode, band):
    measured = _shipped_episode(episode)
    rows = measured[measured["band"] == band]
    assert len(rows) == len(load_episode(EPISODES / f"{episode}.yaml").spec.seeds) >= 3
    assert rows["in_band"].all(), rows[["seed", "value"]].to_dict("records")
