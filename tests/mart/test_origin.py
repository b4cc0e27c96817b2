"""Each published value knows whether it rests on real files, the synthetic sample, or both."""

from __future__ import annotations

import duckdb
import pytest

from datapakke.mart.catalogue import load_catalogue
from datapakke.mart.origin import indicator_origin, measure_origins


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    """A warehouse where FOLK1A is a real drop, deaths are synthetic and home help is loaded
    from two sources, one of each."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw; CREATE SCHEMA core")
    con.execute("CREATE TABLE raw.source_file (source_id TEXT, is_synthetic BOOLEAN)")
    con.execute(
        "INSERT INTO raw.source_file VALUES ('folk1a', false), ('fod207', true), "
        "('aed06', true), ('aed06_extra', false)"
    )
    con.execute("CREATE TABLE core.population (municipality_code TEXT, source_id TEXT)")
    con.execute("INSERT INTO core.population VALUES ('101', 'folk1a'), ('147', 'folk1a')")
    con.execute("CREATE TABLE core.observation (measure_id TEXT, source_id TEXT)")
    con.execute(
        "INSERT INTO core.observation VALUES ('deaths', 'fod207'), "
        "('home_help_recipients', 'aed06'), ('home_help_recipients', 'aed06_extra')"
    )
    return con


def test_measure_origins_follow_their_sources(con: duckdb.DuckDBPyConnection) -> None:
    assert measure_origins(con) == {
        "population": "real",
        "deaths": "synthetic",
        "home_help_recipients": "mixed",
    }


def _indicator(measure: str, denominator: str | None):
    return next(
        ind
        for ind in load_catalogue()
        if ind.numerator.measure == measure
        and (ind.denominator.measure if ind.denominator else None) == denominator
    )


def test_a_real_population_under_a_synthetic_numerator_is_mixed(
    con: duckdb.DuckDBPyConnection,
) -> None:
    origins = measure_origins(con)
    mortality = _indicator("deaths", "population_midyear")
    assert indicator_origin(mortality, origins) == "mixed"
    assert indicator_origin(mortality, {**origins, "deaths": "real"}) == "real"
    assert indicator_origin(mortality, {"population": "synthetic", "deaths": "synthetic"}) == (
        "synthetic"
    )


def test_an_indicator_without_data_is_never_called_real() -> None:
    mortality = _indicator("deaths", "population_midyear")
    assert indicator_origin(mortality, {}) == "synthetic"
    # only the real population has data: the value is real as far as it exists
    assert indicator_origin(mortality, {"population": "real"}) == "real"
