"""StatBank client, parsers and fetch, against a real local HTTP server (never the network).

The server replays the hand-written responses in ``tests/fixtures/statbank/`` and records every
request, so the tests check both what the client sends and how it reacts to what comes back.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from datapakke.raw import fetch
from datapakke.raw.errors import SourceFileError
from datapakke.raw.fetch import FetchConfigError, fetch_configured, load_config
from datapakke.raw.statbank import (
    CSV_CELL_LIMIT,
    StatBankClient,
    StatBankError,
    count_cells,
    merge_csv_parts,
    parse_jsonstat,
    parse_statbank_csv,
    split_for_cell_limit,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "statbank"
BOM = b"\xef\xbb\xbf"
FOLK1A_VARIABLES = {
    "OMRÅDE": ["*"],
    "KØN": ["1", "2"],
    "ALDER": ["*"],
    "CIVILSTAND": ["TOT"],
    "Tid": ["*"],
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def bulk_body() -> bytes:
    """The BULK fixture with CRLF line ends, whatever a checkout did to them."""
    return fixture("folk1a_bulk_codes.csv").replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def tableinfo() -> dict[str, Any]:
    return json.loads(fixture("folk1a_tableinfo.json"))


# --------------------------------------------------------------------------- the fake StatBank


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/csv; charset=utf-8"
    delay: float = 0.0
    announce: int | None = None  # Content-Length to announce (more than sent = truncated body)


def json_reply(name: str, status: int = 200) -> Reply:
    return Reply(status, fixture(name), "application/json; charset=utf-8")


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    @property
    def body(self) -> Any:
        return json.loads(self.raw.decode("utf-8"))


@dataclass
class FakeStatBank:
    """Replies per path, in order; the last reply of a path repeats (a persistent state)."""

    base_url: str = ""
    replies: dict[str, list[Reply | Callable[[Any], Reply]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on(self, endpoint: str, *replies: Reply | Callable[[Any], Reply]) -> None:
        self.replies[f"/v1/{endpoint}"] = list(replies)

    def next_reply(self, path: str, body: Any) -> Reply:
        with self.lock:
            queue = self.replies.get(path)
            if not queue:
                return Reply(404, b'{"errorTypeCode":"NOT-CONFIGURED","message":"no reply"}')
            reply = queue.pop(0) if len(queue) > 1 else queue[0]
        return reply(body) if callable(reply) else reply

    def calls(self, endpoint: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == f"/v1/{endpoint}"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        fake = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with fake.lock:
            fake.requests.append(Recorded("POST", self.path, dict(self.headers.items()), raw))
        reply = fake.next_reply(self.path, json.loads(raw.decode("utf-8")))
        if reply.delay:
            time.sleep(reply.delay)
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(reply.announce or len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout) before the reply
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStatBank

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


@pytest.fixture
def statbank() -> Iterator[FakeStatBank]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.fake = FakeStatBank(base_url=f"http://127.0.0.1:{server.server_address[1]}/v1")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02})
    thread.daemon = True
    thread.start()
    try:
        yield server.fake
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Sleeps:
    seconds: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def client_for(fake: FakeStatBank, **kwargs: Any) -> tuple[StatBankClient, Sleeps]:
    sleeps = Sleeps()
    options: dict[str, Any] = {"timeout": 5, "max_retries": 4, "backoff": 1.0, **kwargs}
    return StatBankClient(fake.base_url, sleep=sleeps, **options), sleeps


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --------------------------------------------------------------------------- requests


def test_data_request_body_is_the_documented_shape(statbank: FakeStatBank) -> None:
    statbank.on("data", Reply(body=bulk_body()))
    client, _ = client_for(statbank)
    client.data("FOLK1A", FOLK1A_VARIABLES)
    (request,) = statbank.requests
    assert request.method == "POST"
    assert request.path == "/v1/data"
    assert request.headers["Content-Type"].startswith("application/json")
    assert "OMRÅDE".encode() in request.raw  # UTF-8, not \u escapes
    assert request.body == {
        "table": "FOLK1A",
        "format": "BULK",
        "valuePresentation": "Code",
        "lang": "da",
        "variables": [
            {"code": "OMRÅDE", "values": ["*"]},
            {"code": "KØN", "values": ["1", "2"]},
            {"code": "ALDER", "values": ["*"]},
            {"code": "CIVILSTAND", "values": ["TOT"]},
            {"code": "Tid", "values": ["*"]},
        ],
    }
    assert "timeOrder" not in request.body


def test_tableinfo_request_and_answer(statbank: FakeStatBank) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    client, _ = client_for(statbank)
    info = client.tableinfo("FOLK1A")
    assert statbank.requests[0].path == "/v1/tableinfo"
    assert statbank.requests[0].body == {"table": "FOLK1A", "format": "JSON"}
    assert info["updated"] == "2025-08-11T08:00:00"
    assert [v["id"] for v in info["variables"]] == ["OMRÅDE", "KØN", "ALDER", "CIVILSTAND", "Tid"]


def test_tableinfo_that_is_not_json_is_an_error(statbank: FakeStatBank) -> None:
    statbank.on("tableinfo", Reply(body=fixture("html_error.html"), content_type="text/html"))
    client, _ = client_for(statbank)
    with pytest.raises(StatBankError, match="tableinfo for table FOLK1A that is not JSON"):
        client.tableinfo("FOLK1A")


# --------------------------------------------------------------------------- success per format


def test_bulk_extract_round_trip(statbank: FakeStatBank) -> None:
    statbank.on("data", Reply(body=bulk_body()))
    client, _ = client_for(statbank)
    body = client.extract("FOLK1A", FOLK1A_VARIABLES)
    assert body == bulk_body()
    assert len(statbank.requests) == 1
    assert statbank.requests[0].body["variables"][0] == {"code": "OMRÅDE", "values": ["*"]}
    frame = parse_statbank_csv(body)
    header = ["OMRÅDE", "KØN", "ALDER", "CIVILSTAND", "TID", "INDHOLD"]
    assert list(frame.columns) == [*header, "_source_row"]
    assert frame.iloc[0].tolist()[:6] == ["000", "1", "0", "TOT", "2025K1", "29815"]


def test_csv_labels_round_trip(statbank: FakeStatBank) -> None:
    statbank.on("data", Reply(body=fixture("hisbk_labels_da.csv")))
    client, _ = client_for(statbank)
    body = client.data("HISBK", {"OMRÅDE": ["*"], "Tid": ["2023"]}, "CSV", "Value")
    assert statbank.requests[0].body["format"] == "CSV"
    assert statbank.requests[0].body["valuePresentation"] == "Value"
    assert body.startswith(BOM)
    frame = parse_statbank_csv(body, "hisbk.csv")
    assert frame.columns[0] == "OMRÅDE"  # BOM stripped from the header
    assert frame["INDHOLD"].tolist() == ["79,6", "83,4", "78,1", "..", "79,0"]
    assert frame["OMRÅDE"].tolist()[:2] == ["Hele landet", "Hele landet"]


def test_jsonstat_round_trip(statbank: FakeStatBank) -> None:
    statbank.on("data", json_reply("folk1a_jsonstat2.json"))
    client, _ = client_for(statbank)
    body = client.data("FOLK1A", {"OMRÅDE": ["000", "825"], "KØN": ["1", "2"]}, "JSONSTAT")
    assert statbank.requests[0].body["format"] == "JSONSTAT"
    frame = parse_jsonstat(body)
    assert len(frame) == 8


# --------------------------------------------------------------------------- errors and retries


@pytest.mark.parametrize(
    ("name", "status", "code", "message"),
    [
        ("error_404_notfound.json", 404, "EXTRACT-NOTFOUND", "Tabel findes ikke: FOLK1X"),
        ("error_400_request_limit.json", 400, "REQUEST-LIMIT", "1.000.000 celler"),
        ("error_400_notallowed.json", 400, "EXTRACT-NOTALLOWED", "BULK"),
    ],
)
def test_4xx_is_quoted_and_not_retried(
    statbank: FakeStatBank, name: str, status: int, code: str, message: str
) -> None:
    statbank.on("data", json_reply(name, status))
    client, sleeps = client_for(statbank)
    with pytest.raises(StatBankError) as info:
        client.data("FOLK1X", FOLK1A_VARIABLES)
    error = info.value
    assert (error.status, error.error_type_code, error.table) == (status, code, "FOLK1X")
    assert message in (error.api_message or "")
    assert str(error).startswith(f"StatBank refused table FOLK1X (HTTP {status}, {code}): ")
    assert message in str(error)
    assert len(statbank.requests) == 1
    assert sleeps.seconds == []


def test_404_message_is_exactly_the_documented_one(statbank: FakeStatBank) -> None:
    statbank.on("tableinfo", json_reply("error_404_notfound.json", 404))
    client, _ = client_for(statbank)
    with pytest.raises(StatBankError) as info:
        client.tableinfo("FOLK1X")
    assert str(info.value) == (
        "StatBank refused table FOLK1X (HTTP 404, EXTRACT-NOTFOUND): Tabel findes ikke: FOLK1X"
    )


def test_4xx_without_json_is_still_clear(statbank: FakeStatBank) -> None:
    statbank.on("data", Reply(403, fixture("html_error.html"), "text/html"))
    client, sleeps = client_for(statbank)
    with pytest.raises(StatBankError, match=r"refused table FOLK1A \(HTTP 403\)") as info:
        client.data("FOLK1A", FOLK1A_VARIABLES)
    assert info.value.error_type_code is None
    assert len(statbank.requests) == 1 and sleeps.seconds == []


def test_500_then_200_succeeds_after_one_retry(statbank: FakeStatBank) -> None:
    ok = bulk_body()
    statbank.on("data", Reply(500, b"Internal Server Error", "text/plain"), Reply(body=ok))
    client, sleeps = client_for(statbank, backoff=0.5)
    assert client.data("FOLK1A", FOLK1A_VARIABLES) == ok
    assert len(statbank.requests) == 2
    assert statbank.requests[0].raw == statbank.requests[1].raw
    assert sleeps.seconds == [0.5]


def test_persistent_500_gives_up_after_max_retries(statbank: FakeStatBank) -> None:
    statbank.on("data", Reply(503, b"busy", "text/plain"))
    client, sleeps = client_for(statbank, max_retries=3)
    with pytest.raises(StatBankError) as info:
        client.data("FOLK1A", FOLK1A_VARIABLES)
    assert len(statbank.requests) == 4
    assert sleeps.seconds == [1.0, 2.0, 4.0]  # exponential backoff
    assert info.value.status == 503 and info.value.attempts == 4
    assert "did not deliver table FOLK1A" in str(info.value)
    assert "after 4 attempt(s); last error: HTTP 503" in str(info.value)


def test_timeout_is_retried_then_reported(statbank: FakeStatBank) -> None:
    statbank.on("data", Reply(body=b"late", delay=0.6))
    client, sleeps = client_for(statbank, timeout=0.2, max_retries=1)
    started = time.monotonic()
    with pytest.raises(StatBankError, match=r"no answer within the 0.2 s timeout") as info:
        client.data("FOLK1A", FOLK1A_VARIABLES)
    assert time.monotonic() - started < 2
    assert info.value.status is None
    assert len(statbank.requests) == 2
    assert sleeps.seconds == [1.0]


def test_timeout_then_answer_succeeds(statbank: FakeStatBank) -> None:
    ok = bulk_body()
    statbank.on("data", Reply(body=ok, delay=0.6), Reply(body=ok))
    client, _ = client_for(statbank, timeout=0.2)
    assert client.data("FOLK1A", FOLK1A_VARIABLES) == ok
    assert len(statbank.requests) == 2


def test_truncated_body_is_retried_then_reported(statbank: FakeStatBank) -> None:
    body = bulk_body()
    statbank.on("data", Reply(body=body[:100], announce=len(body)))
    client, sleeps = client_for(statbank, max_retries=2)
    with pytest.raises(StatBankError, match=r"truncated response \(100 bytes received") as info:
        client.data("FOLK1A", FOLK1A_VARIABLES)
    assert len(statbank.requests) == 3
    assert sleeps.seconds == [1.0, 2.0]
    assert info.value.attempts == 3


def test_truncated_then_complete_succeeds(statbank: FakeStatBank) -> None:
    body = bulk_body()
    statbank.on("data", Reply(body=body[:100], announce=len(body)), Reply(body=body))
    client, _ = client_for(statbank)
    assert client.data("FOLK1A", FOLK1A_VARIABLES) == body
    assert len(statbank.requests) == 2


def test_unreachable_server_is_reported() -> None:
    sleeps = Sleeps()
    client = StatBankClient(f"http://127.0.0.1:{closed_port()}/v1", max_retries=2, sleep=sleeps)
    with pytest.raises(StatBankError, match=r"after 3 attempt\(s\); last error: network error"):
        client.tableinfo("FOLK1A")
    assert sleeps.seconds == [1.0, 2.0]


def test_default_base_url_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATAPAKKE_STATBANK_URL", "http://example.invalid/v1/")
    assert StatBankClient().url("data") == "http://example.invalid/v1/data"


# --------------------------------------------------------------------------- cell limit


def big_folk1a_info() -> dict[str, Any]:
    """FOLK1A's real shape: ~105 areas, 126 ages + total, 3 sexes, 5 civil states, 70 quarters."""

    def values(ids: list[str]) -> list[dict[str, str]]:
        return [{"id": i, "text": i} for i in ids]

    quarters = [f"{y}K{q}" for y in range(2008, 2026) for q in range(1, 5)][:70]
    return {
        "id": "FOLK1A",
        "variables": [
            {"id": "OMRÅDE", "values": values([f"{i:03d}" for i in range(105)])},
            {"id": "KØN", "values": values(["TOT", "1", "2"])},
            {"id": "ALDER", "values": values(["IALT"] + [str(a) for a in range(126)])},
            {"id": "CIVILSTAND", "values": values(["TOT", "U", "G", "E", "F"])},
            {"id": "Tid", "time": True, "values": values(quarters)},
        ],
    }


