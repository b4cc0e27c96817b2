"""statistikbanken.dk web exports ("Gem som CSV" or Excel) → the API extract's long shape.

An analyst who downloads a table from the website gets a pivot, not the API's long table: a
quoted title ("… efter område, køn og tid"), a blank line, a header whose first k cells are blank
(the stub columns) followed by one column per period, rows where a blank stub cell means "same
as above", category rows that only set an outer stub level, and notes below the table. This
module turns that into one row per (stub labels, period) with the value in ``INDHOLD``, so the
registry maps its columns exactly as for an API extract. CSV and Excel share :func:`pivot_rows`;
only getting the rows out of the file differs.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, NoReturn

import pandas as pd

from datapakke.raw.errors import SourceFileError

TIME_COLUMN = "TID"
VALUE_COLUMN = "INDHOLD"

#: How many records from the top may come before the header (title, subtitle, unit line).
_HEADER_SCAN = 6
#: A period column: StatBank periods all start with the year (2019, 2019K1, 2019M01, 2019/2020).
_PERIOD_LIKE = re.compile(r"\s*\d{4}")
#: Where the title's variable list starts: "Folketal efter område, køn og tid" / "… by region".
_LIST_START = re.compile(r"\s(?:efter|by)\s", re.IGNORECASE)
_LIST_SPLIT = re.compile(r"\s*,\s*(?:og\s+|and\s+)?|\s+(?:og|and)\s+", re.IGNORECASE)
_PARENTHESES = re.compile(r"\([^()]*\)")
_TIME_NAMES = {"TID", "TIME"}


class Record(NamedTuple):
    """One non-blank line (CSV) or sheet row (Excel): its 1-based number and its cells."""

    line: int
    cells: list[str]


def _blank(cell: str) -> bool:
    return not cell.strip()


def csv_records(text: str, name: str) -> Iterator[Record]:
    """Records of ``;``-separated text with the line each starts on; blank lines are dropped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    next_line = 1
    try:
        for cells in reader:
            line, next_line = next_line, reader.line_num + 1
            if cells and not all(_blank(cell) for cell in cells):
                yield Record(line, cells)
    except csv.Error as error:
        raise SourceFileError(name, f"not readable as CSV: {error}", row=next_line) from None


def looks_like_web_export(records: Iterable[Record]) -> bool:
    """True for the website's layout: a header with blank stub cells, maybe under a title.

    An API extract's first line is its header (``OMRÅDE;TID;INDHOLD``), whose first cell is
    never blank, so the two cannot be confused.
    """
    head = list(itertools.islice(records, _HEADER_SCAN))
    if not head or (len(head[0].cells) != 1 and not _blank(head[0].cells[0])):
        return False
    return any(_is_header(record) for record in head)


def _is_header(record: Record) -> bool:
    cells = record.cells
    return len(cells) >= 2 and _blank(cells[0]) and not _blank(cells[-1])


