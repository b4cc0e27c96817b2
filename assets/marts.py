"""Marts: protected indicator values in the warehouse, and one published mart file per area."""

import dagster as dg

from assets.core import core_tables
from assets.metadata import column_schema, table_preview
from assets.partitions import PARTITION_NAMES_MD, area_partitions
from assets.raw import WAREHOUSE_POOL
from assets.resources import DatapakkeSettings
from datapakke.geography import default_geography
from datapakke.mart.stage import audit_disclosure, build_indicator_values
from datapakke.publish.stage import build_area_marts
from datapakke.warehouse import read_frame


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
    # The audit and the schema check run as this asset's blocking checks, below.
    report = build_indicator_values(settings.get(), verify=False)
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
            "dagster/column_schema": column_schema(preview),
            "preview": table_preview(preview),
            **{
                f"seconds_{part.replace(' ', '_')}": round(s, 2)
                for part, s in report.seconds.items()
            },
        }
    )


@dg.asset_check(
    asset=indicator_values,
    blocking=True,
    description="Disclosure audit: no suppressed count can be recovered by adding and subtracting "
    "published figures across all groupings (row-space test), and no count 1-4 is published.",
)
def disclosure_audit(settings: DatapakkeSettings) -> dg.AssetCheckResult:
    findings = audit_disclosure(settings.get())
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
    "value lies inside its interval.",
)
def indicator_value_schema_check(settings: DatapakkeSettings) -> dg.AssetCheckResult:
    from datapakke.mart.stage import check_indicator_schema

    values = read_frame(settings.get().warehouse_path, "SELECT * FROM mart.indicator_value")
    errors = check_indicator_schema(values)
    return dg.AssetCheckResult(
        passed=not errors, metadata={"failure_cases": dg.MetadataValue.md(errors or "none")}
    )


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
    paths = build_area_marts(areas, settings.get(), geo)
    return dg.MaterializeResult(
        metadata={
            "areas": len(paths),
            "path": dg.MetadataValue.path(str(paths[0]))
            if len(paths) == 1
            else f"{len(paths)} files",
        }
    )
