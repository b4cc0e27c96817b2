"""Hovedpointer: every sentence stands on a flag of the mart, and no 99.8 % difference from Denmark
is left out.

The flags are regenerated here straight from ``pack.values`` (not through ``key_findings``), on a
fixture whose comparisons and trends agree with its numbers, on hand-made packs and, in the slow
test, on every pack of the embedded sample.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from datapakke.mart.stats import compare_to_benchmark
from datapakke.presentation import format_da
from datapakke.publish.area_mart import load_area_pack_data
from datapakke.publish.key_findings import (
    LEVEL_95,
    LEVEL_998,
    NO_FINDINGS_DA,
    KeyFinding,
    candidates,
    comparison_strength,
    headline,
    key_findings,
    trend_strength,
)
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.workbook import key_points
from datapakke.publish.workbook.build import build
from datapakke.publish.workbook.context import Context
from datapakke.publish.workbook.sheet import Sheet
from datapakke.publish.workbook.styles import Styles
from tests.publish.pack_fixture import make_area_pack_data
from tests.publish.sample_build import SamplePacks, built_packs

SIGNIFICANT = {"better", "worse", "higher", "lower"}
TRENDS = {"increasing", "decreasing"}
JUDGING = ("bedre", "dårligere")
Flag = tuple[str, str, str, str]  # kind, indicator id, unit code, period


# --------------------------------------------------------------------------- fixtures


def consistent(pack: AreaPackData, seed: int = 1) -> AreaPackData:
    """The fixture pack with comparisons and trends that agree with its numbers, as the engine
    makes them: intervals against Denmark's (95 % and 99.8 %) and the area's value (members),
    trends only on the latest shown row, 'increasing'/'decreasing' where p < 0.05."""
    rng = np.random.default_rng(seed)
    v = pack.values.copy()
    info = pack.catalogue.set_index("indicator_id")
    keys = ["indicator_id", "period", "sex"]
    dk = v[v["role"] == "country"][[*keys, "value"]].rename(columns={"value": "_dk"})
    area = v[v["role"] == "area"][[*keys, "value"]].rename(columns={"value": "_area"})
    v = v.merge(dk, on=keys, how="left").merge(area, on=keys, how="left")
    polarity = v["indicator_id"].map(info["polarity"])
    none = (v["indicator_id"].map(info["interval"]) == "none").to_numpy()
    not_dk = v["_dk"].where(v["role"] != "country")
    for column, (low, high) in {
        "compared_to_national": ("ci95_low", "ci95_high"),
        "compared_to_national_998": ("ci998_low", "ci998_high"),
    }.items():
        result = compare_to_benchmark(v[low], v[high], not_dk, polarity)
        result[none] = "not_compared"
        v[column] = result
    member = (v["role"] == "member").to_numpy() & ~none
    result = compare_to_benchmark(v["ci95_low"], v["ci95_high"], v["_area"], polarity)
    v["compared_to_area"] = np.where(member, result, "not_compared")

    latest = v.groupby("indicator_id")["period"].transform("max")
    shown = ~v["is_suppressed"] & v["value"].notna()
    first = v[v["period"] == "2021"].set_index(["indicator_id", "role", "area_code", "sex"])
    start = pd.MultiIndex.from_frame(v[["indicator_id", "role", "area_code", "sex"]]).map(
        first["value"]
    )
    p = pd.Series(rng.uniform(0, 0.12, len(v)) ** 2 * 10, index=v.index)
    up = np.where(v["value"].to_numpy() > np.asarray(start, float), "increasing", "decreasing")
    trend = np.where(p < 0.05, up, "no_change")
    on = ((v["period"] == latest) & shown).to_numpy()
    v["trend"] = np.where(on, trend, "")
    v["trend_p_value"] = np.where(on, p, np.nan)
    return dataclasses.replace(pack, values=v.drop(columns=["_dk", "_area"]))


@pytest.fixture(scope="module")
def pack() -> AreaPackData:
    """A cluster with a shared member (København, 'delvis')."""
    return consistent(make_area_pack_data())


@pytest.fixture(scope="module")
def region_pack() -> AreaPackData:
    return consistent(make_area_pack_data("region", "nordjylland", seed=3), seed=2)


def flags(pack: AreaPackData) -> tuple[dict[Flag, Any], set[Flag]]:
    """Every flag of the latest period (sex T, shown values) with its row, and the required
    ones: the area against Denmark at 99.8 %."""
    v = pack.values.assign(period=pack.values["period"].astype(str))
    latest = v.groupby("indicator_id")["period"].transform("max")
    v = v[(v["period"] == latest) & (v["sex"] == "T") & ~v["is_suppressed"].astype(bool)]
    v = v[v["value"].notna()]
    found: dict[Flag, Any] = {}
    required: set[Flag] = set()
    for r in v.itertuples():
        key = (r.indicator_id, str(r.area_code), r.period)
        if r.role == "area":
            if r.compared_to_national in SIGNIFICANT or r.compared_to_national_998 in SIGNIFICANT:
                found[("national", *key)] = r
            if r.compared_to_national_998 in SIGNIFICANT:
                required.add(("national", *key))
            if r.trend in TRENDS:
                found[("trend", *key)] = r
        elif r.role == "member" and r.compared_to_area in SIGNIFICANT:
            found[("member_vs_area", *key)] = r
    return found, required


def key(f: KeyFinding) -> Flag:
    return (f.kind, f.indicator_id, f.unit_code, f.period)


def check_against_flags(pack: AreaPackData, findings: list[KeyFinding]) -> None:
    """Each finding has its flag and says what the flag says; every required flag is there."""
    found, required = flags(pack)
    polarity = dict(zip(pack.catalogue["indicator_id"], pack.catalogue["polarity"], strict=True))
    decimals = dict(zip(pack.catalogue["indicator_id"], pack.catalogue["decimals"], strict=True))
    for f in findings:
        assert key(f) in found, f.sentence_da
        r = found[key(f)]
        assert format_da(r.value, int(decimals[f.indicator_id])) in f.sentence_da
        assert "statistisk signifikant" in f.sentence_da
        if f.kind == "trend":
            assert {"increasing": "stigende", "decreasing": "faldende"}[r.trend] in f.sentence_da
            continue
        label = r.compared_to_area if f.kind == "member_vs_area" else r.compared_to_national
        if f.kind == "national" and r.compared_to_national_998 in SIGNIFICANT:
            label = r.compared_to_national_998
        assert f.comparison == label, f.sentence_da
        judged = polarity[f.indicator_id] != "no_judgement"
        assert any(w in f.sentence_da for w in JUDGING) == judged, f.sentence_da
        if f.kind == "national":
            expected = LEVEL_998 if r.compared_to_national_998 in SIGNIFICANT else LEVEL_95
            assert f.level == expected
    assert required <= {key(f) for f in findings}


# --------------------------------------------------------------------------- flags behind it


@pytest.mark.parametrize("name", ["pack", "region_pack"])
def test_every_sentence_has_a_flag_and_no_998_difference_is_left_out(
    name: str, request: pytest.FixtureRequest
) -> None:
    pack = request.getfixturevalue(name)
    findings = key_findings(pack)
    assert findings
    check_against_flags(pack, findings)
    assert {f.kind for f in candidates(pack)} == {"national", "trend", "member_vs_area"}
    every = candidates(pack)  # unlimited: the same rule on every flag
    check_against_flags(pack, every)
    found, _ = flags(pack)
    assert {key(f) for f in every} == set(found)


def test_at_most_limit_unless_more_are_required(pack: AreaPackData) -> None:
    _, required = flags(pack)
    assert 0 < len(required) < 10 < len(candidates(pack))
    assert len(key_findings(pack)) == 10
    assert len(key_findings(pack, limit=15)) == 15
    only_required = key_findings(pack, limit=len(required) - 1)
    assert {key(f) for f in only_required} == required  # all of them, nothing else
    assert all(f.is_required for f in key_findings(pack, limit=0))


def test_ordered_by_strength(pack: AreaPackData, region_pack: AreaPackData) -> None:
    for p in (pack, region_pack):
        chosen = key_findings(p)
        strengths = [f.strength for f in chosen]
        assert strengths == sorted(strengths, reverse=True)
        assert all(math.isfinite(s) for s in strengths)
        weakest_optional = min(f.strength for f in chosen if not f.is_required)
        left_out = [f for f in candidates(p) if f not in chosen]
        assert left_out
        assert all(not f.is_required and f.strength <= weakest_optional for f in left_out)


def test_strength_reads_the_half_of_the_interval_facing_the_benchmark() -> None:
    # value 12 with [10; 15]: the benchmark 8 lies below, so the lower half (2) is the one read
    assert comparison_strength(12, 10, 15, 8, 1) == pytest.approx(
        4 / math.sqrt((2 / 1.959964) ** 2 + 0.01 / 6)
    )
    # just outside the interval: just over 1.96 (less the small rounding allowance)
    assert 1.9 < comparison_strength(12, 10, 15, 9.99, 3) < 1.97
    # limits rounded onto the value: finite, from the rounding of the published numbers
    assert comparison_strength(2.5, 2.5, 2.5, 2.8, 1) == pytest.approx(0.3 / math.sqrt(0.01 / 6))
    assert trend_strength(0.05) == pytest.approx(1.959964, abs=1e-5)
    assert trend_strength(0.002) == pytest.approx(3.090232, abs=1e-5)
    assert trend_strength(0.0) == pytest.approx(trend_strength(1e-300))  # finite
    assert trend_strength(1e-60) > trend_strength(1e-10) > trend_strength(0.01)


# --------------------------------------------------------------------------- hand-made packs


def _row(role: str, code: str, name: str, value: float, half: float, **flags: Any) -> dict:
    return {
        "role": role,
        "area_level": {"member": "municipality", "area": "area", "country": "country"}[role],
        "grouping": "klynge2022" if role == "area" else "",
        "area_code": code,
        "area_name": name,
        "sex": "T",
        "numerator": 100.0,
        "denominator": 1000.0,
        "value": value,
        "ci95_low": value - half,
        "ci95_high": value + half,
        "ci998_low": value - 1.6 * half,
        "ci998_high": value + 1.6 * half,
        "compared_to_area": "not_compared",
        "compared_to_region": "not_compared",
        "compared_to_national": "similar",
        "compared_to_national_998": "similar",
        "trend": "",
        "trend_p_value": np.nan,
        "is_suppressed": False,
        "value_note": "",
        **flags,
    }


@functools.cache
def _base() -> AreaPackData:
    return make_area_pack_data()


def hand_made(rows: dict[str, list[dict]], period: str = "2025") -> AreaPackData:
    """The fixture's area with only ``rows`` (indicator id → its rows of ``period``)."""
    base = _base()
    frame = pd.DataFrame(
        [{"indicator_id": ind, "period": period, **r} for ind, rs in rows.items() for r in rs]
    )
    return dataclasses.replace(base, values=frame)


