"""Municipalities, regions and the groupings of municipalities that packs are built for.

The facts live in ``data/reference/`` (analysts may correct them without touching code); this
module loads them, checks them and answers questions about them. Municipalities are keyed by
the 3-digit DST code as text (``"101"``); regions by DST code (``"081"``–``"085"``). A *grouping*
is a named set of *areas*, each a set of member municipalities: ``klynge2022``,
``sundhedsraad2027`` and ``region`` (derived from ``municipalities.csv``).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from datapakke.config import REFERENCE_DIR, REPO_ROOT, get_settings

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
    "copenhagen": "København",
    "aarhus kommune": "Aarhus",
    "vesthimmerlands": "Vesthimmerland",  # Statistics Denmark's label for 820
}
# Area codes that are aggregates in DST extracts (the whole country, regions, landsdele).
_AGGREGATE_CODE = re.compile(r"^(000|08[1-5]|108[1-5]|\d{1,2})$")
_AGGREGATE_NAME = re.compile(r"^(hele landet|region |landsdel |i alt$|danmark$)", re.IGNORECASE)


class ReferenceDataError(ValueError):
    """A reference file that breaks a rule; the message names the file and row.

    ``file`` and ``row`` (the line a person sees in an editor, the header being row 1) are kept
    for callers that point at them; ``row`` is None when the whole file is to blame. Nothing
    is built from reference data that raise this, so nothing is published.
    """

    def __init__(
        self, message: str, *, file: Path | str | None = None, row: int | None = None
    ) -> None:
        super().__init__(message)
        self.file = str(file) if file is not None else None
        self.row = row


def _error(path: Path, line: int | None, problem: str) -> ReferenceDataError:
    """The error for ``problem`` on ``line`` of ``path`` (None: the whole file)."""
    shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
    where = f"{shown}, row {line}" if line is not None else str(shown)
    return ReferenceDataError(f"{where}: {problem}", file=path, row=line)


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
    """The rows of a reference file with their line numbers; every required cell filled.

    Files saved from Excel are common here: a BOM and ``;`` as separator ("CSV UTF-8" in a
    Danish Excel) are read as such; any other encoding is refused with what to do.
    """
    if not path.exists():
        raise _error(path, None, "file is missing")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _error(
            path,
            data[: exc.start].count(b"\n") + 1,
            f"is not UTF-8 (byte 0x{data[exc.start]:02x}; saved from Excel as plain 'CSV'?): "
            "save it as 'CSV UTF-8'",
        ) from None
    header = text.partition("\n")[0]
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise _error(path, 1, f"missing column(s) {', '.join(missing)}; found {reader.fieldnames}")
    rows = []
    for raw in reader:
        row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
        blank = [c for c in required if not row[c]]
        if blank:
            raise _error(path, reader.line_num, f"{', '.join(blank)} is blank")
        rows.append((reader.line_num, row))
    return rows


def load_geography(reference_dir: Path = REFERENCE_DIR) -> Geography:
    """Load and check municipalities, areas and memberships; errors name file and row."""
    municipalities = _read_municipalities(reference_dir / "municipalities.csv")
    areas_path = reference_dir / "areas.csv"
    area_rows = _read_areas(areas_path)
    members_path = reference_dir / "area_members.csv"
    members = _read_members(members_path, area_rows, municipalities)
    areas = _grouping_areas(area_rows, members, areas_path)
    _check_coverage(areas, municipalities, members_path)
    areas.update(_region_areas(municipalities))
    titles = {grouping: _GROUPING_TITLES.get(grouping, grouping) for grouping, _ in areas}
    return Geography(municipalities=municipalities, areas=areas, grouping_titles=titles)


_MUNICIPALITY_COLUMNS = [
    "municipality_code",
    "municipality_name",
    "region_code",
    "region_name",
    "region_2027_name",
    "approx_population_2024",
]


def _read_municipalities(path: Path) -> dict[str, Municipality]:
    """The 98 municipalities by 3-digit code, each in exactly one region."""
    municipalities: dict[str, Municipality] = {}
    lines: dict[str, int] = {}
    region_names: dict[str, tuple[str, int]] = {}  # region_code -> (region_name, first row)
    for line, row in _read_csv(path, _MUNICIPALITY_COLUMNS):
        code, region_code, region_name = row["municipality_code"], *_region_of(path, line, row)
        if not re.fullmatch(r"\d{3}", code):
            raise _error(path, line, f"municipality_code {code!r} is not 3 digits")
        if code in municipalities:
            first = municipalities[code]
            regions = (
                f" (row {lines[code]}: {first.region_name}, row {line}: {region_name}); "
                "a municipality is in exactly one region"
                if first.region_name != region_name
                else ""
            )
            raise _error(path, line, f"municipality_code {code} appears twice{regions}")
        named, first_line = region_names.setdefault(region_code, (region_name, line))
        if named != region_name:
            raise _error(
                path,
                line,
                f"region_code {region_code} is named {region_name!r} here but {named!r} "
                f"on row {first_line}",
            )
        if not row["approx_population_2024"].isdigit():
            raise _error(path, line, "approx_population_2024 is not a whole number")
        lines[code] = line
        municipalities[code] = Municipality(
            code=code,
            name=row["municipality_name"],
            region_code=region_code,
            region_name=region_name,
            region_2027_name=row["region_2027_name"],
            approx_population=int(row["approx_population_2024"]),
        )
    if len(municipalities) != EXPECTED_MUNICIPALITIES:
        raise _error(
            path, None, f"{len(municipalities)} municipalities, expected {EXPECTED_MUNICIPALITIES}"
        )
    return municipalities


def _region_of(path: Path, line: int, row: dict[str, str]) -> tuple[str, str]:
    """A municipality row's region code and name; the code must be a DST region code."""
    region_code = row["region_code"]
    if region_code not in REGION_AREA_IDS:
        padded = region_code.zfill(3) if region_code.isdigit() else ""
        hint = (
            f" (Excel drops leading zeros: write {padded!r}, and keep the file as text)"
            if padded in REGION_AREA_IDS
            else ""
        )
        raise _error(path, line, f"unknown region_code {region_code!r}{hint}")
    return region_code, row["region_name"]


