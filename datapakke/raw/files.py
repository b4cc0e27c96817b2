"""Readers for the CSV and Excel files analysts drop into ``data/raw/<source>/``.

Danish exports differ in every detail that matters to a parser: separator, encoding, title rows
above the header, notes and totals below it, pivoted "same as above" blanks, years spread across
columns. Rather than code per publisher, one reader is driven by a small declarative
:class:`FileLayout` that can live in YAML, so a new eSundhed layout is configuration.

The reader only *reads*: every cell comes back as the text the publisher wrote (stripped), with
the 1-based line or sheet row it came from, and nothing is interpreted (numbers are validation's
job, see :mod:`datapakke.raw.values`). Rows it leaves out (totals, footnotes) are returned
with the reason, never silently dropped. Anything it cannot read is a :class:`SourceFileError`
naming the file and, where it helps, the row and column.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from datapakke.raw.errors import SourceFileError
from datapakke.raw.values import WHITESPACE

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

#: Delimiters tried when the layout does not name one, in tie-breaking order.
DELIMITERS = (";", ",", "\t", "|")
#: How far down a sheet the header may sit below title rows.
HEADER_SCAN_ROWS = 50
KINDS = ("auto", "delimited", "excel")
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}

_DELIMITER_NAMES = {"semicolon": ";", "comma": ",", "tab": "\t", "pipe": "|", "\\t": "\t"}
_SNIFF_LINES = 200
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# UTF-8 bytes of æøåÆØÅé… read as Windows-1252 give 'Ã' or 'Â' followed by one of these.
_MOJIBAKE = re.compile(
    "[ÃÂ][" + re.escape(bytes(range(0x80, 0xC0)).decode("cp1252", errors="ignore")) + "]"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HTML = re.compile(r"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<\?xml", re.IGNORECASE)
# A lone cell below the table that reads like a footnote, not a data row ("Kilde: …", "*) …").
_NOTE = re.compile(
    r"^(kilde|anm|note|noter|fodnote|bemærk|obs|source|opdateret|udtrukket|data)\b"
    r"|^[*(\[†]|^\d+\)|:|(\S+\s+){4}\S",
    re.IGNORECASE,
)


class LayoutError(ValueError):
    """A layout (usually from YAML) that cannot be used; the message names the key."""


@dataclass(frozen=True)
class WideSpec:
    """Columns whose header fully matches ``pattern`` are melted into two columns.

    E.g. years across the top: ``WideSpec(r"\\d{4}", "År", "Antal")`` turns ``Kommune;2020;2021``
    into rows ``Kommune, År, Antal``.
    """

    pattern: str
    name_col: str
    value_col: str

    def __post_init__(self) -> None:
        _compile(self.pattern, "wide.pattern")
        for key in ("name_col", "value_col"):
            if not isinstance(getattr(self, key), str) or not getattr(self, key).strip():
                raise LayoutError(f"wide.{key} must be a non-empty column name")
        if _key(self.name_col) == _key(self.value_col):
            raise LayoutError("wide.name_col and wide.value_col must differ")


@dataclass(frozen=True)
class FileLayout:
    """How to find the table in one kind of file. Every key has a safe default.

    - ``kind``: 'delimited', 'excel', or 'auto' (by file suffix: .xlsx/.xlsm → excel).
    - ``sheet``: sheet name, or 0-based position (as in pandas); None = the first sheet.
    - ``header_row``: 1-based line / sheet row of the header; None = the first row (within the
      first 50) that holds all ``required_columns``.
    - ``required_columns``: canonical header names the table must have.
    - ``column_aliases``: canonical name → other accepted spellings (case, spaces and NBSP
      ignored). Headers not mentioned keep their own (whitespace-normalised) text.
    - ``fill_down``: columns where a blank cell means "same as above" (pivoted exports).
    - ``wide``: ``{pattern, name_col, value_col}``: melt the columns whose header fully matches
      ``pattern`` (e.g. years) into rows, see :class:`WideSpec`.
    - ``encoding`` / ``delimiter``: None = detect / sniff (``delimiter`` may be written ``tab``).
    - ``decimal``: the decimal separator; Excel numbers are written out with it.
    - ``skip_rows_matching``: regexes (case-insensitive, ``re.search``) tried on the first
      non-empty cell of each data row; matching rows (totals, footnotes) are removed and
      reported in ``ReadResult.skipped_rows``. One-cell rows below the table that read like
      notes ("Kilde: …", or set off by a blank row) are removed and reported the same way.
    """

    kind: str = "auto"
    sheet: str | int | None = None
    header_row: int | None = None
    required_columns: tuple[str, ...] = ()
    column_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    fill_down: tuple[str, ...] = ()
    wide: WideSpec | None = None
    encoding: str | None = None
    delimiter: str | None = None
    decimal: str = ","
    skip_rows_matching: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Accept lists (as YAML gives them) where tuples are declared, so the layout stays frozen.
        for key in ("required_columns", "fill_down", "skip_rows_matching"):
            value = getattr(self, key)
            if isinstance(value, list | str):
                object.__setattr__(self, key, _as_tuple(value, key))
        if isinstance(self.column_aliases, Mapping):
            object.__setattr__(
                self,
                "column_aliases",
                {
                    k: _as_tuple(v, f"column_aliases[{k!r}]") if isinstance(v, list | str) else v
                    for k, v in self.column_aliases.items()
                },
            )
        if isinstance(self.wide, Mapping):
            object.__setattr__(self, "wide", _wide_from_dict(self.wide))
        if self.kind not in KINDS:
            raise LayoutError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if self.sheet is not None and (
            isinstance(self.sheet, bool) or not isinstance(self.sheet, str | int)
        ):
            raise LayoutError(f"sheet must be a name or a 0-based position, not {self.sheet!r}")
        if isinstance(self.sheet, int) and self.sheet < 0:
            raise LayoutError(f"sheet position must be 0 or more, not {self.sheet}")
        if self.header_row is not None and (
            isinstance(self.header_row, bool)
            or not isinstance(self.header_row, int)
            or self.header_row < 1
        ):
            raise LayoutError(f"header_row must be a 1-based row number, not {self.header_row!r}")
        if self.decimal not in {",", "."}:
            raise LayoutError(f"decimal must be ',' or '.', not {self.decimal!r}")
        if self.delimiter is not None and (
            len(self.delimiter) != 1 or self.delimiter in '"\r\n' or self.delimiter.isalnum()
        ):
            raise LayoutError(
                f"delimiter must be one character such as ';', not {self.delimiter!r}"
            )
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise LayoutError(f"unknown encoding {self.encoding!r}") from None
        for pattern in self.skip_rows_matching:
            _compile(pattern, "skip_rows_matching")
        for key in ("required_columns", "fill_down", "skip_rows_matching"):
            value = getattr(self, key)
            if not isinstance(value, tuple) or not all(isinstance(v, str) and v for v in value):
                raise LayoutError(f"{key} must be a list of non-empty strings")
        owner: dict[str, str] = {}
        for canonical, spellings in self.column_aliases.items():
            if not isinstance(spellings, tuple) or not all(isinstance(s, str) for s in spellings):
                raise LayoutError(f"column_aliases[{canonical!r}] must be a list of strings")
            for spelling in (canonical, *spellings):
                other = owner.setdefault(_key(spelling), canonical)
                if other != canonical:
                    raise LayoutError(
                        f"column_aliases: {spelling!r} is given for both {other!r} and "
                        f"{canonical!r}"
                    )
        if self.wide is not None:
            produced = {_key(self.wide.name_col), _key(self.wide.value_col)}
            clash = [c for c in self.fill_down if _key(c) in produced]
            if clash:
                raise LayoutError(f"fill_down column {clash[0]!r} is produced by wide")

    def __hash__(self) -> int:  # column_aliases is a dict; hash its items instead
        aliases = tuple(sorted(self.column_aliases.items()))
        return hash(tuple(aliases if f == "column_aliases" else getattr(self, f) for f in _FIELDS))

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> FileLayout:
        """Build a layout from plain data (YAML), with an error naming any bad key."""
        if not isinstance(data, Mapping):
            raise LayoutError(f"a layout must be a mapping, not {type(data).__name__}")
        known = list(cls.__dataclass_fields__)
        unknown = [k for k in data if k not in known]
        if unknown:
            hints = [
                f"{k!r}" + (f" (did you mean {close[0]!r}?)" if close else "")
                for k in unknown
                for close in [difflib.get_close_matches(str(k), known, n=1)]
            ]
            raise LayoutError(
                f"unknown layout key(s) {', '.join(hints)}; known keys: {', '.join(known)}"
            )
        kwargs: dict[str, object] = dict(data)
        for key in ("required_columns", "fill_down", "skip_rows_matching"):
            if key in kwargs:
                kwargs[key] = _as_tuple(kwargs[key], key)
        if "column_aliases" in kwargs:
            aliases = kwargs["column_aliases"] or {}
            if not isinstance(aliases, Mapping):
                raise LayoutError("column_aliases must map a column name to a list of spellings")
            kwargs["column_aliases"] = {
                str(k): _as_tuple(v, f"column_aliases[{k!r}]") for k, v in aliases.items()
            }
        wide = kwargs.get("wide")
        if isinstance(wide, Mapping):
            kwargs["wide"] = _wide_from_dict(wide)
        elif wide is not None and not isinstance(wide, WideSpec):
            raise LayoutError("wide must be a mapping with pattern, name_col and value_col")
        delimiter = kwargs.get("delimiter")
        if isinstance(delimiter, str):
            kwargs["delimiter"] = _DELIMITER_NAMES.get(delimiter.lower(), delimiter)
        try:
            return cls(**kwargs)  # type: ignore[arg-type]
        except TypeError as exc:
            raise LayoutError(f"bad layout: {exc}") from None


_FIELDS = tuple(FileLayout.__dataclass_fields__)


@dataclass
class ReadResult:
    """The table as text, where it came from, and every row that was left out and why.

    ``frame`` has one str column per table column (canonical names, blanks as ''), plus int
    ``_source_row``; a wide layout adds ``_source_column`` (the header the value sat under).
    """

    frame: pd.DataFrame
    encoding: str | None
    delimiter: str | None
    header_row: int
    skipped_rows: list[tuple[int, str]]
    sheet_name: str | None
    decimal: str = ","
    columns: dict[str, str] = field(default_factory=dict)  # canonical name → header as written


def read_source_file(path: Path | str, layout: FileLayout) -> ReadResult:
    """Read one drop file as text rows; raise :class:`SourceFileError` for anything unreadable.

    The file is opened read-only and only once; nothing is written next to it.
    """
    path = Path(path)
    if not path.is_file():
        raise SourceFileError(path, "is not a file" if path.exists() else "file not found")
    data = path.read_bytes()
    kind = _resolve_kind(path, data, layout.kind)
    if kind == "excel":
        rows, sheet_name = _excel_rows(path, data, layout)
        table = _Table.build(path, rows, layout, field_counts=False)
        return table.result(encoding=None, delimiter=None, sheet_name=sheet_name)
    text, encoding = _decode(path, data, layout.encoding)
    delimiter = _choose_delimiter(path, text, layout)
    rows = _delimited_rows(path, text, delimiter)
    table = _Table.build(path, rows, layout, field_counts=True)
    return table.result(encoding=encoding, delimiter=delimiter, sheet_name=None)


# --- layout helpers ---------------------------------------------------------------------------


def _compile(pattern: object, key: str) -> re.Pattern[str]:
    if not isinstance(pattern, str):
        raise LayoutError(f"{key}: expected a regular expression, got {pattern!r}")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise LayoutError(f"{key}: bad regular expression {pattern!r}: {exc}") from None


def _wide_from_dict(wide: Mapping[str, object]) -> WideSpec:
    keys = list(WideSpec.__dataclass_fields__)
    if set(wide) != set(keys):
        raise LayoutError(
            f"wide needs exactly the keys {', '.join(keys)}; got {', '.join(map(str, wide))}"
        )
    return WideSpec(**{k: wide[k] for k in keys})  # type: ignore[arg-type]


def _as_tuple(value: object, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    raise LayoutError(f"{key} must be a list of strings, not {value!r}")


def _norm(header: str) -> str:
    """Header text as compared and shown: NFC, whitespace (incl. NBSP) collapsed."""
    return " ".join(unicodedata.normalize("NFC", header).replace("\ufeff", "").split())


def _key(header: str) -> str:
    return _norm(header).casefold()


def _strip(text: str) -> str:
    return text.strip(WHITESPACE)


# --- file kind, encoding, delimiter -----------------------------------------------------------


def _resolve_kind(path: Path, data: bytes, kind: str) -> str:
    suffix = path.suffix.lower()
    if suffix == ".ods":
        raise SourceFileError(
            path, "is an OpenDocument spreadsheet (.ods), which cannot be read: save it as .xlsx"
        )
    if suffix == ".xls" or (kind != "delimited" and data.startswith(_OLE_MAGIC)):
        raise SourceFileError(
            path,
            "is an old-style .xls workbook (or a password-protected one), which cannot be "
            "read: open it in Excel and save it as an unprotected .xlsx",
        )
    if kind == "auto":
        kind = "excel" if suffix in EXCEL_SUFFIXES else "delimited"
    if kind == "delimited" and data.startswith(_ZIP_MAGIC):
        raise SourceFileError(
            path,
            "is a zip file (an Excel .xlsx workbook?), not delimited text: give it an .xlsx "
            "name or set kind: excel in the layout",
        )
    return kind


def _row_of(text: str, position: int) -> int:
    return text.count("\n", 0, position) + 1


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """Text of the file and the encoding used: BOM → utf-8-sig, valid UTF-8, else cp1252."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "UTF-32"),
        (codecs.BOM_UTF32_BE, "UTF-32"),
        (codecs.BOM_UTF16_LE, "UTF-16"),
        (codecs.BOM_UTF16_BE, "UTF-16"),
    ):
        if encoding is None and data.startswith(bom):
            raise SourceFileError(
                path,
                f"is {name} encoded, which the reader does not accept: save it as "
                "'CSV UTF-8' (or Windows-1252)",
            )
    if not data.lstrip(codecs.BOM_UTF8).strip():
        raise SourceFileError(path, "file is empty")
    nul = data.find(b"\x00")
    if nul >= 0 and (encoding is None or ("16" not in encoding and "32" not in encoding)):
        head = data[:4096]
        odd, even = head[1::2].count(0) / len(head[1::2]), head[0::2].count(0) / len(head[0::2])
        if (odd > 0.7 and even < 0.1) or (even > 0.7 and odd < 0.1):  # mostly-ASCII UTF-16
            raise SourceFileError(
                path,
                "looks UTF-16 encoded (every other byte is NUL): save it as 'CSV UTF-8'",
            )
        raise SourceFileError(
            path,
            f"contains NUL bytes (first at byte {nul}): a binary file, not delimited text",
            row=data.count(b"\n", 0, nul) + 1,
        )
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            encoding = "utf-8-sig"
        else:
            try:
                data.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "cp1252"
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
    if text.lstrip().startswith("<") and _HTML.search(text[:2048]):
        raise SourceFileError(
            path,
            "is an HTML/XML page (e.g. an error or login page saved as .csv), not a data "
            "export: download the file again",
        )
    control = _CONTROL.search(text)
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
            f"text is garbled ({mojibake.group()!r} in {_strip(line)[:60]!r}): UTF-8 text was "
            "saved again as Windows-1252 somewhere on the way; export the file again as UTF-8",
            row=_row_of(text, mojibake.start()),
        )
    return text, encoding


