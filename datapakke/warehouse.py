"""The DuckDB warehouse ``data/marts/warehouse.duckdb``: schemas, safe connections, table writes.

DuckDB allows one writing process per file, and a connection left open by a failed step blocks
the next one. So every connection here is short-lived and closed in ``finally``; readers open
read-only. Loading a source lives in :mod:`datapakke.raw.load`, building core in
:mod:`datapakke.core.build`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from datapakke.schemas import GRAIN

_DDL = """
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS mart;
CREATE TABLE IF NOT EXISTS raw.source_file (
    source_id TEXT PRIMARY KEY, title TEXT, publisher TEXT, target TEXT, file TEXT,
    file_sha256 TEXT, is_synthetic BOOLEAN, status TEXT, message TEXT,
    rows_read BIGINT, rows_loaded BIGINT, rows_quarantined BIGINT, rows_skipped BIGINT,
    loaded_at TIMESTAMPTZ,
    -- the last file that was accepted for this source (what core currently holds)
    accepted_file TEXT, accepted_sha256 TEXT,
    -- the file's checksum and its registry entry together: a load is redone when either changes
    input_fingerprint TEXT
);
-- warehouses made before the fingerprint existed get the column (NULL: loaded again once)
ALTER TABLE raw.source_file ADD COLUMN IF NOT EXISTS input_fingerprint TEXT;
CREATE TABLE IF NOT EXISTS raw.observation (
    source_id TEXT, measure_text TEXT, municipality_text TEXT, period_text TEXT, sex_text TEXT,
    age_text TEXT, value_text TEXT, value_column TEXT,
    _source_file TEXT, _source_row BIGINT, _file_sha256 TEXT, _loaded_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.quarantine (
    source_id TEXT, file TEXT, "row" BIGINT, "column" TEXT, "check" TEXT, value TEXT,
    message TEXT, file_sha256 TEXT, loaded_at TIMESTAMPTZ
);
CREATE TABLE IF NOT EXISTS raw.missing (
    source_id TEXT, measure_id TEXT, municipality_code TEXT, period TEXT, rows_quarantined BIGINT
);
ALTER TABLE raw.missing ADD COLUMN IF NOT EXISTS age_band TEXT;
ALTER TABLE raw.missing ADD COLUMN IF NOT EXISTS reason TEXT;
CREATE TABLE IF NOT EXISTS raw.source_finding (source_id TEXT, finding TEXT, is_warning BOOLEAN);
-- the files an accepted source's rows come from (several drops are combined by period)
CREATE TABLE IF NOT EXISTS raw.source_part (
    source_id TEXT, file TEXT, file_sha256 TEXT, periods TEXT, rows_loaded BIGINT,
    modified_at TIMESTAMPTZ, is_synthetic BOOLEAN
);
CREATE TABLE IF NOT EXISTS raw.validated (
    measure_id TEXT, municipality_code TEXT, period TEXT, sex TEXT, age_band TEXT,
    value DOUBLE, source_suppressed BOOLEAN, source_id TEXT,
    _source_file TEXT, _source_row BIGINT, _source_column TEXT, _file_sha256 TEXT,
    _loaded_at TIMESTAMPTZ
);
"""


@contextmanager
def connect(
    path: Path, read_only: bool = False, retries: int = 20
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection, always closed; waits briefly if another process holds the lock."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(retries):
        try:
            con = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or attempt == retries - 1:
                raise
            time.sleep(0.25 * (attempt + 1))
    try:
        yield con
    finally:
        con.close()


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(_DDL)
    for table, grain in GRAIN.items():
        if table.startswith("raw."):
            con.execute(f"COMMENT ON TABLE {table} IS '{grain}'")


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    con.register("_incoming", frame)
    try:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        con.unregister("_incoming")


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace a whole table with a frame, with its grain sentence as the table comment."""
    con.register("_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _frame")
    finally:
        con.unregister("_frame")
    if table in GRAIN:
        comment = GRAIN[table].replace("'", "''")
        con.execute(f"COMMENT ON TABLE {table} IS '{comment}'")


def read_frame(path: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run one query on a read-only connection and return a frame."""
    with connect(path, read_only=True) as con:
        return con.execute(sql, params or []).df()
