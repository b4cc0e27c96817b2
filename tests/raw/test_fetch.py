"""``make fetch``: configured tables fetched from a fake StatBank and stored immutably."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from datapakke.raw import fetch
from datapakke.raw.fetch import FetchConfigError, fetch_configured, load_config
from datapakke.raw.statbank import StatBankError
from tests.raw.statbank_fake import (
    FOLK1A_VARIABLES,
    FakeStatBank,
    Reply,
    bulk_body,
    client_for,
    closed_port,
    json_reply,
)

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
