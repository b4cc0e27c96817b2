"""The core stage: validated facts from the accepted raw loads, and the reference-integrity check."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from datapakke.config import Settings, get_settings
from datapakke.core.build import CORE_TABLES, build_core
from datapakke.geography import Geography, default_geography
from datapakke.versions import CORE_STAGE, code_digest, digest, record_input, recorded_input
from datapakke.warehouse import connect


@dataclass
class CoreReport:
    counts: dict[str, int]  # table → rows
    input_fingerprint: str  # what it was built from (datapakke.versions)
    rebuilt: bool  # False: every source was as last built from, nothing was written


def core_input_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Every source's load as recorded (files, status, when loaded) and the code building core:
    a source loaded again, even with the same files, rebuilds core."""
    loads = con.execute(
        "SELECT source_id, target, status, accepted_sha256, input_fingerprint, loaded_at "
        "FROM raw.source_file ORDER BY source_id"
    ).fetchall()
    return digest(loads, code_digest("core", "schemas.py", "warehouse.py"))


def build_core_tables(settings: Settings | None = None) -> CoreReport:
    """Rebuild core.* from the accepted loads, unless they are what core was last built from."""
    settings = settings or get_settings()
    with connect(settings.warehouse_path, read_only=True) as con:
        fingerprint = core_input_fingerprint(con)
        if recorded_input(con, CORE_STAGE) == fingerprint:
            counts = {
                t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in CORE_TABLES
            }
            return CoreReport(counts, fingerprint, rebuilt=False)
    with connect(settings.warehouse_path) as con:
        counts = build_core(con)
        record_input(con, CORE_STAGE, fingerprint)
    return CoreReport(counts, fingerprint, rebuilt=True)


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
