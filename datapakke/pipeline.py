"""The pipeline's steps as plain functions: what each Dagster asset calls, and nothing Dagster.

Each step reads its inputs, calls the domain modules and writes its output, returning a small
report for the asset's metadata. ``run_all`` runs the steps and the checks in a plain loop (the
benchmark's baseline for what orchestration adds).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from itertools import chain
from pathlib import Path

import duckdb
import pandas as pd

from datapakke.catalogue import Indicator, catalogue_frame, load_catalogue
from datapakke.config import Settings, get_settings
from datapakke.geography import Area, Geography, default_geography
from datapakke.indicators import (
    EngineInputs,
    audit_published_counts,
    combine_indicator_values,
    indicator_frames,
    published_counts,
    units_frame,
)
from datapakke.ingest import RawLoad, file_sha256, read_raw
from datapakke.parallel import map_forked, map_in_pool
from datapakke.publish import (
    area_tables,
    code_version,
    load_area_pack_data,
    load_published,
    write_area_mart,
)
from datapakke.schemas import indicator_value_schema
from datapakke.sources.registry import SourceSpec, load_registry, resolve_source
from datapakke.validate import ValidationResult, validate_observations
from datapakke.warehouse import (
    accepted_unchanged,
    build_core,
    connect,
    ensure_schema,
    load_source,
    replace_table,
)


class Stopwatch:
    """Seconds per named part of a step, for the asset metadata and the benchmark."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def __call__(self, part: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[part] = self.seconds.get(part, 0.0) + time.perf_counter() - started


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
    # Largest files first, so the small ones fill in at the end.
    by_size = sorted(changed, key=lambda spec: -resolve_source(spec, settings).path.stat().st_size)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # Workers are forked inside submit(), so all are started before the warehouse is
        # opened: no child process holds a copy of the writing connection.
        pending = [pool.submit(read_and_validate, s, settings, geo, today) for s in by_size]
        with connect(settings.warehouse_path) as con:
            for done in as_completed(pending):
                read = done.result()
                reports[read.raw.source_id] = _load_read_source(con, read)
    return [reports[spec.id] for spec in specs]


def _unchanged_sources(specs: list[SourceSpec], settings: Settings) -> dict[str, SourceReport]:
    """Reports, from the warehouse, of the sources whose file and registry entry are as loaded."""
    reports: dict[str, SourceReport] = {}
    if not settings.warehouse_path.exists():
        return reports
    with connect(settings.warehouse_path) as con:
        ensure_schema(con)  # a warehouse from before the input fingerprint gets its column
        for spec in specs:
            started = time.perf_counter()
            resolved = resolve_source(spec, settings)
            sha = file_sha256(resolved.path)
            if not accepted_unchanged(con, spec, sha):
                continue
            rows_read, rows_loaded, rows_skipped, message = con.execute(
                "SELECT rows_read, rows_loaded, rows_skipped, message FROM raw.source_file "
                "WHERE source_id = ?",
                [spec.id],
            ).fetchone()
            reports[spec.id] = SourceReport(
                source_id=spec.id,
                file=resolved.display_path,
                sha256=sha,
                is_synthetic=resolved.is_synthetic,
                status="unchanged",
                rows_read=rows_read,
                rows_loaded=rows_loaded,
                rows_skipped=rows_skipped,
                quarantine=_quarantine_of(con, spec.id),
                message=message,
                seconds={"checksum": time.perf_counter() - started},
            )
    return reports


def _quarantine_of(con: duckdb.DuckDBPyConnection, source_id: str) -> pd.DataFrame:
    return con.execute(
        'SELECT "row", "column", "check", value, message FROM raw.quarantine '
        'WHERE source_id = ? ORDER BY "row"',
        [source_id],
    ).df()


@dataclass
class ReadSource:
    """One source file read and validated, not yet loaded."""

    raw: RawLoad
    validation: ValidationResult | None  # None when the file could not be read at all
    seconds: dict[str, float] = field(default_factory=dict)  # read, validate


