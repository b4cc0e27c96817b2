"""Per-area assets are partitioned by ``<grouping>.<area_id>``, built from the reference data."""

import dagster as dg

from datapakke.geography import default_geography

_GEO = default_geography()
AREA_PARTITION_KEYS = _GEO.partition_keys
area_partitions = dg.StaticPartitionsDefinition(AREA_PARTITION_KEYS)


def _partition_names_md() -> str:
    """Each partition key beside the area's name: Dagster's partition picker shows keys only,
    and ``nordjylland-midt`` (Klynge Midt) is easily confused with ``midtjylland-midt``."""
    rows = [
        f"| `{area.partition_key}` | {area.name} | {_GEO.grouping_titles[area.grouping]} |"
        for area in _GEO.areas.values()
    ]
    return "\n".join(["| Partition | Område | Inddeling |", "|---|---|---|", *rows])


PARTITION_NAMES_MD = _partition_names_md()

# Run tags that make one run cover every area (the assets use a single-run backfill policy).
ALL_AREAS_TAGS = {
    "dagster/asset_partition_range_start": AREA_PARTITION_KEYS[0],
    "dagster/asset_partition_range_end": AREA_PARTITION_KEYS[-1],
}
