"""Downloading the public data files from their official endpoints into a data folder.

Writes the same folder layout and file formats as the shared data folder, so `load_real_tables` reads a
fresh download exactly as it reads the shared copy:

- `fred/<ID>.csv` from FRED's graph download (`fredgraph.csv?id=<ID>`), header `observation_date,<ID>`;
- `nyfed/reference_rates.csv`, the New York Fed's all-reference-rates CSV export, as delivered;
- `nyfed/pd_fails_weekly.csv`, assembled from the NY Fed's primary-dealer by-issue fails series
  (`api/pd/get/<keyid>.json`), $ millions, with the totals and reported counts the data README describes;
- `treasury/auctions_query.csv` from Fiscal Data's `auctions_query` (all fields, API order, `null` for missing);
- `treasury/dts_operating_cash_balance.csv` from Fiscal Data's DTS `operating_cash_balance`, with the site
  export's column headers, newest first.

Everything is downloaded first and only then written, each file through a temporary file renamed into place,
so a failed download leaves no new or half-written file behind.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import urllib.request
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sim import __version__
from sim.files import write_atomic

Opener = Callable[[str], bytes]

FRED_URL = "https://fred.stlouisfed.org/graph/fredgraph.csv"
NYFED_RATES_URL = "https://markets.newyorkfed.org/api/rates/all/search.csv"
NYFED_PD_URL = "https://markets.newyorkfed.org/api/pd/get/{keyid}.json"
FISCAL_DATA_URL = "https://api.fiscaldata.treasury.gov/services/api/fiscal_service"
AUCTIONS_URL = f"{FISCAL_DATA_URL}/v1/accounting/od/auctions_query"
DTS_URL = f"{FISCAL_DATA_URL}/v1/accounting/dts/operating_cash_balance"
USER_AGENT = f"plumbing/{__version__} (Treasury market plumbing simulator; public data download)"
TIMEOUT_SECONDS = 60.0
FISCAL_PAGE_SIZE = 10_000  # Fiscal Data's largest page
MAX_PAGES = 1_000

# Every FRED series of the shared data folder.
FRED_SERIES = (
    "SOFR", "SOFR1", "SOFR25", "SOFR75", "SOFR99", "EFFR", "IORB", "RRPONTSYD", "WRESBAL", "WTREGEN", "TREAST",
    "WALCL", "DGS1MO", "DGS3MO", "DGS2", "DGS5", "DGS10", "DGS30", "T10Y3M",
)  # fmt: skip
# FRED rows start this many days before `start`, so weekly H.4.1 values can be carried into the first days.
FRED_LEAD_DAYS = 7

# pd_fails_weekly.csv columns and the NY Fed key id of each (data README); totals are added after them.
_FAILS_SERIES = (("2y", "PDSI2F"), ("3y", "PDSI3F"), ("5y", "PDSI5F"), ("7y", "PDSI7F"), ("10y", "PDSI10F"),
                 ("20y", "PDSI20F"), ("30y", "PDSI30F"), ("frn_2y", "PDFRN2F"), ("tips_5y", "PDST5F"),
                 ("tips_10y", "PDST10F"), ("tips_30y", "PDST30F"))  # fmt: skip
FAILS_KEYS = tuple(
    (f"ust_{name}_fails_to_{side}_mn", f"{prefix}-{code}")
    for name, prefix in _FAILS_SERIES
    for side, code in (("deliver", "TD"), ("receive", "TR"))
)

# DTS site export header -> Fiscal Data API field, in the site export's column order.
DTS_COLUMNS = (
    ("Record Date", "record_date"), ("Type of Account", "account_type"), ("Opening Balance Today", "open_today_bal"),
    ("Opening Balance This Month", "open_month_bal"), ("Opening Balance This Fiscal Year", "open_fiscal_year_bal"),
    ("Table Number", "table_nbr"), ("Table Name", "table_nm"), ("Sub Table Name", "sub_table_name"),
    ("Source Line Number", "src_line_nbr"), ("Fiscal Year", "record_fiscal_year"),
    ("Fiscal Quarter Number", "record_fiscal_quarter"), ("Calendar Year", "record_calendar_year"),
    ("Calendar Quarter Number", "record_calendar_quarter"), ("Calendar Month Number", "record_calendar_month"),
    ("Calendar Day Number", "record_calendar_day"),
)  # fmt: skip


class FetchError(OSError):
    """A download that failed or returned something other than the expected format.

    Attributes:
        url: the address requested.
        message: what went wrong.
    """

    def __init__(self, url: str, message: str):
        self.url = url
        self.message = message
        super().__init__(f"{url}: {message}")

    def __str__(self) -> str:
        return f"{self.url}: {self.message}"


def default_opener(url: str) -> bytes:
    """GET `url` with a timeout and an identifying User-Agent; the response body (raises on HTTP errors)."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        return response.read()


