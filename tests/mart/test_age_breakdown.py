"""Indicators by age band (issue 14, item 5): the bands follow the indicator's own formula, and a
small band can be recovered neither from the total nor from the area's band."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from datapakke.geography import default_geography
from datapakke.mart.age_bands import FIVE_YEAR_TO_BROAD, breakdowns, broad_bands
from datapakke.mart.age_breakdown import age_value_table
from datapakke.mart.catalogue import load_catalogue
from datapakke.mart.indicators import (
    EngineInputs,
    audit_published_counts,
    indicator_frames,
    published_counts,
    units_frame,
)
from datapakke.standard_population import ESP2013

GEO = default_geography()
UNITS = units_frame(GEO)
IND = {ind.id: ind for ind in load_catalogue()}["readmissions_30d_65plus_pct"]
ELDER_BANDS = [b for b in ESP2013 if FIVE_YEAR_TO_BROAD[b] in ("65-79", "80+")]
COLUMNS = ["municipality_code", "period", "sex", "age_band", "x", "imputed"]
LAESOE = "825"


def banded(per_band: dict[str, dict[str, float]], default: float) -> pd.DataFrame:
    """Municipal counts in five-year bands from 65, men and women (each half) and their total.
    ``per_band``: municipality → five-year band → count of both sexes."""
    rows = []
    for code in sorted(GEO.municipalities):
        for band in ELDER_BANDS:
            both = per_band.get(code, {}).get(band, default)
            men = math.floor(both / 2)
            for sex, x in (("M", men), ("K", both - men), ("T", both)):
                rows.append((code, "2025", sex, band, float(x), False))
    return pd.DataFrame(rows, columns=COLUMNS)


def inputs_of(numerator: pd.DataFrame, denominator: pd.DataFrame) -> EngineInputs:
    weights = pd.DataFrame({"age_band": list(ESP2013), "weight": list(ESP2013.values())})
    return EngineInputs(
        units=UNITS,
        counts={IND.numerator: numerator, IND.denominator: denominator},
        weights=weights,
    )


def build(inputs: EngineInputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    published = published_counts(inputs, [IND], threshold=5)
    values = pd.concat(indicator_frames(inputs, [IND], published, 5), ignore_index=True)
    return published, age_value_table(inputs, [IND], published, values, 5)


def row(table: pd.DataFrame, code: str, band: str, level: str = "municipality") -> pd.Series:
    found = table[
        (table["area_code"] == code) & (table["age_band"] == band) & (table["area_level"] == level)
    ]
    assert len(found) == 1, (code, band, level)
    return found.iloc[0]


def wilson(x: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson's score interval, written out (Wilson 1927; Newcombe 1998, method 3)."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


def test_elderly_indicators_are_split_into_65_79_and_80_plus() -> None:
    assert broad_bands(65) == ["65-79", "80+"]
    assert broad_bands(None) == ["0-24", "25-64", "65-79", "80+"]
    assert broad_bands(15) is None  # 15-24 is no broad band: the bands would not add up
    found = breakdowns([IND], inputs_of(banded({}, 40), banded({}, 400)).counts)
    assert [(b.indicator.id, b.period, b.bands) for b in found] == [
        (IND.id, "2025", ("65-79", "80+"))
    ]


def test_a_source_without_five_year_bands_is_not_broken_down() -> None:
    only_65plus = banded({}, 40)
    only_65plus = only_65plus.assign(age_band="65+").groupby(COLUMNS[:4], as_index=False).sum()
    assert breakdowns([IND], inputs_of(only_65plus, banded({}, 400)).counts) == []


def test_a_band_is_computed_with_the_indicators_own_formula_and_interval() -> None:
    numerator = banded({"101": {"65-69": 30, "70-74": 20, "75-79": 10, "80-84": 7}}, 40)
    denominator = banded({"101": {"65-69": 300, "70-74": 200, "75-79": 100, "80-84": 70}}, 400)
    _, table = build(inputs_of(numerator, denominator))
    young = row(table, "101", "65-79")
    assert (young["numerator"], young["denominator"]) == (60, 600)
    assert young["value"] == pytest.approx(10.0)
    low, high = wilson(60, 600)
    assert (young["ci95_low"], young["ci95_high"]) == pytest.approx((low * 100, high * 100))
    old = row(table, "101", "80+")
    assert (old["numerator"], old["denominator"]) == (7 + 40 * 2, 70 + 400 * 2)  # 85-89, 90+
    total = row(table, "101", "total")
    assert total["numerator"] == young["numerator"] + old["numerator"]
    denmark = row(table, "DK", "80+", "country")
    assert (
        denmark["numerator"]
        == table[(table["area_level"] == "municipality") & (table["age_band"] == "80+")][
            "numerator"
        ].sum()
    )
    # each band is compared with Denmark's value in the same band: 101's 65-79 (10 %, 95 % CI
    # 7.8-12.7) against Denmark's 65-79 (about 10 % everywhere else) is similar
    assert young["compared_to_national"] == "similar"
    assert row(table, "DK", "65-79", "country")["compared_to_national"] == "not_compared"


def test_a_small_band_is_hidden_and_cannot_be_recovered_from_the_total_or_the_area() -> None:
    # Læsø: 2 readmissions among its 80+ (one man, one woman), 60 among 65-79
    numerator = banded({LAESOE: {"65-69": 20, "70-74": 20, "75-79": 20, "80-84": 2}}, 40)
    numerator.loc[
        (numerator["municipality_code"] == LAESOE) & numerator["age_band"].isin(["85-89", "90+"]),
        "x",
    ] = 0.0
    denominator = banded({}, 400)
    published, table = build(inputs_of(numerator, denominator))
    oldest = row(table, LAESOE, "80+")
    assert oldest["is_suppressed"] and np.isnan(oldest["numerator"]) and np.isnan(oldest["value"])
    young, total = row(table, LAESOE, "65-79"), row(table, LAESOE, "total")
    # total - 65-79 = 80+: at least one of them is withheld too
    assert np.isnan(young["numerator"]) or np.isnan(total["numerator"])
    assert audit_published_counts(published, UNITS) == []

    # The audit catches a table that publishes the complement after all.
    series = published["series_id"] == "readmissions_30d_65plus"
    hidden = series & published["is_suppressed"] & (published["area_code"] == LAESOE)
    leaky = published.copy()
    counts = published_counts(inputs_of(numerator, denominator), [IND], threshold=1)
    true = counts.set_index(["series_id", "area_level", "grouping", "area_code", "sex", "age_band"])
    for i in published.index[hidden]:
        key = tuple(published.loc[i, list(true.index.names)])
        if published.loc[i, "age_band"] != "80+":
            leaky.loc[i, ["count", "is_suppressed"]] = [true.loc[key, "count"], False]
    assert any(LAESOE in finding for finding in audit_published_counts(leaky, UNITS))


def test_totals_of_the_breakdown_are_the_published_totals() -> None:
    inputs = inputs_of(banded({}, 40), banded({}, 400))
    published = published_counts(inputs, [IND], threshold=5)
    values = pd.concat(indicator_frames(inputs, [IND], published, 5), ignore_index=True)
    table = age_value_table(inputs, [IND], published, values, 5)
    totals = table[table["age_band"] == "total"].set_index(["area_level", "area_code"])
    latest = values[(values["sex"] == "T")].set_index(["area_level", "area_code"])
    pd.testing.assert_series_equal(
        totals["value"].sort_index(), latest.loc[totals.index, "value"].sort_index()
    )
