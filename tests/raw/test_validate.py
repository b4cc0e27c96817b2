"""Validation rule by rule: each bad value quarantined with its file, row, column, check and
message; good rows typed and kept; aggregates and redundant totals skipped with a reason; and a
file with too many bad rows rejected whole. Expected values are written out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pandas as pd
import pytest

from datapakke.geography import default_geography
from datapakke.raw.registry import SourceSpec
from datapakke.raw.validate import ValidationResult, drop_redundant_totals, validate_observations

TODAY = date(2025, 6, 30)
FILE = "data/raw/esundhed/deaths.csv"
SHA = "ab" * 32
LOADED_AT = pd.Timestamp("2025-06-30 12:00", tz="UTC")
COLUMNS = {"municipality": "Kommune", "period": "År", "sex": "Køn", "age": "Alder"}
DEATHS = SourceSpec(
    id="deaths_file",
    title="Døde",
    publisher="test",
    target="observation",
    reader="file",
    sample_file="esundhed/deaths.csv",
    drop_glob="esundhed/deaths*.csv",
    columns={**COLUMNS, "value": "Antal"},
    measure="deaths",
)
QUARANTINE = ["file", "row", "column", "check", "value", "message"]


def raw(*rows: tuple[str, str, str, str, str], measure: str = "") -> pd.DataFrame:
    """``raw.observation`` rows (municipality, period, sex, age, value); file lines from 2."""
    frame = pd.DataFrame(
        rows, columns=["municipality_text", "period_text", "sex_text", "age_text", "value_text"]
    )
    frame.insert(0, "source_id", "deaths_file")
    frame.insert(1, "measure_text", measure)
    frame["value_column"] = "Antal"
    frame["_source_file"] = FILE
    frame["_source_row"] = range(2, len(frame) + 2)
    frame["_file_sha256"] = SHA
    frame["_loaded_at"] = pd.Series(LOADED_AT, index=frame.index).astype("datetime64[ns, UTC]")
    return frame


def validate(
    frame: pd.DataFrame,
    spec: SourceSpec = DEATHS,
    max_bad_share: float = 1.0,
    skipped: list[tuple[int, str]] | None = None,
) -> ValidationResult:
    return validate_observations(frame, spec, default_geography(), TODAY, max_bad_share, skipped)


def quarantined(result: ValidationResult) -> list[list[object]]:
    return result.quarantine[QUARANTINE].to_numpy().tolist()


GOOD = ("101", "2024", "M", "0-4", "12")


# --------------------------------------------------------------------------- good rows


def test_good_rows_are_typed_and_kept_with_their_lineage() -> None:
    result = validate(
        raw(
            GOOD,
            ("0147 Frederiksberg", "2024K1", "Kvinder", "5-9 år", "1.234"),
            ("Århus", "2023", "I alt", "90 år og derover", ".."),
        )
    )

    assert result.quarantine.empty and result.skipped == [] and not result.is_rejected
    assert result.rows_in == 3
    rows = result.rows
    assert rows["measure_id"].tolist() == ["deaths"] * 3
    assert rows["municipality_code"].tolist() == ["101", "147", "751"]
    assert rows["period"].tolist() == ["2024", "2024K1", "2023"]
    assert rows["sex"].tolist() == ["M", "K", "T"]
    assert rows["age_band"].tolist() == ["0-4", "5-9", "90+"]
    assert rows["value"].tolist()[:2] == [12.0, 1234.0] and np.isnan(rows["value"][2])
    assert rows["source_suppressed"].tolist() == [False, False, True]
    assert rows["_source_row"].tolist() == [2, 3, 4]
    assert rows["_source_column"].tolist() == ["Antal"] * 3
    assert set(rows["_source_file"]) == {FILE} and set(rows["_file_sha256"]) == {SHA}
    assert set(rows["source_id"]) == {"deaths_file"}


# --------------------------------------------------------------------------- one rule each


@pytest.mark.parametrize(
    ("bad", "column", "check", "value", "message"),
    [
        (
            ("=1+1", "2024", "M", "0-4", "5"),
            "Kommune",
            "no_formula",
            "=1+1",
            "text starting with '=', '+', '-' or '@' looks like a spreadsheet formula",
        ),
        (
            ("101", "2024", "@SUM", "0-4", "5"),
            "Køn",
            "no_formula",
            "@SUM",
            "text starting with '=', '+', '-' or '@' looks like a spreadsheet formula",
        ),
        (
            ("999", "2024", "M", "0-4", "5"),
            "Kommune",
            "known_municipality",
            "999",
            "unknown municipality code '999'",
        ),
        (
            ("Atlantis", "2024", "M", "0-4", "5"),
            "Kommune",
            "known_municipality",
            "Atlantis",
            "unknown municipality name 'Atlantis'",
        ),
        (
            ("101", "2024K5", "M", "0-4", "5"),
            "År",
            "parseable_period",
            "2024K5",
            "invalid period '2024K5': quarter number must be 1-4, got 5",
        ),
        (
            ("101", "2024", "X", "0-4", "5"),
            "Køn",
            "known_sex",
            "X",
            "unknown sex 'X' (expected 1/2/TOT, Mænd/Kvinder/I alt)",
        ),
        (
            ("101", "2024", "M", "0-3", "5"),
            "Alder",
            "known_age",
            "0-3",
            "age group '0-3' does not match the 5-year bands",
        ),
        (
            ("101", "2024", "M", "0-4", "12,3,4"),
            "Antal",
            "number",
            "12,3,4",
            "'12,3,4' is not a number: more than one decimal separator ','",
        ),
        (
            ("101", "2024", "M", "0-4", "mange"),
            "Antal",
            "number",
            "mange",
            "'mange' is not a number (expected e.g. 1.234,5; missing: '' or '-'; "
            "suppressed: '..', '<5', '*')",
        ),
        (
            ("101", "2026", "M", "0-4", "5"),
            "År",
            "not_future",
            "2026",
            "period lies in the future (today is 2025-06-30)",
        ),
        (
            ("147", "2024", "M", "0-4", "-3"),
            "Antal",
            "value",
            "-3",
            "negative value: counts cannot be below zero",
        ),
        (
            ("147", "2024", "M", "0-4", "2,5"),
            "Antal",
            "value",
            "2,5",
            "not a whole number: counts must be integers",
        ),
        (
            ("147", "2024", "M", "0-4", "10.000.001"),
            "Antal",
            "value",
            "10.000.001",
            "absurdly large value (over 10,000,000)",
        ),
    ],
)
def test_each_rule_quarantines_the_bad_row_and_keeps_the_good_one(
    bad: tuple[str, str, str, str, str], column: str, check: str, value: str, message: str
) -> None:
    result = validate(raw(GOOD, bad))

    assert quarantined(result) == [[FILE, 3, column, check, value, message]]
    assert result.quarantine.loc[0, "source_id"] == "deaths_file"
    assert result.quarantine.loc[0, "file_sha256"] == SHA
    assert result.quarantine.loc[0, "loaded_at"] == LOADED_AT
    assert result.rows["_source_row"].tolist() == [2]
    assert result.skipped == []


def test_unknown_measure_label_is_quarantined_under_the_measure_column() -> None:
    spec = replace(
        DEATHS,
        columns={**DEATHS.columns, "measure": "Indikator"},
        measure=None,
        measure_map={"Døde": "deaths"},
    )
    frame = pd.concat([raw(GOOD, measure="Døde"), raw(GOOD, measure="Fødte")], ignore_index=True)
    frame["_source_row"] = [2, 3]

    result = validate(frame, spec)

    assert quarantined(result) == [
        [
            FILE,
            3,
            "Indikator",
            "known_measure",
            "Fødte",
            "unknown measure label 'Fødte'; known: 'Døde'",
        ]
    ]
    assert result.rows["measure_id"].tolist() == ["deaths"]


def test_a_repeated_key_keeps_the_first_row_and_quarantines_the_later_one() -> None:
    result = validate(raw(GOOD, ("101", "2024", "M", "0-4", "13")))

    assert quarantined(result) == [
        [
            FILE,
            3,
            "row",
            "unique_key",
            "13",
            "duplicate row: the same measure, municipality, period, sex and age appear earlier",
        ]
    ]
    assert result.rows["value"].tolist() == [12.0]


def test_a_row_breaking_several_rules_is_quarantined_once_for_the_first() -> None:
    result = validate(raw(GOOD, ("999", "2024K5", "X", "0-3", "mange")))

    assert [r[3] for r in quarantined(result)] == ["known_municipality"]
    assert result.bad_share == 0.5


def test_share_measures_may_hold_fractions() -> None:
    spec = replace(DEATHS, measure="smoking_pct")
    result = validate(raw(("101", "2023", "T", "I alt", "12,5")), spec)

    assert result.quarantine.empty
    assert result.rows["value"].tolist() == [12.5]
    assert result.rows["age_band"].tolist() == ["total"]


# --------------------------------------------------------------------------- skipped rows


def test_aggregates_totals_and_the_readers_skips_are_counted_not_quarantined() -> None:
    result = validate(
        raw(
            ("000", "2024", "M", "0-4", "500"),
            ("Region Hovedstaden", "2024", "M", "0-4", "200"),
            ("101", "2024", "M", "I alt", "30"),
            ("101", "2024", "M", "0-4", "10"),
            ("101", "2024", "M", "5-9", "20"),
        ),
        skipped=[(9, "note below the table: 'Kilde: DST'")],
    )

    assert result.quarantine.empty
    assert result.skipped == [
        (9, "note below the table: 'Kilde: DST'"),
        (2, "area '000' is an aggregate (country/region), not a municipality"),
        (3, "area 'Region Hovedstaden' is an aggregate (country/region), not a municipality"),
        (4, "age_band total row dropped: its parts are in the file"),
    ]
    assert result.rows["_source_row"].tolist() == [5, 6]
    assert result.rows_in == 5 and result.bad_share == 0.0


# --------------------------------------------------------------------------- whole-file rejection


def test_a_file_with_too_many_bad_rows_is_rejected_whole() -> None:
    frame = raw(
        GOOD,
        ("147", "2024", "M", "0-4", "3"),
        ("751", "2024", "M", "0-4", "4"),
        ("999", "2024", "M", "0-4", "5"),
        ("101", "2024", "X", "0-4", "6"),
    )

    result = validate(frame, max_bad_share=0.2)

    assert result.bad_share == 0.4
    assert result.is_rejected
    assert result.rejected_reason == (
        "2 of 5 rows (40%) failed validation, above the limit of 20%: the whole file is "
        "rejected and the previous good data stay in use"
    )


def test_a_bad_share_at_the_limit_is_not_rejected() -> None:
    frame = raw(
        GOOD,
        ("147", "2024", "M", "0-4", "3"),
        ("751", "2024", "M", "0-4", "4"),
        ("461", "2024", "M", "0-4", "5"),
        ("999", "2024", "M", "0-4", "6"),
    )

    result = validate(frame, max_bad_share=0.2)

    assert result.bad_share == 0.2
    assert not result.is_rejected and result.rejected_reason == ""
    assert len(result.rows) == 4


# --------------------------------------------------------------------------- redundant totals


def _rows(*rows: tuple[str, str, str, str, float, bool, int]) -> pd.DataFrame:
    """Typed observation rows: municipality, period, sex, age band, value, suppressed, row."""
    frame = pd.DataFrame(
        rows,
        columns=[
            "municipality_code",
            "period",
            "sex",
            "age_band",
            "value",
            "source_suppressed",
            "_source_row",
        ],
    )
    frame.insert(0, "measure_id", "deaths")
    frame["source_id"] = "fod207_deaths"
    return frame


def test_totals_are_dropped_only_where_their_parts_are_present() -> None:
    typed = _rows(
        ("101", "2024", "M", "total", 30.0, False, 2),  # parts below: redundant
        ("101", "2024", "M", "0-4", 10.0, False, 3),
        ("101", "2024", "M", "5-9", 20.0, False, 4),
        ("147", "2024", "M", "total", 7.0, False, 5),  # no parts: kept
    )
    kept, skipped = drop_redundant_totals(typed)

    assert sorted(kept["_source_row"]) == [3, 4, 5]
    assert skipped == [(2, "age_band total row dropped: its parts are in the file")]


def test_sex_total_is_dropped_when_men_and_women_are_there() -> None:
    typed = _rows(
        ("101", "2024", "T", "0-4", 9.0, False, 2),
        ("101", "2024", "M", "0-4", 4.0, False, 3),
        ("101", "2024", "K", "0-4", 5.0, False, 4),
        ("147", "2024", "T", "0-4", 3.0, False, 5),
    )
    kept, skipped = drop_redundant_totals(typed)

    assert set(zip(kept["municipality_code"], kept["sex"], strict=True)) == {
        ("101", "M"),
        ("101", "K"),
        ("147", "T"),
    }
    assert [row for row, _ in skipped] == [2]


def test_single_years_in_one_band_are_summed_and_a_hidden_year_hides_the_band() -> None:
    # Ages 0 and 1 both map to the band 0-4; in 147 one of them was hidden by the source.
    typed = _rows(
        ("101", "2024", "M", "0-4", 3.0, False, 2),
        ("101", "2024", "M", "0-4", 4.0, False, 3),
        ("147", "2024", "M", "0-4", 3.0, False, 4),
        ("147", "2024", "M", "0-4", np.nan, True, 5),
    )
    kept, skipped = drop_redundant_totals(typed)

    by_code = kept.set_index("municipality_code")
    assert by_code.loc["101", "value"] == 7.0
    assert not by_code.loc["101", "source_suppressed"]
    assert np.isnan(by_code.loc["147", "value"])
    assert by_code.loc["147", "source_suppressed"]
    assert list(kept.columns) == list(typed.columns)
    assert skipped == []
