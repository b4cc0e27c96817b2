"""Loading one source, from one file or several combined by period, into the raw schema.

Loads replace one source's rows inside a transaction, so a failure leaves the previous good rows
in place, and loading the same files under the same registry entry twice changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from datetime import UTC, datetime

import duckdb
import pandas as pd

from datapakke.raw.combine import (
    FilePart,
    combined_validation,
    in_period_order,
    quarantine_of,
    stack,
)
from datapakke.raw.periods import describe_periods
from datapakke.raw.read import RAW_COLUMNS
from datapakke.raw.registry import SourceSpec
from datapakke.raw.validate import ValidationResult
from datapakke.schemas import QUARANTINE_COLUMNS
from datapakke.warehouse import ensure_schema, insert_frame


def load_source(
    con: duckdb.DuckDBPyConnection,
    parts: list[FilePart],
    loaded_at: datetime | None = None,
) -> str:
    """Store one source's rows from its files; return 'accepted', 'rejected' or 'unchanged'.

    A source with a rejected file (unreadable, or too many bad rows) is recorded with its
    quarantine and the file(s) at fault, but its previous accepted rows stay in use: a bad file
    never silently drops its periods. The same accepted files loaded again change nothing.
    """
    ensure_schema(con)
    spec = parts[0].raw.source.spec
    loaded_at = loaded_at or datetime.now(UTC)
    files = [(part.file, part.raw.sha256) for part in parts]
    if accepted_unchanged(con, spec, files):
        return "unchanged"
    problems = [part for part in parts if part.problem]
    rejected = bool(problems)
    validation = None if rejected else combined_validation(parts)
    quarantine = quarantine_of(parts)
    shown = problems if rejected else in_period_order(parts)
    shown_file = ", ".join(part.file for part in shown)
    shown_sha = ", ".join(part.raw.sha256 for part in shown)
    previous = con.execute(
        "SELECT accepted_file, accepted_sha256 FROM raw.source_file WHERE source_id = ?",
        [spec.id],
    ).fetchone()
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM raw.quarantine WHERE source_id = ?", [spec.id])
        insert_frame(con, "raw.quarantine", quarantine[QUARANTINE_COLUMNS])
        if validation is not None:
            # Compared with the data they replace before those are deleted.
            findings = _findings(con, spec.id, _notes(parts), validation)
            for table in _REPLACED:
                con.execute(f"DELETE FROM {table} WHERE source_id = ?", [spec.id])
            insert_frame(
                con, "raw.observation", stack([part.raw.frame[RAW_COLUMNS] for part in parts])
            )
            insert_frame(con, "raw.validated", validation.rows)
            insert_frame(con, "raw.missing", validation.missing.assign(source_id=spec.id))
            insert_frame(con, "raw.source_finding", findings)
            insert_frame(con, "raw.source_part", _part_rows(spec.id, parts))
        accepted_file, accepted_sha = (
            (shown_file, shown_sha) if not rejected else (previous if previous else (None, None))
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
                shown_file,
                shown_sha,
                parts[0].raw.source.is_synthetic,
                "rejected" if rejected else "accepted",
                "; ".join(part.problem for part in problems),
                sum(part.raw.rows_read for part in parts),
                0 if validation is None else len(validation.rows),
                len(quarantine),
                _skipped(parts),
                loaded_at,
                accepted_file,
                accepted_sha,
                None if rejected else input_fingerprint(spec, files),
            ],
        )
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return "rejected" if rejected else "accepted"


# What an accepted load replaces of a source's previous accepted load.
_REPLACED = (
    "raw.observation",
    "raw.validated",
    "raw.missing",
    "raw.source_finding",
    "raw.source_part",
)


def _notes(parts: list[FilePart]) -> list[str]:
    """What the reader assumed, once however many files said it."""
    return list(dict.fromkeys(note for part in parts for note in part.raw.notes))


def _skipped(parts: list[FilePart]) -> int:
    # Validation's list starts from the reader's, so it already holds every skipped row.
    return sum(
        len(part.validation.skipped) if part.validation else len(part.raw.skipped) for part in parts
    )


def _part_rows(source_id: str, parts: list[FilePart]) -> pd.DataFrame:
    """raw.source_part: each file in use, the periods taken from it and its rows."""
    used = in_period_order(parts)
    return pd.DataFrame(
        {
            "source_id": source_id,
            "file": [part.file for part in used],
            "file_sha256": [part.raw.sha256 for part in used],
            "periods": [describe_periods(part.periods) for part in used],
            "rows_loaded": [part.rows_loaded for part in used],
            "modified_at": pd.Series(
                [part.raw.source.modified for part in used], dtype="datetime64[ns, UTC]"
            ),
            "is_synthetic": [part.raw.source.is_synthetic for part in used],
        }
    )


# A file loading fewer rows than this share of the data it replaces is a warning: a download with
# a narrower selection (fewer municipalities, ages or periods) must never pass silently.
SHRINK_WARNING_SHARE = 0.5


def _findings(
    con: duckdb.DuckDBPyConnection,
    source_id: str,
    notes: list[str],
    validation: ValidationResult,
) -> pd.DataFrame:
    """What to store in raw.source_finding for an accepted load, warnings flagged (while the
    data it replaces are still in the warehouse)."""
    warnings = [*validation.warnings, *_shrink_warnings(con, source_id, validation.rows)]
    findings = [*notes, *validation.findings]
    return pd.DataFrame(
        {
            "source_id": source_id,
            "finding": [*findings, *warnings],
            "is_warning": [False] * len(findings) + [True] * len(warnings),
        }
    )


# How many municipalities a warning names before it says how many more there are.
_NAMED = 10


def _shrink_warnings(
    con: duckdb.DuckDBPyConnection, source_id: str, rows: pd.DataFrame
) -> list[str]:
    """What new data cover less of than the real data they replace: far fewer rows, whole
    periods, or municipalities in a period both have. A download with a narrower selection
    must never pass silently; the synthetic sample is not compared with."""
    previous = con.execute(
        "SELECT accepted_file FROM raw.source_file "
        "WHERE source_id = ? AND accepted_sha256 IS NOT NULL",
        [source_id],
    ).fetchone()
    was_synthetic = con.execute(
        "SELECT bool_or(is_synthetic) FROM raw.source_part WHERE source_id = ?", [source_id]
    ).fetchone()[0]
    if previous is None or was_synthetic:
        return []
    replaced = previous[0]
    old = con.execute(
        "SELECT period, municipality_code, count(*) AS n FROM raw.validated "
        "WHERE source_id = ? GROUP BY ALL",
        [source_id],
    ).df()
    warnings = []
    before, loaded = int(old["n"].sum()), len(rows)
    if before and loaded < SHRINK_WARNING_SHARE * before:
        warnings.append(
            f"loads {loaded:,} rows where the data it replaces ({replaced}) had "
            f"{before:,}: check that the download covers every municipality, period, age "
            "and sex the packs need; what it does not cover is shown as missing"
        )
    new_periods = set(rows["period"])
    gone = sorted(set(old["period"]) - new_periods)
    if gone:
        warnings.append(
            f"periods {describe_periods(gone)} were in the data it replaces ({replaced}) but "
            "are not in the new data: keep the file that has them in data/raw/ beside the "
            "newer one (each period is taken from the newest file that has it)"
        )
    present = rows[["period", "municipality_code"]].drop_duplicates().assign(present=True)
    compared = old.merge(present, on=["period", "municipality_code"], how="left")
    lost = compared[compared["period"].isin(new_periods) & compared["present"].isna()]
    if not lost.empty:
        codes = sorted(set(lost["municipality_code"]))
        named = ", ".join(codes[:_NAMED]) + (
            f" and {len(codes) - _NAMED} more" if len(codes) > _NAMED else ""
        )
        warnings.append(
            f"municipalities {named} were in the data it replaces ({replaced}) for "
            f"{describe_periods(set(lost['period']))} but are not in the new data: check that "
            "the download covers every municipality; what it does not cover is shown as missing"
        )
    return warnings


# Raised whenever what a load stores changes (2: raw.missing; 3: its age band and reason, and
# raw.source_finding; 4: several files per source, raw.source_part), so older loads are redone
# once.
LOAD_FORMAT = 4


def input_fingerprint(spec: SourceSpec, files: list[tuple[str, str]]) -> str:
    """The files (path and checksum, newest first), the registry entry and the load format in
    one: what a load was made from, and how. A file added, changed, renamed or made newer than
    another changes it."""
    entry = json.dumps(asdict(spec), sort_keys=True, default=list)
    made_from = json.dumps(files)
    return hashlib.sha256(f"{made_from}\n{entry}\n{LOAD_FORMAT}".encode()).hexdigest()


def accepted_unchanged(
    con: duckdb.DuckDBPyConnection, spec: SourceSpec, files: list[tuple[str, str]]
) -> bool:
    """Whether the warehouse already holds these very files, loaded under this registry entry
    (``files``: path under data/raw/ and checksum, newest first)."""
    row = con.execute(
        "SELECT status, input_fingerprint FROM raw.source_file WHERE source_id = ?", [spec.id]
    ).fetchone()
    return bool(row) and row[0] == "accepted" and row[1] == input_fingerprint(spec, files)
