"""Packs: charts and the Excel data pack per area, and the static download page."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from assets.marts import area_mart
from assets.metadata import png_thumbnail
from assets.partitions import PARTITION_NAMES_MD, area_partitions
from assets.resources import DatapakkeSettings
from datapakke.geography import default_geography
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
        metadata |= _pack_metadata(reports[0], thumbnail_width=None)
        if "pyramid" in reports[0].chart_paths:
            metadata["pyramid"] = png_thumbnail(reports[0].chart_paths["pyramid"], "pyramid")
        return dg.MaterializeResult(metadata=metadata)
    # One run builds many partitions and Dagster records one materialization for all of them;
    # each partition's own path, size, time and chart go in an observation of that partition.
    for report in reports:
        context.log_event(
            dg.AssetObservation(
                asset_key=context.asset_key,
                partition=report.partition_key,
                metadata=_pack_metadata(report, thumbnail_width=480),
            )
        )
    return dg.MaterializeResult(metadata=metadata)


def _pack_metadata(report: PackReport, thumbnail_width: int | None) -> dict[str, object]:
    """One area's pack as the UI shows it: name, path, size, build time, charts, overview."""
    built = datetime.fromtimestamp(report.pack_path.stat().st_mtime, UTC)
    metadata: dict[str, object] = {
        "area_name": default_geography().area_by_partition_key(report.partition_key).name,
        "path": dg.MetadataValue.path(str(report.pack_path)),
        "size_kb": round(report.pack_bytes / 1024, 1),
        "built_at": dg.MetadataValue.timestamp(built),
        "charts": len(report.chart_paths),
    }
    if "overview" in report.chart_paths:
        metadata["overview"] = png_thumbnail(
            report.chart_paths["overview"], "overview", thumbnail_width
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
    from datapakke.publish.refresh_status import record_success
    from datapakke.publish.site import build_site

    if context.job_name == "refresh_all":  # every step before this one succeeded: data as of now
        record_success(settings.get(), datetime.now(UTC))
    path = build_site(settings.get(), default_geography())
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path))})


pack_freshness_checks = dg.build_last_update_freshness_checks(
    assets=[area_pack], lower_bound_delta=timedelta(days=1), severity=dg.AssetCheckSeverity.WARN
)
