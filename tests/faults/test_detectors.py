"""The fault suite's own measures must see what they count, or a "0" in its table means nothing.

Small literal warehouses, marts and workbooks with one known loss, wrong figure or leftover each.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
from openpyxl import Workbook

from benchmarks.faults import find_leftovers, pack_print, published_figures, rows_lost

_VALUE_COLUMNS = (
    "indicator_id TEXT, role TEXT, area_level TEXT, grouping TEXT, area_code TEXT, period TEXT, "
    "sex TEXT, value DOUBLE, numerator DOUBLE, denominator DOUBLE, ci95_low DOUBLE, "
    "ci95_high DOUBLE"
)


def _mart(path: Path, rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute(f"CREATE TABLE indicator_value ({_VALUE_COLUMNS})")
        for row in rows:
            con.execute("INSERT INTO indicator_value VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)  # fmt: skip
    finally:
        con.close()


def _row(indicator: str, value: float | None, code: str = "101") -> tuple:
    number = None if value is None else value * 10
    return (indicator, "member", "municipality", "", code, "2024", "T", value, number, 10.0, None, None)  # fmt: skip


def test_published_figures_counts_wrong_withheld_and_vanished(tmp_path: Path) -> None:
    base, after = tmp_path / "base", tmp_path / "after"
    _mart(base / "region/x/mart.duckdb", [_row(i, 1.0) for i in "abcde"] + [_row("f", None)])
    changed = [_row("a", 1.0), _row("b", 2.0), _row("c", None), _row("e", 1.0), _row("f", 3.0)]
    _mart(after / "region/x/mart.duckdb", [*changed, _row("g", 4.0)])
    wrong, withheld, vanished = published_figures(base, after)
    assert (wrong, withheld, vanished) == (3, 1, 1)  # b changed, f and g from nowhere; c; d


def _warehouse(path: Path, observations: list[str], missing: list[str]) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA core; CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE core.observation (source_id TEXT, measure_id TEXT, "
            "municipality_code TEXT, period TEXT, sex TEXT, age_band TEXT, value DOUBLE)"
        )
        con.execute(
            "CREATE TABLE core.population (source_id TEXT, municipality_code TEXT, period TEXT, "
            "sex TEXT, age_band TEXT, population DOUBLE)"
        )
        con.execute(
            "CREATE TABLE raw.missing (source_id TEXT, measure_id TEXT, municipality_code TEXT, "
            "period TEXT)"
        )
        for code in observations:
            con.execute("INSERT INTO core.observation VALUES ('s', 'm', ?, '2024', 'T', 'total', 1)", [code])  # fmt: skip
            con.execute("INSERT INTO core.population VALUES ('p', ?, '2024', 'T', 'total', 9)", [code])  # fmt: skip
        for code in missing:
            con.execute("INSERT INTO raw.missing VALUES ('s', 'm', ?, '2024')", [code])
    finally:
        con.close()


def test_rows_lost_counts_rows_gone_without_a_missing_record(tmp_path: Path) -> None:
    _warehouse(tmp_path / "base.duckdb", ["101", "147", "151"], [])
    _warehouse(tmp_path / "after.duckdb", ["101"], ["147"])
    # 147's observation is reported missing; 151's observation and both populations are lost
    assert rows_lost(tmp_path / "base.duckdb", tmp_path / "after.duckdb") == 3


def _pack(path: Path, value: float, built: str) -> Path:
    book = Workbook()
    sheet = book.active
    sheet["A1"], sheet["B1"], sheet["A2"] = "Dannet", f"{built} kl. 14.43", value
    sheet.oddFooter.right.text = f"Dannet {built} kl. 14.43"
    book.save(path)
    return path


def test_pack_print_is_blind_to_the_build_time_and_sees_every_value(tmp_path: Path) -> None:
    first = pack_print(_pack(tmp_path / "a.xlsx", 1.5, "3. december 2026"))
    assert pack_print(_pack(tmp_path / "b.xlsx", 1.5, "4. december 2026")) == first
    assert pack_print(_pack(tmp_path / "c.xlsx", 1.6, "3. december 2026")) != first


def test_leftovers_are_temporary_files_and_site_builds(tmp_path: Path) -> None:
    for name in ("region/x/.datapakke-region-x.xlsx.tmp-12", "region/x/.mart.duckdb.tmp-3.wal"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / ".site.new-99-abc").mkdir()
    (tmp_path / ".site.lock").write_bytes(b"")
    assert find_leftovers(tmp_path) == [
        ".site.new-99-abc",
        "region/x/.datapakke-region-x.xlsx.tmp-12",
        "region/x/.mart.duckdb.tmp-3.wal",
    ]
