"""Correct or absent: a municipality whose rows were quarantined is missing, and no figure that
includes it is published (issue: negative deaths for Aalborg 2023 published wrong aggregates)."""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from datapakke.config import SAMPLE_DIR, get_settings
from datapakke.core.stage import build_core_tables
from datapakke.geography import default_geography
from datapakke.mart.catalogue import load_catalogue
from datapakke.mart.completeness import REJECTED_NOTE_DA
from datapakke.mart.indicators import EngineInputs, indicator_frames, published_counts
from datapakke.mart.stage import build_indicator_values
from datapakke.raw.registry import load_registry
from datapakke.raw.stage import ingest_sources
from datapakke.warehouse import read_frame
from tests.mart.test_indicators import CATALOGUE, UNITS, counts_frame

GEO = default_geography()
AALBORG = "851"


def units_with(code: str) -> set[tuple[str, str, str]]:
    """Every published unit that has ``code`` as a member (its own row included)."""
    rows = UNITS[UNITS["municipality_code"] == code]
    return set(zip(rows["area_level"], rows["grouping"], rows["area_code"], strict=True))


def test_a_missing_member_withholds_every_unit_that_includes_it() -> None:
    ind = CATALOGUE["psychiatric_acute_admissions_per_1000"]
    numerator = counts_frame({})
    numerator = numerator[numerator["municipality_code"] != AALBORG]  # its rows were rejected
    inputs = EngineInputs(
        units=UNITS,
        counts={ind.numerator: numerator, ind.denominator: counts_frame({})},
        weights=pd.DataFrame({"age_band": [], "weight": []}),
        missing=pd.DataFrame(
            {
                "measure_id": [ind.numerator.measure],
                "municipality_code": [AALBORG],
                "period": ["2024"],
                "age_band": [None],
                "reasons": ["quarantined"],
            }
        ),
    )
    values = indicator_frames(inputs, [ind], published_counts(inputs, [ind], 5), 5)[0]
    keys = list(zip(values["area_level"], values["grouping"], values["area_code"], strict=True))
    touched = pd.Series([k in units_with(AALBORG) for k in keys], index=values.index)

    hit = values[touched]
    # Aalborg itself, its cluster and council, Region Nordjylland and Denmark; every sex.
    assert len(hit) == 3 * len(units_with(AALBORG))
    assert hit[["numerator", "value", "ci95_low", "ci95_high"]].isna().all().all()
    own = hit[hit["area_level"] == "municipality"]
    assert set(own["value_note"]) == {REJECTED_NOTE_DA}
    others = hit[hit["area_level"] != "municipality"]
    assert others["value_note"].str.contains("Aalborg mangler (afvist i kilden)", regex=False).all()
    assert (others["compared_to_national"] == "not_compared").all()
    # Units without Aalborg are published as usual.
    assert values.loc[~touched, "value"].notna().all()


def test_an_indicator_with_no_row_left_still_says_why_its_member_is_missing() -> None:
    """Real FOLK1A lacking age 38 everywhere: nothing is computed for the total population, and
    the municipality's own cell still gets its note (the engine once failed here)."""
    ind = CATALOGUE["psychiatric_acute_admissions_per_1000"]
    inputs = EngineInputs(
        units=UNITS,
        counts={ind.numerator: counts_frame({}), ind.denominator: counts_frame({}).iloc[0:0]},
        weights=pd.DataFrame({"age_band": [], "weight": []}),
        missing=pd.DataFrame(
            {
                "measure_id": [ind.denominator.measure],
                "municipality_code": [AALBORG],
                "period": ["2024"],
                "age_band": ["35-39"],
                "reasons": ["age_gap"],
            }
        ),
    )
    values = indicator_frames(inputs, [ind], published_counts(inputs, [ind], 5), 5)[0]
    own = values[values["area_code"] == AALBORG]
    assert len(own) == 1 and own["value"].isna().all()
    assert own["value_note"].str.startswith("Ufuldstændig i kilden").all()