def test_count_cells_is_rows_times_columns() -> None:
    info = tableinfo()
    # rows: 5 areas × 2 sexes × 5 ages × 1 × 4 periods = 200; columns: 5 variables + INDHOLD
    assert count_cells(FOLK1A_VARIABLES, info) == 200 * 6
    assert count_cells({"OMRÅDE": ["101"], "tid": ["2025*"]}, info) == 2 * 3
    with pytest.raises(ValueError, match="no variable 'KOEN'"):
        count_cells({"KOEN": ["1"]}, info)


def test_split_keeps_every_request_under_the_cell_limit() -> None:
    info = big_folk1a_info()
    variables = {"OMRÅDE": ["*"], "KØN": ["1", "2"], "ALDER": ["*"], "CIVILSTAND": ["*"]}
    variables["Tid"] = ["*"]
    assert count_cells(variables, info) > 10 * CSV_CELL_LIMIT
    parts = split_for_cell_limit(variables, info)
    assert len(parts) > 10
    for part in parts:
        assert count_cells(part, info) < CSV_CELL_LIMIT
        assert {k: v for k, v in part.items() if k != "Tid"} == {
            k: v for k, v in variables.items() if k != "Tid"
        }
    periods = [p for part in parts for p in part["Tid"]]
    assert periods == [v["id"] for v in info["variables"][4]["values"]]  # all, once, in order


