"""Everything one area's pack shows, read from its published (protected) mart.

Charts, the workbook and the download page take an ``AreaPackData`` and nothing else, so none of
them can reach an unprotected number: the object is built only from a per-area mart, which holds
values that already passed disclosure control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

import pandas as pd

from datapakke.config import DEFAULT_CONTACT_DA
from datapakke.mart.peer_columns import PEER_COMPARISON_DTYPES as MART_PEER_COMPARISON
from datapakke.mart.peer_columns import PEER_GROUP_DTYPES as MART_PEER_GROUP
from datapakke.mart.peer_columns import typed_frame, with_names
from datapakke.mart.population import is_population
from datapakke.schemas import AGE_VALUE_DTYPES as MART_AGE_VALUE

# Columns of ``AreaPackData.funnel``: latest period, sex T, every municipality in Denmark.
FUNNEL_COLUMNS = [
    "indicator_id",
    "period",
    "area_code",
    "area_name",
    "numerator",
    "denominator",
    "value",
    "is_member",
    "is_suppressed",
    "compared_to_national",
]

# Columns of ``AreaPackData.population``: the area's population by period × sex × age band, and
# Denmark's beside it (the pyramid compares the two).
POPULATION_COLUMNS = ["period", "sex", "age_band", "population", "national_population"]

# Columns of ``AreaPackData.sources``: what the pack was built from, one row per source: its
# accepted file and checksum, rows (``rows`` = loaded), when it was loaded, what it covers
# (periods; ``municipality_codes`` comma-separated) and which measures it feeds.
SOURCE_COLUMNS = [
    *("source_id", "title", "publisher", "file", "sha256", "rows", "is_synthetic", "status"),
    *("rows_read", "rows_quarantined", "rows_skipped", "loaded_at", "first_period"),
    *("last_period", "period_count", "municipality_codes", "measures", "caveat_da"),
]

# ``AreaPackData.peer_group`` and ``.peer_comparison``: the warehouse's peer tables for the
# area's members, with the municipalities' names beside their codes.
PEER_GROUP_DTYPES = with_names(
    MART_PEER_GROUP, {"municipality_code": "municipality_name", "peer_code": "peer_name"}
)
PEER_COMPARISON_DTYPES = with_names(
    MART_PEER_COMPARISON, {"municipality_code": "municipality_name"}
)
PEER_GROUP_COLUMNS = list(PEER_GROUP_DTYPES)
# ``AreaPackData.age_values``: mart.indicator_age_value for the area's units, with each unit's
# role in the area (member | area | region | country).
AGE_VALUE_DTYPES = {"role": "object", **MART_AGE_VALUE}
PEER_COMPARISON_COLUMNS = list(PEER_COMPARISON_DTYPES)


@dataclass(frozen=True)
class Member:
    code: str
    name: str
    is_partial: bool  # a member shared with another area of the same grouping (København)


@dataclass
class AreaPackData:
    grouping: str
    grouping_title: str
    area_id: str
    area_name: str
    members: list[Member]
    region_names: list[str]
    membership_status: str  # confirmed | single-source | proxy
    catalogue: pd.DataFrame  # datapakke.mart.catalogue.catalogue_frame(...)
    values: pd.DataFrame  # datapakke.schemas.AREA_VALUE_COLUMNS
    funnel: pd.DataFrame  # FUNNEL_COLUMNS
    population: pd.DataFrame  # POPULATION_COLUMNS
    sources: pd.DataFrame  # SOURCE_COLUMNS
    is_synthetic: bool
    built_at: datetime
    code_version: str
    suppression_threshold: int = 5
    notes: list[str] = field(default_factory=list)  # Danish notes for the front page
    contact_da: str = DEFAULT_CONTACT_DA  # who answers questions (settings.contact_da)
    # similar municipalities (PEER_GROUP_COLUMNS, PEER_COMPARISON_COLUMNS); empty = none built
    peer_group: pd.DataFrame = field(default_factory=lambda: typed_frame(PEER_GROUP_DTYPES))
    peer_comparison: pd.DataFrame = field(
        default_factory=lambda: typed_frame(PEER_COMPARISON_DTYPES)
    )
    # the latest period by broad age band (AGE_VALUE_DTYPES); empty = no breakdown built
    age_values: pd.DataFrame = field(default_factory=lambda: typed_frame(AGE_VALUE_DTYPES))

    @property
    def latest_period(self) -> str:
        return str(self.values["period"].max())

    def sources_of(self, *measures: object) -> pd.DataFrame:
        """The sources feeding any of ``measures``: a population basis is fed by the population
        source, a survey measure also by its ``<measure>_…`` columns."""
        wanted = frozenset(
            "population" if is_population(m) else str(m) for m in measures if _given(m)
        )
        known = self._sources_by_measures
        if wanted not in known:
            fed = self.sources["measures"].fillna("").astype(str).str.split(",")
            feeds = [
                any(f == m or f.startswith(m + "_") for f in names for m in wanted) for names in fed
            ]
            known[wanted] = self.sources[pd.Series(feeds, index=self.sources.index, dtype=bool)]
        return known[wanted]

    @cached_property
    def _sources_by_measures(self) -> dict[frozenset[str], pd.DataFrame]:
        """``sources_of``'s answers so far: a pack asks it the same questions about 100 times."""
        return {}

    @cached_property
    def origins_by_indicator(self) -> dict[str, set[str]]:
        """Indicator id → the ``data_origin`` values of its published rows (one pass, not one
        scan of every value per indicator)."""
        found = self.values[["indicator_id", "data_origin"]].dropna().drop_duplicates()
        return found.groupby("indicator_id")["data_origin"].agg(set).to_dict()

    def source_caveats(self, *measures: object) -> list[str]:
        """Caveats of the sources that feed any of ``measures``: rejected files and quarantined
        rows behind the numbers."""
        feeding = self.sources_of(*measures)
        if "caveat_da" not in feeding:
            return []
        return [
            f"{title}: {caveat}"
            for title, caveat in zip(feeding["title"], feeding["caveat_da"], strict=True)
            if isinstance(caveat, str) and caveat
        ]

    def indicator_values(self, indicator_id: str, sex: str = "T") -> pd.DataFrame:
        """One indicator's rows for one sex, every role and period."""
        v = self.values
        return v[(v["indicator_id"] == indicator_id) & (v["sex"] == sex)]


def _given(measure: object) -> bool:
    """A catalogue field that names a measure (not None, NaN or '')."""
    return isinstance(measure, str) and bool(measure)