ADMISSIONS = "preventable_admissions_65plus_per_1000"  # lower is better, 1 decimal
KOL = "prevalence_copd_asr_pct"  # no judgement, unit '% (aldersstandardiseret)'


def test_sentences_word_by_word() -> None:
    pack = hand_made(
        {
            ADMISSIONS: [
                _row(
                    "area",
                    "hovedstaden-byen",
                    "Sundhedsklynge Byen",
                    41.23,
                    1.0,
                    compared_to_national="better",
                    compared_to_national_998="better",
                ),
                _row("member", "147", "Frederiksberg", 52.0, 2.0, compared_to_area="worse"),
                _row("country", "DK", "Hele landet", 45.0, 0.1),
            ],
            KOL: [
                _row(
                    "area",
                    "hovedstaden-byen",
                    "Sundhedsklynge Byen",
                    6.1,
                    0.3,
                    compared_to_national="higher",
                ),
                _row("country", "DK", "Hele landet", 5.2, 0.01),
            ],
        }
    )
    sentences = {(f.kind, f.indicator_id): f for f in key_findings(pack)}
    national = sentences[("national", ADMISSIONS)]
    assert national.sentence_da == (
        "Forebyggelige indlæggelser blandt ældre: Sundhedsklynge Byen ligger statistisk "
        "signifikant lavere end landsgennemsnittet og dermed bedre (2025: 41,2 mod landets 45,0 "
        "pr. 1.000 borgere 65+)."
    )
    assert (national.level, national.comparison) == (LEVEL_998, "better")
    member = sentences[("member_vs_area", ADMISSIONS)]
    assert member.sentence_da == (
        "Forebyggelige indlæggelser blandt ældre: Frederiksberg ligger statistisk signifikant "
        "højere end Sundhedsklynge Byen samlet og dermed dårligere (2025: 52,0 mod områdets 41,2 "
        "pr. 1.000 borgere 65+)."
    )
    assert member.level == LEVEL_95
    kol = sentences[("national", KOL)]
    assert kol.sentence_da == (
        "Borgere med KOL (aldersstandardiseret): Sundhedsklynge Byen ligger statistisk "
        "signifikant højere end landsgennemsnittet (2025: 6,1 mod landets 5,2 %)."
    )
    assert (kol.level, kol.comparison) == (LEVEL_95, "higher")