def _sample_rows(text: str, delimiter: str) -> list[list[str]]:
    rows: list[list[str]] = []
    try:
        for row in csv.reader(text.splitlines()[:_SNIFF_LINES], delimiter=delimiter):
            if any(c.strip() for c in row):
                rows.append(row)
    except csv.Error:  # e.g. an unclosed quote: judge by the rows before it
        pass
    return rows


def _choose_delimiter(path: Path, text: str, layout: FileLayout) -> str:
    """The layout's delimiter, or the candidate giving a header and a steady field count ≥ 2."""
    names = _Names(layout)
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


def _delimited_rows(path: Path, text: str, delimiter: str) -> list[_Row]:
    """Every record with the 1-based line it starts on (quoted fields may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[_Row] = []
    line = 1
    strip = str.strip
    try:
        for record in reader:
            rows.append(_Row(line, [strip(c, WHITESPACE) for c in record], len(record)))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SourceFileError(
            path,
            f'cannot be parsed ({exc}); an unclosed quote (") may start here',
            row=line,
        ) from None
    return rows


# --- Excel ------------------------------------------------------------------------------------


def _excel_rows(path: Path, data: bytes, layout: FileLayout) -> tuple[list[_Row], str]:
    from openpyxl import load_workbook

    if not data.startswith(_ZIP_MAGIC):
        if not data.strip():
            raise SourceFileError(path, "file is empty")
        looks_text = b"\x00" not in data[:4096] and not _CONTROL.search(
            data[:4096].decode("latin-1")
        )
        what = "a text (CSV?) file with an Excel name" if looks_text else "not a zip archive"
        raise SourceFileError(path, f"is not a valid .xlsx workbook: {what}")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except zipfile.BadZipFile as exc:
        raise SourceFileError(
            path, f"is a corrupt or truncated .xlsx workbook (zip: {exc}); download it again"
        ) from None
    except Exception as exc:  # openpyxl raises many types for malformed parts
        raise SourceFileError(
            path, f"cannot be opened as an .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    try:
        sheet = _pick_sheet(path, workbook, layout.sheet)
        if not hasattr(sheet, "iter_rows"):
            raise SourceFileError(path, f"sheet {sheet.title!r} is a chart, not a table")
        sheet.reset_dimensions()  # stored dimensions are often wrong; read every row there is
        rows: list[_Row] = []
        for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
            texts = [_cell_text(cell, layout.decimal) for cell in cells]
            while texts and not texts[-1]:
                texts.pop()
            at = (getattr(cells[0], "row", None) if cells else None) or number
            rows.append(_Row(at, texts, len(texts)))
        return rows, sheet.title
    except SourceFileError:
        raise
    except Exception as exc:
        raise SourceFileError(
            path, f"cannot be read as an .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        workbook.close()


def _pick_sheet(path: Path, workbook: Workbook, sheet: str | int | None) -> Any:
    names = workbook.sheetnames
    listing = ", ".join(f"{i}: {n!r}" for i, n in enumerate(names))
    if sheet is None:
        return workbook[names[0]]
    if isinstance(sheet, int):
        if sheet < len(names):
            return workbook[names[sheet]]
        raise SourceFileError(
            path, f"has no sheet at position {sheet} (0-based); its sheets are {listing}"
        )
    by_key = {_key(n): n for n in names}
    if sheet in names or _key(sheet) in by_key:
        return workbook[sheet if sheet in names else by_key[_key(sheet)]]
    close = difflib.get_close_matches(_key(sheet), list(by_key), n=1, cutoff=0.6)
    hint = f" (did you mean {by_key[close[0]]!r}?)" if close else ""
    raise SourceFileError(path, f"has no sheet {sheet!r}{hint}; its sheets are {listing}")


def _cell_text(cell: Any, decimal: str) -> str:
    """A cell as the text a Danish export would hold: 1234,5 not 1234.5; dates as ISO.

    A percent-formatted number gives what the person sees: 0.125 shown as 12,5 % → '12,5'.
    """
    value = cell.value
    kind = type(value)
    if kind is str:
        return value.strip(WHITESPACE)
    if value is None:
        return ""
    if kind is int or kind is float:
        if "%" in (cell.number_format or ""):
            value = float(f"{value * 100:.12g}")  # shown as 12,5 % → the 12,5 a person sees
        return _number_text(value, decimal)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, int | float):
        return _number_text(value, decimal)
    return _strip(str(value))


def _number_text(value: float | int, decimal: str) -> str:
    if type(value) is int:
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)  # shortest text that round-trips: '1234.5', '1e-05'
    return text.replace(".", decimal)


# --- the table --------------------------------------------------------------------------------


class _Row:
    """One record: its 1-based line (CSV) or sheet row (Excel), stripped cells, field count."""

    __slots__ = ("cells", "fields", "filled", "number")

    def __init__(self, number: int, cells: list[str], fields: int) -> None:
        self.number = number
        self.cells = cells
        self.fields = fields  # as written (CSV), to catch truncated and ragged rows
        self.filled = len(cells) - cells.count("")

    def first(self) -> str:
        return next((c for c in self.cells if c), "")


class _Names:
    """Header spelling → canonical column name, as the layout declares them."""

    def __init__(self, layout: FileLayout) -> None:
        self.layout = layout
        self.by_key: dict[str, str] = {}
        wide = layout.wide
        produced = {wide.name_col, wide.value_col} if wide else set()
        for name in (*layout.required_columns, *layout.fill_down):
            if name not in produced:
                self.by_key.setdefault(_key(name), _norm(name))
        for canonical, spellings in layout.column_aliases.items():
            for spelling in (canonical, *spellings):
                self.by_key[_key(spelling)] = _norm(canonical)
        self.needed = {_norm(c) for c in layout.required_columns if c not in produced}
        self.wide = _compile(wide.pattern, "wide") if wide else None

    def canonical(self, header: str) -> str:
        return self.by_key.get(_key(header), _norm(header))

    def is_header(self, row: _Row) -> bool:
        names = {self.canonical(c) for c in row.cells if c}
        if not self.needed <= names:
            return False
        if self.wide is not None:
            return any(self.wide.fullmatch(_norm(c)) for c in row.cells if c)
        return True


@dataclass
class _Table:
    frame: pd.DataFrame
    header_row: int
    skipped: list[tuple[int, str]]
    columns: dict[str, str]
    decimal: str

    def result(
        self, encoding: str | None, delimiter: str | None, sheet_name: str | None
    ) -> ReadResult:
        return ReadResult(
            frame=self.frame,
            encoding=encoding,
            delimiter=delimiter,
            header_row=self.header_row,
            skipped_rows=self.skipped,
            sheet_name=sheet_name,
            decimal=self.decimal,
            columns=self.columns,
        )

    @classmethod
    def build(cls, path: Path, rows: list[_Row], layout: FileLayout, field_counts: bool) -> _Table:
        names = _Names(layout)
        nonblank = [r for r in rows if r.filled]
        if not nonblank:
            raise SourceFileError(path, "file is empty" if field_counts else "the sheet is empty")
        header_index = _find_header(path, rows, layout, names)
        header = rows[header_index]
        width = max((i + 1 for i, c in enumerate(header.cells) if c), default=0)
        body = [r for r in rows[header_index + 1 :] if r.filled]
        notes = _notes_below(rows[header_index + 1 :])
        body = body[: len(body) - len(notes)]
        skipped = [(n.number, f"note below the table: {n.first()[:80]!r}") for n in notes]
        if not body:
            raise SourceFileError(path, "has a header but no data rows", row=header.number)
        patterns = [_compile(p, "skip_rows_matching") for p in layout.skip_rows_matching]
        if field_counts:
            _check_field_counts(path, body, header, width, patterns)
        else:  # Excel cells cannot shift: values right of the header get a column of their own
            width = max([width, *(len(r.cells) for r in body)])
        columns, written = _column_names(path, header, width, names)

        cells = [
            r.cells if len(r.cells) == width else (r.cells + [""] * width)[:width] for r in body
        ]
        frame = pd.DataFrame(cells, columns=columns, dtype=object)
        unused = [c for c in columns if c not in written and not (frame[c] != "").any()]
        frame = frame.drop(columns=unused)
        frame["_source_row"] = np.array([r.number for r in body], dtype=np.int64)

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

        if patterns:
            data = frame.drop(columns="_source_row").to_numpy(dtype=object)
            first = data[np.arange(len(data)), (data != "").argmax(axis=1)] if data.size else data
            drop = np.zeros(len(frame), dtype=bool)
            for pattern in patterns:
                hit = ~drop & np.array([bool(pattern.search(t)) for t in first], dtype=bool)
                skipped += [
                    (int(r), f"matches skip pattern {pattern.pattern!r}: {t[:80]!r}")
                    for r, t in zip(frame["_source_row"][hit], first[hit], strict=True)
                ]
                drop |= hit
            frame = frame[~drop]

        if layout.wide is not None:
            frame = _melt(path, frame, layout.wide, names, written)
        skipped.sort()
        frame = frame.reset_index(drop=True)
        return cls(frame, header.number, skipped, written, layout.decimal)


def _fill_down(values: np.ndarray) -> np.ndarray:
    """Blank cells take the value above them (pivoted exports write a group label once)."""
    if not len(values):
        return values
    index = np.where(values != "", np.arange(len(values)), 0)
    return values[np.maximum.accumulate(index)]


def _find_header(path: Path, rows: list[_Row], layout: FileLayout, names: _Names) -> int:
    """Index (into rows) of the header: the layout's row, or the first holding every column."""
    if layout.header_row is not None:
        index = next((i for i, r in enumerate(rows) if r.number == layout.header_row), None)
        if index is None or not rows[index].filled:
            raise SourceFileError(
                path,
                f"header_row {layout.header_row} is blank or beyond the end of the file "
                f"(last row {rows[-1].number if rows else 0})",
                row=layout.header_row,
            )
        if not names.is_header(rows[index]):
            _raise_missing(path, rows[index], layout, names, searched=False)
        return index
    scan = [(i, r) for i, r in enumerate(rows[: HEADER_SCAN_ROWS * 2]) if r.filled]
    scan = scan[:HEADER_SCAN_ROWS]
    if not names.needed and names.wide is None:
        most = max(r.filled for _, r in scan)
        return next(i for i, r in scan if r.filled == most)
    for i, row in scan:
        if names.is_header(row):
            return i
    best = max(
        scan,
        key=lambda item: (
            len(names.needed & {names.canonical(c) for c in item[1].cells if c}),
            item[1].filled,
            -item[0],
        ),
    )[1]
    _raise_missing(path, best, layout, names, searched=True)
    raise AssertionError("unreachable")


