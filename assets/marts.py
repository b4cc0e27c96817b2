"""Marts: protected indicator values in the warehouse, and one published mart file per area."""

import dagster as dg

from assets.core import core_tables
from assets.metadata import column_schema, table_preview
from assets.partitions import PARTITION_NAMES_MD, area_partitions
from assets.raw import WAREHOUSE_POOL
from assets.resources import DatapakkeSettings
from datapakke.geography import default_geography
from datapakke.mart.stage import build_indicator_values, recorded_findings
from datapakke.publish.stage import build_area_marts
from datapakke.warehouse import connect, read_frame


@dg.asset(
    group_name="marts",
    deps=[core_tables],
    description="mart.indicator_value: one row per indicator × area level × area × period × sex, "
    "with intervals, comparisons and trend, after disclosure control.",
    kinds={"duckdb", "pandas"},
    owners=["team:datapakker"],
    code_version="1",
    pool=WAREHOUSE_POOL,
)
def indicator_values(settings: DatapakkeSettings) -> dg.MaterializeResult:
    # The audit and the schema check run on what this step wrote; their findings are kept in
    # mart.audit_finding and reported by this asset's blocking checks, below.
    report = build_indicator_values(settings.get())
    preview = read_frame(
        settings.get().warehouse_path,
        "SELECT indicator_id, area_name, period, sex, value, ci95_low, ci95_high, "
        "compared_to_national FROM mart.indicator_value "
        "WHERE area_level = 'region' AND sex = 'T' ORDER BY period DESC LIMIT 10",
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.rows,
            "indicators": report.indicators,
            "suppressed_rows": report.suppressed_rows,
            "rebuilt": report.rebuilt,  # False: core, reference data and code as last built
            "dagster/column_schema": column_schema(preview),
            "preview": table_preview(preview),
            **{
                f"seconds_{part.replace(' ', '_')}": round(s, 2)
                for part, s in report.seconds.items()
            },
        },
        data_version=dg.DataVersion(report.input_fingerprint),
    )


@dg.asset_check(
    asset=indicator_values,
    blocking=True,
    description="Disclosure audit: no suppressed count can be recovered by adding and subtracting "
    "published figures across all groupings (row-space test), and no count 1-4 is published. "
    "Run by indicator_values on what it wrote; this check reports its findings.",
)
def disclosure_audit(settings: DatapakkeSettings) -> dg.AssetCheckResult:
    findings, _ = _recorded_findings(settings)
    return dg.AssetCheckResult(
        passed=not findings,
        metadata={
            "recoverable_cells": len(findings),
            "examples": dg.MetadataValue.md("\n".join(f"- {f}" for f in findings[:20]) or "none"),
        },
    )


@dg.asset_check(
    asset=indicator_values,
    blocking=True,
    description="Pandera schema of mart.indicator_value: suppressed rows carry no numbers and every "
    "value lies inside its interval (checked by indicator_values on what it wrote).",
)
def indicator_value_schema_check(settings: DatapakkeSettings) -> dg.AssetCheckResult:
    _, errors = _recorded_findings(settings)
    return dg.AssetCheckResult(
        passed=not errors, metadata={"failure_cases": dg.MetadataValue.md(errors or "none")}
    )


def _recorded_findings(settings: DatapakkeSettings) -> tuple[list[str], str]:
    with connect(settings.get().warehouse_path, read_only=True) as con:
        return recorded_findings(con)


@dg.asset(
    group_name="marts",
    deps=[indicator_values],
    partitions_def=area_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="data/marts/<grouping>/<area_id>/mart.duckdb: the published values for one area, "
    "its members, region(s) and Denmark (read-only for notebooks and users).\n\n"
    + PARTITION_NAMES_MD,
    kinds={"duckdb"},
    owners=["team:datapakker"],
    code_version="1",
)
def area_mart(
    context: dg.AssetExecutionContext, settings: DatapakkeSettings
) -> dg.MaterializeResult:
    geo = default_geography()
    areas = [geo.area_by_partition_key(key) for key in context.partition_keys]
    reports = build_area_marts(areas, settings.get(), geo)
    metadata: dict[str, object] = {
        "areas": len(reports),
        "rewritten": sum(r.rewritten for r in reports),  # the others' inputs were unchanged
    }
    if len(reports) == 1:
        metadata["path"] = dg.MetadataValue.path(str(reports[0].path))
        return dg.MaterializeResult(
            metadata=metadata, data_version=dg.DataVersion(reports[0].input_fingerprint)
        )
    return dg.MaterializeResult(metadata=metadata)  # one data version per batch: dagster#34013
