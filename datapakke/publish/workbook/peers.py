"""The "Lignende kommuner" sheet: each member's five most similar municipalities in Denmark (on
age structure and size), then every indicator's latest value against their median, with the
opportunity in words where a member is significantly worse.

Why: Denmark is a poor yardstick for a single municipality; the NHS RightCare packs open with
the areas most like yours. The numbers come from the area mart (``mart.peers``); this sheet
only shows them. The method paragraph for "Om data" is ``PEERS_METHOD_DA``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from datapakke.presentation import COMPARISON_LABELS_DA, format_da
from datapakke.publish.workbook.fast_rows import CellSpec
from datapakke.publish.workbook.geometry import wrap_height
from datapakke.publish.workbook.texts import legend_da
from datapakke.publish.workbook.values import as_text, is_missing

if TYPE_CHECKING:
    from datapakke.publish.workbook.context import Context
    from datapakke.publish.workbook.sheet import Sheet

TITLE_DA = "Lignende kommuner"
LAST = 7  # the last column
WIDTHS = {1: 30, 2: 11, 3: 11, 4: 11, 5: 15, 6: 20, 7: 60}
GROUP_HEADERS = ("Kommune", "Nr.", "Andel 65+ (%)", "Andel 80+ (%)", "Folketal", "Afstand")
COMPARISON_HEADERS = (
    "Kommune",
    "Værdi",
    "95 % nedre",
    "95 % øvre",
    "Median for lignende kommuner",
    "Sammenlignet med lignende kommuner",
    "Hvis kommunen lå på medianen for sine lignende kommuner",
)
INTRO_DA = (
    "Hver kommune i området sammenlignet med de 5 kommuner i hele landet, der ligner den mest i "
    "alder og størrelse (andelen på 65 år og derover, andelen på 80 år og derover og folketallet "
    "1. januar). Kun offentliggjorte tal indgår. Metoden står på arket 'Om data'."
)
COMPARISON_INTRO_DA = (
    "Seneste år, mænd og kvinder i alt. Kommunens 95 %-interval er sammenlignet med medianen for "
    "dens lignende kommuner; retningen afgør, om en sikker forskel kaldes bedre/dårligere eller "
    "højere/lavere. Hvor kommunen er sikkert dårligere, står det antal hændelser om året, den "
    "ville have haft færre, hvis den lå på medianen – en øvre grænse."
)
NO_PEERS_DA = (
    "Der er ikke fundet lignende kommuner, fordi folketallet 1. januar ikke er komplet for alle "
    "kommuner i noget år."
)
NO_GROUP_DA = "Ingen lignende kommuner (kommunen mangler i folketallet)"
NO_MEDIAN_DA = "Færre end 3 af de lignende kommuner har et offentliggjort tal: ingen median."
# The paragraph for 'Om data' (about.py adds it to its method texts).
PEERS_METHOD_DA = (
    "Lignende kommuner. For hver kommune er de 5 mest lignende kommuner i hele landet fundet ud "
    "fra tre offentliggjorte tal pr. 1. januar i det seneste år, hvor folketallet (Danmarks "
    "Statistik, FOLK1A) er komplet for alle kommuner: andelen af borgere på 65 år og derover, "
    "andelen på 80 år og derover og folketallet (som logaritme, så størrelse tæller som forhold). "
    "Hvert tal er standardiseret (z-score), så de vægter lige meget, og ligheden er den "
    "euklidiske afstand. Der indgår ikke et mål for social belastning, fordi ingen af pakkens "
    "kilder har et. For hver indikator er kommunens tal for seneste år (mænd og kvinder i alt) "
    "sammenlignet med medianen af de lignende kommuners offentliggjorte tal; medianen beregnes "
    "ikke, når færre end 3 af dem har et tal. Ligger kommunens 95 %-interval helt over eller "
    "under medianen, er forskellen sikker. Muligheden er det antal hændelser om året, kommunen "
    "ville have haft færre (eller flere), hvis den lå på medianen: (værdi − median) × nævner, "
    "divideret med enheden (fx 1.000 for en rate pr. 1.000), med 95 %-interval. Den gives kun "
    "for rater og andele af optalte hændelser (ikke for aldersstandardiserede rater og "
    "spørgeskemaer), kun hvor forskellen er sikker og dårligere, og er en øvre grænse: forskelle "
    "i behov, som de tre tal ikke fanger, kan forklare en del af forskellen. Kun offentliggjorte "
    "tal indgår, og en mulighed under diskretionsgrænsen vises ikke."
)


def write(sheet: Sheet, ctx: Context) -> None:
    """Title and intro; each member's similar municipalities; the indicators against them."""
    sheet.layout(WIDTHS)
    sheet.title(f"{TITLE_DA} – {ctx.pack.area_name}")
    sheet.ws.freeze_panes = "A3"
    sheet.paragraph(3, f"{INTRO_DA} {legend_da(ctx.pack.suppression_threshold)}", 1, LAST)
    if ctx.pack.peer_group.empty:
        sheet.paragraph(5, NO_PEERS_DA, 1, LAST)
        return
    row = _groups(sheet, ctx, 5)
    _comparisons(sheet, ctx, row + 1)


