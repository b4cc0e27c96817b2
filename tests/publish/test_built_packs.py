"""Packs built from the embedded sample, read back as their users read them.

- every sheet reads the same in openpyxl's read-only (streaming) mode as in normal mode: the
  declared ``<dimension>`` covers the content, so no streaming reader drops rows;
- every number on the indicator sheets and the Data sheet is the area mart's number, and the
  suppressed text ('<5') stands exactly where the mart withheld a number on a suppressed row;
- no Danish text shows a server path or an English catalogue or measure id (the Data sheet's
  'Indikator-id' column is machine-readable on purpose and keeps them).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from openpyxl import load_workbook

from datapakke.mart.population import is_population
from datapakke.presentation import AGE_BAND_LABELS_DA
from tests.publish.sample_build import PACK_AREAS, SamplePacks, built_packs

pytestmark = pytest.mark.slow

SUPPRESSED, MISSING = "<5", "–"  # the sample build's threshold is 5
ROLES = {"Kommune": "member", "Område": "area", "Region": "region", "Hele landet": "country"}
SEXES = {"I alt": "T", "Mænd": "M", "Kvinder": "K"}
# Sheet headers of the numbers, and the mart columns they show.
NUMBER_COLUMNS = {
    "Tæller": "numerator",
    "Nævner": "denominator",
    "Værdi": "value",
    "95 % nedre": "ci95_low",
    "95 % øvre": "ci95_high",
    "99,8 % nedre": "ci998_low",
    "99,8 % øvre": "ci998_high",
}
# Packs whose every cell is checked against their mart: a region with a suppressed row that
# keeps its numerator (Brønderslev), and the cluster of one municipality.
CHECKED = ("region.nordjylland", "klynge2022.bornholm", "klynge2022.hovedstaden-byen")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SamplePacks:
    return built_packs(tmp_path_factory)


def _mart(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        values = con.execute("SELECT * FROM indicator_value").df()
        catalogue = con.execute("SELECT * FROM indicator").df()
    return values, catalogue


def _age_mart(path: Path) -> dict[tuple[str, str, str, str], Any]:
    """The area mart's age-band rows by (indicator, role, unit code, Danish band label)."""
    with duckdb.connect(str(path), read_only=True) as con:
        ages = con.execute("SELECT * FROM indicator_age_value").df()
    return {
        (r.indicator_id, r.role, r.area_code, AGE_BAND_LABELS_DA[r.age_band]): r
        for r in ages.itertuples(index=False)
    }


def _trimmed(row: tuple) -> tuple:
    values = list(row)
    while values and values[-1] is None:
        values.pop()
    return tuple(values)


@dataclass(frozen=True)
class SheetRead:
    """One sheet read both ways: (max_row, max_column) and its rows (trailing blanks dropped)."""

    streamed_size: tuple[int, int]
    loaded_size: tuple[int, int]
    streamed: list[tuple]
    loaded: list[tuple]


def _read_both_ways(path: Path) -> dict[str, SheetRead]:
    streamed, loaded = load_workbook(path, read_only=True), load_workbook(path)
    assert streamed.sheetnames == loaded.sheetnames, path
    sheets = {}
    for name in loaded.sheetnames:
        stream, full = streamed[name], loaded[name]
        sheets[name] = SheetRead(
            (stream.max_row, stream.max_column),
            (full.max_row, full.max_column),
            [_trimmed(r) for r in stream.iter_rows(values_only=True)],
            [_trimmed(r) for r in full.iter_rows(values_only=True)],
        )
    streamed.close()
    return sheets


@pytest.fixture(scope="module")
def read_back(sample: SamplePacks) -> dict[str, dict[str, SheetRead]]:
    """Every sheet of every pack, read once in read-only mode and once in normal mode, for all
    the tests (loading a pack in normal mode is the slow part, about a minute for the seven)."""
    return {key: _read_both_ways(path) for key, path in sample.packs.items()}


# --------------------------------------------------------------------------- sheet dimensions


def test_the_sample_build_has_the_packs_asked_for(sample: SamplePacks) -> None:
    assert set(sample.packs) == set(PACK_AREAS)
    assert all(path.is_file() for path in sample.packs.values())


def test_read_only_mode_reads_every_row_and_column(
    read_back: dict[str, dict[str, SheetRead]],
) -> None:
    for key, sheets in read_back.items():
        for name, sheet in sheets.items():
            where = f"{key} {name}"
            assert sheet.streamed_size == sheet.loaded_size, where
            assert sheet.streamed == sheet.loaded, where


def test_the_data_sheet_declares_all_its_rows(
    sample: SamplePacks, read_back: dict[str, dict[str, SheetRead]]
) -> None:
    values, _ = _mart(sample.marts["region.nordjylland"])
    data = read_back["region.nordjylland"]["Data"]
    assert data.streamed_size == (2 + len(values), 26)  # legend, header, one row per value


