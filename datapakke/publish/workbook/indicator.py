"""One sheet per indicator: what it measures and how, its values over time, the latest period in
detail (by sex, with intervals, comparisons and trend), by age band where the source has ages,
and its chart."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from datapakke.presentation import (
    COMPARISON_LABELS_DA,
    ROLE_LABELS_DA,
    SEX_LABELS_DA,
    TREND_LABELS_DA,
)
from datapakke.publish.data_status import indicator_origin_da
from datapakke.publish.workbook.age_bands import write_by_age
from datapakke.publish.workbook.context import Context, withholds_denominator
from datapakke.publish.workbook.fast_rows import CellSpec
from datapakke.publish.workbook.geometry import HEADING_PT
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import interval_text, legend_da, method_text, polarity_text
from datapakke.publish.workbook.values import as_text, is_nan

JUDGED_KEYS = ("better", "similar", "worse", "not_compared")
NEUTRAL_KEYS = ("higher", "similar", "lower", "not_compared")
_DETAIL_HEADERS = (
    "Niveau",
    "Navn",
    "Tæller",
    "Nævner",
    "Værdi",
    "95 % nedre",
    "95 % øvre",
    "99,8 % nedre",
    "99,8 % øvre",
    "Sammenlignet med området",
    "Sammenlignet med hele landet",
    "Udvikling (5 år)",
    "Note",
)


def write(sheet: Sheet, ctx: Context, ind: Any, chart: Path | None) -> None:
    """Explanation; values by period (sex T); details for the latest period by sex; chart."""
    rows = ctx.rows.get(ind.indicator_id, [])
    periods = sorted({str(r.period) for r in rows})
    last = max(len(_DETAIL_HEADERS), 2 + len(periods))
    name_width = max([len(ctx.unit_label(*u)) for u in ctx.units] + [18]) + 2
    widths = {1: 12, 2: min(name_width, 36), **{c: 11 for c in range(3, last + 1)}}
    widths.update({10: 20, 11: 20, 12: 22, 13: 28})
    sheet.layout(widths)

    sheet.title(as_text(ind.title_da))
    sheet.put(2, 3, f"Tema: {ind.theme}", "dp_text")
    sheet.ws.freeze_panes = "A3"
    row = _explanation(sheet, ctx, ind, last)
    if not rows:
        sheet.put(row, 1, "Der er ingen tal for denne indikator i datapakken.", "dp_text")
        return
    row = _over_time(sheet, ctx, ind, periods, row)
    row = _details(sheet, ctx, ind, row)
    row = write_by_age(sheet, ctx, ind, row, last)
    sheet.image(chart, row + 1)


def _caveats(ctx: Context, ind: Any) -> str:
    """The catalogue's caveats and those of the sources behind this indicator's numbers."""
    sources = ctx.pack.source_caveats(ind.numerator_measure, ind.denominator_measure)
    return " ".join([as_text(ind.caveats_da), *sources]).strip() or "Ingen særlige."


def _explanation(sheet: Sheet, ctx: Context, ind: Any, last: int) -> int:
    """Definition to caveats, the legend and the colour key; returns the next free row."""
    row = 3
    for label, text in [
        ("Definition", as_text(ind.definition_da)),
        ("Enhed", as_text(ind.unit_da)),
        ("Metode", f"{method_text(ind)} {interval_text(ind)}"),
        ("Retning", polarity_text(ind)),
        ("Kilde", as_text(ind.source_da)),
        ("Datagrundlag", indicator_origin_da(ctx.pack, ind)),
        ("Forbehold", _caveats(ctx, ind)),
    ]:
        sheet.paragraph(row, text, 2, last, label=label)
        row += 1
    sheet.paragraph(row, legend_da(ctx.pack.suppression_threshold), 1, last, "dp_note")
    sheet.legend(row + 1, 3, NEUTRAL_KEYS if ind.polarity == "no_judgement" else JUDGED_KEYS)
    return row + 2


def _over_time(sheet: Sheet, ctx: Context, ind: Any, periods: list[str], row: int) -> int:
    """Every unit's value (sexes together) by period; returns the next free row."""
    units, decimals = ctx.units, int(ind.decimals)
    sheet.keep(row, HEADING_PT + 19 + 15 * len(units))
    unit = as_text(ind.unit_da)
    sheet.heading(row, f"Udvikling over tid ({unit}, mænd og kvinder i alt)")
    sheet.header(row + 1, ["Niveau", "Navn", *periods], range(2, 2 + len(periods)))
    row += 2
    by_unit: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for r in ctx.rows[ind.indicator_id]:
        if r.sex == "T":
            by_unit[(r.role, str(r.area_code))][str(r.period)] = r
    for role, code, name in units:
        cells = _unit_cells(ctx, role, code, name)
        for col, period in enumerate(periods, start=3):
            r = by_unit[(role, code)].get(period)
            if r is None:
                cells.append(sheet.look(col, None, decimals, note="Ingen data for dette år"))
            else:
                suppressed, note = bool(r.is_suppressed), as_text(r.value_note)
                cells.append(sheet.look(col, r.value, decimals, suppressed, note))
        sheet.row(row, cells)
        row += 1
    return row


