"""The indicator engine on small hand-made inputs: aggregation from counts, methods, protection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from datapakke.geography import default_geography
from datapakke.mart import stats
from datapakke.mart.catalogue import Indicator, MeasureRef, load_catalogue
from datapakke.mart.indicators import (
    EngineInputs,
    audit_published_counts,
    compute_indicator,
    indicator_frames,
    published_counts,
    units_frame,
)
from datapakke.standard_population import AGE_BANDS, ESP2013

GEO = default_geography()
UNITS = units_frame(GEO)
CATALOGUE = {ind.id: ind for ind in load_catalogue()}
CODES = sorted(GEO.municipalities)


def counts_frame(values: dict[str, dict[str, float]], period: str = "2024", age: str = "total"):
    """Municipal counts by sex (M/K) plus their T, as municipal_counts() returns them."""
    rows = []
    for code in CODES:
        by_sex = values.get(code, {"M": 50.0, "K": 50.0})
        for sex, x in by_sex.items():
            rows.append((code, period, sex, age, x, False))
        rows.append((code, period, "T", age, sum(by_sex.values()), False))
    return pd.DataFrame(
        rows, columns=["municipality_code", "period", "sex", "age_band", "x", "imputed"]
    )


def inputs_for(ind: Indicator, numerator: pd.DataFrame, denominator: pd.DataFrame) -> EngineInputs:
    weights = pd.DataFrame({"age_band": list(ESP2013), "weight": list(ESP2013.values())})
    return EngineInputs(
        units=UNITS,
        counts={ind.numerator: numerator, ind.denominator: denominator},
        weights=weights,
    )


def test_area_rates_are_computed_from_summed_counts_not_averaged_rates() -> None:
    ind = CATALOGUE["psychiatric_acute_admissions_per_1000"]
    numerator = counts_frame({"101": {"M": 300.0, "K": 100.0}, "147": {"M": 10.0, "K": 10.0}})
    denominator = counts_frame(
        {"101": {"M": 300_000.0, "K": 300_000.0}, "147": {"M": 50_000.0, "K": 50_000.0}}
    )
    values = compute_indicator(ind, inputs_for(ind, numerator, denominator))
    byen = values[(values["area_code"] == "hovedstaden-byen") & (values["sex"] == "T")].iloc[0]
    assert byen["numerator"] == 420 and byen["denominator"] == 700_000
    assert byen["value"] == pytest.approx(420 / 700_000 * 1000)
    low, high = stats.rate_interval([420], [700_000], 1000)
    assert byen["ci95_low"] == pytest.approx(low[0]) and byen["ci95_high"] == pytest.approx(high[0])
    mean_of_rates = (400 / 600_000 + 20 / 100_000) / 2 * 1000
    assert byen["value"] != pytest.approx(mean_of_rates)


def test_proportion_uses_wilson_and_the_multiplier() -> None:
    ind = CATALOGUE["psychiatric_readmissions_30d_pct"]
    numerator = counts_frame({"101": {"M": 30.0, "K": 20.0}})
    denominator = counts_frame({"101": {"M": 200.0, "K": 200.0}})
    values = compute_indicator(ind, inputs_for(ind, numerator, denominator))
    row = values[(values["area_code"] == "101") & (values["sex"] == "T")].iloc[0]
    low, high = stats.wilson_interval([50], [400])
    assert row["value"] == pytest.approx(12.5)
    assert row["ci95_low"] == pytest.approx(low[0] * 100)
    assert row["ci95_high"] == pytest.approx(high[0] * 100)


def test_missing_member_data_hides_the_area_value_with_a_note() -> None:
    ind = CATALOGUE["psychiatric_acute_admissions_per_1000"]
    numerator = counts_frame({})
    numerator = numerator[numerator["municipality_code"] != "147"]
    values = compute_indicator(ind, inputs_for(ind, numerator, counts_frame({})))
    byen = values[(values["area_code"] == "hovedstaden-byen") & (values["sex"] == "T")].iloc[0]
    assert np.isnan(byen["value"]) and "mangler" in byen["value_note"]


def test_dsr_below_ten_events_is_not_shown() -> None:
    ind = CATALOGUE["mortality_asr_per_100000"]
    rows_x, rows_n = [], []
    for code in CODES:
        for sex in ("M", "K", "T"):
            for band in AGE_BANDS:
                events = 0.0 if code == "825" else 5.0  # Læsø: no deaths at all
                rows_x.append((code, "2024", sex, band, events * (2 if sex == "T" else 1), False))
                rows_n.append((code, "2024", sex, band, 1000.0 * (2 if sex == "T" else 1), False))
    columns = ["municipality_code", "period", "sex", "age_band", "x", "imputed"]
    inputs = inputs_for(
        ind, pd.DataFrame(rows_x, columns=columns), pd.DataFrame(rows_n, columns=columns)
    )
    values = compute_indicator(ind, inputs)
    laesoe = values[(values["area_code"] == "825") & (values["sex"] == "T")].iloc[0]
    assert np.isnan(laesoe["value"]) and "Færre end 10" in laesoe["value_note"]
    other = values[(values["area_code"] == "101") & (values["sex"] == "T")].iloc[0]
    assert other["value"] == pytest.approx(5 / 1000 * 100_000)  # same rate in every band


def series_inputs(values: dict[str, dict[str, float]]) -> tuple[EngineInputs, list[Indicator]]:
    ind = CATALOGUE["psychiatric_acute_admissions_per_1000"]
    return inputs_for(ind, counts_frame(values), counts_frame({})), [ind]


def published_lookup(published: pd.DataFrame, level: str, code: str, sex: str = "T") -> float:
    row = published[
        (published["area_level"] == level)
        & (published["area_code"] == code)
        & (published["sex"] == sex)
    ]
    return float(row["count"].iloc[0])


def test_a_small_count_is_suppressed_and_cannot_be_recovered_from_its_area() -> None:
    # Attack 1: Sundhedsklynge Byen = København + Frederiksberg; area minus the visible member.
    inputs, catalogue = series_inputs({"147": {"M": 2.0, "K": 40.0}})
    published = published_counts(inputs, catalogue, threshold=5)
    assert np.isnan(published_lookup(published, "municipality", "147", "M"))
    byen_m = published_lookup(published, "area", "hovedstaden-byen", "M")
    cph_m = published_lookup(published, "municipality", "101", "M")
    assert np.isnan(byen_m) or np.isnan(cph_m)
    assert audit_published_counts(published, UNITS) == []


def test_overlapping_groupings_cannot_isolate_a_municipality() -> None:
    # Attack 2: every (cluster, council) pair: cluster total − council total over shared members.
    inputs, catalogue = series_inputs({"173": {"M": 1.0, "K": 1.0}, "825": {"M": 3.0, "K": 30.0}})
    published = published_counts(inputs, catalogue, threshold=5)
    assert audit_published_counts(published, UNITS) == []
    hidden = published[(published["area_level"] == "municipality") & published["count"].isna()]
    assert {"173", "825"} <= set(hidden["area_code"])
    truth = counts_frame({"173": {"M": 1.0, "K": 1.0}, "825": {"M": 3.0, "K": 30.0}})
    truth = truth.set_index(["municipality_code", "sex"])["x"]
    areas = {(a.grouping, a.area_id): set(a.members) for a in GEO.areas.values()}
    for (g1, a1), m1 in areas.items():
        for (g2, a2), m2 in areas.items():
            if g1 == g2 or not m2 < m1:
                continue
            for code in m1 - m2:
                if code not in {"173", "825"} or len(m1 - m2) != 1:
                    continue
                level1 = "region" if g1 == "region" else "area"
                level2 = "region" if g2 == "region" else "area"
                for sex in ("M", "K", "T"):
                    difference = published_lookup(published, level1, a1, sex) - published_lookup(
                        published, level2, a2, sex
                    )
                    assert np.isnan(difference) or difference != truth[(code, sex)]


def test_a_region_total_minus_its_visible_members_reveals_nothing() -> None:
    # Attack 3: Region Nordjylland total − the 10 visible municipalities.
    inputs, catalogue = series_inputs({"825": {"M": 2.0, "K": 2.0}})
    published = published_counts(inputs, catalogue, threshold=5)
    region = GEO.area("region", "nordjylland")
    for sex in ("M", "K", "T"):
        total = published_lookup(published, "region", "nordjylland", sex)
        visible = [published_lookup(published, "municipality", c, sex) for c in region.members]
        hidden = [c for c, v in zip(region.members, visible, strict=True) if np.isnan(v)]
        assert np.isnan(total) or len(hidden) != 1 or hidden != ["825"]
        assert np.isnan(total) or len(hidden) >= 2 or not hidden
    assert audit_published_counts(published, UNITS) == []


def test_threshold_is_configurable() -> None:
    inputs, catalogue = series_inputs({"825": {"M": 3.0, "K": 30.0}})
    strict = published_counts(inputs, catalogue, threshold=5)
    lax = published_counts(inputs, catalogue, threshold=3)
    assert np.isnan(published_lookup(strict, "municipality", "825", "M"))
    assert published_lookup(lax, "municipality", "825", "M") == 3


def test_the_audit_catches_a_leak_when_protection_is_skipped() -> None:
    inputs, catalogue = series_inputs({"147": {"M": 2.0, "K": 40.0}})
    published = published_counts(inputs, catalogue, threshold=5)
    leaky = published.copy()
    secondary = leaky["is_suppressed"] & ~((leaky["area_code"] == "147") & (leaky["sex"] == "M"))
    leaky.loc[secondary, "is_suppressed"] = False
    leaky.loc[secondary, "count"] = 1.0  # any value: what matters is that it is published
    assert audit_published_counts(leaky, UNITS) != []


def test_measure_ref_age_filter_keeps_the_65plus_bands() -> None:
    from datapakke.mart.indicators import _age_filter

    clause = _age_filter(65)
    assert (
        "'65-69'" in clause and "'90+'" in clause and "'65+'" in clause and "'60-64'" not in clause
    )
    assert _age_filter(None) == "TRUE"
    assert MeasureRef("x", 80) != MeasureRef("x", 65)


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_withheld_values_name_the_configured_threshold(threshold: int) -> None:
    inputs, catalogue = series_inputs({"147": {"M": 2.0, "K": 0.0}})
    published = published_counts(inputs, catalogue, threshold=threshold)
    values = indicator_frames(inputs, catalogue, published, threshold)[0]
    hidden = values[values["is_suppressed"]]
    assert not hidden.empty
    assert set(hidden["value_note"]) == {f"Skjult af diskretionshensyn (<{threshold})."}
