"""Run retention for the production instance: delete finished runs older than N days.

Dagster OSS purges schedule and sensor ticks (``retention`` in deploy/dagster.yaml) but keeps
every run and its events for ever, so the PostgreSQL database grows with each night. Deleting a
run deletes its events, including its asset materializations; a pack whose inputs have not
changed for months was last materialized by an old run, and deleting that run would make the
catalog (and the data versions that decide what to rebuild) forget it. So a run is kept while it
holds the latest materialization of any asset or partition, or a partition's latest observation
(an unchanged pack's path, size and chart), however old.

``python -m pipelines.retention --days 90`` (the datapakker-prune-runs timer) against the
instance in DAGSTER_HOME; ``--dry-run`` counts what would go. A deleted run's step logs
(``$DAGSTER_HOME/storage/<run_id>/``) go with it.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster._core.events import DagsterEventType

FINISHED = [dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED]


def protected_run_ids(instance: dg.DagsterInstance) -> set[str]:
    """Runs that hold an asset's (or an asset partition's) latest materialization, or an asset
    partition's latest observation (an unchanged pack's path, size and chart are observed only
    on the night it was built: assets/packs.py)."""
    keep: set[str] = set()
    storage = instance.event_log_storage
    for key in instance.get_asset_keys():
        latest = instance.get_latest_materialization_event(key)
        if latest is not None:
            keep.add(latest.run_id)
        for event_type, fetch in (
            (DagsterEventType.ASSET_MATERIALIZATION, instance.fetch_materializations),
            (DagsterEventType.ASSET_OBSERVATION, instance.fetch_observations),
        ):
            by_partition = storage.get_latest_storage_id_by_partition(key, event_type)
            storage_ids = sorted(set(by_partition.values()))
            if storage_ids:
                records = fetch(
                    dg.AssetRecordsFilter(asset_key=key, storage_ids=storage_ids),
                    limit=len(storage_ids),
                ).records
                keep.update(record.run_id for record in records)
    return keep


def prune_runs(
    instance: dg.DagsterInstance, days: float, now: datetime | None = None, dry_run: bool = False
) -> list[str]:
    """Delete finished runs created more than ``days`` ago that nothing needs; their ids."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    old = instance.get_run_records(dg.RunsFilter(statuses=FINISHED, created_before=cutoff))
    keep = protected_run_ids(instance)
    doomed = [r.dagster_run.run_id for r in old if r.dagster_run.run_id not in keep]
    if not dry_run:
        for run_id in doomed:
            instance.delete_run(run_id)  # the run and its events, not its step logs:
            instance.compute_log_manager.delete_logs(prefix=[run_id])
    return doomed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, required=True, help="keep runs newer than this")
    parser.add_argument("--dry-run", action="store_true", help="list, delete nothing")
    args = parser.parse_args(argv)
    with dg.DagsterInstance.get() as instance:
        doomed = prune_runs(instance, args.days, dry_run=args.dry_run)
    verb = "would delete" if args.dry_run else "deleted"
    print(f"{verb} {len(doomed)} finished runs older than {args.days:g} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
