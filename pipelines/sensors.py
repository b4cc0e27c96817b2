"""A sensor on data/raw/: a run when a file is added or its content changes, none otherwise."""

import hashlib
import json

import dagster as dg

from assets.partitions import ALL_AREAS_TAGS
from assets.resources import DatapakkeSettings
from datapakke.raw import drops as raw_files
from pipelines.jobs import refresh_all


@dg.sensor(
    job=refresh_all,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts refresh_all when a file in data/raw/ is added or changed (by SHA-256).",
)
def raw_file_sensor(
    context: dg.SensorEvaluationContext, settings: DatapakkeSettings
) -> dg.SensorResult | dg.SkipReason:
    previous = json.loads(context.cursor) if context.cursor else {}
    current = raw_files.snapshot(settings.get().raw_dir)
    changed = raw_files.changed(previous, current)
    if not changed:
        return dg.SkipReason("no new or changed files in data/raw/")
    run_key = hashlib.sha256(
        json.dumps({path: current[path] for path in changed}, sort_keys=True).encode()
    ).hexdigest()[:16]
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=run_key,
                tags={**ALL_AREAS_TAGS, "datapakke/changed_files": ", ".join(changed)[:900]},
            )
        ],
        cursor=json.dumps(current, sort_keys=True),
    )
