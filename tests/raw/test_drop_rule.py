"""Several drops of one source: each period from the newest file (by modification time) that has
it, globs that ignore case, StatBank web exports saved as Excel, and warnings when new data cover
less than the data they replace. Every test goes through the real ingest path into a temporary
warehouse, with the registry entries of ``data/reference/sources.yaml``."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from datapakke.config import SAMPLE_DIR, Settings, get_settings
from datapakke.raw.drops import glob_matches, snapshot
from datapakke.raw.periods import describe_periods
from datapakke.raw.registry import SourceSpec, load_registry
from datapakke.raw.stage import check_source, ingest_source
from datapakke.warehouse import read_frame

TODAY = date(2026, 11, 22)
HEADER = "Kommunekode;År;Køn;Aldersgruppe;Kontakttype;Antal\r\n"
THREE = ("101", "147", "851")
LAST_YEAR = datetime(2025, 3, 1, 12, 0, tzinfo=UTC).timestamp()
HOUR = 3600


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    raw = tmp_path / "raw"
    (raw / "sample").mkdir(parents=True)
    return replace(get_settings(), raw_dir=raw, marts_dir=tmp_path / "marts")


def spec(source_id: str) -> SourceSpec:
    return next(s for s in load_registry() if s.id == source_id)


def aktivitet(
    settings: Settings,
    name: str,
    years: range,
    value: int,
    modified: float,
    municipalities: tuple[str, ...] = THREE,
) -> Path:
    """An eSundhed activity file: one count per municipality and year, ``value`` + the year's
    last two digits (so each value says which file it came from), modified at ``modified``."""
    path = settings.raw_dir / "esundhed" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{code};{year};Mænd;0-4;Somatiske indlæggelser;{value + year % 100}\r\n"
        for code in municipalities
        for year in years
    ]
    path.write_text(HEADER + "".join(lines), encoding="utf-8-sig")
    os.utime(path, (modified, modified))
    return path


def loaded(settings: Settings, municipality: str = "101") -> dict[str, tuple[str, float]]:
    """Period → (file, value) of one municipality's loaded rows."""
    frame = read_frame(
        settings.warehouse_path,
        "SELECT period, _source_file AS file, value FROM raw.validated WHERE municipality_code = ? "
        "ORDER BY period",
        [municipality],
    )
    return {r.period: (r.file, r.value) for r in frame.itertuples()}


def test_a_drop_covering_fewer_years_replaces_only_its_years(settings: Settings) -> None:
    aktivitet(settings, "aktivitet-2024.csv", range(2019, 2025), value=100, modified=LAST_YEAR)
    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).status == "accepted"
    aktivitet(
        settings, "aktivitet-2025.csv", range(2024, 2026), value=900, modified=LAST_YEAR + HOUR
    )

    report = ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    assert report.status == "accepted"
    old, new = "esundhed/aktivitet-2024.csv", "esundhed/aktivitet-2025.csv"
    assert loaded(settings) == {
        **{str(year): (old, 100 + year % 100) for year in range(2019, 2024)},
        "2024": (new, 924),
        "2025": (new, 925),
    }
    assert report.rows_read == 3 * 6 + 3 * 2
    assert (report.rows_loaded, report.rows_skipped) == (3 * 5 + 3 * 2, 3)  # old file's 2024
    assert report.file == f"{old}, {new}"  # in period order
    assert len(report.sha256.split(", ")) == 2
    source_file = read_frame(settings.warehouse_path, "SELECT * FROM raw.source_file").iloc[0]
    assert source_file["accepted_file"] == f"{old}, {new}"
    warnings = check_source(settings, "esundhed_aktivitet").warnings
    assert warnings == []  # nothing the old data had is gone


