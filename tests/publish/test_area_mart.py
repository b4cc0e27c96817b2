"""Per-area marts: what a reader must know about the sources travels with the values."""

from __future__ import annotations

import pandas as pd

from datapakke.geography import default_geography
from datapakke.publish.area_mart import with_caveats

GEO = default_geography()


def sources(**overrides) -> pd.DataFrame:
    row = {
        "source_id": "fod207_deaths",
        "title": "Døde (FOD207)",
        "file": "statbank/FOD207/FOD207-rettet.csv",
        "latest_file": "statbank/FOD207/FOD207-rettet.csv",
        "status": "accepted",
        "message": "",
        "rows_quarantined": 0,
        "measures": "deaths",
    }
    return pd.DataFrame([{**row, **overrides}])


MISSING = pd.DataFrame(
    {"source_id": ["fod207_deaths"], "municipality_code": ["851"], "period": ["2023"]}
)


def test_a_clean_source_has_no_caveat() -> None:
    assert with_caveats(sources(), MISSING.iloc[:0], GEO)["caveat_da"].tolist() == [""]


def test_quarantined_rows_are_named_with_the_figures_they_remove() -> None:
    caveat = with_caveats(sources(rows_quarantined=3), MISSING, GEO)["caveat_da"].iloc[0]
    assert caveat.startswith("3 rækker i statbank/FOD207/FOD207-rettet.csv blev afvist")
    assert "Berørte tal vises ikke: Aalborg 2023." in caveat
    assert "raw_fod207_deaths" in caveat and "raw.quarantine" in caveat


def test_a_rejected_newest_file_says_the_older_file_is_used() -> None:
    caveat = with_caveats(
        sources(status="rejected", latest_file="statbank/FOD207/ny.csv", message="too many"),
        MISSING.iloc[:0],
        GEO,
    )["caveat_da"].iloc[0]
    assert "Den nyeste fil (statbank/FOD207/ny.csv) blev afvist" in caveat
    assert "statbank/FOD207/FOD207-rettet.csv" in caveat and "too many" in caveat