def read_and_validate(
    spec: SourceSpec,
    settings: Settings,
    geo: Geography | None = None,
    today: date | None = None,
) -> ReadSource:
    """Read the file behind a source and validate its rows (touches no database)."""
    geo = geo or default_geography()
    watch = Stopwatch()
    with watch("read"):
        raw = read_raw(resolve_source(spec, settings))
    validation = None
    if raw.error is None:
        with watch("validate"):
            validation = validate_observations(
                raw.frame,
                spec,
                geo,
                today or date.today(),
                settings.max_bad_share,
                skipped=raw.skipped,
            )
    return ReadSource(raw, validation, watch.seconds)


def _load_read_source(con: duckdb.DuckDBPyConnection, read: ReadSource) -> SourceReport:
    raw, validation = read.raw, read.validation
    watch = Stopwatch()
    with watch("load"):
        status = load_source(con, raw, validation)
    quarantine = _quarantine_of(con, raw.source_id)
    message = con.execute(
        "SELECT message FROM raw.source_file WHERE source_id = ?", [raw.source_id]
    ).fetchone()[0]
    return SourceReport(
        source_id=raw.source_id,
        file=raw.source.display_path,
        sha256=raw.sha256,
        is_synthetic=raw.source.is_synthetic,
        status=status,
        rows_read=raw.rows_read,
        rows_loaded=len(validation.rows) if validation is not None else 0,
        rows_skipped=len(validation.skipped) if validation is not None else len(raw.skipped),
        quarantine=quarantine,
        message=message,
        seconds={**read.seconds, **watch.seconds},
    )


@dataclass
class SourceCheck:
    """What a source's validation check shows: its status and the first quarantined rows."""

    status: str  # accepted | rejected
    message: str
    file: str
    rows_quarantined: int
    failures: pd.DataFrame  # file, row, column, check, value, message

    @property
    def is_rejected(self) -> bool:
        return self.status == "rejected"

    @property
    def passed(self) -> bool:
        return self.failures.empty and not self.is_rejected


def check_source(settings: Settings, source_id: str, limit: int = 50) -> SourceCheck:
    """Re-read one source's load from the warehouse: the validation check's evidence."""
    with connect(settings.warehouse_path, read_only=True) as con:
        status, message, file, quarantined = con.execute(
            "SELECT status, message, file, rows_quarantined FROM raw.source_file "
            "WHERE source_id = ?",
            [source_id],
        ).fetchone()
        failures = con.execute(
            'SELECT file, "row", "column", "check", value, message FROM raw.quarantine '
            'WHERE source_id = ? ORDER BY "row" LIMIT ?',
            [source_id, limit],
        ).df()
    return SourceCheck(status, message, file, int(quarantined), failures)


def build_core_tables(settings: Settings | None = None) -> dict[str, int]:
    settings = settings or get_settings()
    with connect(settings.warehouse_path) as con:
        return build_core(con)


@dataclass
class ReferenceCheck:
    unknown_codes: list[str]  # municipality codes in core that the reference data do not know
    incomplete_periods: list[str]  # population periods without every municipality

    @property
    def passed(self) -> bool:
        return not self.unknown_codes and not self.incomplete_periods


def check_reference_integrity(
    settings: Settings | None = None, geo: Geography | None = None
) -> ReferenceCheck:
    """Every municipality code in core is known; every period has each municipality's population."""
    settings = settings or get_settings()
    geo = geo or default_geography()
    with connect(settings.warehouse_path, read_only=True) as con:
        codes = con.execute(
            "SELECT DISTINCT municipality_code FROM core.observation UNION "
            "SELECT DISTINCT municipality_code FROM core.population"
        ).fetchall()
        incomplete = con.execute(
            "SELECT period FROM core.population GROUP BY period "
            "HAVING count(DISTINCT municipality_code) <> ? ORDER BY period",
            [len(geo.municipalities)],
        ).fetchall()
    return ReferenceCheck(
        unknown_codes=sorted({code for (code,) in codes} - set(geo.municipalities)),
        incomplete_periods=[period for (period,) in incomplete],
    )


@dataclass
class IndicatorReport:
    rows: int
    suppressed_rows: int
    indicators: int
    audit_findings: list[str] = field(default_factory=list)
    schema_errors: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # per part of the step


