"""The StatBank CSV/BULK parser: text as written, line numbers, and clear errors for non-data."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest

from datapakke.raw.errors import SourceFileError
from datapakke.raw.statbank import parse_statbank_csv, read_statbank_extract
from datapakke.raw.statbank.webexport import stub_names
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


def test_api_csv_resaved_as_windows_1252_loads() -> None:
    """Excel re-saves a UTF-8 extract as Windows-1252: same frame, labels decoded."""
    utf8 = fixture("hisbk_labels_da.csv").removeprefix(BOM)
    resaved = utf8.decode("utf-8").encode("cp1252")
    assert b"L\xe6s\xf8" in resaved  # really single-byte æ/ø
    frame = parse_statbank_csv(resaved)
    pd.testing.assert_frame_equal(frame, parse_statbank_csv(utf8))
    assert "Høje-Taastrup" in frame["OMRÅDE"].tolist()
    assert "Læsø" in frame["OMRÅDE"].tolist()
    header = "OMRÅDE;KØN;TID;INDHOLD\r\n000;1;2024K1;5\r\n".encode("cp1252")
    assert list(parse_statbank_csv(header).columns[:2]) == ["OMRÅDE", "KØN"]


@pytest.mark.parametrize(
    ("data", "message", "row"),
    [
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "byte 0x1a (a control character)", 2),
        (b"PK\x03\x04" + bytes(range(256)), "corrupt or truncated .xlsx", None),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(64), "old Excel .xls", None),
        (b"OMR;TID;INDHOLD\r\n101;2024;5\r\n\x81\x8d;2024;6\r\n", "neither UTF-8 nor", 3),
        (b"OMR;TID;INDHOLD\r\n101;2024;5\x00\r\n", "byte 0x00 (a control", 2),
    ],
)
def test_binary_garbage_is_a_clear_error(data: bytes, message: str, row: int | None) -> None:
    with pytest.raises(SourceFileError, match=re.escape(message)) as info:
        read_statbank_extract(data, "x.csv")
    assert info.value.row == row


@pytest.mark.parametrize("quoted", [False, True])
def test_a_file_cut_inside_its_last_value_is_refused(quoted: bool) -> None:
    """StatBank ends every line with a line break; without one the last value may be cut short
    ('12' of '1234') and would load as a wrong number."""
    data = b"OMR;TID;INDHOLD\r\n101;2024;5\r\n" + (b'"147"' if quoted else b"147") + b";2024;12"
    with pytest.raises(SourceFileError, match="looks truncated: the last line has no line br"):
        read_statbank_extract(data, "x.csv")
    frame, skipped = read_statbank_extract(data + b"\r\n", "x.csv")
    assert frame["INDHOLD"].tolist() == ["5", "12"] and skipped == []


@pytest.mark.parametrize("quoted", [False, True])
def test_notes_typed_under_an_api_extract_are_skipped_lines(quoted: bool) -> None:
    """As typed in a text editor, and as Excel saves them (padded with empty fields)."""
    first = b'"101"' if quoted else b"101"
    data = (
        b"OMR;TID;INDHOLD\r\n"
        + first
        + b";2024;5\r\n\r\n* Forel\xc3\xb8bige tal\r\nKilde: DST;;\r\n"
    )
    frame, skipped = read_statbank_extract(data, "x.csv")
    assert frame["INDHOLD"].tolist() == ["5"]
    assert skipped == [
        (4, "below the table, not data (a note?): '* Foreløbige tal'"),
        (5, "below the table, not data (a note?): 'Kilde: DST'"),
    ]
    with pytest.raises(SourceFileError, match="expected 3 fields like the header, found 1"):
        read_statbank_extract(
            data.replace(b"\r\n* Forel", b"\r\nLine;2024;3\r\n* Forel").replace(
                b"Kilde: DST;;\r\n", b"Kilde"
            ),
            "x.csv",
        )


def test_utf16_is_an_encoding_problem_not_a_binary_file() -> None:
    text = "OMRÅDE;TID;INDHOLD\r\n101;2024;5\r\n"
    for data in (text.encode("utf-16"), text.encode("utf-16-le")):
        with pytest.raises(SourceFileError, match="UTF-16 encoded"):
            read_statbank_extract(data, "x.csv")


def test_utf8_saved_again_as_windows_1252_is_refused() -> None:
    garbled = "OMRÅDE;TID;INDHOLD\r\nLæsø;2024;3\r\n".encode().decode("cp1252").encode()
    with pytest.raises(SourceFileError, match="garbled") as info:
        parse_statbank_csv(garbled)
    assert info.value.row == 1


# --------------------------------------------------------------------- statistikbanken.dk export

TITLE = '"Døde efter område, køn, alder og tid"'
EXPORT_LINES = [
    TITLE,
    "",
    '" ";" ";" ";"2022";"2023";"2024*"',
    '"København"',
    '" ";"Mænd"',
    '" ";" ";"0-64 år";120;118;".."',
    '" ";" ";"65 år og derover";2301;2250;2199',
    '" ";"Kvinder"',
    '" ";" ";"0-64 år";80;"..";77',
    '" ";" ";"65 år og derover";2400;2380;1,5',
    '"Læsø"',
    '" ";"Mænd"',
    '" ";" ";"0-64 år";1;0;2',
]
NOTES = ["", '"Anm.: 2024 er foreløbige tal."', '"Kilde: Danmarks Statistik"', ""]


def export_text(notes: bool = True) -> str:
    return "\n".join(EXPORT_LINES + (NOTES if notes else ["", ""]))


def expected_export() -> pd.DataFrame:
    """The long frame, written out by hand: 5 data rows × 3 periods."""
    rows = [
        ("København", "Mænd", "0-64 år", ["120", "118", ".."], 6),
        ("København", "Mænd", "65 år og derover", ["2301", "2250", "2199"], 7),
        ("København", "Kvinder", "0-64 år", ["80", "..", "77"], 9),
        ("København", "Kvinder", "65 år og derover", ["2400", "2380", "1,5"], 10),
        ("Læsø", "Mænd", "0-64 år", ["1", "0", "2"], 13),
    ]
    records = [
        (area, sex, age, period, value, line)
        for area, sex, age, values, line in rows
        for period, value in zip(["2022", "2023", "2024*"], values, strict=True)
    ]
    columns = ["OMRÅDE", "KØN", "ALDER", "TID", "INDHOLD", "_source_row"]
    frame = pd.DataFrame(records, columns=columns).astype(object)
    frame["_source_row"] = frame["_source_row"].astype("int64")
    return frame


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_web_export_becomes_the_long_api_shape(tmp_path: Path, encoding: str, newline: str) -> None:
    path = tmp_path / "DOD.csv"
    path.write_bytes(export_text().replace("\n", newline).encode(encoding))
    frame, skipped = read_statbank_extract(path, "DOD.csv")
    pd.testing.assert_frame_equal(frame, expected_export())
    assert [line for line, _ in skipped] == [15, 16]
    assert all("below the table, not data" in reason for _, reason in skipped)
    assert "Anm.: 2024 er foreløbige tal." in skipped[0][1]
    assert "Kilde: Danmarks Statistik" in skipped[1][1]


def test_web_export_notes_are_never_silently_lost() -> None:
    data = export_text().encode("cp1252")
    with pytest.raises(SourceFileError, match=re.escape("2 line(s) are not data")) as info:
        parse_statbank_csv(data, "DOD.csv")
    assert info.value.row == 15
    frame = parse_statbank_csv(export_text(notes=False).encode("cp1252"))
    pd.testing.assert_frame_equal(frame, expected_export())


def test_web_export_workbook_reads_like_the_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for number, line in enumerate(export_text().split("\n"), start=1):
        cells = next(csv.reader([line], delimiter=";")) if line else []
        sheet.append([_excel_value(cell, is_header=number == 3) for cell in cells])
    path = tmp_path / "DOD.xlsx"
    workbook.save(path)
    frame, skipped = read_statbank_extract(path, "DOD.xlsx")
    pd.testing.assert_frame_equal(frame, expected_export())
    assert [line for line, _ in skipped] == [15, 16]


def _excel_value(cell: str, *, is_header: bool) -> object:
    """As Excel holds the export: numbers as numbers, labels and periods as text, blanks empty."""
    if not cell.strip():
        return None
    if not is_header and re.fullmatch(r"\d+(,\d+)?", cell):
        return float(cell.replace(",", ".")) if "," in cell else int(cell)
    return cell


def test_truncated_last_data_line_names_the_line(tmp_path: Path) -> None:
    text = export_text(notes=False).rstrip("\n")
    path = tmp_path / "DOD.csv"
    path.write_bytes(text[: text.rindex(";")].encode("cp1252"))  # cut before its last value
    with pytest.raises(SourceFileError) as info:
        read_statbank_extract(path, "DOD.csv")
    assert (info.value.file, info.value.row) == ("DOD.csv", 13)
    assert "expected 6 fields like the header, found 5" in str(info.value)
    assert "truncated" in str(info.value)
    path.write_bytes(text[: text.rindex("0-64")].encode("cp1252"))  # cut inside the quoted label
    with pytest.raises(SourceFileError, match="not readable as CSV") as info:
        read_statbank_extract(path, "DOD.csv")
    assert info.value.row == 13


def test_damaged_line_inside_the_table_is_an_error() -> None:
    lines = list(EXPORT_LINES)
    lines[6] = '" ";" ";"65 år og derover";2301;2250'
    with pytest.raises(SourceFileError, match="expected 6 fields") as info:
        read_statbank_extract("\n".join(lines).encode(), "DOD.csv")
    assert info.value.row == 7


def test_same_as_above_needs_a_row_above() -> None:
    lines = [*EXPORT_LINES[:3], *EXPORT_LINES[4:]]  # the first area's row is gone
    with pytest.raises(SourceFileError, match="label column 1 is blank") as info:
        read_statbank_extract("\n".join(lines).encode(), "DOD.csv")
    assert info.value.row == 4


def test_untitled_or_unmatched_title_gives_generic_names() -> None:
    for title in ['"Døde"', '"Døde efter område, køn og tid"', ""]:
        lines = [title, *EXPORT_LINES[1:], ""] if title else [*EXPORT_LINES[2:], ""]
        frame, _ = read_statbank_extract("\n".join(lines).encode(), "DOD.csv")
        assert list(frame.columns) == ["STUB1", "STUB2", "STUB3", "TID", "INDHOLD", "_source_row"]
        assert frame["STUB1"].iloc[-1] == "Læsø"


def test_header_must_hold_periods() -> None:
    lines = list(EXPORT_LINES)
    lines[2] = '" ";" ";" ";"Mænd";"Kvinder";"I alt"'
    with pytest.raises(SourceFileError, match=re.escape("time (tid) across the columns")) as info:
        read_statbank_extract("\n".join(lines).encode(), "DOD.csv")
    assert info.value.row == 3


DEFAULT = ["OMRÅDE", "KØN", "ALDER"]


@pytest.mark.parametrize(
    ("title", "k", "names"),
    [
        (
            "Arbejdssteder og job efter branche (DB07 10-grp), enhed, område og tid",
            3,
            ["BRANCHE", "ENHED", "OMRÅDE"],
        ),
        ("Folketal den 1. i kvartalet efter område, køn, alder og tid", 3, DEFAULT),
        ("Folketal den 1. i kvartalet efter område, køn, alder og tid", 4, None),
        ("Population by region, sex, age and time", 3, ["REGION", "SEX", "AGE"]),
        ("Ledige (a, b) efter ydelse (x, y og z) og tid", 1, ["YDELSE"]),
        ("Flyttede efter flytning efter område, køn, alder og tid", 3, DEFAULT),
        ("Døde efter område, tid og køn", 2, None),  # time is not last: not the default layout
        ("Døde efter område, område og tid", 2, None),
        ("Døde", 1, None),
        (None, 2, None),
    ],
)
def test_stub_names_from_the_title(title: str | None, k: int, names: list[str] | None) -> None:
    assert stub_names(title, k) == (names or [f"STUB{i}" for i in range(1, k + 1)])
