"""What a file covers besides its municipal rows: filters as code or label, implied totals,
special areas, aggregates cross-checked, and single ages missing from a download."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from datapakke.geography import default_geography
from datapakke.raw.load import _findings
from datapakke.raw.read import filter_matches, read_raw
from datapakke.raw.registry import ResolvedSource, SourceSpec
from datapakke.warehouse import ensure_schema
from tests.raw.test_validate import raw, validate

GEO = default_geography()
FOLK1A = SourceSpec(
    id="folk1a_population",
    title="Befolkningen",
    publisher="Danmarks Statistik",
    target="population",
    reader="statbank",
    sample_file="statbank/FOLK1A.csv",
    drop_glob="statbank/FOLK1A/*.csv",
    columns={
        "municipality": "OMRÅDE",
        "period": "TID",
        "sex": "KØN",
        "age": "ALDER",
        "value": "INDHOLD",
    },
    measure="population",
    filters={"CIVILSTAND": ("TOT",)},
)


def _read(tmp_path: Path, text: str) -> object:
    path = tmp_path / "FOLK1A.csv"
    path.write_text(text, encoding="utf-8")
    return read_raw(ResolvedSource(FOLK1A, path, is_synthetic=False, raw_dir=tmp_path))


def test_a_filter_matches_the_code_the_label_and_a_web_exports_code_prefix() -> None:
    values = pd.Series(["TOT", "I alt", "i alt ", "Total", "TOT Erhverv i alt", "U", "Ugift"])
    assert filter_matches(values, ("TOT",)).tolist() == [True] * 5 + [False, False]


def test_a_labels_download_with_i_alt_loads_every_row(tmp_path: Path) -> None:
    loaded = _read(
        tmp_path,
        "OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD\n"
        "Aalborg;Mænd;0 år;I alt;2020K1;100\nAalborg;Mænd;0 år;Ugift;2020K1;90\n",
    )
    assert loaded.error is None and len(loaded.frame) == 1
    assert loaded.skipped == [(3, "CIVILSTAND='Ugift' is not selected by the registry filter")]


def test_an_eliminated_variable_means_its_total_and_is_noted(tmp_path: Path) -> None:
    loaded = _read(tmp_path, "OMRÅDE;KØN;ALDER;TID;INDHOLD\n851;1;0;2020K1;100\n")
    assert loaded.error is None and len(loaded.frame) == 1
    assert loaded.notes and "CIVILSTAND is not in the file" in loaded.notes[0]


def test_a_filter_that_keeps_no_row_is_an_error_saying_what_to_select(tmp_path: Path) -> None:
    loaded = _read(tmp_path, "OMRÅDE;KØN;ALDER;CIVILSTAND;TID;INDHOLD\n851;1;0;U;2020K1;100\n")
    assert loaded.error is not None and loaded.frame.empty
    message = str(loaded.error)
    assert "FOLK1A.csv" in message and "keeps none of the 1 rows" in message
    assert "'U'" in message and "CIVILSTAND" in message


def test_special_areas_are_counted_and_reported_never_quarantined_or_merged() -> None:
    result = validate(
        raw(
            ("101", "2024", "M", "0-4", "12"),
            ("Christiansø", "2024", "M", "0-4", "1"),
            ("Uden for Danmark", "2024", "M", "0-4", "3"),
            ("Uoplyst kommune", "2024", "M", "0-4", "2"),
        )
    )
    assert result.quarantine.empty and len(result.rows) == 1
    assert set(result.rows["municipality_code"]) == {"101"}
    assert len([s for s in result.skipped if "special area" in s[1]]) == 3
    assert any(
        "Christiansø (1 rows)" in f and "Uden for Danmark (1 rows)" in f for f in result.findings
    )


def _national_rows(country_total: str) -> list[tuple[str, ...]]:
    rows = [(code, "2024", "M", "0-4", "10") for code in sorted(GEO.municipalities)]
    rows.append(("Christiansø", "2024", "M", "0-4", "1"))
    rows.append(("Hele landet", "2024", "M", "0-4", country_total))
    return rows


def _national_file(country_total: str) -> pd.DataFrame:
    return raw(*_national_rows(country_total))


def test_aggregates_that_agree_with_their_municipalities_say_so() -> None:
    result = validate(_national_file("981"))  # 98 × 10 + Christiansø
    assert any("aggregates agree" in f for f in result.findings)


def test_an_aggregate_that_disagrees_with_its_municipalities_is_reported() -> None:
    result = validate(_national_file("1000"))
    mismatch = [f for f in result.warnings if "disagree" in f]
    assert mismatch and "1,000 in the file, 981 summed" in mismatch[0]
    assert len(result.rows) == 98  # the municipal rows are still used


def test_christiansoe_counts_in_region_hovedstaden_and_no_other_region() -> None:
    """DST's Region Hovedstaden total includes Christiansø (real FOLK1AM: off by exactly 94)."""
    hovedstaden = sum(m.region_code == "084" for m in GEO.municipalities.values())
    sjaelland = sum(m.region_code == "085" for m in GEO.municipalities.values())
    region_rows = [
        ("Region Hovedstaden", "2024", "M", "0-4", str(10 * hovedstaden + 1)),
        ("Region Sjælland", "2024", "M", "0-4", str(10 * sjaelland)),
    ]
    agreed = validate(raw(*_national_rows("981"), *region_rows))
    assert not agreed.warnings, agreed.warnings
    region_rows[0] = ("Region Hovedstaden", "2024", "M", "0-4", str(10 * hovedstaden))
    off = validate(raw(*_national_rows("981"), *region_rows))
    assert any("region 084" in w and "summed" in w for w in off.warnings)


