"""Delimited text (CSV, TSV): which encoding, which delimiter, and the records with their lines.

Danish exports come as UTF-8 with or without BOM, or as Windows-1252; other encodings, binary
files, HTML error pages and doubly-encoded text are refused with a message a person can act on,
rather than read into garbled values.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files.header import HEADER_SCAN_ROWS, ColumnNames, Row
from datapakke.raw.files.layout import FileLayout
from datapakke.raw.values import WHITESPACE

#: Delimiters tried when the layout does not name one, in tie-breaking order.
DELIMITERS = (";", ",", "\t", "|")
#: Control characters that never occur in text; shared with the Excel reader's text sniffing.
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

_SNIFF_LINES = 200
# UTF-8 bytes of æøåÆØÅé… read as Windows-1252 give 'Ã' or 'Â' followed by one of these.
_MOJIBAKE = re.compile(
    "[ÃÂ][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]"
)
_HTML = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<\?xml", re.IGNORECASE)
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """Text of the file and the encoding used: BOM → utf-8-sig, valid UTF-8, else cp1252."""
    _refuse_binary(path, data, encoding)
    encoding = encoding or _detect_encoding(data)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        byte = data[exc.start : exc.start + 1].hex()
        tried = "neither UTF-8 nor Windows-1252" if encoding == "cp1252" else encoding
        raise SourceFileError(
            path,
            f"cannot be decoded: {tried} (byte 0x{byte} at position {exc.start}); save it as "
            "'CSV UTF-8' or set encoding in the layout",
            row=data.count(b"\n", 0, exc.start) + 1,
        ) from None
    text = text.lstrip("\ufeff").rstrip("\x1a")  # BOM under an explicit encoding; DOS EOF mark
    _refuse_non_text(path, text, encoding)
    return text, encoding


def refuse_wide_encoding(path: str | Path, data: bytes) -> None:
    """UTF-16/32 with a BOM, or mostly-ASCII UTF-16 without one (every other byte NUL): what
    Excel's "Unicode text" writes. Said as an encoding problem, not as a binary file, so the
    user knows to save the file again rather than download it again."""
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise SourceFileError(
                path,
                f"is {name} encoded, which the reader does not accept: save it as "
                "'CSV UTF-8' (or Windows-1252)",
            )
    head = data[:4096]
    if len(head) < 2 or b"\x00" not in head:
        return
    odd, even = head[1::2].count(0) / len(head[1::2]), head[0::2].count(0) / len(head[0::2])
    if (odd > 0.7 and even < 0.1) or (even > 0.7 and odd < 0.1):
        raise SourceFileError(
            path,
            "looks UTF-16 encoded (every other byte is NUL): save it as 'CSV UTF-8'",
        )


def _refuse_binary(path: Path, data: bytes, encoding: str | None) -> None:
    """Empty files, UTF-16/32 (with or without BOM) and binary files with NUL bytes."""
    wide = encoding is not None and ("16" in encoding or "32" in encoding)
    if encoding is None and data.startswith(tuple(bom for bom, _ in _WIDE_BOMS)):
        refuse_wide_encoding(path, data)  # before the emptiness test: a BOM alone is UTF-16
    if not data.lstrip(codecs.BOM_UTF8).strip():
        raise SourceFileError(path, "file is empty")
    nul = data.find(b"\x00")
    if nul >= 0 and not wide:
        refuse_wide_encoding(path, data)
        raise SourceFileError(
            path,
            f"contains NUL bytes (first at byte {nul}): a binary file, not delimited text",
            row=data.count(b"\n", 0, nul) + 1,
        )


def _detect_encoding(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def _refuse_non_text(path: Path, text: str, encoding: str) -> None:
    """An HTML page saved as .csv, control characters, or UTF-8 saved again as Windows-1252."""
    if text.lstrip().startswith("<") and _HTML.search(text[:2048]):
        raise SourceFileError(
            path,
            "is an HTML/XML page (e.g. an error or login page saved as .csv), not a data "
            "export: download the file again",
        )
    control = CONTROL.search(text)
    if control:
        raise SourceFileError(
            path,
            f"contains control character {control.group()!r}: the file is binary or its "
            f"encoding ({encoding}) is wrong",
            row=_row_of(text, control.start()),
        )
    mojibake = _MOJIBAKE.search(text)
    if mojibake:
        line = text[text.rfind("\n", 0, mojibake.start()) + 1 :].split("\n", 1)[0]
        raise SourceFileError(
            path,
            f"text is garbled ({mojibake.group()!r} in {line.strip(WHITESPACE)[:60]!r}): UTF-8 "
            "text was saved again as Windows-1252 somewhere on the way; export the file again "
            "as UTF-8",
            row=_row_of(text, mojibake.start()),
        )


def _row_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _sample_rows(text: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(text.splitlines()[:_SNIFF_LINES], delimiter=delimiter):
            if any(c.strip() for c in row):
                rows.append(row)
    except csv.Error:  # e.g. an unclosed quote: judge by the rows before it
        pass
    return rows


def choose_delimiter(path: Path, text: str, layout: FileLayout) -> str:
    """The layout's delimiter, or the candidate giving a header and a steady field count ≥ 2."""
    names = ColumnNames(layout)
    needed = names.needed
    scores: dict[str, tuple[bool, int]] = {}
    for delimiter in DELIMITERS if layout.delimiter is None else (layout.delimiter,):
        rows = _sample_rows(text, delimiter)
        counts = [len(r) for r in rows if len(r) >= 2]
        steady = max((counts.count(n) for n in set(counts)), default=0)
        has_header = bool(needed) and any(
            needed <= {names.canonical(c) for c in row} for row in rows[:HEADER_SCAN_ROWS]
        )
        scores[delimiter] = (has_header, steady)
    best = max(scores, key=lambda d: scores[d])  # max() keeps the first of equals: ';' wins ties
    if scores[best][1] > 0:
        return best
    first = next((i for i, line in enumerate(text.splitlines(), 1) if line.strip()), 1)
    if layout.delimiter is not None:
        alternative = next(
            (
                d
                for d in DELIMITERS
                if d != layout.delimiter and any(len(r) >= 2 for r in _sample_rows(text, d))
            ),
            None,
        )
        hint = f"; the file seems to use {_show(alternative)}" if alternative else ""
        raise SourceFileError(
            path,
            f"wrong delimiter: with {_show(layout.delimiter)} the header has only one field" + hint,
            row=first,
        )
    raise SourceFileError(
        path,
        "wrong delimiter: the header has only one field (no ';', ',', tab or '|' separates "
        "the columns; is it space-separated or not a table?)",
        row=first,
    )


def _show(delimiter: str | None) -> str:
    return "tab" if delimiter == "\t" else repr(delimiter)


def delimited_rows(path: Path, text: str, delimiter: str) -> list[Row]:
    """Every record with the 1-based line it starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    line = 1
    strip = str.strip
    try:
        for record in reader:
            rows.append(Row(line, [strip(c, WHITESPACE) for c in record], len(record)))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SourceFileError(
            path,
            f'cannot be parsed ({exc}); an unclosed quote (") may start here',
            row=line,
        ) from None
    return rows
