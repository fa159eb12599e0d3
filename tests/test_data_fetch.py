"""The downloader, against recorded responses in the publishers' formats (never the network): files in the
shared data folder's layout, readable by the loaders, and nothing written when a download fails."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from sim.data import FetchError, fetch_data, load_real_tables
from sim.data.fetch import FAILS_KEYS, FRED_SERIES, default_opener
from sim.files import write_atomic

RESPONSES = Path(__file__).resolve().parent / "fixtures" / "data" / "responses"
START, END = dt.date(2022, 4, 18), dt.date(2022, 4, 29)


class RecordedWeb:
    """An opener serving recorded responses by URL; records every URL asked for."""

    def __init__(self, fail_on: str | None = None, override: dict[str, bytes] | None = None):
        self.urls: list[str] = []
        self.fail_on = fail_on
        self.override = override or {}

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        if self.fail_on and self.fail_on in url:
            raise OSError("HTTP Error 503: Service Unavailable")
        for prefix, body in self.override.items():
            if url.startswith(prefix):
                return body
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.netloc == "fred.stlouisfed.org":
            recorded = RESPONSES / "fred" / f"{query['id']}.csv"
            if recorded.is_file():
                return recorded.read_bytes()
            return (RESPONSES / "fred" / "_template.csv").read_text().replace("{series_id}", query["id"]).encode()
        if parts.path == "/api/rates/all/search.csv":
            return (RESPONSES / "nyfed" / "rates_all.csv").read_bytes()
        if parts.path.startswith("/api/pd/get/"):
            recorded = RESPONSES / "nyfed" / "pd" / Path(parts.path).name
            return recorded.read_bytes() if recorded.is_file() else b'{"pd": {"timeseries": []}}'
        if parts.path.endswith("/od/auctions_query"):
            return (RESPONSES / "fiscal" / f"auctions_page{query['page[number]']}.json").read_bytes()
        if parts.path.endswith("/dts/operating_cash_balance"):
            return (RESPONSES / "fiscal" / "dts_page1.json").read_bytes()
        raise AssertionError(f"unexpected URL {url}")


def all_files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(scope="module")
def fetched(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path], RecordedWeb]:
    out = tmp_path_factory.mktemp("fetched")
    web = RecordedWeb()
    written = fetch_data(out, START, END, opener=web)
    return out, written, web


def test_writes_the_shared_folder_layout(fetched: tuple) -> None:
    out, written, _ = fetched
    expected = [f"fred/{s}.csv" for s in FRED_SERIES] + [
        "nyfed/reference_rates.csv", "nyfed/pd_fails_weekly.csv", "treasury/auctions_query.csv",
        "treasury/dts_operating_cash_balance.csv",
    ]  # fmt: skip
    assert [p.relative_to(out).as_posix() for p in written] == expected
    assert all_files(out) == sorted(expected)  # no temporary files left


def test_requests_the_official_endpoints(fetched: tuple) -> None:
    _, _, web = fetched
    assert web.urls[0] == "https://fred.stlouisfed.org/graph/fredgraph.csv?id=SOFR&cosd=2022-04-11&coed=2022-04-29"
    assert "https://markets.newyorkfed.org/api/rates/all/search.csv?startDate=2022-04-18&endDate=2022-04-29" in web.urls
    pd_urls = [u for u in web.urls if "/api/pd/get/" in u]
    assert pd_urls == [f"https://markets.newyorkfed.org/api/pd/get/{key}.json" for _, key in FAILS_KEYS]
    assert len(pd_urls) == 22
    auction_urls = [u for u in web.urls if "auctions_query" in u]
    assert auction_urls == [
        "https://api.fiscaldata.treasury.gov/services/api/fiscal_service/v1/accounting/od/auctions_query"
        f"?filter=auction_date:gte:2022-04-18,auction_date:lte:2022-04-29&sort=-auction_date"
        f"&page[number]={n}&page[size]=10000"
        for n in (1, 2)
    ]
    [dts_url] = [u for u in web.urls if "operating_cash_balance" in u]
    assert "filter=record_date:gte:2022-04-18,record_date:lte:2022-04-29" in dts_url


def test_fred_files(fetched: tuple) -> None:
    out, _, _ = fetched
    sofr = (out / "fred" / "SOFR.csv").read_text().splitlines()
    # Rows kept from a week before the start (2022-04-11) to the end; the holiday stays an empty cell.
    assert sofr[0] == "observation_date,SOFR"
    assert sofr[1] == "2022-04-11,0.30" and sofr[-1] == "2022-04-29,0.31"
    assert "2022-04-15," in sofr
    # An older-style download (header DATE, `.` for missing) is written in the current layout.
    assert (out / "fred" / "WRESBAL.csv").read_text() == (
        "observation_date,WRESBAL\n2022-04-13,3852500\n2022-04-20,\n2022-04-27,3751000\n"
    )


def test_nyfed_rates_export_normalised(fetched: tuple) -> None:
    out, _, _ = fetched
    raw = (out / "nyfed" / "reference_rates.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    lines = raw.decode().splitlines()
    assert lines[0].startswith("Effective Date,Rate Type,Rate (%),")
    assert lines[2] == "04/29/2022,SOFR,0.31,0.26,0.30,0.32,0.81,1005,,,,,,,,,,,"


def test_fails_file_assembled_with_totals(fetched: tuple) -> None:
    out, _, _ = fetched
    fails = pd.read_csv(out / "nyfed" / "pd_fails_weekly.csv", dtype=str, keep_default_na=False)
    assert list(fails.columns) == [
        "as_of_date", *(c for c, _ in FAILS_KEYS), "ust_total_fails_to_deliver_mn",
        "ust_total_fails_to_deliver_n_reported", "ust_total_fails_to_receive_mn",
        "ust_total_fails_to_receive_n_reported",
    ]  # fmt: skip
    assert list(fails["as_of_date"]) == ["2022-04-20", "2022-04-27"]  # 04-13 is before the start
    week = fails.set_index("as_of_date").loc["2022-04-20"]
    assert week["ust_2y_fails_to_receive_mn"] == ""  # `*`: withheld
    assert (week["ust_total_fails_to_deliver_mn"], week["ust_total_fails_to_deliver_n_reported"]) == ("702", "3")
    last = fails.set_index("as_of_date").loc["2022-04-27"]
    assert (last["ust_total_fails_to_deliver_mn"], last["ust_total_fails_to_deliver_n_reported"]) == ("1290", "2")
    assert (last["ust_total_fails_to_receive_mn"], last["ust_total_fails_to_receive_n_reported"]) == ("210", "1")


def test_auctions_file(fetched: tuple) -> None:
    out, _, _ = fetched
    lines = (out / "treasury" / "auctions_query.csv").read_text().splitlines()
    labels = json.loads((RESPONSES / "fiscal" / "auctions_page1.json").read_text())["meta"]["labels"]
    assert lines[0].split(",") == list(labels)  # the API's field order
    dates = [line.split(",")[4] for line in lines[1:]]
    assert dates == ["2022-04-28", "2022-04-26", "2022-04-18"]  # both pages, newest first
    assert lines[2].endswith(",null")  # a JSON null written as `null`


def test_dts_file(fetched: tuple) -> None:
    out, _, _ = fetched
    dts = pd.read_csv(out / "treasury" / "dts_operating_cash_balance.csv", dtype=str, keep_default_na=False)
    assert list(dts.columns[:3]) == ["Record Date", "Type of Account", "Opening Balance Today"]
    assert len(dts.columns) == 15
    assert list(dts["Record Date"]) == ["2022-04-18"] * 4 + ["2022-04-15"] * 2 + ["2022-04-14"] * 2
    assert list(dts["Source Line Number"][:4]) == ["1", "2", "3", "4"]
    assert dts["Opening Balance Today"].iloc[3] == "850000"


def test_fetched_folder_loads(fetched: tuple) -> None:
    out, _, _ = fetched
    tables = load_real_tables(out, START, END)
    daily = tables["daily"].set_index("date")
    assert daily.index[0] == pd.Timestamp("2022-04-18") and daily.index[-1] == pd.Timestamp("2022-04-29")
    # Percentiles on 04-28/29 come from the NY Fed export (the FRED responses stop at 04-27).
    assert daily.loc["2022-04-29", "sofr_p99_pct"] == pytest.approx(0.81)
    assert daily.loc["2022-04-29", "sofr_volume_bn"] == 1005
    assert daily.loc["2022-04-29", "effr_pct"] == pytest.approx(0.33)  # EFFR row of the NY Fed export
    assert daily.loc["2022-04-18", "tga_bn"] == pytest.approx(850.0)
    # WRESBAL has no value for 04-20, and 04-13 is too old to carry past 04-20.
    assert daily.loc["2022-04-19", "reserves_bn"] == pytest.approx(3852.5)
    assert pd.isna(daily.loc["2022-04-25", "reserves_bn"])
    assert list(tables["auctions"]["tenor"]) == ["13w", "2y", "7y"]
    assert list(tables["fails_weekly"]["fails_to_deliver_bn"]) == pytest.approx([0.702, 1.290])
    assert tables["notes"] == []


@pytest.mark.parametrize("failing", ["id=DGS10", "rates/all", "PDST10F-TR", "page[number]=2", "operating_cash"])
def test_failed_download_names_the_url_and_writes_nothing(tmp_path: Path, failing: str) -> None:
    out = tmp_path / "out"
    web = RecordedWeb(fail_on=failing)
    with pytest.raises(FetchError) as caught:
        fetch_data(out, START, END, opener=web)
    assert failing in caught.value.url and caught.value.url == web.urls[-1]
    assert str(caught.value).startswith(caught.value.url + ": download failed: HTTP Error 503")
    assert all_files(out) == []


def test_failure_keeps_existing_files(tmp_path: Path) -> None:
    (tmp_path / "fred").mkdir()
    (tmp_path / "fred" / "SOFR.csv").write_text("observation_date,SOFR\n2022-01-03,0.05\n")
    with pytest.raises(FetchError):
        fetch_data(tmp_path, START, END, opener=RecordedWeb(fail_on="operating_cash"))
    assert (tmp_path / "fred" / "SOFR.csv").read_text() == "observation_date,SOFR\n2022-01-03,0.05\n"
    assert all_files(tmp_path) == ["fred/SOFR.csv"]


@pytest.mark.parametrize(
    ("prefix", "body", "words"),
    [
        ("https://fred.stlouisfed.org", b"<html>Service unavailable</html>", "expected a FRED CSV"),
        ("https://fred.stlouisfed.org", b"observation_date,SOFR\n2022-04-18,abc\n", "expected a number"),
        ("https://markets.newyorkfed.org/api/rates", b"date,rate\n", "NY Fed export header"),
        ("https://markets.newyorkfed.org/api/pd", b'{"pd": {}}', "timeseries"),
        ("https://markets.newyorkfed.org/api/pd", b"not json", "not JSON"),
        ("https://api.fiscaldata.treasury.gov", b'{"error": "bad filter"}', "'data' list"),
    ],
)
def test_malformed_response_names_the_url(tmp_path: Path, prefix: str, body: bytes, words: str) -> None:
    web = RecordedWeb(override={prefix: body})
    with pytest.raises(FetchError) as caught:
        fetch_data(tmp_path / "out", START, END, opener=web)
    assert caught.value.url.startswith(prefix) and words in caught.value.message
    assert all_files(tmp_path / "out") == []


def test_start_after_end_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="after end"):
        fetch_data(tmp_path, END, START, opener=RecordedWeb())


def test_atomic_write_cleans_up_on_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "fred" / "SOFR.csv"
    write_atomic(target, b"old\n")

    def refuse(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("sim.files.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_atomic(target, b"new\n")
    assert target.read_bytes() == b"old\n"
    assert all_files(tmp_path) == ["fred/SOFR.csv"]


def test_default_opener_identifies_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    class Response:
        def __enter__(self) -> Response:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def read(self) -> bytes:
            return b"ok"

    def fake_urlopen(request: urllib.request.Request, timeout: float) -> Response:
        seen.update(url=request.full_url, agent=request.get_header("User-agent"), timeout=timeout)
        return Response()

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    assert default_opener("https://example.invalid/x.csv") == b"ok"
    assert seen["url"] == "https://example.invalid/x.csv"
    assert seen["agent"].startswith("plumbing/") and seen["timeout"] > 0
