"""From the rows of a file to the table as text: below the header, without notes and skipped
rows, blanks filled down, and wide (years-as-columns) layouts melted into rows.

Every row left out is reported with the reason (a note below the table, a skip pattern), so
nothing vanishes silently between the file and validation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files.header import ColumnNames, Row, column_names, find_header
from datapakke.raw.files.layout import FileLayout, WideSpec, compile_pattern, norm_header

# A lone cell below the table that reads like a footnote, not a data row ("Kilde: …", "*) …").
_NOTE = re.compile(
    r"^(kilde|anm|note|noter|fodnote|bemærk|obs|source|opdateret|udtrukket|data)\b"
    r"|^[*(\[†]|^\d+\)|:|(\S+\s+){4}\S",
    re.IGNORECASE,
)


@dataclass
class Table:
    """The table's text (plus ``_source_row``), its header row, the rows left out and why,
    and canonical column name → header as written."""

    frame: pd.DataFrame
    header_row: int
    skipped: list[tuple[int, str]]
    columns: dict[str, str]


def build_table(path: Path, rows: list[Row], layout: FileLayout, field_counts: bool) -> Table:
    """The table in ``rows`` as the layout describes it.

    ``field_counts``: the rows come from delimited text, where a row with too few or too many
    fields is damage; Excel cells cannot shift, so there a wider row just gets more columns.
    """
    names = ColumnNames(layout)
    if not any(r.filled for r in rows):
        raise SourceFileError(path, "file is empty" if field_counts else "the sheet is empty")
    header_index = find_header(path, rows, names)
    header = rows[header_index]
    body, skipped = _body_without_notes(rows[header_index + 1 :])
    if not body:
        raise SourceFileError(path, "has a header but no data rows", row=header.number)
    patterns = [compile_pattern(p, "skip_rows_matching") for p in layout.skip_rows_matching]
    width = max((i + 1 for i, c in enumerate(header.cells) if c), default=0)
    if field_counts:
        _check_field_counts(path, body, header, width, patterns)
    else:
        width = max([width, *(len(r.cells) for r in body)])
    columns, written = column_names(path, header, width, names)
    frame = _frame(body, columns, written, width)
    for column in layout.fill_down:
        name = names.canonical(column)
        if name not in frame.columns:
            raise SourceFileError(
                path,
                f"fill_down column {column!r} is not in the file; columns found in row "
                f"{header.number}: " + ", ".join(repr(h) for h in written.values()),
                column=column,
            )
        frame[name] = _fill_down(frame[name].to_numpy(dtype=object))
    frame, matched = _drop_matching(frame, patterns)
    if layout.wide is not None:
        frame = _melt(path, frame, layout.wide, written)
    return Table(frame.reset_index(drop=True), header.number, sorted(skipped + matched), written)


def _body_without_notes(below_header: list[Row]) -> tuple[list[Row], list[tuple[int, str]]]:
    """The non-blank rows under the header, minus the footnotes ending the table (reported)."""
    body = [r for r in below_header if r.filled]
    notes = _notes_below(below_header)
    skipped = [(n.number, f"note below the table: {n.first()[:80]!r}") for n in notes]
    return body[: len(body) - len(notes)], skipped


def _notes_below(rows: list[Row]) -> list[Row]:
    """The one-cell rows ending the table that are footnotes, not data.

    Such a row is a note when a blank row separates it from the table or its text reads like
    one (``Kilde: …``, ``*) …``, a sentence); a lone municipality name right under the data stays
    a data row, so validation sees it instead of it vanishing into the notes.
    """
    last_data = max((i for i, r in enumerate(rows) if r.filled and not _one_cell(r)), default=-1)
    flagged: list[tuple[Row, bool]] = []
    separated = False
    for row in rows[last_data + 1 :]:
        if not row.filled:
            separated = True
            continue
        flagged.append((row, separated or bool(_NOTE.search(row.cells[0]))))
    notes: list[Row] = []
    for row, is_note in reversed(flagged):
        if not is_note:
            break
        notes.append(row)
    return notes[::-1]


def _one_cell(row: Row) -> bool:
    return row.filled == 1 and bool(row.cells[0])


def _check_field_counts(
    path: Path, body: list[Row], header: Row, width: int, patterns: list[re.Pattern[str]]
) -> None:
    """A CSV row with fewer fields than the header is truncated or hand-edited: reject it."""
    last = body[-1]
    for row in body:
        if row.fields >= width or any(p.search(row.first()) for p in patterns):
            continue
        if row is last:
            message = (
                f"looks truncated: the last row has {row.fields} of the header's {width} fields"
            )
        else:
            message = (
                f"row has {row.fields} field(s) but the header (row {header.number}) has {width}"
            )
        raise SourceFileError(path, message, row=row.number)
    for row in body:
        extra = [c for c in row.cells[width:] if c]
        if extra:
            raise SourceFileError(
                path,
                f"row has {row.fields} fields but the header (row {header.number}) has {width}; "
                f"extra value {extra[0]!r} (an unquoted delimiter inside a value?)",
                row=row.number,
            )


def _frame(
    body: list[Row], columns: list[str], written: dict[str, str], width: int
) -> pd.DataFrame:
    """The body as text columns plus ``_source_row``; blank-headed columns only if they hold data."""
    cells = [r.cells if len(r.cells) == width else (r.cells + [""] * width)[:width] for r in body]
    frame = pd.DataFrame(cells, columns=columns, dtype=object)
    unused = [c for c in columns if c not in written and not (frame[c] != "").any()]
    frame = frame.drop(columns=unused)
    frame["_source_row"] = np.array([r.number for r in body], dtype=np.int64)
    return frame


def _fill_down(values: np.ndarray) -> np.ndarray:
    """Blank cells take the value above them (pivoted exports write a group label once)."""
    if not len(values):
        return values
    index = np.where(values != "", np.arange(len(values)), 0)
    return values[np.maximum.accumulate(index)]


def _drop_matching(
    frame: pd.DataFrame, patterns: list[re.Pattern[str]]
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Rows whose first non-empty cell matches a skip pattern (totals, footnotes), reported."""
    if not patterns:
        return frame, []
    data = frame.drop(columns="_source_row").to_numpy(dtype=object)
    first = data[np.arange(len(data)), (data != "").argmax(axis=1)] if data.size else data
    drop = np.zeros(len(frame), dtype=bool)
    skipped: list[tuple[int, str]] = []
    for pattern in patterns:
        hit = ~drop & np.array([bool(pattern.search(t)) for t in first], dtype=bool)
        skipped += [
            (int(r), f"matches skip pattern {pattern.pattern!r}: {t[:80]!r}")
            for r, t in zip(frame["_source_row"][hit], first[hit], strict=True)
        ]
        drop |= hit
    return frame[~drop], skipped


