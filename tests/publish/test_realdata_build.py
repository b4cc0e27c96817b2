"""The real FOLK1A extract dropped beside the embedded sample, through every stage of a refresh.

The file (``../shared/realdata/FOLK1A.csv``, never copied into the project; skipped when absent)
covers 6 municipalities, first quarters 2008–2020, and lacks age 38. The rule under test: what it
covers is real, what it does not cover is missing (never filled from the sample), values built
from it and a synthetic numerator say "mixed", and no aggregate with a missing member is shown.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from datapakke.config import SAMPLE_DIR, Settings, get_settings
from tests.raw.test_realdata_readers import realdata

COVERED = {"147", "400", "461", "561", "751", "851"}  # Frederiksberg … Aarhus, per its README
AREAS = ("region.nordjylland", "klynge2022.bornholm")


@dataclass(frozen=True)
class RealBuild:
    settings: Settings
    values: pd.DataFrame  # mart.indicator_value
    packs: dict[str, Path]
    site: Path


@pytest.fixture(scope="module")
def real_build(tmp_path_factory: pytest.TempPathFactory) -> RealBuild:
    from datapakke.pipeline import run_all

    folk1a = realdata("FOLK1A.csv")
    root = tmp_path_factory.mktemp("realdata-build")
    shutil.copytree(SAMPLE_DIR, root / "raw" / "sample")
    drop = root / "raw" / "statbank" / "FOLK1A" / "FOLK1A.csv"
    drop.parent.mkdir(parents=True)
    shutil.copyfile(folk1a, drop)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATAPAKKE_RAW_DIR", str(root / "raw"))
        patch.setenv("DATAPAKKE_MARTS_DIR", str(root / "marts"))
        settings = get_settings()
        report = run_all(settings, list(AREAS))
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        values = con.execute("SELECT * FROM mart.indicator_value").df()
    packs = {r.partition_key: r.pack_path for r in report.packs}
    return RealBuild(settings, values, packs, report.site.page)


def _rows(build: RealBuild, indicator: str, level: str, code: str) -> pd.DataFrame:
    v = build.values
    return v[
        (v["indicator_id"] == indicator)
        & (v["area_level"] == level)
        & (v["area_code"] == code)
        & (v["sex"] == "T")
    ]


def test_covered_municipalities_are_real_and_the_rest_missing(real_build: RealBuild) -> None:
    aalborg = _rows(real_build, "population_65plus_pct", "municipality", "851")
    assert set(aalborg["period"]) == {str(y) for y in range(2008, 2021)}  # the file's years
    assert set(aalborg["data_origin"]) == {"real"}
    for code in ("101", "787"):  # København and Thisted: not in the file, never sample values
        assert _rows(real_build, "population_65plus_pct", "municipality", code).empty, code
        assert _rows(real_build, "home_help_recipients_65plus_pct", "municipality", code).empty


def test_the_missing_age_withholds_only_what_counts_it(real_build: RealBuild) -> None:
    # the share of 65+ divides by every age, 38 included: withheld, with the reason
    share = _rows(real_build, "population_65plus_pct", "municipality", "851")
    assert share["value"].isna().all()
    assert share["value_note"].str.startswith("Ufuldstændig i kilden").all()
    # home help among the 65+ counts no 38-year-old: published
    home_help = _rows(real_build, "home_help_recipients_65plus_pct", "municipality", "851")
    assert home_help["value"].notna().all() and len(home_help) >= 5


def test_a_synthetic_numerator_over_a_real_population_is_mixed(real_build: RealBuild) -> None:
    home_help = _rows(real_build, "home_help_recipients_65plus_pct", "municipality", "851")
    assert set(home_help["data_origin"]) == {"mixed"}
    origins = real_build.values.groupby("indicator_id")["data_origin"].unique()
    assert list(origins["population_total"]) == ["real"]
    assert list(origins["readmissions_30d_65plus_pct"]) == ["synthetic"]  # no population in it


def test_no_aggregate_is_shown_with_members_missing(real_build: RealBuild) -> None:
    for level, code in (("country", "DK"), ("region", "nordjylland")):
        rows = _rows(real_build, "home_help_recipients_65plus_pct", level, code)
        assert not rows.empty and rows["value"].isna().all(), (level, code)
    bornholm = _rows(real_build, "home_help_recipients_65plus_pct", "area", "bornholm")
    assert bornholm["value"].notna().all() and not bornholm.empty  # its one member is covered


def test_packs_and_page_show_the_data_status(real_build: RealBuild) -> None:
    book = load_workbook(real_build.packs["region.nordjylland"], read_only=True)
    front = " ".join(str(c) for row in book["Forside"].iter_rows(values_only=True) for c in row)
    assert "Blandet: rigtige data fra" in front and "områdets kommuner: 1 af 11" in front
    status = [r for r in book["Datastatus"].iter_rows(values_only=True)]
    folk1a = next(r for r in status if r[1] == "Rigtige data")
    assert folk1a[2] == "statbank/FOLK1A/FOLK1A.csv"
    assert folk1a[3] == "2008K1–2020K1, 13 perioder"
    assert str(folk1a[4]).startswith("1 af 11 (mangler: ")
    assert folk1a[5] == 31_200  # rows read
    page = real_build.site.read_text(encoding="utf-8")
    assert "statbank/FOLK1A/FOLK1A.csv" in page and "6 af 98" in page
