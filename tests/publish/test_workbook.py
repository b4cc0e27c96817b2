"""The Excel pack, read back as a user's Excel would: sheets and links, numbers and formats,
'<5' with its note, no formulas from input text, the synthetic banner, print setup, document
properties, atomic writes, history rotation, and (with LibreOffice) the printed PDF."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from datapakke.config import AreaOutputs
from datapakke.presentation import (
    COMPARISON_COLOURS,
    COMPARISON_LABELS_DA,
    SYNTHETIC_BANNER_DA,
    TREND_LABELS_DA,
    excel_number_format,
)
from datapakke.publish.pack_data import AreaPackData, Member
from datapakke.publish.workbook import (
    about,
    build,
    data,
    fast_rows,
    indicator_sheet_names,
    publish_pack,
    values,
    write_pack,
)
from datapakke.schemas import AREA_VALUE_COLUMNS, ValueColumn
from tests.publish.pack_fixture import make_area_pack_data

# Text that Excel would evaluate if it were stored as a formula (or re-evaluate on edit).
HOSTILE_NAME = '=HYPERLINK("http://x","klik")'
HOSTILE_NOTES = ["+1", "-1+2", "@SUM(A1)", "=1+1", "#N/A"]
MISSING_NOTE = "Under 10 hændelser: raten vises ikke."
SUPPRESSED = "<5"  # the fixture's threshold is 5
MISSING = "–"
FIXED_SHEETS = [
    *("Forside", "Hovedpointer", "Nyt siden sidst", "Indhold", "Overblik"),
    "Lignende kommuner",
]
INVALID_SHEET_CHARS = set("[]:*?/\\")


def _png(path: Path, width: float = 6, height: float = 3) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=60)
    fig.add_subplot().plot([1, 2, 3], [3, 1, 2])
    fig.savefig(path)
    return path


def _hostile_pack(is_synthetic: bool = True) -> AreaPackData:
    """The fixture pack with formula-like text wherever input text reaches the workbook, and
    one value that is missing but not suppressed."""
    pack = make_area_pack_data(is_synthetic=is_synthetic)
    victim = pack.members[-1]
    pack.members = [*pack.members[:-1], Member(victim.code, HOSTILE_NAME, victim.is_partial)]
    values = pack.values.copy()
    values.loc[values["area_code"] == victim.code, "area_name"] = HOSTILE_NAME
    plain = values.index[~values["is_suppressed"] & (values["role"] == "member")]
    for i, note in zip(plain[:5], HOSTILE_NOTES, strict=True):
        values.loc[i, "value_note"] = note
    area_rows = values.index[(values["role"] == "area") & (values["sex"] == "T")]
    missing = area_rows[-1]  # the latest period of the last indicator
    values.loc[missing, ["value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"]] = np.nan
    values.loc[missing, "value_note"] = MISSING_NOTE
    pack.values = values
    catalogue = pack.catalogue.copy()
    catalogue.loc[0, "caveats_da"] = "=1+1"
    pack.catalogue = catalogue
    sources = pack.sources.copy()
    sources.loc[0, "title"] = "@cmd|' /C calc'!A0"
    pack.sources = sources
    pack.notes = [*pack.notes, "-2+3 er en note fra inddata"]
    return pack


def _small(pack: AreaPackData) -> AreaPackData:
    """Three indicators: enough for the tests that write many packs, and fast."""
    keep = pack.catalogue["indicator_id"].iloc[[0, 4, 12]]
    return dataclasses.replace(
        pack,
        catalogue=pack.catalogue[pack.catalogue["indicator_id"].isin(keep)],
        values=pack.values[pack.values["indicator_id"].isin(keep)],
    )


@pytest.fixture(scope="module")
def pack() -> AreaPackData:
    return _hostile_pack()


@pytest.fixture(scope="module")
def small_pack(pack: AreaPackData) -> AreaPackData:
    return _small(pack)


@pytest.fixture(scope="module")
def charts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("charts")
    first = make_area_pack_data().catalogue["indicator_id"].iloc[0]
    return {
        "overview": _png(folder / "overview.png", 10, 6),
        "map": _png(folder / "map.png", 7, 6.5),
        "pyramid": _png(folder / "pyramid.png", 7, 5),
        f"indicator_{first}": _png(folder / "indicator.png", 11, 5),
        "indicator_mortality_asr_per_100000": folder / "not-drawn.png",  # missing: skipped
    }


@pytest.fixture(scope="module")
def written(
    pack: AreaPackData, charts: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return write_pack(
        pack,
        charts,
        tmp_path_factory.mktemp("pack") / f"datapakke-{pack.grouping}-{pack.area_id}.xlsx",
    )


@pytest.fixture(scope="module")
def wb(written: Path) -> Workbook:
    return load_workbook(written)


def _cells(ws):
    for row in ws.iter_rows():
        yield from row


def _find(ws, value: object):
    return [c for c in _cells(ws) if c.value == value]


def _indicator_sheets(pack: AreaPackData) -> list[str]:
    names = indicator_sheet_names(pack.catalogue)
    return list(names.values())


# --------------------------------------------------------------------------- structure


def test_sheets_in_order(wb: Workbook, pack: AreaPackData) -> None:
    expected = [*FIXED_SHEETS, *_indicator_sheets(pack), "Datastatus", "Om data", "Data"]
    assert wb.sheetnames == expected
    assert len(expected) == 9 + len(pack.catalogue)


def test_indicator_sheets_follow_theme_order(wb: Workbook, pack: AreaPackData) -> None:
    from datapakke.presentation import THEME_ORDER

    names = indicator_sheet_names(pack.catalogue)
    theme_of = dict(zip(pack.catalogue["indicator_id"], pack.catalogue["theme"], strict=True))
    ranks = [THEME_ORDER.index(theme_of[ind]) for ind in names]
    assert ranks == sorted(ranks)


def test_sheet_names_are_valid_short_and_unique(wb: Workbook) -> None:
    seen: set[str] = set()
    for name in wb.sheetnames:
        assert 1 <= len(name) <= 31, name
        assert not INVALID_SHEET_CHARS & set(name), name
        assert not name.startswith("'") and not name.endswith("'"), name
        assert name.casefold() not in seen, name
        seen.add(name.casefold())
    assert "Forebyggelige indl. 65+" in wb.sheetnames


def test_sheet_names_from_awkward_titles() -> None:
    catalogue = pd.DataFrame(
        {
            "indicator_id": ["a_65plus", "b", "c", "d", "e"],
            "order": [0, 1, 2, 3, 4],
            "theme": ["Ældre", "Ældre", "Ældre", "Psykiatri", "Psykiatri"],
            "title_da": [
                "Forebyggelige indlæggelser blandt ældre",
                "Data",  # clashes with a fixed sheet
                "Brug af [tjenester]: hvem/hvad? *alle* \\ og 'andre'",
                "En meget lang titel uden nogen af de ord der kan forkortes i øvrigt",
                "En meget lang titel uden nogen af de ord der kan forkortes i øvrigt",
            ],
        }
    )
    names = indicator_sheet_names(catalogue)
    assert names["a_65plus"] == "Forebyggelige indl. 65+"
    assert names["b"] != "Data"
    assert len({n.casefold() for n in names.values()}) == 5
    for name in names.values():
        assert 1 <= len(name) <= 31 and not INVALID_SHEET_CHARS & set(name), name


def test_contents_links_reach_every_sheet(wb: Workbook) -> None:
    targets = set()
    for cell in _cells(wb["Indhold"]):
        if cell.hyperlink is not None:
            sheet = _link_sheet(cell.hyperlink.location)
            assert sheet in wb.sheetnames, cell.hyperlink.location
            assert cell.font.u == "single"  # styled as a link
            targets.add(sheet)
    assert targets == set(wb.sheetnames) - {"Indhold"}


def test_every_indicator_sheet_links_back(wb: Workbook, pack: AreaPackData) -> None:
    for name in [*_indicator_sheets(pack), "Overblik", "Om data"]:
        links = [c for c in _cells(wb[name]) if c.hyperlink is not None]
        back = [c for c in links if _link_sheet(c.hyperlink.location) == "Indhold"]
        assert back and "Til indhold" in back[0].value, name


def _link_sheet(location: str) -> str:
    match = re.fullmatch(r"'((?:[^']|'')+)'!A1", location or "")
    assert match, location
    return match.group(1).replace("''", "'")


# --------------------------------------------------------------------------- numbers


def test_overview_values_formats_and_colours(wb: Workbook, pack: AreaPackData) -> None:
    ws = wb["Overblik"]
    header = next(r for r in ws.iter_rows(values_only=True) if r[0] == "Indikator")
    ind = pack.catalogue.iloc[4]  # an indicator with a judgement (preventable admissions)
    row = next(c.row for c in _cells(ws) if c.value == ind.title_da and c.column == 1)
    latest = pack.values.loc[pack.values["indicator_id"] == ind.indicator_id, "period"].max()
    v = pack.values
    v = v[(v["indicator_id"] == ind.indicator_id) & (v["sex"] == "T") & (v["period"] == latest)]
    checked = 0
    for r in v.itertuples():
        label = r.area_name + (" (delvis)" if r.area_code == "101" else "")
        cell = ws.cell(row=row, column=header.index(label) + 1)
        if r.is_suppressed:
            assert cell.value == SUPPRESSED
            continue
        assert cell.value == pytest.approx(r.value)
        # the format may carry the trend arrow after the number (the cell holds the number)
        assert cell.number_format.startswith(excel_number_format(int(ind.decimals)))
        key = r.compared_to_national if r.role != "country" else None  # one verdict: Denmark
        if key:
            assert cell.fill.fgColor.rgb[-6:] == COMPARISON_COLOURS[key].lstrip("#").upper()
        checked += 1
    assert checked >= 4
    legend = {c.value for c in _cells(ws) if c.row < 6}
    assert set(COMPARISON_LABELS_DA.values()) <= legend


def test_indicator_sheet_tables(wb: Workbook, pack: AreaPackData) -> None:
    ind = pack.catalogue.set_index("indicator_id").loc["preventable_admissions_65plus_per_1000"]
    ws = wb["Forebyggelige indl. 65+"]
    texts = {c.value for c in _cells(ws) if isinstance(c.value, str)}
    for expected in ("Definition", "Enhed", "Metode", "Retning", "Kilde", "Forbehold"):
        assert expected in texts
    assert ind.definition_da in texts and "Lavere er bedre." in texts
    assert {"I alt", "Mænd", "Kvinder", "95 % nedre", "99,8 % øvre"} <= texts
    assert texts & set(TREND_LABELS_DA.values())
    assert texts & {COMPARISON_LABELS_DA[k] for k in ("better", "similar", "worse")}
    numbers = [c for c in _cells(ws) if isinstance(c.value, float)]
    value_formats = {c.number_format for c in numbers}
    assert excel_number_format(int(ind.decimals)) in value_formats
    assert value_formats <= {excel_number_format(0), excel_number_format(int(ind.decimals))}
    assert not any("%" in c.number_format for c in numbers)  # percent values are plain numbers


def test_data_sheet_is_the_long_table(wb: Workbook, pack: AreaPackData) -> None:
    ws = wb["Data"]
    rows = list(ws.iter_rows(values_only=True))
    header = list(rows[1])
    assert header[:3] == ["Indikator", "Indikator-id", "Enhed"] and "Værdi" in header
    assert len(rows) == 2 + len(pack.values)
    assert ws.auto_filter.ref == f"A2:{ws.cell(row=2, column=len(header)).column_letter}{len(rows)}"
    assert ws.freeze_panes == "B3" and ws.print_title_rows == "$2:$2"
    value_col = header.index("Værdi")
    body = pd.DataFrame(rows[2:], columns=header)
    total = body[(body["Indikator-id"] == "population_total") & (body["Niveau"] == "Hele landet")]
    v = pack.values
    source = v[(v["indicator_id"] == "population_total") & (v["role"] == "country")]
    assert sorted(total["Værdi"]) == sorted(source["value"])  # exact: full precision kept
    cell = ws.cell(row=3, column=value_col + 1)
    assert cell.number_format == excel_number_format(0)


def test_suppressed_cells_show_text_with_a_note(wb: Workbook, pack: AreaPackData) -> None:
    assert pack.values["is_suppressed"].any()
    sheets_with_suppression = 0
    for ws in wb.worksheets:
        suppressed = [c for c in _cells(ws) if c.value == SUPPRESSED]
        if not suppressed:
            continue
        sheets_with_suppression += 1
        assert all(c.data_type == "s" and c.alignment.horizontal == "right" for c in suppressed)
        notes = [c.comment.text for c in suppressed if c.comment is not None]
        assert any("færre end 5 hændelser" in n for n in notes), ws.title
        legend = [
            c.value for c in _cells(ws) if isinstance(c.value, str) and "skjult af" in c.value
        ]
        assert legend, ws.title
    assert sheets_with_suppression > 10
    data = wb["Data"]
    header = [c.value for c in data[2]]
    for row in data.iter_rows(min_row=3, values_only=True):
        if row[header.index("Skjult")] == "Ja":
            assert row[header.index("Værdi")] == SUPPRESSED
            assert row[header.index("Tæller")] == SUPPRESSED
            assert row[header.index("95 % nedre")] == SUPPRESSED


def test_a_suppressed_row_shows_the_counts_the_mart_keeps(tmp_path: Path) -> None:
    # The mart withholds the small count and what is computed from it, and may keep the other:
    # men, numerator 25 kept and denominator withheld; women, the other way round.
    pack = make_area_pack_data()
    keep = ["psychiatric_readmissions_30d_pct", "population_total"]
    values = pack.values[pack.values["indicator_id"].isin(keep)].copy()
    member = next(m for m in pack.members if not m.is_partial)  # shown by its plain name
    estimates = ["value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"]
    for sex, numerator, denominator in (("M", 25.0, np.nan), ("K", np.nan, 120.0)):
        at = (
            (values["indicator_id"] == keep[0])
            & (values["area_code"] == member.code)
            & (values["period"] == "2025")
            & (values["sex"] == sex)
        )
        values.loc[at, ["numerator", "denominator"]] = [numerator, denominator]
        values.loc[at, estimates] = np.nan
        values.loc[at, "is_suppressed"] = True
        values.loc[at, "value_note"] = "Skjult af diskretionshensyn (<5)."
    catalogue = pack.catalogue[pack.catalogue["indicator_id"].isin(keep)]
    pack = dataclasses.replace(pack, values=values, catalogue=catalogue)
    wb = load_workbook(write_pack(pack, {}, tmp_path / "pack.xlsx"))

    data = wb["Data"]
    header = [c.value for c in data[2]]
    shown = {
        row[header.index("Køn")]: row
        for row in data.iter_rows(min_row=3, values_only=True)
        if row[header.index("Indikator-id")] == keep[0]
        and row[header.index("Kode")] == member.code
        and row[header.index("Periode")] == "2025"
    }
    men, women = shown["Mænd"], shown["Kvinder"]
    assert men[header.index("Tæller")] == 25 and men[header.index("Nævner")] == SUPPRESSED
    assert women[header.index("Tæller")] == SUPPRESSED and women[header.index("Nævner")] == 120
    for row in (men, women):
        assert row[header.index("Værdi")] == SUPPRESSED
        assert row[header.index("99,8 % øvre")] == SUPPRESSED

    sheet = wb[indicator_sheet_names(catalogue)[keep[0]]]
    rows = list(sheet.iter_rows(values_only=True))
    bands = {row[0]: i for i, row in enumerate(rows) if row[0] in ("Mænd", "Kvinder")}
    for band, numerator, denominator in (("Mænd", 25, SUPPRESSED), ("Kvinder", SUPPRESSED, 120)):
        row = next(r for r in rows[bands[band] :] if r[1] == member.name)
        assert row[2:5] == (numerator, denominator, SUPPRESSED), band
        assert row[5:9] == (SUPPRESSED,) * 4, band


def test_missing_value_shows_dash_with_its_note(wb: Workbook, pack: AreaPackData) -> None:
    noted = [c for ws in wb.worksheets for c in _cells(ws) if c.comment is not None]
    dashes = [c for c in noted if c.value == MISSING]
    assert any(c.comment.text == MISSING_NOTE for c in dashes)
    data = wb["Data"]
    header = [c.value for c in data[2]]
    row = next(r for r in data.iter_rows(min_row=3, values_only=True) if r[-1] == MISSING_NOTE)
    assert row[header.index("Værdi")] == MISSING


def test_no_formula_anywhere_and_input_text_kept_as_text(wb: Workbook) -> None:
    hostile = [HOSTILE_NAME, *HOSTILE_NOTES, "@cmd|' /C calc'!A0", "-2+3 er en note fra inddata"]
    found: dict[str, int] = dict.fromkeys(hostile, 0)
    for ws in wb.worksheets:
        for cell in _cells(ws):
            where = f"{ws.title}!{cell.coordinate}: {cell.value!r}"
            assert cell.data_type != "f", where
            if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                assert cell.data_type == "s" and cell.quotePrefix, where
            for text in hostile:
                if isinstance(cell.value, str) and cell.value.startswith(text):
                    found[text] += 1
    assert all(found.values()), found


def test_declared_dimension_covers_every_row_and_column(
    written: Path, wb: Workbook, pack: AreaPackData
) -> None:
    # Streaming readers (openpyxl's read-only mode) stop at the sheet's declared <dimension>.
    streamed = load_workbook(written, read_only=True)
    for ws in wb.worksheets:
        stream = streamed[ws.title]
        assert (stream.max_row, stream.max_column) == (ws.max_row, ws.max_column), ws.title
        assert len(list(stream.iter_rows(values_only=True))) == ws.max_row, ws.title
    assert streamed["Data"].max_row == 2 + len(pack.values)  # legend, header, every value
    streamed.close()


def test_fast_rows_widen_the_dimension_openpyxl_wrote() -> None:
    # openpyxl writes '<dimension ref="…" />' (a space before '/>') for its own cells only.
    rows = fast_rows.FastRows(SimpleNamespace(title="Data"), None)
    rows.rows = {3: '<row r="3"><c r="A3"/></row>', 9: '<row r="9"><c r="C9"/></row>'}
    rows.last_col = 3
    xml = (
        '<worksheet><dimension ref="A1:B2" /><sheetData><row r="1"><c r="A1"/></row>'
        "</sheetData></worksheet>"
    )
    merged = rows.merge_into(xml)
    assert '<dimension ref="A1:C9"/>' in merged and 'ref="A1:B2"' not in merged
    assert merged.index('r="1"') < merged.index('r="3"') < merged.index('r="9"')


def test_no_formula_in_the_raw_xml(written: Path) -> None:
    with zipfile.ZipFile(written) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)


def test_safe_values() -> None:
    assert values.safe_value("=1+1") == ("=1+1", True)
    assert values.safe_value("a\x00b\x1fc") == ("abc", False)
    assert values.safe_value(float("nan")) == (None, False)
    assert values.safe_value(np.float64(np.inf)) == (None, False)
    assert values.safe_value(np.int64(7)) == (7.0, False)
    assert values.safe_value(pd.NA) == (None, False)
    assert values.safe_value(3) == (3, False)


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_suppressed_text_follows_the_threshold(
    small_pack: AreaPackData, tmp_path: Path, threshold: int
) -> None:
    pack = dataclasses.replace(small_pack, suppression_threshold=threshold)
    wb = load_workbook(write_pack(pack, {}, tmp_path / "pack.xlsx"))
    shown = f"<{threshold}"
    suppressed = [c for ws in wb.worksheets for c in _cells(ws) if c.value == shown]
    assert len(suppressed) > 10
    notes = {c.comment.text for c in suppressed if c.comment is not None}
    assert notes and all(f"færre end {threshold} hændelser" in note for note in notes)
    texts = [c.value for ws in wb.worksheets for c in _cells(ws) if isinstance(c.value, str)]
    assert any(t.startswith(f"'{shown}' = skjult af diskretionshensyn") for t in texts)
    assert any(t.startswith(f"'{shown}' betyder, at tallet er skjult") for t in texts)
    rule = f"et antal fra 1 til {threshold - 1} skjules og vises som '{shown}'"
    assert any(rule in t for t in texts)
    for other in {3, 5, 10} - {threshold}:
        assert f"<{other}" not in texts  # in no cell
        assert f"'<{other}'" not in " ".join(texts)  # in no legend or explanation


def test_data_sheet_has_every_contract_column(wb: Workbook) -> None:
    header = [c.value for c in wb["Data"][2]]
    assert len(header) == len(AREA_VALUE_COLUMNS) + 2  # and the catalogue's title and unit
    assert len(set(header)) == len(header)
    assert header[:3] == ["Indikator", "Indikator-id", "Enhed"]
    assert header[-3:] == ["Skjult", "Datagrundlag", "Note"]


def test_data_sheet_refuses_a_contract_it_does_not_know(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = ValueColumn("new_measure", "value", "a column added to the area mart")
    monkeypatch.setattr(data, "AREA_VALUE", (*data.AREA_VALUE, extra))
    with pytest.raises(RuntimeError, match="no header for \\['new_measure'\\]"):
        data.data_columns.__wrapped__()


# --------------------------------------------------------------------------- front page, about


def test_front_page_opens_with_the_key_findings_and_a_contact(
    wb: Workbook, pack: AreaPackData
) -> None:
    from datapakke.publish.key_findings import headline, key_findings

    front = wb["Forside"]
    column_b = [front.cell(row=r, column=2).value for r in range(1, front.max_row + 1)]
    first = headline(key_findings(pack))
    assert len(first) == 3
    at = column_b.index(first[0])
    assert column_b[at : at + 3] == first
    labels = [front.cell(row=r, column=1).value for r in range(1, front.max_row + 1)]
    assert labels.index("Hovedpointer") < labels.index("Kommuner")  # read before the facts
    assert "Kontakt" in labels and "Kodeversion" not in labels
    guide = labels.index("Sådan læser du datapakken") + 1  # its heading's row
    breaks = {b.id for b in front.row_breaks.brk}
    assert not breaks & set(range(guide, guide + 4))  # never split over two printed pages
    assert labels.index("→ Indhold") < guide  # the way on is on the first page
    about_text = " ".join(str(c.value) for c in _cells(wb["Om data"]) if c.value)
    assert f"kodeversion {pack.code_version}" in about_text


def test_synthetic_banner_on_top_of_the_first_page(wb: Workbook, pack: AreaPackData) -> None:
    front = wb["Forside"]
    assert front["A1"].value == SYNTHETIC_BANNER_DA
    assert front["A1"].border.top.style == "thick" and front["A1"].border.top.color.rgb.endswith(
        "C00000"
    )
    assert "A1:B1" in {str(r) for r in front.merged_cells.ranges}
    texts = [c.value for c in _cells(front) if isinstance(c.value, str)]
    assert pack.area_name in texts and pack.grouping_title in " ".join(texts)
    assert any("(delvis)" in t for t in texts)
    assert any(t.startswith("Bekræftet") for t in texts)  # membership status in words
    assert any(t.startswith("2019–2025") for t in texts)
    assert "22. november 2026 kl. 03.30" in texts  # 02:30 UTC is 03:30 in Copenhagen
    assert "Sådan læser du datapakken" in texts
    for ws in wb.worksheets:
        assert "SYNTETISKE DATA" in ws.oddHeader.right.text


def test_real_pack_has_no_banner(tmp_path: Path) -> None:
    pack = _small(make_area_pack_data(is_synthetic=False))
    path = write_pack(pack, {}, tmp_path / "real.xlsx")
    wb = load_workbook(path, read_only=False)
    front = wb["Forside"]
    assert front["A1"].value == pack.area_name
    assert SYNTHETIC_BANNER_DA not in {c.value for c in _cells(front)}
    assert not (wb["Overblik"].oddHeader.right.text or "")
    assert "syntetisk" not in (wb.properties.description or "").lower()
    status = next(c for c in _cells(front) if c.value == "Datastatus")
    assert front.cell(row=status.row, column=2).value.startswith("Rigtige data")


def test_about_sheet_from_catalogue_and_sources(wb: Workbook, pack: AreaPackData) -> None:
    ws = wb["Om data"]
    texts = " ".join(str(c.value) for c in _cells(ws) if c.value is not None)
    for ind in pack.catalogue.itertuples():
        assert ind.title_da in texts and ind.definition_da in texts
    for phrase in (
        "Wilson",
        "Byar",
        "eksakt Poisson",
        "Europas standardbefolkning 2013",
        "Dobson",
        "Spørgeskemaestimat",
        "Sekundær diskretion",
        "99,8 %",
    ):
        assert phrase in texts, phrase
    assert "arket 'Datastatus'" in texts


def test_data_status_sheet_lists_every_source_with_checksum(
    wb: Workbook, pack: AreaPackData
) -> None:
    ws = wb["Datastatus"]
    src = pack.sources.iloc[0]
    sha = _find(ws, src["sha256"])
    assert sha, "sha256 missing"
    row = [ws.cell(row=sha[0].row, column=c).value for c in range(1, 13)]
    assert row[1] == "Syntetiske data" and row[2] == src["file"]
    assert row[3] == "2015K1–2025K4, 44 perioder"
    assert row[4] == f"alle {len(pack.members)}"
    assert row[5:9] == [src["rows_read"], src["rows"], 0, src["rows_skipped"]]


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("/work/main/data/raw/sample/statbank/FOLK1A.csv", "sample/statbank/FOLK1A.csv"),
        ("/srv/datapakker/data/raw/esundhed/aeldre-2025.xlsx", "esundhed/aeldre-2025.xlsx"),
        ("C:\\Data\\raw\\sundhedsprofil\\profil.csv", "sundhedsprofil/profil.csv"),
        ("/mnt/drop/FOLK1A.csv", "FOLK1A.csv"),  # no raw folder to count from: the name
        ("sample/statbank/FOLK1A.csv", "sample/statbank/FOLK1A.csv"),  # already relative
    ],
)
def test_source_files_are_shown_under_the_raw_folder(stored: str, shown: str) -> None:
    assert about.source_file_da(stored) == shown


def test_about_sheet_shows_no_server_path_and_no_measure_id(
    small_pack: AreaPackData, tmp_path: Path
) -> None:
    sources = small_pack.sources.copy()
    sources.loc[0, "file"] = "/work/main/data/raw/sample/statbank/FOLK1A.csv"
    pack = dataclasses.replace(small_pack, sources=sources)
    book = load_workbook(write_pack(pack, {}, tmp_path / "pack.xlsx"))
    assert "sample/statbank/FOLK1A.csv" in [c.value for c in _cells(book["Datastatus"])]
    ws = book["Om data"]
    texts = [c.value for c in _cells(ws) if isinstance(c.value, str)]
    assert not [t for t in texts if "/work/" in t]
    measures = set(pack.catalogue["numerator_measure"]) | set(
        pack.catalogue["denominator_measure"].dropna()
    )
    for text in texts:
        for measure in measures:
            assert not re.search(rf"(?<![\w-]){measure}(?![\w-])", text), (measure, text)


def test_about_sheet_names_every_catalogue_measure_in_danish(wb: Workbook) -> None:
    ws = wb["Om data"]
    fields = {
        ws.cell(row=c.row, column=2).value
        for c in _cells(ws)
        if c.column == 1 and c.value in ("Tæller", "Nævner")
    }
    assert "forebyggelige indlæggelser (65 år og derover)" in fields
    # The population basis is named and explained: 1 January for shares, middelfolketal for
    # events during the year.
    assert any(f.startswith("folketal 1. januar (65 år og derover). Nævneren") for f in fields)
    assert any(f.startswith("middelfolketal (65 år og derover). Nævneren") for f in fields)
    assert "psykiatriske genindlæggelser inden for 30 dage (alle aldre)" in fields
    assert "udskrivninger fra psykiatrien (alle aldre)" in fields
    assert not [f for f in fields if "_" in f or "se definitionen" in f]


def test_document_properties(wb: Workbook, pack: AreaPackData) -> None:
    props = wb.properties
    assert props.creator == "Datapakker"
    assert pack.area_name in props.title and pack.grouping_title in props.subject
    assert pack.area_id in props.keywords and "syntetiske data" in props.keywords
    assert "SYNTETISKE DATA" in props.description
    assert props.created == pack.built_at


# --------------------------------------------------------------------------- print


def test_print_setup_on_every_sheet(wb: Workbook) -> None:
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth == 1 and ws.page_setup.fitToHeight == 0, ws.title
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
        assert "Sundhedsklynge Byen" in ws.oddHeader.left.text
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes, ws.title


def test_charts_placed_and_missing_ones_skipped(wb: Workbook, pack: AreaPackData) -> None:
    first = indicator_sheet_names(pack.catalogue)[pack.catalogue["indicator_id"].iloc[0]]
    with_images = {ws.title for ws in wb.worksheets if ws._images}
    assert with_images == {"Forside", "Overblik", first}
    assert len(wb["Overblik"]._images) == 2  # the overview chart, then the map
    for title in with_images:  # below everything else, on a page of its own
        ws = wb[title]
        anchor_row = ws._images[0].anchor._from.row + 1
        assert all(c.row < anchor_row for c in _cells(ws) if c.value is not None), title
        assert anchor_row - 1 in {b.id for b in ws.row_breaks.brk}, title


def test_big_pack_prints_overview_over_several_pages() -> None:
    pack = make_area_pack_data("region", "syddanmark")  # 22 members
    overview = build.build(pack, {}).wb["Overblik"]  # in memory: no need to save it
    header = next(r for r in overview.iter_rows(values_only=True) if r[0] == "Indikator")
    assert header.count(pack.area_name) == 1  # the region is the area: shown once
    assert overview.page_setup.fitToWidth > 1 and overview.print_title_cols == "$A:$A"
    assert overview.page_setup.pageOrder == "overThenDown"
    assert len(overview.row_breaks.brk) >= 1  # breaks between themes, header repeated
    assert sum(1 for r in overview.iter_rows(values_only=True) if r[0] == "Indikator") >= 2
    # column A is printed again on every page: nothing in it may run over into column B
    width_a = overview.column_dimensions["A"].width
    assert not [str(m) for m in overview.merged_cells.ranges if m.min_col == 1 < m.max_col]
    for row in range(1, 6):  # the title, the introduction (wrapped) and the legends' labels
        text = str(overview.cell(row, 1).value or "")
        wraps = overview.cell(row, 1).alignment.wrap_text
        assert wraps or len(text) * (16 / 11 if row == 1 else 1) <= width_a, text


# --------------------------------------------------------------------------- writing safely


def test_atomic_write_keeps_the_previous_file(
    small_pack: AreaPackData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pack.xlsx"
    write_pack(small_pack, {}, path)
    before = path.read_bytes()
    writestr = zipfile.ZipFile.writestr
    calls = {"n": 0}

    def failing_writestr(self: zipfile.ZipFile, *args: object, **kwargs: object) -> None:
        if ".tmp-" in str(self.filename):  # the new file, beside the old one
            calls["n"] += 1
            if calls["n"] == 6:  # some parts are already written
                assert Path(str(self.filename)).stat().st_size > 0
                raise OSError("disk full")
        writestr(self, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(OSError, match="disk full"):
        write_pack(small_pack, {}, path)
    assert calls["n"] == 6
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]


def test_write_leaves_no_temporary_file(small_pack: AreaPackData, tmp_path: Path) -> None:
    write_pack(small_pack, {}, tmp_path / "pack.xlsx")
    write_pack(small_pack, {}, tmp_path / "pack.xlsx")  # over an existing pack too
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]


def test_failing_save_keeps_the_previous_pack(
    small_pack: AreaPackData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_pack(small_pack, {}, tmp_path / "pack.xlsx")
    before = path.read_bytes()

    def half_save(self: fast_rows.Built, target: Path) -> None:
        target.write_bytes(b"PK\x03\x04 half a zip")
        raise OSError("killed while saving")

    monkeypatch.setattr(fast_rows.Built, "save", half_save)
    changed = dataclasses.replace(small_pack, area_name="Et andet navn")
    with pytest.raises(OSError, match="killed while saving"):
        write_pack(changed, {}, path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pack.xlsx"]


def test_failure_while_building_leaves_no_trace(
    small_pack: AreaPackData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(about, "write", _boom)
    with pytest.raises(RuntimeError):
        write_pack(small_pack, {}, tmp_path / "new.xlsx")
    assert list(tmp_path.iterdir()) == []


def _boom(*args: object) -> None:
    raise RuntimeError("catalogue broke")


def _with_time(pack: AreaPackData, moment: datetime) -> AreaPackData:
    return dataclasses.replace(pack, built_at=moment)


def _outputs(marts: Path, pack: AreaPackData) -> AreaOutputs:
    return AreaOutputs(marts, pack.grouping, pack.area_id)


def test_history_rotation(
    small_pack: AreaPackData, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = _outputs(tmp_path, small_pack)
    folder = tmp_path / small_pack.grouping / small_pack.area_id
    start = datetime(2026, 11, 1, 2, 30)
    builds = [start + timedelta(days=i) for i in range(5)]
    for moment in builds:
        latest = publish_pack(_with_time(small_pack, moment), {}, outputs, history_keep=2)
    assert latest == folder / f"datapakke-{small_pack.grouping}-{small_pack.area_id}.xlsx"
    assert load_workbook(latest, read_only=True).properties.created == builds[-1]
    (folder / "history" / "notes.txt").write_text("not a pack: never pruned")
    publish_pack(_with_time(small_pack, builds[-1]), {}, outputs, history_keep=2)
    history = sorted(p.name for p in (folder / "history").iterdir())
    stamped = [
        f"datapakke-{small_pack.grouping}-{small_pack.area_id}-{m:%Y%m%dT%H%M%S}.xlsx"
        for m in builds[3:]
    ]
    assert history == [*stamped, "notes.txt"]
    for name, moment in zip(stamped, builds[3:], strict=True):
        created = load_workbook(folder / "history" / name, read_only=True).properties.created
        assert created == moment  # each history file is the pack built at its stamp

    # A failed build changes nothing: neither the latest pack nor the history.
    snapshot = {p: p.read_bytes() for p in tmp_path.rglob("*.xlsx")}
    monkeypatch.setattr(data, "write", _boom)
    with pytest.raises(RuntimeError):
        publish_pack(_with_time(small_pack, start + timedelta(days=9)), {}, outputs, history_keep=2)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.xlsx")} == snapshot
    assert not [p for p in tmp_path.rglob("*") if ".tmp-" in p.name]


def test_history_names_stay_unique(small_pack: AreaPackData, tmp_path: Path) -> None:
    same = _with_time(small_pack, datetime(2026, 11, 1, 2, 30))
    for _ in range(3):
        publish_pack(same, {}, _outputs(tmp_path, same), history_keep=10)
    history = tmp_path / small_pack.grouping / small_pack.area_id / "history"
    assert sorted(p.name for p in history.iterdir()) == [
        f"datapakke-{small_pack.grouping}-{small_pack.area_id}-20261101T023000.xlsx",
        f"datapakke-{small_pack.grouping}-{small_pack.area_id}-20261101T023001.xlsx",
    ]


def test_history_keep_zero_keeps_none(small_pack: AreaPackData, tmp_path: Path) -> None:
    for day in (1, 2):
        pack = _with_time(small_pack, datetime(2026, 11, day))
        publish_pack(pack, {}, _outputs(tmp_path, pack), history_keep=0)
    history = tmp_path / small_pack.grouping / small_pack.area_id / "history"
    assert not history.exists() or not list(history.glob("*.xlsx"))


def test_publish_refuses_another_areas_folder(small_pack: AreaPackData, tmp_path: Path) -> None:
    elsewhere = AreaOutputs(tmp_path, "region", "nordjylland")
    with pytest.raises(ValueError, match="region/nordjylland"):
        publish_pack(small_pack, {}, elsewhere, history_keep=2)
    assert list(tmp_path.iterdir()) == []


def test_import_stays_light() -> None:
    heavy = "{'openpyxl', 'matplotlib'}"
    code = f"import sys, datapakke.publish.workbook; print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- printed (LibreOffice)


@pytest.mark.libreoffice
def test_pdf_from_libreoffice(written: Path, pack: AreaPackData, tmp_path: Path) -> None:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        pytest.skip("LibreOffice (soffice) is not on PATH: install libreoffice-calc-nogui")
    profile = tmp_path / "profile"
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(written),
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env=env,
    )
    pdf = tmp_path / f"{written.stem}.pdf"
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    n_indicators = len(pack.catalogue)
    # Front, contents, overview, one or two pages per indicator, about, the long data table.
    assert n_indicators + 5 < pages < 40 * n_indicators, pages
    if shutil.which("pdfimages"):
        listing = subprocess.run(
            ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        assert len(listing) >= 3  # overview, pyramid and one indicator chart
    else:
        assert len(re.findall(rb"/Subtype\s*/Image", data)) >= 3


def test_same_pack_same_bytes(small_pack: AreaPackData, tmp_path: Path) -> None:
    first = write_pack(small_pack, {}, tmp_path / "a.xlsx").read_bytes()
    second = write_pack(small_pack, {}, tmp_path / "b.xlsx").read_bytes()
    assert first == second  # reproducible: zip times and document times are the build time


def test_pack_without_values_or_sources_still_reads(
    small_pack: AreaPackData, tmp_path: Path
) -> None:
    empty = dataclasses.replace(
        small_pack, values=small_pack.values.iloc[0:0], sources=small_pack.sources.iloc[0:0]
    )
    wb = load_workbook(write_pack(empty, {}, tmp_path / "empty.xlsx"))
    assert wb.sheetnames[-1] == "Data" and wb["Data"].max_row == 2
    texts = {c.value for ws in wb.worksheets for c in _cells(ws)}
    assert "Der er ingen tal for denne indikator i datapakken." in texts
    assert "Ingen data" in texts  # the data period on the front page
