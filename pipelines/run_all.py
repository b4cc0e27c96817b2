"""`make run`: materialize every asset in process, record the run in DAGSTER_HOME, say where things are."""

import os
import sys
import time
import warnings

import dagster as dg

# Dagster's notes on its own beta and superseded APIs are for developers, not for the analyst
# reading the terminal (the choices are explained in pipelines/ and assets/).
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.SupersessionWarning)

from assets.partitions import ALL_AREAS_TAGS  # noqa: E402
from datapakke.config import get_settings  # noqa: E402
from pipelines.definitions import defs  # noqa: E402


def main() -> int:
    settings = get_settings()
    started = time.perf_counter()
    # With DAGSTER_HOME (set by the Makefile) the run appears in the UI's run history.
    instance = (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )
    result = defs.resolve_job_def("refresh_all").execute_in_process(
        instance=instance,
        tags=ALL_AREAS_TAGS,
        raise_on_error=False,
        # Step-by-step events are in the UI (make dev); the terminal shows warnings and errors.
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    elapsed = time.perf_counter() - started
    failed_checks = [
        f"{e.asset_check_evaluation_data.asset_key.to_user_string()}:"
        f"{e.asset_check_evaluation_data.check_name}"
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and not e.asset_check_evaluation_data.passed
    ]
    if not result.success:
        print(f"Refresh FAILED after {elapsed:.1f} s; the previous marts and packs are untouched.")
        for event in result.all_events:
            if event.is_step_failure:
                print(f"  step {event.step_key}: {event.event_specific_data.error.message.strip()}")
        for check in failed_checks:
            print(f"  check failed: {check}")
        return 1
    print(f"Refresh finished in {elapsed:.1f} s.")
    for check in failed_checks:
        print(f"  warning: check {check} did not pass (see the Dagster UI: make dev)")
    print(f"  warehouse:     {settings.warehouse_path}")
    print(f"  area marts:    {settings.marts_dir}/<grouping>/<area_id>/mart.duckdb")
    print(
        f"  packs:         {settings.marts_dir}/<grouping>/<area_id>/datapakke-<grouping>-<area_id>.xlsx"
    )
    print(f"  download page: {settings.site_dir / 'index.html'}  (make serve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
