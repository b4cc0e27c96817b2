"""StatBank extracts → a DataFrame of text, each row with the line number it came from.

Three shapes arrive: the API's CSV and BULK extracts (a header of variable ids, one row per
cell), and the statistikbanken.dk website's export (a titled pivot with the periods as columns,
as CSV or Excel, see :mod:`~datapakke.raw.statbank.webexport`). Which one a file is, and its
encoding, is read from the content, so an analyst's download needs no configuration.

Values are *read*, never interpreted (``..`` stays ``..``, ``1,5`` stays ``1,5``); validation
types them later, and ``_source_row`` lets a problem be traced to the line a person would open.
What arrives instead of data (nothing, an HTML page, an API error, a cut-off download, a binary
file, Excel's UTF-16 "Unicode text") is a :class:`SourceFileError` that says so. StatBank ends
every line with a line break, so a file whose last row has none was cut off, perhaps inside its
last value, and is refused too. Notes typed under an API extract ("Kilde: Danmarks Statistik")
are returned as skipped lines, as under a web export.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files.delimited import refuse_wide_encoding
from datapakke.raw.files.excel import OLE_MAGIC, ZIP_MAGIC
from datapakke.raw.statbank.client import BOM, error_details
from datapakke.raw.statbank.webexport import (
    csv_records,
    looks_like_web_export,
    pivot_rows,
    read_web_export_workbook,
)

VALUE_COLUMN = "INDHOLD"
#: How many lines from the end may be notes typed under an API extract.
_NOTE_LINES = 50

# Bytes that never occur in a text extract: C0 controls except tab, LF, CR; and DEL.
_CONTROL_BYTES = np.zeros(256, dtype=bool)
_CONTROL_BYTES[[*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F]] = True
# UTF-8 letters (æøåé…) read as Windows-1252 and saved again: 'Ã' or 'Â' and a 0x80-0xBF char.
_MOJIBAKE = re.compile(
    "[ÃÂ][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]"
)


def read_statbank_extract(
    data: bytes | Path, source_name: str = "<bytes>"
) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Any StatBank extract as text columns plus ``_source_row``, and the lines left out.

    API CSV/BULK extracts come back column for column. A statistikbanken.dk export (CSV in
    UTF-8 or Windows-1252, or .xlsx) comes back in the same long shape: one column per stub
    variable named from the title (``OMRÅDE``, ``KØN``…, else ``STUB1``…), ``TID``, ``INDHOLD``.
    The second item lists ``(line, reason)`` for lines that are not data, such as the notes
    under a web export or typed under an API extract.
    """
    raw, name = _load(data, source_name)
    if raw.startswith(ZIP_MAGIC):
        return read_web_export_workbook(raw, name)
    if raw.startswith(OLE_MAGIC):
        raise SourceFileError(
            name, "this is an old Excel .xls workbook (or an encrypted one); save it as .xlsx"
        )
    refuse_wide_encoding(name, raw)
    raw = raw.removeprefix(BOM)
    _reject_non_data(raw, name)
    text, raw = _decode(raw, name)
    if _is_web_export(text, name):
        frame, skipped = pivot_rows(csv_records(text, name), name)
        last_line = text.count("\n") + 1  # the line a file without a final line break ends on
        if not _ends_with_line_break(raw) and last_line in frame["_source_row"].tail(1).tolist():
            _cut_off(name, last_line, str(frame[VALUE_COLUMN].iloc[-1]))
        return frame, skipped
    return _parse_long(raw, text, name)


