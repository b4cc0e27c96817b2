"""The one-line advice for a problem source or a failed step: file, what, what to do, where."""

from __future__ import annotations

import pytest

from datapakke.raw.advice import (
    SourceProblem,
    advise_source,
    explain_step_failure,
    hint_for_message,
    locked_warehouse_line,
)

FOLK1A = "statbank/FOLK1A/FOLK1A-2020.csv"
MISSING_CIVILSTAND = (
    f"file {FOLK1A}, column 'CIVILSTAND': missing column(s) 'CIVILSTAND' needed by source "
    "folk1a_population; found OMRÅDE, KØN, ALDER, TID, INDHOLD"
)


def rejected(message: str, file: str = FOLK1A) -> SourceProblem:
    return SourceProblem("folk1a_population", file, "rejected", message, rows_read=10)


def test_a_rejected_file_in_one_line_with_file_problem_hint_and_where() -> None:
    advice = advise_source(rejected(MISSING_CIVILSTAND))
    assert advice is not None and advice.is_rejected
    assert advice.line == (
        f"{FOLK1A}: rejected: missing column(s) 'CIVILSTAND' needed by source "
        "folk1a_population; found OMRÅDE, KØN, ALDER, TID, INDHOLD. What to do: check the "
        "column names against data/reference/sources.yaml, or download the table again with "
        "the variable 'CIVILSTAND' selected. Details: Dagster UI (make dev) asset "
        "raw_folk1a_population, check validation; warehouse table raw.quarantine with "
        "source_id = 'folk1a_population'."
    )
    assert "\n" not in advice.line


def test_the_file_is_named_once_even_when_the_reader_gives_the_full_path() -> None:
    message = "file /home/a/data/raw/esundhed/aeldre-2026.xlsx, row 3: expected header not found"
    advice = advise_source(rejected(message, file="esundhed/aeldre-2026.xlsx"))
    assert advice.problem == "row 3: expected header not found"
    assert advice.line.startswith("esundhed/aeldre-2026.xlsx: rejected: row 3: expected header")


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("row 4: expected header not found on row 3; found it on row 4", "title row"),
        ("row 1: required column(s) 'Antal' not found in the first 50 rows", "'Antal' selected"),
        ("row 1: no INDHOLD column; the header has OMRÅDE, ANTAL", "'INDHOLD' selected"),
        ("is UTF-16 encoded, which the reader does not accept", "save it as UTF-8"),
        ("cannot be decoded: utf-8 (byte 0xe6 at position 3)", "save it as UTF-8"),
        ("row 3: text is garbled ('Ã¦' in '370;NÃ¦stved')", "save it as UTF-8"),
        ("is an HTML/XML page (e.g. an error or login page saved as .csv)", "download the file"),
        ("row 4: looks truncated: the last row has 3 of the header's 4 fields", "download"),
        ("file is empty", "download the file again"),
        ("is an old-style .xls workbook", "save it as .xlsx"),
        ("row 1: wrong delimiter: the header has only one field", "';' between the columns"),
        ("has no sheet 'Data'; its sheets are 0: 'Forside'", "rename the sheet"),
        (
            "2000 of 5000 rows (40%) failed validation, above the limit of 20%: the whole file "
            "is rejected",
            "open the quarantine table",
        ),
        ("something nobody foresaw", "move it out of data/raw/"),
    ],
)
def test_the_hint_follows_the_kind_of_problem(message: str, hint: str) -> None:
    assert hint in hint_for_message(message)


def test_a_partly_quarantined_file_says_how_many_rows_why_and_what_to_do() -> None:
    problem = SourceProblem(
        "fod207_deaths",
        "statbank/FOD207/FOD207-2025.csv",
        "accepted",
        rows_read=43472,
        rows_quarantined=5,
        checks={"known_municipality": 3, "value:greater_than_or_equal_to(0)": 2},
    )
    advice = advise_source(problem)
    assert advice is not None and not advice.is_rejected
    assert advice.line.startswith(
        "statbank/FOD207/FOD207-2025.csv: partly quarantined: 5 of 43472 rows quarantined "
        "(3 known_municipality, 2 value:greater_than_or_equal_to(0))"
    )
    assert "What to do: open the quarantine table; use 3-digit DST municipality codes" in (
        advice.line
    )
    assert "raw.quarantine with source_id = 'fod207_deaths'" in advice.line


def test_a_good_source_needs_no_advice() -> None:
    assert advise_source(SourceProblem("x", "sample/x.csv", "accepted", rows_read=9)) is None
    assert advise_source(SourceProblem("x", "sample/x.csv", "unchanged")) is None


LOCK = (
    'IO Error: Could not set lock on file "/data/marts/warehouse.duckdb": Conflicting lock is '
    "held in /usr/bin/python3.11 (PID 10878). See also https://duckdb.org/docs/stable/connect/"
)


def test_a_locked_warehouse_names_the_program_and_pid() -> None:
    assert locked_warehouse_line(LOCK) == (
        "/data/marts/warehouse.duckdb is open in another program (python3.11, pid 10878): "
        "close it (a notebook, the duckdb CLI, DBeaver or a second make run) and run make run "
        "again"
    )
    assert locked_warehouse_line("IO Error: disk full") is None


def test_failed_steps_expected_ones_in_a_line_others_as_unexpected() -> None:
    wrapped = ("DagsterExecutionStepExecutionError", 'Error occurred while executing op "x":')
    locked = explain_step_failure("raw_sources", [wrapped, ("IOException", LOCK)])
    assert locked.line.startswith("/data/marts/warehouse.duckdb is open in another program")
    assert not locked.unexpected
    check = explain_step_failure("c", [("DagsterAssetCheckFailedError", "1 check failed")])
    assert check.line == "" and not check.unexpected  # the check's own line tells it
    reference = explain_step_failure(
        "core_tables",
        [wrapped, ("ReferenceDataError", "data/reference/areas.csv, row 5: region_name is blank")],
    )
    assert reference.line == "core_tables: data/reference/areas.csv, row 5: region_name is blank"
    remote = ("_RemoteTraceback", '\n"""\nTraceback (most recent call last):\n"""')
    chain = [wrapped, ("KeyError", "'hovedstaden'\nmore"), remote]
    bug = explain_step_failure("area_pack", chain)
    assert bug.unexpected and bug.line == "area_pack: KeyError: 'hovedstaden'"
