"""The data status of one pack in Danish: which files its numbers rest on, whether they are real
or synthetic, and what each covers of the area's municipalities.

One place for these words, so the front page's "Datastatus", the "Datastatus" sheet, each
indicator sheet's "Datagrundlag" line and the download page cannot disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from datapakke.presentation import ORIGIN_LABELS_DA
from datapakke.publish.pack_data import AreaPackData

STATUS_DA = {
    "accepted": "Godkendt",
    "partly_quarantined": "Godkendt, nogle rækker i karantæne",
    "rejected": "Nyeste fil afvist; tidligere godkendt fil bruges",
}
ORIGIN_ORDER = ("real", "mixed", "synthetic")


@dataclass(frozen=True)
class SourceStatus:
    """One source as the pack reports it; coverage is counted over the area's members."""

    title: str
    publisher: str
    is_synthetic: bool
    file: str
    sha256: str
    periods_da: str
    members_covered: tuple[str, ...]
    members_missing: tuple[str, ...]
    rows_read: float
    rows_loaded: float
    rows_quarantined: float
    rows_skipped: float
    loaded_at: datetime | None
    status_da: str
    caveat_da: str

    @property
    def origin_da(self) -> str:
        return ORIGIN_LABELS_DA["synthetic" if self.is_synthetic else "real"]

    @property
    def coverage_count_da(self) -> str:
        """'6 af 98' (all of Denmark's municipalities: too many to name the missing)."""
        total = len(self.members_covered) + len(self.members_missing)
        return f"{len(self.members_covered)} af {total}"

    @property
    def coverage_da(self) -> str:
        """'alle 5' or '2 af 5 (mangler: Aalborg, Rebild)'."""
        total = len(self.members_covered) + len(self.members_missing)
        if not self.members_missing:
            return f"alle {total}"
        return (
            f"{len(self.members_covered)} af {total} (mangler: {', '.join(self.members_missing)})"
        )


def source_statuses(pack: AreaPackData) -> list[SourceStatus]:
    """Every source of the pack, real ones first, with what it covers of the area."""
    return statuses_of(pack.sources, [(m.code, m.name) for m in pack.members])


def statuses_of(sources: pd.DataFrame, units: Sequence[tuple[str, str]]) -> list[SourceStatus]:
    """Every source (``SOURCE_COLUMNS``), real ones first, its coverage counted over ``units``
    (municipality code, name): an area's members, or all of Denmark's municipalities."""
    statuses = []
    for src in sources.itertuples():
        covered = set(_text(getattr(src, "municipality_codes", "")).split(","))
        statuses.append(
            SourceStatus(
                title=_text(src.title),
                publisher=_text(src.publisher),
                is_synthetic=bool(src.is_synthetic),
                file=_text(src.file),
                sha256=_text(src.sha256),
                periods_da=_periods_da(src),
                members_covered=tuple(name for code, name in units if code in covered),
                members_missing=tuple(name for code, name in units if code not in covered),
                rows_read=getattr(src, "rows_read", float("nan")),
                rows_loaded=src.rows,
                rows_quarantined=src.rows_quarantined,
                rows_skipped=getattr(src, "rows_skipped", float("nan")),
                loaded_at=_moment(getattr(src, "loaded_at", None)),
                status_da=STATUS_DA.get(_status(src), _status(src)),
                caveat_da=_text(getattr(src, "caveat_da", "")),
            )
        )
    return sorted(statuses, key=lambda s: s.is_synthetic)


def indicator_origin(pack: AreaPackData, indicator_id: str) -> str:
    """``real`` | ``mixed`` | ``synthetic`` for an indicator's published values (the least real
    origin when its rows differ; ``synthetic`` when it has none)."""
    found = pack.origins_by_indicator.get(indicator_id, set())
    for origin in reversed(ORIGIN_ORDER):
        if origin in found:
            return origin
    return "synthetic"


def indicator_origin_da(pack: AreaPackData, ind: Any) -> str:
    """'Rigtige data fra …' / 'Blandet: …' / 'Syntetiske …' for one catalogue indicator."""
    origin = indicator_origin(pack, str(ind.indicator_id))
    sources = pack.sources_of(ind.numerator_measure, ind.denominator_measure)
    synthetic = sources["is_synthetic"].astype(bool)
    real, invented = _titles(sources[~synthetic]), _titles(sources[synthetic])
    if origin == "real":
        return f"Rigtige data fra {real or 'kilden'}."
    if origin == "mixed":
        return (
            f"Blandet: rigtige data fra {real or 'en kilde'}; syntetiske (opdigtede) tal fra "
            f"{invented or 'en anden kilde'}. Kun kommuner, som de rigtige data dækker, har tal."
        )
    return "Syntetiske (opdigtede) tal fra den indbyggede prøve."


def summary_da(pack: AreaPackData) -> str:
    """The front page's "Datastatus" in words: real and synthetic sources and their coverage."""
    statuses = source_statuses(pack)
    if not statuses:
        return "Syntetiske data." if pack.is_synthetic else "Ingen kilder registreret."
    see = " Detaljer på arket 'Datastatus'."
    real = [s for s in statuses if not s.is_synthetic]
    if not real:
        return "Syntetiske data: alle tal er opdigtede (kommunekoder og -navne er rigtige)." + see
    real_text = "; ".join(
        f"{s.title} ({s.periods_da}; områdets kommuner: {s.coverage_da})" for s in real
    )
    synthetic = [s.title for s in statuses if s.is_synthetic]
    if not synthetic:
        return f"Rigtige data fra: {real_text}." + see
    counts = _origin_counts(pack)
    return (
        f"Blandet: rigtige data fra {real_text}; opdigtede tal for {'; '.join(synthetic)}. "
        f"{counts}" + see
    )


def _origin_counts(pack: AreaPackData) -> str:
    """'3 indikatorer bygger på rigtige data, 4 på blandede og 20 på syntetiske.'"""
    origins = [indicator_origin(pack, i) for i in pack.catalogue["indicator_id"]]
    real, mixed, synthetic = (origins.count(o) for o in ORIGIN_ORDER)
    return (
        f"{real} indikatorer bygger på rigtige data, {mixed} på blandede og {synthetic} på "
        "syntetiske."
    )


def _titles(sources: pd.DataFrame) -> str:
    return "; ".join(_text(t) for t in sources["title"])


def _periods_da(src: object) -> str:
    first, last = _text(getattr(src, "first_period", "")), _text(getattr(src, "last_period", ""))
    count = getattr(src, "period_count", None)
    if not first:
        return "ingen perioder"
    span = first if first == last else f"{first}–{last}"
    if count is None or pd.isna(count):
        return span
    return f"{span}, {int(count)} {'periode' if int(count) == 1 else 'perioder'}"


def _status(src: object) -> str:
    status = _text(getattr(src, "status", ""))
    if status == "accepted" and (getattr(src, "rows_quarantined", 0) or 0) > 0:
        return "partly_quarantined"
    return status


def _moment(value: object) -> datetime | None:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return None
    return pd.Timestamp(value).to_pydatetime()


def _text(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value)