def parse_statbank_csv(data: bytes | Path, source_name: str = "<bytes>") -> pd.DataFrame:
    """Read a StatBank extract (any shape :func:`read_statbank_extract` reads) into a frame.

    Accepts a BOM or none, CRLF or LF, ``;`` separators and quoted fields. Every column is
    text exactly as written (``..`` and decimal commas included); ``_source_row`` is the file's
    1-based line number of the row (the header is line 1). Empty lines are skipped; any other
    line must have as many fields as the header, so a truncated download is caught. A file with
    lines that are not data (notes under a web export) is an error here, since this frame
    cannot carry them: use :func:`read_statbank_extract` for such files.
    """
    frame, skipped = read_statbank_extract(data, source_name)
    if skipped:
        line, reason = skipped[0]
        raise SourceFileError(
            _display_name(data, source_name),
            f"{len(skipped)} line(s) are not data (first: {reason}); read the file with "
            "read_statbank_extract, which returns them",
            row=line,
        )
    return frame


def _parse_long(raw: bytes, text: str, name: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """An API CSV/BULK extract (``raw`` is its UTF-8 bytes, ``text`` the same decoded), and
    the notes below it as skipped lines."""
    if b'"' in raw:
        return _parse_quoted(text, name)
    # No quotes (every BULK/code extract): count separators per line with numpy and let
    # pandas' C reader do the rest; a full FOLK1A (~1.9M rows) reads in about a second.
    blank, separators, starts, ends = _scan_lines(raw)
    content = np.flatnonzero(~blank)
    header_at = int(content[0])
    header = raw[starts[header_at] : ends[header_at]].decode("utf-8").rstrip("\r").split(";")
    _check_header(header, name, header_at + 1)
    data_lines = content[1:]
    last_first = data_lines[::-1][:_NOTE_LINES]
    cells = [raw[starts[i] : ends[i]].decode("utf-8").split(";") for i in last_first]
    notes = _trailing_notes(cells, len(header), _ends_with_line_break(raw))[::-1]
    lines = data_lines[len(data_lines) - len(notes) :] + 1
    skipped = [_note(int(line), note) for line, note in zip(lines, notes, strict=True)]
    if notes:
        raw = raw[: starts[data_lines[-len(notes)]]]
        data_lines = data_lines[: -len(notes)]
    wrong = data_lines[separators[data_lines] != separators[header_at]]
    if wrong.size:
        line = int(wrong[0])
        _wrong_field_count(name, line + 1, len(header), int(separators[line]) + 1)
    if data_lines.size and not _ends_with_line_break(raw):
        last = int(data_lines[-1])
        _cut_off(name, last + 1, raw[starts[last] : ends[last]].decode("utf-8").split(";")[-1])
    frame = pd.read_csv(
        io.BytesIO(raw),
        sep=";",
        header=0,
        dtype=str,
        na_filter=False,
        keep_default_na=False,
        skip_blank_lines=True,
        quoting=csv.QUOTE_NONE,
        encoding="utf-8",
        engine="c",
    )
    if len(frame) != len(data_lines) or list(frame.columns) != header:
        return _parse_quoted(text, name)  # something the fast path did not foresee
    if any(dtype != np.dtype(object) for dtype in frame.dtypes):
        frame = frame.astype(object)
    frame["_source_row"] = pd.Series(data_lines + 1, dtype="int64")
    return frame, skipped


def _ends_with_line_break(data: bytes | str) -> bool:
    return data.endswith((b"\n", b"\r") if isinstance(data, bytes) else ("\n", "\r"))


def _trailing_notes(last_first: list[list[str]], width: int, complete: bool) -> list[list[str]]:
    """The lines below the last data row that hold only text in their first cell, such as
    "Kilde: Danmarks Statistik" typed under the table (Excel pads it to ``Kilde…;;``); last line
    first. A data row always has its value, so nothing is lost by leaving these out. In a file
    that does not end with a line break the last line may be a cut-off row: no notes then."""
    notes: list[list[str]] = []
    if not complete or width < 2:
        return notes
    for cells in last_first:
        if len(cells) not in (1, width) or any(cell.strip() for cell in cells[1:]):
            break
        notes.append(cells)
    return notes


def _note(line: int, cells: list[str]) -> tuple[int, str]:
    text = cells[0].strip().rstrip("\r").strip()
    return line, f"below the table, not data (a note?): {text[:80]!r}"


def _cut_off(name: str, line: int, last_value: str) -> NoReturn:
    raise SourceFileError(
        name,
        "looks truncated: the last line has no line break (StatBank ends every line with one), "
        f"so its last value {last_value.strip()!r} may be cut short; download the file again",
        row=line,
    )


def _is_web_export(text: str, name: str) -> bool:
    """Look at the first lines only (an API extract can be millions of lines long)."""
    end = -1
    for _ in range(20):
        end = text.find("\n", end + 1)
        if end < 0:
            break
    head = text if end < 0 else text[: end + 1]
    try:
        return looks_like_web_export(csv_records(head, name))
    except SourceFileError:
        return False  # not even CSV at the top: the API reader says what is wrong


def _display_name(data: bytes | Path, source_name: str) -> str:
    return str(data) if isinstance(data, Path) and source_name == "<bytes>" else source_name


def _load(data: bytes | Path, source_name: str) -> tuple[bytes, str]:
    if isinstance(data, Path):
        name = _display_name(data, source_name)
        try:
            return data.read_bytes(), name
        except OSError as error:
            raise SourceFileError(name, f"cannot read the file ({error.strerror})") from None
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"expected bytes or Path, got {type(data).__name__}")
    return bytes(data), source_name