def _melt(path: Path, frame: pd.DataFrame, wide: WideSpec, written: dict[str, str]) -> pd.DataFrame:
    """Years (or similar) across columns → one row per cell, keeping each cell's source row."""
    pattern = compile_pattern(wide.pattern, "wide.pattern")
    data_columns = [c for c in frame.columns if c != "_source_row"]
    melted = [c for c in data_columns if pattern.fullmatch(c)]
    ids = [c for c in data_columns if c not in melted]
    for target in (wide.name_col, wide.value_col):
        if norm_header(target) in ids:
            raise SourceFileError(
                path,
                f"wide layout would create column {target!r}, but the file already has it",
                column=target,
            )
    n, k = len(frame), len(melted)
    out = {c: np.repeat(frame[c].to_numpy(dtype=object), k) for c in ids}
    out[norm_header(wide.name_col)] = np.tile(np.array(melted, dtype=object), n)
    out[norm_header(wide.value_col)] = frame[melted].to_numpy(dtype=object).reshape(n * k)
    out["_source_row"] = np.repeat(frame["_source_row"].to_numpy(dtype=np.int64), k)
    headers = np.array([written.get(c, c) for c in melted], dtype=object)
    out["_source_column"] = np.tile(headers, n)
    return pd.DataFrame(out)
