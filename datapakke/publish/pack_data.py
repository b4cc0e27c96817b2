"""Everything one area's pack shows, read from its published (protected) mart.

Charts, the workbook and the download page take an ``AreaPackData`` and nothing else, so none of
them can reach an unprotected number: the object is built only from a per-area mart, which holds
values that already passed disclosure control.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from datapakke.config import DEFAULT_CONTACT_DA
from datapakke.mart.population import is_population

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

# Columns of ``AreaPackData.population``: the area's population by period × sex × age band.
POPULATION_COLUMNS = ["period", "sex", "age_band", "population"]

# Columns of ``AreaPackData.sources``: what the pack was built from, one row per source: its
# accepted file and checksum, rows (``rows`` = loaded), when it was loaded, what it covers
# (periods; ``municipality_codes`` comma-separated) and which measures it feeds.
SOURCE_COLUMNS = [
    *("source_id", "title", "publisher", "file", "sha256", "rows", "is_synthetic", "status"),
    *("rows_read", "rows_quarantined", "rows_skipped", "loaded_at", "first_period"),
    *("last_period", "period_count", "municipality_codes", "measures", "caveat_da"),
]

# ``AreaPackData.peer_group``: each member's similar municipalities (mart.peer_group with names).
PEER_GROUP_DTYPES = {
    "municipality_code": "object",
    "municipality_name": "object",
    "rank": "int64",
    "peer_code": "object",
    "peer_name": "object",
    "distance": "float64",
    "basis_year": "object",  # the year of the 1 January population the peers are chosen on
    "population": "float64",
    "share_65plus_pct": "float64",
    "share_80plus_pct": "float64",
    "peer_population": "float64",
    "peer_share_65plus_pct": "float64",
    "peer_share_80plus_pct": "float64",
}
# ``AreaPackData.peer_comparison``: each member's indicators (latest period, sex T) against its
# peers' median (mart.peer_comparison with the member's name).
PEER_COMPARISON_DTYPES = {
    "indicator_id": "object",
    "municipality_code": "object",
    "municipality_name": "object",
    "period": "object",
    "value": "float64",
    "ci95_low": "float64",
    "ci95_high": "float64",
    "is_suppressed": "bool",
    "peer_values": "int64",  # peers with a published value
    "peer_median": "float64",  # NaN when fewer than 3 peers have one
    "compared_to_peers": "object",
    "opportunity_events_per_year": "float64",  # NaN unless significantly worse (and shown)
    "opportunity_ci95_low": "float64",
    "opportunity_ci95_high": "float64",
}
PEER_GROUP_COLUMNS = list(PEER_GROUP_DTYPES)
PEER_COMPARISON_COLUMNS = list(PEER_COMPARISON_DTYPES)


def typed_frame(dtypes: dict[str, str], frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """``frame``'s columns of ``dtypes`` in that order and type (empty when None): an area mart
    written before a table existed still gives a pack the right, empty columns. Empty text
    columns are ``string``, so DuckDB stores them as VARCHAR (an empty object column becomes
    INTEGER there)."""
    if frame is None:
        return pd.DataFrame(
            {
                name: pd.Series(dtype="string" if dtype == "object" else dtype)
                for name, dtype in dtypes.items()
            }
        )
    return frame[list(dtypes)].astype(dtypes).reset_index(drop=True)


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

    @property
    def latest_period(self) -> str:
        return str(self.values["period"].max())

    def sources_of(self, *measures: object) -> pd.DataFrame:
        """The sources feeding any of ``measures``: a population basis is fed by the population
        source, a survey measure also by its ``<measure>_…`` columns."""
        wanted = {"population" if is_population(m) else str(m) for m in measures if _given(m)}
        fed = self.sources["measures"].fillna("").astype(str).str.split(",")
        feeds = [
            any(f == m or f.startswith(m + "_") for f in names for m in wanted) for names in fed
        ]
        return self.sources[pd.Series(feeds, index=self.sources.index, dtype=bool)]

    def source_caveats(self, *measures: object) -> list[str]:
        """Caveats of the sources that feed any of ``measures``: rejected files and quarantined
        rows behind the numbers."""
        return [
            f"{src.title}: {src.caveat_da}"
            for src in self.sources_of(*measures).itertuples()
            if getattr(src, "caveat_da", "")
        ]

    def indicator_values(self, indicator_id: str, sex: str = "T") -> pd.DataFrame:
        """One indicator's rows for one sex, every role and period."""
        v = self.values
        return v[(v["indicator_id"] == indicator_id) & (v["sex"] == sex)]


def _given(measure: object) -> bool:
    """A catalogue field that names a measure (not None, NaN or '')."""
    return isinstance(measure, str) and bool(measure)
