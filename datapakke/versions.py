"""What each stage was built from, as one digest: the stage's *input fingerprint*.

A refresh rebuilds a stage only when its fingerprint differs from the one recorded when it was
last built, so a quiet night rewrites nothing (issue 15). Each fingerprint covers the stage's
data inputs (the fingerprint of the stage before it, or the files themselves), the reference data
and settings it reads, and the source code that builds it, so new data, a new area definition
or a code change each rebuild what they touch. The Dagster assets report the fingerprint as
their data version.

The warehouse keeps its stages' fingerprints in ``meta.stage_input`` (grain: one row per
warehouse stage, as last built); an area mart keeps its own in its ``area`` table.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import duckdb

from datapakke.config import REPO_ROOT, Settings

PACKAGE_DIR = REPO_ROOT / "datapakke"
CORE_STAGE, INDICATOR_STAGE = "core", "indicators"  # their rows in meta.stage_input
STAGE_INPUT_DDL = (
    "CREATE SCHEMA IF NOT EXISTS meta; CREATE TABLE IF NOT EXISTS meta.stage_input ("
    "stage TEXT PRIMARY KEY, input_fingerprint TEXT, built_at TIMESTAMPTZ)"
)


def digest(*parts: object) -> str:
    """SHA-256 of the parts as canonical JSON (anything JSON cannot say is written as text)."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@cache
def code_digest(*paths: str) -> str:
    """SHA-256 of the Python source under ``datapakke/<path>`` (files or folders): the version
    of the code a stage is built with, independent of git (a checkout, a wheel, a dirty tree)."""
    hasher = hashlib.sha256()
    for path in paths:
        root = PACKAGE_DIR / path
        files = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        for file in files:
            hasher.update(f"{file.relative_to(PACKAGE_DIR).as_posix()}\n".encode())
            hasher.update(file.read_bytes())
    return hasher.hexdigest()


def reference_digest(settings: Settings) -> str:
    """SHA-256 of every reference file (geography, catalogue, sources, standard population)."""
    hasher = hashlib.sha256()
    for file in sorted(p for p in settings.reference_dir.rglob("*") if p.is_file()):
        hasher.update(f"{file.relative_to(settings.reference_dir).as_posix()}\n".encode())
        hasher.update(file.read_bytes())
    return hasher.hexdigest()


def recorded_input(con: duckdb.DuckDBPyConnection, stage: str) -> str | None:
    """The fingerprint ``stage`` was last built from (None: never, or a warehouse from before)."""
    try:
        row = con.execute(
            "SELECT input_fingerprint FROM meta.stage_input WHERE stage = ?", [stage]
        ).fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None


def record_input(con: duckdb.DuckDBPyConnection, stage: str, fingerprint: str) -> None:
    """Say ``stage`` is now built from ``fingerprint`` (last, after everything it wrote)."""
    con.execute(STAGE_INPUT_DDL)
    con.execute(
        "INSERT OR REPLACE INTO meta.stage_input VALUES (?, ?, ?)",
        [stage, fingerprint, datetime.now(UTC)],
    )


def file_states(paths: list[Path]) -> list[tuple[str, int, int]]:
    """Name, size and modification time of each file that exists: what a folder of published
    files looks like, cheaply (the stages before keep a file's mtime when it is unchanged)."""
    states = []
    for path in paths:
        try:
            stat = path.stat()
        except OSError:
            continue
        states.append((path.as_posix(), stat.st_size, stat.st_mtime_ns))
    return states