def build_indicator_values(
    settings: Settings | None = None,
    geo: Geography | None = None,
    catalogue: list[Indicator] | None = None,
    verify: bool = True,
    workers: int = 2,
) -> IndicatorReport:
    """Compute and protect every indicator; write mart.* and audit what was written.

    ``verify=False`` skips the disclosure audit and the schema check, for callers that run
    them separately (the Dagster asset's blocking checks), so they are not run twice.
    """
    settings = settings or get_settings()
    geo = geo or default_geography()
    catalogue = catalogue or load_catalogue()
    watch = Stopwatch()
    with watch("read inputs"), connect(settings.warehouse_path, read_only=True) as con:
        inputs = EngineInputs.load(con, catalogue, geo)
    # No connection is open while workers are forked: none of them holds a copy of one.
    with watch("disclosure control"):
        published = published_counts(inputs, catalogue, settings.suppression_threshold)
    with watch("indicators"):
        shares = _shares_by_cost(catalogue, workers)
        frames = map_forked(_indicator_share, (inputs, published), shares, len(shares))
        values = combine_indicator_values(list(chain.from_iterable(frames)))
    with connect(settings.warehouse_path) as con, watch("write mart tables"):
        replace_table(con, "mart.indicator_value", values)
        replace_table(con, "mart.published_count", published)
        replace_table(con, "mart.indicator", catalogue_frame(catalogue))
        replace_table(con, "mart.area_member", inputs.units)
    report = IndicatorReport(
        rows=len(values),
        suppressed_rows=int(values["is_suppressed"].sum()),
        indicators=values["indicator_id"].nunique(),
        seconds=watch.seconds,
    )
    if verify:
        with watch("disclosure audit and schema check"):
            report.audit_findings = audit_disclosure(settings, geo)
            report.schema_errors = check_indicator_schema(values)
    return report


def audit_disclosure(settings: Settings | None = None, geo: Geography | None = None) -> list[str]:
    """Re-read what was published and prove no suppressed count can be recovered."""
    settings = settings or get_settings()
    with connect(settings.warehouse_path, read_only=True) as con:
        published = con.execute("SELECT * FROM mart.published_count").df()
        values = con.execute(
            "SELECT v.indicator_id, v.area_level, v.grouping, v.area_code, v.period, v.sex, "
            "v.numerator, v.is_suppressed FROM mart.indicator_value v "
            "JOIN mart.indicator i USING (indicator_id) WHERE i.disclosure = 'count'"
        ).df()
    findings = audit_published_counts(published, units_frame(geo or default_geography()))
    small = values[
        (values["numerator"] > 0) & (values["numerator"] < settings.suppression_threshold)
    ]
    findings += [
        f"{r.indicator_id} {r.period} {r.area_level}:{r.area_code}|{r.sex}: numerator "
        f"{r.numerator:g} is below the threshold but published"
        for r in small.itertuples()
    ]
    return findings