def test_raw_source_part_lists_each_file_with_its_periods_rows_and_time(
    settings: Settings,
) -> None:
    old = aktivitet(settings, "aktivitet-2024.csv", range(2019, 2025), 100, LAST_YEAR)
    new = aktivitet(settings, "aktivitet-2025.csv", range(2024, 2026), 900, LAST_YEAR + HOUR)

    ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    parts = read_frame(
        settings.warehouse_path,
        "SELECT source_id, file, periods, rows_loaded, modified_at, is_synthetic "
        "FROM raw.source_part ORDER BY periods",
    )
    assert parts[["file", "periods", "rows_loaded"]].values.tolist() == [
        ["esundhed/aktivitet-2024.csv", "2019–2023", 15],
        ["esundhed/aktivitet-2025.csv", "2024–2025", 6],
    ]
    assert (parts["source_id"] == "esundhed_aktivitet").all() and not parts["is_synthetic"].any()
    assert [t.timestamp() for t in parts["modified_at"]] == [LAST_YEAR, LAST_YEAR + HOUR]
    findings = check_source(settings, "esundhed_aktivitet").findings
    assert (
        "2 files combined by period, each period from the newest file that has it: 2019–2023 "
        "from esundhed/aktivitet-2024.csv, 2024–2025 from esundhed/aktivitet-2025.csv"
    ) in findings
    skipped = read_frame(settings.warehouse_path, "SELECT rows_skipped FROM raw.source_file")
    assert skipped["rows_skipped"].tolist() == [3]
    assert {old.name, new.name} == {p.name for p in old.parent.iterdir()}  # files untouched


@pytest.mark.parametrize(("newest", "value"), [("aktivitet (2).csv", 200), ("aktivitet.csv", 100)])
def test_the_file_modified_last_wins_whatever_its_name(
    settings: Settings, newest: str, value: int
) -> None:
    aktivitet(settings, "aktivitet.csv", range(2023, 2025), 100, LAST_YEAR)
    aktivitet(settings, "aktivitet (2).csv", range(2023, 2025), 200, LAST_YEAR)
    later = settings.raw_dir / "esundhed" / newest
    os.utime(later, (LAST_YEAR + HOUR, LAST_YEAR + HOUR))

    report = ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    assert report.status == "accepted" and report.file == f"esundhed/{newest}"
    assert loaded(settings) == {
        "2023": (f"esundhed/{newest}", value + 23),
        "2024": (f"esundhed/{newest}", value + 24),
    }
    assert report.rows_skipped == 6  # every row of the other file


def test_making_another_file_the_newest_reloads_the_source(settings: Settings) -> None:
    aktivitet(settings, "aktivitet.csv", range(2023, 2025), 100, LAST_YEAR)
    aktivitet(settings, "aktivitet (2).csv", range(2023, 2025), 200, LAST_YEAR + HOUR)
    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).status == "accepted"
    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).status == "unchanged"

    touched = settings.raw_dir / "esundhed" / "aktivitet.csv"
    os.utime(touched, (LAST_YEAR + 2 * HOUR, LAST_YEAR + 2 * HOUR))

    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).status == "accepted"
    assert loaded(settings)["2024"] == ("esundhed/aktivitet.csv", 124)


@pytest.mark.parametrize("bad_is_newer", [True, False])
def test_a_bad_file_rejects_the_source_and_the_accepted_data_stay(
    settings: Settings, bad_is_newer: bool
) -> None:
    aktivitet(settings, "aktivitet-2024.csv", range(2019, 2025), 100, LAST_YEAR)
    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).status == "accepted"
    before = loaded(settings)
    bad = settings.raw_dir / "esundhed" / "aktivitet-2025.csv"
    bad.write_text("Kommunekode;År;Antal\r\n101;2025;5\r\n", encoding="utf-8-sig")
    when = LAST_YEAR + (HOUR if bad_is_newer else -HOUR)
    os.utime(bad, (when, when))

    report = ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    assert report.status == "rejected"
    assert "aktivitet-2025.csv" in report.message and "Kontakttype" in report.message
    assert report.file == "esundhed/aktivitet-2025.csv"  # the file at fault
    assert loaded(settings) == before  # yesterday's accepted rows are still in use
    source_file = read_frame(settings.warehouse_path, "SELECT * FROM raw.source_file").iloc[0]
    assert source_file["accepted_file"] == "esundhed/aktivitet-2024.csv"
    check = check_source(settings, "esundhed_aktivitet")
    assert check.is_rejected and check.description.startswith("esundhed/aktivitet-2025.csv: ")


def test_a_newer_file_with_fewer_municipalities_warns_naming_them(settings: Settings) -> None:
    aktivitet(settings, "aktivitet-2024.csv", range(2023, 2025), 100, LAST_YEAR)
    ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)
    aktivitet(
        settings, "aktivitet-2024-rettet.csv", range(2024, 2025), 300, LAST_YEAR + HOUR, ("101",)
    )

    report = ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    assert report.status == "accepted"
    check = check_source(settings, "esundhed_aktivitet")
    assert check.warnings == [
        "municipalities 147, 851 were in the data it replaces (esundhed/aktivitet-2024.csv) for "
        "2024 but are not in the new data: check that the download covers every municipality; "
        "what it does not cover is shown as missing"
    ]
    assert not check.passed and "municipalities 147, 851" in check.description
    assert loaded(settings, "147") == {"2023": ("esundhed/aktivitet-2024.csv", 123)}