def test_a_partial_file_says_its_aggregates_were_not_checked() -> None:
    result = validate(raw(("101", "2024", "M", "0-4", "5"), ("000", "2024", "M", "0-4", "9")))
    assert any("not cross-checked: the file has 1 of its 98" in f for f in result.findings)


def test_a_missing_single_age_makes_its_band_missing_not_an_undercount() -> None:
    ages = [a for a in range(0, 45) if a != 38]
    result = validate(raw(*[("851", "2024", "K", str(a), "10") for a in ages]))
    band = result.rows.set_index("age_band")["value"]
    assert band["30-34"] == 50 and band["40-44"] == 50
    gaps = result.missing[result.missing["reason"] == "age_gap"]
    assert gaps[["municipality_code", "period", "age_band"]].values.tolist() == [
        ["851", "2024", "35-39"]
    ]
    assert any("single ages missing (38)" in f for f in result.warnings)


@pytest.mark.parametrize(
    "text", ["Copenhagen", "København", "101", "Høje Taastrup", "Århus", "Vesthimmerlands"]
)
def test_spellings_users_meet_resolve_to_a_municipality(text: str) -> None:
    assert GEO.resolve_municipality(text) in GEO.municipalities


def test_a_file_loading_far_fewer_rows_than_the_data_it_replaces_is_a_warning() -> None:
    con = duckdb.connect()
    ensure_schema(con)
    con.execute(
        "INSERT INTO raw.source_file (source_id, accepted_file, accepted_sha256, rows_loaded) "
        "VALUES ('deaths_file', 'esundhed/deaths.csv', 'ab', 1000)"
    )
    con.execute(
        "INSERT INTO raw.validated (source_id, municipality_code, period) "
        "SELECT 'deaths_file', '101', '2024' FROM range(1000)"
    )
    smaller = validate(raw(("101", "2024", "M", "0-4", "12")))
    notes = ["CIVILSTAND is not in the file"]
    stored = _findings(con, "deaths_file", notes, smaller)
    warnings = stored.loc[stored["is_warning"], "finding"].tolist()
    assert len(warnings) == 1 and "loads 1 rows where the data it replaces" in warnings[0]
    assert "(esundhed/deaths.csv) had 1,000" in warnings[0]
    assert stored.loc[~stored["is_warning"], "finding"].tolist()[0].startswith("CIVILSTAND")
    # As many rows as the data it replaces is no warning.
    con.execute("DELETE FROM raw.validated WHERE rowid > 0")
    assert not _findings(con, "deaths_file", notes, smaller)["is_warning"].any()
