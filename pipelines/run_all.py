"""`make run`: materialize every asset in process, record the run in DAGSTER_HOME, say where things are.

The terminal gets one line per problem, never Dagster's stack traces for failures we expect (a
rejected source, bad reference data, a locked warehouse, a killed earlier run): Dagster's
console logger is silenced and the outcome is told from the run's events. An unexpected error
still prints its one traceback.
"""

import logging
import os
import sys
import time
import warnings

import dagster as dg

# Dagster's notes on its own beta and superseded APIs are for developers, not for the analyst
# reading the terminal (the choices are explained in pipelines/ and assets/).
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)
# When a rejected source stops the refresh, the steps after it are skipped, and Dagster's plan
# logs for each skipped blocking check that it "emitted no result": true, expected, and not
# the analyst's problem (the rejected source's line says what is).
logging.getLogger("dagster._core.execution.plan.active").setLevel(logging.ERROR)

from datapakke.config import Settings, get_settings  # noqa: E402
from datapakke.geography import ReferenceDataError  # noqa: E402
from pipelines.outcome import (  # noqa: E402
    mark_stopped,
    problem_lines,
    publish_failure,
    stopped_by_check,
)
from pipelines.recovery import (  # noqa: E402
    RefreshRunning,
    owner_tags,
    recover_stale_runs,
    warehouse_lock_line,
)


def main() -> int:
    settings = get_settings()
    started = time.perf_counter()
    try:
        # The code location reads the reference geography (the area partitions) on import.
        from assets.partitions import ALL_AREAS_TAGS
        from pipelines.definitions import defs
    except ReferenceDataError as error:
        print(f"Refresh FAILED: bad reference data: {error}. Nothing was built or published.")
        return 1
    # With DAGSTER_HOME (set by the Makefile) the run appears in the UI's run history.
    persistent = bool(os.environ.get("DAGSTER_HOME"))
    instance = dg.DagsterInstance.get() if persistent else dg.DagsterInstance.ephemeral()
    try:
        for line in recover_stale_runs(instance) if persistent else []:
            print(f"Recovered: {line}.")
    except RefreshRunning as busy:
        print(f"Refresh NOT started: {busy}.")
        return 2
    locked = warehouse_lock_line(settings.warehouse_path)
    if locked:
        print(f"Refresh NOT started: {locked}.")
        return 2
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=instance,
        tags={**ALL_AREAS_TAGS, **owner_tags()},
        raise_on_error=False,
        # Step events are in the UI (make dev); what went wrong is told below, one line each.
        run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}},
    )
    if stopped_by_check(result.all_events):
        mark_stopped(instance, result.run_id)  # as the sensor does for a run from the UI
    return _report(result, settings, time.perf_counter() - started)


def _report(result: dg.ExecuteInProcessResult, settings: Settings, elapsed: float) -> int:
    """The outcome: one line per problem source and failed step, then where the output is."""
    problems, tracebacks = problem_lines(result.all_events)
    problems = [f"  {line}" for line in problems]
    if not result.success or stopped_by_check(result.all_events):
        print(f"Refresh FAILED after {elapsed:.1f} s; the previous marts and packs are untouched.")
        print(*problems, *tracebacks, sep="\n")
        publish_failure(settings, [line.strip() for line in problems])
        return 1
    print(f"Refresh finished in {elapsed:.1f} s.")
    for line in problems:
        print(f"  warning: {line.strip()}")
    print(f"  warehouse:     {settings.warehouse_path}")
    print(f"  area marts:    {settings.marts_dir}/<grouping>/<area_id>/mart.duckdb")
    print(
        f"  packs:         {settings.marts_dir}/<grouping>/<area_id>/datapakke-<grouping>-<area_id>.xlsx"
    )
    print(f"  download page: {settings.site_dir / 'index.html'}  (make serve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
