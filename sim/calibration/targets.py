"""Calibration targets: the moments of real public data, with moving-block bootstrap standard errors.

Loads a data folder in the publishers' layouts with `sim.data.load_real_tables` (once per window, cut to
the window's dates, exactly as a simulated run's tables would be cut), computes every moment of
`sim.calibration.moments` for its window, and estimates each moment's standard error by resampling
blocks of whole Thursday-to-Wednesday weeks (the series are autocorrelated, so resampling single days
would understate it). Writes calibration/targets/targets.yaml with a header naming the exact command,
the data files and the dates used.

Regenerate from the repository root:

    python -m sim.calibration.targets --data ../shared/data --out calibration/targets/targets.yaml
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.calibration.moments import (
    BLOCK_WEEKS,
    EDGE_DAYS,
    MOMENTS,
    bootstrap_replicates,
    bootstrap_se,
    moment_observations,
    week_grid,
)
from sim.data import load_real_tables
from sim.data.fred import read_fred_series
from sim.data.nyfed import read_fails_weekly
from sim.data.treasury import read_auctions
from sim.messages import printable
from sim.scenario import Problem, ScenarioError
from sim.scenario.yamlfile import YamlFileError, load_yaml_file

DEFAULT_REPO_WINDOW = ("2022-01-01", "2024-12-31")  # IORB starts 2021-07-29; fails 2022-01-05
DEFAULT_AUCTION_WINDOW = ("2025-01-01", "2025-06-30")  # the public auction export starts 2025-01-08
DEFAULT_REPLICATIONS = 500  # the SEs' own Monte Carlo error is about 1/sqrt(2 x 500) = 3% of the SE
DEFAULT_SEED = 20240101
DEFAULT_OUT = Path("calibration") / "targets" / "targets.yaml"
TARGET_COLUMNS = ("name", "value", "se", "unit", "window", "table", "n", "level_comparable", "description")
COMMAND = "python -m sim.calibration.targets"

# The data files behind the moments: (path in the data folder, window, table, column), the column's first
# and last non-missing date in the window's table giving the dates used.
SOURCES: tuple[tuple[str, str, str, str], ...] = (
    ("fred/SOFR.csv", "repo", "daily", "sofr_median_pct"),
    ("fred/SOFR1.csv", "repo", "daily", "sofr_p1_pct"),
    ("fred/SOFR25.csv", "repo", "daily", "sofr_p25_pct"),
    ("fred/SOFR75.csv", "repo", "daily", "sofr_p75_pct"),
    ("fred/SOFR99.csv", "repo", "daily", "sofr_p99_pct"),
    ("fred/EFFR.csv", "repo", "daily", "effr_pct"),
    ("fred/IORB.csv", "repo", "daily", "iorb_pct"),
    ("fred/RRPONTSYD.csv", "repo", "daily", "on_rrp_bn"),
    ("fred/WRESBAL.csv", "repo", "daily", "reserves_bn"),
    ("nyfed/pd_fails_weekly.csv", "repo", "fails_weekly", "fails_tracked_bn"),
    ("treasury/auctions_query.csv", "auctions", "auctions", "high_yield_pct"),
)
DATE_COLUMNS = {"daily": "date", "auctions": "auction_date", "fails_weekly": "week_end"}


def _day(value: str | dt.date) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _file_dates(path: Path) -> pd.Series:
    """The dates a source file lists (its own date column), read with the project's loaders."""
    if path.parent.name == "fred":
        return pd.Series(read_fred_series(path, path.stem).index)
    if path.name == "pd_fails_weekly.csv":
        return read_fails_weekly(path)["week_end"]
    return read_auctions(path)["auction_date"]


