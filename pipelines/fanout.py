"""The refresh fanned out over several Dagster steps, for executors that run steps on many cores
or machines: Dagster's multiprocess executor and Celery workers (deploy/celery/).

``refresh_all`` builds every area in one step, with a process pool inside it. Here the areas are
dealt into shards, one step each, and the executor spreads the shards; the stage functions are
the same. The order of steps keeps the one-writer rule of the warehouse:

1. ``warehouse``: ingest, validate, core and the protected mart, with the same gates as the
   blocking checks of ``refresh_all``. The only step that writes ``warehouse.duckdb``; it holds
   the ``duckdb_warehouse`` pool (one slot). Both executors claim pool slots before they start
   a step (dagster-celery 0.29 does so in the orchestrating process, before it sends the task).
2. ``area_shard`` (one step per shard): the shard's area marts and packs. They only read the
   warehouse (read-only connections) and write their own areas' folders under ``data/marts/``.
3. ``download_page``: the download page, once every shard is done.

Every worker must see the same ``data/marts/`` (and ``data/raw/``) at the same path, and the
same ``$DAGSTER_HOME`` (run storage and the step outputs of the default IO manager).
"""

from collections.abc import Iterator
from datetime import UTC, datetime

import dagster as dg
from dagster_celery import celery_executor
from pydantic import Field

from assets.raw import RAW_ASSET_KEYS, WAREHOUSE_POOL
from assets.resources import DatapakkeSettings
from datapakke.geography import default_geography


class FanoutConfig(dg.Config):
    """Which areas to build (partition keys; empty: all) and into how many steps to deal them."""

    areas: list[str] = Field(default_factory=list)
    # Each step costs a process start and a read of the published mart, so few shards; more
    # than the workers, so one that finishes early takes another shard instead of idling.
    shards: int = 4


@dg.op(
    pool=WAREHOUSE_POOL,
    out=dg.DynamicOut(list[str]),
    description="Ingest, validate, core and the protected mart (the warehouse's only writer), "
    "then deal the areas into shards, largest areas first.",
)
def warehouse(
    context: dg.OpExecutionContext, config: FanoutConfig, settings: DatapakkeSettings
) -> Iterator[dg.DynamicOutput[list[str]]]:
    from datapakke.core.stage import build_core_tables, check_reference_integrity
    from datapakke.mart.stage import build_indicator_values
    from datapakke.raw.registry import load_registry
    from datapakke.raw.stage import check_source, ingest_sources

    resolved, geo = settings.get(), default_geography()
    reports = ingest_sources(load_registry(), resolved, geo)
    checks = [check_source(resolved, report.source_id) for report in reports]
    # The gates of refresh_all's blocking checks: a failure stops here, before any pack.
    _stop_if("rejected sources", [c.description or c.source_id for c in checks if c.is_rejected])
    build_core_tables(resolved)
    reference = check_reference_integrity(resolved, geo)
    _stop_if(
        "reference integrity",
        [f"unknown municipality {code}" for code in reference.unknown_codes]
        + [f"population incomplete in {period}" for period in reference.incomplete_periods],
    )
    indicators = build_indicator_values(resolved, geo)
    _stop_if(
        "disclosure audit and schema",
        indicators.audit_findings
        + ([indicators.schema_errors] if indicators.schema_errors else []),
    )
    for key in [*RAW_ASSET_KEYS, dg.AssetKey("core_tables"), dg.AssetKey("indicator_values")]:
        context.log_event(dg.AssetMaterialization(asset_key=key))
    keys = config.areas or geo.partition_keys
    largest_first = sorted(keys, key=lambda key: -len(geo.area_by_partition_key(key).members))
    shards = max(1, min(config.shards, len(keys)))
    for index in range(shards):
        yield dg.DynamicOutput(largest_first[index::shards], mapping_key=f"shard_{index}")


def _stop_if(gate: str, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise dg.Failure(
            description=f"{gate}: {problems[0]}{more}",
            metadata={"problems": dg.MetadataValue.md("\n".join(f"- {p}" for p in problems))},
        )


@dg.op(description="One shard's area marts and packs, from the warehouse (read only).")
def area_shard(
    context: dg.OpExecutionContext, settings: DatapakkeSettings, shard: list[str]
) -> list[str]:
    from datapakke.publish.stage import build_area_marts, build_area_packs

    resolved, geo = settings.get(), default_geography()
    # One process per step: the executor supplies the parallelism, so no pool inside the step
    # (two pools on two cores would only take turns).
    build_area_marts([geo.area_by_partition_key(key) for key in shard], resolved, geo, workers=1)
    for report in build_area_packs(shard, resolved, workers=1):
        for asset in ("area_mart", "area_pack"):
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=asset,
                    partition=report.partition_key,
                    metadata={"unchanged": report.unchanged} if asset == "area_pack" else None,
                )
            )
    return shard


@dg.op(description="The download page, once every shard's packs are published.")
def download_page(
    context: dg.OpExecutionContext, settings: DatapakkeSettings, shards: list[list[str]]
) -> None:
    from datapakke.publish.site import refresh_site

    # Every step before this one succeeded: the data are as of now, if the packs changed.
    site = refresh_site(settings.get(), default_geography(), succeeded_at=datetime.now(UTC))
    context.log_event(
        dg.AssetMaterialization(
            asset_key="download_site",
            metadata={
                "path": dg.MetadataValue.path(str(site.page)),
                "areas": sum(map(len, shards)),
                "rebuilt": site.rebuilt,
            },
        )
    )


_RESOURCES = {"settings": DatapakkeSettings()}
_TAGS = {"datapakke/refresh": "all"}  # deploy/dagster.yaml: one full refresh at a time


def _fan_out() -> None:
    download_page(warehouse().map(area_shard).collect())


# Jobs by decorator (not graph.to_job), so each is reconstructable from its module by the
# processes and workers that run its steps.
@dg.job(
    executor_def=dg.multi_or_in_process_executor,
    resource_defs=_RESOURCES,
    tags=_TAGS,
    description="The whole refresh with the areas dealt into shards, one step per shard, run by "
    "Dagster's multiprocess executor (run config `execution: {config: {in_process: {}}}`: the "
    "same steps one after another in one process).",
)
def refresh_fanout() -> None:
    _fan_out()


@dg.job(
    executor_def=celery_executor.configured(
        {
            "broker": {"env": "DATAPAKKE_CELERY_BROKER"},
            "backend": {"env": "DATAPAKKE_CELERY_BROKER"},
        },
        name="celery",
    ),
    resource_defs=_RESOURCES,
    tags=_TAGS,
    description="The whole refresh with the areas dealt into shards, one step per shard, run by "
    "the Celery workers on DATAPAKKE_CELERY_BROKER (deploy/celery/README.md).",
)
def refresh_fanout_celery() -> None:
    _fan_out()


FANOUT_JOBS = [refresh_fanout, refresh_fanout_celery]
