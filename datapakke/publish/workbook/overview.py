"""The overview ("Overblik"): every indicator's latest value for the area, its municipalities,
the region(s) and Denmark, each coloured by its comparison with Denmark and followed by an arrow
for its trend, with the overview chart below.

One comparator for the whole view: every value is compared with Denmark (``compared_to_national``),
the same verdict the indicator sheets show under "Sammenlignet med hele landet", so a number never
reads "Bedre" on one sheet and "Ingen sikker forskel" on the next. The arrow is part of the cell's
number format, so the cell still holds the number itself (for copying and formulas).

A big area (a region has up to 29 municipalities) is wider than a page: the table is then printed
over several pages side by side, with the indicator names repeated on each.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from datapakke.presentation import (
    COMPARISON_COLOURS,
    TREND_ARROWS,
    TREND_LABELS_DA,
    excel_number_format,
)
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.geometry import wrap_height
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import legend_da
from datapakke.publish.workbook.values import as_text, is_missing

FIRST = 4  # the first value column (after indicator, unit and year)
CHARS_PER_PAGE = 200  # column width units per printed page: ~7 pt text at A4 landscape
COMPARATOR_DA = "hele landet"  # the one comparator of this view
TREND_KEYS_DA = [f"{arrow} {TREND_LABELS_DA[key]}" for key, arrow in TREND_ARROWS.items()] + [
    f"Ingen pil: {TREND_LABELS_DA['insufficient_data'].lower()}"
]


def write(sheet: Sheet, ctx: Context, chart: Path | None, map_chart: Path | None = None) -> None:
    """The table, by theme, then the chart and the map of all municipalities.

    Printed, the table breaks only between themes and repeats its header after a break
    (print titles would also repeat it above the chart)."""
    labels = ["Indikator", "Enhed", "År"] + [ctx.unit_label(*u) for u in ctx.units]
    width_a, width_b, width_v = _layout(sheet, ctx, labels)
    last = FIRST + len(ctx.units) - 1

    # Printed over several pages, column A repeats on each (print titles): what stands in it
    # must fit in it, or the following pages show the title and the introduction cut off.
    repeated = sheet.pages_wide > 1
    title = f"Overblik – {ctx.pack.area_name}"
    sheet.title(title if repeated else f"{title} sammenlignet med {COMPARATOR_DA}")
    intro = (
        "Seneste år for hver indikator, mænd og kvinder i alt. Farven viser hvert tal "
        f"sammenlignet med {COMPARATOR_DA} (95 %-interval) – kommunerne, området og regionen "
        "ens, som under 'Sammenlignet med hele landet' på indikatorarkene. Pilen efter tallet "
        "viser udviklingen over de seneste 5 år. Klik på en indikator for detaljer. "
        + legend_da(ctx.pack.suppression_threshold)
    )
    # Over the legend's columns, all on the first printed page; in column A alone when it repeats.
    sheet.paragraph(3, intro, 1, 1 if repeated else FIRST + len(COMPARISON_COLOURS) - 1, "dp_note")
    sheet.legend(4, FIRST, list(COMPARISON_COLOURS))
    sheet.put(4, 1, f"Farve: sammenlignet med {COMPARATOR_DA}", "dp_label")
    sheet.put(5, 1, "Pil: udvikling, seneste 5 år", "dp_label")
    for i, text in enumerate(TREND_KEYS_DA):
        sheet.put(5, FIRST + i, text, "dp_note")
    sheet.height(5, 26)
    head = 6
    header_lines = max(math.ceil(len(x) / (width_v - 1)) for x in labels[3:]) if ctx.units else 1
    header_pt = 15 * _clamp(header_lines, 2, 4) + 4

    def header(at: int) -> None:
        sheet.header(at, labels, range(3, len(labels)))
        sheet.height(at, header_pt)

    header(head)
    sheet.ws.freeze_panes = f"B{head + 1}"
    row = head + 1
    for theme, group in ctx.catalogue.groupby("theme", sort=False):
        indicators = list(group.itertuples())
        heights = [  # titles and units wrap rather than widen the table
            max(wrap_height(as_text(i.title_da), width_a), wrap_height(as_text(i.unit_da), width_b))
            for i in indicators
        ]
        if sheet.keep(row, 15 + sum(heights)):
            header(row)
            row += 1
        sheet.band(row, str(theme), last)
        row += 1
        for ind, height in zip(indicators, heights, strict=True):
            _indicator_row(sheet, ctx, row, ind)
            if height > 19:
                sheet.height(row, height)
            row += 1
    sheet.image(map_chart, sheet.image(chart, row + 1))


def _layout(sheet: Sheet, ctx: Context, labels: list[str]) -> tuple[float, float, float]:
    """Column widths from the longest title, unit and unit name, and how many pages wide the
    table prints; returns the widths of the title, unit and value columns."""
    titles = [as_text(t) for t in ctx.catalogue["title_da"]]
    unit_texts = [as_text(u) for u in ctx.catalogue["unit_da"]]
    width_a = _clamp(max(map(len, titles), default=30) + 2, 30, 46)  # longer titles wrap
    width_b = _clamp(max(map(len, unit_texts), default=10) + 1, 10, 24)
    longest_word = max((len(w) for label in labels[3:] for w in label.split()), default=8)
    width_v = _clamp(longest_word + 3, 11, 20)
    n_values = max(len(ctx.units), len(COMPARISON_COLOURS))
    widths = {1: width_a, 2: width_b, 3: 7, **{FIRST + i: width_v for i in range(n_values)}}
    total = sum(widths.values())
    pages_wide = 1
    while (total + (pages_wide - 1) * width_a) / pages_wide > CHARS_PER_PAGE:
        pages_wide += 1
    sheet.layout(widths, pages_wide)
    if pages_wide > 1:  # the indicator names on every page; all columns of a row band first
        sheet.ws.print_title_cols = "A:A"
        sheet.ws.page_setup.pageOrder = "overThenDown"
    return width_a, width_b, width_v


def _indicator_row(sheet: Sheet, ctx: Context, row: int, ind: Any) -> None:
    """One indicator: its linked title, unit, latest year and a coloured value per unit."""
    latest = ctx.latest.get(ind.indicator_id, "")
    now = {
        (r.role, str(r.area_code)): r
        for r in ctx.rows.get(ind.indicator_id, [])
        if r.sex == "T" and str(r.period) == latest
    }
    sheet.link(row, 1, as_text(ind.title_da), ctx.sheet_names[ind.indicator_id], "dp_link_wrap")
    sheet.put(row, 2, as_text(ind.unit_da), "dp_wrap")
    sheet.put(row, 3, latest, "dp_text")
    for col, (role, code, _name) in enumerate(ctx.units, start=FIRST):
        r = now.get((role, code))
        if r is None:
            sheet.measure(row, col, None, 0, note="Ingen data")
            continue
        suppressed, note = bool(r.is_suppressed), as_text(r.value_note)
        if suppressed or is_missing(r.value):
            sheet.measure(row, col, r.value, int(ind.decimals), suppressed, note)
            continue
        style = _value_style(sheet, int(ind.decimals), _colour_key(role, r), as_text(r.trend))
        sheet.put(row, col, r.value, style)


def _colour_key(role: str, r: Any) -> str | None:
    """The comparison that colours a value: every level against Denmark; Denmark uncoloured."""
    if role == "country":
        return None
    key = as_text(r.compared_to_national)
    return key if key in COMPARISON_COLOURS else "not_compared"


def _value_style(sheet: Sheet, decimals: int, comparison: str | None, trend: str) -> str:
    """The number style coloured by ``comparison`` whose format appends the trend's arrow
    ('914,0 ↓'); without a trend (too few years), the plain coloured number style."""
    base = sheet.styles.number(decimals, comparison)
    arrow = TREND_ARROWS.get(trend)
    if arrow is None:
        return base
    name = f"{base}_{trend}"
    if name not in sheet.styles.arrays:
        from openpyxl.styles import Alignment

        look = sheet.styles._comparison_look(comparison) if comparison else {}
        number_format = f'{excel_number_format(decimals)}" {arrow}"'
        sheet.styles.add(
            name, number_format=number_format, alignment=Alignment(vertical="top"), **look
        )
    return name


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))