def test_data_covering_fewer_periods_than_they_replace_warn_naming_them(
    settings: Settings,
) -> None:
    first = aktivitet(settings, "aktivitet-2024.csv", range(2019, 2025), 100, LAST_YEAR)
    ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)
    first.unlink()  # the old file taken away: 2019–2023 are gone
    aktivitet(settings, "aktivitet-2025.csv", range(2024, 2026), 900, LAST_YEAR + HOUR)

    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).status == "accepted"

    warnings = check_source(settings, "esundhed_aktivitet").warnings
    assert warnings[0].startswith("loads 6 rows where the data it replaces")  # 18 before
    assert warnings[1].startswith(
        "periods 2019–2023 were in the data it replaces (esundhed/aktivitet-2024.csv) but are "
        "not in the new data"
    )
    assert len(warnings) == 2  # no municipality is gone from 2024


def test_the_sample_is_not_compared_with(settings: Settings) -> None:
    sample = settings.sample_dir / "esundhed" / "aktivitet.csv"
    sample.parent.mkdir()
    shutil.copy(SAMPLE_DIR / "esundhed" / "aktivitet.csv", sample)
    assert ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY).is_synthetic
    aktivitet(settings, "aktivitet-2025.csv", range(2024, 2026), 900, LAST_YEAR)

    report = ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    assert report.status == "accepted" and not report.is_synthetic
    assert check_source(settings, "esundhed_aktivitet").warnings == []


def test_a_file_name_in_capitals_is_found(settings: Settings) -> None:
    drop = settings.raw_dir / "esundhed" / "Aeldre-2026.xlsx"
    drop.parent.mkdir(parents=True)
    shutil.copy(SAMPLE_DIR / "esundhed" / "aeldre.xlsx", drop)

    report = ingest_source(spec("esundhed_aeldre"), settings, today=TODAY)

    assert (report.status, report.file, report.is_synthetic) == (
        "accepted",
        "esundhed/Aeldre-2026.xlsx",
        False,
    )
    assert report.rows_loaded > 0