def _raise_missing(
    path: Path, row: _Row, layout: FileLayout, names: _Names, searched: bool
) -> None:
    found = [_norm(c) for c in row.cells if c]
    present = {names.canonical(c) for c in found}
    missing = sorted(names.needed - present, key=list(map(_norm, layout.required_columns)).index)
    hints = []
    for name in missing:
        unused = [h for h in found if names.canonical(h) not in names.needed]
        guess = _closest(name, unused)
        if guess:
            hints.append(f"did you mean {guess!r} for {name!r}? (add it to column_aliases)")
    where = f"the first {HEADER_SCAN_ROWS} rows" if searched else f"header row {row.number}"
    if missing:
        what = f"required column(s) {', '.join(map(repr, missing))} not found in {where}"
    else:
        pattern = layout.wide.pattern if layout.wide else ""
        what = f"no column in {where} matches wide.pattern {pattern!r}"
    message = (
        f"{what}; "
        + ("; ".join(hints) + "; " if hints else "")
        + f"columns found in row {row.number}: "
        + (", ".join(map(repr, found)) or "none")
    )
    raise SourceFileError(path, message, row=row.number, column=missing[0] if missing else None)


def _closest(name: str, headers: list[str]) -> str | None:
    keys = {_key(h): h for h in headers}
    close = difflib.get_close_matches(_key(name), list(keys), n=1, cutoff=0.6)
    if close:
        return keys[close[0]]
    contains = [h for k, h in keys.items() if len(k) >= 3 and (_key(name) in k or k in _key(name))]
    return contains[0] if contains else None


