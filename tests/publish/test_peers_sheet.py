"""The "Lignende kommuner" sheet on the pack fixture, and the peer tables of the area marts on
the sample build (members only, with names, and packs from older marts still load)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import duckdb
import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from datapakke.geography import default_geography
from datapakke.presentation import COMPARISON_LABELS_DA, suppressed_text
from datapakke.publish.area_mart import (
    area_tables,
    load_area_pack_data,
    load_published,
    write_area_mart,
)
from datapakke.publish.pack_data import (
    PEER_COMPARISON_COLUMNS,
    PEER_GROUP_COLUMNS,
    AreaPackData,
)
from datapakke.publish.workbook import peers
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.fast_rows import Built
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.styles import Styles
from tests.publish.pack_fixture import make_area_pack_data
from tests.publish.sample_build import built_warehouse

GEO = default_geography()
SHEET = "Lignende kommuner"


def _write(pack: AreaPackData, path: Path):
    """The sheet alone in a workbook, saved through the pack's writer and read back."""
    wb = Workbook()
    styles = Styles(wb)
    ctx = Context.of(pack)
    wb.active.title = SHEET
    sheet = Sheet(wb.active, styles, pack.suppression_threshold)
    peers.write(sheet, ctx)
    sheet.finish()
    Built(wb, [sheet.fast], (2026, 1, 1, 0, 0, 0)).save(path)
    return load_workbook(path)[SHEET], ctx


@pytest.fixture(scope="module")
def pack() -> AreaPackData:
    return make_area_pack_data()


@pytest.fixture(scope="module")
def written(pack: AreaPackData, tmp_path_factory: pytest.TempPathFactory):
    return _write(pack, tmp_path_factory.mktemp("peers") / "peers.xlsx")


def _rows(ws) -> list[tuple]:
    return list(ws.iter_rows(values_only=True))


def test_title_intro_and_the_five_peers_of_every_member(written, pack: AreaPackData) -> None:
    ws, _ = written
    rows = _rows(ws)
    assert rows[0][0] == f"{SHEET} – {pack.area_name}"
    assert "Om data" in rows[2][0]
    names = [r[0] for r in rows]
    for member in pack.members:
        label = f"{member.name} (delvis)" if member.is_partial else member.name
        at = names.index(label)
        group = pack.peer_group[pack.peer_group["municipality_code"] == member.code]
        group = group.sort_values("rank")
        own = rows[at]
        assert own[2:5] == pytest.approx(
            (group["share_65plus_pct"].iloc[0], group["share_80plus_pct"].iloc[0],
             group["population"].iloc[0])
        )  # fmt: skip
        for offset, peer in enumerate(group.itertuples(), start=1):
            cells = rows[at + offset]
            assert cells[0] == peer.peer_name and cells[1] == peer.rank
            assert cells[2:6] == pytest.approx(
                (peer.peer_share_65plus_pct, peer.peer_share_80plus_pct, peer.peer_population,
                 peer.distance)
            )  # fmt: skip
    year = pack.peer_group["basis_year"].iloc[0]
    assert any(f"folketal 1. januar {year}" in str(r[0]) for r in rows)


def test_indicators_with_an_interval_are_compared_and_link_to_their_sheet(
    written, pack: AreaPackData
) -> None:
    ws, ctx = written
    links = {c.value: c.hyperlink.location for c in ws["A"] if c.hyperlink is not None}
    for ind in pack.catalogue.itertuples():
        if ind.interval == "none":
            assert ind.title_da not in links  # population counts and shares: not compared
            continue
        sheet_name = ctx.sheet_names[ind.indicator_id]
        assert links[ind.title_da] == "'{}'!A1".format(sheet_name.replace("'", "''"))


def _member_row(ws, pack: AreaPackData, indicator_id: str, code: str) -> tuple:
    """The values of one member's row under one indicator's band."""
    title = pack.catalogue.set_index("indicator_id").loc[indicator_id, "title_da"]
    rows = _rows(ws)
    band = next(i for i, r in enumerate(rows) if r[0] == title)
    member = next(m for m in pack.members if m.code == code)
    label = f"{member.name} (delvis)" if member.is_partial else member.name
    for r in rows[band + 1 :]:
        if r[0] == label:
            return r
    raise AssertionError(f"{label} not under {title}")


def test_values_medians_comparisons_and_only_significant_sentences(
    written, pack: AreaPackData
) -> None:
    ws, _ = written
    intervals = pack.catalogue.set_index("indicator_id")["interval"]
    placeholder = suppressed_text(pack.suppression_threshold)
    checked = 0
    for r in pack.peer_comparison.itertuples():
        if intervals[r.indicator_id] == "none":
            continue
        row = _member_row(ws, pack, r.indicator_id, r.municipality_code)
        if r.is_suppressed:
            assert row[1:4] == (placeholder,) * 3
        else:
            assert row[1:4] == pytest.approx((r.value, r.ci95_low, r.ci95_high))
        assert row[4] == (pytest.approx(r.peer_median) if not np.isnan(r.peer_median) else "–")
        assert row[5] == COMPARISON_LABELS_DA[r.compared_to_peers]
        has_gap = not np.isnan(r.opportunity_events_per_year)
        assert (row[6] is not None) == has_gap
        checked += 1
    assert checked > 20


