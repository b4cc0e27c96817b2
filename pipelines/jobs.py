"""Jobs: refresh everything, or build one area (one partition)."""

import dagster as dg

from assets.marts import area_mart
from assets.packs import area_pack, download_site

# In process: a step per process would re-import the code location ~60 times (see style notes).
refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("fetch"),
    executor_def=dg.in_process_executor,
    tags={"datapakke/refresh": "all"},  # deploy/dagster.yaml: one full refresh at a time
    description="Ingest, validate, compute, protect and publish every pack (all areas in one run).",
)
build_area = dg.define_asset_job(
    "build_area",
    selection=dg.AssetSelection.assets(area_mart, area_pack, download_site),
    executor_def=dg.in_process_executor,
    description="Rebuild one area's mart, charts and pack from the current warehouse.",
)
