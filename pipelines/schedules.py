"""The nightly refresh at 02:30 Copenhagen time, covering every area in a single run."""

import dagster as dg

from assets.partitions import ALL_AREAS_TAGS
from pipelines.jobs import refresh_all


@dg.schedule(
    job=refresh_all,
    cron_schedule="30 2 * * *",
    execution_timezone="Europe/Copenhagen",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Nightly refresh of all packs; a failed night leaves yesterday's packs in place.",
)
def nightly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(
        run_key=context.scheduled_execution_time.isoformat(),
        tags=ALL_AREAS_TAGS,
    )
