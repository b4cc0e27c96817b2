"""An indicator sheet's table by age band: the latest period for each unit, total and broad
bands side by side, each band coloured by its comparison with Denmark in the same band."""

from __future__ import annotations

from typing import Any

from datapakke.presentation import AGE_BAND_LABELS_DA, ROLE_LABELS_DA, format_da
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.fast_rows import CellSpec
from datapakke.publish.workbook.geometry import HEADING_PT
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.values import as_text, is_missing

INTRO_DA = (
    "Tallene for det seneste år fordelt på aldersgrupper (mænd og kvinder i alt), beregnet som "
    "indikatoren selv. Farven viser sammenligningen med hele landet i samme aldersgruppe "
    "(95 %-konfidensinterval). Små tal er skjult på samme måde som i resten af datapakken."
)


def write_by_age(sheet: Sheet, ctx: Context, ind: Any, row: int, last: int) -> int:
    """The table, when the indicator has a breakdown; returns the next free row."""
    ages = ctx.pack.age_values
    rows = ages[ages["indicator_id"] == ind.indicator_id]
    if rows.empty:
        return row
    bands = [b for b in AGE_BAND_LABELS_DA if b in set(rows["age_band"])]
    period, decimals = str(rows["period"].iloc[0]), int(ind.decimals)
    by_unit = {(r.role, str(r.area_code), r.age_band): r for r in rows.itertuples()}
    sheet.keep(row, HEADING_PT + 60 + 15 * len(ctx.units))
    sheet.heading(row, f"Aldersgrupper i {period} ({as_text(ind.unit_da)})")
    sheet.paragraph(row + 1, INTRO_DA, 1, last, "dp_note")
    labels = ["Niveau", "Navn"]
    for band in bands:
        labels += [AGE_BAND_LABELS_DA[band], "95 %-interval"]
    sheet.header(row + 2, labels, range(2, len(labels), 2), centre=range(3, len(labels), 2))
    row += 3
    for role, code, name in ctx.units:
        label = ctx.unit_label(role, code, name)
        cells: list[CellSpec] = [
            (1, ROLE_LABELS_DA.get(role, role), "dp_text", ""),
            (2, label, "dp_text", ""),
        ]
        for i, band in enumerate(bands):
            cells += _band_cells(sheet, by_unit.get((role, code, band)), 3 + 2 * i, decimals)
        sheet.row(row, cells)
        row += 1
    return row


def _band_cells(sheet: Sheet, r: Any, col: int, decimals: int) -> list[CellSpec]:
    """The value (coloured by its comparison with Denmark) and its interval as text."""
    if r is None:
        return [sheet.look(col, None, decimals, note="Ingen data")]
    suppressed, note = bool(r.is_suppressed), as_text(r.value_note)
    comparison = None if r.role == "country" else str(r.compared_to_national)
    cells = [sheet.look(col, r.value, decimals, suppressed, note, comparison)]
    if not (is_missing(r.ci95_low) or is_missing(r.ci95_high)):
        interval = f"{format_da(r.ci95_low, decimals)}–{format_da(r.ci95_high, decimals)}"
        cells.append((col + 1, interval, "dp_centre", ""))
    return cells
