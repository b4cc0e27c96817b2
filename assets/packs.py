"""Packs: charts and the Excel data pack per area, and the static download page."""

from datetime import UTC, datetime, timedelta

import dagster as dg

from assets.marts import area_mart
from assets.metadata import png_thumbnail
from assets.partitions import PARTITION_NAMES_MD, area_partitions
from assets.resources import DatapakkeSettings
from datapakke.geography import default_geography
from datapakke.publish.stage import build_area_packs


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
        "total_mb": round(sum(r.pack_bytes for r in reports) / 1e6, 2),
    }
    if len(reports) == 1:
        report = reports[0]
        metadata["area_name"] = default_geography().area_by_partition_key(report.partition_key).name
        metadata["path"] = dg.MetadataValue.path(str(report.pack_path))
        metadata["size_kb"] = round(report.pack_bytes / 1024, 1)
        metadata["charts"] = len(report.chart_paths)
        for name in ("overview", "pyramid"):
            if name in report.chart_paths:
                metadata[name] = png_thumbnail(report.chart_paths[name], name)
    return dg.MaterializeResult(metadata=metadata)


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