def _details(sheet: Sheet, ctx: Context, ind: Any, row: int) -> int:
    """The latest period by sex: counts, value, intervals, comparisons, trend and note; the
    header is repeated when a sex starts a new printed page. Returns the next free row."""
    units, decimals = ctx.units, int(ind.decimals)
    denominator_withheld = withholds_denominator(ind)
    latest = ctx.latest[ind.indicator_id]
    detail = {
        (r.sex, r.role, str(r.area_code)): r
        for r in ctx.rows[ind.indicator_id]
        if str(r.period) == latest
    }
    sexes = [sex for sex in ("T", "M", "K") if any(key[0] == sex for key in detail)]
    sheet.keep(row, HEADING_PT + 34 + 15 * (len(units) + 1))
    sheet.heading(row, f"Detaljer for {latest}: tal, usikkerhed, sammenligning og udvikling")
    sheet.header(row + 1, _DETAIL_HEADERS, range(2, 9), centre=(9, 10))
    row += 2
    for sex in sexes:
        if sheet.keep(row, 15 * (len(units) + 1)):  # a new printed page: repeat the header
            sheet.header(row, _DETAIL_HEADERS, range(2, 9), centre=(9, 10))
            row += 1
        sheet.band(row, SEX_LABELS_DA[sex], len(_DETAIL_HEADERS))
        row += 1
        for role, code, name in units:
            cells = _unit_cells(ctx, role, code, name)
            r = detail.get((sex, role, code))
            if r is None:
                cells.append(sheet.look(5, None, decimals, note="Ingen data"))
            else:
                cells += _detail_cells(sheet, r, role, decimals, denominator_withheld)
            sheet.row(row, cells)
            row += 1
    return row


def _unit_cells(ctx: Context, role: str, code: str, name: str) -> list[CellSpec]:
    """The first two cells of a table row: level and name."""
    label = ctx.unit_label(role, code, name)
    return [(1, ROLE_LABELS_DA.get(role, role), "dp_text", ""), (2, label, "dp_text", "")]


def _detail_cells(
    sheet: Sheet, r: Any, role: str, decimals: int, denominator_withheld: bool
) -> list[CellSpec]:
    """Numerator to note for one unit and sex: the numbers the mart publishes, and the
    suppressed text where it withholds one (a suppressed row keeps the count that is not small).
    ``denominator_withheld``: the denominator is a protected count that may be withheld."""
    suppressed, note = bool(r.is_suppressed), as_text(r.value_note)
    cells = [
        sheet.look(3, r.numerator, 0, suppressed, note),
        sheet.look(4, r.denominator, 0, suppressed and denominator_withheld, note),
    ]
    estimates = (r.value, r.ci95_low, r.ci95_high, r.ci998_low, r.ci998_high)
    cells += [
        sheet.look(col, value, decimals, suppressed, note)
        for col, value in enumerate(estimates, start=5)
    ]
    comparisons = (
        (10, r.compared_to_area if role == "member" else None),
        (11, r.compared_to_national if role != "country" else None),
    )
    for col, key in comparisons:
        if key is not None and not is_nan(key):
            label = COMPARISON_LABELS_DA.get(str(key), str(key))
            cells.append((col, label, sheet.styles.comparison(str(key)), ""))
    cells.append((12, TREND_LABELS_DA.get(str(r.trend), as_text(r.trend)), "dp_text", ""))
    cells.append((13, note, "dp_text", ""))
    return cells
