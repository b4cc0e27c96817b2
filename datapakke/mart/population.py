"""The population counts an indicator can use as its denominator, defined once.

FOLK1A counts the population on the first day of each quarter. Two bases are offered:

- ``population``: 1 January of the year. Right for what is counted *at a point in time*: shares
  of the population, prevalence (who has a disease on 1 January), recipients on a given day.
- ``population_midyear``: the average population over the year (DST's *middelfolketal*), right
  for *events during the year* (admissions, contacts, deaths), as PHE does with mid-year
  estimates. It is the mean of 1 January this year and 1 January next year; for the latest year,
  whose next 1 January is not published yet, the count on 1 July (quarter 3) stands in. A year
  with neither is not published.

The catalogue (``indicators.yaml``) names the basis per indicator as the denominator's measure;
every other module asks :func:`is_population` instead of comparing with a string.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class PopulationMeasure:
    """A population basis: its id in the catalogue and how Om data names and explains it."""

    measure: str
    name_da: str
    basis_da: str


POPULATION_MEASURES: dict[str, PopulationMeasure] = {
    m.measure: m
    for m in (
        PopulationMeasure(
            "population",
            "folketal 1. januar",
            "Nævneren er folketallet 1. januar i året (Danmarks Statistik, FOLK1A), fordi "
            "tælleren gælder en bestemt dag.",
        ),
        PopulationMeasure(
            "population_midyear",
            "middelfolketal",
            "Nævneren er årets middelfolketal: gennemsnittet af folketallet 1. januar i året og "
            "1. januar året efter (FOLK1A), fordi hændelserne sker hen over året. For det seneste "
            "år, hvor næste års tal endnu ikke findes, bruges folketallet 1. juli.",
        ),
    )
}


def is_population(measure: object) -> bool:
    """Whether a measure is a population count (public, so never protected or quarantined)."""
    return measure in POPULATION_MEASURES


def population_sql(measure: str, complete: str) -> str:
    """SQL giving one row per municipality × year × sex × age band of a population basis.

    ``complete`` is a condition on ``core.population o`` that leaves out quarters made
    incomplete by quarantined rows; a year that needs such a quarter then has no row.
    """
    quarters = (
        "SELECT municipality_code, CAST(substr(period, 1, 4) AS INTEGER) AS year, "
        "substr(period, 5) AS quarter, sex, age_band, population "
        f"FROM core.population o WHERE period SIMILAR TO '[0-9]{{4}}K[13]' AND {complete}"
    )
    if measure == "population":
        return (
            "SELECT municipality_code, CAST(year AS VARCHAR) AS period, sex, age_band, "
            f"population AS value, FALSE AS source_suppressed FROM ({quarters}) "
            "WHERE quarter = 'K1'"
        )
    if measure == "population_midyear":
        return f"""
        WITH q AS ({quarters})
        SELECT jan.municipality_code, CAST(jan.year AS VARCHAR) AS period, jan.sex, jan.age_band,
               CASE WHEN nxt.population IS NOT NULL THEN (jan.population + nxt.population) / 2.0
                    ELSE jul.population END AS value,
               FALSE AS source_suppressed
        FROM q jan
        LEFT JOIN q nxt ON nxt.quarter = 'K1' AND nxt.year = jan.year + 1
             AND nxt.municipality_code = jan.municipality_code AND nxt.sex = jan.sex
             AND nxt.age_band = jan.age_band
        LEFT JOIN q jul ON jul.quarter = 'K3' AND jul.year = jan.year
             AND jul.municipality_code = jan.municipality_code AND jul.sex = jan.sex
             AND jul.age_band = jan.age_band
        WHERE jan.quarter = 'K1' AND coalesce(nxt.population, jul.population) IS NOT NULL
        """
    raise KeyError(f"{measure!r} is not a population measure")


def missing_population_years(missing: pd.DataFrame) -> pd.DataFrame:
    """Population quarters made incomplete by quarantined rows, as the years each basis loses.

    1 January of year Y is missing from ``population`` Y and from ``population_midyear`` Y and
    Y-1 (as the next year's count); 1 July of Y from ``population_midyear`` Y. Conservative: a
    year whose stand-in was not needed is withheld too, which is absent, never wrong.
    """
    quarters = missing[missing["measure_id"] == "population"]
    quarters = quarters[quarters["period"].str.fullmatch(r"\d{4}K[13]")]
    year = quarters["period"].str[:4].astype(int)
    is_january = quarters["period"].str.endswith("K1")
    pieces = [
        quarters[is_january].assign(measure_id="population", year=year),
        quarters.assign(measure_id="population_midyear", year=year),
        quarters[is_january].assign(measure_id="population_midyear", year=year - 1),
    ]
    out = pd.concat(pieces, ignore_index=True)
    out["period"] = out.pop("year").astype(str)
    return out[list(missing.columns)]