def _groups(sheet: Sheet, ctx: Context, row: int) -> int:
    """Per member: its own basis values, then its peers in rank order; returns the next row."""
    groups = ctx.pack.peer_group
    year = as_text(groups["basis_year"].iloc[0])
    sheet.heading(row, f"De 5 mest lignende kommuner (folketal 1. januar {year})")
    sheet.header(row + 1, GROUP_HEADERS, numeric=range(2, 6), centre=(1,))
    row += 2
    by_member = {code: rows for code, rows in groups.groupby("municipality_code", sort=False)}
    for member in ctx.pack.members:
        label = ctx.unit_label("member", member.code, member.name)
        peers = by_member.get(member.code)
        if peers is None or peers.empty:
            sheet.row(row, [(1, label, "dp_label", ""), (2, NO_GROUP_DA, "dp_text", "")])
            row += 1
            continue
        sheet.keep(row, 15 * (len(peers) + 1))
        own = next(peers.itertuples())
        sheet.row(row, [(1, label, "dp_label", ""), *_basis(sheet, own, "")], may_note=False)
        row += 1
        for peer in peers.sort_values("rank").itertuples():
            cells = [
                (1, as_text(peer.peer_name), "dp_text", ""),
                (2, int(peer.rank), "dp_centre", ""),
                *_basis(sheet, peer, "peer_"),
                (6, float(peer.distance), sheet.styles.number(2), ""),
            ]
            sheet.row(row, cells, may_note=False)
            row += 1
    return row


def _basis(sheet: Sheet, r: Any, prefix: str) -> list[CellSpec]:
    """Share 65+, share 80+ and population of a municipality (``prefix`` 'peer_' for a peer)."""
    return [
        sheet.look(3, getattr(r, f"{prefix}share_65plus_pct"), 1),
        sheet.look(4, getattr(r, f"{prefix}share_80plus_pct"), 1),
        sheet.look(5, getattr(r, f"{prefix}population"), 0),
    ]


