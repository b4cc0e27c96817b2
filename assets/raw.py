"""Raw layer: one asset per registered source (read, validate, load), each with its validation check.

The assets are generated from ``data/reference/sources.yaml``: adding a source is configuration.
They are materialized by one step, so the sources are read and validated side by side by two
worker processes and loaded one at a time (the warehouse has one writer); an analyst can still
select and refresh a single source.
"""

import dagster as dg

from assets.metadata import table_preview
from assets.resources import DatapakkeSettings
from datapakke.raw.registry import SourceSpec, load_registry
from datapakke.raw.stage import SourceCheck, SourceReport, check_source, ingest_sources

WAREHOUSE_POOL = "duckdb_warehouse"
SOURCES = load_registry()


def raw_asset_key(spec: SourceSpec) -> dg.AssetKey:
    return dg.AssetKey(f"raw_{spec.id}")


def _raw_spec(spec: SourceSpec) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=raw_asset_key(spec),
        group_name="raw",
        description=f"{spec.title} ({spec.publisher}). Read from every file matching "
        f"data/raw/{spec.drop_glob} (ignoring case), each period from the newest file that has "
        f"it, else the embedded sample {spec.sample_file}; validated rows go to raw.validated, "
        "rejected rows to raw.quarantine, the files used to raw.source_part.",
        kinds={"duckdb", "pandas"},
        owners=["team:datapakker"],
        code_version="1",
        # A rejected source is not materialized; what depends on it is then skipped, not failed.
        skippable=True,
    )


def _validation_spec(spec: SourceSpec) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        "validation",
        asset=raw_asset_key(spec),
        description="Pandera validation of the source: quarantined rows warn; a rejected file "
        "(unreadable, or too many bad rows) fails with severity ERROR, the source is not "
        "materialized and everything downstream is skipped, so yesterday's packs stay (shown as "
        "not materialized by this run, not as failed). A failing result says in one line what "
        "was wrong, what to do and where the rows are (the same line `make run` prints).",
    )


@dg.multi_asset(
    name="raw_sources",
    specs=[_raw_spec(spec) for spec in SOURCES],
    check_specs=[_validation_spec(spec) for spec in SOURCES],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def raw_sources(context: dg.AssetExecutionContext, settings: DatapakkeSettings):
    resolved = settings.get()
    selected = [spec for spec in SOURCES if raw_asset_key(spec) in context.selected_asset_keys]
    for spec, report in zip(selected, ingest_sources(selected, resolved), strict=True):
        result = check_source(resolved, spec.id)
        if not result.is_rejected:
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(spec),
                metadata=_metadata(report),
                data_version=dg.DataVersion(report.sha256),
            )
        if dg.AssetCheckKey(raw_asset_key(spec), "validation") in context.selected_asset_check_keys:
            yield _validation_result(spec, result)


def _metadata(report: SourceReport) -> dict[str, object]:
    return {
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
        **{f"seconds_{part}": round(s, 2) for part, s in report.seconds.items()},
    }


def _validation_result(spec: SourceSpec, result: SourceCheck) -> dg.AssetCheckResult:
    advice = result.advice
    return dg.AssetCheckResult(
        asset_key=raw_asset_key(spec),
        check_name="validation",
        passed=result.passed,
        severity=dg.AssetCheckSeverity.ERROR if result.is_rejected else dg.AssetCheckSeverity.WARN,
        description=result.description,
        metadata={
            "status": result.status,
            "file": result.file,
            "rows_quarantined": result.rows_quarantined,
            "findings": dg.MetadataValue.md(
                "\n".join(f"- {f}" for f in [*result.warnings, *result.findings]) or "-"
            ),
            **(
                {"problem": advice.problem, "what_to_do": advice.hint, "details": advice.details}
                if advice
                else {}
            ),
            "failure_cases": table_preview(result.failures, rows=50),
        },
    )


defs = dg.Definitions(assets=[raw_sources])
RAW_ASSET_KEYS = [raw_asset_key(spec) for spec in SOURCES]