def test_polarity_free_says_higher_or_lower_never_better_or_worse(
    pack: AreaPackData, region_pack: AreaPackData
) -> None:
    free = set(pack.catalogue.loc[pack.catalogue["polarity"] == "no_judgement", "indicator_id"])
    seen = 0
    for p in (pack, region_pack):
        for f in candidates(p):
            if f.indicator_id in free and f.kind != "trend":
                seen += 1
                assert f.comparison in ("higher", "lower")
                assert ("højere" in f.sentence_da) != ("lavere" in f.sentence_da)
                assert not any(w in f.sentence_da for w in JUDGING), f.sentence_da
    assert seen > 10
    # a mart label that judges (inconsistent with the catalogue) still reads neutral
    pack = hand_made(
        {
            KOL: [
                _row("area", "hovedstaden-byen", "Byen", 6.1, 0.3, compared_to_national="better"),
                _row("country", "DK", "Hele landet", 5.2, 0.01),
            ]
        }
    )
    (only,) = key_findings(pack)
    assert "højere end landsgennemsnittet (" in only.sentence_da


def test_trend_sentence_and_level() -> None:
    area = {"role": "area", "code": "hovedstaden-byen", "name": "Sundhedsklynge Byen"}
    frames = []
    for i, period in enumerate(["2020", "2021", "2022", "2023", "2024", "2025"]):
        trend = {"trend": "decreasing", "trend_p_value": 0.001} if period == "2025" else {}
        rows = {
            ADMISSIONS: [
                _row(area["role"], area["code"], area["name"], 50.0 - i, 0.5, **trend),
                _row("country", "DK", "Hele landet", 50.0 - i, 0.1),
            ]
        }
        frames.append(hand_made(rows, period).values)
    pack = dataclasses.replace(_base(), values=pd.concat(frames))
    (only,) = key_findings(pack)
    assert only.sentence_da == (
        "Forebyggelige indlæggelser blandt ældre: Sundhedsklynge Byen har en statistisk "
        "signifikant faldende udvikling (2021: 49,0; 2025: 45,0 pr. 1.000 borgere 65+)."
    )
    assert (only.kind, only.level, only.benchmark_period) == ("trend", LEVEL_998, "2021")