def test_small_request_is_not_split() -> None:
    parts = split_for_cell_limit(FOLK1A_VARIABLES, tableinfo())
    assert parts == [FOLK1A_VARIABLES]


def test_split_refuses_when_one_period_is_too_big() -> None:
    with pytest.raises(ValueError, match="a single period is"):
        split_for_cell_limit(FOLK1A_VARIABLES, tableinfo(), limit=100)


def folk1a_csv_reply(request: dict[str, Any]) -> Reply:
    """A CSV (BOM, CRLF, codes) with one row per requested period, as StatBank would send."""
    variables = {v["code"]: v["values"] for v in request["variables"]}
    lines = ["OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD"]
    lines += [f"000;1;0;TOT;{period};{1000 + i}" for i, period in enumerate(variables["Tid"])]
    return Reply(body=BOM + ("\r\n".join(lines) + "\r\n").encode("utf-8"))


def test_csv_extract_is_split_and_merged(statbank: FakeStatBank) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", folk1a_csv_reply)
    client, _ = client_for(statbank)
    # one period = 5 × 2 × 5 × 1 rows × 6 columns = 300 cells: a limit of 700 allows 2 per part
    body = client.extract("FOLK1A", FOLK1A_VARIABLES, "CSV", cell_limit=700)
    data_calls = statbank.calls("data")
    assert [c.body["variables"][-1]["values"] for c in data_calls] == [
        ["2024K3", "2024K4"],
        ["2025K1", "2025K2"],
    ]
    assert all(c.body["format"] == "CSV" for c in data_calls)
    assert body.count(BOM) == 1 and body.count(b"INDHOLD") == 1
    frame = parse_statbank_csv(body)
    assert frame["TID"].tolist() == ["2024K3", "2024K4", "2025K1", "2025K2"]
    assert frame["_source_row"].tolist() == [2, 3, 4, 5]


