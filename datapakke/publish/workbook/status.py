"""The "Datastatus" sheet: for each source, whether it is real or synthetic, its file and
checksum, the periods it covers, which of the area's municipalities it covers and its rows; then
what each indicator rests on. The front page's "Datastatus" line is the summary of this sheet."""

from __future__ import annotations

from datapakke.presentation import ORIGIN_LABELS_DA
from datapakke.publish.data_status import indicator_origin, indicator_origin_da, source_statuses
from datapakke.publish.workbook.about import source_file_da
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.geometry import wrap_height
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.values import as_text, danish_time

_SOURCE_HEADERS = (
    ("Kilde", 30),
    ("Datagrundlag", 16),
    ("Fil (under data/raw/)", 30),
    ("Perioder", 20),
    ("Områdets kommuner med tal", 26),
    ("Rækker læst", 11),
    ("Indlæst", 11),
    ("I karantæne", 11),
    ("Sprunget over", 11),
    ("Indlæst den", 20),
    ("Status", 20),
    ("SHA-256 (kontrolsum)", 40),
)
INTRO_DA = (
    "Hvilke filer tallene bygger på. 'Rigtige data' er filer, som en analytiker har lagt i "
    "datamappen; 'Syntetiske data' er den indbyggede prøve med opdigtede tal. En kommune, som "
    "en rigtig fil ikke dækker, har ingen tal (den udfyldes aldrig med syntetiske tal). "
    "'Sprunget over' er rækker, som ikke er kommuner (hele landet, regioner, Christiansø, "
    "udlandet, uoplyst) eller perioder, som en nyere fil har erstattet."
)


def write(sheet: Sheet, ctx: Context) -> None:
    """The sources table, their caveats, then one line per indicator."""
    sheet.layout({i: width for i, (_, width) in enumerate(_SOURCE_HEADERS, start=1)})
    sheet.title(f"Datastatus – {ctx.pack.area_name}")
    sheet.ws.freeze_panes = "A3"
    sheet.paragraph(3, INTRO_DA, 1, 6)
    row = _sources(sheet, ctx, 5)
    _indicators(sheet, ctx, row + 1)


def _sources(sheet: Sheet, ctx: Context, row: int) -> int:
    sheet.heading(row, "Kilder")
    sheet.header(row + 1, [h for h, _ in _SOURCE_HEADERS], range(6, 10))
    row += 2
    statuses = source_statuses(ctx.pack)
    for s in statuses:
        file = source_file_da(s.file)
        title = " – ".join(t for t in (s.title, s.publisher) if t)
        cells = (title, s.origin_da, file, s.periods_da, s.coverage_da)
        for col, text in enumerate(cells, start=1):
            sheet.put(row, col, text, "dp_wrap")
        for col, number in enumerate(
            (s.rows_read, s.rows_loaded, s.rows_quarantined, s.rows_skipped), start=6
        ):
            sheet.measure(row, col, number, 0)
        sheet.put(row, 10, danish_time(s.loaded_at) if s.loaded_at else "", "dp_wrap")
        sheet.put(row, 11, s.status_da, "dp_wrap")
        sheet.put(row, 12, s.sha256, "dp_mono")
        widths = [width for _, width in _SOURCE_HEADERS[: len(cells)]]
        sheet.height(row, max(wrap_height(t, w) for t, w in zip(cells, widths, strict=True)))
        row += 1
    for s in statuses:  # rejected files and quarantined rows: source, rows, reason, where
        if s.caveat_da:
            sheet.paragraph(row, s.caveat_da, 2, 8, label=f"Forbehold: {s.title}")
            row += 1
    return row


def _indicators(sheet: Sheet, ctx: Context, row: int) -> None:
    sheet.heading(row, "Indikatorerne")
    sheet.header(row + 1, ["Indikator", "Datagrundlag", "Forklaring"])
    row += 2
    for ind in ctx.catalogue.itertuples():
        sheet.link(row, 1, as_text(ind.title_da), ctx.sheet_names[ind.indicator_id])
        origin = indicator_origin(ctx.pack, ind.indicator_id)
        sheet.put(row, 2, ORIGIN_LABELS_DA[origin], "dp_wrap")
        sheet.paragraph(row, indicator_origin_da(ctx.pack, ind), 3, 8)
        row += 1
