"""Broad age bands and the disclosure problem of a count published by band (issue 14, item 5).

Why broad bands: five-year bands of one municipality are mostly counts that disclosure control
would hide; 0–24, 25–64, 65–79 and 80+ are the bands Danish planning talks in (65–79 and 80+
for the elderly indicators). A band is a new *margin*: a hidden band could be recovered as the
total minus the other bands, or as the area's band minus the other members' bands. So a count
series that is published by band is protected as one problem over its totals and its bands
(``band_problem``), and the audit rebuilds that same problem from what was published.

Kept apart from the engine so the disclosure code and the engine can both use it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from datapakke.mart.catalogue import Indicator, MeasureRef
from datapakke.mart.disclosure import DisclosureProblem
from datapakke.schemas import UNIT_KEY
from datapakke.standard_population import AGE_BANDS

# band → (first age, first age of the next band; None = no upper limit)
BROAD_BANDS: dict[str, tuple[int, int | None]] = {
    "0-24": (0, 25),
    "25-64": (25, 65),
    "65-79": (65, 80),
    "80+": (80, None),
}


def _start(band: str) -> int:
    return int(band.split("-")[0].rstrip("+"))


# Each five-year band of the sources (ESP 2013) in the broad band it belongs to.
FIVE_YEAR_TO_BROAD: dict[str, str] = {
    five: max((b for b, (low, _) in BROAD_BANDS.items() if low <= _start(five)), key=_start)
    for five in AGE_BANDS
}


def broad_bands(min_age: int | None) -> list[str] | None:
    """The broad bands a count from ``min_age`` is split into; None when ``min_age`` is not the
    start of a broad band (the bands would not add up to the total)."""
    start = min_age or 0
    if start not in {low for low, _ in BROAD_BANDS.values()}:
        return None
    return [band for band, (low, _) in BROAD_BANDS.items() if low >= start]


def unit_id(level: str, grouping: str, code: str, sex: str, band: str = "total") -> str:
    """The id of one published count in a disclosure problem (a total has no band suffix)."""
    base = f"{level}:{grouping}:{code}|{sex}"
    return base if band == "total" else f"{base}|{band}"


def unit_ids(frame: pd.DataFrame) -> pd.Series:
    """``unit_id`` of every row (``age_band`` 'total' when the frame has no such column)."""
    ids = frame["area_level"] + ":" + frame["grouping"] + ":" + frame["area_code"] + "|"
    ids = ids + frame["sex"]
    if "age_band" not in frame:
        return ids
    band = frame["age_band"].astype(str)
    return ids.where(band == "total", ids + "|" + band)


def band_problem(
    units: pd.DataFrame, sexes: set[str], bands: list[str], values: dict[str, float]
) -> DisclosureProblem:
    """One count series × period published as totals (every unit × sex in ``sexes``) and as
    bands (every unit, sexes together): its base cells and the aggregates over them.

    Base cells are municipality × finest sex × band. With men and women published they are
    never published themselves (unknown to a reader: NaN); with only the total they are the
    municipalities' band counts. ``values`` holds what is known of each id: the true counts
    when protecting, the published ones (NaN where hidden) when auditing; an aggregate's value
    is given as its total, since its members may be unknown.
    """
    base_sexes = ["M", "K"] if {"M", "K"} <= sexes else ["T"]
    published_base = base_sexes == ["T"]
    cells: dict[str, float] = {}
    for code in sorted(units["municipality_code"].unique()):
        for sex in base_sexes:
            for band in bands:
                cell = unit_id("municipality", "", code, sex, band)
                cells[cell] = float(values.get(cell, 0.0)) if published_base else math.nan
    aggregates: dict[str, tuple[str, ...]] = {}
    for (level, grouping, code), members in units.groupby(UNIT_KEY)["municipality_code"]:
        members = sorted(members)
        for sex in sorted(sexes):
            parts = base_sexes if sex == "T" else [sex]
            aggregates[unit_id(level, grouping, code, sex)] = tuple(
                unit_id("municipality", "", m, s, b) for m in members for s in parts for b in bands
            )
        for band in bands:
            agg = unit_id(level, grouping, code, "T", band)
            if agg not in cells:
                aggregates[agg] = tuple(
                    unit_id("municipality", "", m, s, band) for m in members for s in base_sexes
                )
    totals = {agg: float(values.get(agg, math.nan)) for agg in aggregates}
    return DisclosureProblem(cells=cells, aggregates=aggregates, totals=totals)


def municipal_band_counts(counts: pd.DataFrame, period: str) -> pd.DataFrame | None:
    """A series' municipal counts (``indicators.municipal_counts``) of ``period`` summed to broad
    bands; None when a count of that period is not in five-year bands (a source that gives only
    65+ or all ages has no breakdown)."""
    part = counts[counts["period"] == period]
    if part.empty or not part["age_band"].isin(list(FIVE_YEAR_TO_BROAD)).all():
        return None
    part = part.assign(age_band=part["age_band"].map(FIVE_YEAR_TO_BROAD))
    keys = ["municipality_code", "period", "sex", "age_band"]
    return part.groupby(keys, as_index=False).agg(x=("x", "sum"), imputed=("imputed", "any"))


@dataclass(frozen=True)
class Breakdown:
    """One indicator shown by age band: the period (its latest) and the bands."""

    indicator: Indicator
    period: str
    bands: tuple[str, ...]


BROKEN_DOWN_METHODS = ("proportion", "crude_rate")  # counted events with an exact interval


def breakdowns(
    catalogue: list[Indicator], counts: dict[MeasureRef, pd.DataFrame]
) -> list[Breakdown]:
    """The indicators whose latest period can be shown by age band: rates and proportions whose
    numerator and denominator both come in five-year bands from a broad band's first age."""
    found = []
    for ind in catalogue:
        if ind.method not in BROKEN_DOWN_METHODS or ind.denominator is None:
            continue
        bands = broad_bands(ind.numerator.min_age)
        if bands is None or broad_bands(ind.denominator.min_age) != bands:
            continue
        num, den = counts[ind.numerator], counts[ind.denominator]
        common = set(num["period"]) & set(den["period"])
        if not common:
            continue
        period = max(common)
        if municipal_band_counts(num, period) is None or municipal_band_counts(den, period) is None:
            continue
        found.append(Breakdown(ind, period, tuple(bands)))
    return found