def test_merge_refuses_parts_with_different_headers() -> None:
    with pytest.raises(StatBankError, match="different headers"):
        merge_csv_parts([b"A;INDHOLD\r\n1;2\r\n", b"B;INDHOLD\r\n1;2\r\n"], "X")


# --------------------------------------------------------------------------- CSV parser


def variants(data: bytes) -> dict[str, bytes]:
    lf = data.removeprefix(BOM).replace(b"\r\n", b"\n")
    crlf = lf.replace(b"\n", b"\r\n")
    return {"bom-crlf": BOM + crlf, "bom-lf": BOM + lf, "crlf": crlf, "lf": lf}


@pytest.mark.parametrize("variant", ["bom-crlf", "bom-lf", "crlf", "lf"])
@pytest.mark.parametrize("name", ["folk1a_bulk_codes.csv", "hisbk_labels_da.csv"])
def test_bom_and_line_ends_do_not_matter(name: str, variant: str) -> None:
    data = variants(fixture(name))[variant]
    frame = parse_statbank_csv(data)
    reference = parse_statbank_csv(variants(fixture(name))["lf"])
    pd.testing.assert_frame_equal(frame, reference)
    assert not frame.columns[0].startswith("\ufeff")
    assert "INDHOLD" in frame.columns
    assert frame["_source_row"].tolist() == list(range(2, len(frame) + 2))
    assert frame["_source_row"].dtype == "int64"
    for column in frame.columns.drop("_source_row"):
        assert frame[column].dtype == object
        assert all(isinstance(v, str) for v in frame[column])
    assert not any(v.endswith("\r") for v in frame["INDHOLD"])


