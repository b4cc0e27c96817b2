"""Raw layer: one asset per registered source (read, validate, load), each with a blocking check.

The assets are generated from ``data/reference/sources.yaml``: adding a source is configuration.
"""

import dagster as dg

from assets.metadata import table_preview
from datapakke.pipeline import ingest_source
from datapakke.sources.registry import SourceSpec, load_registry
from datapakke.warehouse import read_frame
from pipelines.resources import DatapakkeSettings

WAREHOUSE_POOL = "duckdb_warehouse"


def raw_asset_key(spec: SourceSpec) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{spec.id}")


def _raw_asset(spec: SourceSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=raw_asset_key(spec),
        group_name="raw",
        description=f"{spec.title} ({spec.publisher}). Read from the newest file matching "
        f"data/raw/{spec.drop_glob}, else the embedded sample {spec.sample_file}; validated rows "
        "go to raw.validated, rejected rows to raw.quarantine.",
        kinds={"duckdb", "pandas"},
        owners=["team:datapakker"],
        code_version="1",
        pool=WAREHOUSE_POOL,
    )
    def raw_source(settings: DatapakkeSettings) -> dg.MaterializeResult:
        report = ingest_source(spec, settings.get())
        return dg.MaterializeResult(
            metadata={
                "file": dg.MetadataValue.path(report.file),
                "sha256": report.sha256,
                "status": report.status,
                "is_synthetic": report.is_synthetic,
                "rows_read": report.rows_read,
                "rows_loaded": report.rows_loaded,
                "rows_skipped": report.rows_skipped,
                "rows_quarantined": len(report.quarantine),
                "quarantine_preview": table_preview(report.quarantine),
                "dagster/row_count": report.rows_loaded,
            }
        )

    @dg.asset_check(
        asset=raw_source,
        name="validation",
        blocking=True,
        description="Pandera validation of the source: quarantined rows warn; a rejected file "
        "(unreadable, or too many bad rows) fails and stops publishing, so yesterday's packs stay.",
    )
    def validation_check(settings: DatapakkeSettings) -> dg.AssetCheckResult:
        warehouse = settings.get().warehouse_path
        status = read_frame(
            warehouse,
            "SELECT status, message, file, rows_quarantined FROM raw.source_file WHERE source_id = ?",
            [spec.id],
        ).iloc[0]
        failures = read_frame(
            warehouse,
            'SELECT file, "row", "column", "check", value, message FROM raw.quarantine '
            'WHERE source_id = ? ORDER BY "row" LIMIT 50',
            [spec.id],
        )
        rejected = status["status"] == "rejected"
        return dg.AssetCheckResult(
            passed=failures.empty and not rejected,
            severity=dg.AssetCheckSeverity.ERROR if rejected else dg.AssetCheckSeverity.WARN,
            description=status["message"] or None,
            metadata={
                "status": status["status"],
                "file": status["file"],
                "rows_quarantined": int(status["rows_quarantined"]),
                "failure_cases": table_preview(failures, rows=50),
            },
        )

    return dg.Definitions(assets=[raw_source], asset_checks=[validation_check])


SOURCES = load_registry()
defs = dg.Definitions.merge(*[_raw_asset(spec) for spec in SOURCES])
RAW_ASSET_KEYS = [raw_asset_key(spec) for spec in SOURCES]
