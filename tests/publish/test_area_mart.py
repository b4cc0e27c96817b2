"""Per-area marts: what a reader must know about the sources travels with the values."""

from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime

import pandas as pd
import pytest

from datapakke.geography import default_geography
from datapakke.publish.area_mart import (
    area_tables,
    load_published,
    recorded_area_input,
    with_caveats,
    write_area_mart,
)
from tests.publish.sample_build import built_warehouse

GEO = default_geography()


def sources(**overrides) -> pd.DataFrame:
    row = {
        "source_id": "fod207_deaths",
        "title": "Døde (FOD207)",
        "file": "statbank/FOD207/FOD207-rettet.csv",
        "latest_file": "statbank/FOD207/FOD207-rettet.csv",
        "status": "accepted",
        "message": "",
        "rows_quarantined": 0,
        "measures": "deaths",
    }
    return pd.DataFrame([{**row, **overrides}])


MISSING = pd.DataFrame(
    {"source_id": ["fod207_deaths"], "municipality_code": ["851"], "period": ["2023"]}
)


def test_a_clean_source_has_no_caveat() -> None:
    assert with_caveats(sources(), MISSING.iloc[:0], GEO)["caveat_da"].tolist() == [""]


def test_quarantined_rows_are_named_with_the_figures_they_remove() -> None:
    caveat = with_caveats(sources(rows_quarantined=3), MISSING, GEO)["caveat_da"].iloc[0]
    assert caveat.startswith("3 rækker i statbank/FOD207/FOD207-rettet.csv blev afvist")
    assert "Berørte tal vises ikke: Aalborg 2023." in caveat
    assert "raw_fod207_deaths" in caveat and "raw.quarantine" in caveat


def test_a_rejected_newest_file_says_the_older_file_is_used() -> None:
    caveat = with_caveats(
        sources(status="rejected", latest_file="statbank/FOD207/ny.csv", message="too many"),
        MISSING.iloc[:0],
        GEO,
    )["caveat_da"].iloc[0]
    assert "Den nyeste fil (statbank/FOD207/ny.csv) blev afvist" in caveat
    assert "statbank/FOD207/FOD207-rettet.csv" in caveat and "too many" in caveat


def test_the_recorded_input_follows_the_mart_file_not_a_stale_note(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The note beside a mart spares opening it, but a mart put back from elsewhere (a restore,
    a copy) or a damaged note must give the mart's own answer: a wrong one would skip a build."""
    built = built_warehouse(tmp_path_factory)
    published = load_published(built.warehouse_path, GEO)
    area = GEO.area_by_partition_key("klynge2022.bornholm")
    tables = area_tables(published, GEO, area)
    here = dataclasses.replace(built, marts_dir=tmp_path_factory.mktemp("here"))
    elsewhere = dataclasses.replace(built, marts_dir=tmp_path_factory.mktemp("elsewhere"))
    built_at = datetime(2026, 1, 1)
    path = write_area_mart(here, GEO, area, tables, built_at, "test", "first")
    assert recorded_area_input(path) == "first"
    write_area_mart(here, GEO, area, tables, built_at, "test", "second")
    assert recorded_area_input(path) == "second"

    restored = write_area_mart(elsewhere, GEO, area, tables, built_at, "test", "restored")
    shutil.copy2(restored, path)  # same size and mtime as the other mart; the note is stale
    assert recorded_area_input(path) == "restored"
    path.with_name("mart.duckdb.input.json").write_text("{not json", encoding="utf-8")
    assert recorded_area_input(path) == "restored"
    path.unlink()
    assert recorded_area_input(path) is None
