"""The contents ("Indhold"): a link to every sheet, indicators grouped by theme."""

from __future__ import annotations

from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import (
    ABOUT,
    CHANGES,
    DATA,
    DATA_STATUS,
    FRONT,
    KEY_POINTS,
    OVERVIEW,
    PEERS,
)
from datapakke.publish.workbook.values import as_text

_FIXED_PAGES = (
    (FRONT, "Område, kommuner, datastatus og sådan læser du pakken"),
    (KEY_POINTS, "De vigtigste statistisk sikre forskelle og udviklinger, med links"),
    (CHANGES, "Hvad der er nyt eller revideret siden forrige udgave af datapakken"),
    (OVERVIEW, "Alle indikatorer for området, kommunerne, regionen og hele landet"),
    (PEERS, "Hver kommune sammenlignet med de 5 kommuner i landet, der ligner den mest"),
    (DATA_STATUS, "Hvilke filer tallene bygger på: rigtige eller syntetiske, perioder og dækning"),
    (ABOUT, "Definitioner, metoder, diskretion og sammenligninger"),
    (DATA, "Alle tal i én lang tabel med filter (til egne analyser)"),
)


def write(sheet: Sheet, ctx: Context) -> None:
    sheet.layout({1: 58, 2: 76})
    sheet.title(f"Indhold – {ctx.pack.area_name}", back_link=False)
    sheet.put(2, 1, "Klik på et navn for at gå til arket. Hvert ark har et link tilbage hertil.")
    sheet.header(4, ["Ark", "Indhold"])
    sheet.ws.freeze_panes = "A5"
    row = 5
    for name, what in _FIXED_PAGES:
        sheet.link(row, 1, name, name)
        sheet.put(row, 2, what, "dp_text")
        row += 1
    for theme, group in ctx.catalogue.groupby("theme", sort=False):
        indicators = list(group.itertuples())
        sheet.keep(row, 15 * (len(indicators) + 2))  # a theme is never split over two pages
        sheet.band(row + 1, str(theme), 2)
        row += 2
        for ind in indicators:
            sheet.link(row, 1, as_text(ind.title_da), ctx.sheet_names[ind.indicator_id])
            sheet.put(row, 2, f"Enhed: {as_text(ind.unit_da)}", "dp_text")
            row += 1