def _sources(data_dir: Path, tables: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each source file's own date range and the range of dates used in its window (ISO strings)."""
    out: list[dict[str, Any]] = []
    for relative, window, table, column in SOURCES:
        path = data_dir / relative
        if not path.is_file():
            out.append({"file": relative, "window": window, "missing": True})
            continue
        listed = pd.to_datetime(_file_dates(path)).dropna()
        frame = tables[window][table]
        dates = pd.to_datetime(frame.loc[frame[column].notna(), DATE_COLUMNS[table]]) if column in frame else None
        used = (dates.min().date().isoformat(), dates.max().date().isoformat()) if dates is not None and len(dates) \
            else (None, None)  # fmt: skip
        out.append({
            "file": relative, "window": window, "file_first": listed.min().date().isoformat(),
            "file_last": listed.max().date().isoformat(), "used_first": used[0], "used_last": used[1],
        })  # fmt: skip
    return out


def compute_targets(
    data_dir: str | Path,
    repo_window: tuple[str, str] = DEFAULT_REPO_WINDOW,
    auction_window: tuple[str, str] = DEFAULT_AUCTION_WINDOW,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int = DEFAULT_SEED,
) -> pd.DataFrame:
    """Every calibration moment of the real data in `data_dir`, with a bootstrap standard error.

    Args:
        data_dir: folder of public data files in the publishers' layouts (`fred/`, `nyfed/`, `treasury/`).
        repo_window: first and last date (ISO, inclusive) of the repo, reservoir and fails moments.
        auction_window: first and last date (ISO, inclusive) of the auction moments.
        replications: bootstrap replications per window; 0 skips the bootstrap (se all NaN).
        seed: seed of the bootstrap (each window draws from its own generator seeded with it).

    Returns:
        One row per moment in registry order, columns TARGET_COLUMNS: value and se in the moment's unit
        (NaN where the data lack the inputs), n the observations used (days, auctions or weeks). `attrs`
        holds the windows, block lengths, bootstrap settings and the source files with their dates, which
        `write_targets` puts in the file's header.
    """
    data_dir_given = str(data_dir)
    data_dir = Path(data_dir)
    windows = {"repo": tuple(repo_window), "auctions": tuple(auction_window)}
    rows: list[dict[str, Any]] = []
    tables: dict[str, Mapping[str, Any]] = {}
    meta_windows: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for window, (start, end) in windows.items():
        loaded = load_real_tables(data_dir, _day(start), _day(end))
        notes.extend(n for n in loaded["notes"] if n not in notes)
        tables[window] = loaded
        observations = moment_observations(loaded, window)
        block = BLOCK_WEEKS[window]
        se: dict[str, float | None] = dict.fromkeys(observations)
        if replications > 0:
            se = bootstrap_se(bootstrap_replicates(observations, replications, seed, block))
        for name, obs in observations.items():
            moment = MOMENTS[name]
            value = moment.value(obs)
            rows.append({
                "name": name, "value": np.nan if value is None else value,
                "se": np.nan if se[name] is None else se[name], "unit": moment.unit, "window": window,
                "table": moment.table, "n": moment.n_used(obs), "level_comparable": moment.level_comparable,
                "description": moment.description,
            })  # fmt: skip
        has_obs = any(obs is not None and len(obs) for obs in observations.values())
        weeks = week_grid(observations)[1] if has_obs else 0
        meta_windows[window] = {"start": str(start), "end": str(end), "block_weeks": block, "weeks": weeks}
    frame = pd.DataFrame(rows, columns=list(TARGET_COLUMNS))
    frame["n"] = frame["n"].astype(int)
    frame["level_comparable"] = frame["level_comparable"].astype(bool)
    frame.attrs["meta"] = {
        "data_dir": data_dir_given,
        "windows": meta_windows,
        "bootstrap": {"replications": int(replications), "seed": int(seed), "edge_days": EDGE_DAYS},
        "sources": _sources(data_dir, tables),
        "notes": notes,
        "empty": [name for name, n in zip(frame["name"], frame["n"], strict=True) if n == 0],
    }
    return frame


def regenerate_command(meta: dict[str, Any], out: str | Path) -> str:
    """The command line that rewrites the targets file with the same settings."""
    parts = [COMMAND, "--data", str(meta.get("data_dir", "DATA_DIR")), "--out", str(out)]
    windows, boot = meta.get("windows", {}), meta.get("bootstrap", {})
    for window, option, default in (("repo", "--repo-window", DEFAULT_REPO_WINDOW),
                                    ("auctions", "--auction-window", DEFAULT_AUCTION_WINDOW)):  # fmt: skip
        given = windows.get(window)
        if given and (given["start"], given["end"]) != default:
            parts += [option, given["start"], given["end"]]
    if boot.get("replications", DEFAULT_REPLICATIONS) != DEFAULT_REPLICATIONS:
        parts += ["--replications", str(boot["replications"])]
    if boot.get("seed", DEFAULT_SEED) != DEFAULT_SEED:
        parts += ["--seed", str(boot["seed"])]
    return " ".join(parts)


def _header(meta: dict[str, Any], out: str | Path) -> str:
    lines = [
        "Calibration targets: moments of real public data with moving-block bootstrap standard errors.",
        "Generated file; do not edit. Regenerate from the repository root with:",
        f"  {regenerate_command(meta, out)}",
        "",
        "Data files (publishers' layouts, read with sim.data.load_real_tables; not committed):",
    ]
    for source in meta.get("sources", []):
        if source.get("missing"):
            lines.append(f"  {source['file']:<28} not found")
            continue
        lines.append(f"  {source['file']:<28} file {source['file_first']} .. {source['file_last']}; "
                     f"{source['window']} window uses {source['used_first']} .. {source['used_last']}")  # fmt: skip
    lines.append("  (fred/WRESBAL.csv is weekly; each Wednesday's value is carried to the following days.)")
    lines.append(
        "  (The ON RRP offering rate, and IOER before IORB, come from the FOMC table sim/data/administered_rates.csv.)"
    )
    lines += [
        "",
        "Standard errors: moving-block bootstrap over whole Thursday-to-Wednesday weeks (block_weeks per window",
        "below), the same week draw for all moments of a replication; change moments resample weeks within the",
        f"first and last {EDGE_DAYS} days. value and se in each target's unit; null where the data lack the inputs.",
        "level_comparable: false marks a level that is not comparable one-for-one with the model; weight it out.",
        "Fails moments read the file's 2 to 30-year nominal coupon series (the on-the-run issues the model counts as",
        "tracked; its FRN and TIPS series are left out), summed over the tenors reported each week (a lower bound).",
    ]
    if meta.get("empty"):
        lines.append(f"No observations in their window (value null): {', '.join(meta['empty'])}.")
    lines += [f"Note: {note}" for note in meta.get("notes", [])]
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def _plain(value: Any) -> Any:
    """A YAML-ready scalar: floats as full-precision floats (NaN as null), numpy scalars as Python ones."""
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(value) if np.isfinite(value) else None
    return value


def write_targets(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write targets (as from `compute_targets`) to a YAML file with a header comment.

    The header gives the command that regenerates the file, the data files and their date ranges; the
    body holds the windows, the bootstrap settings and, under `moments`, one entry per target (floats at
    full precision, so reading the file back gives the computed values exactly).
    """
    path = Path(path)
    meta = dict(frame.attrs.get("meta", {}))
    body = {
        "windows": meta.get("windows", {}),
        "bootstrap": {"method": "moving-block bootstrap over Thursday-to-Wednesday weeks"} | meta.get("bootstrap", {}),
        "moments": [{column: _plain(row[column]) for column in TARGET_COLUMNS} for _, row in frame.iterrows()],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    text = _header(meta, path) + yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=120)
    path.write_text(text, encoding="utf-8")
    return path


def _moments_of(data: Any, file: str) -> list[dict[str, Any]]:
    """The `moments` list of a parsed targets file, each a mapping with a name and numeric value and se.

    Raises:
        ScenarioError: anything else, located at its key (the file is generated, so this is a file
            edited by hand or cut short).
    """
    if not isinstance(data, dict):
        raise ScenarioError([Problem(file, "(top level)", "a mapping of keys", type(data).__name__)])
    moments = data.get("moments")
    if not isinstance(moments, list):
        raise ScenarioError([Problem(file, "moments", "a list of targets", type(moments).__name__)])
    problems = []
    for i, row in enumerate(moments):
        if not isinstance(row, dict):
            problems.append(Problem(file, f"moments[{i}]", "a mapping (name, value, se, ...)", type(row).__name__))
            continue
        if not isinstance(row.get("name"), str):
            problems.append(Problem(file, f"moments[{i}].name", "the target's name", printable(repr(row.get("name")))))
        for key in ("value", "se"):
            if not (row.get(key) is None or _is_number(row[key])):
                problems.append(Problem(file, f"moments[{i}].{key}", "a number or null", printable(repr(row[key]))))
    for key in ("windows", "bootstrap"):
        if not isinstance(data.get(key, {}), dict):
            problems.append(Problem(file, key, "a mapping", type(data[key]).__name__))
    if problems:
        raise ScenarioError(problems)
    return moments


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def read_targets(path: str | Path) -> pd.DataFrame:
    """A targets file back as a frame (columns TARGET_COLUMNS, NaN for null); windows and bootstrap in attrs.

    The file is read within the project's YAML limits (`sim.scenario.yamlfile`).

    Raises:
        ScenarioError: the file is missing, unreadable or malformed (file, key, expected, found).
    """
    try:
        data = load_yaml_file(path, "a targets file")
    except YamlFileError as err:
        raise ScenarioError([Problem(err.file, err.key_path, err.expected, err.found)]) from None
    frame = pd.DataFrame(_moments_of(data, str(path)), columns=list(TARGET_COLUMNS))
    frame[["value", "se"]] = frame[["value", "se"]].astype(float)
    frame.attrs["meta"] = {"windows": data.get("windows", {}), "bootstrap": data.get("bootstrap", {})}
    return frame


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: compute the targets from a data folder and write the YAML file."""
    parser = argparse.ArgumentParser(prog=COMMAND, description="Compute calibration targets from real public data.")
    parser.add_argument("--data", default=os.environ.get("PLUMBING_DATA_DIR"),
                        help="data folder (default: $PLUMBING_DATA_DIR)")  # fmt: skip
    parser.add_argument("--out", default=str(DEFAULT_OUT), help=f"YAML file to write (default: {DEFAULT_OUT})")
    parser.add_argument("--repo-window", nargs=2, metavar=("START", "END"), default=DEFAULT_REPO_WINDOW)
    parser.add_argument("--auction-window", nargs=2, metavar=("START", "END"), default=DEFAULT_AUCTION_WINDOW)
    parser.add_argument("--replications", type=int, default=DEFAULT_REPLICATIONS)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    if not args.data or not Path(args.data).is_dir():
        parser.error("--data must name a data folder (or set PLUMBING_DATA_DIR)")
    started = time.perf_counter()
    frame = compute_targets(args.data, tuple(args.repo_window), tuple(args.auction_window), args.replications,
                            args.seed)  # fmt: skip
    path = write_targets(frame, args.out)
    with pd.option_context("display.width", 160, "display.max_colwidth", 40):
        print(frame[["name", "value", "se", "unit", "window", "n", "level_comparable"]].to_string(index=False))
    print(f"wrote {path} ({len(frame)} targets, {time.perf_counter() - started:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
