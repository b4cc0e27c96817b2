"""Ingest and validation end to end on real files: what a user sees when input is bad.

Each bad file is dropped into a temporary ``data/raw`` and loaded into a temporary warehouse;
the tests assert the quarantine names the file, row, column and reason, that nothing is loaded
from a rejected file, and that the previous good data stay in use.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
import yaml

from datapakke.config import SAMPLE_DIR, get_settings
from datapakke.core.stage import build_core_tables, check_reference_integrity
from datapakke.mart.stage import build_indicator_values
from datapakke.raw import stage as raw_stage
from datapakke.raw.registry import SourceSpec, load_registry, parse_registry
from datapakke.raw.stage import ingest_source, ingest_sources
from datapakke.warehouse import connect, read_frame

BAD = Path(__file__).parent.parent / "fixtures" / "bad"
TODAY = date(2026, 11, 22)


@pytest.fixture
def settings(tmp_path: Path):
    raw = tmp_path / "raw"
    (raw / "sample").mkdir(parents=True)
    return replace(get_settings(), raw_dir=raw, marts_dir=tmp_path / "marts")


def corpus_spec(municipality_column: str = "Kommunekode") -> SourceSpec:
    layout = yaml.safe_load((BAD / "layout.yaml").read_text(encoding="utf-8"))
    return parse_registry(
        {
            "sources": [
                {
                    "id": "corpus",
                    "title": "Test corpus",
                    "target": "observation",
                    "reader": "file",
                    "sample_file": "missing.csv",
                    "drop_glob": "corpus/*",
                    "layout": layout,
                    "columns": {
                        "municipality": municipality_column,
                        "period": "År",
                        "value": "Antal",
                    },
                    "measure": "deaths",
                }
            ]
        },
        "test",
    )[0]


def drop(settings, name: str, target: str | None = None) -> Path:
    folder = settings.raw_dir / "corpus"
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    path = folder / (target or name)
    shutil.copy(BAD / name, path)
    return path


GOOD_ROWS = "Kommunekode;Kommune;År;Antal\n" + "".join(
    f"{code};X;2023;{n}\n"
    for code, n in [("101", 40), ("147", 12), ("751", 33), ("461", 20), ("851", 9)]
)


@pytest.mark.parametrize(
    ("name", "row", "check", "message"),
    [
        ("unknown_municipality.csv", 3, "known_municipality", "unknown municipality code '999'"),
        ("duplicate_rows.csv", 4, "unique_key", "duplicate row"),
        ("negative_count.csv", 3, "value", "negative value"),
        ("text_in_number.csv", 3, "number", "is not a number"),
        ("future_period.csv", 3, "not_future", "period lies in the future"),
        ("absurd_value.csv", 3, "value", "absurdly large value"),
    ],
)
def test_bad_rows_are_quarantined_with_file_row_column_and_reason(
    settings, name: str, row: int, check: str, message: str
) -> None:
    path = drop(settings, name)
    report = ingest_source(corpus_spec(), settings, today=TODAY)
    quarantine = report.quarantine
    hit = quarantine[(quarantine["row"] == row) & quarantine["check"].str.startswith(check)]
    assert not hit.empty, quarantine.to_string()
    assert message in hit["message"].iloc[0]
    assert hit["column"].iloc[0] in {"Kommunekode", "År", "Antal", "row"}
    stored = read_frame(settings.warehouse_path, "SELECT DISTINCT file FROM raw.quarantine")
    assert stored["file"].tolist() == [f"corpus/{path.name}"]  # as named under data/raw/


def test_formula_text_is_quarantined_never_loaded(settings) -> None:
    drop(settings, "formula_injection.csv")
    report = ingest_source(corpus_spec("Kommune"), settings, today=TODAY)
    formulas = report.quarantine[report.quarantine["check"] == "no_formula"]
    assert sorted(formulas["row"]) == [3, 4, 5, 6]
    assert (formulas["column"] == "Kommune").all()
    validated = read_frame(settings.warehouse_path, "SELECT * FROM raw.validated")
    assert not validated["_source_row"].isin([3, 4, 5, 6]).any()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("empty.csv", "file is empty"),
        ("truncated.csv", "looks truncated"),
        ("utf16.csv", "UTF-16"),
        ("html_error_page.csv", "HTML/XML page"),
        ("corrupt.xlsx", "corrupt or truncated .xlsx"),
        ("missing_column.csv", "required column(s) 'Antal' not found"),
        ("renamed_column.csv", "did you mean 'Antal personer'"),
    ],
)
def test_unreadable_file_is_rejected_and_previous_data_stay(
    settings, name: str, message: str
) -> None:
    good = settings.raw_dir / "corpus" / "a.csv"
    good.parent.mkdir(parents=True)
    good.write_text(GOOD_ROWS, encoding="utf-8")
    assert ingest_source(corpus_spec(), settings, today=TODAY).status == "accepted"
    bad = drop(settings, name, target="b" + Path(name).suffix)  # removes a.csv, drops b.*
    before = read_frame(settings.warehouse_path, "SELECT * FROM raw.validated ORDER BY _source_row")

    report = ingest_source(corpus_spec(), settings, today=TODAY)

    assert report.status == "rejected"
    assert message in report.message and bad.name in report.message
    after = read_frame(settings.warehouse_path, "SELECT * FROM raw.validated ORDER BY _source_row")
    assert after.equals(before)  # yesterday's good rows still in use
    status = read_frame(
        settings.warehouse_path, "SELECT status, accepted_file FROM raw.source_file"
    ).iloc[0]
    assert status["status"] == "rejected" and status["accepted_file"].endswith("a.csv")


def test_too_many_bad_rows_reject_the_whole_file(settings) -> None:
    drop(settings, "text_in_number.csv")  # 3 of 4 rows bad
    report = ingest_source(corpus_spec(), settings, today=TODAY)
    assert report.status == "rejected"
    assert "the whole file is rejected" in report.message
    assert (
        read_frame(settings.warehouse_path, "SELECT count(*) AS n FROM raw.validated")["n"][0] == 0
    )


def test_a_few_bad_rows_are_quarantined_and_the_rest_loaded(settings) -> None:
    path = settings.raw_dir / "corpus" / "a.csv"
    path.parent.mkdir(parents=True)
    path.write_text(GOOD_ROWS + "999;Atlantis;2023;5\n", encoding="utf-8")
    report = ingest_source(corpus_spec(), replace(settings, max_bad_share=0.5), today=TODAY)
    assert report.status == "accepted"
    assert report.rows_loaded == 5
    assert report.quarantine["row"].tolist() == [7]


def test_cp1252_names_are_read_and_accepted(settings) -> None:
    drop(settings, "cp1252_names.csv")
    report = ingest_source(corpus_spec("Kommune"), settings, today=TODAY)
    assert report.status == "accepted" and report.quarantine.empty


def test_raw_files_are_never_modified(settings) -> None:
    path = drop(settings, "formula_injection.csv")
    before = path.read_bytes()
    ingest_source(corpus_spec("Kommune"), settings, today=TODAY)
    assert path.read_bytes() == before


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory):
    """Every registered sample source loaded into one warehouse."""
    root = tmp_path_factory.mktemp("sample")
    settings = replace(get_settings(), raw_dir=SAMPLE_DIR.parent, marts_dir=root / "marts")
    reports = {spec.id: ingest_source(spec, settings, today=TODAY) for spec in load_registry()}
    return settings, reports


def test_every_sample_source_is_accepted_with_lineage(sample_warehouse) -> None:
    settings, reports = sample_warehouse
    for source_id, report in reports.items():
        assert report.status == "accepted", (source_id, report.message)
        assert report.quarantine.empty, (source_id, report.quarantine.head())
        assert report.is_synthetic
    lineage = read_frame(
        settings.warehouse_path,
        "SELECT count(*) AS n, count(DISTINCT _file_sha256) AS files, min(_source_row) AS first "
        "FROM raw.validated",
    ).iloc[0]
    assert lineage["n"] > 100_000 and lineage["files"] == 10 and lineage["first"] >= 1


def test_sample_skips_aggregate_rows_and_counts_them(sample_warehouse) -> None:
    _, reports = sample_warehouse
    assert reports["folk1a_population"].rows_skipped == 6 * 2 * 19 * 44  # 000 + 5 regions


def test_loading_the_same_file_twice_changes_nothing(sample_warehouse) -> None:
    settings, _ = sample_warehouse
    spec = next(s for s in load_registry() if s.id == "sygk1_gp_contacts")
    query = "SELECT * EXCLUDE (_loaded_at) FROM raw.validated WHERE source_id = ? ORDER BY ALL"
    before = read_frame(settings.warehouse_path, query, [spec.id])
    assert ingest_source(spec, settings, today=TODAY).status == "unchanged"
    with connect(settings.warehouse_path, read_only=True) as con:
        after = con.execute(query, [spec.id]).df()
    assert after.equals(before)


def test_parallel_ingest_loads_exactly_what_one_at_a_time_loads(sample_warehouse, tmp_path) -> None:
    settings, reports = sample_warehouse
    parallel = replace(settings, marts_dir=tmp_path / "marts")
    parallel_reports = ingest_sources(load_registry(), parallel, today=TODAY, workers=2)
    assert [r.source_id for r in parallel_reports] == list(reports)  # registry order kept
    assert [r.status for r in parallel_reports] == ["accepted"] * len(reports)
    for table in ("raw.validated", "raw.observation"):
        query = f"SELECT * EXCLUDE (_loaded_at) FROM {table} ORDER BY ALL"
        one_at_a_time = read_frame(settings.warehouse_path, query)
        side_by_side = read_frame(parallel.warehouse_path, query)
        assert side_by_side.equals(one_at_a_time), table


def test_reference_integrity_names_unknown_codes_and_incomplete_periods(
    sample_warehouse, tmp_path
) -> None:
    settings, _ = sample_warehouse
    copy = replace(settings, marts_dir=tmp_path / "marts")
    copy.marts_dir.mkdir()
    shutil.copy(settings.warehouse_path, copy.warehouse_path)
    build_core_tables(copy)
    assert check_reference_integrity(copy).passed
    with connect(copy.warehouse_path) as con:
        con.execute(
            "DELETE FROM core.population WHERE municipality_code = '101' AND period = '2024K1'"
        )
        con.execute("UPDATE core.observation SET municipality_code = '999' WHERE rowid = 0")
    result = check_reference_integrity(copy)
    assert not result.passed
    assert result.incomplete_periods == ["2024K1"]
    assert result.unknown_codes == ["999"]


def test_indicators_made_side_by_side_equal_those_made_one_at_a_time(
    sample_warehouse, tmp_path
) -> None:
    settings, _ = sample_warehouse
    tables = {}
    for workers in (1, 2):
        copy = replace(settings, marts_dir=tmp_path / f"marts-{workers}")
        copy.marts_dir.mkdir()
        shutil.copy(settings.warehouse_path, copy.warehouse_path)
        build_core_tables(copy)
        report = build_indicator_values(copy, workers=workers, verify=workers == 2)
        tables[workers] = read_frame(copy.warehouse_path, "SELECT * FROM mart.indicator_value")
    assert report.audit_findings == [] and report.schema_errors == ""
    assert report.indicators == 31
    assert tables[2].equals(tables[1])


def test_an_unchanged_file_is_not_read_again_but_a_changed_registry_entry_reloads_it(
    sample_warehouse, tmp_path, monkeypatch
) -> None:
    settings, reports = sample_warehouse
    copy = replace(settings, marts_dir=tmp_path / "marts")
    copy.marts_dir.mkdir()
    shutil.copy(settings.warehouse_path, copy.warehouse_path)
    spec = next(s for s in load_registry() if s.id == "sygk1_gp_contacts")

    def no_reading(*args, **kwargs):
        raise AssertionError("an unchanged file was read again")

    monkeypatch.setattr(raw_stage, "read_raw", no_reading)
    report = ingest_source(spec, copy, today=TODAY)
    assert report.status == "unchanged"
    assert (report.rows_read, report.rows_loaded) == (
        reports[spec.id].rows_read,
        reports[spec.id].rows_loaded,
    )
    monkeypatch.undo()

    renamed = replace(spec, measure="gp_contacts_renamed")  # an analyst edits the registry
    report = ingest_source(renamed, copy, today=TODAY)
    assert report.status == "accepted"
    measures = read_frame(
        copy.warehouse_path,
        "SELECT DISTINCT measure_id FROM raw.validated WHERE source_id = ?",
        [spec.id],
    )["measure_id"].tolist()
    assert measures == ["gp_contacts_renamed"]
