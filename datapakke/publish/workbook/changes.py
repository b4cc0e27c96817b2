"""The "Nyt siden sidst" sheet: what is new or revised since the previous version of the pack
whose numbers differed, grouped (indicators, periods, revisions, comparisons, sources), each
line linking to its indicator sheet.

A reader who opened last month's pack should see in one page what to look at again; the lines
themselves are made by ``publish.changes`` (from the two versions' snapshots), not here.
"""

from __future__ import annotations

from datapakke.publish.changes import NOT_COMPARED_DA, Changes
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.geometry import wrap_height
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import CHANGES
from datapakke.publish.workbook.values import danish_time

HOW_DA = (
    "En ny udgave af datapakken gemmes kun, når indholdet er ændret; en nat uden nye tal giver "
    "ingen ny udgave. Tal regnes som reviderede, når de er ændret mere end afrundingen. "
    "Sammenligninger og udvikling gælder seneste år, mænd og kvinder i alt. Tidligere udgaver "
    "kan hentes på downloadsiden."
)
_SUBJECT_HEADER = {"sources": "Kilde"}  # else "Indikator"


def write(sheet: Sheet, ctx: Context, changes: Changes | None) -> None:
    """Title, which version this is compared with and a summary, then the lines by group.

    ``changes`` None: the pack was written without its history (``write_pack``)."""
    sheet.layout({1: 48, 2: 96})
    sheet.title(f"{CHANGES} – {ctx.pack.area_name}")
    sheet.ws.freeze_panes = "A3"
    for row, text, style in ((3, _intro(changes), "dp_wrap"), (4, HOW_DA, "dp_note")):
        sheet.put(row, 2, None, style)  # the merged paragraph's right edge (the sheet's width)
        sheet.paragraph(row, text, 1, 2, style)
    if changes is None:
        return
    row = 6
    for key, title, lines in changes.groups():
        sheet.keep(row, 15 * min(len(lines) + 2, 6))  # a heading never ends a printed page
        sheet.heading(row, title)
        sheet.header(row + 1, [_SUBJECT_HEADER.get(key, "Indikator"), "Ændring"])
        row += 2
        previous_subject = None
        for line in lines:
            height = max(  # the name column wraps earlier than the estimate: leave room
                sheet.paragraph_height(line.text_da, 2, 2),
                wrap_height(line.subject_da, sheet.width(1) - 8),
            )
            new_page = sheet.keep(row, height)
            # an indicator's lines share one name, repeated at the top of a printed page
            subject = line.subject_da if new_page or line.subject_da != previous_subject else ""
            previous_subject = line.subject_da
            name = ctx.sheet_names.get(line.indicator_id or "")
            if subject and name is not None:
                sheet.link(row, 1, subject, name, "dp_link_wrap")
            elif subject:
                sheet.put(row, 1, subject, "dp_wrap")
            sheet.paragraph(row, line.text_da, 2, 2)
            sheet.height(row, height)
            row += 1
        row += 1


def _intro(changes: Changes | None) -> str:
    if changes is None:
        return NOT_COMPARED_DA
    if changes.previous_built_at is None:  # the first edition
        return changes.summary_da()
    when = danish_time(changes.previous_built_at)
    if not changes.comparable:
        return f"Forrige udgave: dannet {when}. {changes.summary_da()}"
    return (
        f"Sammenlignet med udgaven dannet {when}, den seneste udgave med andet indhold. "
        f"{changes.summary_da()}"
    )