# --------------------------------------------------------------------------- cells ↔ area mart


def _expected(mart_row: Any, column: str, withholds_denominator: bool) -> object:
    """What a cell must show for one mart number: the number, the suppressed text where the
    mart withheld it, or the dash where there is no number for another reason."""
    value = getattr(mart_row, column)
    if value is not None and not (isinstance(value, float) and math.isnan(value)):
        return pytest.approx(float(value), rel=1e-9, abs=1e-9)
    may_withhold = column != "denominator" or withholds_denominator
    return SUPPRESSED if bool(mart_row.is_suppressed) and may_withhold else MISSING


def _withholds_denominator(catalogue: pd.DataFrame) -> dict[str, bool]:
    """Indicators whose denominator is a count under disclosure control (not the population)."""
    return {
        ind.indicator_id: ind.disclosure == "count"
        and ind.denominator_measure not in (None, "")
        and not is_population(ind.denominator_measure)
        and isinstance(ind.denominator_measure, str)
        for ind in catalogue.itertuples()
    }


def _data_table(sheet: SheetRead) -> pd.DataFrame:
    """The Data sheet as read (streamed): its header is in row 2."""
    header = list(sheet.streamed[1])
    body = [r + (None,) * (len(header) - len(r)) for r in sheet.streamed[2:]]
    return pd.DataFrame(body, columns=header)


@pytest.mark.parametrize("key", CHECKED)
def test_data_sheet_shows_what_the_mart_publishes(
    sample: SamplePacks, read_back: dict[str, dict[str, SheetRead]], key: str
) -> None:
    values, catalogue = _mart(sample.marts[key])
    withholds = _withholds_denominator(catalogue)
    sheet = _data_table(read_back[key]["Data"])
    header = list(sheet.columns)
    assert len(sheet) == len(values)
    mart = {
        (r.indicator_id, r.role, r.area_code, r.period, r.sex): r
        for r in values.itertuples(index=False)
    }
    checked = 0
    for cells in sheet.itertuples(index=False):
        cell = dict(zip(header, cells, strict=True))
        sex = SEXES[cell["Køn"]]
        r = mart[(cell["Indikator-id"], ROLES[cell["Niveau"]], cell["Kode"], cell["Periode"], sex)]
        assert cell["Skjult"] == ("Ja" if r.is_suppressed else "Nej")
        for label, column in NUMBER_COLUMNS.items():
            expected = _expected(r, column, withholds[r.indicator_id])
            assert cell[label] == expected, (key, cell["Indikator-id"], cell["Kode"], label)
            checked += 1
    assert checked == 7 * len(values)


def test_a_suppressed_row_keeps_the_count_the_mart_publishes(
    sample: SamplePacks, read_back: dict[str, dict[str, SheetRead]]
) -> None:
    # Psychiatric readmissions, Brønderslev (810), 2016, men: the mart withholds the
    # denominator (and so the rate) but publishes the numerator, 25.
    values, _ = _mart(sample.marts["region.nordjylland"])
    row = values[
        (values["indicator_id"] == "psychiatric_readmissions_30d_pct")
        & (values["area_code"] == "810")
        & (values["period"] == "2016")
        & (values["sex"] == "M")
    ].iloc[0]
    assert row["is_suppressed"] and row["numerator"] == 25 and math.isnan(row["denominator"])
    data = _data_table(read_back["region.nordjylland"]["Data"])
    shown = data[
        (data["Indikator-id"] == "psychiatric_readmissions_30d_pct")
        & (data["Kode"] == "810")
        & (data["Periode"] == "2016")
        & (data["Køn"] == "Mænd")
    ]
    assert len(shown) == 1
    assert shown["Tæller"].iloc[0] == 25
    assert shown["Nævner"].iloc[0] == SUPPRESSED and shown["Værdi"].iloc[0] == SUPPRESSED