def check_indicator_schema(values: pd.DataFrame) -> str:
    """Pandera check of the published table; '' when it passes."""
    import pandera.pandas as pa

    try:
        indicator_value_schema().validate(values, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return str(errors.failure_cases.head(20).to_string())
    return ""


def build_area_marts(
    areas: list[Area],
    settings: Settings | None = None,
    geo: Geography | None = None,
    workers: int = 2,
) -> list[Path]:
    """Write the per-area marts; each worker reads the warehouse once and writes its share."""
    settings = settings or get_settings()
    geo = geo or default_geography()
    write = partial(
        _write_area_marts,
        settings=settings,
        geo=geo,
        built_at=datetime.now(UTC).replace(microsecond=0),
        version=code_version(),
    )
    workers = max(1, min(workers, len(areas)))
    shares = [areas[i::workers] for i in range(workers)]
    paths = dict(chain.from_iterable(map_in_pool(write, shares, workers)))
    return [paths[area.partition_key] for area in areas]


def _write_area_marts(
    areas: list[Area], settings: Settings, geo: Geography, built_at: datetime, version: str
) -> list[tuple[str, Path]]:
    published = load_published(settings.warehouse_path)
    return [
        (
            area.partition_key,
            write_area_mart(
                settings, geo, area, area_tables(published, geo, area), built_at, version
            ),
        )
        for area in areas
    ]


# Age-standardised rates cost several times a crude rate (every age band of every unit).
_METHOD_COST = {"dsr": 6.0, "survey": 2.0}


def _shares_by_cost(catalogue: list[Indicator], workers: int) -> list[list[Indicator]]:
    """Indicators split into ``workers`` shares of about equal cost (largest first)."""
    shares: list[list[Indicator]] = [[] for _ in range(max(1, workers))]
    load = [0.0] * len(shares)
    for ind in sorted(catalogue, key=lambda i: -_METHOD_COST.get(i.method, 1.0)):
        lightest = load.index(min(load))
        shares[lightest].append(ind)
        load[lightest] += _METHOD_COST.get(ind.method, 1.0)
    return [share for share in shares if share]


def _indicator_share(
    shared: tuple[EngineInputs, pd.DataFrame], share: list[Indicator]
) -> list[pd.DataFrame]:
    inputs, published = shared
    return indicator_frames(inputs, share, published)


@dataclass
class PackReport:
    partition_key: str
    pack_path: Path
    chart_paths: dict[str, Path]
    pack_bytes: int
    chart_seconds: float  # drawing and writing every chart of the pack
    workbook_seconds: float  # building and writing the Excel file


def build_area_pack(area_key: str, settings: Settings | None = None) -> PackReport:
    """Charts and the Excel pack for one area, from its published mart."""
    from datapakke.charts import render_area_charts
    from datapakke.workbook import publish_pack

    settings = settings or get_settings()
    grouping, _, area_id = area_key.partition(".")
    folder = settings.area_dir(grouping, area_id)
    pack = load_area_pack_data(folder / "mart.duckdb")
    started = time.perf_counter()
    charts = render_area_charts(pack, folder / "charts")
    charted = time.perf_counter()
    path = publish_pack(pack, charts, folder, settings.history_keep)
    written = time.perf_counter()
    return PackReport(
        area_key, path, charts, path.stat().st_size, charted - started, written - charted
    )


def build_area_packs(
    area_keys: list[str], settings: Settings | None = None, workers: int = 2
) -> list[PackReport]:
    """Build many packs with a small process pool (charts are CPU-bound; 2 cores here)."""
    settings = settings or get_settings()
    geo = default_geography()
    # Largest areas first, so the last packs to finish are small ones and both workers stay busy.
    by_size = sorted(area_keys, key=lambda key: -len(geo.area_by_partition_key(key).members))
    reports = map_in_pool(partial(build_area_pack, settings=settings), by_size, workers)
    by_key = {report.partition_key: report for report in reports}
    return [by_key[key] for key in area_keys]


@dataclass
class RefreshReport:
    """What one plain-loop refresh did, with the wall time of each stage."""

    sources: list[SourceReport]
    source_checks: dict[str, SourceCheck]
    core: dict[str, int]
    reference: ReferenceCheck
    indicators: IndicatorReport
    marts: list[Path]
    packs: list[PackReport]
    site: Path
    seconds: dict[str, float]  # stage → wall seconds, in the order run


def run_all(settings: Settings | None = None) -> RefreshReport:
    """Every step and check in a plain loop, no orchestration (the benchmark's baseline: the
    same functions the Dagster assets and checks call)."""
    from datapakke.site import build_site

    settings = settings or get_settings()
    geo = default_geography()
    areas = list(geo.areas.values())
    watch = Stopwatch()
    with watch("ingest + validate"):
        sources = ingest_sources(load_registry(), settings, geo)
        checks = {r.source_id: check_source(settings, r.source_id) for r in sources}
    with watch("warehouse (core)"):
        core = build_core_tables(settings)
        reference = check_reference_integrity(settings, geo)
    with watch("indicators + disclosure"):
        indicators = build_indicator_values(settings, geo)
    with watch("area marts"):
        marts = build_area_marts(areas, settings, geo)
    with watch("charts + packs"):
        packs = build_area_packs([a.partition_key for a in areas], settings)
    with watch("site"):
        site = build_site(settings, geo)
    return RefreshReport(
        sources, checks, core, reference, indicators, marts, packs, site, watch.seconds
    )