def read_web_export_workbook(raw: bytes, name: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The web export saved as .xlsx: same layout in cells (title in A1), same result as CSV."""
    from datapakke.raw.files.excel import excel_rows
    from datapakke.raw.files.layout import FileLayout

    # Excel numbers are written with a decimal comma, as the Danish CSV export writes them.
    rows, _sheet = excel_rows(Path(name), raw, FileLayout(kind="excel", decimal=","))
    records = [Record(row.number, row.cells) for row in rows if row.filled]
    if not looks_like_web_export(records):
        raise SourceFileError(
            name,
            "this workbook is not a statistikbanken.dk export (a title, then a header row whose "
            "first cells are blank, then the periods as columns)",
        )
    return pivot_rows(records, name, ragged=True)


def pivot_rows(
    records: Iterable[Record], name: str, *, ragged: bool = False
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The long table of a web export's records, and the lines after the table with why.

    ``ragged`` is for Excel, where a row's empty cells at the end are simply not there: a row
    reaching past the stub columns is then a data row and is padded to the header's width.
    In CSV every data row has all its fields, so a shorter one means a damaged file.
    """
    records = list(records)
    title, header, skipped = _find_header(records, name)
    k = next(i for i, cell in enumerate(header.cells) if not _blank(cell))
    periods = header.cells[k:]
    _check_periods(periods, name, header.line)
    width = k + len(periods)
    body = [r for r in records if r.line > header.line]
    if ragged:
        body = [_pad(r, k, width) for r in body]
    last = max((i for i, r in enumerate(body) if len(r.cells) == width), default=-1)
    stubs: list[list[str]] = [[] for _ in range(k)]
    times: list[str] = []
    values: list[str] = []
    lines: list[int] = []
    current: list[str | None] = [None] * k
    for record in body[: last + 1]:
        if len(record.cells) < k:  # a category row: sets outer stub levels only
            _set_stub(current, record, name, fill_rest=True)
            continue
        if len(record.cells) != width:
            _wrong_width(record, width, name)
        labels = _set_stub(current, record, name, fill_rest=False)
        for column, label in zip(stubs, labels, strict=True):
            column.extend([label] * len(periods))
        times.extend(periods)
        values.extend(record.cells[k:])
        lines.extend([record.line] * len(periods))
    skipped += _after_table(body[last + 1 :], k, width, name)
    names = stub_names(title, k)
    frame = pd.DataFrame({n: pd.Series(c, dtype=object) for n, c in zip(names, stubs, strict=True)})
    frame[TIME_COLUMN] = pd.Series(times, dtype=object)
    frame[VALUE_COLUMN] = pd.Series(values, dtype=object)
    frame["_source_row"] = pd.Series(lines, dtype="int64")
    return frame, skipped


def _find_header(
    records: list[Record], name: str
) -> tuple[str | None, Record, list[tuple[int, str]]]:
    """The title (first one-cell line, if any), the header, and lines between them as skipped."""
    for at, record in enumerate(records[:_HEADER_SCAN]):
        if _is_header(record):
            above = records[:at]
            title = above[0].cells[0] if above and len(above[0].cells) == 1 else None
            skipped = [
                (r.line, "above the table's header (a subtitle or note), not data")
                for r in above[1 if title is not None else 0 :]
            ]
            return title, record, skipped
    raise SourceFileError(
        name, "no header row (blank label cells followed by the periods) near the top"
    )


def _check_periods(periods: list[str], name: str, line: int) -> None:
    """Only time across the columns is understood; anything else would be named wrongly."""
    odd = [p for p in periods if not _PERIOD_LIKE.match(p)]
    if odd:
        raise SourceFileError(
            name,
            f"the columns after the label columns are not periods (e.g. {odd[:3]}); "
            "export the table from statistikbanken.dk with time (tid) across the columns",
            row=line,
        )
    twice = sorted({p for p in periods if periods.count(p) > 1})
    if twice:
        raise SourceFileError(
            name,
            f"period(s) {', '.join(twice)} head more than one column; export the table with "
            "only time (tid) across the columns",
            row=line,
        )


def _pad(record: Record, k: int, width: int) -> Record:
    cells = record.cells
    if k < len(cells) < width:
        return Record(record.line, cells + [""] * (width - len(cells)))
    return record


def _set_stub(
    current: list[str | None], record: Record, name: str, *, fill_rest: bool
) -> list[str | None]:
    """Apply a row's stub cells to ``current`` (blank = same as above); the labels now in force.

    A category row (``fill_rest``) also clears the inner levels: the rows under it set them.
    """
    cells = record.cells[: len(current)]
    for level, cell in enumerate(cells):
        if not _blank(cell):
            current[level] = cell
        elif current[level] is None:
            raise SourceFileError(
                name,
                f"label column {level + 1} is blank ('same as above') but no row above gives it",
                row=record.line,
            )
    if fill_rest:
        current[len(cells) :] = [None] * (len(current) - len(cells))
    return list(current)


def _wrong_width(record: Record, width: int, name: str) -> NoReturn:
    raise SourceFileError(
        name,
        f"expected {width} fields like the header, found {len(record.cells)}; "
        "the file is probably truncated or damaged",
        row=record.line,
    )


def _after_table(records: list[Record], k: int, width: int, name: str) -> list[tuple[int, str]]:
    """Lines below the last data row: notes are returned as skipped, a cut-off row is an error."""
    skipped = []
    for record in records:
        if len(record.cells) == 1 or len(record.cells) < k:
            text = " ".join(c.strip() for c in record.cells if not _blank(c))
            skipped.append((record.line, f"below the table, not data (a note?): {text[:80]!r}"))
        else:
            _wrong_width(record, width, name)
    return skipped


def stub_names(title: str | None, k: int) -> list[str]:
    """Column names for the k stub columns from the title's variable list, else STUB1..STUBk.

    "Arbejdssteder og job efter branche (DB07 10-grp), enhed, område og tid" → BRANCHE, ENHED,
    OMRÅDE (tid is the period columns). The list must hold exactly k variables plus time, in
    statistikbanken's default order; otherwise the generic names make the mismatch visible when
    the registry looks for its columns, rather than labelling a column wrongly.
    """
    # From the last "efter": the table's own name may hold one ("Flyttede efter flytning …").
    for match in reversed(list(_LIST_START.finditer(title or ""))):
        listed = _PARENTHESES.sub(" ", (title or "")[match.end() :])
        names = [" ".join(part.split()).upper() for part in _LIST_SPLIT.split(listed)]
        names = [n for n in names if n]
        stubs = names[:-1]
        if (
            len(names) == k + 1
            and names[-1] in _TIME_NAMES
            and len(set(stubs)) == k
            and not set(stubs) & {TIME_COLUMN, VALUE_COLUMN, "_SOURCE_ROW"}
        ):
            return stubs
    return [f"STUB{i}" for i in range(1, k + 1)]