def _drop_negative_deaths(raw_dir: Path, year: str, code: str, bands: int) -> int:
    """The sample's FOD207 dropped as an analyst's file, with negative deaths for ``code`` in
    ``year`` in its first ``bands`` rows; returns how many rows were made negative."""
    text = (SAMPLE_DIR / "statbank" / "FOD207.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, body = rows[0], rows[1:]
    where = {name: i for i, name in enumerate(header)}
    changed = 0
    for row in body:
        chosen = row[where["OMRÅDE"]] == code and row[where["TID"]] == year
        if chosen and changed < bands and row[where["INDHOLD"]] not in ("0", ".."):
            row[where["INDHOLD"]] = "-" + row[where["INDHOLD"]]
            changed += 1
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([header, *body])
    target = raw_dir / "statbank" / "FOD207" / "FOD207-rettet.csv"
    target.parent.mkdir(parents=True)
    target.write_text(out.getvalue(), encoding="utf-8-sig")
    return changed


@pytest.fixture(scope="module")
def partly_rejected_build(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("completeness")
    raw = tmp / "raw"
    shutil.copytree(SAMPLE_DIR, raw / "sample")
    changed = _drop_negative_deaths(raw, "2023", AALBORG, bands=3)
    settings = replace(get_settings(), raw_dir=raw, marts_dir=tmp / "marts")
    reports = ingest_sources(load_registry(), settings, GEO)
    build_core_tables(settings)
    report = build_indicator_values(settings, GEO)
    values = read_frame(settings.warehouse_path, "SELECT * FROM mart.indicator_value")
    return changed, {r.source_id: r for r in reports}, report, values, settings


@pytest.mark.slow
def test_negative_deaths_for_one_municipality_year_publish_no_wrong_aggregate(
    partly_rejected_build,
) -> None:
    changed, reports, report, values, _ = partly_rejected_build
    deaths = reports["fod207_deaths"]
    assert changed == 3 and deaths.status == "accepted" and len(deaths.quarantine) == 3
    assert report.audit_findings == [] and report.schema_errors == ""

    uses_deaths = {
        ind.id
        for ind in load_catalogue()
        if "deaths" in {ind.numerator.measure, getattr(ind.denominator, "measure", None)}
    }
    assert uses_deaths
    mortality = values[values["indicator_id"].isin(uses_deaths)]
    keys = zip(mortality["area_level"], mortality["grouping"], mortality["area_code"], strict=True)
    with_aalborg = np.array([k in units_with(AALBORG) for k in keys])

    year = mortality[with_aalborg & (mortality["period"] == "2023").to_numpy()]
    assert len(year) > 0
    for column in ("numerator", "value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"):
        assert year[column].isna().all(), column
    assert (year["compared_to_national"] == "not_compared").all()
    own = year[year["area_level"] == "municipality"]
    assert set(own["value_note"]) == {REJECTED_NOTE_DA}
    assert (
        year.loc[year["area_level"] != "municipality", "value_note"]
        .str.contains("Aalborg mangler")
        .all()
    )

    # Other years of the same units, and 2023 in units without Aalborg, are still published.
    other_years = mortality[with_aalborg & (mortality["period"] == "2022").to_numpy()]
    assert other_years.loc[other_years["sex"] == "T", "value"].notna().all()
    elsewhere = mortality[~with_aalborg & (mortality["period"] == "2023").to_numpy()]
    assert elsewhere.loc[elsewhere["area_level"] != "municipality", "value"].notna().all()


@pytest.mark.slow
def test_every_pack_built_meanwhile_says_rows_were_rejected(
    partly_rejected_build, tmp_path
) -> None:
    from openpyxl import load_workbook

    from datapakke.publish.area_mart import load_area_pack_data
    from datapakke.publish.stage import build_area_marts, build_area_pack
    from datapakke.publish.workbook import indicator_sheet_names

    settings = partly_rejected_build[4]
    area = GEO.area("region", "hovedstaden")  # far from Aalborg: the caveat is still shown
    build_area_marts([area], settings, GEO, workers=1)
    pack = load_area_pack_data(settings.area_outputs(area.grouping, area.area_id).mart)
    caveats = [note for note in pack.notes if note.startswith("Forbehold om")]
    assert len(caveats) == 1 and "3 rækker" in caveats[0] and "Aalborg 2023" in caveats[0]

    report = build_area_pack(area.partition_key, settings)
    book = load_workbook(report.pack_path, read_only=True)
    names = indicator_sheet_names(pack.catalogue)

    def text_of(sheet: str) -> str:
        rows = book[sheet].iter_rows(values_only=True)
        return " ".join(str(c) for row in rows for c in row if c)

    for sheet in ("Forside", "Datastatus", names["mortality_asr_per_100000"]):
        assert "Aalborg 2023" in text_of(sheet) and "raw.quarantine" in text_of(sheet), sheet
    assert "Aalborg 2023" not in text_of(names["population_total"])  # not fed by deaths
    from datapakke.publish.site.build import publish_area

    entry = publish_area(settings, area, tmp_path)
    assert len(entry.caveats) == 1 and "Aalborg 2023" in entry.caveats[0]