def _column_names(
    path: Path, header: _Row, width: int, names: _Names
) -> tuple[list[str], dict[str, str]]:
    """Canonical names for the header cells; blank headers become ``column_<n>`` (1-based)."""
    columns: list[str] = []
    written: dict[str, str] = {}
    for index, cell in enumerate((header.cells + [""] * width)[:width]):
        if not cell:
            columns.append(f"column_{index + 1}")
            continue
        name = names.canonical(cell)
        if name in written:
            raise SourceFileError(
                path,
                f"two header cells give column {name!r}: {written[name]!r} and {cell!r}"
                + (" (via column_aliases)" if _key(written[name]) != _key(cell) else ""),
                row=header.number,
                column=cell,
            )
        columns.append(name)
        written[name] = cell
    return columns, written


def _notes_below(rows: list[_Row]) -> list[_Row]:
    """The one-cell rows ending the table that are footnotes, not data.

    Such a row is a note when a blank row separates it from the table or its text reads like
    one (``Kilde: …``, ``*) …``, a sentence); a lone municipality name right under the data stays
    a data row, so validation sees it instead of it vanishing into the notes.
    """
    last_data = max((i for i, r in enumerate(rows) if r.filled and not _one_cell(r)), default=-1)
    flagged: list[tuple[_Row, bool]] = []
    separated = False
    for row in rows[last_data + 1 :]:
        if not row.filled:
            separated = True
            continue
        flagged.append((row, separated or bool(_NOTE.search(row.cells[0]))))
    notes: list[_Row] = []
    for row, is_note in reversed(flagged):
        if not is_note:
            break
        notes.append(row)
    return notes[::-1]