def test_the_opportunity_sentence_in_danish(written, pack: AreaPackData) -> None:
    """København's preventable admissions in the fixture: 53,3 (95 %: 16,1–90,5) events."""
    ws, _ = written
    row = _member_row(ws, pack, "preventable_admissions_65plus_per_1000", "101")
    assert row[6] == (
        "Hvis København lå på medianen for sine lignende kommuner: ca. 53 (95 %: 16–91) færre "
        "forebyggelige indlæggelser om året"
    )


def test_a_missing_median_says_why(written) -> None:
    ws, _ = written
    notes = [c.comment.text for c in ws["E"] if c.value == "–" and c.comment is not None]
    assert peers.NO_MEDIAN_DA in notes


def test_a_suppressed_member_value_shows_the_placeholder(pack: AreaPackData, tmp_path) -> None:
    comparison = pack.peer_comparison.copy()
    target = comparison["indicator_id"] == "acute_medical_admissions_65plus_per_1000"
    target &= comparison["municipality_code"] == pack.members[1].code
    comparison.loc[target, ["value", "ci95_low", "ci95_high"]] = np.nan
    comparison.loc[target, "is_suppressed"] = True
    comparison.loc[target, "compared_to_peers"] = "not_compared"
    suppressed = dataclasses.replace(pack, peer_comparison=comparison)
    ws, _ = _write(suppressed, tmp_path / "suppressed.xlsx")
    code = pack.members[1].code
    row = _member_row(ws, suppressed, "acute_medical_admissions_65plus_per_1000", code)
    placeholder = suppressed_text(pack.suppression_threshold)
    assert row[1:4] == (placeholder, placeholder, placeholder)
    assert row[5] == COMPARISON_LABELS_DA["not_compared"] and row[6] is None


def test_no_peers_says_so_and_old_constructors_get_empty_tables(pack, tmp_path) -> None:
    given = {f.name: getattr(pack, f.name) for f in dataclasses.fields(pack)}
    bare = AreaPackData(**{k: v for k, v in given.items() if not k.startswith("peer_")})
    assert bare.peer_group.columns.tolist() == PEER_GROUP_COLUMNS
    assert bare.peer_comparison.columns.tolist() == PEER_COMPARISON_COLUMNS
    ws, _ = _write(bare, tmp_path / "bare.xlsx")
    assert any(r[0] == peers.NO_PEERS_DA for r in _rows(ws))


def test_rounded_figures_and_direction_words() -> None:
    assert [peers.about_da(v) for v in (4.4, 98.9, 523.6, 1234.0, 15_499.0)] == [
        "4", "99", "520", "1.200", "15.000"
    ]  # fmt: skip
    ind = SimpleNamespace(numerator_measure="acute_medical_admissions")
    more = SimpleNamespace(
        opportunity_events_per_year=-40.2, opportunity_ci95_low=-61.0, opportunity_ci95_high=-19.4
    )
    assert peers.opportunity_da("Aalborg", ind, more) == (
        "Hvis Aalborg lå på medianen for sine lignende kommuner: ca. 40 (95 %: 19–61) flere "
        "akutte medicinske indlæggelser om året"
    )
    none = SimpleNamespace(
        opportunity_events_per_year=np.nan, opportunity_ci95_low=np.nan, opportunity_ci95_high=1
    )
    assert peers.opportunity_da("Aalborg", ind, none) == ""


def test_method_text_names_the_variables_and_the_limits() -> None:
    text = peers.PEERS_METHOD_DA
    for part in ("5 mest lignende", "65 år", "80 år", "folketallet", "z-score", "median",
                 "færre end 3", "95 %", "øvre grænse", "social belastning", "diskretionsgrænsen"):  # fmt: skip
        assert part in text, part


# --- the area marts on the sample build ------------------------------------------------------


def test_area_mart_holds_its_members_peers_with_names_and_loads_into_the_pack(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    built = built_warehouse(tmp_path_factory)
    published = load_published(built.warehouse_path, GEO)
    # the area mart goes to a folder of its own, beside the session's packs
    settings = dataclasses.replace(built, marts_dir=tmp_path_factory.mktemp("peer-marts"))
    area = GEO.area_by_partition_key("klynge2022.nordjylland-midt")
    tables = area_tables(published, GEO, area)
    groups, comparison = tables["peer_group"], tables["peer_comparison"]
    assert groups.columns.tolist() == PEER_GROUP_COLUMNS
    assert comparison.columns.tolist() == PEER_COMPARISON_COLUMNS
    assert set(groups["municipality_code"]) == set(area.members)
    assert len(groups) == 5 * len(area.members)
    assert (
        groups["peer_name"] == groups["peer_code"].map(lambda c: GEO.municipalities[c].name)
    ).all()
    assert set(comparison["municipality_code"]) == set(area.members)
    whole = published.peer_comparison
    assert len(comparison) == whole["municipality_code"].isin(area.members).sum()

    path = write_area_mart(settings, GEO, area, tables, datetime(2026, 1, 1), "test")
    pack = load_area_pack_data(path)
    pd.testing.assert_frame_equal(pack.peer_group, groups, check_dtype=False)
    pd.testing.assert_frame_equal(pack.peer_comparison, comparison, check_dtype=False)

    # a mart written before the peer tables existed still loads, with empty tables
    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE peer_group")
        con.execute("DROP TABLE peer_comparison")
    finally:
        con.close()
    old = load_area_pack_data(path)
    assert old.peer_group.empty and old.peer_group.columns.tolist() == PEER_GROUP_COLUMNS
    assert old.peer_comparison.empty