_AreaRows = dict[tuple[str, str], tuple[int, dict[str, str]]]


def _read_areas(path: Path) -> _AreaRows:
    """Each area's row and line by (grouping, area_id), in file order; ids are URL- and
    file-safe."""
    area_rows: _AreaRows = {}
    for line, row in _read_csv(
        path, ["grouping", "area_id", "area_name", "region_name", "valid_from", "membership_status"]
    ):
        key = (row["grouping"], row["area_id"])
        if not re.fullmatch(r"[a-z0-9-]+", row["area_id"]):
            raise _error(path, line, f"area_id {row['area_id']!r} must be lower-case a-z, 0-9, -")
        if key in area_rows:
            raise _error(path, line, f"area {key[0]}.{key[1]} twice")
        area_rows[key] = (line, row)
    return area_rows


def _read_members(
    path: Path, area_rows: _AreaRows, municipalities: dict[str, Municipality]
) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """Each area's (municipality code, coverage) pairs; every code and area must be known, and
    a member must lie in its area's region."""
    members: dict[tuple[str, str], list[tuple[str, str]]] = {key: [] for key in area_rows}
    lines: dict[tuple[str, str, str], int] = {}  # (grouping, area_id, code) -> row
    region_names = {m.region_name for m in municipalities.values()} | {
        m.region_2027_name for m in municipalities.values()
    }
    for line, row in _read_csv(path, ["grouping", "area_id", "municipality_code", "coverage"]):
        key, code = (row["grouping"], row["area_id"]), row["municipality_code"]
        if key not in area_rows:
            raise _error(path, line, f"area {key[0]}.{key[1]} is not in areas.csv")
        if code not in municipalities:
            raise _error(
                path, line, f"unknown municipality_code {code!r} (not in municipalities.csv)"
            )
        if row["coverage"] not in {"full", "partial"}:
            raise _error(path, line, "coverage must be 'full' or 'partial'")
        if any(member == code for member, _ in members[key]):
            raise _error(path, line, "municipality listed twice in the same area")
        area_line, area = area_rows[key]
        town = municipalities[code]
        if area["region_name"] in region_names and area["region_name"] not in {
            town.region_name,
            town.region_2027_name,
        }:
            raise _error(
                path,
                line,
                f"municipality {code} {town.name} lies in {town.region_name} (from 2027 "
                f"{town.region_2027_name}), but area {key[0]}.{key[1]} belongs to "
                f"{area['region_name']} (areas.csv, row {area_line})",
            )
        members[key].append((code, row["coverage"]))
        lines[(*key, code)] = line
    _check_shared(path, members, lines)
    return members


def _check_shared(
    path: Path,
    members: dict[tuple[str, str], list[tuple[str, str]]],
    lines: dict[tuple[str, str, str], int],
) -> None:
    """A municipality in several areas of one grouping must be a partial member of each."""
    areas_of: dict[tuple[str, str], list[tuple[str, str]]] = {}  # (grouping, code) -> areas
    for (grouping, area_id), pairs in members.items():
        for code, coverage in pairs:
            areas_of.setdefault((grouping, code), []).append((area_id, coverage))
    for (grouping, code), in_areas in areas_of.items():
        full = [area_id for area_id, coverage in in_areas if coverage == "full"]
        if len(in_areas) > 1 and full:
            raise _error(
                path,
                lines[(grouping, full[0], code)],
                f"municipality {code} is in {len(in_areas)} areas of {grouping} "
                f"({', '.join(a for a, _ in in_areas)}); a shared member must have "
                "coverage=partial in each of them",
            )


def _grouping_areas(
    area_rows: _AreaRows,
    members: dict[tuple[str, str], list[tuple[str, str]]],
    areas_path: Path,
) -> dict[tuple[str, str], Area]:
    """The areas of the groupings in areas.csv; an area without members is an error."""
    areas: dict[tuple[str, str], Area] = {}
    for key, (line, row) in area_rows.items():
        if not members[key]:
            raise _error(
                areas_path,
                line,
                f"area {key[0]}.{key[1]} has no members: area_members.csv lists no "
                "municipality for it",
            )
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
    """Every municipality belongs to at least one area of every grouping."""
    for grouping in {g for g, _ in areas}:
        covered = {code for (g, _), a in areas.items() if g == grouping for code in a.members}
        missing = sorted(set(municipalities) - covered)
        if missing:
            names = ", ".join(f"{c} {municipalities[c].name}" for c in missing)
            raise _error(path, None, f"grouping {grouping} leaves out {names}")


@cache
def default_geography() -> Geography:
    """The project's reference geography, from ``DATAPAKKE_REFERENCE_DIR`` if set, else
    ``data/reference/`` (cached: it never changes during a run)."""
    return load_geography(get_settings().reference_dir)
