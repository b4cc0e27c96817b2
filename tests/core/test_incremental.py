"""Issue 15: a stage is rebuilt when what it is built from changed, and only then.

On a copy of the sample warehouse (``tests/publish/sample_build.py``), without Dagster: the
Dagster side (a quiet night rewrites no file under data/marts) is tested in
``tests/orchestration/test_dagster.py``.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from datapakke.config import Settings
from datapakke.core.stage import build_core_tables
from datapakke.mart.stage import build_indicator_values, indicator_input_fingerprint
from datapakke.versions import INDICATOR_STAGE, recorded_input
from tests.publish.sample_build import private_warehouse


@pytest.fixture
def warehouse(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
    return private_warehouse(tmp_path_factory, tmp_path)


def test_unchanged_core_and_indicators_write_nothing(warehouse: Settings) -> None:
    stamp = warehouse.warehouse_path.stat().st_mtime_ns
    core = build_core_tables(warehouse)
    indicators = build_indicator_values(warehouse)
    assert not core.rebuilt and not indicators.rebuilt
    assert core.counts["core.population"] > 0 and indicators.rows > 0
    assert indicators.audit_findings == [] and indicators.schema_errors == ""  # as verified
    assert warehouse.warehouse_path.stat().st_mtime_ns == stamp


def test_a_source_loaded_again_rebuilds_core_and_then_the_indicators(warehouse: Settings) -> None:
    with duckdb.connect(str(warehouse.warehouse_path)) as con:
        before = indicator_input_fingerprint(con, warehouse)
        con.execute(
            "UPDATE raw.source_file SET loaded_at = loaded_at + INTERVAL 1 DAY "
            "WHERE source_id = 'esundhed_psykiatri'"
        )
    core = build_core_tables(warehouse)
    assert core.rebuilt
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        after = indicator_input_fingerprint(con, warehouse)
        assert recorded_input(con, INDICATOR_STAGE) == before != after  # indicators now stale


def test_settings_and_reference_data_are_part_of_what_the_indicators_are_built_from(
    warehouse: Settings, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    shutil.copytree(warehouse.reference_dir, reference)
    with duckdb.connect(str(warehouse.warehouse_path), read_only=True) as con:
        now = indicator_input_fingerprint(con, warehouse)
        assert indicator_input_fingerprint(con, warehouse) == now  # deterministic
        threshold = dataclasses.replace(warehouse, suppression_threshold=10)
        assert indicator_input_fingerprint(con, threshold) != now
        moved = dataclasses.replace(warehouse, reference_dir=reference)
        assert indicator_input_fingerprint(con, moved) == now  # the same files elsewhere
        areas = reference / "areas.csv"
        areas.write_text(areas.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        assert indicator_input_fingerprint(con, moved) != now
