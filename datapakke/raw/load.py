"""Loading one source into the warehouse's raw schema.

Loads replace one source's rows inside a transaction, so a failure leaves the previous good rows
in place, and loading the same file under the same registry entry twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime

import duckdb
import pandas as pd

from datapakke.raw.read import RAW_COLUMNS, RawLoad
from datapakke.raw.registry import SourceSpec
from datapakke.raw.validate import ValidationResult
from datapakke.schemas import QUARANTINE_COLUMNS
from datapakke.warehouse import ensure_schema, insert_frame


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
        insert_frame(con, "raw.quarantine", quarantine[QUARANTINE_COLUMNS])
        if not rejected:
            con.execute("DELETE FROM raw.observation WHERE source_id = ?", [spec.id])
            con.execute("DELETE FROM raw.validated WHERE source_id = ?", [spec.id])
            con.execute("DELETE FROM raw.missing WHERE source_id = ?", [spec.id])
            con.execute("DELETE FROM raw.source_finding WHERE source_id = ?", [spec.id])
            insert_frame(con, "raw.observation", raw.frame[RAW_COLUMNS])
            insert_frame(con, "raw.validated", validation.rows)
            insert_frame(con, "raw.missing", validation.missing.assign(source_id=spec.id))
            insert_frame(con, "raw.source_finding", _findings(con, spec.id, raw, validation))
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


# A file loading fewer rows than this share of the data it replaces is a warning: a download with
# a narrower selection (fewer municipalities, ages or periods) must never pass silently.
SHRINK_WARNING_SHARE = 0.5


def _findings(
    con: duckdb.DuckDBPyConnection, source_id: str, raw: RawLoad, validation: ValidationResult
) -> pd.DataFrame:
    """What to store in raw.source_finding for an accepted file, warnings flagged."""
    previous = con.execute(
        "SELECT rows_loaded, accepted_file FROM raw.source_file "
        "WHERE source_id = ? AND accepted_sha256 IS NOT NULL",
        [source_id],
    ).fetchone()
    warnings = list(validation.warnings)
    loaded = len(validation.rows)
    if previous and previous[0] and loaded < SHRINK_WARNING_SHARE * previous[0]:
        warnings.append(
            f"loads {loaded:,} rows where the data it replaces ({previous[1]}) had "
            f"{previous[0]:,}: check that the download covers every municipality, period, age "
            "and sex the packs need; what it does not cover is shown as missing"
        )
    findings = [*raw.notes, *validation.findings]
    return pd.DataFrame(
        {
            "source_id": source_id,
            "finding": [*findings, *warnings],
            "is_warning": [False] * len(findings) + [True] * len(warnings),
        }
    )


# Raised whenever what a load stores changes (2: raw.missing; 3: its age band and reason, and
# raw.source_finding), so older loads are redone once.
LOAD_FORMAT = 3


def input_fingerprint(spec: SourceSpec, file_sha256: str) -> str:
    """The file's checksum, its registry entry and the load format in one: what a load was
    made from, and how."""
    entry = json.dumps(asdict(spec), sort_keys=True, default=list)
    return hashlib.sha256(f"{file_sha256}\n{entry}\n{LOAD_FORMAT}".encode()).hexdigest()


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
