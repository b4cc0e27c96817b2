"""What every sheet writer shares, worked out once per pack: the indicators in reading order,
their sheet names, the areas shown (in display order) and each indicator's rows."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from datapakke.mart.population import is_population
from datapakke.presentation import THEME_ORDER
from datapakke.publish.pack_data import AreaPackData
from datapakke.publish.workbook.texts import (
    ABOUT,
    CHANGES,
    CONTENTS,
    DATA,
    DATA_STATUS,
    FRONT,
    KEY_POINTS,
    OVERVIEW,
    PEERS,
)

# Levels in display order: the area, its municipalities, the region(s), Denmark.
ROLE_ORDER = ("area", "member", "region", "country")


@dataclass
class Context:
    pack: AreaPackData
    catalogue: pd.DataFrame  # in reading order
    sheet_names: dict[str, str]
    units: list[tuple[str, str, str]]  # (role, area_code, name) in display order
    latest: dict[str, str]  # indicator id → its latest period
    rows: dict[str, list[Any]]  # indicator id → its value rows (named tuples)

    @classmethod
    def of(cls, pack: AreaPackData) -> Context:
        rows: dict[str, list[Any]] = defaultdict(list)
        for r in pack.values.itertuples(index=False):
            rows[r.indicator_id].append(r)
        return cls(
            pack=pack,
            catalogue=ordered(pack.catalogue),
            sheet_names=indicator_sheet_names(pack.catalogue),
            units=_display_units(pack),
            latest={ind: max(str(r.period) for r in group) for ind, group in rows.items()},
            rows=rows,
        )

    def unit_label(self, role: str, code: str, name: str) -> str:
        """A unit's name as shown; a municipality shared with another area says so."""
        if role == "member" and any(m.code == code and m.is_partial for m in self.pack.members):
            return f"{name} (delvis)"
        return name


def withholds_denominator(ind: Any) -> bool:
    """Whether disclosure control can withhold this indicator's denominator: a protected count
    (the population is public, and a count has no denominator at all)."""
    measure = ind.denominator_measure
    has_measure = isinstance(measure, str) and measure != "" and not is_population(measure)
    return str(ind.disclosure) == "count" and has_measure


def ordered(catalogue: pd.DataFrame) -> pd.DataFrame:
    """Indicators in reading order: by theme (THEME_ORDER), then catalogue order."""
    rank = {theme: i for i, theme in enumerate(THEME_ORDER)}
    frame = catalogue.assign(_rank=catalogue["theme"].map(rank).fillna(len(rank)))
    return frame.sort_values(["_rank", "order"], kind="stable").drop(columns="_rank")


def _display_units(pack: AreaPackData) -> list[tuple[str, str, str]]:
    """Area, members (in the pack's order), region(s), Denmark: each once, in that order."""
    seen = pack.values[["role", "area_code", "area_name"]].drop_duplicates()
    member_rank = {m.code: i for i, m in enumerate(pack.members)}
    units: list[tuple[str, str, str]] = []
    for role in ROLE_ORDER:
        found = [
            (str(r.area_code), str(r.area_name)) for r in seen[seen["role"] == role].itertuples()
        ]
        if role == "member":
            found.sort(key=lambda unit: member_rank.get(unit[0], len(member_rank)))
        for code, name in found:
            if role == "region" and name == pack.area_name:
                continue  # a region's own pack: the area is the region
            units.append((role, code, name))
    return units


# --------------------------------------------------------------------------- sheet names

_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def indicator_sheet_names(catalogue: pd.DataFrame) -> dict[str, str]:
    """Sheet name per indicator id: short Danish, ≤ 31 characters, valid and unique."""
    taken = {
        name.casefold()
        for name in (
            FRONT,
            KEY_POINTS,
            CHANGES,
            CONTENTS,
            OVERVIEW,
            PEERS,
            DATA_STATUS,
            ABOUT,
            DATA,
        )
    }
    names: dict[str, str] = {}
    for ind in ordered(catalogue).itertuples():
        name = base = _short_sheet_name(str(ind.title_da), str(ind.indicator_id))
        k = 2
        while name.casefold() in taken:
            name = f"{base[: 28 - len(str(k))].rstrip()} ({k})"
            k += 1
        taken.add(name.casefold())
        names[ind.indicator_id] = name
    return names


def _short_sheet_name(title: str, indicator_id: str) -> str:
    """A readable sheet name from a Danish title, abbreviated only as far as needed to fit 31."""
    age = re.search(r"(\d+)plus", indicator_id)
    steps: list[list[tuple[str, Any]]] = [  # one step at a time until the name fits
        [
            (r"\(aldersstandardiseret\)", "(aldersstd.)"),
            (r"^Borgere (?:med|i) (\w)", lambda m: m.group(1).upper()),
        ],
        [(r"\bpå (\d+) år og derover\b", r"\1+")],
        [(r"\bover fem år\b", "over 5 år")],
        [(r"\binden for (\d+) dage\b", r"\1 d."), (r"indlæggelser\b", "indl.")],
        [(r" blandt ældre\b", f" {age.group(1)}+" if age else " ældre")],
        [(r" blandt borgere med (\w+)", r" blandt \1-patienter")],
        [(r" pr\. borger$", "")],
    ]
    name = " ".join(_INVALID_SHEET_CHARS.sub("-", title).split())
    for step in steps:
        if len(name) <= 31:
            break
        for pattern, replacement in step:
            name = re.sub(pattern, replacement, name)
    if len(name) > 31:  # still too long: cut at a word boundary
        cut = name[:31]
        name = cut.rsplit(" ", 1)[0] if " " in cut[12:] else cut
    return name.strip(" '") or indicator_id[:31]