def test_trend_without_an_earlier_value_shows_the_latest_only() -> None:
    trend = {"trend": "increasing", "trend_p_value": 0.03}
    pack = hand_made({ADMISSIONS: [_row("area", "hovedstaden-byen", "Byen", 45.0, 0.5, **trend)]})
    (only,) = key_findings(pack)
    assert only.sentence_da.endswith("stigende udvikling (2025: 45,0 pr. 1.000 borgere 65+).")
    assert (only.level, only.benchmark, only.benchmark_period) == (LEVEL_95, None, "")


def test_suppressed_or_missing_values_give_no_finding(pack: AreaPackData) -> None:
    found, _ = flags(pack)
    national = next(k for k in found if k[0] == "national")
    member = next(k for k in found if k[0] == "member_vs_area")
    v = pack.values.copy()
    for kind, ind, code, period in (national, member):
        at = (v["indicator_id"] == ind) & (v["area_code"] == code) & (v["period"] == period)
        at &= v["sex"] == "T"
        if kind == "national":
            v.loc[at, ["value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"]] = np.nan
            v.loc[at, "is_suppressed"] = True
        else:
            v.loc[at, "value"] = np.nan  # blank, not suppressed
    hidden = dataclasses.replace(pack, values=v)
    keys = {key(f) for f in candidates(hidden)}
    assert national not in keys and member not in keys
    assert ("trend", *national[1:]) not in keys
    check_against_flags(hidden, key_findings(hidden))