def fetch_data(out_dir: str | Path, start: dt.date, end: dt.date, opener: Opener | None = None) -> list[Path]:
    """Download the public data files for [start, end] into `out_dir`, in the shared data folder's layout.

    Args:
        out_dir: folder to write into (created if needed); existing files of the same names are replaced.
        start: first date wanted (FRED series start `FRED_LEAD_DAYS` earlier, for as-of weekly values).
        end: last date wanted.
        opener: `opener(url) -> bytes`, the HTTP GET to use; default `default_opener` (urllib).

    Returns:
        The files written, in writing order.

    Raises:
        FetchError: a download failed or its content was not in the expected format (names the URL). Nothing
            is written in that case.
        ValueError: start after end.
    """
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    get = _Getter(opener or default_opener)
    files: dict[Path, bytes] = {}
    for series_id in FRED_SERIES:
        files[Path("fred") / f"{series_id}.csv"] = _fred(get, series_id, start, end)
    files[Path("nyfed") / "reference_rates.csv"] = _reference_rates(get, start, end)
    files[Path("nyfed") / "pd_fails_weekly.csv"] = _fails(get, start, end)
    files[Path("treasury") / "auctions_query.csv"] = _auctions(get, start, end)
    files[Path("treasury") / "dts_operating_cash_balance.csv"] = _dts(get, start, end)
    written = []
    for relative, data in files.items():
        path = Path(out_dir) / relative
        write_atomic(path, data)
        written.append(path)
    return written


class _Getter:
    """Calls the opener, turning any failure into a `FetchError` that names the URL."""

    def __init__(self, opener: Opener):
        self.opener = opener

    def bytes(self, url: str) -> bytes:
        try:
            body = self.opener(url)
        except Exception as exc:  # any transport failure (HTTP status, DNS, timeout) is reported the same way
            raise FetchError(url, f"download failed: {exc}") from exc
        if not isinstance(body, bytes | bytearray):
            raise FetchError(url, f"opener returned {type(body).__name__}, expected bytes")
        return bytes(body)

    def text(self, url: str) -> str:
        try:
            return self.bytes(url).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FetchError(url, f"response is not UTF-8 text ({exc.reason})") from None

    def json(self, url: str) -> Any:
        try:
            return json.loads(self.text(url))
        except json.JSONDecodeError as exc:
            raise FetchError(url, f"response is not JSON ({exc.msg} at line {exc.lineno})") from None


