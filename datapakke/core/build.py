"""``core.*``: the validated facts, rebuilt from the accepted raw loads."""

from __future__ import annotations

import duckdb

from datapakke.schemas import GRAIN
from datapakke.warehouse import ensure_schema

CORE_TABLES = ("core.population", "core.observation", "core.missing")
_CORE_DDL = """
CREATE OR REPLACE TABLE core.population AS
SELECT municipality_code, period, sex, age_band, value AS population, source_id,
       _source_file, _source_row, _file_sha256, _loaded_at
FROM raw.validated v
WHERE measure_id = 'population'
  AND source_id IN (SELECT source_id FROM raw.source_file WHERE target = 'population')
ORDER BY municipality_code, period, sex, age_band;
CREATE OR REPLACE TABLE core.observation AS
SELECT measure_id, municipality_code, period, sex, age_band, value, source_suppressed, source_id,
       _source_file, _source_row, _file_sha256, _loaded_at
FROM raw.validated v
WHERE source_id IN (SELECT source_id FROM raw.source_file WHERE target = 'observation')
ORDER BY measure_id, municipality_code, period, sex, age_band;
CREATE OR REPLACE TABLE core.missing AS
SELECT measure_id, municipality_code, period, age_band, sum(rows_quarantined) AS rows_quarantined,
       string_agg(DISTINCT reason, ', ' ORDER BY reason) AS reasons,
       string_agg(DISTINCT source_id, ', ' ORDER BY source_id) AS source_ids
FROM raw.missing
WHERE source_id IN (SELECT source_id FROM raw.source_file WHERE accepted_sha256 IS NOT NULL)
GROUP BY ALL
ORDER BY ALL;
"""


def build_core(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild core.* from the accepted validated rows (deterministic order)."""
    ensure_schema(con)
    con.execute(_CORE_DDL)
    for table in CORE_TABLES:
        con.execute(f"COMMENT ON TABLE {table} IS '{GRAIN[table]}'")
    return {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in CORE_TABLES
    }
