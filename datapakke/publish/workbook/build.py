"""The whole workbook in memory: the sheets in order, their print setup and the document
properties. Saving is separate (``files``), so nothing touches the disk until the pack is built.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from datapakke.publish.changes import Changes
from datapakke.publish.key_findings import KeyFinding, key_findings
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.workbook import (
    about,
    contents,
    data,
    front,
    indicator,
    key_points,
    overview,
    peers,
    status,
)
from datapakke.publish.workbook import changes as changes_sheet
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.fast_rows import Built
from datapakke.publish.workbook.sheet import Sheet, print_setup
from datapakke.publish.workbook.styles import Styles
from datapakke.publish.workbook.texts import (
    ABOUT,
    AUTHOR,
    CHANGES,
    CONTENTS,
    DATA,
    DATA_STATUS,
    FRONT,
    KEY_POINTS,
    OVERVIEW,
    PEERS,
    SYNTHETIC_MARK_DA,
)
from datapakke.publish.workbook.values import naive_utc

if TYPE_CHECKING:
    from openpyxl.workbook.workbook import Workbook


def build(
    pack: AreaPackData,
    charts: dict[str, Path] | None,
    changes: Changes | None = None,
    findings: list[KeyFinding] | None = None,
) -> Built:
    """Front, key findings, contents, overview, one sheet per indicator, data status, about, data; charts that are missing
    on disk are left out."""
    from openpyxl import Workbook

    wb = Workbook()
    styles = Styles(wb)
    ctx = Context.of(pack)
    found = {key: Path(p) for key, p in (charts or {}).items() if p}
    wb.active.title = FRONT
    sheets = [Sheet(wb.active, styles, pack.suppression_threshold)]

    def new(title: str) -> Sheet:
        sheets.append(Sheet(wb.create_sheet(title), styles, pack.suppression_threshold))
        return sheets[-1]

    findings = findings if findings is not None else key_findings(pack)
    front.write(sheets[0], ctx, found.get("pyramid"), findings)
    key_points.write(new(KEY_POINTS), ctx, findings)
    changes_sheet.write(new(CHANGES), ctx, changes)
    contents.write(new(CONTENTS), ctx)
    overview.write(new(OVERVIEW), ctx, found.get("overview"), found.get("map"))
    peers.write(new(PEERS), ctx)
    for ind in ctx.catalogue.itertuples():
        sheet = new(ctx.sheet_names[ind.indicator_id])
        indicator.write(sheet, ctx, ind, found.get(f"indicator_{ind.indicator_id}"))
    status.write(new(DATA_STATUS), ctx)
    about.write(new(ABOUT), ctx)
    data.write(new(DATA), ctx)
    for sheet in sheets:
        sheet.finish()
        print_setup(sheet, pack)
    _set_properties(wb, pack)
    stamp = max(naive_utc(pack.built_at), datetime(1980, 1, 1)).timetuple()[:6]
    return Built(wb, [sheet.fast for sheet in sheets], stamp)


def _set_properties(wb: Workbook, pack: AreaPackData) -> None:
    """Title, keywords and description for file browsers and search; a synthetic pack says so."""
    props = wb.properties
    props.title = f"Datapakke – {pack.area_name}"
    props.subject = f"{pack.grouping_title}: {pack.area_name}"
    props.creator = AUTHOR
    props.lastModifiedBy = AUTHOR
    keywords = ["datapakke", pack.grouping, pack.area_id, pack.grouping_title, *pack.region_names]
    if pack.is_synthetic:
        keywords.append("syntetiske data")
    props.keywords = ", ".join(keywords)
    description = (
        f"Sundhedsdata for {pack.area_name} ({pack.grouping_title}) med kommunerne, regionen og "
        f"hele landet. Kodeversion {pack.code_version}."
    )
    if pack.is_synthetic:
        description = f"{SYNTHETIC_MARK_DA}: alle tal er opdigtede. {description}"
    props.description = description
    props.language = "da-DK"
    props.created = props.modified = naive_utc(pack.built_at)
