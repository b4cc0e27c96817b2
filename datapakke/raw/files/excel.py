"""Excel workbooks (.xlsx): the chosen sheet's rows as the text a Danish export would show.

Cells come back as text so the rest of the reader (and validation) treats Excel and CSV alike:
numbers with the layout's decimal separator, percentages as the person sees them, dates as ISO.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
import math
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datapakke.raw.errors import SourceFileError
from datapakke.raw.files.delimited import CONTROL
from datapakke.raw.files.header import Row
from datapakke.raw.files.layout import FileLayout, header_key
from datapakke.raw.values import WHITESPACE

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook

EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xltx", ".xltm"}
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, or an encrypted .xlsx


def excel_rows(path: Path, data: bytes, layout: FileLayout) -> tuple[list[Row], str]:
    """Every row of the layout's sheet (trailing blank cells dropped) and the sheet's name."""
    from openpyxl import load_workbook

    _refuse_non_zip(path, data)
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
        rows: list[Row] = []
        for number, cells in enumerate(sheet.iter_rows(min_row=1), start=1):
            texts = [cell_text(cell, layout.decimal) for cell in cells]
            while texts and not texts[-1]:
                texts.pop()
            at = (getattr(cells[0], "row", None) if cells else None) or number
            rows.append(Row(at, texts, len(texts)))
        return rows, sheet.title
    except SourceFileError:
        raise
    except Exception as exc:
        raise SourceFileError(
            path, f"cannot be read as an .xlsx workbook ({type(exc).__name__}: {exc})"
        ) from None
    finally:
        workbook.close()


def _refuse_non_zip(path: Path, data: bytes) -> None:
    """An .xlsx is a zip archive; anything else gets a message saying what it looks like."""
    if data.startswith(ZIP_MAGIC):
        return
    if not data.strip():
        raise SourceFileError(path, "file is empty")
    looks_text = b"\x00" not in data[:4096] and not CONTROL.search(data[:4096].decode("latin-1"))
    what = "a text (CSV?) file with an Excel name" if looks_text else "not a zip archive"
    raise SourceFileError(path, f"is not a valid .xlsx workbook: {what}")


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
    by_key = {header_key(n): n for n in names}
    if sheet in names or header_key(sheet) in by_key:
        return workbook[sheet if sheet in names else by_key[header_key(sheet)]]
    close = difflib.get_close_matches(header_key(sheet), list(by_key), n=1, cutoff=0.6)
    hint = f" (did you mean {by_key[close[0]]!r}?)" if close else ""
    raise SourceFileError(path, f"has no sheet {sheet!r}{hint}; its sheets are {listing}")


def cell_text(cell: Any, decimal: str) -> str:
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
    return str(value).strip(WHITESPACE)


def _number_text(value: float | int, decimal: str) -> str:
    if type(value) is int:
        return str(value)
    if not math.isfinite(value):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)  # shortest text that round-trips: '1234.5', '1e-05'
    return text.replace(".", decimal)
