"""What a file covers besides the municipal rows: aggregates, special areas, and gaps in ages.

StatBank extracts hold more than the 98 municipalities: the country and the regions (kept aside
and cross-checked against the sum of their municipalities, so a file whose parts and totals
disagree is reported), and special areas (Christiansø, abroad, unknown municipality) that
belong to no municipality (counted and reported, never merged into one). A download may also
lack some single ages (the user's selection): a band summed from fewer ages than it spans is an
undercount, so it is reported and treated as missing (``raw.missing`` with the band), never used.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from datapakke.geography import Geography

#: The value of a parsed municipality for a special area (see :func:`special_area_name`).
SPECIAL_AREA = "special"
#: Areas in DST extracts that are neither a municipality nor an aggregate of municipalities.
_SPECIAL_NAMES = {
    "christiansø": "Christiansø",
    "411": "Christiansø",
    "411 christiansø": "Christiansø",
    "uden for danmark": "Uden for Danmark",
    "outside denmark": "Uden for Danmark",
    "abroad": "Uden for Danmark",
    "udlandet": "Uden for Danmark",
    "uoplyst kommune": "Uoplyst kommune",
    "uoplyst": "Uoplyst kommune",
    "unknown municipality": "Uoplyst kommune",
}
# Special areas DST counts in a region's total: Christiansø is administered from Region Hovedstaden.
SPECIAL_AREA_REGION = {"Christiansø": "084"}
_COUNTRY_TEXTS = {"000", "hele landet", "danmark", "denmark", "all denmark", "i alt"}
# A sum off by less than this is rounding in a published figure, not a disagreement.
_TOLERANCE = 0.5


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def special_area_name(text: str) -> str | None:
    """The special area a municipality cell names (Christiansø, abroad, unknown), or None."""
    return _SPECIAL_NAMES.get(_norm(text))


def area_resolver(geography: Geography):
    """Municipality text → code, ``None`` for an aggregate, :data:`SPECIAL_AREA` for a special
    area; anything else unknown raises KeyError (quarantined by the caller)."""

    def resolve(text: str) -> str | None:
        if special_area_name(text) is not None:
            return SPECIAL_AREA
        return geography.resolve_municipality(text)

    return resolve


def aggregate_resolver(geography: Geography) -> Callable[[str], str | None]:
    """Aggregate text → 'country', a region code ('081'-'085'), or None for an aggregate this
    check cannot place (the regions' names and codes are gathered once, not per row)."""
    regions = {_norm(m.region_name): m.region_code for m in geography.municipalities.values()}
    codes = {m.region_code for m in geography.municipalities.values()}

    def identity(text: str) -> str | None:
        norm = _norm(text)
        if norm in _COUNTRY_TEXTS:
            return "country"
        head = norm.split(" ", 1)[0]
        if head in codes:
            return head
        return regions.get(norm)

    return identity


def cross_check_aggregates(
    cells: pd.DataFrame, aggregates: pd.DataFrame, geography: Geography
) -> tuple[list[str], list[str]]:
    """Compare each aggregate with the sum of its municipalities and the special areas it counts
    (all of them for the country, Christiansø for Region Hovedstaden). Both frames: ``area``
    (code, a special area's name, or 'country'/region code for aggregates), ``key`` (measure,
    period, sex and age as written) and ``value``. Returns (findings, warnings): a
    disagreement is a warning."""
    if aggregates.empty:
        return [], []
    members: dict[str, set[str]] = {"country": set(geography.municipalities)}
    for m in geography.municipalities.values():
        members.setdefault(m.region_code, set()).add(m.code)
    municipal = cells[cells["area"].isin(members["country"])]
    covered = set(municipal["area"])
    findings, checked, mismatches = [], 0, []
    for identity, group in aggregates.groupby("area"):
        expected_members = members.get(str(identity))
        if expected_members is None:
            continue
        if not expected_members <= covered:
            findings.append(
                f"{_label(identity)} not cross-checked: the file has "
                f"{len(covered & expected_members)} of its {len(expected_members)} municipalities"
            )
            continue
        parts = cells[cells["area"].isin(expected_members) | _is_special(cells, identity)]
        sums = parts.groupby("key")["value"].agg(["sum", "count", "size"])
        compared = group.set_index("key")["value"].to_frame("total").join(sums, how="inner")
        complete = compared[(compared["count"] == compared["size"]) & compared["total"].notna()]
        checked += len(complete)
        off = complete[(complete["total"] - complete["sum"]).abs() > _TOLERANCE]
        mismatches += [
            f"{_label(identity)} {key}: {total:,.0f} in the file, {summed:,.0f} summed"
            for key, total, summed in zip(
                off.index[:3], off["total"][:3], off["sum"][:3], strict=True
            )
        ]
    if mismatches:
        return findings, [
            "aggregates disagree with the sum of their municipalities (the municipal rows are "
            "used; check the download): " + "; ".join(mismatches[:3])
        ]
    if checked:
        findings.append(f"aggregates agree with the sum of their municipalities ({checked} cells)")
    return findings, []


def _is_special(cells: pd.DataFrame, identity: object) -> pd.Series:
    """The special areas an aggregate counts: every one for the country, Christiansø for its
    region (DST's regional totals include it), none for the other regions."""
    special = cells["area"].isin(set(_SPECIAL_NAMES.values()))
    if identity == "country":
        return special
    counted = {name for name, region in SPECIAL_AREA_REGION.items() if region == identity}
    return special & cells["area"].isin(counted)


def _label(identity: object) -> str:
    return "Hele landet" if identity == "country" else f"region {identity}"


def special_area_findings(names: pd.Series) -> list[str]:
    """One finding naming the special areas the file holds and how many rows each has."""
    counts = names.map(special_area_name).value_counts()
    if counts.empty:
        return []
    listed = ", ".join(f"{name} ({n} rows)" for name, n in counts.sort_index().items())
    return [f"special areas counted but not loaded (no municipality): {listed}"]


def single_age_gaps(ages: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Bands summed from fewer single ages than they span, as missing figures and a finding.

    ``ages``: the municipal rows written with single-year ages: ``measure_id``,
    ``municipality_code``, ``period``, ``sex``, ``age`` (int) and ``age_band``. A band expects
    every age from its start to its end (the open 90+ band: up to the oldest age in the file).
    """
    columns = ["measure_id", "municipality_code", "period", "age_band"]
    if ages.empty:
        return pd.DataFrame(columns=columns), []
    oldest = int(ages["age"].max())
    absent_ages = sorted(set(range(oldest + 1)) - set(ages["age"]))
    keys = [*columns[:3], "sex", "age_band"]
    present = ages.groupby(keys)["age"].nunique().rename("present").reset_index()
    spans = _band_spans(ages, oldest)
    present["expected"] = present["age_band"].map(spans)
    short = present[present["present"] < present["expected"]]
    gaps = short[columns].drop_duplicates().reset_index(drop=True)
    if gaps.empty:
        return gaps, []
    described = ", ".join(str(a) for a in absent_ages[:10]) or "some ages in some groups"
    return gaps, [
        f"single ages missing ({described}): {len(gaps)} municipality × period × age-band figures "
        f"({', '.join(sorted(gaps['age_band'].unique()))}) are incomplete and not used; "
        "download every age (ALDER = *) to use them"
    ]


def _band_spans(ages: pd.DataFrame, oldest: int) -> dict[str, int]:
    """How many single ages each band spans, up to the oldest age in the file."""
    bands = ages.drop_duplicates("age").set_index("age")["age_band"]
    spans: dict[str, int] = {}
    for band in bands.unique():
        start = int(str(band).split("-")[0].rstrip("+"))
        end = oldest if str(band).endswith("+") else int(str(band).split("-")[1])
        spans[str(band)] = min(end, oldest) - start + 1
    return spans
