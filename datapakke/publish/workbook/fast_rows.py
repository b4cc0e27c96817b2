"""Plain table rows written straight as sheet XML, and the save that merges them into the file.

openpyxl spends ~15 µs per cell and a pack has tens of thousands of table cells (the Data sheet
above all), so rows without links, merges or new comments skip it: their XML is built here and
merged into openpyxl's sheet XML as the file is saved. Values still pass ``safe_value``.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from copy import copy
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from datapakke.publish.workbook.geometry import col_index, col_letter, col_letters
from datapakke.publish.workbook.values import safe_value

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

    from datapakke.publish.workbook.styles import Styles

# A table cell: (column, value, style name, comment).
CellSpec = tuple[int, Any, str | None, str]
# Deflate level of the saved file: 1 is ~3x faster than 6 here and ~15 % bigger.
ZIP_LEVEL = 1


class FastRows:
    """One sheet's rows kept as XML text until the workbook is saved."""

    def __init__(self, ws: Worksheet, styles: Styles) -> None:
        self.ws = ws
        self.styles = styles
        self.rows: dict[int, str] = {}
        self.last_col = 1
        self._ids: dict[tuple[str | None, bool], int] = {}
        self._tails: dict[tuple[str | None, str | None], str] = {}

    def style_id(self, style: str | None, quote: bool) -> int:
        """The workbook's cell-format index for a named style (with or without quote prefix)."""
        from openpyxl.cell.cell import Cell

        key = (style, quote)
        if key not in self._ids:
            probe = Cell(self.ws)  # never added to the sheet
            if style:
                probe._style = copy(self.styles.arrays[style])
            probe.quotePrefix = quote
            self._ids[key] = probe.style_id
        return self._ids[key]

    def _tail(self, value: Any, style: str | None) -> str:
        """A cell's XML after its reference: style, type and value (text is cached)."""
        key = (value, style) if value is None or value.__class__ is str else None
        if key is not None:
            known = self._tails.get(key)
            if known is not None:
                return known
        stored, quote = safe_value(value)
        sid = self._ids.get((style, quote))
        if sid is None:
            sid = self.style_id(style, quote)
        s = f' s="{sid}"' if sid else ""
        if stored is None:
            tail = f"{s}/>"
        elif isinstance(stored, str):
            space = ' xml:space="preserve"' if stored != stored.strip() else ""
            tail = f'{s} t="inlineStr"><is><t{space}>{escape(stored)}</t></is></c>'
        elif isinstance(stored, bool):
            tail = f'{s} t="b"><v>{int(stored)}</v></c>'
        else:
            tail = f"{s}><v>{stored!r}</v></c>"
        if key is not None:
            self._tails[key] = tail
        return tail

    def add(self, row: int, cells: Sequence[CellSpec]) -> None:
        last = max(cell[0] for cell in cells)
        letters, tail = col_letters(last), self._tail
        body = "".join([f'<c r="{letters[c]}{row}"{tail(v, style)}' for c, v, style, _ in cells])
        self.rows[row] = f'<row r="{row}">{body}</row>'
        self.last_col = max(self.last_col, last)

    def merge_into(self, sheet_xml: str) -> str:
        """The sheet's XML with these rows merged among openpyxl's, in row order."""
        start = sheet_xml.index("<sheetData>") + len("<sheetData>")
        end = sheet_xml.index("</sheetData>")
        rows = dict(self.rows)
        found = re.finditer(r'<row r="(\d+)"[^>]*?(?:/>|>.*?</row>)', sheet_xml[start:end], re.S)
        for match in found:
            number = int(match.group(1))
            if number in rows:  # a height or cell set on a fast row would be lost: a bug
                raise RuntimeError(f"{self.ws.title}: row {number} written twice")
            rows[number] = match.group(0)
        body = "".join(rows[r] for r in sorted(rows))
        merged = sheet_xml[:start] + body + sheet_xml[end:]
        # The used range must cover every row and column, or streaming readers (openpyxl's
        # read-only mode among them) stop at the declared end. openpyxl writes the element as
        # '<dimension ref="A1:X99" />' (a space before '/>'), so the pattern allows whitespace.
        dims = _DIMENSION.search(merged)
        if dims is None:  # optional in the format: readers then scan every row
            return merged
        last_col = max(self.last_col, col_index(dims.group(3) or dims.group(1)))
        last_row = max(max(rows), int(dims.group(4) or dims.group(2)))
        ref = f"A1:{col_letter(last_col)}{last_row}"
        return merged[: dims.start()] + f'<dimension ref="{ref}"/>' + merged[dims.end() :]


# '<dimension ref="A1"/>' or '<dimension ref="A1:X99" />': first and last column and row.
_DIMENSION = re.compile(r'<dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"\s*/>')


@dataclass
class Built:
    """A workbook in memory and its sheets' fast rows, merged in as the file is saved."""

    wb: Workbook
    fast: list[FastRows]
    stamp: tuple[int, int, int, int, int, int]  # zip entry times: the build time, not "now"

    def save(self, path: Path) -> None:
        """openpyxl writes an uncompressed zip in memory; the fast rows are merged in and each
        part is compressed once as the file is written (pictures are PNG: stored as they are).
        The same pack gives the same bytes: entries carry the build time. ``path`` may have any
        name (the atomic writer's temporary one has no .xlsx suffix)."""
        from openpyxl.writer.excel import ExcelWriter

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as staging:
            ExcelWriter(self.wb, staging).save()  # what Workbook.save does, minus compression
        parts = {rows.ws.path.lstrip("/"): rows for rows in self.fast if rows.rows}
        with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
            for info in source.infolist():
                data = source.read(info)
                if info.filename in parts:
                    data = parts[info.filename].merge_into(data.decode("utf-8")).encode("utf-8")
                part = zipfile.ZipInfo(info.filename, date_time=self.stamp)
                if info.filename.endswith(".png"):
                    target.writestr(part, data, zipfile.ZIP_STORED)
                else:
                    target.writestr(part, data, zipfile.ZIP_DEFLATED, ZIP_LEVEL)