def test_a_missing_benchmark_gives_no_finding() -> None:
    pack = hand_made(
        {
            ADMISSIONS: [
                _row("area", "hovedstaden-byen", "Byen", 41.0, 1.0, compared_to_national="better"),
                _row("country", "DK", "Hele landet", np.nan, np.nan, is_suppressed=True),
            ]
        }
    )
    assert key_findings(pack) == []


def test_nothing_significant_gives_no_findings_and_the_sheet_says_so(pack: AreaPackData) -> None:
    v = pack.values.assign(
        compared_to_area="similar",
        compared_to_national="similar",
        compared_to_national_998="similar",
        trend=pack.values["trend"].replace({"increasing": "no_change", "decreasing": "no_change"}),
    )
    quiet = dataclasses.replace(pack, values=v)
    assert key_findings(quiet) == []
    assert headline([]) == [NO_FINDINGS_DA]
    ws = _written(quiet)
    assert ws["A5"].value == NO_FINDINGS_DA
    assert not [c for row in ws.iter_rows() for c in row if c.hyperlink and c.row > 2]


def test_headline_is_the_first_sentences(pack: AreaPackData) -> None:
    findings = key_findings(pack)
    assert headline(findings) == [f.sentence_da for f in findings[:3]]
    assert headline(findings, n=1) == [findings[0].sentence_da]


# --------------------------------------------------------------------------- the sheet


def _written(pack: AreaPackData, findings: list[KeyFinding] | None = None) -> Any:
    wb = Workbook()
    sheet = Sheet(wb.create_sheet(key_points.KEY_POINTS), Styles(wb), pack.suppression_threshold)
    key_points.write(sheet, Context.of(pack), findings)
    sheet.finish()
    return sheet.ws


def test_the_sheet_lists_the_findings_with_links_to_their_sheets(pack: AreaPackData) -> None:
    findings = key_findings(pack)
    ws = _written(pack)
    assert ws.title == key_points.KEY_POINTS == "Hovedpointer"
    assert ws["A1"].value.startswith("Hovedpointer")
    assert "99,8 %" in ws["A3"].value and "statistisk signifikante" in ws["A3"].value
    assert [c.value for c in ws[5]] == list(key_points.HEADERS)
    names = Context.of(pack).sheet_names
    built = build(pack, charts=None).wb.sheetnames  # the sheets the links must reach
    for i, f in enumerate(findings):
        row = 6 + i
        assert (ws.cell(row, 1).value, ws.cell(row, 2).value) == (i + 1, f.sentence_da)
        assert ws.cell(row, 3).value == f.level
        link = ws.cell(row, 4)
        assert link.value == names[f.indicator_id] in built
        assert link.hyperlink.location == f"'{names[f.indicator_id]}'!A1"
    assert ws.cell(6 + len(findings), 2).value is None


def test_the_sheet_takes_findings_computed_once(pack: AreaPackData) -> None:
    findings = key_findings(pack, limit=2)[:2]
    ws = _written(pack, findings)
    assert [ws.cell(r, 2).value for r in (6, 7, 8)] == [*(f.sentence_da for f in findings), None]


# --------------------------------------------------------------------------- the sample's packs


@pytest.mark.slow
def test_every_pack_of_the_sample(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The packs of the embedded sample (built once per session, shared with the other sample
    tests): every sentence has its flag; no 99.8 % difference from Denmark is left out."""
    sample: SamplePacks = built_packs(tmp_path_factory)
    warehouse = _national_998(sample.settings.warehouse_path)
    for partition, mart in sample.marts.items():
        pack = load_area_pack_data(mart)
        if "compared_to_national_998" not in pack.values.columns:  # not yet in the area mart
            keys = ["indicator_id", "area_level", "grouping", "area_code", "period", "sex"]
            pack.values = pack.values.merge(warehouse, on=keys, how="left", validate="m:1")
        findings = key_findings(pack)
        assert findings, partition
        check_against_flags(pack, findings)
        assert [f.strength for f in findings] == sorted(
            (f.strength for f in findings), reverse=True
        )


def _national_998(path: Path) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(
            "SELECT indicator_id, area_level, grouping, area_code, period, sex, "
            "compared_to_national_998 FROM mart.indicator_value"
        ).df()