def _web_export(path: Path) -> None:
    """A statistikbanken.dk export saved as Excel: title, header with blank stub cells, periods
    across, 'same as above' blanks, a note below."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Befolkningen den 1. i kvartalet efter område, køn, alder og tid"])
    sheet.append([])
    sheet.append([None, None, None, "2024K1", "2024K2"])
    sheet.append(["København", "Mænd", "0-4 år", 21000, 21100])
    sheet.append([None, None, "5-9 år", 15000, 15050])
    sheet.append(["Aarhus", "Kvinder", "0-4 år", 9000, 9010])
    sheet.append([None, None, "5-9 år", 8000, 8020])
    sheet.append([])
    sheet.append(["Danmarks Statistik"])
    workbook.save(path)


def test_a_statbank_web_export_saved_as_excel_is_picked_up(settings: Settings) -> None:
    folder = settings.raw_dir / "statbank" / "FOLK1A"
    folder.mkdir(parents=True)
    _web_export(folder / "FOLK1A-web.xlsx")
    (folder / "~$FOLK1A-web.xlsx").write_bytes(b"lock")  # Excel has the file open
    (folder / ".FOLK1A.csv").write_text("hidden", encoding="utf-8")
    (folder / "FOLK1A.csv.crdownload").write_text("partial", encoding="utf-8")

    report = ingest_source(spec("folk1a_population"), settings, today=TODAY)

    assert (report.status, report.file) == ("accepted", "statbank/FOLK1A/FOLK1A-web.xlsx")
    rows = read_frame(
        settings.warehouse_path,
        "SELECT municipality_code, period, sex, age_band, value FROM raw.validated ORDER BY ALL",
    )
    assert len(rows) == 8
    assert rows.iloc[0].tolist() == ["101", "2024K1", "M", "0-4", 21000.0]
    assert list(snapshot(settings.raw_dir)) == ["statbank/FOLK1A/FOLK1A-web.xlsx"]


@pytest.mark.parametrize(
    ("glob", "path", "matches"),
    [
        ("esundhed/aeldre*.xlsx", "esundhed/Aeldre-2026.xlsx", True),
        ("esundhed/aeldre*.xlsx", "ESUNDHED/AELDRE.XLSX", True),
        ("esundhed/aeldre*.xlsx", "esundhed/old/aeldre.xlsx", False),
        ("statbank/FOLK1A/*.{csv,xlsx}", "statbank/folk1a/FOLK1A_2026.csv", True),
        ("statbank/FOLK1A/*.{csv,xlsx}", "statbank/FOLK1A/export.XLSX", True),
        ("statbank/FOLK1A/*.{csv,xlsx}", "statbank/FOLK1A/export.json", False),
        ("esundhed/**/aktivitet*.csv", "esundhed/2025/aktivitet.csv", True),
        ("esundhed/**/aktivitet*.csv", "esundhed/aktivitet.csv", True),
        # saved in a format the readers refuse: matched, so the user is told to save as .xlsx
        ("esundhed/aeldre*.xlsx", "esundhed/Aeldre-2026.xls", True),
        ("esundhed/psykiatri*.csv", "esundhed/psykiatri.ods", True),
        ("statbank/FOLK1A/*.{csv,xlsx}", "statbank/FOLK1A/export.xls", True),
        ("esundhed/aeldre*.xlsx", "esundhed/aeldre-2026.xlsb", False),
        ("esundhed/aeldre*.xlsx", "esundhed/aeldre.xls.tmp", False),
    ],
)
def test_drop_globs_ignore_case(glob: str, path: str, matches: bool) -> None:
    assert glob_matches(glob, path) is matches


def test_periods_are_described_as_runs() -> None:
    assert describe_periods(["2019", "2020", "2021", "2023"]) == "2019–2021, 2023"
    assert describe_periods(["2024K4", "2024K3", "2025K1"]) == "2024K3–2025K1"
    assert describe_periods([]) == ""


def test_the_same_file_dropped_twice_under_two_names_counts_once(settings: Settings) -> None:
    """'aktivitet (2).csv' beside 'aktivitet.csv' with the same bytes (a download saved twice):
    each period once, from the newer name; the older's rows skipped, never added twice."""
    first = aktivitet(settings, "aktivitet.csv", range(2019, 2026), value=100, modified=LAST_YEAR)
    twin = first.with_name("aktivitet (2).csv")
    shutil.copyfile(first, twin)
    os.utime(twin, (LAST_YEAR + HOUR, LAST_YEAR + HOUR))

    report = ingest_source(spec("esundhed_aktivitet"), settings, today=TODAY)

    assert report.status == "accepted" and report.quarantine.empty
    assert (report.rows_read, report.rows_loaded, report.rows_skipped) == (2 * 21, 21, 21)
    assert loaded(settings) == {
        str(year): ("esundhed/aktivitet (2).csv", 100 + year % 100) for year in range(2019, 2026)
    }
    assert check_source(settings, "esundhed_aktivitet").warnings == []


def test_a_valid_file_ten_times_the_usual_size_is_loaded_whole(settings: Settings) -> None:
    """The psychiatry file with ten times its rows, all valid (its years repeated back to 1916,
    as an export of the whole history would be): accepted, every row loaded, nothing
    quarantined. (End to end it refreshes in the time of the sample's: benchmarks note.)"""
    lines = (SAMPLE_DIR / "esundhed" / "psykiatri.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], [line.split(";") for line in lines[1:]]
    span = len({row[2] for row in rows})
    big = [header] + [
        ";".join([*row[:2], str(int(row[2]) - k * span), *row[3:]])
        for k in range(10)
        for row in rows
    ]
    drop = settings.raw_dir / "esundhed" / "psykiatri-2026.csv"
    drop.parent.mkdir(parents=True)
    drop.write_text("\n".join(big) + "\n", encoding="utf-8")

    report = ingest_source(spec("esundhed_psykiatri"), settings, today=TODAY)

    assert report.status == "accepted" and report.quarantine.empty
    assert report.rows_loaded == 10 * len(rows) and report.rows_skipped == 0
    periods = read_frame(
        settings.warehouse_path,
        "SELECT min(period) AS first, max(period) AS last FROM raw.validated",
    ).iloc[0]
    assert (periods["first"], periods["last"]) == (str(2025 - 10 * span + 1), "2025")
