"""Municipalities, regions and the groupings of municipalities that packs are built for.

The facts live in ``data/reference/`` (analysts may correct them without touching code); this
module loads them, checks them and answers questions about them. Municipalities are keyed by
the 3-digit DST code as text (``"101"``); regions by DST code (``"081"``–``"085"``). A *grouping*
is a named set of *areas*, each a set of member municipalities: ``klynge2022``,
``sundhedsraad2027`` and ``region`` (derived from ``municipalities.csv``).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from datapakke.config import REFERENCE_DIR

REGION_AREA_IDS = {
    "081": "nordjylland",
    "082": "midtjylland",
    "083": "syddanmark",
    "084": "hovedstaden",
    "085": "sjaelland",
}
REGION_GROUPING = "region"
NATIONAL_CODE = "DK"
NATIONAL_NAME = "Hele landet"
EXPECTED_MUNICIPALITIES = 98

# Spellings seen in other sources, mapped to the name used in municipalities.csv.
NAME_ALIASES = {
    "århus": "Aarhus",
    "høje taastrup": "Høje-Taastrup",
    "bornholms regionskommune": "Bornholm",
    "bornholms": "Bornholm",
    "nordfyn": "Nordfyns",
    "nordfyns kommune": "Nordfyns",
    "københavns": "København",
    "københavns kommune": "København",
}
# Area codes that are aggregates in DST extracts (the whole country, regions, landsdele).
_AGGREGATE_CODE = re.compile(r"^(000|08[1-5]|108[1-5]|\d{1,2})$")
_AGGREGATE_NAME = re.compile(r"^(hele landet|region |landsdel |i alt$|danmark$)", re.IGNORECASE)


class ReferenceDataError(ValueError):
    """A reference file that breaks a rule; the message names the file and row."""


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    region_code: str
    region_name: str
    region_2027_name: str
    approx_population: int

    @property
    def region_area_id(self) -> str:
        return REGION_AREA_IDS[self.region_code]


@dataclass(frozen=True)
class Area:
    grouping: str
    area_id: str
    name: str
    region_name: str
    valid_from: str
    valid_to: str
    membership_status: str
    source: str
    members: tuple[str, ...]
    partial_members: tuple[str, ...]

    @property
    def partition_key(self) -> str:
        """The Dagster partition key ``<grouping>.<area_id>``."""
        return f"{self.grouping}.{self.area_id}"


@dataclass(frozen=True, eq=False)
class Geography:
    """All municipalities and every grouping's areas, validated."""

    municipalities: dict[str, Municipality]
    areas: dict[tuple[str, str], Area]
    grouping_titles: dict[str, str]

    @property
    def groupings(self) -> list[str]:
        return list(self.grouping_titles)

    def areas_of_grouping(self, grouping: str) -> list[Area]:
        if grouping not in self.grouping_titles:
            raise KeyError(f"unknown grouping {grouping!r}; known: {', '.join(self.groupings)}")
        return [a for (g, _), a in self.areas.items() if g == grouping]

    def area(self, grouping: str, area_id: str) -> Area:
        try:
            return self.areas[(grouping, area_id)]
        except KeyError:
            raise KeyError(f"unknown area {grouping}.{area_id}") from None

    def area_by_partition_key(self, key: str) -> Area:
        grouping, _, area_id = key.partition(".")
        return self.area(grouping, area_id)

    def members(self, grouping: str, area_id: str) -> tuple[str, ...]:
        return self.area(grouping, area_id).members

    def areas_of_municipality(self, code: str) -> list[Area]:
        return [a for a in self.areas.values() if code in a.members]

    @property
    def partition_keys(self) -> list[str]:
        return [a.partition_key for a in self.areas.values()]

    def resolve_municipality(self, text: str) -> str | None:
        """The 3-digit code for a municipality written as code, padded code, 'code name' or name.

        Returns None for aggregates (the country, regions) so callers can skip and count them;
        raises KeyError for anything unknown, so bad codes are quarantined, never guessed.
        """
        return _resolver(self)(text)


def _norm_name(name: str) -> str:
    return unicodedata.normalize("NFC", " ".join(name.replace("\xa0", " ").split())).casefold()


@cache
def _name_index(geo: Geography) -> dict[str, str]:
    """Normalised name → code: the names, their known aliases, and each with ' kommune'."""
    by_name = {_norm_name(m.name): m.code for m in geo.municipalities.values()}
    index = dict(by_name)
    for alias, name in NAME_ALIASES.items():
        if _norm_name(name) in by_name:
            index[_norm_name(alias)] = by_name[_norm_name(name)]
    for key, code in list(index.items()):
        index.setdefault(f"{key} kommune", code)
    return index