def _unit_codes(values: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(role, name as shown) → area code; a shared municipality is shown as '<name> (delvis)'."""
    units = values[["role", "area_name", "area_code"]].drop_duplicates()
    codes = {}
    for u in units.itertuples():
        codes[(u.role, u.area_name)] = u.area_code
        codes[(u.role, f"{u.area_name} (delvis)")] = u.area_code
    return codes


@pytest.mark.parametrize("key", CHECKED)
def test_indicator_sheets_show_what_the_mart_publishes(
    sample: SamplePacks, read_back: dict[str, dict[str, SheetRead]], key: str
) -> None:
    values, catalogue = _mart(sample.marts[key])
    withholds = _withholds_denominator(catalogue)
    codes = _unit_codes(values)
    mart = {
        (r.indicator_id, r.role, r.area_code, r.period, r.sex): r
        for r in values.itertuples(index=False)
    }
    sheets = read_back[key]
    titled = {sheet.streamed[0][0]: name for name, sheet in sheets.items() if sheet.streamed}
    sheet_of = {titled[ind.title_da]: ind.indicator_id for ind in catalogue.itertuples()}
    assert len(sheet_of) == len(catalogue)  # one sheet per indicator, titled with its title
    by_age = _age_mart(sample.marts[key])
    checked = {"over time": 0, "details": 0, "by age": 0}
    for name, indicator_id in sheet_of.items():
        rows = sheets[name].streamed
        latest = values.loc[values["indicator_id"] == indicator_id, "period"].max()
        periods: list[str] = []
        section, sex = "", "T"
        for row in rows:
            if row[:2] == ("Niveau", "Navn"):
                section = "details" if row[2] == "Tæller" else "over time"
                section = "by age" if row[2] == AGE_BAND_LABELS_DA["total"] else section
                periods = list(row[2:]) if section != "details" else periods
                continue
            if len(row) >= 1 and row[0] in SEXES and len(row) == 1:
                sex = SEXES[row[0]]
                continue
            if not section or not row or row[0] not in ROLES or len(row) < 3:
                continue
            role, code = ROLES[row[0]], codes[(ROLES[row[0]], row[1])]
            if section == "by age":  # value, interval for each band
                for band, shown in zip(periods[::2], row[2::2], strict=False):
                    r = by_age[(indicator_id, role, code, band)]
                    assert shown == _expected(r, "value", False), (key, name, row[1], band)
                    checked["by age"] += 1
            elif section == "over time":
                for period, shown in zip(periods, row[2:], strict=False):
                    r = mart.get((indicator_id, role, code, period, "T"))
                    expected = MISSING if r is None else _expected(r, "value", False)
                    assert shown == expected, (key, name, row[1], period)
                    checked["over time"] += 1
            else:
                r = mart[(indicator_id, role, code, latest, sex)]
                for shown, column in zip(row[2:9], NUMBER_COLUMNS.values(), strict=True):
                    expected = _expected(r, column, withholds[indicator_id])
                    assert shown == expected, (key, name, row[1], sex, column)
                    checked["details"] += 1
    assert checked["over time"] > 0 and checked["details"] > 0 and checked["by age"] > 0


# --------------------------------------------------------------------------- Danish text only

# '/' starting a path of at least two parts ('/srv/x', '/work/main/…'), or a drive letter.
_ABSOLUTE_PATH = re.compile(r"(?:^|[\s(\[\"'=:;,])/[\w.~-]+/|(?<![\w])[A-Za-z]:[\\/]")


def _ids(catalogue: pd.DataFrame) -> re.Pattern[str]:
    """Any catalogue id or measure id as a whole word (ids are snake_case: '_' joins words)."""
    ids = set(catalogue["indicator_id"])
    ids |= set(catalogue["numerator_measure"].dropna()) | set(
        catalogue["denominator_measure"].dropna()
    )
    alternatives = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def test_absolute_path_pattern() -> None:
    for bad in ("/work/main/data/raw/x.csv", "Fil: /srv/in/a.csv", "C:\\data\\a.xlsx", "d:/a"):
        assert _ABSOLUTE_PATH.search(bad), bad
    for fine in ("sample/statbank/FOLK1A.csv", "hvem/hvad", "1/3 af borgerne", "http://x"):
        assert not _ABSOLUTE_PATH.search(fine), fine


def test_no_server_path_or_english_id_in_any_text(
    sample: SamplePacks, read_back: dict[str, dict[str, SheetRead]]
) -> None:
    _, catalogue = _mart(sample.marts["region.nordjylland"])
    ids = _ids(catalogue)
    assert ids.search("preventable_admissions (65 år og derover)")  # the pattern bites
    assert not ids.search("forebyggelige indlæggelser")
    for key, sheets in read_back.items():
        for name, sheet in sheets.items():
            id_column = sheet.streamed[1].index("Indikator-id") if name == "Data" else None
            texts: dict[str, str] = {}  # each distinct text once, with where it first is
            for number, row in enumerate(sheet.streamed, start=1):
                for col, value in enumerate(row):
                    if isinstance(value, str) and col != id_column and value not in texts:
                        texts[value] = f"{key} {name} row {number}: {value[:80]!r}"
            assert len(texts) > 0, (key, name)
            for value, where in texts.items():
                assert not _ABSOLUTE_PATH.search(value), where
                assert not ids.search(value), where


def test_source_files_are_named_under_the_raw_folder(
    read_back: dict[str, dict[str, SheetRead]],
) -> None:
    status = read_back["klynge2022.bornholm"]["Datastatus"].streamed
    files = {row[2] for row in status if len(row) > 2}
    assert "sample/statbank/FOLK1A.csv" in files
    assert "sample/sundhedsprofil/sundhedsprofil.csv" in files
    rows = read_back["klynge2022.bornholm"]["Om data"].streamed
    texts = {row[1] for row in rows if len(row) > 1 and row[0] == "Tæller"}
    assert "forebyggelige indlæggelser (65 år og derover)" in texts
