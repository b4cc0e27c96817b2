"""The raw stage: read, validate and load every source; the validation check's evidence.

Sources are read and validated in worker processes (CPU-bound pandas) and loaded by the calling
process one at a time, because the warehouse has one writer.
"""

from __future__ import annotations

from concurrent.futures import as_completed
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from datapakke.config import Settings, get_settings
from datapakke.geography import Geography, default_geography
from datapakke.parallel import worker_pool
from datapakke.raw.advice import SourceAdvice, SourceProblem, advise_source
from datapakke.raw.combine import FilePart, split_by_period
from datapakke.raw.drops import file_sha256
from datapakke.raw.load import accepted_unchanged, input_fingerprint, load_source
from datapakke.raw.read import read_raw
from datapakke.raw.registry import SourceSpec, load_registry, resolve_files
from datapakke.raw.validate import validate_observations
from datapakke.timing import Stopwatch
from datapakke.warehouse import connect


@dataclass
class SourceReport:
    source_id: str
    file: str
    sha256: str
    is_synthetic: bool
    status: str  # accepted | rejected | unchanged
    rows_read: int
    rows_loaded: int
    rows_skipped: int
    quarantine: pd.DataFrame
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # read, validate, load


def ingest_source(
    spec: SourceSpec,
    settings: Settings | None = None,
    geo: Geography | None = None,
    today: date | None = None,
) -> SourceReport:
    """Read, validate and load one source into the warehouse (raw, quarantine, validated).

    A file the warehouse already holds, loaded under the same registry entry, is not read
    again: its report comes from the warehouse, with status 'unchanged'.
    """
    settings = settings or get_settings()
    return ingest_sources([spec], settings, geo, today, workers=1)[0]


def ingest_sources(
    specs: list[SourceSpec],
    settings: Settings | None = None,
    geo: Geography | None = None,
    today: date | None = None,
    workers: int = 2,
) -> list[SourceReport]:
    """Ingest many sources: read and validated by a pool of workers (CPU-bound pandas work),
    loaded by this process one at a time as each is ready (the warehouse has one writer)."""
    settings = settings or get_settings()
    geo = geo or default_geography()
    today = today or date.today()
    reports = _unchanged_sources(specs, settings)
    changed = [spec for spec in specs if spec.id not in reports]
    if workers <= 1 or len(changed) <= 1:
        for spec in changed:
            read = read_and_validate(spec, settings, geo, today)
            with connect(settings.warehouse_path) as con:
                reports[spec.id] = _load_read_source(con, read)
        return [reports[spec.id] for spec in specs]
    # Largest sources first, so the small ones fill in at the end.
    by_size = sorted(changed, key=lambda spec: -_size(spec, settings))
    with worker_pool(workers) as pool:
        # Workers are forked inside submit(), so all are started before the warehouse is
        # opened: no child process holds a copy of the writing connection.
        pending = [pool.submit(read_and_validate, s, settings, geo, today) for s in by_size]
        with connect(settings.warehouse_path) as con:
            for done in as_completed(pending):
                read = done.result()
                reports[read.spec.id] = _load_read_source(con, read)
    return [reports[spec.id] for spec in specs]


def _size(spec: SourceSpec, settings: Settings) -> int:
    return sum(resolved.path.stat().st_size for resolved in resolve_files(spec, settings))


def current_files(spec: SourceSpec, settings: Settings) -> list[tuple[str, str]]:
    """The files a load of ``spec`` would read now: path under data/raw/ and checksum, newest
    first (what ``input_fingerprint`` is made of)."""
    return [
        (resolved.display_path, file_sha256(resolved.path))
        for resolved in resolve_files(spec, settings)
    ]


def sources_to_reload(
    settings: Settings | None = None, specs: list[SourceSpec] | None = None
) -> dict[str, str]:
    """Source id → fingerprint of its files now, for every source whose files or registry entry
    differ from what the warehouse holds as accepted (every source when there is no warehouse; a
    rejected source until its files change back or are fixed). Read-only, so the file sensor can
    ask while nothing runs; raises ``duckdb.IOException`` while a refresh holds the warehouse."""
    settings = settings or get_settings()
    specs = specs if specs is not None else load_registry()
    now = {spec.id: input_fingerprint(spec, current_files(spec, settings)) for spec in specs}
    if not settings.warehouse_path.exists():
        return now
    with connect(settings.warehouse_path, read_only=True, retries=1) as con:
        try:
            loaded = dict(
                con.execute(
                    "SELECT source_id, input_fingerprint FROM raw.source_file "
                    "WHERE status = 'accepted'"
                ).fetchall()
            )
        except duckdb.CatalogException:  # a warehouse from before fingerprints: reload all
            loaded = {}
    return {source: print_ for source, print_ in now.items() if loaded.get(source) != print_}


def _unchanged_sources(specs: list[SourceSpec], settings: Settings) -> dict[str, SourceReport]:
    """Reports, from the warehouse, of the sources whose files and registry entry are as loaded."""
    reports: dict[str, SourceReport] = {}
    if not settings.warehouse_path.exists():
        return reports
    # Read-only: a quiet night does not touch the warehouse file.
    with connect(settings.warehouse_path, read_only=True) as con:
        for spec in specs:
            watch = Stopwatch()
            with watch("checksum"):
                files = current_files(spec, settings)
            try:
                unchanged = accepted_unchanged(con, spec, files)
            except duckdb.Error:  # a warehouse from before the input fingerprint: load again
                unchanged = False
            if unchanged:
                reports[spec.id] = _report(con, spec.id, "unchanged", watch.seconds)
    return reports


