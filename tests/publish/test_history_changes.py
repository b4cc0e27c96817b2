"""History only on content change, and "Nyt siden sidst" (issue 14 item 2, issue 15 item 1).

The mart-based tests copy one area's real mart from the session's sample build
(``sample_build.built_packs``) into their own folder, change it as a later night's build would
(later ``built_at`` and ``loaded_at``, plus the change under test) and build the pack again with
``build_area_pack``. Charts are replaced by one tiny PNG: they are not what is tested here, and
drawing them is the slow part of a build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from datapakke.config import AreaOutputs, Settings
from datapakke.presentation import format_da
from datapakke.publish import charts as charts_module
from datapakke.publish.area_mart import load_area_pack_data
from datapakke.publish.changes import (
    FIRST_EDITION_DA,
    MAX_COMPARISON_LINES,
    NO_CHANGES_DA,
    NOT_COMPARABLE_DA,
    ChangeLine,
    Changes,
    compare,
)
from datapakke.publish.key_findings import headline, key_findings
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.snapshot import (
    PackSnapshot,
    content_fingerprint,
    latest_snapshot_path,
    read_snapshot,
    snapshot_of,
    write_snapshot,
)
from datapakke.publish.stage import PackReport, build_area_pack
from datapakke.publish.workbook import changes as changes_sheet
from datapakke.publish.workbook import publish_pack
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.styles import Styles
from datapakke.publish.workbook.texts import CHANGES
from datapakke.publish.workbook.values import danish_time
from tests.publish.pack_fixture import make_area_pack_data
from tests.publish.sample_build import built_packs

AREA = "klynge2022.bornholm"  # one member (Bornholm): the smallest real pack


@dataclass
class Area:
    settings: Settings
    outputs: AreaOutputs

    def build(self) -> PackReport:
        return build_area_pack(AREA, self.settings)

    def history(self, suffix: str) -> list[str]:
        folder = self.outputs.history_dir
        return sorted(p.name for p in folder.glob(f"*{suffix}")) if folder.is_dir() else []


def _tiny_charts(pack: AreaPackData, out_dir: Path, findings: object = None) -> dict[str, Path]:
    """One small real PNG in place of the pack's charts."""
    from PIL import Image

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (8, 6), "white").save(out / "overview.png")
    return {"overview": out / "overview.png"}


