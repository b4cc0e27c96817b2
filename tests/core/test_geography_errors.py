"""Bad reference data stop everything with one clear error naming the file and the row.

Each test writes a broken copy of data/reference/ to tmp_path, as an analyst's edit (or Excel)
would leave it.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
from pathlib import Path

import pytest

from datapakke.config import REFERENCE_DIR
from datapakke.geography import ReferenceDataError, load_geography

FILES = ("municipalities.csv", "areas.csv", "area_members.csv")


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    for name in FILES:
        shutil.copy(REFERENCE_DIR / name, tmp_path / name)
    return tmp_path


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def error_of(reference: Path) -> ReferenceDataError:
    with pytest.raises(ReferenceDataError) as info:
        load_geography(reference)
    return info.value


def test_a_blank_region_name_is_refused(reference: Path) -> None:
    rewrite(
        reference / "municipalities.csv",
        "147,Frederiksberg,084,Region Hovedstaden,",
        "147,Frederiksberg,084,,",
    )
    error = error_of(reference)
    assert str(error).endswith("municipalities.csv, row 3: region_name is blank")
    assert (Path(error.file).name, error.row) == ("municipalities.csv", 3)


def test_a_municipality_in_two_regions_names_both_rows(reference: Path) -> None:
    path = reference / "municipalities.csv"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "147,Frederiksberg,085,Region Sjælland,Region Østdanmark,105000\n",
        encoding="utf-8",
    )
    error = error_of(reference)
    assert "municipalities.csv, row 100: municipality_code 147 appears twice" in str(error)
    assert "(row 3: Region Hovedstaden, row 100: Region Sjælland)" in str(error)
    assert "in exactly one region" in str(error) and error.row == 100


def test_a_region_code_with_two_names_is_refused(reference: Path) -> None:
    rewrite(
        reference / "municipalities.csv",
        "147,Frederiksberg,084,Region Hovedstaden,",
        "147,Frederiksberg,084,Region Sjælland,",
    )
    assert str(error_of(reference)).endswith(
        "municipalities.csv, row 3: region_code 084 is named 'Region Sjælland' here but "
        "'Region Hovedstaden' on row 2"
    )


def test_a_member_outside_its_areas_region_is_refused(reference: Path) -> None:
    rewrite(
        reference / "area_members.csv",
        "klynge2022,hovedstaden-byen,147,full",
        "klynge2022,hovedstaden-byen,851,full",
    )
    message = str(error_of(reference))
    assert "area_members.csv, row 3: municipality 851 Aalborg lies in Region Nordjylland" in message
    assert "but area klynge2022.hovedstaden-byen belongs to Region Hovedstaden" in message
    assert "(areas.csv, row 2)" in message


def test_an_area_with_no_members_names_its_row_in_areas_csv(reference: Path) -> None:
    path = reference / "area_members.csv"
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if ",hovedstaden-syd," not in line
    ]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    error = error_of(reference)
    assert re.search(
        r"areas\.csv, row 3: area klynge2022\.hovedstaden-syd has no members", str(error)
    )
    assert (Path(error.file).name, error.row) == ("areas.csv", 3)


def test_a_membership_for_an_unknown_code_names_the_row(reference: Path) -> None:
    path = reference / "area_members.csv"
    path.write_text(
        path.read_text(encoding="utf-8") + "klynge2022,hovedstaden-byen,998,partial\n",
        encoding="utf-8",
    )
    error = error_of(reference)
    assert str(error).endswith(
        "area_members.csv, row 199: unknown municipality_code '998' (not in municipalities.csv)"
    )
    assert error.row == 199


def test_a_shared_member_marked_full_names_the_row(reference: Path) -> None:
    rewrite(
        reference / "area_members.csv",
        "hovedstaden-syd,101,partial",
        "hovedstaden-syd,101,full",
    )
    error = error_of(reference)
    assert "municipality 101 is in 2 areas of klynge2022" in str(error)
    assert error.row is not None and "coverage=partial" in str(error)


def excel_csv_utf8(path: Path) -> None:
    """What Danish Excel's "CSV UTF-8" writes: a BOM, ';' between columns, CRLF."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows(rows)
    path.write_bytes(out.getvalue().encode("utf-8-sig"))


def test_files_saved_from_excel_with_bom_and_semicolons_read_the_same(reference: Path) -> None:
    expected = load_geography(REFERENCE_DIR)
    for name in FILES:
        excel_csv_utf8(reference / name)
    geo = load_geography(reference)
    assert geo.municipalities == expected.municipalities
    assert geo.areas == expected.areas


def test_excel_plain_csv_is_refused_with_what_to_do(reference: Path) -> None:
    path = reference / "municipalities.csv"
    text = path.read_text(encoding="utf-8").replace(",", ";")
    path.write_bytes(text.encode("cp1252"))  # Excel's plain "CSV" on a Danish machine
    message = str(error_of(reference))
    assert "municipalities.csv, row 2: is not UTF-8" in message
    assert "save it as 'CSV UTF-8'" in message


def test_excel_dropping_the_leading_zero_of_a_region_code_is_explained(reference: Path) -> None:
    rewrite(reference / "municipalities.csv", "147,Frederiksberg,084,", "147,Frederiksberg,84,")
    assert "row 3: unknown region_code '84' (Excel drops leading zeros: write '084'" in str(
        error_of(reference)
    )
