"""The StatBank client against a fake server: request bodies, retries, errors, cell limits."""

from __future__ import annotations

import time
from typing import Any

import pytest

from datapakke.raw.statbank import (
    CSV_CELL_LIMIT,
    StatBankClient,
    StatBankError,
    count_cells,
    merge_csv_parts,
    parse_statbank_csv,
    split_for_cell_limit,
)
from tests.raw.statbank_fake import (
    BOM,
    FOLK1A_VARIABLES,
    FakeStatBank,
    Reply,
    Sleeps,
    bulk_body,
    client_for,
    closed_port,
    fixture,
    json_reply,
    tableinfo,
)

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


def test_formats_nothing_reads_are_refused_before_a_request(statbank: FakeStatBank) -> None:
    client, _ = client_for(statbank)
    with pytest.raises(ValueError, match="format must be one of BULK, CSV, got 'JSONSTAT'"):
        client.data("FOLK1A", {"OMRÅDE": ["000"]}, "JSONSTAT")
    assert statbank.requests == []


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
