"""One worksheet as the sheet writers see it: cells through the value guard, tables, prose, and
an estimate of the printed page, so blocks (tables, charts) start on a new page rather than being
cut when they do not fit."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from copy import copy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datapakke.presentation import (
    COMPARISON_LABELS_DA,
    MISSING_TEXT,
    suppressed_note_da,
    suppressed_text,
)
from datapakke.publish.workbook.fast_rows import CellSpec, FastRows
from datapakke.publish.workbook.geometry import (
    HEADING_PT,
    PAGE_HIGH_PT,
    PAGE_WIDE_PX,
    col_letter,
    wrap_height,
)
from datapakke.publish.workbook.texts import AUTHOR, BACK_LINK_DA, CONTENTS, SYNTHETIC_MARK_DA
from datapakke.publish.workbook.values import danish_time, is_missing, safe_value

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

    from datapakke.publish.pack_data import AreaPackData
    from datapakke.publish.workbook.styles import Styles


class Sheet:
    """A worksheet and what its writer shares: styles, notes already shown, fast rows, the
    disclosure threshold's placeholder, and the printed page filled so far."""

    def __init__(self, ws: Worksheet, styles: Styles, threshold: int) -> None:
        self.ws = ws
        self.styles = styles
        self.suppressed = suppressed_text(threshold)
        self.suppressed_note = suppressed_note_da(threshold)
        self.seen_notes: set[str] = set()
        self.fast = FastRows(ws, styles)
        self.pages_wide = 1
        self.scale = 1.0  # estimated print scale under fit-to-width (set by ``layout``)
        self.used_pt = 0.0  # height used on the current printed page
        self.counted = 0  # rows up to here are in ``used_pt``
        self.merges: list[Any] = []  # merged ranges, given to the sheet by ``finish``
        self.widths: dict[int, float] = {}  # column widths (set by ``layout``)

    # ---- cells

    def put(self, row: int, col: int, value: Any, style: str | None = None) -> Cell:
        """Write one cell through ``safe_value`` in a named style."""
        cell = self.ws.cell(row=row, column=col)
        if style is not None:
            cell._style = copy(self.styles.arrays[style])  # ``cell.style = name`` minus its scan
        stored, quote = safe_value(value)
        cell.value = stored
        if isinstance(stored, str):
            cell.data_type = "s"  # openpyxl would make '=…' a formula and '#N/A' an error
            if quote:
                cell.quotePrefix = True
        return cell

    def note(self, cell: Cell, text: str) -> None:
        """A comment with ``text`` on its first cell in this sheet (keeps the file small)."""
        from openpyxl.comments import Comment

        if text and text not in self.seen_notes:
            self.seen_notes.add(text)
            cell.comment = Comment(safe_value(text)[0], AUTHOR, height=90, width=260)

    def row(self, row: int, cells: Sequence[CellSpec], may_note: bool = True) -> None:
        """A plain table row: written fast, unless a cell carries a note this sheet lacks.

        ``may_note=False`` promises no cell has a note (saves the check on long tables)."""
        if may_note and any(comment and comment not in self.seen_notes for *_, comment in cells):
            for col, value, style, comment in cells:
                self.note(self.put(row, col, value, style), comment)
        else:
            self.fast.add(row, cells)

    def look(
        self,
        col: int,
        value: Any,
        decimals: int,
        suppressed: bool = False,
        note: str = "",
        comparison: str | None = None,
    ) -> CellSpec:
        """A measure cell: the number, the suppressed text ('<5') with the disclosure note, or
        '–' with its own note.

        The mart withholds only some of a suppressed row's numbers (the count that is small, or
        the one that would reveal it, and what is computed from it); a number it still publishes
        is shown, so the placeholder appears exactly where the mart has none."""
        if is_missing(value):
            if suppressed:
                return col, self.suppressed, "dp_placeholder", self.suppressed_note
            return col, MISSING_TEXT, "dp_placeholder", note
        return col, value, self.styles.number(decimals, comparison), ""

    def measure(
        self,
        row: int,
        col: int,
        value: Any,
        decimals: int,
        suppressed: bool = False,
        note: str = "",
        comparison: str | None = None,
    ) -> Cell:
        """``look`` written through openpyxl (for rows that also hold links or merges)."""
        _, shown, style, comment = self.look(col, value, decimals, suppressed, note, comparison)
        cell = self.put(row, col, shown, style)
        self.note(cell, comment)
        return cell

    def link(self, row: int, col: int, text: str, sheet: str, style: str = "dp_link") -> Cell:
        """A working link to a sheet of this workbook."""
        from openpyxl.worksheet.hyperlink import Hyperlink

        cell = self.put(row, col, text, style)
        location = "'{}'!A1".format(sheet.replace("'", "''"))
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=location, display=text)
        return cell

    def title(self, text: str, back_link: bool = True) -> None:
        """The sheet's title in row 1 and, below it, the link back to the contents."""
        self.put(1, 1, text, "dp_h1")
        self.height(1, 26)
        if back_link:
            self.link(2, 1, BACK_LINK_DA, CONTENTS)

    def band(self, row: int, label: str, last: int, style: str = "dp_theme") -> None:
        """A shaded row with a label in column A across the table (themes, sexes)."""
        self.row(row, [(1, label, style, "")] + [(c, None, style, "") for c in range(2, last + 1)])

    def paragraph(
        self, row: int, text: str, first: int, last: int, style: str = "dp_wrap", label: str = ""
    ) -> None:
        """Wrapped text merged over ``first``..``last``, in a row tall enough for all of it."""
        from openpyxl.worksheet.cell_range import CellRange

        if label:
            self.put(row, 1, label, "dp_label")
        self.put(row, first, text, style)
        if last > first:  # recorded only: ws.merge_cells rebuilds borders and rescans (ms each)
            self.merges.append(CellRange(min_col=first, min_row=row, max_col=last, max_row=row))
        height = self.paragraph_height(text, first, last, style)
        self.height(row, max(height, self.row_height(row) if row in self.ws.row_dimensions else 0))

    def paragraph_height(self, text: str, first: int, last: int, style: str = "dp_wrap") -> float:
        width = sum(self.width(c) for c in range(first, last + 1))
        return wrap_height(text, width, 9 if style == "dp_note" else 11)

    def header(
        self,
        row: int,
        labels: Sequence[str],
        numeric: Iterable[int] = (),
        centre: Iterable[int] = (),
    ) -> None:
        """A table header, aligned like its columns: ``numeric`` right, ``centre`` centred."""
        numeric, centre = set(numeric), set(centre)
        for i, label in enumerate(labels):
            style = "dp_header_num" if i in numeric else "dp_header_mid" if i in centre else None
            self.put(row, 1 + i, label, style or "dp_header")
        lines = max(math.ceil(len(x) / max(self.width(1 + i) - 1, 1)) for i, x in enumerate(labels))
        self.height(row, 15 * min(lines, 3) + 4)

    def heading(self, row: int, text: str) -> None:
        """A section heading; its tall row gives the space above it (no blank rows needed)."""
        self.put(row, 1, text, "dp_h2")
        self.height(row, HEADING_PT)

    def legend(self, row: int, first_col: int, keys: Sequence[str]) -> None:
        """Colour swatches with their Danish labels, one per column from ``first_col``."""
        self.put(row, 1, "Farver:", "dp_label")
        for i, key in enumerate(keys):
            label = COMPARISON_LABELS_DA[key]
            self.put(row, first_col + i, label, self.styles.comparison(key, small=True))
        self.height(row, 26)

    def finish(self) -> None:
        """Hand the collected merged ranges to the worksheet (one set, not one scan per merge)."""
        from openpyxl.worksheet.cell_range import MultiCellRange

        self.ws.merged_cells = MultiCellRange([*self.ws.merged_cells.ranges, *self.merges])
        self.merges = []

    # ---- layout and print

    def layout(self, widths: dict[int, float], pages_wide: int = 1) -> None:
        """Column widths, and the print scale they imply when fitted to ``pages_wide`` pages."""
        for col, width in widths.items():
            self.ws.column_dimensions[col_letter(col)].width = width
        self.widths = dict(widths)
        self.pages_wide = pages_wide
        px = sum(width * 7 + 5 for width in widths.values())  # Excel: ~7 px a unit at Calibri 11
        self.scale = min(1.0, pages_wide * PAGE_WIDE_PX / px)

    def width(self, col: int) -> float:
        return self.widths.get(col, 8.43)  # Excel's default column width

    def height(self, row: int, points: float) -> None:
        self.ws.row_dimensions[row].height = points

    def row_height(self, row: int) -> float:
        dims = self.ws.row_dimensions.get(row)  # .get: indexing would create an empty row
        return (dims.height if dims is not None else None) or 15.0

    def keep(self, row: int, height_pt: float) -> bool:
        """Start a new printed page at ``row`` unless ``height_pt`` more fits on this one."""
        from openpyxl.worksheet.pagebreak import Break

        self._count_rows(row - 1)
        if self.used_pt > 0 and self.used_pt + height_pt > self._page_pt:
            self.ws.row_breaks.append(Break(id=row - 1))
            self.used_pt = 0.0
            return True
        return False

    def _count_rows(self, last: int) -> None:
        """Add the heights of rows not yet counted, up to ``last``, to the current page."""
        for r in range(self.counted + 1, last + 1):
            self.used_pt += self.row_height(r)
            if self.used_pt > self._page_pt:  # a block longer than a page spills over
                self.used_pt -= self._page_pt
        self.counted = max(self.counted, last)

    @property
    def _page_pt(self) -> float:
        return PAGE_HIGH_PT / self.scale

    def image(self, png: Path | None, row: int) -> int:
        """A chart (it carries its own title) on a new printed page, filling its width.

        Returns the next free row (the image floats over the rows below its anchor)."""
        from openpyxl.drawing.image import Image

        if png is None or not png.is_file():
            return row
        image = Image(str(png))
        max_w = PAGE_WIDE_PX / self.scale
        max_h = PAGE_HIGH_PT * 4 / 3 / self.scale
        fit = min(max_w / image.width, max_h / image.height)  # fill the printed width
        image.width, image.height = round(image.width * fit), round(image.height * fit)
        height_pt = image.height * 0.75
        # Always at the top of a page: Excel and LibreOffice measure rows a little differently,
        # and a picture cut by a page break is worse than some white space.
        self.keep(row, self._page_pt)
        self.ws.add_image(image, f"A{row}")
        return row + 1 + math.ceil(height_pt / 15)  # the image floats over these empty rows


def print_setup(sheet: Sheet, pack: AreaPackData) -> None:
    """A4 landscape, fitted to the page width, with area, sheet, page numbers, synthetic mark."""
    ws = sheet.ws
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = sheet.pages_wide
    ws.page_setup.fitToHeight = 0
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.75
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.oddHeader.left.text = f"Datapakke: {pack.area_name.replace('&', '&&')}"
    ws.oddHeader.left.size = 9
    if pack.is_synthetic:
        ws.oddHeader.right.text = SYNTHETIC_MARK_DA
        ws.oddHeader.right.font = "Calibri,Bold"
        ws.oddHeader.right.color = "C00000"
        ws.oddHeader.right.size = 12
    ws.oddFooter.left.text = "&A"
    ws.oddFooter.center.text = "Side &P af &N"
    ws.oddFooter.right.text = f"Dannet {danish_time(pack.built_at)}"
    for part in (ws.oddFooter.left, ws.oddFooter.center, ws.oddFooter.right):
        part.size = 9