def test_codes_keep_leading_zeros_and_labels_stay_labels() -> None:
    codes = parse_statbank_csv(bulk_body())
    assert codes["OMRÅDE"].unique().tolist() == ["000", "101", "825"]
    assert codes["KØN"].unique().tolist() == ["1", "2"]
    labels = parse_statbank_csv(fixture("hisbk_labels_da.csv"))
    assert labels["OMRÅDE"].unique().tolist() == [
        "Hele landet",
        "København",
        "Læsø",
        "Høje-Taastrup",
    ]
    assert labels["KØN"].unique().tolist() == ["Mænd", "Kvinder"]


def test_suppressed_and_decimal_comma_stay_text() -> None:
    frame = parse_statbank_csv(fixture("hisbk_labels_da.csv"))
    row = frame[frame["OMRÅDE"] == "Læsø"].iloc[0]
    assert row["INDHOLD"] == ".."
    assert row["_source_row"] == 5
    assert frame.loc[0, "INDHOLD"] == "79,6"


def test_quoted_fields_and_blank_lines() -> None:
    data = (
        'OMRÅDE;TEKST;TID;INDHOLD\r\n101;"a;b";2024;1\r\n\r\n147;"sagt ""ja""";2024;2\r\n'
    ).encode()
    frame = parse_statbank_csv(data)
    assert frame["TEKST"].tolist() == ["a;b", 'sagt "ja"']
    assert frame["_source_row"].tolist() == [2, 4]  # the blank line 3 still counts


def test_quoted_and_unquoted_files_read_alike() -> None:
    """Files without quotes take a fast path; with quotes, the csv module. Same result."""
    plain = b"\r\n" + bulk_body().replace(b"\r\n101;2;0;", b"\r\n\r\n101;2;0;")
    quoted = plain.replace(b"\r\n825;1;1;TOT", b'\r\n"825";1;1;TOT')
    fast, slow = parse_statbank_csv(plain), parse_statbank_csv(quoted)
    pd.testing.assert_frame_equal(fast, slow)
    assert fast["_source_row"].tolist()[5:8] == [8, 10, 11]  # blank lines 1 and 9 count
    with pytest.raises(SourceFileError) as fast_error:
        parse_statbank_csv(plain + b"000;1;0\r\n")
    with pytest.raises(SourceFileError) as slow_error:
        parse_statbank_csv(quoted + b"000;1;0\r\n")
    assert str(fast_error.value) == str(slow_error.value)
    assert fast_error.value.row == 16


def test_a_line_of_spaces_is_not_a_row() -> None:
    with pytest.raises(SourceFileError, match="expected 3 fields like the header, found 1") as info:
        parse_statbank_csv(b"OMR;TID;INDHOLD\r\n101;2024;5\r\n   \r\n147;2024;6\r\n")
    assert info.value.row == 3


def test_header_only_gives_an_empty_frame() -> None:
    frame = parse_statbank_csv(b"OMR\xc3\x85DE;TID;INDHOLD\r\n")
    assert list(frame.columns) == ["OMRÅDE", "TID", "INDHOLD", "_source_row"]
    assert frame.empty


def test_path_input_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "FOLK1A.csv"
    path.write_bytes(bulk_body()[:-12])  # cut inside the last row
    with pytest.raises(SourceFileError) as info:
        parse_statbank_csv(path)
    assert info.value.file == str(path)
    assert info.value.row == 13
    assert "expected 6 fields like the header, found" in str(info.value)
    assert "truncated" in str(info.value)


def test_truncated_row_names_its_line() -> None:
    lines = bulk_body().split(b"\r\n")
    lines[4] = b"000;2;0;TOT"  # line 5 lost its last fields
    with pytest.raises(SourceFileError) as info:
        parse_statbank_csv(b"\r\n".join(lines), "FOLK1A_2025.csv")
    assert (info.value.file, info.value.row) == ("FOLK1A_2025.csv", 5)
    assert str(info.value).startswith("file FOLK1A_2025.csv, row 5: expected 6 fields")


