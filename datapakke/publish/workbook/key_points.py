"""The key findings ("Hovedpointer"): numbered Danish sentences, each generated from one
statistically significant flag of the latest period, with its level and a link to its indicator.

Right after the front page, so a reader sees first where the area and its municipalities differ
and what moved; which sentences and in which order is decided by ``publish.key_findings``.
"""

from __future__ import annotations

from datapakke.publish.key_findings import NO_FINDINGS_DA, KeyFinding, key_findings
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import KEY_POINTS

HEADERS = ("Nr.", "Hovedpointe", "Niveau", "Se arket")
HOW_CHOSEN_DA = (
    "Sætningerne er dannet automatisk ud fra tallene for seneste år (mænd og kvinder i alt) og "
    "nævner kun statistisk signifikante forskelle: området sammenlignet med hele landet (95 % og "
    "99,8 %), en sikker udvikling over de seneste år, og kommuner der adskiller sig fra området "
    "(95 %). Den største forskel i forhold til usikkerheden står først; alle forskelle fra hele "
    "landet på 99,8 %-niveau er med."
)
_FIRST_ROW = 5  # header row; findings below


def write(sheet: Sheet, ctx: Context, findings: list[KeyFinding] | None = None) -> None:
    """Title, how the sentences are chosen, then one row per finding (or the no-findings line).

    ``findings``: already computed (the front page shows the first three); else computed here."""
    if findings is None:
        findings = key_findings(ctx.pack)
    sheet.layout({1: 6, 2: 100, 3: 9, 4: 32})
    sheet.title(f"{KEY_POINTS} – {ctx.pack.area_name}")
    sheet.paragraph(3, HOW_CHOSEN_DA, 1, 4, "dp_note")
    if not findings:
        sheet.paragraph(_FIRST_ROW, NO_FINDINGS_DA, 1, 4)
        return
    sheet.header(_FIRST_ROW, HEADERS, centre=(0, 2))
    sheet.ws.freeze_panes = f"A{_FIRST_ROW + 1}"
    for row, (number, finding) in enumerate(enumerate(findings, start=1), start=_FIRST_ROW + 1):
        sheet.keep(row, sheet.paragraph_height(finding.sentence_da, 2, 2))
        sheet.put(row, 1, number, "dp_centre")
        sheet.paragraph(row, finding.sentence_da, 2, 2)
        sheet.put(row, 3, finding.level, "dp_centre")
        name = ctx.sheet_names.get(finding.indicator_id)
        if name is not None:
            sheet.link(row, 4, name, name, "dp_link_wrap")
