"""A sensor on data/raw/: a run when what a refresh would load differs from what the warehouse
holds, none otherwise.

It compares each source's files now (paths and checksums, which file is newest, the registry
entry) with the fingerprint the warehouse stored when it last accepted that source, so it sees
what matters and nothing else: the embedded sample is not a drop (it is what the warehouse
already holds), a deleted or replaced drop is a change, a restart changes nothing (no cursor is
needed to know what is loaded), and a rejected source asks once per state of its files. Files
must be unchanged over two ticks before a run is requested, so a half-copied file is never
ingested and a burst of files becomes one run.
"""

import hashlib
import json

import dagster as dg
import duckdb

from assets.partitions import ALL_AREAS_TAGS
from assets.resources import DatapakkeSettings
from datapakke.raw import drops as raw_files
from datapakke.raw.stage import sources_to_reload
from pipelines.fanout import FANOUT_JOBS
from pipelines.jobs import build_area, refresh_all
from pipelines.outcome import mark_stopped, problem_lines, publish_failure, stopped_by_check


@dg.sensor(
    job=refresh_all,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts refresh_all when data/raw/ differs from what the warehouse loaded (a "
    "drop added, changed, replaced or deleted), once the files have been still for one tick.",
)
def raw_file_sensor(
    context: dg.SensorEvaluationContext, settings: DatapakkeSettings
) -> dg.SensorResult | dg.SkipReason:
    resolved = settings.get()
    snapshot = raw_files.snapshot(resolved.raw_dir)
    state = hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()[:16]
    if context.cursor != state:  # changed since the last tick: wait until the files are still
        return dg.SensorResult(
            skip_reason="files in data/raw/ changed since the last check; waiting until they "
            "are still",
            cursor=state,
        )
    try:
        stale = sources_to_reload(resolved)
    except duckdb.IOException:
        return dg.SkipReason("a refresh holds the warehouse; checking again on the next tick")
    if not stale:
        return dg.SkipReason("data/raw/ holds what the warehouse loaded")
    run_key = hashlib.sha256(json.dumps(stale, sort_keys=True).encode()).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                tags={**ALL_AREAS_TAGS, "datapakke/changed_sources": ", ".join(sorted(stale))},
            )
        ],
        cursor=state,
    )


@dg.run_failure_sensor(
    monitored_jobs=[refresh_all, build_area, *FANOUT_JOBS],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a refresh fails, the download page says so (when and why) and keeps "
    "offering the last good packs.",
)
def refresh_failure_sensor(
    context: dg.RunFailureSensorContext, settings: DatapakkeSettings
) -> None:
    logs = context.instance.all_logs(context.dagster_run.run_id)
    problems, _ = problem_lines(entry.dagster_event for entry in logs if entry.dagster_event)
    publish_failure(settings.get(), problems or [context.failure_event.message or ""])


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_all, build_area],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="When a refresh was stopped by a rejected source (its validation check failed "
    "with severity ERROR, so nothing downstream ran: the run itself succeeds), the download page "
    "says so (when and why) and keeps offering the last good packs.",
)
def stopped_refresh_sensor(context: dg.RunStatusSensorContext, settings: DatapakkeSettings) -> None:
    logs = context.instance.all_logs(context.dagster_run.run_id)
    events = [entry.dagster_event for entry in logs if entry.dagster_event]
    if stopped_by_check(events):
        problems, _ = problem_lines(events)
        mark_stopped(context.instance, context.dagster_run.run_id)
        publish_failure(settings.get(), problems)
