"""The core stage: validated facts from the accepted raw loads, and the reference-integrity check."""

from __future__ import annotations

from dataclasses import dataclass

from datapakke.config import Settings, get_settings
from datapakke.core.build import build_core
from datapakke.geography import Geography, default_geography
from datapakke.warehouse import connect


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
