"""Whether a published value rests on real files or on the embedded synthetic sample.

A source is loaded either from an analyst's drop (real) or from the sample (synthetic), never
both, so the origin is a property of each source; an indicator's values take the origin of every
source behind them (numerator, denominator, survey columns). When they differ (a real FOLK1A
population under a synthetic numerator) the value is ``mixed``, and the pack says so.
"""

from __future__ import annotations

import duckdb

from datapakke.mart.catalogue import Indicator
from datapakke.mart.completeness import indicator_refs
from datapakke.mart.population import is_population

#: The measure id population bases are stored under in ``core.population``'s lineage.
POPULATION_KEY = "population"


def measure_origins(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Measure id → ``real`` | ``synthetic`` | ``mixed`` from the sources that loaded it."""
    rows = con.execute(
        f"""
        WITH fed AS (
            SELECT DISTINCT measure_id, source_id FROM core.observation
            UNION SELECT DISTINCT '{POPULATION_KEY}', source_id FROM core.population
        )
        SELECT measure_id, bool_and(s.is_synthetic), bool_or(s.is_synthetic)
        FROM fed JOIN raw.source_file s USING (source_id)
        GROUP BY measure_id
        """
    ).fetchall()
    return {measure: _origin(every, some) for measure, every, some in rows}


def indicator_origin(ind: Indicator, origins: dict[str, str]) -> str:
    """The origin of an indicator's values: the combination of every measure it is built from.

    A measure without data adds nothing (its values are missing, not synthetic); an indicator
    with no data at all is reported as synthetic, never as real.
    """
    found = set()
    for measure in indicator_refs(ind):
        key = POPULATION_KEY if is_population(measure) else measure
        if key in origins:
            found.add(origins[key])
    if not found:
        return "synthetic"
    if len(found) == 1:
        return found.pop()
    return "mixed"


def _origin(all_synthetic: bool, any_synthetic: bool) -> str:
    if all_synthetic:
        return "synthetic"
    return "mixed" if any_synthetic else "real"
