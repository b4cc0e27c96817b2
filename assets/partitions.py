"""Per-area assets are partitioned by ``<grouping>.<area_id>``, built from the reference data."""

import dagster as dg

from datapakke.geography import default_geography

AREA_PARTITION_KEYS = default_geography().partition_keys
area_partitions = dg.StaticPartitionsDefinition(AREA_PARTITION_KEYS)

# Run tags that make one run cover every area (the assets use a single-run backfill policy).
ALL_AREAS_TAGS = {
    "dagster/asset_partition_range_start": AREA_PARTITION_KEYS[0],
    "dagster/asset_partition_range_end": AREA_PARTITION_KEYS[-1],
}
