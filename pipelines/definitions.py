"""The Dagster code location: every asset, check, job, schedule and sensor of Datapakker."""

import dagster as dg

from assets import core, fetch, marts, packs, raw
from assets.resources import DatapakkeSettings
from pipelines.fanout import FANOUT_JOBS
from pipelines.jobs import build_area, refresh_all
from pipelines.schedules import nightly_refresh
from pipelines.sensors import raw_file_sensor, refresh_failure_sensor, stopped_refresh_sensor

defs = dg.Definitions.merge(
    raw.defs,
    dg.Definitions(
        assets=[
            core.core_tables,
            marts.indicator_values,
            marts.area_mart,
            packs.area_pack,
            packs.download_site,
            fetch.statbank_extracts,
        ],
        asset_checks=[
            core.reference_integrity,
            marts.disclosure_audit,
            marts.indicator_value_schema_check,
            *packs.pack_freshness_checks,
        ],
        jobs=[refresh_all, build_area, fetch.fetch_statbank, *FANOUT_JOBS],
        schedules=[nightly_refresh],
        sensors=[
            raw_file_sensor,
            refresh_failure_sensor,
            stopped_refresh_sensor,
            dg.build_sensor_for_freshness_checks(
                freshness_checks=packs.pack_freshness_checks,
                default_status=dg.DefaultSensorStatus.RUNNING,
            ),
        ],
        resources={"settings": DatapakkeSettings()},
    ),
)
