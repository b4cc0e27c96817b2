"""Survey indicators and value notes: a municipality shows its own published estimate, an
aggregate is a population-weighted mean only where every member has a population that year, and
every value the mart leaves blank says why (checked on small literal inputs and on the whole
table of a sample build)."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest

from datapakke.geography import default_geography
from datapakke.mart.catalogue import MeasureRef, load_catalogue
from datapakke.mart.indicators import EngineInputs, compute_indicator, units_frame
from datapakke.standard_population import ESP2013
from tests.mart.test_indicators import counts_frame, inputs_for
from tests.publish.sample_build import built_warehouse

GEO = default_geography()
UNITS = units_frame(GEO)
CATALOGUE = {ind.id: ind for ind in load_catalogue()}
CODES = sorted(GEO.municipalities)
SURVEY = CATALOGUE["survey_alcohol_high_pct"]
COLUMNS = ["municipality_code", "period", "sex", "age_band", "x", "imputed"]
Z95, Z998 = 1.959963984540054, 3.090232306167813  # Φ⁻¹(0.975), Φ⁻¹(0.999)

# (estimate, lower, upper, respondents) per municipality and year; every other one: 20 [18; 22].
ESTIMATES = {
    ("101", "2013"): (20.9, 18.8, 22.9, 1935.0),  # København, as in the sample's source file
    ("101", "2017"): (22.9, 20.9, 25.0, 2119.0),
    ("147", "2017"): (10.0, 8.0, 12.0, 800.0),
    ("400", "2013"): (17.9, 14.6, 21.3, 658.0),  # Bornholm: its own cluster of one
}
# Population (the weights) from 2015 on only, as in the sample: none for 2013.
POPULATION_2017 = {"101": 600_000.0, "147": 100_000.0}


def survey_inputs(population: dict[str, float] | None = None) -> EngineInputs:
    """The four survey measures of one indicator for every municipality in 2013 and 2017, and
    the population (the weights) in 2017 only: ``population`` or ``POPULATION_2017``."""
    rows: dict[str, list[tuple]] = {suffix: [] for suffix in ("_pct", "_low", "_high", "_resp")}
    for code in CODES:
        for period in ("2013", "2017"):
            p, low, high, resp = ESTIMATES.get((code, period), (20.0, 18.0, 22.0, 500.0))
            for suffix, x in zip(rows, (p, low, high, resp), strict=True):
                rows[suffix].append((code, period, "T", "total", x, False))
    measure = SURVEY.numerator.measure
    names = {"_pct": "_pct", "_low": "_ci95_low_pct", "_high": "_ci95_high_pct"}
    names["_resp"] = "_respondents"
    counts = {
        MeasureRef(measure + names[suffix], None): pd.DataFrame(found, columns=COLUMNS)
        for suffix, found in rows.items()
    }
    if population is None:
        population = {code: POPULATION_2017.get(code, 10_000.0) for code in CODES}
    counts[SURVEY.denominator] = pd.DataFrame(
        [(code, "2017", "T", "total", x, False) for code, x in population.items()],
        columns=COLUMNS,
    )
    esp = pd.DataFrame({"age_band": list(ESP2013), "weight": list(ESP2013.values())})
    return EngineInputs(units=UNITS, counts=counts, weights=esp)


def row(values: pd.DataFrame, level: str, code: str, period: str) -> pd.Series:
    found = values[
        (values["area_level"] == level)
        & (values["area_code"] == code)
        & (values["period"] == period)
        & (values["sex"] == "T")
    ]
    assert len(found) == 1, (level, code, period)
    return found.iloc[0]


def test_a_municipality_shows_its_own_estimate_without_population_weights() -> None:
    values = compute_indicator(SURVEY, survey_inputs())
    cph = row(values, "municipality", "101", "2013")
    assert cph["value"] == pytest.approx(20.9)
    assert (cph["ci95_low"], cph["ci95_high"]) == pytest.approx((18.8, 22.9))
    # 99.8 %: the estimate ± z(0.999) × SE, SE from the published 95 % interval.
    assert (cph["ci998_low"], cph["ci998_high"]) == pytest.approx((17.66781, 24.13219), abs=1e-5)
    assert cph["value_note"] == ""
    assert cph["denominator"] == 1935


def test_a_cluster_of_one_municipality_shows_that_municipality() -> None:
    values = compute_indicator(SURVEY, survey_inputs())
    for level, code in (("municipality", "400"), ("area", "bornholm")):
        bornholm = row(values, level, code, "2013")
        assert bornholm["value"] == pytest.approx(17.9), level
        assert (bornholm["ci95_low"], bornholm["ci95_high"]) == pytest.approx((14.6, 21.3))
        assert bornholm["value_note"] == ""


def test_an_aggregate_without_population_for_the_year_is_blank_and_says_why() -> None:
    values = compute_indicator(SURVEY, survey_inputs())
    for level, code in (
        ("area", "hovedstaden-byen"),
        ("region", "hovedstaden"),
        ("country", "DK"),
    ):
        blank = row(values, level, code, "2013")
        for column in ("value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"):
            assert np.isnan(blank[column]), (level, column)
        assert "folketal" in blank["value_note"] and "vises ikke" in blank["value_note"]


def test_an_aggregate_with_population_is_the_weighted_mean() -> None:
    values = compute_indicator(SURVEY, survey_inputs())
    byen = row(values, "area", "hovedstaden-byen", "2017")
    assert byen["value"] == pytest.approx((600_000 * 22.9 + 100_000 * 10.0) / 700_000)
    se_cph, se_frb = (25.0 - 20.9) / (2 * Z95), (12.0 - 8.0) / (2 * Z95)
    se = math.sqrt((600_000 * se_cph) ** 2 + (100_000 * se_frb) ** 2) / 700_000
    assert byen["ci95_low"] == pytest.approx(byen["value"] - Z95 * se)
    assert byen["ci998_high"] == pytest.approx(byen["value"] + Z998 * se)
    assert byen["denominator"] == 2119 + 800
    assert byen["value_note"] == ""


def test_an_aggregate_missing_one_members_population_is_blank_and_says_why() -> None:
    population = {code: 10_000.0 for code in CODES if code != "147"}  # Frederiksberg: none
    values = compute_indicator(SURVEY, survey_inputs(population))
    byen = row(values, "area", "hovedstaden-byen", "2017")
    assert np.isnan(byen["value"]) and "folketal" in byen["value_note"]
    assert row(values, "municipality", "147", "2017")["value"] == pytest.approx(10.0)


def test_a_value_that_cannot_be_computed_has_a_note() -> None:
    ind = CATALOGUE["psychiatric_acute_admissions_per_1000"]
    numerator = counts_frame({"825": {"M": 0.0, "K": 0.0}})
    denominator = counts_frame({"825": {"M": 0.0, "K": 0.0}})  # Læsø: nobody at risk
    values = compute_indicator(ind, inputs_for(ind, numerator, denominator))
    laesoe = row(values, "municipality", "825", "2024")
    assert np.isnan(laesoe["value"]) and laesoe["value_note"] != ""


# --------------------------------------------------------------------------- the sample build


@pytest.fixture(scope="module")
def indicator_values(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    settings = built_warehouse(tmp_path_factory)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute("SELECT * FROM mart.indicator_value").df()


@pytest.mark.slow
def test_every_blank_value_of_the_sample_build_has_a_note(indicator_values: pd.DataFrame) -> None:
    blank = indicator_values[indicator_values["value"].isna()]
    assert len(blank) > 0  # the sample has suppressed and unweighted values: the test bites
    silent = blank[blank["value_note"].fillna("").str.strip() == ""]
    assert silent.empty, silent[["indicator_id", "area_level", "area_code", "period", "sex"]]


@pytest.mark.slow
def test_the_sample_build_publishes_the_2013_survey_for_municipalities(
    indicator_values: pd.DataFrame,
) -> None:
    v = indicator_values
    survey_2013 = v[v["indicator_id"].str.startswith("survey_") & (v["period"] == "2013")]
    municipal = survey_2013[survey_2013["area_level"] == "municipality"]
    assert len(municipal) == 98 * 5 and municipal["value"].notna().all()
    cph = municipal[
        (municipal["indicator_id"] == "survey_alcohol_high_pct") & (municipal["area_code"] == "101")
    ].iloc[0]
    assert (cph["value"], cph["ci95_low"], cph["ci95_high"]) == pytest.approx((20.9, 18.8, 22.9))
    # No population before 2015: the aggregates of several municipalities are blank and say why.
    several = survey_2013[
        (survey_2013["area_level"] != "municipality") & (survey_2013["area_code"] != "bornholm")
    ]
    assert several["value"].isna().all()
    assert several["value_note"].str.contains("folketal").all()