def test_html_page_is_a_clear_error() -> None:
    with pytest.raises(SourceFileError) as info:
        parse_statbank_csv(fixture("html_error.html"), "FOLK1A.csv")
    message = str(info.value)
    assert "HTML page, not a StatBank CSV" in message
    assert "503 Service Temporarily Unavailable" in message


def test_api_error_json_is_a_clear_error() -> None:
    with pytest.raises(SourceFileError, match="EXTRACT-NOTFOUND: Tabel findes ikke"):
        parse_statbank_csv(fixture("error_404_notfound.json"))


@pytest.mark.parametrize("data", [b"", b"   \r\n", BOM, BOM + b"\r\n"])
def test_empty_body_is_an_error(data: bytes) -> None:
    with pytest.raises(SourceFileError, match="empty"):
        parse_statbank_csv(data, "x.csv")


def test_missing_value_column_is_an_error() -> None:
    with pytest.raises(
        SourceFileError, match="no INDHOLD column; the header has OMRÅDE, TID, ANTAL"
    ):
        parse_statbank_csv("OMRÅDE;TID;ANTAL\r\n101;2024;5\r\n".encode())


def test_undecodable_bytes_name_the_line() -> None:
    data = "OMRÅDE;TID;INDHOLD\r\n101;2024;5\r\nLæsø;2024;3\r\n".encode("cp1252")
    with pytest.raises(SourceFileError, match="not UTF-8") as info:
        parse_statbank_csv(data)
    assert info.value.row == 1  # the header's Å is already cp1252


# --------------------------------------------------------------------------- JSON-stat parser


@pytest.mark.parametrize("name", ["folk1a_jsonstat2.json", "folk1a_jsonstat1.json"])
def test_jsonstat_to_long_text(name: str) -> None:
    frame = parse_jsonstat(fixture(name))
    assert list(frame.columns) == ["OMRÅDE", "KØN", "ContentsCode", "Tid", "INDHOLD", "_source_row"]
    assert frame["OMRÅDE"].tolist() == ["000"] * 4 + ["825"] * 4
    assert frame["KØN"].tolist() == ["1", "1", "2", "2"] * 2
    assert frame["Tid"].tolist() == ["2025K1", "2025K2"] * 4
    assert frame["INDHOLD"].tolist()[:2] == ["2946445", "2951234"]
    assert frame.loc[6, "INDHOLD"] == ".."  # null
    assert frame["_source_row"].tolist() == list(range(2, 10))
    assert all(frame[c].dtype == object for c in frame.columns[:-1])


def test_jsonstat_versions_agree() -> None:
    pd.testing.assert_frame_equal(
        parse_jsonstat(fixture("folk1a_jsonstat2.json")),
        parse_jsonstat(fixture("folk1a_jsonstat1.json")),
    )


def test_jsonstat_sparse_values_and_decimals() -> None:
    document = json.loads(fixture("folk1a_jsonstat2.json"))
    document["value"] = {"0": 1.5, "3": 2.0}
    frame = parse_jsonstat(json.dumps(document).encode())
    assert frame["INDHOLD"].tolist() == ["1.5", "..", "..", "2", "..", "..", "..", ".."]


def test_jsonstat_wrong_value_count_is_an_error() -> None:
    document = json.loads(fixture("folk1a_jsonstat2.json"))
    document["value"] = document["value"][:5]
    with pytest.raises(
        SourceFileError, match="value array has 5 entries but the dimensions give 8"
    ):
        parse_jsonstat(json.dumps(document).encode(), "x.json")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"{not json", "not valid JSON"),
        (b'{"errorTypeCode":"REQUEST-LIMIT","message":"for stort"}', "REQUEST-LIMIT: for stort"),
        (b'{"version":"2.0"}', "no 'dimension'"),
    ],
)
def test_jsonstat_bad_input(data: bytes, message: str) -> None:
    with pytest.raises(SourceFileError, match=re.escape(message)):
        parse_jsonstat(data)


def test_jsonstat_html_is_a_clear_error() -> None:
    with pytest.raises(SourceFileError, match="HTML page, not a StatBank JSON-stat dataset"):
        parse_jsonstat(fixture("html_error.html"))


# --------------------------------------------------------------------------- fetch


FOLK1A_CONFIG = """
tables:
  - table: FOLK1A
    title: Befolkningen den 1. i kvartalet
    feeds: folk1a_population
    variables:
      OMRÅDE: ["*"]
      KØN: ["1", "2"]
      ALDER: ["*"]
      CIVILSTAND: [TOT]
      Tid: ["*"]
"""