def _comparisons(sheet: Sheet, ctx: Context, row: int) -> None:
    """One band per indicator with a comparison (linked title, unit, year), one row per member."""
    comparison = ctx.pack.peer_comparison
    sheet.heading(row, "Sammenlignet med de lignende kommuner")
    sheet.paragraph(row + 1, COMPARISON_INTRO_DA, 1, LAST, "dp_note")
    sheet.header(row + 2, COMPARISON_HEADERS, numeric=range(1, 5), centre=(5,))
    row += 3
    by_indicator = {ind: rows for ind, rows in comparison.groupby("indicator_id", sort=False)}
    member_names = {m.code: ctx.unit_label("member", m.code, m.name) for m in ctx.pack.members}
    for ind in ctx.catalogue.itertuples():
        rows = by_indicator.get(ind.indicator_id)
        if rows is None or rows.empty or str(ind.interval) == "none":
            continue  # counts and shares of the whole population: nothing to compare
        by_member = {r.municipality_code: r for r in rows.itertuples()}
        members = [m for m in ctx.pack.members if m.code in by_member]
        sheet.keep(row, 15 * (len(members) + 1))
        _indicator_band(sheet, ctx, row, ind, as_text(rows["period"].iloc[0]))
        row += 1
        for member in members:
            r = by_member[member.code]
            sentence = opportunity_da(member.name, ind, r)
            cells = _comparison_cells(sheet, member_names[member.code], r, ind, sentence)
            if sentence:  # a tall row: through openpyxl (fast rows carry no height)
                for col, value, style, note in cells:
                    sheet.note(sheet.put(row, col, value, style), note)
                sheet.height(row, max(15.0, wrap_height(sentence, WIDTHS[LAST])))
            else:
                sheet.row(row, cells)
            row += 1


def _indicator_band(sheet: Sheet, ctx: Context, row: int, ind: Any, period: str) -> None:
    """The indicator's linked title (running over the empty cells beside it), unit and year in
    the last column."""
    sheet.link(row, 1, as_text(ind.title_da), ctx.sheet_names[ind.indicator_id], "dp_theme_link")
    for col in range(2, LAST):
        sheet.put(row, col, None, "dp_theme")
    sheet.put(row, LAST, f"{as_text(ind.unit_da)}, {period}", "dp_theme")


def _comparison_cells(sheet: Sheet, label: str, r: Any, ind: Any, sentence: str) -> list[CellSpec]:
    """Name, value and interval, the peers' median, the comparison and the opportunity."""
    decimals = int(ind.decimals)
    suppressed = bool(r.is_suppressed)
    key = as_text(r.compared_to_peers) or "not_compared"
    median_note = "" if not is_missing(r.peer_median) else NO_MEDIAN_DA
    return [
        (1, label, "dp_text", ""),
        sheet.look(2, r.value, decimals, suppressed),
        sheet.look(3, r.ci95_low, decimals, suppressed),
        sheet.look(4, r.ci95_high, decimals, suppressed),
        sheet.look(5, r.peer_median, decimals, note=median_note),
        (6, COMPARISON_LABELS_DA.get(key, key), sheet.styles.comparison(key), ""),
        (7, sentence or None, "dp_wrap", ""),
    ]


def opportunity_da(name: str, ind: Any, r: Any) -> str:
    """'Hvis Aalborg lå på medianen for sine lignende kommuner: ca. 120 (95 %: 80–160) færre
    forebyggelige indlæggelser om året'; '' where the mart gives no opportunity."""
    gap, low, high = r.opportunity_events_per_year, r.opportunity_ci95_low, r.opportunity_ci95_high
    if is_missing(gap) or is_missing(low) or is_missing(high):
        return ""
    # here, not at the top: 'Om data' (about.py) imports PEERS_METHOD_DA from this module
    from datapakke.publish.workbook.about import MEASURE_NAMES_DA

    fewer = "færre" if gap > 0 else "flere"
    low, high = sorted((abs(float(low)), abs(float(high))))
    noun = MEASURE_NAMES_DA.get(as_text(ind.numerator_measure), "hændelser")
    return (
        f"Hvis {name} lå på medianen for sine lignende kommuner: ca. {about_da(abs(gap))} "
        f"(95 %: {about_da(low)}–{about_da(high)}) {fewer} {noun} om året"
    )


def about_da(value: float) -> str:
    """A number of events as a rounded Danish figure: whole numbers below 100, two significant
    digits from 100 ('523,6' → '520', '1.234' → '1.200'), since the interval is wide anyway."""
    value = float(value)
    if abs(value) >= 100:
        digits = len(str(int(abs(value)))) - 2
        value = round(value, -digits)
    return format_da(round(value), 0)
