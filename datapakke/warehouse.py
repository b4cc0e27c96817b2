"""The DuckDB warehouse ``data/marts/warehouse.duckdb``: DDL, loading, safe connections.

DuckDB allows one writing process per file, and a connection left open by a failed step blocks
the next one. So every connection here is short-lived and closed in ``finally``; readers open
read-only. Loads replace one source's rows inside a transaction, so a failure leaves the previous
good rows in place, and loading the same file twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from datapakke.ingest import RAW_COLUMNS, RawLoad
from datapakke.schemas import GRAIN, QUARANTINE_COLUMNS
from datapakke.sources.registry import SourceSpec
from datapakke.validate import ValidationResult

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
CREATE TABLE IF NOT EXISTS raw.validated (
    measure_id TEXT, municipality_code TEXT, period TEXT, sex TEXT, age_band TEXT,
    value DOUBLE, source_suppressed BOOLEAN, source_id TEXT,
    _source_file TEXT, _source_row BIGINT, _source_column TEXT, _file_sha256 TEXT,
    _loaded_at TIMESTAMPTZ
);
"""

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


def load_source(
    con: duckdb.DuckDBPyConnection,
    raw: RawLoad,
    validation: ValidationResult | None,
    loaded_at: datetime | None = None,
) -> str:
    """Store one source's rows; return 'accepted', 'rejected' or 'unchanged'.

    A rejected file (unreadable, or too many bad rows) is recorded with its quarantine but its
    previous accepted rows stay in use. The same accepted file loaded again changes nothing.
    """
    ensure_schema(con)
    spec = raw.source.spec
    loaded_at = loaded_at or datetime.now(UTC)
    if accepted_unchanged(con, spec, raw.sha256):
        return "unchanged"
    fingerprint = input_fingerprint(spec, raw.sha256)
    previous = con.execute(
        "SELECT accepted_file, accepted_sha256 FROM raw.source_file WHERE source_id = ?",
        [spec.id],
    ).fetchone()
    rejected = raw.error is not None or validation is None or validation.is_rejected
    message = (
        str(raw.error)
        if raw.error is not None
        else (validation.rejected_reason if validation is not None else "not validated")
    )
    quarantine = validation.quarantine if validation is not None else _file_error_quarantine(raw)
    # Validation's list starts from the reader's, so it already holds every skipped row.
    skipped = len(validation.skipped) if validation is not None else len(raw.skipped)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM raw.quarantine WHERE source_id = ?", [spec.id])
        _insert(con, "raw.quarantine", quarantine[QUARANTINE_COLUMNS])
        if not rejected:
            con.execute("DELETE FROM raw.observation WHERE source_id = ?", [spec.id])
            con.execute("DELETE FROM raw.validated WHERE source_id = ?", [spec.id])
            _insert(con, "raw.observation", raw.frame[RAW_COLUMNS])
            _insert(con, "raw.validated", validation.rows)
        accepted_file, accepted_sha = (
            (raw.source.display_path, raw.sha256)
            if not rejected
            else (previous if previous else (None, None))
        )
        con.execute("DELETE FROM raw.source_file WHERE source_id = ?", [spec.id])
        con.execute(
            "INSERT INTO raw.source_file VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                spec.id,
                spec.title,
                spec.publisher,
                spec.target,
                raw.source.display_path,
                raw.sha256,
                raw.source.is_synthetic,
                "rejected" if rejected else "accepted",
                message if rejected else "",
                raw.rows_read,
                0 if rejected else len(validation.rows),
                len(quarantine),
                skipped,
                loaded_at,
                accepted_file,
                accepted_sha,
                fingerprint if not rejected else None,
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return "rejected" if rejected else "accepted"


def input_fingerprint(spec: SourceSpec, file_sha256: str) -> str:
    """The file's checksum and its registry entry in one: what a load was made from."""
    entry = json.dumps(asdict(spec), sort_keys=True, default=list)
    return hashlib.sha256(f"{file_sha256}\n{entry}".encode()).hexdigest()


def accepted_unchanged(con: duckdb.DuckDBPyConnection, spec: SourceSpec, file_sha256: str) -> bool:
    """Whether the warehouse already holds this very file, loaded under this registry entry
    (on a connection that has been through ``ensure_schema``)."""
    row = con.execute(
        "SELECT status, input_fingerprint FROM raw.source_file WHERE source_id = ?", [spec.id]
    ).fetchone()
    return bool(row) and row[0] == "accepted" and row[1] == input_fingerprint(spec, file_sha256)


def _file_error_quarantine(raw: RawLoad) -> pd.DataFrame:
    """A file that cannot be read at all is one quarantine row naming the file and the reason."""
    error = raw.error
    return pd.DataFrame(
        [
            {
                "source_id": raw.source_id,
                "file": raw.source.display_path,
                "row": error.row if error and error.row else 0,
                "column": error.column if error and error.column else "",
                "check": "readable_file",
                "value": "",
                "message": error.reason if error else "file could not be read",
                "file_sha256": raw.sha256,
                "loaded_at": pd.Timestamp.now(tz="UTC"),
            }
        ]
    )


def _insert(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    if frame.empty:
        return
    con.register("_incoming", frame)
    try:
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
    finally:
        con.unregister("_incoming")


def build_core(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild core.* from the accepted validated rows (deterministic order)."""
    ensure_schema(con)
    con.execute(_CORE_DDL)
    for table in ("core.population", "core.observation"):
        con.execute(f"COMMENT ON TABLE {table} IS '{GRAIN[table]}'")
    return {
        table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("core.population", "core.observation")
    }


def replace_table(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Replace a whole table with a frame, with its grain sentence as the table comment."""
    con.register("_frame", frame)
    try:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _frame")
    finally:
        con.unregister("_frame")
    if table in GRAIN:
        con.execute(f"COMMENT ON TABLE {table} IS '{GRAIN[table]}'")


def read_frame(path: Path, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run one query on a read-only connection and return a frame."""
    with connect(path, read_only=True) as con:
        return con.execute(sql, params or []).df()