def write_config(tmp_path: Path, text: str = FOLK1A_CONFIG) -> Path:
    path = tmp_path / "statbank_tables.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def at(hour: int) -> Callable[[], datetime]:
    return lambda: datetime(2025, 9, 1, hour, 30, 5, tzinfo=UTC)


def test_fetch_stores_extract_and_request_record(statbank: FakeStatBank, tmp_path: Path) -> None:
    body = bulk_body()
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", Reply(body=body))
    client, _ = client_for(statbank)
    raw_dir = tmp_path / "raw"
    messages: list[str] = []
    stored = fetch_configured(
        client, write_config(tmp_path), raw_dir, log=messages.append, now=at(12)
    )
    (path,) = stored
    folder = raw_dir / "statbank" / "FOLK1A"
    assert path.parent == folder
    assert re.fullmatch(r"FOLK1A_20250901T123005Z_[0-9a-f]{12}\.csv", path.name)
    assert path.read_bytes() == body
    sidecar = json.loads(path.with_name(path.stem + ".request.json").read_text("utf-8"))
    data_request = statbank.calls("data")[0]
    assert sidecar["url"] == f"{statbank.base_url}/data"
    assert sidecar["request"] == data_request.body
    assert sidecar["request"]["format"] == "BULK"
    assert sidecar["request"]["valuePresentation"] == "Code"
    assert sidecar["sha256"].startswith(path.stem.rsplit("_", 1)[1])
    assert sidecar["bytes"] == len(body)
    assert sidecar["fetched_at"] == "2025-09-01T12:30:05Z"
    assert sidecar["tableinfo_updated"] == "2025-08-11T08:00:00"
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [path.name, path.stem + ".request.json"]
    )  # no temporary files left behind
    assert [r.path for r in statbank.requests] == ["/v1/tableinfo", "/v1/data"]
    assert messages[-1] == f"FOLK1A: stored {path} ({len(body):,} bytes)"


def test_identical_refetch_stores_nothing(statbank: FakeStatBank, tmp_path: Path) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", Reply(body=bulk_body()))
    client, _ = client_for(statbank)
    config, raw_dir = write_config(tmp_path), tmp_path / "raw"
    (first,) = fetch_configured(client, config, raw_dir, log=lambda _: None, now=at(12))
    messages: list[str] = []
    assert fetch_configured(client, config, raw_dir, log=messages.append, now=at(13)) == []
    assert len(list((raw_dir / "statbank" / "FOLK1A").iterdir())) == 2
    assert "unchanged" in messages[-1] and first.name in messages[-1]
    assert "nothing stored" in messages[-1]


def test_changed_extract_is_a_new_file_and_the_old_one_is_untouched(
    statbank: FakeStatBank, tmp_path: Path
) -> None:
    old_body = bulk_body()
    new_body = old_body.replace(b";29815\r\n", b";29816\r\n")
    assert new_body != old_body
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", Reply(body=old_body), Reply(body=new_body))
    client, _ = client_for(statbank)
    config, raw_dir = write_config(tmp_path), tmp_path / "raw"
    (first,) = fetch_configured(client, config, raw_dir, log=lambda _: None, now=at(12))
    first_sidecar = first.with_name(first.stem + ".request.json").read_bytes()
    first_stat = first.stat()
    (second,) = fetch_configured(client, config, raw_dir, log=lambda _: None, now=at(13))
    assert second != first and second.read_bytes() == new_body
    assert first.read_bytes() == old_body
    assert first.with_name(first.stem + ".request.json").read_bytes() == first_sidecar
    assert first.stat().st_mtime_ns == first_stat.st_mtime_ns
    assert sorted((raw_dir / "statbank" / "FOLK1A").glob("*.csv")) == [first, second]


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(body=b"<html><title>Login</title></html>", content_type="text/html"), "HTML page"),
        (Reply(body=bulk_body()[:-12]), "(line 13)"),
    ],
)
def test_an_unusable_extract_is_not_stored(
    statbank: FakeStatBank, tmp_path: Path, reply: Reply, reason: str
) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", reply)
    client, _ = client_for(statbank)
    with pytest.raises(
        StatBankError, match="unusable extract for table FOLK1A; nothing stored"
    ) as info:
        fetch_configured(client, write_config(tmp_path), tmp_path / "raw", log=lambda _: None)
    assert reason in str(info.value)
    assert not (tmp_path / "raw").exists()