def _report(
    con: duckdb.DuckDBPyConnection, source_id: str, status: str, seconds: dict[str, float]
) -> SourceReport:
    """A source's report as the warehouse records its last load."""
    file, sha, is_synthetic, rows_read, rows_loaded, rows_skipped, message = con.execute(
        "SELECT file, file_sha256, is_synthetic, rows_read, rows_loaded, rows_skipped, message "
        "FROM raw.source_file WHERE source_id = ?",
        [source_id],
    ).fetchone()
    return SourceReport(
        source_id=source_id,
        file=file,
        sha256=sha,
        is_synthetic=is_synthetic,
        status=status,
        rows_read=rows_read,
        rows_loaded=rows_loaded,
        rows_skipped=rows_skipped,
        quarantine=_quarantine_of(con, source_id),
        message=message,
        seconds=seconds,
    )


def _quarantine_of(con: duckdb.DuckDBPyConnection, source_id: str) -> pd.DataFrame:
    return con.execute(
        'SELECT "row", "column", "check", value, message FROM raw.quarantine '
        'WHERE source_id = ? ORDER BY "row"',
        [source_id],
    ).df()


@dataclass
class ReadSource:
    """One source's files read and validated, not yet loaded."""

    spec: SourceSpec
    parts: list[FilePart]  # newest first; not validated when any file could not be read
    seconds: dict[str, float] = field(default_factory=dict)  # read, validate


def read_and_validate(
    spec: SourceSpec,
    settings: Settings,
    geo: Geography | None = None,
    today: date | None = None,
) -> ReadSource:
    """Read the files behind a source, take each period from the newest file that has it and
    validate each file's rows (touches no database)."""
    geo = geo or default_geography()
    watch = Stopwatch()
    with watch("read"):
        loads = [read_raw(resolved) for resolved in resolve_files(spec, settings)]
    if any(load.error is not None for load in loads):
        return ReadSource(spec, [FilePart(load) for load in loads], watch.seconds)
    parts = split_by_period(loads)
    with watch("validate"):
        for part in parts:
            if part.raw.frame.empty:
                continue  # every period of it is in a newer file
            part.validation = validate_observations(
                part.raw.frame,
                spec,
                geo,
                today or date.today(),
                settings.max_bad_share,
                skipped=part.raw.skipped,
            )
    return ReadSource(spec, parts, watch.seconds)


def _load_read_source(con: duckdb.DuckDBPyConnection, read: ReadSource) -> SourceReport:
    watch = Stopwatch()
    with watch("load"):
        status = load_source(con, read.parts)
    return _report(con, read.spec.id, status, {**read.seconds, **watch.seconds})


@dataclass
class SourceCheck:
    """What a source's validation check shows: its status, the first quarantined rows and, for a
    problem source, the one-line advice the terminal shows too."""

    status: str  # accepted | rejected
    message: str
    file: str
    rows_quarantined: int
    failures: pd.DataFrame  # file, row, column, check, value, message
    source_id: str = ""
    rows_read: int = 0
    checks: dict[str, int] = field(default_factory=dict)  # quarantined rows per check
    findings: list[str] = field(default_factory=list)  # raw.source_finding: what the file covers
    warnings: list[str] = field(default_factory=list)  # ...and what a user must look at

    @property
    def is_rejected(self) -> bool:
        return self.status == "rejected"

    @property
    def passed(self) -> bool:
        return self.failures.empty and not self.is_rejected and not self.warnings

    @property
    def description(self) -> str | None:
        """The check's one line: the advice for a rejected or partly quarantined file, else the
        warnings about an accepted one."""
        advice = self.advice
        if advice:
            return advice.line
        if self.warnings:
            return f"{self.file}: " + "; ".join(self.warnings)
        return self.message or None

    @property
    def advice(self) -> SourceAdvice | None:
        return advise_source(
            SourceProblem(
                source_id=self.source_id,
                file=self.file,
                status=self.status,
                message=self.message,
                rows_read=self.rows_read,
                rows_quarantined=self.rows_quarantined,
                checks=self.checks,
            )
        )


def check_source(settings: Settings, source_id: str, limit: int = 50) -> SourceCheck:
    """Re-read one source's load from the warehouse: the validation check's evidence."""
    with connect(settings.warehouse_path, read_only=True) as con:
        status, message, file, quarantined, rows_read = con.execute(
            "SELECT status, message, file, rows_quarantined, rows_read FROM raw.source_file "
            "WHERE source_id = ?",
            [source_id],
        ).fetchone()
        failures = con.execute(
            'SELECT file, "row", "column", "check", value, message FROM raw.quarantine '
            'WHERE source_id = ? ORDER BY "row" LIMIT ?',
            [source_id, limit],
        ).df()
        checks = con.execute(
            'SELECT "check", count(*) FROM raw.quarantine WHERE source_id = ? '
            'GROUP BY "check" ORDER BY count(*) DESC, "check"',
            [source_id],
        ).fetchall()
        findings = con.execute(
            "SELECT finding, is_warning FROM raw.source_finding WHERE source_id = ?", [source_id]
        ).fetchall()
    return SourceCheck(
        status,
        message,
        file,
        int(quarantined),
        failures,
        source_id=source_id,
        rows_read=int(rows_read or 0),
        checks={str(check): int(n) for check, n in checks},
        findings=[text for text, warning in findings if not warning],
        warnings=[text for text, warning in findings if warning],
    )