def _one_cell(row: _Row) -> bool:
    return row.filled == 1 and bool(row.cells[0])


def _check_field_counts(
    path: Path, body: list[_Row], header: _Row, width: int, patterns: list[re.Pattern[str]]
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


def _melt(
    path: Path, frame: pd.DataFrame, wide: WideSpec, names: _Names, written: dict[str, str]
) -> pd.DataFrame:
    """Years (or similar) across columns → one row per cell, keeping each cell's source row."""
    pattern = _compile(wide.pattern, "wide.pattern")
    data_columns = [c for c in frame.columns if c != "_source_row"]
    melted = [c for c in data_columns if pattern.fullmatch(c)]
    ids = [c for c in data_columns if c not in melted]
    for target in (wide.name_col, wide.value_col):
        if _norm(target) in ids:
            raise SourceFileError(
                path,
                f"wide layout would create column {target!r}, but the file already has it",
                column=target,
            )
    n, k = len(frame), len(melted)
    out = {c: np.repeat(frame[c].to_numpy(dtype=object), k) for c in ids}
    out[_norm(wide.name_col)] = np.tile(np.array(melted, dtype=object), n)
    out[_norm(wide.value_col)] = frame[melted].to_numpy(dtype=object).reshape(n * k)
    out["_source_row"] = np.repeat(frame["_source_row"].to_numpy(dtype=np.int64), k)
    headers = np.array([written.get(c, c) for c in melted], dtype=object)
    out["_source_column"] = np.tile(headers, n)
    return pd.DataFrame(out)
