"""The embedded sample, built once per test session into pytest's temporary folder.

``built_warehouse`` runs raw → core → mart (about 35 s); ``built_packs`` adds the area marts and
the Excel packs of the five regions and two clusters (Bornholm, a one-municipality cluster, and
Byen, with the shared København) on top of the same warehouse. Packs are written without charts:
the tests here read cells and sheet XML, and charts are the slow part of a full build.

The result is cached in this module, so every test module of the session that asks gets the same
build (there is no conftest to hold a session fixture); pass it ``tmp_path_factory``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from datapakke.config import SAMPLE_DIR, Settings, get_settings
from datapakke.geography import default_geography

PACK_AREAS = (
    "region.nordjylland",
    "region.midtjylland",
    "region.syddanmark",
    "region.hovedstaden",
    "region.sjaelland",
    "klynge2022.bornholm",
    "klynge2022.hovedstaden-byen",
)


@dataclass(frozen=True)
class SamplePacks:
    settings: Settings
    marts: dict[str, Path]  # partition key → the area's mart.duckdb
    packs: dict[str, Path]  # partition key → the area's pack


_CACHE: dict[str, object] = {}


def _environment(root: Path) -> dict[str, str]:
    return {"DATAPAKKE_RAW_DIR": str(root / "raw"), "DATAPAKKE_MARTS_DIR": str(root / "marts")}


def built_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a warehouse built from a copy of the embedded sample (built once)."""
    if "warehouse" not in _CACHE:
        from datapakke.core.stage import build_core_tables
        from datapakke.mart.stage import build_indicator_values
        from datapakke.raw.registry import load_registry
        from datapakke.raw.stage import ingest_sources

        root = tmp_path_factory.mktemp("sample-build")
        shutil.copytree(SAMPLE_DIR, root / "raw" / "sample")
        geo = default_geography()
        with pytest.MonkeyPatch.context() as patch:
            for name, value in _environment(root).items():
                patch.setenv(name, value)
            settings = get_settings()
            ingest_sources(load_registry(), settings, geo)
            build_core_tables(settings)
            build_indicator_values(settings, geo)
        _CACHE["root"] = root
        _CACHE["warehouse"] = settings
    return _CACHE["warehouse"]  # type: ignore[return-value]


def private_warehouse(tmp_path_factory: pytest.TempPathFactory, folder: Path) -> Settings:
    """Settings whose warehouse is a private copy of the sample's (in ``folder``/marts), built
    and verified: a test may change it without touching other tests' copy."""
    built = built_warehouse(tmp_path_factory)
    settings = replace(built, marts_dir=folder / "marts")
    settings.marts_dir.mkdir()
    shutil.copy2(built.warehouse_path, settings.warehouse_path)
    return settings


def built_packs(tmp_path_factory: pytest.TempPathFactory) -> SamplePacks:
    """The warehouse plus the area marts and packs of ``PACK_AREAS`` (built once)."""
    if "packs" not in _CACHE:
        from datapakke.publish.area_mart import load_area_pack_data
        from datapakke.publish.stage import build_area_marts
        from datapakke.publish.workbook import write_pack

        settings = built_warehouse(tmp_path_factory)
        geo = default_geography()
        areas = [geo.area_by_partition_key(key) for key in PACK_AREAS]
        with pytest.MonkeyPatch.context() as patch:
            for name, value in _environment(_CACHE["root"]).items():  # type: ignore[arg-type]
                patch.setenv(name, value)
            reports = build_area_marts(areas, settings, geo)
            marts = {r.partition_key: r.path for r in reports}
            packs = {}
            for key, area in zip(PACK_AREAS, areas, strict=True):
                pack = load_area_pack_data(marts[key])
                target = settings.area_outputs(area.grouping, area.area_id).pack
                packs[key] = write_pack(pack, {}, target)
        _CACHE["packs"] = SamplePacks(settings, marts, packs)
    return _CACHE["packs"]  # type: ignore[return-value]