def _resolver(geo: Geography):
    names = _name_index(geo)

    def resolve(text: str) -> str | None:
        raw = " ".join(str(text).replace("\xa0", " ").split())
        if not raw:
            raise KeyError("empty municipality")
        head = raw.partition(" ")[0]
        if head.isdigit():
            if _AGGREGATE_CODE.match(head):
                return None
            code = head[-3:] if len(head) == 4 and head.startswith("0") else head
            if code in geo.municipalities:
                return code
            raise KeyError(f"unknown municipality code {head!r}")
        if _AGGREGATE_NAME.match(raw):
            return None
        code = names.get(_norm_name(raw))
        if code is None:
            raise KeyError(f"unknown municipality name {raw!r}")
        return code

    return resolve


def _read_csv(path: Path, required: list[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.exists():
        raise ReferenceDataError(f"{path}: file is missing")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceDataError(
                f"{path}: missing column(s) {', '.join(missing)}; found {reader.fieldnames}"
            )
        return [
            (line, {k: (v or "").strip() for k, v in row.items() if k is not None})
            for line, row in enumerate(reader, start=2)
        ]


def load_geography(reference_dir: Path = REFERENCE_DIR) -> Geography:
    """Load and check municipalities, areas and memberships; errors name file and row."""
    municipalities = _read_municipalities(reference_dir / "municipalities.csv")
    area_rows = _read_areas(reference_dir / "areas.csv")
    members_path = reference_dir / "area_members.csv"
    members = _read_members(members_path, area_rows, municipalities)
    areas = _grouping_areas(area_rows, members, members_path)
    _check_coverage(areas, municipalities, members_path)
    areas.update(_region_areas(municipalities))
    titles = {grouping: _GROUPING_TITLES.get(grouping, grouping) for grouping, _ in areas}
    return Geography(municipalities=municipalities, areas=areas, grouping_titles=titles)


def _read_municipalities(path: Path) -> dict[str, Municipality]:
    """The 98 municipalities by 3-digit code, each with its region and approximate population."""
    municipalities: dict[str, Municipality] = {}
    for line, row in _read_csv(
        path,
        [
            "municipality_code",
            "municipality_name",
            "region_code",
            "region_name",
            "region_2027_name",
            "approx_population_2024",
        ],
    ):
        code = row["municipality_code"]
        where = f"{path}, row {line}"
        if not re.fullmatch(r"\d{3}", code):
            raise ReferenceDataError(f"{where}: municipality_code {code!r} is not 3 digits")
        if code in municipalities:
            raise ReferenceDataError(f"{where}: municipality_code {code} appears twice")
        if row["region_code"] not in REGION_AREA_IDS:
            raise ReferenceDataError(f"{where}: unknown region_code {row['region_code']!r}")
        if not row["approx_population_2024"].isdigit():
            raise ReferenceDataError(f"{where}: approx_population_2024 is not a whole number")
        municipalities[code] = Municipality(
            code=code,
            name=row["municipality_name"],
            region_code=row["region_code"],
            region_name=row["region_name"],
            region_2027_name=row["region_2027_name"],
            approx_population=int(row["approx_population_2024"]),
        )
    if len(municipalities) != EXPECTED_MUNICIPALITIES:
        raise ReferenceDataError(
            f"{path}: {len(municipalities)} municipalities, expected {EXPECTED_MUNICIPALITIES}"
        )
    return municipalities


def _read_areas(path: Path) -> dict[tuple[str, str], dict[str, str]]:
    """Each area's row by (grouping, area_id), in file order; ids are URL- and file-safe."""
    area_rows: dict[tuple[str, str], dict[str, str]] = {}
    for line, row in _read_csv(
        path, ["grouping", "area_id", "area_name", "region_name", "valid_from", "membership_status"]
    ):
        key = (row["grouping"], row["area_id"])
        if not re.fullmatch(r"[a-z0-9-]+", row["area_id"]):
            raise ReferenceDataError(
                f"{path}, row {line}: area_id {row['area_id']!r} must be lower-case a-z, 0-9, -"
            )
        if key in area_rows:
            raise ReferenceDataError(f"{path}, row {line}: area {key[0]}.{key[1]} twice")
        area_rows[key] = row
    return area_rows


def _read_members(
    path: Path,
    area_rows: dict[tuple[str, str], dict[str, str]],
    municipalities: dict[str, Municipality],
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Each area's (municipality code, coverage) pairs; every code and area must be known."""
    members: dict[tuple[str, str], list[tuple[str, str]]] = {key: [] for key in area_rows}
    for line, row in _read_csv(path, ["grouping", "area_id", "municipality_code", "coverage"]):
        key = (row["grouping"], row["area_id"])
        where = f"{path}, row {line}"
        if key not in area_rows:
            raise ReferenceDataError(f"{where}: area {key[0]}.{key[1]} is not in areas.csv")
        if row["municipality_code"] not in municipalities:
            raise ReferenceDataError(
                f"{where}: unknown municipality_code {row['municipality_code']!r}"
            )
        if row["coverage"] not in {"full", "partial"}:
            raise ReferenceDataError(f"{where}: coverage must be 'full' or 'partial'")
        if any(code == row["municipality_code"] for code, _ in members[key]):
            raise ReferenceDataError(f"{where}: municipality listed twice in the same area")
        members[key].append((row["municipality_code"], row["coverage"]))
    return members


def _grouping_areas(
    area_rows: dict[tuple[str, str], dict[str, str]],
    members: dict[tuple[str, str], list[tuple[str, str]]],
    members_path: Path,
) -> dict[tuple[str, str], Area]:
    """The areas of the groupings in areas.csv; an area without members is an error."""
    areas: dict[tuple[str, str], Area] = {}
    for key, row in area_rows.items():
        if not members[key]:
            raise ReferenceDataError(f"{members_path}: area {key[0]}.{key[1]} has no members")
        areas[key] = Area(
            grouping=key[0],
            area_id=key[1],
            name=row["area_name"],
            region_name=row["region_name"],
            valid_from=row["valid_from"],
            valid_to=row.get("valid_to", ""),
            membership_status=row["membership_status"],
            source=row.get("source", ""),
            members=tuple(sorted(code for code, _ in members[key])),
            partial_members=tuple(sorted(c for c, cov in members[key] if cov == "partial")),
        )
    return areas


def _region_areas(municipalities: dict[str, Municipality]) -> dict[tuple[str, str], Area]:
    """The ``region`` grouping, derived from the municipalities' DST region codes."""
    areas: dict[tuple[str, str], Area] = {}
    for region_code, area_id in REGION_AREA_IDS.items():
        in_region = [m for m in municipalities.values() if m.region_code == region_code]
        areas[(REGION_GROUPING, area_id)] = Area(
            grouping=REGION_GROUPING,
            area_id=area_id,
            name=in_region[0].region_name,
            region_name=in_region[0].region_name,
            valid_from="2007-01-01",
            valid_to="2026-12-31",
            membership_status="confirmed",
            source="municipalities.csv (DST region codes)",
            members=tuple(sorted(m.code for m in in_region)),
            partial_members=(),
        )
    return areas


_GROUPING_TITLES = {
    "klynge2022": "Sundhedsklynger (2022–2026)",
    "sundhedsraad2027": "Sundhedsråd (fra 2027)",
    "region": "Regioner",
}


def _check_coverage(
    areas: dict[tuple[str, str], Area], municipalities: dict[str, Municipality], path: Path
) -> None:
    """Every municipality belongs to at least one area of every grouping; shared ones are partial."""
    for grouping in {g for g, _ in areas}:
        in_grouping = [a for (g, _), a in areas.items() if g == grouping]
        seen: dict[str, list[str]] = {}
        for area in in_grouping:
            for code in area.members:
                seen.setdefault(code, []).append(area.area_id)
        missing = sorted(set(municipalities) - set(seen))
        if missing:
            names = ", ".join(f"{c} {municipalities[c].name}" for c in missing)
            raise ReferenceDataError(f"{path}: grouping {grouping} leaves out {names}")
        for code, area_ids in seen.items():
            if len(area_ids) > 1:
                full = [
                    a for a in in_grouping if code in a.members and code not in a.partial_members
                ]
                if full:
                    raise ReferenceDataError(
                        f"{path}: municipality {code} is in {len(area_ids)} areas of {grouping} "
                        f"({', '.join(area_ids)}); a shared member must have coverage=partial "
                        "in each of them"
                    )


@cache
def default_geography() -> Geography:
    """The project's reference geography (cached: it never changes during a run)."""
    return load_geography(REFERENCE_DIR)
