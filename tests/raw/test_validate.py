"""Redundant totals and single-year ages: summed once, never counted twice, never lost silently."""

import numpy as np
import pandas as pd

from datapakke.raw.validate import drop_redundant_totals


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
