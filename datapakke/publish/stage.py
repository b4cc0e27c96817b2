"""The publish stage: per-area marts cut from the protected mart, then each area's charts and pack.

Packs are built by a small process pool (charts are CPU-bound); each reads only its own area mart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from itertools import chain
from pathlib import Path

from datapakke.atomic import sweep_leftovers
from datapakke.config import Settings, get_settings
from datapakke.geography import Area, Geography, default_geography
from datapakke.parallel import map_in_pool
from datapakke.publish.area_mart import (
    area_tables,
    code_version,
    load_area_pack_data,
    load_published,
    recorded_area_input,
    write_area_mart,
)
from datapakke.publish.changes import Changes, compare
from datapakke.publish.key_findings import headline, key_findings
from datapakke.publish.snapshot import content_fingerprint, snapshot_of, with_charts
from datapakke.versions import (
    INDICATOR_STAGE,
    code_digest,
    digest,
    recorded_input,
    reference_digest,
)
from datapakke.warehouse import connect


def build_area_marts(
    areas: list[Area],
    settings: Settings | None = None,
    geo: Geography | None = None,
    workers: int = 2,
) -> list[AreaMartReport]:
    """Write the per-area marts whose inputs changed; each worker reads the warehouse once.

    An area's mart is rewritten only when its input fingerprint (the indicators as built, the
    reference data, settings and code: ``area_marts_input``) differs from the one it
    records, so a quiet night leaves every mart's bytes and mtime alone. Temporary files a
    killed earlier run left beside the published ones are removed first.
    """
    settings = settings or get_settings()
    geo = geo or default_geography()
    for area in areas:
        sweep_leftovers(settings.area_outputs(area.grouping, area.area_id).folder)
    version = code_version()
    with connect(settings.warehouse_path, read_only=True) as con:
        indicators = recorded_input(con, INDICATOR_STAGE)
    made_from = area_marts_input(settings, indicators, version)
    fingerprints = {area.partition_key: digest(area.partition_key, made_from) for area in areas}
    stale = [
        area
        for area in areas
        if recorded_area_input(settings.area_outputs(area.grouping, area.area_id).mart)
        != fingerprints[area.partition_key]
    ]
    written: set[str] = set()
    if stale:
        write = partial(
            _write_area_marts,
            settings=settings,
            geo=geo,
            built_at=datetime.now(UTC).replace(microsecond=0),
            version=version,
            fingerprints=fingerprints,
        )
        workers = max(1, min(workers, len(stale)))
        shares = [stale[i::workers] for i in range(workers)]
        written = set(chain.from_iterable(map_in_pool(write, shares, workers)))
    return [
        AreaMartReport(
            area.partition_key,
            settings.area_outputs(area.grouping, area.area_id).mart,
            fingerprints[area.partition_key],
            rewritten=area.partition_key in written,
        )
        for area in areas
    ]


@dataclass
class AreaMartReport:
    partition_key: str
    path: Path
    input_fingerprint: str  # what the mart is built from (the partition's data version)
    rewritten: bool  # False: its inputs were as recorded in it, the file was left alone


def area_marts_input(settings: Settings, indicators: str | None, version: str) -> str:
    """What every area mart is cut from (an area's fingerprint adds its partition key): the
    indicators as built, the reference data (members and names), the settings it records and
    the code cutting it."""
    code = code_digest("publish/area_mart.py", "publish/pack_data.py", "schemas.py")
    return digest(
        indicators,
        reference_digest(settings),
        settings.contact_da,
        settings.suppression_threshold,
        version,
        code,
    )


def _write_area_marts(
    areas: list[Area],
    settings: Settings,
    geo: Geography,
    built_at: datetime,
    version: str,
    fingerprints: dict[str, str],
) -> list[str]:
    published = load_published(settings.warehouse_path, geo)
    for area in areas:
        tables = area_tables(published, geo, area)
        fingerprint = fingerprints[area.partition_key]
        write_area_mart(settings, geo, area, tables, built_at, version, fingerprint)
    return [area.partition_key for area in areas]


@dataclass
class PackReport:
    partition_key: str
    pack_path: Path
    chart_paths: dict[str, Path]
    pack_bytes: int
    chart_seconds: float  # drawing and writing every chart of the pack
    workbook_seconds: float  # building and writing the Excel file
    unchanged: bool = False  # same content as the latest pack: nothing was written
    fingerprint: str = ""  # the mart's content fingerprint (publish.snapshot)
    fingerprint_seconds: float = 0.0  # computing it and reading the latest pack's snapshot
    changes: Changes | None = None  # what "Nyt siden sidst" says (None when unchanged)


def build_area_pack(area_key: str, settings: Settings | None = None) -> PackReport:
    """Charts and the Excel pack for one area, from its published mart.

    When the mart's content fingerprint equals the latest pack's, nothing is drawn or written
    (the pack, its charts and history keep their bytes and mtimes) and the report says
    ``unchanged``: a quiet night neither rewrites packs nor fills history with copies."""
    from datapakke.publish.charts import render_area_charts
    from datapakke.publish.charts.png import thumbnail_of
    from datapakke.publish.workbook import publish_pack
    from datapakke.publish.workbook.files import latest_built_at, latest_snapshot, prune_history

    settings = settings or get_settings()
    area = default_geography().area_by_partition_key(area_key)
    outputs = settings.area_outputs(area.grouping, area.area_id)
    sweep_leftovers(outputs.folder)  # what a killed earlier build left beside the pack
    started = time.perf_counter()
    latest = latest_snapshot(outputs, with_values=False)
    mart_input = recorded_area_input(outputs.mart) or ""
    if latest is not None and latest.fingerprint and mart_input and latest.mart_input == mart_input:
        fingerprint = latest.fingerprint  # the very mart the latest pack was drawn from
    else:
        fingerprint = content_fingerprint(outputs.mart)
    fingerprinted = time.perf_counter() - started
    if latest is not None and latest.fingerprint == fingerprint:
        charts = {name: outputs.chart(name) for name in latest.charts}
        if all(path.is_file() for path in charts.values()):
            prune_history(outputs, settings.history_keep)  # only if history_keep was lowered
            return PackReport(
                area_key,
                outputs.pack,
                charts,
                outputs.pack.stat().st_size,
                0.0,
                0.0,
                unchanged=True,
                fingerprint=fingerprint,
                fingerprint_seconds=fingerprinted,
            )
    pack = load_area_pack_data(outputs.mart)
    previous = latest_snapshot(outputs) if latest is not None else None
    findings = key_findings(pack)  # once: the map, the front page, the sheet and the page
    snapshot = snapshot_of(pack, fingerprint, headline=headline(findings), mart_input=mart_input)
    earlier = latest_built_at(outputs) if previous is None else None
    changes = compare(snapshot, previous, earlier_pack_built_at=earlier)
    started = time.perf_counter()
    charts = render_area_charts(pack, outputs.charts_dir, findings)
    thumbnail_of(charts["overview"])  # here, in the pool, not later in the UI's or page's step
    charted = time.perf_counter()
    snapshot = with_charts(snapshot, charts)
    path = publish_pack(pack, charts, outputs, settings.history_keep, snapshot, changes, findings)
    written = time.perf_counter()
    return PackReport(
        area_key,
        path,
        charts,
        path.stat().st_size,
        charted - started,
        written - charted,
        fingerprint=fingerprint,
        fingerprint_seconds=fingerprinted,
        changes=changes,
    )


def build_area_packs(
    area_keys: list[str], settings: Settings | None = None, workers: int = 2
) -> list[PackReport]:
    """Build many packs with a small process pool (charts are CPU-bound; 2 cores here)."""
    settings = settings or get_settings()
    geo = default_geography()
    # Largest areas first, so the last packs to finish are small ones and both workers stay busy.
    by_size = sorted(area_keys, key=lambda key: -len(geo.area_by_partition_key(key).members))
    reports = map_in_pool(partial(build_area_pack, settings=settings), by_size, workers)
    by_key = {report.partition_key: report for report in reports}
    return [by_key[key] for key in area_keys]