def _csv_bytes(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _iso_date(url: str, text: object, what: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        raise FetchError(url, f"{what}: expected a date YYYY-MM-DD; found {text!r}") from None


def _fred(get: _Getter, series_id: str, start: dt.date, end: dt.date) -> bytes:
    """One FRED series in FRED's current download layout (older downloads' `DATE` header and `.` normalised)."""
    first = start - dt.timedelta(days=FRED_LEAD_DAYS)
    url = f"{FRED_URL}?{urlencode({'id': series_id, 'cosd': first.isoformat(), 'coed': end.isoformat()})}"
    lines = get.text(url).splitlines()
    if not lines or lines[0].strip() not in (f"observation_date,{series_id}", f"DATE,{series_id}"):
        found = lines[0][:80] if lines else ""
        raise FetchError(url, f"expected a FRED CSV with header observation_date,{series_id}; found {found!r}")
    rows = [["observation_date", series_id]]
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split(",")
        if len(cells) != 2:
            raise FetchError(url, f"line {number}: expected 2 fields; found {line!r}")
        day = _iso_date(url, cells[0].strip(), f"line {number}")
        value = cells[1].strip()
        value = "" if value == "." else value
        if value:
            _decimal(url, value, f"line {number}")
        if first <= day <= end:
            rows.append([day.isoformat(), value])
    return _csv_bytes(rows)


def _decimal(url: str, text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise FetchError(url, f"{what}: expected a number; found {text!r}") from None
    if not value.is_finite():
        raise FetchError(url, f"{what}: expected a number; found {text!r}")
    return value


def _reference_rates(get: _Getter, start: dt.date, end: dt.date) -> bytes:
    """The NY Fed all-reference-rates export for the window, as delivered (LF line ends, no byte-order mark)."""
    params = {"startDate": start.isoformat(), "endDate": end.isoformat()}
    url = f"{NYFED_RATES_URL}?{urlencode(params)}"
    lines = get.text(url).splitlines()
    if not lines or not lines[0].startswith("Effective Date,Rate Type,"):
        found = lines[0][:80] if lines else ""
        raise FetchError(url, f"expected the NY Fed export header 'Effective Date,Rate Type,...'; found {found!r}")
    return ("\n".join(line for line in lines if line.strip()) + "\n").encode("utf-8")


def _fails(get: _Getter, start: dt.date, end: dt.date) -> bytes:
    """Weekly by-issue fails ($ millions) for as-of dates in [start, end], one row per Wednesday, with totals."""
    weeks: dict[dt.date, dict[str, str]] = {}
    for column, keyid in FAILS_KEYS:
        url = NYFED_PD_URL.format(keyid=keyid)
        payload = get.json(url)
        try:
            series = payload["pd"]["timeseries"]
        except (KeyError, TypeError):
            raise FetchError(url, "expected JSON {'pd': {'timeseries': [...]}}") from None
        if not isinstance(series, list):
            raise FetchError(url, "expected JSON {'pd': {'timeseries': [...]}}")
        for item in series:
            if not isinstance(item, dict) or "asofdate" not in item or "value" not in item:
                raise FetchError(url, f"expected entries with asofdate and value; found {str(item)[:80]!r}")
            day = _iso_date(url, item["asofdate"], "asofdate")
            value = "" if item["value"] is None else str(item["value"]).strip()
            value = "" if value == "*" else value  # `*`: withheld for confidentiality
            if value:
                _decimal(url, value, f"value on {day.isoformat()}")
            if start <= day <= end:
                weeks.setdefault(day, {})[column] = value
    deliver = [c for c, _ in FAILS_KEYS if "_to_deliver_" in c]
    receive = [c for c, _ in FAILS_KEYS if "_to_receive_" in c]
    header = [
        "as_of_date", *(c for c, _ in FAILS_KEYS),
        "ust_total_fails_to_deliver_mn", "ust_total_fails_to_deliver_n_reported",
        "ust_total_fails_to_receive_mn", "ust_total_fails_to_receive_n_reported",
    ]  # fmt: skip
    rows = [header]
    for day in sorted(weeks):
        values = weeks[day]
        row = [day.isoformat(), *(values.get(c, "") for c, _ in FAILS_KEYS)]
        for side in (deliver, receive):
            reported = [Decimal(values[c]) for c in side if values.get(c)]
            row += [format(sum(reported, Decimal(0)), "f"), str(len(reported))]
        rows.append(row)
    return _csv_bytes(rows)


def _fiscal_records(get: _Getter, endpoint: str, params: dict[str, str]) -> tuple[list[dict[str, Any]], list[str]]:
    """All records of a Fiscal Data query (every page) and the dataset's field names in API order."""
    records: list[dict[str, Any]] = []
    fields: list[str] = []
    page, pages = 1, 1
    while page <= pages:
        query = {**params, "page[number]": str(page), "page[size]": str(FISCAL_PAGE_SIZE)}
        url = f"{endpoint}?{urlencode(query, safe=':,[]')}"
        payload = get.json(url)
        if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
            raise FetchError(url, "expected a Fiscal Data JSON object with a 'data' list")
        meta = payload.get("meta") or {}
        try:
            pages = int(meta.get("total-pages", 1))
        except (TypeError, ValueError):
            raise FetchError(url, f"meta total-pages is not a number: {meta.get('total-pages')!r}") from None
        if pages > MAX_PAGES:
            raise FetchError(url, f"{pages} pages; refusing more than {MAX_PAGES}")
        if not fields:
            labels = meta.get("labels")
            fields = list(labels) if isinstance(labels, dict) else []
        for record in payload["data"]:
            if not isinstance(record, dict):
                raise FetchError(url, f"expected records as JSON objects; found {str(record)[:80]!r}")
            records.append(record)
        page += 1
    if records and not fields:
        fields = list(records[0])  # records list their fields in the dataset's order
    return records, fields


def _fiscal_text(value: Any, missing: str) -> str:
    if value is None or value == "null" or value == "":
        return missing
    return str(value)


def _auctions(get: _Getter, start: dt.date, end: dt.date) -> bytes:
    """Auction results held in [start, end], newest first, every field in the API's order, `null` if missing."""
    params = {"filter": f"auction_date:gte:{start.isoformat()},auction_date:lte:{end.isoformat()}",
              "sort": "-auction_date"}  # fmt: skip
    records, fields = _fiscal_records(get, AUCTIONS_URL, params)
    if not fields:
        raise FetchError(AUCTIONS_URL, "the response lists no fields (no records and no meta labels)")
    records.sort(key=lambda r: str(r.get("auction_date", "")), reverse=True)
    rows = [fields] + [[_fiscal_text(r.get(f), "null") for f in fields] for r in records]
    return _csv_bytes(rows)


def _dts(get: _Getter, start: dt.date, end: dt.date) -> bytes:
    """DTS Table I rows in [start, end] with the site export's headers, newest first, empty cell if missing."""
    params = {"filter": f"record_date:gte:{start.isoformat()},record_date:lte:{end.isoformat()}",
              "sort": "-record_date"}  # fmt: skip
    records, _ = _fiscal_records(get, DTS_URL, params)

    def order(record: dict[str, Any]) -> tuple[str, int]:
        line = str(record.get("src_line_nbr", ""))
        return (str(record.get("record_date", "")), -int(line) if line.isdigit() else 0)

    records.sort(key=order, reverse=True)  # newest date first; within a date, table line 1 first
    rows = [[header for header, _ in DTS_COLUMNS]]
    rows += [[_fiscal_text(r.get(field), "") for _, field in DTS_COLUMNS] for r in records]
    return _csv_bytes(rows)
