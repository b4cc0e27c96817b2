"""Population bases: 1 January for point-in-time counts, middelfolketal for events in a year."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from datapakke.mart.catalogue import MeasureRef, load_catalogue
from datapakke.mart.completeness import missing_years
from datapakke.mart.indicators import municipal_counts
from datapakke.mart.population import POPULATION_MEASURES, is_population
from tests.publish.sample_build import built_warehouse

# One municipality, one sex, one age band: 1 January 2020-2022, 1 July 2022; 2023 has 1 July only.
QUARTERS = {"2020K1": 100, "2020K3": 104, "2021K1": 110, "2022K1": 130, "2022K3": 126, "2023K3": 90}


def _warehouse(quarantined: list[str]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core")
    population = pd.DataFrame(
        {
            "municipality_code": "101",
            "period": list(QUARTERS),
            "sex": "K",
            "age_band": "70-74",
            "population": [float(v) for v in QUARTERS.values()],
        }
    )
    missing = pd.DataFrame(
        {
            "measure_id": "population",
            "municipality_code": "101",
            "period": quarantined,
            "age_band": None,
            "reasons": "quarantined",
        },
        columns=["measure_id", "municipality_code", "period", "age_band", "reasons"],
    )
    con.register("population_frame", population)
    con.register("missing_frame", missing)
    con.execute("CREATE TABLE core.population AS SELECT * FROM population_frame")
    con.execute(
        "CREATE TABLE core.missing (measure_id VARCHAR, municipality_code VARCHAR, "
        "period VARCHAR, age_band VARCHAR, reasons VARCHAR)"
    )
    con.execute("INSERT INTO core.missing SELECT * FROM missing_frame")
    return con


def _by_year(con: duckdb.DuckDBPyConnection, measure: str) -> dict[str, float]:
    counts = municipal_counts(con, MeasureRef(measure, None))
    women = counts[counts["sex"] == "K"]
    return dict(zip(women["period"], women["x"], strict=True))


def test_january_basis_is_the_first_quarter_of_each_year() -> None:
    assert _by_year(_warehouse([]), "population") == {"2020": 100, "2021": 110, "2022": 130}


def test_midyear_basis_averages_this_and_next_january_and_uses_july_for_the_latest_year() -> None:
    # 2020: (100+110)/2; 2021: (110+130)/2; 2022: no 1 January 2023, so 1 July 2022.
    # 2023 has no 1 January at all and is not published.
    assert _by_year(_warehouse([]), "population_midyear") == {
        "2020": 105.0,
        "2021": 120.0,
        "2022": 126.0,
    }


def test_a_quarantined_january_removes_the_years_that_rest_on_it() -> None:
    con = _warehouse(["2021K1"])
    assert _by_year(con, "population") == {"2020": 100, "2022": 130}
    # 2021 lacks its own January; 2020 must not silently fall back to 1 July.
    gaps = missing_years(con.execute("SELECT * FROM core.missing").df())
    lost = set(zip(gaps["measure_id"], gaps["period"], strict=True))
    assert lost == {
        ("population", "2021"),
        ("population_midyear", "2021"),
        ("population_midyear", "2020"),
    }


def test_event_rates_use_the_midyear_basis_and_point_counts_the_january_basis() -> None:
    catalogue = {ind.id: ind for ind in load_catalogue()}
    for event_rate in (
        "mortality_asr_per_100000",
        "preventable_admissions_65plus_per_1000",
        "gp_contacts_per_citizen",
        "emergency_visits_asr_per_1000",
    ):
        assert catalogue[event_rate].denominator.measure == "population_midyear", event_rate
    for point_count in ("population_65plus_pct", "prevalence_dementia_asr_pct"):
        assert catalogue[point_count].denominator.measure == "population", point_count
    assert all(
        is_population(ind.denominator.measure)
        for ind in catalogue.values()
        if ind.denominator is not None and ind.denominator.measure.startswith("population")
    )


@pytest.mark.parametrize("measure", sorted(POPULATION_MEASURES))
def test_every_basis_has_a_danish_name_and_reason(measure: str) -> None:
    basis = POPULATION_MEASURES[measure]
    assert basis.name_da and "Nævneren" in basis.basis_da


def test_published_mortality_denominator_is_the_sample_middelfolketal(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Recomputed from core.population: Aalborg, women, every year with a next 1 January."""
    settings = built_warehouse(tmp_path_factory)
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        pop = con.execute(
            "SELECT period, sum(population) AS n FROM core.population "
            "WHERE municipality_code = '851' AND sex = 'K' GROUP BY period"
        ).df()
        published = con.execute(
            "SELECT period, denominator FROM mart.indicator_value WHERE indicator_id = "
            "'mortality_asr_per_100000' AND area_level = 'municipality' AND area_code = '851' "
            "AND sex = 'K'"
        ).df()
    finally:
        con.close()
    jan = dict(zip(pop["period"], pop["n"], strict=True))
    checked = 0
    for period, denominator in zip(published["period"], published["denominator"], strict=True):
        this, following = jan[f"{period}K1"], jan.get(f"{int(period) + 1}K1")
        expected = (this + following) / 2 if following is not None else jan[f"{period}K3"]
        assert denominator == pytest.approx(expected), period
        checked += 1
    assert checked >= 5
