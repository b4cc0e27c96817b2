"""The whole refresh as a readable flow: raw → core → mart → publish.

``run_all`` runs every stage and check in a plain loop, with no orchestration: the same functions
the Dagster assets and checks call (and the benchmark's baseline for what orchestration adds).
Read the stage functions it calls, in order, to follow the data.
"""

from __future__ import annotations

from dataclasses import dataclass

from datapakke.config import Settings, get_settings
from datapakke.core.stage import (
    CoreReport,
    ReferenceCheck,
    build_core_tables,
    check_reference_integrity,
)
from datapakke.geography import default_geography
from datapakke.mart.stage import IndicatorReport, build_indicator_values
from datapakke.publish.site.build import SiteReport
from datapakke.publish.stage import AreaMartReport, PackReport, build_area_marts, build_area_packs
from datapakke.raw.registry import load_registry
from datapakke.raw.stage import SourceCheck, SourceReport, check_source, ingest_sources
from datapakke.timing import Stopwatch


@dataclass
class RefreshReport:
    """What one plain-loop refresh did, with the wall time of each stage."""

    sources: list[SourceReport]
    source_checks: dict[str, SourceCheck]
    core: CoreReport
    reference: ReferenceCheck
    indicators: IndicatorReport
    marts: list[AreaMartReport]
    packs: list[PackReport]
    site: SiteReport
    seconds: dict[str, float]  # stage → wall seconds, in the order run


def run_all(settings: Settings | None = None, area_keys: list[str] | None = None) -> RefreshReport:
    """Every step and check in a plain loop, no orchestration (the benchmark's baseline: the
    same functions the Dagster assets and checks call). ``area_keys`` limits the area marts and
    packs to those partitions (the warehouse and the page are always whole)."""
    from datapakke.publish.site import refresh_site

    settings = settings or get_settings()
    geo = default_geography()
    areas = (
        [geo.area_by_partition_key(key) for key in area_keys]
        if area_keys
        else list(geo.areas.values())
    )
    watch = Stopwatch()
    with watch("ingest + validate"):
        sources = ingest_sources(load_registry(), settings, geo)
        checks = {r.source_id: check_source(settings, r.source_id) for r in sources}
    with watch("warehouse (core)"):
        core = build_core_tables(settings)
        reference = check_reference_integrity(settings, geo)
    with watch("indicators + disclosure"):
        indicators = build_indicator_values(settings, geo)
    with watch("area marts"):
        marts = build_area_marts(areas, settings, geo)
    with watch("charts + packs"):
        packs = build_area_packs([a.partition_key for a in areas], settings)
    with watch("site"):
        site = refresh_site(settings, geo)
    return RefreshReport(
        sources, checks, core, reference, indicators, marts, packs, site, watch.seconds
    )
