"""The front page ("Forside"): which area, its municipalities and data, and how to read the pack.

Read first by people who open the file without help, so a synthetic pack says so above all else.
"""

from __future__ import annotations

from pathlib import Path

from datapakke.presentation import (
    MEMBERSHIP_STATUS_HELP_DA,
    MISSING_TEXT,
    SYNTHETIC_BANNER_DA,
    suppressed_text,
)
from datapakke.publish import data_status
from datapakke.publish.key_findings import KeyFinding, headline
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.geometry import HEADING_PT
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.texts import CONTENTS, KEY_POINTS
from datapakke.publish.workbook.values import danish_time


def read_me_da(threshold: int) -> tuple[str, ...]:
    """'Sådan læser du datapakken': colours, placeholders, intervals, where to find what."""
    return (
        "Farver: blå = bedre, rødorange = dårligere, sandfarvet = ingen sikker forskel, lilla og "
        "lyslilla = højere og lavere (uden at være bedre eller dårligere). Overblikket "
        "sammenligner alle tal med hele landet; indikatorarkene viser også kommunerne "
        "sammenlignet med området, i en kolonne for sig.",
        f"'{suppressed_text(threshold)}' betyder, at tallet er skjult af diskretionshensyn. "
        f"'{MISSING_TEXT}' betyder, at der ikke er et tal (se noten i cellen eller kolonnen Note).",
        "Intervaller: 95 %- og 99,8 %-konfidensintervallerne viser usikkerheden. En forskel "
        "kaldes sikker, når intervallet ikke rammer det tal, der sammenlignes med.",
        "Hver indikator har sit eget ark (se Indhold). 'Om data' forklarer definitioner og "
        "metoder; 'Data' har alle tal i én tabel til egne analyser.",
    )


def write(
    sheet: Sheet, ctx: Context, pyramid: Path | None, findings: list[KeyFinding] | None = None
) -> None:
    """Banner (synthetic packs), title, the first key findings, facts, the reading guide, the
    population pyramid: what a director reads first, in that order."""
    pack = ctx.pack
    sheet.layout({1: 22, 2: 108})
    row = 1
    if pack.is_synthetic:
        sheet.put(1, 2, None, "dp_banner")  # the merged banner's right edge
        sheet.paragraph(1, SYNTHETIC_BANNER_DA, 1, 2, "dp_banner")
        sheet.height(1, 52)
        row = 3
    sheet.put(row, 1, pack.area_name, "dp_title")
    sheet.height(row, 34)
    sheet.put(row + 1, 1, f"Datapakke · {pack.grouping_title}", "dp_subtitle")
    sheet.height(row + 1, 20)
    row += 3
    sheet.heading(row, KEY_POINTS)
    row += 1
    for i, line in enumerate(headline(findings if findings is not None else []), start=1):
        sheet.paragraph(row, line, 2, 2, label=f"{i}.")
        row += 1
    sheet.link(row, 1, f"→ Alle {KEY_POINTS.lower()}", KEY_POINTS)
    row += 2
    for label, text in _facts(ctx):
        sheet.paragraph(row, text, 2, 2, label=label)
        row += 1
    row += 1
    sheet.link(row, 1, "→ Indhold", CONTENTS)
    sheet.put(row, 2, "Oversigt over alle ark, med links.", "dp_text")
    row += 2
    # The reading guide is kept whole: on the first page if it fits, else on the next one.
    guide = read_me_da(pack.suppression_threshold)
    sheet.keep(row, HEADING_PT + sum(sheet.paragraph_height(line, 2, 2) for line in guide))
    sheet.heading(row, "Sådan læser du datapakken")
    row += 1
    for i, line in enumerate(guide, start=1):
        sheet.paragraph(row, line, 2, 2, label=f"{i}.")
        row += 1
    sheet.image(pyramid, row + 1)


def _facts(ctx: Context) -> list[tuple[str, str]]:
    """(label, text) lines about the area and its data, then the pack's own notes."""
    pack = ctx.pack
    members = ", ".join(ctx.unit_label("member", m.code, m.name) for m in pack.members)
    if len(pack.members) > 1:
        members += f" ({len(pack.members)} kommuner)"
    periods = sorted({str(p) for p in pack.values["period"]})
    if periods:
        span = f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else periods[0]
        period_text = f"{span} (seneste år: {periods[-1]})"
    else:
        period_text = "Ingen data"
    status = pack.membership_status
    facts = [
        ("Kommuner", members),
        ("Region" if len(pack.region_names) == 1 else "Regioner", ", ".join(pack.region_names)),
        ("Dataperiode", period_text),
        ("Datastatus", data_status.summary_da(pack)),
        ("Dannet", danish_time(pack.built_at)),
        ("Medlemskab", MEMBERSHIP_STATUS_HELP_DA.get(status, status)),
        ("Kontakt", pack.contact_da),
    ]
    return facts + [("Bemærk" if i == 0 else "", note) for i, note in enumerate(pack.notes)]
