"""One verdict per number: the overview (table and chart) compares every value with Denmark,
exactly as the indicator sheets do, and shows each value's trend.

The expected verdicts are read back from the written indicator sheets (what a reader sees on the
next sheet), not recomputed with the code under test; arrows and colours are typed in here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook

from datapakke.presentation import (
    COMPARISON_COLOURS,
    COMPARISON_LABELS_DA,
    TREND_LABELS_DA,
    excel_number_format,
)
from datapakke.publish import charts
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.workbook import indicator_sheet_names, write_pack
from tests.publish.pack_fixture import make_area_pack_data

ARROW_OF_LABEL = {"Stigende": "↑", "Faldende": "↓", "Ingen sikker udvikling": "→"}
ARROW_OF_TREND = {"increasing": "↑", "decreasing": "↓", "no_change": "→"}
VERDICT_OF_FILL = {colour.lstrip("#").upper(): key for key, colour in COMPARISON_COLOURS.items()}
VERDICT_OF_LABEL = {label: key for key, label in COMPARISON_LABELS_DA.items()}
FEW_YEARS = "readmissions_30d_65plus_pct"


@pytest.fixture(scope="module")
def pack() -> AreaPackData:
    """The fixture pack as the mart writes it: no trend on withheld values, a series with too
    few years, and members whose verdict against the area differs from that against Denmark."""
    pack = make_area_pack_data()
    v = pack.values.copy()
    v.loc[v["is_suppressed"], "trend"] = ""
    v.loc[(v["indicator_id"] == FEW_YEARS) & (v["role"] == "member"), "trend"] = "insufficient_data"
    members = v["role"] == "member"
    v.loc[members & ~v["is_suppressed"], "compared_to_national"] = "better"
    v.loc[members & ~v["is_suppressed"], "compared_to_area"] = "similar"  # the Aalborg case
    rng = np.random.default_rng(3)  # ... and a mix elsewhere, so colours differ between cells
    mixed = members & ~v["is_suppressed"] & (rng.random(len(v)) < 0.5)
    v.loc[mixed, "compared_to_national"] = rng.choice(["similar", "worse"], mixed.sum())
    return dataclasses.replace(pack, values=v)


@pytest.fixture(scope="module")
def wb(pack: AreaPackData, tmp_path_factory: pytest.TempPathFactory) -> Workbook:
    path = tmp_path_factory.mktemp("pack") / f"datapakke-{pack.grouping}-{pack.area_id}.xlsx"
    return load_workbook(write_pack(pack, {}, path))


def _sheet_details(ws: Any) -> dict[str, tuple[Any, str, str]]:
    """The indicator sheet's 'I alt' detail rows: unit label → (value, verdict against
    Denmark, trend label), as written in columns B, E, K and L."""
    rows = list(ws.iter_rows(values_only=True))
    start = next(
        i for i, r in enumerate(rows) if isinstance(r[0], str) and r[0].startswith("Detaljer for")
    )
    band = next(i for i in range(start, len(rows)) if rows[i][0] == "I alt")
    out = {}
    for r in rows[band + 1 :]:
        if r[0] in ("Mænd", "Kvinder") or r[0] is None:
            break
        out[r[1]] = (r[4], r[10] or "", r[11] or "")
    return out


def test_overview_verdict_and_trend_equal_the_indicator_sheets(
    wb: Workbook, pack: AreaPackData
) -> None:
    ws = wb["Overblik"]
    rows = list(ws.iter_rows())
    header = next(r for r in rows if r[0].value == "Indikator")
    labels = {c.column: c.value for c in header[3:] if c.value}
    names = indicator_sheet_names(pack.catalogue)
    checked = differs_from_area = arrows = no_arrow = 0
    for ind in pack.catalogue.itertuples():
        (row,) = [r for r in rows if r[0].value == ind.title_da]
        details = _sheet_details(wb[names[ind.indicator_id]])
        fmt = excel_number_format(int(ind.decimals))
        for col, label in labels.items():
            cell = row[col - 1]
            value, verdict_label, trend_label = details[label]
            if not isinstance(cell.value, float | int):
                assert not isinstance(value, float | int), (ind.indicator_id, label)
                continue
            assert cell.value == pytest.approx(value)
            shown = VERDICT_OF_FILL.get(cell.fill.fgColor.rgb[-6:].upper())
            if label == "Hele landet":  # the benchmark itself: neither coloured nor judged
                assert verdict_label == "" and cell.fill.fill_type is None
            else:
                assert shown == VERDICT_OF_LABEL[verdict_label], (ind.indicator_id, label)
            checked += 1
            # The trend: the arrow after the number is the sheet's 'Udvikling (5 år)'.
            arrow = ARROW_OF_LABEL.get(trend_label)
            if arrow is None:
                assert cell.number_format == fmt
                no_arrow += 1
            else:
                assert cell.number_format == f'{fmt}" {arrow}"', (ind.indicator_id, label)
                arrows += 1
        v = pack.values
        now = v[(v["indicator_id"] == ind.indicator_id) & (v["sex"] == "T")]
        now = now[(now["period"] == now["period"].max()) & (now["role"] == "member")]
        differs_from_area += int((now["compared_to_area"] != now["compared_to_national"]).sum())
    assert checked >= len(pack.catalogue) * len(labels) * 0.9
    assert differs_from_area > 20 and arrows > 100 and no_arrow >= len(pack.members)


def test_overview_verdicts_are_the_national_ones_in_the_data(
    wb: Workbook, pack: AreaPackData
) -> None:
    ws = wb["Overblik"]
    rows = list(ws.iter_rows())
    header = [c.value for c in next(r for r in rows if r[0].value == "Indikator")]
    v = pack.values
    for ind in pack.catalogue.itertuples():
        (row,) = [r for r in rows if r[0].value == ind.title_da]
        now = v[(v["indicator_id"] == ind.indicator_id) & (v["sex"] == "T")]
        now = now[(now["period"] == now["period"].max()) & ~now["is_suppressed"]]
        for r in now[now["role"] != "country"].itertuples():
            label = r.area_name + (" (delvis)" if r.area_code == "101" else "")
            cell = row[header.index(label)]
            assert VERDICT_OF_FILL[cell.fill.fgColor.rgb[-6:].upper()] == r.compared_to_national
            expected = ARROW_OF_TREND.get(r.trend)
            assert (
                cell.number_format.endswith(f'" {expected}"')
                if expected
                else '"' not in (cell.number_format)
            )


def test_overview_names_its_comparator_and_explains_the_arrows(wb: Workbook) -> None:
    ws = wb["Overblik"]
    texts = [c.value for r in ws.iter_rows(max_row=5) for c in r if isinstance(c.value, str)]
    assert any("sammenlignet med hele landet" in t for t in texts)
    assert "Farve: sammenlignet med hele landet" in texts
    assert not any("med området" in t for t in texts)  # no second comparator on this view
    for key, arrow in ARROW_OF_TREND.items():
        assert f"{arrow} {TREND_LABELS_DA[key]}" in texts


@pytest.mark.parametrize("member", [False, True])
def test_overview_chart_shows_each_rows_trend_and_colours_by_denmark(
    pack: AreaPackData, member: bool
) -> None:
    code = pack.members[1].code if member else None
    fig = charts.overview_chart(pack, member_code=code)
    texts = fig.texts + [a for a in fig.artists if hasattr(a, "get_text")]
    titles = {t.get_text(): t.get_position()[1] for t in texts if t.get_gid() == "overview-title"}
    trends = {t.get_position()[1]: t.get_text() for t in texts if t.get_gid() == "overview-trend"}
    v = pack.values
    mine = v[(v["area_code"] == code) if member else (v["role"] == "area")]
    mine = mine[mine["sex"] == "T"]
    shown = 0
    for ind in pack.catalogue.itertuples():
        rows = mine[mine["indicator_id"] == ind.indicator_id]
        r = rows[rows["period"] == rows["period"].max()].iloc[0]
        visible = not r["is_suppressed"] and np.isfinite(r["value"])
        expected = ARROW_OF_TREND.get(r["trend"]) if visible else None
        assert trends.get(titles[ind.title_da]) == expected, ind.indicator_id
        shown += expected is not None
    assert shown >= len(pack.catalogue) - 5
    legend = [t.get_text() for t in texts if t.get_gid() == "overview-legend-trend"]
    assert len(legend) == 1 and all(a in legend[0] for a in ARROW_OF_TREND.values())
    # The dots' colours are the comparison with Denmark, for a member as for the area.
    latest = mine[mine["period"] == mine["period"].max()]
    counts = set(pack.catalogue.loc[pack.catalogue["method"] == "count", "indicator_id"])
    dots = latest[latest["value"].notna() & ~latest["indicator_id"].isin(counts)]
    for key in COMPARISON_COLOURS:
        found = fig.findobj(lambda a, key=key: a.get_gid() == f"spine-marker-{key}")
        n = int((dots["compared_to_national"] == key).sum())
        assert (len(found[0].get_xdata()) if found else 0) == n, key


def test_overview_chart_png_is_written(pack: AreaPackData, tmp_path: Path) -> None:
    path = charts.save_png(charts.overview_chart(pack), tmp_path / "overview.png")
    assert path.stat().st_size > 10_000