@pytest.fixture
def area(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Area:
    built = built_packs(tmp_path_factory)
    settings = dataclasses.replace(built.settings, marts_dir=tmp_path / "marts", history_keep=3)
    outputs = settings.area_outputs(*AREA.split("."))
    outputs.folder.mkdir(parents=True)
    shutil.copy2(built.marts[AREA], outputs.mart)
    monkeypatch.setattr(charts_module, "render_area_charts", _tiny_charts)
    return Area(settings, outputs)


def later_night(mart: Path, *statements: str, params: list[Any] | None = None) -> None:
    """The mart as the next night's build writes it: a day later, from new inputs (a mart is
    only rewritten when they changed), plus ``statements``."""
    con = duckdb.connect(str(mart))
    try:
        con.execute(
            "UPDATE area SET built_at = built_at + INTERVAL 1 DAY, "
            "input_fingerprint = md5(coalesce(input_fingerprint, '') || 'the next night')"
        )
        con.execute("UPDATE source SET loaded_at = loaded_at + INTERVAL 1 DAY")
        for statement in statements:
            con.execute(statement, params or [])
    finally:
        con.close()


def query(mart: Path, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
    con = duckdb.connect(str(mart), read_only=True)
    try:
        return con.execute(sql, params or []).df()
    finally:
        con.close()


def files(folder: Path) -> dict[str, tuple[str, int]]:
    """Every file but the mart: checksum and mtime (ns)."""
    return {
        str(p.relative_to(folder)): (
            hashlib.sha256(p.read_bytes()).hexdigest(),
            p.stat().st_mtime_ns,
        )
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "mart.duckdb"
    }


def written_sheet(pack: AreaPackData, changes: Changes | None) -> Any:
    wb = Workbook()
    sheet = Sheet(wb.create_sheet(CHANGES), Styles(wb), pack.suppression_threshold)
    changes_sheet.write(sheet, Context.of(pack), changes)
    sheet.finish()
    return sheet.ws


def texts(ws: Any) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


# --------------------------------------------------------------------------- history


@pytest.mark.slow
def test_an_identical_rebuild_writes_nothing(area: Area) -> None:
    first = area.build()
    assert not first.unchanged and first.fingerprint
    before = files(area.outputs.folder)
    later_night(area.outputs.mart)  # rebuilt the next night from the same data
    second = area.build()
    assert second.unchanged and second.changes is None
    assert second.fingerprint == first.fingerprint
    assert second.pack_path == area.outputs.pack and second.pack_bytes == first.pack_bytes
    assert second.chart_paths == first.chart_paths
    assert files(area.outputs.folder) == before  # same bytes, same mtimes, history unchanged
    assert area.history(".xlsx") == area.history(".parquet") == []


@pytest.mark.slow
def test_one_changed_value_makes_one_history_version_and_a_revision_line(area: Area) -> None:
    mart = area.outputs.mart
    first = area.build()
    first_at, old_pack = built_at(first), area.outputs.pack.read_bytes()
    row = query(
        mart,
        "SELECT v.indicator_id, v.period, v.value, i.decimals FROM indicator_value v "
        "JOIN indicator i USING (indicator_id) WHERE v.role = 'member' AND v.sex = 'T' "
        "AND v.value IS NOT NULL AND i.decimals = 1 AND v.period < '2024' "
        'ORDER BY i."order", v.period LIMIT 1',
    ).iloc[0]
    later_night(
        mart,
        "UPDATE indicator_value SET value = value + 1.8 WHERE role = 'member' AND sex = 'T' "
        "AND indicator_id = ? AND period = ?",
        params=[row.indicator_id, row.period],
    )
    second = area.build()

    assert not second.unchanged and second.fingerprint != first.fingerprint
    stamp = f"{first_at:%Y%m%dT%H%M%S}"
    stem = area.outputs.stem
    assert area.history(".xlsx") == [f"{stem}-{stamp}.xlsx"]
    assert area.history(".parquet") == [f"{stem}-{stamp}.parquet"]  # archived with its pack
    assert (area.outputs.history_dir / f"{stem}-{stamp}.xlsx").read_bytes() == old_pack
    archived = read_snapshot(area.outputs.history_dir / f"{stem}-{stamp}.parquet")
    assert archived is not None and archived.fingerprint == first.fingerprint

    old, new = format_da(row.value, 1), format_da(row.value + 1.8, 1)
    line = f"1 tal revideret: Bornholm {row.period}: {old} → {new}."
    assert second.changes is not None
    assert [(x.group, x.text_da, x.indicator_id) for x in second.changes.lines] == [
        ("revisions", line, row.indicator_id)
    ]
    pack = load_area_pack_data(mart)
    ws = written_sheet(pack, second.changes)
    assert ws["A1"].value == "Nyt siden sidst – Sundhedsklynge Bornholm"
    assert danish_time(first_at) in ws["A3"].value
    assert "reviderede tal for 1 indikator" in ws["A3"].value
    assert line in texts(ws)
    name = Context.of(pack).sheet_names[row.indicator_id]
    links = [c for r in ws.iter_rows() for c in r if c.hyperlink is not None]
    assert [c.hyperlink.location for c in links][1:] == [f"'{name}'!A1"]  # [0]: to contents


def built_at(report: PackReport) -> datetime:
    """The build time in the report's pack (read it before the next build replaces it)."""
    return load_workbook(report.pack_path, read_only=True).properties.created


@pytest.mark.slow
def test_a_new_period_says_nyt_aar(area: Area) -> None:
    area.build()
    latest = query(
        area.outputs.mart,
        "SELECT max(period) AS period, any_value(title_da) AS title FROM indicator_value "
        "JOIN indicator USING (indicator_id) WHERE indicator_id = 'mortality_asr_per_100000'",
    ).iloc[0]
    new_year = str(int(latest.period) + 1)
    later_night(
        area.outputs.mart,
        "INSERT INTO indicator_value SELECT * REPLACE (? AS period) FROM indicator_value "
        "WHERE indicator_id = 'mortality_asr_per_100000' AND period = ?",
        params=[new_year, latest.period],
    )
    report = area.build()
    assert report.changes is not None
    assert [(x.group, x.subject_da, x.text_da) for x in report.changes.lines] == [
        ("periods", latest.title, f"Nyt år: {new_year}.")
    ]
    assert report.changes.lines[0].indicator_id == "mortality_asr_per_100000"


@pytest.mark.slow
def test_a_flipped_comparison_is_said_in_words(area: Area) -> None:
    area.build()
    found = query(
        area.outputs.mart,
        "SELECT v.indicator_id, v.period FROM indicator_value v JOIN indicator i "
        "USING (indicator_id) WHERE v.role = 'area' AND v.sex = 'T' "
        "AND v.compared_to_national = 'similar' AND i.polarity <> 'no_judgement' "
        "AND v.period = (SELECT max(period) FROM indicator_value w "
        'WHERE w.indicator_id = v.indicator_id) ORDER BY i."order" LIMIT 1',
    ).iloc[0]
    later_night(
        area.outputs.mart,
        "UPDATE indicator_value SET compared_to_national = 'worse' WHERE role = 'area' "
        "AND sex = 'T' AND indicator_id = ? AND period = ?",
        params=[found.indicator_id, found.period],
    )
    report = area.build()
    assert report.changes is not None
    assert [(x.group, x.text_da, x.indicator_id) for x in report.changes.lines] == [
        (
            "comparisons",
            "Området er nu sikkert dårligere end hele landet (var: ingen sikker forskel).",
            found.indicator_id,
        )
    ]


@pytest.mark.slow
def test_a_source_with_a_new_checksum_or_file(area: Area) -> None:
    area.build()
    sources = query(area.outputs.mart, "SELECT source_id, title, file FROM source ORDER BY 1")
    first, second = sources.iloc[0], sources.iloc[1]
    later_night(
        area.outputs.mart,
        f"UPDATE source SET sha256 = repeat('a', 64) WHERE source_id = '{first.source_id}'",
        f"UPDATE source SET file = 'drops/ny.csv' WHERE source_id = '{second.source_id}'",
    )
    report = area.build()
    assert report.changes is not None
    assert [(x.group, x.subject_da, x.text_da) for x in report.changes.lines] == [
        ("sources", first.title, f"Filen {first.file} har nyt indhold (ny kontrolsum)."),
        ("sources", second.title, f"Ny fil: drops/ny.csv (før: {second.file})."),
    ]
    assert report.changes.summary_da() == "Siden forrige udgave: 2 opdaterede kilder."


@pytest.mark.slow
def test_the_first_pack_says_it_is_the_first_edition(area: Area) -> None:
    report = area.build()
    assert report.changes is not None and report.changes.first_edition
    assert report.changes.summary_da() == FIRST_EDITION_DA
    assert FIRST_EDITION_DA.startswith("Første udgave af datapakken")
    snapshot = read_snapshot(latest_snapshot_path(area.outputs))
    assert snapshot is not None and snapshot.fingerprint == report.fingerprint
    assert snapshot.charts == ("overview",)
    pack = load_area_pack_data(area.outputs.mart)  # the download page shows its headline
    assert snapshot.headline == tuple(headline(key_findings(pack)))
    ws = written_sheet(load_area_pack_data(area.outputs.mart), report.changes)
    assert ws["A3"].value == FIRST_EDITION_DA


@pytest.mark.slow
def test_retention_keeps_the_last_n_different_versions(area: Area) -> None:
    settings = dataclasses.replace(area.settings, history_keep=2)
    area = Area(settings, area.outputs)
    built = [built_at(area.build())]
    for step in range(1, 5):
        later_night(
            area.outputs.mart,
            f"UPDATE indicator_value SET value = value + {step} WHERE role = 'country' "
            "AND indicator_id = 'mortality_asr_per_100000' AND sex = 'T'",
        )
        built.append(built_at(area.build()))
        later_night(area.outputs.mart)  # a quiet night: no new version
        assert area.build().unchanged
    stem = area.outputs.stem
    kept = [f"{stem}-{moment:%Y%m%dT%H%M%S}" for moment in built[2:4]]
    assert area.history(".xlsx") == [f"{name}.xlsx" for name in kept]
    assert area.history(".parquet") == [f"{name}.parquet" for name in kept]
    fingerprints = {
        read_snapshot(area.outputs.history_dir / f"{name}.parquet").fingerprint  # type: ignore[union-attr]
        for name in kept
    }
    latest = read_snapshot(latest_snapshot_path(area.outputs))
    assert latest is not None and len(fingerprints | {latest.fingerprint}) == 3


@pytest.mark.slow
def test_a_pack_without_a_snapshot_is_archived_but_not_compared(area: Area) -> None:
    pack = load_area_pack_data(area.outputs.mart)
    publish_pack(pack, {}, area.outputs, area.settings.history_keep)  # as before snapshots
    assert not latest_snapshot_path(area.outputs).exists()
    later_night(area.outputs.mart)
    report = area.build()
    assert not report.unchanged
    assert report.changes is not None and not report.changes.comparable
    assert report.changes.summary_da() == NOT_COMPARABLE_DA
    assert area.history(".xlsx") and not area.history(".parquet")
    ws = written_sheet(pack, report.changes)
    assert ws["A3"].value.startswith(f"Forrige udgave: dannet {danish_time(pack.built_at)}.")


@pytest.mark.slow
def test_a_snapshot_of_another_build_is_not_trusted(area: Area) -> None:
    """A snapshot left by an interrupted publish (not this pack's build time) never makes a
    changed mart look unchanged."""
    first = area.build()
    stale = read_snapshot(latest_snapshot_path(area.outputs))
    assert stale is not None
    later_night(area.outputs.mart, "UPDATE indicator SET title_da = title_da || ' (ny)'")
    fingerprint = content_fingerprint(area.outputs.mart)
    assert fingerprint != first.fingerprint
    wrong = dataclasses.replace(stale, fingerprint=fingerprint, built_at=datetime(2000, 1, 1))
    write_snapshot(wrong, latest_snapshot_path(area.outputs))
    report = area.build()
    assert not report.unchanged
    assert report.changes is not None and not report.changes.comparable


@pytest.mark.slow
def test_the_fingerprint_ignores_build_times_and_noise_but_not_content(area: Area) -> None:
    mart = area.outputs.mart
    base = content_fingerprint(mart)
    later_night(mart)
    assert content_fingerprint(mart) == base
    # Last-bit noise (a sum added up in another order) is not a change. On whole numbers, so
    # that no value sits on a rounding boundary and the test cannot be flaky.
    later_night(mart, "UPDATE population SET population = population * (1 + 1e-13)")
    assert content_fingerprint(mart) == base
    changed = {}
    for label, statement in {
        "value": "UPDATE indicator_value SET value = value + 0.001 WHERE value IS NOT NULL",
        "catalogue": "UPDATE indicator SET definition_da = definition_da || '.'",
        "code version": "UPDATE area SET code_version = 'abc1234'",
        "population": "UPDATE population SET population = population + 1",
    }.items():
        later_night(mart, statement)
        changed[label] = content_fingerprint(mart)
    assert len({base, *changed.values()}) == 5


# --------------------------------------------------------------------------- the comparison


@pytest.fixture(scope="module")
def fixture_pack() -> AreaPackData:
    return make_area_pack_data()


def _snapshot(pack: AreaPackData, **changes: Any) -> PackSnapshot:
    return dataclasses.replace(snapshot_of(pack, "f"), **changes)


def test_added_and_withdrawn_indicators(fixture_pack: AreaPackData) -> None:
    before = _snapshot(fixture_pack)
    gone, *_ = before.indicators["indicator_id"]
    title = before.indicators["title_da"].iloc[0]
    now = _snapshot(
        fixture_pack,
        indicators=before.indicators.iloc[1:],
        values=before.values[before.values["indicator_id"] != gone],
    )
    assert [
        (x.group, x.subject_da, x.text_da, x.indicator_id) for x in compare(now, before).lines
    ] == [("indicators", title, "Udgået: indgår ikke længere i datapakken.", None)]
    back = compare(before, now).lines
    assert [(x.group, x.subject_da, x.indicator_id) for x in back] == [("indicators", title, gone)]
    assert back[0].text_da == "Ny i datapakken (2019–2025)."


def test_hidden_values_and_periods_no_longer_shown(fixture_pack: AreaPackData) -> None:
    before = _snapshot(fixture_pack)
    ind = before.indicators["indicator_id"].iloc[2]
    v = before.values.copy()
    row = (v["indicator_id"] == ind) & (v["role"] == "country") & (v["sex"] == "T")
    row &= v["period"] == "2024"
    value = float(v.loc[row, "value"].iloc[0])
    digits = int(before.indicators["decimals"].iloc[2])
    v.loc[row, ["value", "is_suppressed"]] = [float("nan"), True]
    v = v[~((v["indicator_id"] == ind) & (v["period"] == "2019"))]
    lines = compare(_snapshot(fixture_pack, values=v), before).lines
    assert [(x.group, x.text_da) for x in lines] == [
        ("periods", "Ikke længere med: 2019."),
        ("revisions", f"1 tal revideret: Hele landet 2024: {format_da(value, digits)} → skjult."),
    ]


def test_changes_within_rounding_are_not_revisions(fixture_pack: AreaPackData) -> None:
    before = _snapshot(fixture_pack)
    v = before.values.copy()
    v["value"] = v["value"] + 1e-6  # below every indicator's decimals
    assert compare(_snapshot(fixture_pack, values=v), before).lines == ()
    assert compare(_snapshot(fixture_pack, values=v), before).summary_da() == NO_CHANGES_DA


def test_many_flips_of_one_indicator_are_capped() -> None:
    region = make_area_pack_data("region", "nordjylland", seed=3)  # 11 municipalities
    before = _snapshot(region)
    ind = before.indicators["indicator_id"].iloc[5]
    v = before.values.copy()
    latest = (v["indicator_id"] == ind) & (v["period"] == "2025") & (v["sex"] == "T")
    flip = {"better": "worse", "worse": "better", "similar": "better", "higher": "lower"}
    for column in ("compared_to_national", "compared_to_area"):
        v.loc[latest, column] = v.loc[latest, column].map(lambda x: flip.get(x, x))
    lines = compare(_snapshot(region, values=v), before).lines
    assert {x.group for x in lines} == {"comparisons"} and {x.indicator_id for x in lines} == {ind}
    assert len(lines) == MAX_COMPARISON_LINES + 1
    assert lines[-1].text_da.startswith("… og ") and lines[-1].text_da.endswith("(se arket).")


def test_the_sheet_groups_lines_and_links_each_indicator_once(fixture_pack: AreaPackData) -> None:
    ctx = Context.of(fixture_pack)
    first, second = list(ctx.sheet_names)[:2]
    title = ctx.catalogue.set_index("indicator_id")["title_da"]
    changes = Changes(
        previous_built_at=datetime(2026, 11, 2, 1, 30),
        lines=(
            ChangeLine("periods", title[first], "Nyt år: 2026.", first),
            ChangeLine("comparisons", title[second], "Området er nu …", second),
            ChangeLine("comparisons", title[second], "Udviklingen for området …", second),
            ChangeLine("sources", "Folketal (FOLK1A)", "Ny fil: b.csv (før: a.csv)."),
        ),
    )
    ws = written_sheet(fixture_pack, changes)
    assert "2. november 2026" in ws["A3"].value
    headings = [c.value for c in ws["A"] if c.style == "dp_h2"]
    assert headings == ["Nye perioder", "Ændrede sammenligninger og udviklinger (seneste år)",
                        "Opdaterede kilder"]  # fmt: skip
    linked = [(c.value, c.hyperlink.location) for c in ws["A"] if c.hyperlink is not None]
    assert linked[1:] == [
        (title[first], f"'{ctx.sheet_names[first]}'!A1"),
        (title[second], f"'{ctx.sheet_names[second]}'!A1"),  # once for its two lines
    ]
    assert "Udviklingen for området …" in texts(ws) and "Folketal (FOLK1A)" in texts(ws)


def test_a_pack_written_without_history_says_so(fixture_pack: AreaPackData) -> None:
    ws = written_sheet(fixture_pack, None)
    assert ws["A3"].value == "Denne udgave er ikke sammenlignet med tidligere udgaver."
