"""Packs: charts and the Excel data pack per area, and the static download page."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.events import DagsterEventType

from assets.marts import area_mart
from assets.metadata import png_thumbnail
from assets.partitions import PARTITION_NAMES_MD, area_partitions
from assets.resources import DatapakkeSettings
from datapakke.geography import default_geography
from datapakke.publish.charts.png import thumbnail_of
from datapakke.publish.stage import PackReport, build_area_packs


@dg.asset(
    group_name="packs",
    deps=[area_mart],
    partitions_def=area_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Charts (PNG) and datapakke-<grouping>-<area_id>.xlsx for one area; the previous "
    "pack moves to history/. Built from the area's published mart only.\n\n" + PARTITION_NAMES_MD,
    kinds={"excel", "matplotlib"},
    owners=["team:datapakker"],
    code_version="1",
)
def area_pack(
    context: dg.AssetExecutionContext, settings: DatapakkeSettings
) -> dg.MaterializeResult:
    reports = build_area_packs(list(context.partition_keys), settings.get())
    metadata: dict[str, object] = {
        "packs": len(reports),
        "unchanged": sum(r.unchanged for r in reports),  # same content: not rewritten
        "total_mb": round(sum(r.pack_bytes for r in reports) / 1e6, 2),
    }
    if len(reports) == 1:
        metadata |= _pack_metadata(reports[0], full_size=True)
        if "pyramid" in reports[0].chart_paths:
            metadata["pyramid"] = png_thumbnail(reports[0].chart_paths["pyramid"], "pyramid")
        # The pack is made from its mart's content: that is its data version.
        return dg.MaterializeResult(
            metadata=metadata, data_version=dg.DataVersion(reports[0].fingerprint)
        )
    # One run builds many partitions and Dagster records one materialization for all of them,
    # with one data version for all (dagster#34013), so none is given; each partition's own
    # path, size, time, chart and content fingerprint go in an observation of that partition.
    # An unchanged pack keeps the observation of the night it was built (same path, size, time
    # and chart): observing it again would add ~110 kB of picture per partition to the event
    # log every night. Partitions never observed (a new instance) are observed whatever.
    observed = context.instance.event_log_storage.get_latest_storage_id_by_partition(
        context.asset_key, DagsterEventType.ASSET_OBSERVATION
    )
    for report in reports:
        if report.unchanged and report.partition_key in observed:
            continue
        context.log_event(
            dg.AssetObservation(
                asset_key=context.asset_key,
                partition=report.partition_key,
                metadata=_pack_metadata(report, full_size=False),
            )
        )
    return dg.MaterializeResult(metadata=metadata)


def _pack_metadata(report: PackReport, full_size: bool) -> dict[str, object]:
    """One area's pack as the UI shows it: name, path, size, build time, charts, overview (its
    small copy when 44 partitions' charts would swell the event log)."""
    built = datetime.fromtimestamp(report.pack_path.stat().st_mtime, UTC)
    metadata: dict[str, object] = {
        "area_name": default_geography().area_by_partition_key(report.partition_key).name,
        "path": dg.MetadataValue.path(str(report.pack_path)),
        "size_kb": round(report.pack_bytes / 1024, 1),
        "built_at": dg.MetadataValue.timestamp(built),
        "charts": len(report.chart_paths),
        "rewritten": not report.unchanged,
        "content_fingerprint": report.fingerprint,
    }
    if "overview" in report.chart_paths:
        overview = report.chart_paths["overview"]
        metadata["overview"] = png_thumbnail(
            overview if full_size else thumbnail_of(overview), "overview"
        )
    return metadata


@dg.asset(
    group_name="site",
    deps=[area_pack],
    description="data/marts/site/index.html: the static download page listing every area's "
    "latest pack, earlier versions and an overview thumbnail.",
    kinds={"html"},
    owners=["team:datapakker"],
    code_version="1",
)
def download_site(
    context: dg.AssetExecutionContext, settings: DatapakkeSettings
) -> dg.MaterializeResult:
    from datapakke.publish.site import refresh_site

    # In refresh_all every step before this one succeeded: the data are as of now (if changed).
    succeeded_at = datetime.now(UTC) if context.job_name == "refresh_all" else None
    site = refresh_site(settings.get(), default_geography(), succeeded_at)
    return dg.MaterializeResult(
        metadata={"path": dg.MetadataValue.path(str(site.page)), "rebuilt": site.rebuilt},
        data_version=dg.DataVersion(site.input_fingerprint),
    )


pack_freshness_checks = dg.build_last_update_freshness_checks(
    assets=[area_pack], lower_bound_delta=timedelta(days=1), severity=dg.AssetCheckSeverity.WARN
)
