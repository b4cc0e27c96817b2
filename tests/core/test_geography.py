"""The reference geography: the rules analysts' edits must keep, and clear errors when they don't."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from datapakke.config import REFERENCE_DIR
from datapakke.geography import ReferenceDataError, default_geography, load_geography


@pytest.fixture
def reference_copy(tmp_path: Path) -> Path:
    for name in ("municipalities.csv", "areas.csv", "area_members.csv"):
        shutil.copy(REFERENCE_DIR / name, tmp_path / name)
    return tmp_path


def test_98_municipalities_with_three_digit_text_codes() -> None:
    geo = default_geography()
    assert len(geo.municipalities) == 98
    assert all(len(code) == 3 and code.isdigit() for code in geo.municipalities)
    assert "411" not in geo.municipalities  # Christiansø is not a municipality


def test_groupings_and_area_counts() -> None:
    geo = default_geography()
    assert geo.groupings == ["klynge2022", "sundhedsraad2027", "region"]
    assert len(geo.areas_of_grouping("klynge2022")) == 22
    assert len(geo.areas_of_grouping("sundhedsraad2027")) == 17
    assert {a.area_id for a in geo.areas_of_grouping("region")} == {
        "nordjylland",
        "midtjylland",
        "syddanmark",
        "hovedstaden",
        "sjaelland",
    }


def test_every_municipality_in_an_area_of_every_grouping() -> None:
    geo = default_geography()
    for grouping in geo.groupings:
        covered = {code for a in geo.areas_of_grouping(grouping) for code in a.members}
        assert covered == set(geo.municipalities), grouping


def test_copenhagen_is_a_partial_member_of_two_clusters() -> None:
    geo = default_geography()
    clusters = [a for a in geo.areas_of_municipality("101") if a.grouping == "klynge2022"]
    assert {a.area_id for a in clusters} == {"hovedstaden-byen", "hovedstaden-syd"}
    assert all("101" in a.partial_members for a in clusters)


def test_regions_are_derived_from_municipalities() -> None:
    geo = default_geography()
    nord = geo.area("region", "nordjylland")
    assert len(nord.members) == 11
    assert all(geo.municipalities[c].region_code == "081" for c in nord.members)


def test_partition_keys_are_grouping_dot_area() -> None:
    geo = default_geography()
    assert "klynge2022.nordjylland-midt" in geo.partition_keys
    assert len(geo.partition_keys) == 22 + 17 + 5
    assert geo.area_by_partition_key("region.sjaelland").name == "Region Sjælland"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("101", "101"),
        ("0101", "101"),
        ("0101 København", "101"),
        ("Århus", "751"),
        ("Aarhus", "751"),
        ("Høje Taastrup", "169"),
        ("Bornholms Regionskommune", "400"),
        (" Næstved\xa0", "370"),
        ("000", None),
        ("084", None),
        ("1081", None),
        ("Hele landet", None),
        ("Region Midtjylland", None),
    ],
)
def test_resolve_municipality(text: str, code: str | None) -> None:
    assert default_geography().resolve_municipality(text) == code


@pytest.mark.parametrize("text", ["999", "0999 Atlantis", "Atlantis", ""])
def test_unknown_municipality_is_an_error_not_a_guess(text: str) -> None:
    with pytest.raises(KeyError):
        default_geography().resolve_municipality(text)


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_broken_municipality_code_names_file_and_row(reference_copy: Path) -> None:
    _rewrite(reference_copy / "municipalities.csv", "147,Frederiksberg", "14,Frederiksberg")
    with pytest.raises(ReferenceDataError, match=r"municipalities.csv, row 3: .*not 3 digits"):
        load_geography(reference_copy)


def test_unknown_member_code_names_file_and_row(reference_copy: Path) -> None:
    _rewrite(
        reference_copy / "area_members.csv",
        "hovedstaden-byen,147,full",
        "hovedstaden-byen,999,full",
    )
    with pytest.raises(
        ReferenceDataError, match=r"area_members.csv, row 3: unknown municipality_code"
    ):
        load_geography(reference_copy)


def test_municipality_left_out_of_a_grouping_is_named(reference_copy: Path) -> None:
    path = reference_copy / "area_members.csv"
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if ",147," not in line]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(ReferenceDataError, match="leaves out 147 Frederiksberg"):
        load_geography(reference_copy)


def test_shared_member_must_be_marked_partial(reference_copy: Path) -> None:
    _rewrite(
        reference_copy / "area_members.csv",
        "hovedstaden-syd,101,partial",
        "hovedstaden-syd,101,full",
    )
    with pytest.raises(ReferenceDataError, match="coverage=partial"):
        load_geography(reference_copy)


def test_missing_column_is_named(reference_copy: Path) -> None:
    _rewrite(reference_copy / "areas.csv", "area_name", "navn")
    with pytest.raises(ReferenceDataError, match=r"missing column.*area_name"):
        load_geography(reference_copy)


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        (
            "municipalities.csv",
            "084,Region Hovedstaden,Region Østdanmark,105000",
            "089,Region Hovedstaden,Region Østdanmark,105000",
            "municipalities.csv, row 3: unknown region_code '089'",
        ),
        (
            "municipalities.csv",
            "Region Østdanmark,105000",
            "Region Østdanmark,ca. 105000",
            "municipalities.csv, row 3: approx_population_2024 is not a whole number",
        ),
        (
            "municipalities.csv",
            "147,Frederiksberg",
            "101,Frederiksberg",
            "municipalities.csv, row 3: municipality_code 101 appears twice",
        ),
        (
            "areas.csv",
            "klynge2022,hovedstaden-byen,",
            "klynge2022,Hovedstaden Byen,",
            "areas.csv, row 2: area_id 'Hovedstaden Byen' must be lower-case a-z, 0-9, -",
        ),
        (
            "area_members.csv",
            "klynge2022,hovedstaden-byen,147,full",
            "klynge2022,hovedstaden-x,147,full",
            "area_members.csv, row 3: area klynge2022.hovedstaden-x is not in areas.csv",
        ),
        (
            "area_members.csv",
            "klynge2022,hovedstaden-byen,147,full",
            "klynge2022,hovedstaden-byen,147,half",
            "area_members.csv, row 3: coverage must be 'full' or 'partial'",
        ),
        (
            "area_members.csv",
            "klynge2022,hovedstaden-byen,147,full",
            "klynge2022,hovedstaden-byen,101,full",
            "area_members.csv, row 3: municipality listed twice in the same area",
        ),
    ],
)
def test_each_reference_rule_names_file_and_row(
    reference_copy: Path, name: str, old: str, new: str, message: str
) -> None:
    _rewrite(reference_copy / name, old, new)
    with pytest.raises(ReferenceDataError, match=re.escape(message)):
        load_geography(reference_copy)


def test_an_area_without_members_is_named(reference_copy: Path) -> None:
    path = reference_copy / "area_members.csv"
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if ",hovedstaden-byen," not in line
    ]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(
        ReferenceDataError, match=r"area klynge2022\.hovedstaden-byen has no members"
    ):
        load_geography(reference_copy)