def test_an_existing_extract_is_never_overwritten(tmp_path: Path) -> None:
    target = tmp_path / "FOLK1A_x.csv"
    target.write_bytes(b"original")
    with pytest.raises(FileExistsError):
        fetch._write_new(target, b"replacement")
    assert target.read_bytes() == b"original"
    assert [p.name for p in tmp_path.iterdir()] == ["FOLK1A_x.csv"]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "KØN:",
            "KOEN:",
            "table FOLK1A: variable 'KOEN' does not exist; "
            "valid variable ids: OMRÅDE, KØN, ALDER, CIVILSTAND, Tid",
        ),
        (
            'KØN: ["1", "2"]',
            'KØN: ["M", "K"]',
            "table FOLK1A: variable KØN has no value 'M'; valid values: TOT, 1, 2",
        ),
        (
            "      CIVILSTAND: [TOT]\n",
            "",
            "table FOLK1A: a BULK extract needs every variable; add CIVILSTAND",
        ),
        ('Tid: ["*"]', 'Tid: ["2030*"]', "variable Tid has no value '2030*'"),
    ],
)
def test_fetch_checks_the_configuration_against_tableinfo(
    statbank: FakeStatBank, tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", Reply(body=bulk_body()))
    client, _ = client_for(statbank)
    assert replace in FOLK1A_CONFIG
    config = write_config(tmp_path, FOLK1A_CONFIG.replace(replace, by))
    with pytest.raises(FetchConfigError) as info:
        fetch_configured(client, config, tmp_path / "raw", log=lambda _: None)
    assert expected in str(info.value)
    assert statbank.calls("data") == []
    assert not (tmp_path / "raw").exists()


def test_fetch_one_table_only(statbank: FakeStatBank, tmp_path: Path) -> None:
    two_tables = FOLK1A_CONFIG + FOLK1A_CONFIG.split("tables:\n", 1)[1].replace("FOLK1A", "BEF5")
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", Reply(body=bulk_body()))
    client, _ = client_for(statbank)
    config = write_config(tmp_path, two_tables)
    stored = fetch_configured(client, config, tmp_path / "raw", tables=["folk1a"], log=print)
    assert [p.parent.name for p in stored] == ["FOLK1A"]
    assert [r.body["table"] for r in statbank.requests] == ["FOLK1A", "FOLK1A"]
    with pytest.raises(FetchConfigError, match="NOPE not configured"):
        fetch_configured(client, config, tmp_path / "raw", tables=["NOPE"])


def test_the_project_configuration_is_well_formed() -> None:
    configs = {c.table: c for c in load_config()}
    assert {"FOLK1A", "DODA1", "AED06", "HJEMSYG", "SYGK1"} <= set(configs)
    assert configs["FOLK1A"].variables == FOLK1A_VARIABLES
    assert configs["FOLK1A"].feeds == "folk1a_population"
    for config in configs.values():
        assert config.title and config.feeds
        areas = [v for k, v in config.variables.items() if k == "OMRÅDE"]
        assert areas in ([], [["*"]])
        assert "Tid" in config.variables


def test_main_reports_an_unreachable_network_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATAPAKKE_STATBANK_URL", f"http://127.0.0.1:{closed_port()}/v1")
    argv = ["--config", str(write_config(tmp_path)), "--raw-dir", str(tmp_path / "raw")]
    code = fetch.main([*argv, "--retries", "0", "--timeout", "2"])
    out, err = capsys.readouterr()
    assert code != 0
    assert err.count("\n") == 1 and err.startswith("fetch failed: StatBank did not deliver")
    assert "Traceback" not in out + err
    assert not (tmp_path / "raw").exists()


def test_main_fetches_and_lists(
    statbank: FakeStatBank,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    statbank.on("data", Reply(body=bulk_body()))
    monkeypatch.setenv("DATAPAKKE_STATBANK_URL", statbank.base_url)
    argv = ["--config", str(write_config(tmp_path)), "--raw-dir", str(tmp_path / "raw")]
    assert fetch.main([*argv, "--table", "FOLK1A"]) == 0
    assert "done: 1 new extract(s)" in capsys.readouterr().out
    assert fetch.main([*argv, "--list"]) == 0
    out = capsys.readouterr().out
    assert "FOLK1A" in out and "folk1a_population" in out and "1 extract(s)" in out


def test_main_reports_a_bad_configuration(
    statbank: FakeStatBank,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    statbank.on("tableinfo", json_reply("folk1a_tableinfo.json"))
    monkeypatch.setenv("DATAPAKKE_STATBANK_URL", statbank.base_url)
    config = write_config(tmp_path, FOLK1A_CONFIG.replace("KØN:", "KOEN:"))
    code = fetch.main(["--config", str(config), "--raw-dir", str(tmp_path / "raw")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("fetch failed: table FOLK1A: variable 'KOEN' does not exist")