def _looks_like_html(head: bytes) -> bool:
    start = head.lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")) or (
        start.startswith(b"<") and b"<html" in start[:2000]
    )


def _reject_non_data(raw: bytes, name: str) -> None:
    """Clear errors for what arrives instead of data: nothing, an HTML page, an API error."""
    if not raw.strip():
        raise SourceFileError(name, "the file is empty; expected a StatBank CSV extract")
    if _looks_like_html(raw[:4096]):
        title = ""
        lower = raw[:8192].lower()
        at, end = lower.find(b"<title>"), lower.find(b"</title>")
        if 0 <= at < end:
            title = raw[at + 7 : end].decode("utf-8", errors="replace").strip()
        hint = f" (page title: {title!r})" if title else ""
        raise SourceFileError(
            name,
            f"this is an HTML page, not a StatBank CSV extract{hint}; the download probably "
            "hit an error or login page",
            row=1,
        )
    if raw.lstrip().startswith(b"{"):
        code, message, text = error_details(raw)
        said = f"{code}: {message}" if code else text[:120]
        raise SourceFileError(
            name, f"this is JSON, not a StatBank CSV extract (an API error? {said})", row=1
        )


def _decode(raw: bytes, name: str) -> tuple[str, bytes]:
    """The text and its UTF-8 bytes: UTF-8 if the bytes are UTF-8, else Windows-1252.

    StatBank writes UTF-8; the website's export and a file re-saved in Excel are Windows-1252
    (Latin-1 with a few more characters). Guessing is safe because the two cannot be confused
    for Danish text: Windows-1252 æøå are never valid UTF-8, and UTF-8 æøå read as
    Windows-1252 give 'Ã¸'-style pairs, which are refused as garbled. Bytes no text holds
    (control characters) mean a binary file. The same rule as the drop-file reader's
    :func:`datapakke.raw.files.delimited.decode`, checked on bytes so that a
    two-million-line extract is not slowed down.
    """
    octets = np.frombuffer(raw, dtype=np.uint8)
    control = np.flatnonzero(_CONTROL_BYTES[octets])
    if control.size:
        at = int(control[0])
        raise SourceFileError(
            name,
            f"holds byte 0x{raw[at]:02x} (a control character) at byte {at}: a binary file, "
            "not a text extract",
            row=raw.count(b"\n", 0, at) + 1,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = _decode_cp1252(raw, name)
        raw = text.encode("utf-8")
    if ("Ã" in text or "Â" in text) and (garbled := _MOJIBAKE.search(text)):
        raise SourceFileError(
            name,
            f"text is garbled ({garbled.group()!r}): UTF-8 text was saved again as "
            "Windows-1252 somewhere on the way, or the file is cut inside a letter; download "
            "or export it again",
            row=text.count("\n", 0, garbled.start()) + 1,
        )
    return text, raw


def _decode_cp1252(raw: bytes, name: str) -> str:
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError as error:
        raise SourceFileError(
            name,
            f"neither UTF-8 nor Windows-1252 (byte 0x{raw[error.start]:02x} at byte "
            f"{error.start}); StatBank files are UTF-8, export or download the file again",
            row=raw.count(b"\n", 0, error.start) + 1,
        ) from None


def _scan_lines(raw: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per physical line: is it empty, how many ``;`` it holds, and where it starts and ends."""
    octets = np.frombuffer(raw, dtype=np.uint8)
    newlines = np.flatnonzero(octets == 0x0A)
    starts = np.concatenate(([0], newlines + 1))
    ends = np.concatenate((newlines, [len(octets)]))
    if starts[-1] == len(octets):  # the file ends with a line end: no line after it
        starts, ends = starts[:-1], ends[:-1]
    has_cr = (ends > starts) & (octets[np.maximum(ends - 1, 0)] == 0x0D)
    ends = ends - has_cr
    separators = np.add.reduceat(octets == 0x3B, starts, dtype=np.int64)
    return ends == starts, separators, starts, ends


def _wrong_field_count(name: str, line: int, expected: int, found: int) -> NoReturn:
    raise SourceFileError(
        name,
        f"expected {expected} fields like the header, found {found}; "
        "the file is probably truncated or damaged",
        row=line,
    )


def _parse_quoted(text: str, name: str) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """The general path (quoted fields, possibly spanning lines) with Python's csv module."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    records: list[tuple[int, list[str]]] = []
    next_line = 1
    try:
        for record in reader:
            line, next_line = next_line, reader.line_num + 1
            if record:
                records.append((line, record))
    except csv.Error as error:
        raise SourceFileError(name, f"not readable as CSV: {error}", row=next_line) from None
    if not records:
        raise SourceFileError(name, "the file has no header line")
    (header_line, header), body = records[0], records[1:]
    _check_header(header, name, header_line)
    complete = _ends_with_line_break(text)
    notes = _trailing_notes([cells for _, cells in body[::-1]], len(header), complete)
    skipped = [_note(line, cells) for line, cells in body[len(body) - len(notes) :]]
    body = body[: len(body) - len(notes)]
    for line, record in body:
        if len(record) != len(header):
            _wrong_field_count(name, line, len(header), len(record))
    if body and not complete:
        _cut_off(name, body[-1][0], body[-1][1][-1])
    frame = pd.DataFrame(
        {
            column: pd.Series([record[i] for _, record in body], dtype=object)
            for i, column in enumerate(header)
        }
    )
    frame["_source_row"] = pd.Series([line for line, _ in body], dtype="int64")
    return frame, skipped


def _check_header(header: list[str], name: str, line: int) -> None:
    if len(header) < 2 and VALUE_COLUMN not in header:
        raise SourceFileError(
            name,
            f"the header {';'.join(header)[:80]!r} has no ';' separators; not a StatBank CSV",
            row=line,
        )
    if VALUE_COLUMN not in header:
        raise SourceFileError(
            name,
            f"no {VALUE_COLUMN} column; the header has {', '.join(header)}: StatBank writes the "
            f"values in the last column, {VALUE_COLUMN}; if {header[-1]!r} holds them (renamed on "
            f"the way), rename it back to {VALUE_COLUMN}",
            row=line,
        )
    duplicates = sorted({c for c in header if header.count(c) > 1})
    if duplicates:
        raise SourceFileError(
            name, f"column(s) named twice in the header: {', '.join(duplicates)}", row=line
        )
