"""One indicator's numbers as the panels read them, and the levels (area, region, country)
drawn beside the members."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from datapakke.mart.catalogue import METHOD_RULES
from datapakke.presentation import COMPARISON_COLOURS, LEVEL_STYLES, ROLE_LABELS_DA

if TYPE_CHECKING:
    from datapakke.publish.pack_data import AreaPackData


def catalogue_in_order(pack: AreaPackData) -> pd.DataFrame:
    """The pack's indicators in catalogue order (the order of the workbook's sheets)."""
    cat = pack.catalogue
    return cat.sort_values("order", kind="stable") if "order" in cat else cat


def indicator_row(pack: AreaPackData, indicator_id: str) -> pd.Series:
    """The indicator's catalogue entry; a clear error for an id the pack does not have."""
    match = pack.catalogue[pack.catalogue["indicator_id"] == indicator_id]
    if match.empty:
        raise KeyError(f"indicator {indicator_id!r} is not in the pack's catalogue")
    return match.iloc[0]


@dataclass(frozen=True)
class Rows:
    """One indicator's sex-T rows as numpy arrays: panels filter them hundreds of times per
    area, and pandas' per-call overhead was a third of the building time."""

    role: np.ndarray
    code: np.ndarray
    name: np.ndarray
    year: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray
    suppressed: np.ndarray
    compared: np.ndarray  # compared_to_national, unknown categories → not_compared

    def __len__(self) -> int:
        return len(self.year)

    def where(self, mask: np.ndarray) -> Rows:
        return Rows(**{f: getattr(self, f)[mask] for f in self.__dataclass_fields__})

    def unit_codes(self) -> list[str]:
        return sorted(set(self.code.tolist()))

    def series(self, code: str, years: np.ndarray, column: str = "value") -> np.ndarray:
        """Values of one unit over ``years``, NaN where there is no row: gaps stay gaps."""
        out = np.full(len(years), np.nan)
        pick = self.code == code
        out[np.searchsorted(years, self.year[pick])] = getattr(self, column)[pick]
        return out


def indicator_rows(pack: AreaPackData, indicator_id: str) -> Rows:
    """The indicator's rows for men and women together, every role and period."""
    v = pack.indicator_values(indicator_id, "T")
    year = pd.to_numeric(v["period"], errors="coerce").to_numpy(float)
    compared = v["compared_to_national"].astype(str).to_numpy()
    rows = Rows(
        role=v["role"].astype(str).to_numpy(),
        code=v["area_code"].astype(str).to_numpy(),
        name=v["area_name"].astype(str).to_numpy(),
        year=year,
        value=pd.to_numeric(v["value"], errors="coerce").to_numpy(float),
        low=pd.to_numeric(v["ci95_low"], errors="coerce").to_numpy(float),
        high=pd.to_numeric(v["ci95_high"], errors="coerce").to_numpy(float),
        suppressed=v["is_suppressed"].fillna(False).astype(bool).to_numpy(),
        compared=np.where(np.isin(compared, list(COMPARISON_COLOURS)), compared, "not_compared"),
    )
    return rows.where(np.isfinite(year))


def latest_year(rows: Rows) -> float | None:
    """Latest period with anything published (a value or a suppressed cell)."""
    shown = np.isfinite(rows.value) | rows.suppressed
    years = rows.year[shown] if shown.any() else rows.year
    return float(np.nanmax(years)) if len(years) else None


def comparable_levels(ind: pd.Series, benchmark: bool = False) -> tuple[str, ...]:
    """Levels drawn with the members. A count's area is the sum of its members and Denmark is
    millions: not benchmarks, and region and country would squash the scale. So a count's trend
    shows the area alone and its comparison no benchmark lines."""
    if METHOD_RULES[str(ind["method"])].is_count:
        return () if benchmark else ("area",)
    return ("area", "region", "country")


@dataclass(frozen=True)
class Level:
    """One unit of a level drawn beside the members: the area, a region or Denmark."""

    role: str
    index: int  # among its level's units: a second region must not look like the first
    label: str
    value: Any  # over the trend's years (an array), or in the comparison's year (a number)

    @property
    def style(self) -> dict[str, Any]:
        style = dict(LEVEL_STYLES[self.role])
        if self.role == "region" and self.index % 2 == 1:
            style["linestyle"] = "-."
        return style


def level_units(pack: AreaPackData, rows: Rows, role: str) -> list[Rows]:
    """Rows of each unit of one level, by code; a region pack's own region is the area."""
    rows = rows.where(rows.role == role)
    if role == "region" and pack.grouping == "region":
        rows = rows.where(rows.code != str(pack.area_id))
    return [rows.where(rows.code == code) for code in rows.unit_codes()]


def level_label(pack: AreaPackData, role: str, name: str) -> str:
    """The level's legend label: the area by name, a region as 'Region …', Denmark."""
    if role == "area":
        return f"{ROLE_LABELS_DA['area']}: {pack.area_name}"
    if role == "region":
        return name if name.startswith("Region") else f"Region {name}"
    return ROLE_LABELS_DA[role]
