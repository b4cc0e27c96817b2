"""The file readers: every Danish export quirk, every bad file, and nothing touched on disk."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files import FileLayout, LayoutError, ReadResult, WideSpec, read_source_file

FIXTURES = Path(__file__).parent.parent / "fixtures"
BAD, GOOD = FIXTURES / "bad", FIXTURES / "good"
BAD_LAYOUT = FileLayout.from_dict(yaml.safe_load((BAD / "layout.yaml").read_text("utf-8")))
GOOD_LAYOUTS = yaml.safe_load((GOOD / "layouts.yaml").read_text("utf-8"))
COLUMNS = ("Kommunekode", "Kommune", "År", "Antal")
LAYOUT = FileLayout(required_columns=COLUMNS)


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def workbook(path: Path, rows: list[list[object]], title: str = "Data") -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def data(result: ReadResult) -> list[list[str]]:
    return result.frame.drop(columns=["_source_row"]).to_numpy().tolist()


def good(name: str) -> ReadResult:
    return read_source_file(GOOD / name, FileLayout.from_dict(GOOD_LAYOUTS[name]))


# --- encodings and delimiters -----------------------------------------------------------------

TEXT = "Kommunekode;Kommune;År;Antal\r\n370;Næstved;2023;84.000\r\n492;Ærø;2023;6.000\r\n"


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("cp1252", "cp1252")],
)
def test_encodings_give_the_same_text(tmp_path: Path, encoding: str, detected: str) -> None:
    result = read_source_file(write(tmp_path / "a.csv", TEXT, encoding), LAYOUT)
    assert result.encoding == detected
    assert list(result.frame.columns) == [*COLUMNS, "_source_row"]
    assert data(result) == [["370", "Næstved", "2023", "84.000"], ["492", "Ærø", "2023", "6.000"]]
    assert result.frame["_source_row"].tolist() == [2, 3]


@pytest.mark.parametrize("delimiter", [";", ",", "\t", "|"])
def test_sniffs_the_delimiter(tmp_path: Path, delimiter: str) -> None:
    value = '"12,5"' if delimiter == "," else "12,5"  # decimal commas don't fool the sniffer
    lines = ["Kommunekode;Kommune;År;Antal", "101;København;2023;VALUE", "147;Frederiksberg;2023;7"]
    text = "\n".join(line.replace(";", delimiter) for line in lines).replace("VALUE", value)
    result = read_source_file(write(tmp_path / "a.csv", text + "\n"), LAYOUT)
    assert result.delimiter == delimiter
    assert result.frame["Antal"].tolist() == ["12,5", "7"]


def test_semicolon_wins_over_decimal_commas_without_required_columns(tmp_path: Path) -> None:
    text = "Kommune;Andel\nKøbenhavn;12,5\nFrederiksberg;7,25\nAarhus;1,0\n"
    result = read_source_file(write(tmp_path / "a.csv", text), FileLayout())
    assert result.delimiter == ";"
    assert result.frame["Andel"].tolist() == ["12,5", "7,25", "1,0"]


def test_explicit_wrong_delimiter_names_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Kommunekode,Kommune,År,Antal\n101,København,2023,5\n")
    with pytest.raises(SourceFileError, match="with ';' the header has only one field") as info:
        read_source_file(path, FileLayout(required_columns=COLUMNS, delimiter=";"))
    assert "the file seems to use ','" in str(info.value)
    assert info.value.row == 1


def test_good_fixtures_with_encoding_and_delimiter_quirks() -> None:
    bom = good("bom_semicolon.csv")
    assert (bom.encoding, bom.delimiter) == ("utf-8-sig", ";")
    assert bom.columns["Kommune"] == "Kommunenavn"  # alias: canonical name → header as written
    assert bom.frame["Antal"].tolist() == ["1.234,5", "12,5", "1\u00a0234", "..", "<5", "*", "-"]
    tab = good("cp1252_tab.tsv")
    assert (tab.encoding, tab.delimiter) == ("cp1252", "\t")
    assert tab.frame["Kommune"].tolist() == ["Næstved", "Ærø"]
    quoted = good("comma_quoted.csv")
    assert quoted.delimiter == ","
    assert quoted.frame["Kommune"].tolist()[2] == "Aarhus, Midtjylland"
    assert quoted.frame["Antal"].tolist() == ["12,5", "1.234,5", "7"]


def test_headers_match_case_space_nbsp_and_nfd(tmp_path: Path) -> None:
    header = " kommunekode ;KOMMUNE\u00a0NAVN;A\u030ar;antal\n"  # NFD 'Å', NBSP, odd case
    path = write(tmp_path / "a.csv", header + "101;København;2023;5\n")
    layout = FileLayout(required_columns=COLUMNS, column_aliases={"Kommune": ("Kommune navn",)})
    result = read_source_file(path, layout)
    assert list(result.frame.columns) == [*COLUMNS, "_source_row"]


def test_quoted_newline_keeps_line_numbers(tmp_path: Path) -> None:
    text = 'Kommunekode;Kommune;År;Antal\n101;"Køben\nhavn";2023;5\n\n147;Frederiksberg;2023;6\n'
    result = read_source_file(write(tmp_path / "a.csv", text), LAYOUT)
    assert result.frame["_source_row"].tolist() == [2, 5]
    assert result.frame["Kommune"].tolist()[0] == "Køben\nhavn"


# --- where the table is -----------------------------------------------------------------------


def test_title_rows_totals_and_notes_are_found_and_counted() -> None:
    result = good("title_notes_totals.csv")
    assert result.header_row == 4
    assert result.frame["Kommune"].tolist() == ["København", "Frederiksberg", "Aarhus"]
    assert result.frame["_source_row"].tolist() == [5, 6, 8]
    assert result.skipped_rows == [
        (7, "matches skip pattern '^I alt$': 'I alt'"),
        (9, "matches skip pattern '^Hele landet$': 'Hele landet'"),
        (11, "note below the table: 'Kilde: Sundhedsdatastyrelsen'"),
        (12, "note below the table: 'Anm.: tal under 5 er diskretioneret'"),
    ]


def test_explicit_header_row(tmp_path: Path) -> None:
    text = "Titel\nKommunekode;Kommune;År;Antal\n101;København;2023;5\n"
    result = read_source_file(
        write(tmp_path / "a.csv", text), FileLayout(required_columns=COLUMNS, header_row=2)
    )
    assert result.header_row == 2 and result.frame["_source_row"].tolist() == [3]
    with pytest.raises(SourceFileError, match="header_row 9 is blank or beyond the end"):
        read_source_file(tmp_path / "a.csv", FileLayout(header_row=9))
    with pytest.raises(SourceFileError, match="not found on row 1; found it on row 2") as info:
        read_source_file(tmp_path / "a.csv", FileLayout(required_columns=COLUMNS, header_row=1))
    assert info.value.row == 1
    with pytest.raises(SourceFileError, match="'Andel' not found in header row 2") as info:
        read_source_file(
            tmp_path / "a.csv", FileLayout(required_columns=(*COLUMNS, "Andel"), header_row=2)
        )
    assert info.value.row == 2


@pytest.mark.parametrize(
    ("above", "header_row", "found"),
    [
        (["Ældre medicinske patienter", "", "Ekstra titel"], 3, 4),  # a title row added
        (["Ældre medicinske patienter", "Ekstra titel", ""], 3, 4),  # ... leaving row 3 blank
        (["Ældre medicinske patienter"], 3, 2),  # a title row removed
    ],
)
def test_moved_header_says_where_it_is_now(
    tmp_path: Path, above: list[str], header_row: int, found: int
) -> None:
    rows: list[list[object]] = [[cell] for cell in above]
    rows += [list(COLUMNS), [101, "København", 2023, 5], [147, "Frederiksberg", 2023, 6]]
    path = workbook(tmp_path / "aeldre.xlsx", rows)
    layout = FileLayout(kind="excel", required_columns=COLUMNS, header_row=header_row)
    with pytest.raises(SourceFileError) as info:
        read_source_file(path, layout)
    assert f"expected header not found on row {header_row}; found it on row {found}" in str(
        info.value
    )
    assert "beyond the end" not in str(info.value) and info.value.row == header_row
    text = "Titel\n\nUndertitel\nKommunekode;Kommune;År;Antal\n101;København;2023;5\n"
    with pytest.raises(SourceFileError, match="not found on row 3; found it on row 4"):
        read_source_file(
            write(tmp_path / "a.csv", text), FileLayout(required_columns=COLUMNS, header_row=3)
        )


def test_without_required_columns_the_widest_row_is_the_header(tmp_path: Path) -> None:
    text = "Folketal 2024\n\nKommune;Antal\nKøbenhavn;5\n"
    result = read_source_file(write(tmp_path / "a.csv", text), FileLayout())
    assert result.header_row == 3 and data(result) == [["København", "5"]]


def test_blank_header_cells_and_trailing_delimiters(tmp_path: Path) -> None:
    text = "Kommunekode;;Kommune;År;Antal;\n101;x;København;2023;5;\n147;;Frederiksberg;2023;6;\n"
    result = read_source_file(write(tmp_path / "a.csv", text), LAYOUT)
    assert list(result.frame.columns) == ["Kommunekode", "column_2", *COLUMNS[1:], "_source_row"]
    assert result.frame["column_2"].tolist() == ["x", ""]


def test_blank_cells_are_empty_strings_and_formulas_stay_text(tmp_path: Path) -> None:
    text = "Kommunekode;Kommune;År;Antal\n101;=SUM(A1);2023;\n147;@foo;2023; \n"
    frame = read_source_file(write(tmp_path / "a.csv", text), LAYOUT).frame
    assert frame["Antal"].tolist() == ["", ""]
    assert frame["Kommune"].tolist() == ["=SUM(A1)", "@foo"]
    assert all(isinstance(v, str) for c in COLUMNS for v in frame[c])
    assert frame["_source_row"].dtype == "int64"


# --- pivots and wide tables -------------------------------------------------------------------


def test_fill_down_before_skipping_totals() -> None:
    result = good("pivot_fill_down.csv")
    assert data(result) == [
        ["København", "2021", "100"],
        ["København", "2022", "110"],
        ["København", "2023", "120"],
        ["Frederiksberg", "2021", "50"],
        ["Frederiksberg", "2022", ".."],
    ]
    # The blank under "I alt" means "I alt" too: it is skipped, not given to Frederiksberg.
    assert [row for row, _ in result.skipped_rows] == [7, 8]


def test_wide_years_become_rows_and_keep_their_source_row() -> None:
    result = good("wide_years.csv")
    assert result.header_row == 3
    assert list(result.frame.columns) == ["Kommune", "År", "Antal", "_source_row", "_source_column"]
    assert data(result)[:3] == [
        ["København", "2021", "1.234", "2021"],
        ["København", "2022", "1.300", "2022"],
        ["København", "2023", "..", "2023"],
    ]
    assert result.frame["_source_row"].tolist() == [4, 4, 4, 5, 5, 5]
    assert result.frame["Antal"].tolist()[3:] == ["<5", "567", "-"]


def test_wide_without_matching_columns(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Kommune;Antal\nKøbenhavn;5\n")
    layout = FileLayout(wide=WideSpec(r"\d{4}", "År", "Antal"))
    with pytest.raises(SourceFileError, match=r"no column .* matches wide.pattern"):
        read_source_file(path, layout)


def test_wide_target_column_already_in_file(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Kommune;År;2021\nKøbenhavn;x;5\n")
    layout = FileLayout(wide=WideSpec(r"\d{4}", "År", "Antal"))
    with pytest.raises(SourceFileError, match="would create column 'År'"):
        read_source_file(path, layout)


# --- Excel ------------------------------------------------------------------------------------


def test_esundhed_workbook_with_title_rows_merged_cells_and_notes() -> None:
    result = good("esundhed_title_rows.xlsx")
    assert (result.sheet_name, result.header_row, result.encoding) == ("Tabel 1", 4, None)
    assert list(result.frame.columns) == [
        "Kommunekode", "Kommune", "År", "Antal", "Andel", "Opdateret", "_source_row"
    ]  # fmt: skip
    assert data(result) == [
        ["101", "København", "2022", "1234,5", "12,5", "2025-01-15"],
        ["101", "København", "2023", "1300", "7", "2025-01-15T08:30:00"],
        ["147", "Frederiksberg", "2022", "567", "50", ""],
        ["147", "Frederiksberg", "2023", "<5", "", ""],
    ]
    assert result.frame["_source_row"].tolist() == [5, 6, 7, 8]
    assert result.skipped_rows == [
        (9, "matches skip pattern '^I alt$': 'I alt'"),
        (11, "note below the table: 'Kilde: eSundhed'"),
        (12, "note below the table: '* Diskretioneret: færre end 5'"),
    ]


def test_excel_wide_years_with_number_headers() -> None:
    result = good("wide_years.xlsx")
    assert result.sheet_name == "Ark1"
    assert data(result) == [
        ["København", "2021", "1234", "2021"],
        ["København", "2022", "1300,25", "2022"],
        ["København", "2023", "..", "2023"],
        ["Frederiksberg", "2021", "<5", "2021"],
        ["Frederiksberg", "2022", "567", "2022"],
        ["Frederiksberg", "2023", "", "2023"],
    ]


def test_excel_values_become_danish_text(tmp_path: Path) -> None:
    rows = [
        ["Kommune", "Værdi"],
        ["heltal", 1234],
        ["float heltal", 1234.0],
        ["decimal", 1234.5],
        ["lille", 0.00001],
        ["stor", 1.5e16],
        ["negativ", -3],
        ["dato", dt.date(2024, 1, 31)],
        ["tidspunkt", dt.datetime(2024, 1, 31, 12, 5)],
        ["sand", True],
        ["tekst", "  =SUM(A1) "],
    ]
    path = workbook(tmp_path / "a.xlsx", rows)
    book = openpyxl.load_workbook(path)
    book["Data"]["B11"].data_type = "s"  # a text cell that merely looks like a formula
    book.save(path)
    result = read_source_file(path, FileLayout(required_columns=("Kommune", "Værdi")))
    assert result.frame["Værdi"].tolist() == [
        "1234", "1234", "1234,5", "1e-05", "1,5e+16", "-3", "2024-01-31",
        "2024-01-31T12:05:00", "TRUE", "=SUM(A1)",
    ]  # fmt: skip
    dotted = read_source_file(path, FileLayout(required_columns=("Kommune",), decimal="."))
    assert dotted.frame["Værdi"].tolist()[2] == "1234.5"
    assert dotted.decimal == "."


def test_real_formula_cells_are_never_evaluated(tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [["Kommune", "Antal"], ["København", "=1+1"]])
    frame = read_source_file(path, FileLayout(required_columns=("Kommune", "Antal"))).frame
    assert frame["Antal"].tolist() == [""]  # no cached value: openpyxl never calculates


def test_excel_sheet_by_position_and_case_insensitive_name(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Forside"
    book.create_sheet("Tabel 1").append(["Kommune", "Antal"])
    book["Tabel 1"].append(["København", 5])
    book.save(tmp_path / "a.xlsx")
    for sheet in (1, "tabel 1", " Tabel  1"):
        result = read_source_file(
            tmp_path / "a.xlsx", FileLayout(sheet=sheet, required_columns=("Kommune",))
        )
        assert result.sheet_name == "Tabel 1" and data(result) == [["København", "5"]]
    with pytest.raises(SourceFileError, match="has no sheet at position 5"):
        read_source_file(tmp_path / "a.xlsx", FileLayout(sheet=5))
    with pytest.raises(SourceFileError, match=r"has no sheet 'Tabel 2' \(did you mean 'Tabel 1'"):
        read_source_file(tmp_path / "a.xlsx", FileLayout(sheet="Tabel 2"))


def test_excel_value_right_of_the_header_gets_its_own_column(tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [["Kommune", "Antal"], ["København", 5, "note"]])
    frame = read_source_file(path, FileLayout(required_columns=("Kommune",))).frame
    assert frame["column_3"].tolist() == ["note"]


def test_empty_sheet(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="the sheet is empty"):
        read_source_file(workbook(tmp_path / "a.xlsx", []), LAYOUT)


# --- the bad corpus ---------------------------------------------------------------------------

READER_ERRORS = {
    "empty.csv": (None, None, "file is empty"),
    "header_only.csv": (1, None, "has a header but no data rows"),
    "truncated.csv": (4, None, "looks truncated: the last row has 3 of the header's 4 fields"),
    "utf16.csv": (None, None, "is UTF-16 encoded"),
    "utf16_no_bom.csv": (None, None, "looks UTF-16 encoded (every other byte is NUL)"),
    "binary_nul.csv": (3, None, "contains NUL bytes (first at byte 8)"),
    "wrong_delimiter.csv": (1, None, "wrong delimiter: the header has only one field"),
    "html_error_page.csv": (None, None, "is an HTML/XML page"),
    "mojibake.csv": (3, None, "text is garbled ('Ã¦' in '370;NÃ¦stved;2023;456')"),
    "ragged_row.csv": (3, None, "row has 5 fields but the header (row 1) has 4; extra value '5'"),
    "missing_column.csv": (
        1,
        "Antal",
        "required column(s) 'Antal' not found in the first 50 rows; columns found in row 1: "
        "'Kommunekode', 'Kommune', 'År'",
    ),
    "renamed_column.csv": (
        1,
        "Antal",
        "did you mean 'Antal personer' for 'Antal'? (add it to column_aliases)",
    ),
    "corrupt.xlsx": (None, None, "is a corrupt or truncated .xlsx workbook"),
    "csv_renamed.xlsx": (None, None, "is not a valid .xlsx workbook: a text (CSV?) file"),
    "old_format.xls": (None, None, "is an old-style .xls workbook"),
}


@pytest.mark.parametrize("name", sorted(READER_ERRORS))
def test_reader_rejects_bad_file_with_a_clear_message(name: str) -> None:
    row, column, message = READER_ERRORS[name]
    path = BAD / name
    with pytest.raises(SourceFileError) as info:
        read_source_file(path, BAD_LAYOUT)
    error = info.value
    assert str(error).startswith(f"file {path}")
    assert message in error.reason
    assert (error.row, error.column) == (row, column)
    assert "Traceback" not in str(error)


def test_missing_sheet_lists_the_sheets() -> None:
    layout = FileLayout.from_dict(
        {**yaml.safe_load((BAD / "layout.yaml").read_text()), "sheet": "Data"}
    )
    with pytest.raises(SourceFileError) as info:
        read_source_file(BAD / "missing_sheet.xlsx", layout)
    assert "missing_sheet.xlsx" in str(info.value)
    assert "has no sheet 'Data'; its sheets are 0: 'Forside', 1: 'Tabel'" in str(info.value)


VALIDATION_LEVEL = {
    "unknown_municipality.csv": ("Kommunekode", 3, "999"),
    "duplicate_rows.csv": ("Antal", 4, "1.234"),
    "negative_count.csv": ("Antal", 3, "-3"),
    "text_in_number.csv": ("Antal", 3, "ca. 40"),
    "future_period.csv": ("År", 3, "2031"),
    "absurd_value.csv": ("Antal", 3, "9.999.999.999"),
    "formula_injection.csv": ("Kommune", 4, "+cmd|' /C calc'!A0"),
    "cp1252_names.csv": ("Kommune", 3, "Ærø"),
}


@pytest.mark.parametrize("name", sorted(VALIDATION_LEVEL))
def test_validation_level_bad_files_read_fine(name: str) -> None:
    column, row, value = VALIDATION_LEVEL[name]
    result = read_source_file(BAD / name, BAD_LAYOUT)
    assert list(result.frame.columns) == [*COLUMNS, "_source_row"]
    at = result.frame.set_index("_source_row")
    assert at.loc[row, column] == value
    assert result.encoding == ("cp1252" if name == "cp1252_names.csv" else "utf-8")


def test_formula_file_keeps_every_formula_as_text() -> None:
    frame = read_source_file(BAD / "formula_injection.csv", BAD_LAYOUT).frame
    assert frame["Kommune"].tolist()[1:] == [
        '=HYPERLINK("http://example.com/x";"Frederiksberg")',
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ]


def test_every_bad_file_is_listed_in_the_readme() -> None:
    readme = (BAD / "README.md").read_text("utf-8")
    files = {p.name for p in BAD.iterdir() if p.name not in {"README.md", "layout.yaml"}}
    assert files == set(READER_ERRORS) | set(VALIDATION_LEVEL) | {"missing_sheet.xlsx"}
    assert all(f"`{name}`" in readme for name in files)


# --- more file-level errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "message", "row"),
    [
        (b"Kommune;Antal\n\x81x;5\n", "neither UTF-8 nor Windows-1252 (byte 0x81", 2),
        (b"Kommune;Antal\nK\x01;5\n", "contains control character '\\x01'", 2),
        (b"   \r\n\r\n", "file is empty", None),
        (b"\xef\xbb\xbf", "file is empty", None),
        (b"Kommune;Antal\nKilde: DST\n", "has a header but no data rows", 1),
        (b"Kommune;Antal\nA;1\nB\nC;3\n", "row has 1 field(s) but the header (row 1) has 2", 3),
        (b'Kommune;Antal\nA;"1\n' + b"x" * 140_000, "an unclosed quote", 2),
    ],
)
def test_file_level_errors(tmp_path: Path, content: bytes, message: str, row: int | None) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(SourceFileError) as info:
        read_source_file(path, FileLayout(required_columns=("Kommune",)))
    assert message in str(info.value) and info.value.row == row


def test_zip_named_csv_and_missing_file(tmp_path: Path) -> None:
    path = workbook(tmp_path / "a.xlsx", [["Kommune"], ["København"]]).rename(tmp_path / "a.csv")
    with pytest.raises(SourceFileError, match="is a zip file"):
        read_source_file(path, LAYOUT)
    with pytest.raises(SourceFileError, match="file not found"):
        read_source_file(tmp_path / "nope.csv", LAYOUT)


def test_two_headers_mapping_to_one_column(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Kommune;Område;Antal\nA;B;1\n")
    layout = FileLayout(column_aliases={"Kommune": ("Område",)})
    with pytest.raises(SourceFileError, match="two header cells give column 'Kommune'"):
        read_source_file(path, layout)


def test_fill_down_column_must_exist(tmp_path: Path) -> None:
    path = write(tmp_path / "a.csv", "Kommune;Antal\nA;1\n")
    with pytest.raises(SourceFileError, match="fill_down column 'Region' is not in the file"):
        read_source_file(path, FileLayout(fill_down=("Region",)))


def test_reader_never_modifies_or_adds_files(tmp_path: Path) -> None:
    def snapshot(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}

    for folder in (BAD, GOOD):
        before = snapshot(folder)
        for path in sorted(folder.iterdir()):
            if path.suffix in {".md", ".yaml"}:
                continue
            layout = FileLayout.from_dict(GOOD_LAYOUTS[path.name]) if folder == GOOD else BAD_LAYOUT
            with contextlib.suppress(SourceFileError):
                read_source_file(path, layout)
        assert snapshot(folder) == before


# --- layouts from YAML ------------------------------------------------------------------------


def test_layout_from_yaml() -> None:
    layout = FileLayout.from_dict(
        yaml.safe_load(
            """
            kind: excel
            sheet: Tabel 1
            header_row: 4
            required_columns: [Kommune, År, Antal]
            column_aliases: {Kommune: [Kommunenavn, Område]}
            fill_down: [Kommune]
            wide: {pattern: '\\d{4}', name_col: År, value_col: Antal}
            encoding: cp1252
            delimiter: tab
            decimal: ','
            skip_rows_matching: ['^I alt', '^Kilde:']
            """
        )
    )
    assert layout.required_columns == ("Kommune", "År", "Antal")
    assert layout.column_aliases == {"Kommune": ("Kommunenavn", "Område")}
    assert layout.wide == WideSpec(r"\d{4}", "År", "Antal")
    assert layout.delimiter == "\t"
    assert FileLayout.from_dict({}) == FileLayout()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "pdf"}, "kind must be one of auto, delimited, excel, not 'pdf'"),
        ({"requried_columns": ["A"]}, "unknown layout key(s) 'requried_columns' (did you mean"),
        ({"header_row": 0}, "header_row must be a 1-based row number"),
        ({"sheet": -1}, "sheet position must be 0 or more"),
        ({"decimal": ";"}, "decimal must be ',' or '.'"),
        ({"delimiter": ";;"}, "delimiter must be one character"),
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"skip_rows_matching": ["("]}, "skip_rows_matching: bad regular expression '('"),
        ({"wide": {"pattern": "x"}}, "wide needs exactly the keys"),
        (
            {"wide": {"pattern": "x", "name_col": "A", "value_col": "a"}},
            "must differ",
        ),
        ({"column_aliases": {"A": ["X"], "B": ["x"]}}, "'x' is given for both 'A' and 'B'"),
        ({"column_aliases": ["A"]}, "column_aliases must map"),
        ({"required_columns": 5}, "required_columns must be a list of strings"),
        ("kind: excel", "a layout must be a mapping"),
    ],
)
def test_layout_errors_name_the_key(data: object, message: str) -> None:
    with pytest.raises(LayoutError) as info:
        FileLayout.from_dict(data)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_the_constructor_accepts_plain_data_like_yaml() -> None:
    plain = FileLayout(
        required_columns=["Kommune", "Antal"],  # type: ignore[arg-type]
        column_aliases={"Kommune": ["Område"]},  # type: ignore[dict-item]
        wide={"pattern": r"\d{4}", "name_col": "År", "value_col": "Antal"},  # type: ignore[arg-type]
        delimiter="tab",
    )
    assert plain.required_columns == ("Kommune", "Antal")
    assert plain.column_aliases == {"Kommune": ("Område",)}
    assert plain.wide == WideSpec(r"\d{4}", "År", "Antal")
    assert plain.delimiter == "\t"
    assert hash(plain) == hash(FileLayout.from_dict(dict(plain.__dict__)))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"wide": "years"}, "wide must be a mapping with pattern, name_col and value_col"),
        ({"encoding": 5}, "bad layout:"),
        ({"fill_down": [""]}, "fill_down must be a list of non-empty strings"),
    ],
)
def test_more_layout_errors(data: dict[str, object], message: str) -> None:
    with pytest.raises(LayoutError, match=message):
        FileLayout.from_dict(data)


def test_frame_is_plain_text_for_ingest(tmp_path: Path) -> None:
    result = read_source_file(write(tmp_path / "a.csv", TEXT), LAYOUT)
    assert isinstance(result.frame, pd.DataFrame)
    assert result.frame.index.tolist() == [0, 1]
    assert result.skipped_rows == [] and result.header_row == 1 and result.sheet_name is None
