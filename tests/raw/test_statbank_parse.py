"""The StatBank CSV/BULK parser: text as written, line numbers, and clear errors for non-data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from datapakke.raw.errors import SourceFileError
from datapakke.raw.statbank import parse_statbank_csv
from tests.raw.statbank_fake import BOM, bulk_body, fixture


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
