"""The pack's named cell styles: registered once per workbook, copied onto cells as arrays.

A named style keeps the file small (one format record, not one per cell) and copying its array is
much cheaper than assigning fonts and fills cell by cell.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datapakke.presentation import COMPARISON_COLOURS, excel_number_format

if TYPE_CHECKING:
    from openpyxl.styles import Font
    from openpyxl.workbook.workbook import Workbook


def _font(**look: Any) -> Font:
    """Calibri 11 unless told otherwise: every style names its font (LibreOffice would fall back
    to a serif for a nameless one)."""
    from openpyxl.styles import Font

    return Font(**{"name": "Calibri", "size": 11, **look})


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


class Styles:
    """Named styles, registered once per workbook; cells copy their arrays (fast, small file)."""

    def __init__(self, wb: Workbook) -> None:
        from openpyxl.styles import Border, PatternFill, Side

        self._wb = wb
        self.arrays: dict[str, Any] = {}
        thin_grey = Side(style="thin", color="BFBFBF")
        self.grey_box = Border(left=thin_grey, right=thin_grey, top=thin_grey, bottom=thin_grey)
        self._fills = {
            key: PatternFill("solid", fgColor=colour.lstrip("#"))
            for key, colour in COMPARISON_COLOURS.items()
        }
        self._font_colours = {
            key: "FFFFFF" if _luminance(colour) < 0.18 else "000000"
            for key, colour in COMPARISON_COLOURS.items()
        }
        self._add_text_styles()
        self._add_table_styles()

    def _add_text_styles(self) -> None:
        """Prose, titles and notes."""
        from openpyxl.styles import Alignment

        top = Alignment(vertical="top")
        wrap_top = Alignment(wrap_text=True, vertical="top")
        self.add("dp_text", alignment=top)
        self.add("dp_wrap", alignment=wrap_top)
        self.add("dp_label", font=_font(bold=True), alignment=wrap_top)
        self.add("dp_title", font=_font(bold=True, size=22), alignment=Alignment(vertical="center"))
        self.add("dp_h1", font=_font(bold=True, size=16), alignment=Alignment(vertical="center"))
        self.add(
            "dp_h2",
            font=_font(bold=True, size=13, color="1F3864"),
            alignment=Alignment(vertical="bottom"),
        )
        self.add("dp_subtitle", font=_font(size=13, color="404040"))
        self.add("dp_note", font=_font(italic=True, size=9, color="404040"), alignment=wrap_top)
        self.add("dp_mono", font=_font(name="Consolas", size=9), alignment=top)

    def _add_table_styles(self) -> None:
        """Headers, bands, links, placeholders, the synthetic banner and p-values."""
        from openpyxl.styles import Alignment, Border, PatternFill, Side

        top = Alignment(vertical="top")
        wrap_top = Alignment(wrap_text=True, vertical="top")
        red = Side(style="thick", color="C00000")
        rule = Border(bottom=Side(style="thin", color="7F7F7F"))
        header_fill = PatternFill("solid", fgColor="DCE6F1")
        theme_fill = PatternFill("solid", fgColor="EEF3F8")
        link_font = _font(color="0563C1", underline="single")
        header = {"font": _font(bold=True), "fill": header_fill, "border": rule}
        self.add("dp_header", alignment=Alignment(wrap_text=True, vertical="bottom"), **header)
        for name, where in (("dp_header_num", "right"), ("dp_header_mid", "center")):
            align = Alignment(wrap_text=True, vertical="bottom", horizontal=where)
            self.add(name, alignment=align, **header)
        self.add("dp_theme", font=_font(bold=True, color="1F3864"), fill=theme_fill)
        self.add("dp_placeholder", alignment=Alignment(horizontal="right", vertical="top"))
        self.add("dp_centre", alignment=Alignment(horizontal="center", vertical="top"))
        self.add("dp_link", font=link_font, alignment=top)
        self.add("dp_link_wrap", font=link_font, alignment=wrap_top)
        self.add(
            "dp_theme_link",
            font=_font(bold=True, color="0563C1", underline="single"),
            fill=theme_fill,
        )
        self.add(
            "dp_banner",
            font=_font(bold=True, size=16, color="9C0006"),
            fill=PatternFill("solid", fgColor="FFE5E5"),
            border=Border(left=red, right=red, top=red, bottom=red),
            alignment=Alignment(wrap_text=True, vertical="center", horizontal="center"),
        )
        self.add("dp_p", number_format="0.000")

    def add(self, name: str, **look: Any) -> str:
        """Register a named style once; returns its name."""
        from openpyxl.styles import NamedStyle

        if name not in self.arrays:
            look.setdefault("font", _font())  # a font without a name renders as a serif
            style = NamedStyle(name=name, **look)
            self._wb.add_named_style(style)
            self.arrays[name] = style.as_tuple()
        return name

    def number(self, decimals: int, comparison: str | None = None) -> str:
        """A number with ``decimals`` (Danish separators by locale), coloured by comparison."""
        name = f"dp_n{decimals}" + (f"_{comparison}" if comparison else "")
        if name in self.arrays:
            return name
        from openpyxl.styles import Alignment

        look = self._comparison_look(comparison) if comparison else {}
        fmt = excel_number_format(decimals)
        return self.add(name, number_format=fmt, alignment=Alignment(vertical="top"), **look)

    def comparison(self, comparison: str, small: bool = False) -> str:
        """A text cell in the comparison's colour (labels in tables, legend swatches)."""
        from openpyxl.styles import Alignment

        name = f"dp_cmp_{comparison}" + ("_small" if small else "")
        if name in self.arrays:
            return name
        look = self._comparison_look(comparison)
        look["alignment"] = Alignment(horizontal="center", vertical="top")
        if small:
            look["font"] = _font(color=look["font"].color, size=9)
            look["alignment"] = Alignment(wrap_text=True, horizontal="center", vertical="center")
        return self.add(name, **look)

    def _comparison_look(self, comparison: str) -> dict[str, Any]:
        key = comparison if comparison in self._fills else "not_compared"
        return {
            "fill": self._fills[key],
            "font": _font(color=self._font_colours[key]),
            "border": self.grey_box,
        }
