"""Core layer: tidy, validated facts (core.population, core.observation) and their integrity check."""

import dagster as dg

from assets.raw import RAW_ASSET_KEYS, WAREHOUSE_POOL
from assets.resources import DatapakkeSettings
from datapakke.core.stage import build_core_tables, check_reference_integrity


@dg.asset(
    group_name="core",
    deps=RAW_ASSET_KEYS,
    description="core.population (municipality × quarter × sex × age band) and core.observation "
    "(measure × municipality × period × sex × age band), rebuilt from accepted sources.",
    kinds={"duckdb"},
    owners=["team:datapakker"],
    code_version="1",
    pool=WAREHOUSE_POOL,
)
def core_tables(settings: DatapakkeSettings) -> dg.MaterializeResult:
    report = build_core_tables(settings.get())
    return dg.MaterializeResult(
        metadata={
            "core.population rows": report.counts["core.population"],
            "core.observation rows": report.counts["core.observation"],
            "dagster/row_count": sum(report.counts.values()),
            "rebuilt": report.rebuilt,  # False: every source as last built from
        },
        data_version=dg.DataVersion(report.input_fingerprint),
    )


@dg.asset_check(
    asset=core_tables,
    blocking=True,
    description="Referential integrity with the reference data: every municipality code is known "
    "and every year has a population for all 98 municipalities.",
)
def reference_integrity(settings: DatapakkeSettings) -> dg.AssetCheckResult:
    result = check_reference_integrity(settings.get())
    return dg.AssetCheckResult(
        passed=result.passed,
        metadata={
            "unknown_codes": ", ".join(result.unknown_codes) or "none",
            "periods_missing_municipalities": len(result.incomplete_periods),
        },
    )
