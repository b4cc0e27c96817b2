"""Nyt siden sidst: what differs between a new pack and the previous version whose content
differed, as short Danish lines a reader can act on.

Pure: two ``PackSnapshot``s in, a ``Changes`` out (no files, no clock), so the same comparison
is easy to test and to show elsewhere (the download page, a run's metadata). Identical rebuilds
never reach this module: they are not published (``publish.stage.build_area_pack``), so "the
previous version" is always one with other content.

What is compared, indicator by indicator (men and women together unless a line says otherwise):

- indicators added or withdrawn, and definitions changed (title aside);
- periods added ("Nyt år: 2025") or no longer shown;
- values of periods both versions show that changed beyond the indicator's rounding, or became
  hidden or shown (revisions: how many, and the largest, "Aalborg 2023: 41,2 → 43,0");
- at each version's latest period, the comparison with Denmark (the area and each municipality),
  each municipality's comparison with the area, and the trend, where the verdict changed;
- sources whose accepted file or checksum changed, new sources and sources no longer used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pandas as pd

from datapakke.presentation import COMPARISON_LABELS_DA, TREND_LABELS_DA, format_da
from datapakke.publish.snapshot import PackSnapshot

# Groups in the order the sheet shows them: key → Danish heading.
GROUPS_DA = {
    "indicators": "Nye, udgåede og ændrede indikatorer",
    "periods": "Nye perioder",
    "revisions": "Reviderede tal for perioder, der også var med før",
    "comparisons": "Ændrede sammenligninger og udviklinger (seneste år)",
    "sources": "Opdaterede kilder",
}
FIRST_EDITION_DA = "Første udgave af datapakken: der er ingen tidligere udgave at sammenligne med."
NOT_COMPARABLE_DA = (
    "Den forrige udgave blev dannet, før datapakken gemte sine tal til sammenligning, så "
    "ændringerne siden da kan ikke vises. Næste udgave med nye tal sammenlignes med denne."
)
NO_CHANGES_DA = (
    "Ingen nye perioder, reviderede tal, ændrede sammenligninger eller nye kildefiler. Denne "
    "udgave adskiller sig fra den forrige i andre detaljer, fx forklarende tekster, "
    "befolkningstal, konfidensintervaller eller programversion."
)
NOT_COMPARED_DA = "Denne udgave er ikke sammenlignet med tidligere udgaver."
MAX_COMPARISON_LINES = 6  # per indicator; more are summed up in one line
HIDDEN_DA = "skjult"
# What defines an indicator (a change here is a new definition, not a revision).
DEFINING = (
    *("definition_da", "unit_da", "method", "multiplier", "numerator_measure"),
    *("denominator_measure", "standard_population", "polarity"),
)
# Per group, the summary's words for one and for n subjects (indicators or sources).
_SUMMARY_DA = {
    "indicators": (
        "1 ny, udgået eller ændret indikator",
        "{n} nye, udgåede eller ændrede indikatorer",
    ),
    "periods": ("nye perioder for 1 indikator", "nye perioder for {n} indikatorer"),
    "revisions": ("reviderede tal for 1 indikator", "reviderede tal for {n} indikatorer"),
    "comparisons": (
        "ændrede sammenligninger for 1 indikator",
        "ændrede sammenligninger for {n} indikatorer",
    ),
    "sources": ("1 opdateret kilde", "{n} opdaterede kilder"),
}
_KEY = ["indicator_id", "role", "area_code", "period", "sex"]
_SEX_DA = {"M": "mænd", "K": "kvinder"}
_VERDICT_DA = {  # "<unit> er nu <verdict> <benchmark>"
    "better": "sikkert bedre end",
    "worse": "sikkert dårligere end",
    "higher": "sikkert højere end",
    "lower": "sikkert lavere end",
    "similar": "uden sikker forskel fra",
}


@dataclass(frozen=True)
class ChangeLine:
    """One line of the sheet: what it is about (an indicator or a source) and what changed."""

    group: str  # a key of GROUPS_DA
    subject_da: str  # the indicator's or source's title
    text_da: str
    indicator_id: str | None = None  # links to the indicator's sheet (None: no sheet to link)


@dataclass(frozen=True)
class Changes:
    """The new pack against the previous different version (``previous_built_at``)."""

    previous_built_at: datetime | None  # None: the first edition
    lines: tuple[ChangeLine, ...] = ()
    comparable: bool = True  # False: a previous pack exists but left no snapshot

    @property
    def first_edition(self) -> bool:
        return self.previous_built_at is None

    def groups(self) -> list[tuple[str, str, list[ChangeLine]]]:
        """Non-empty groups in sheet order, as (key, Danish heading, lines)."""
        return [
            (key, title, [line for line in self.lines if line.group == key])
            for key, title in GROUPS_DA.items()
            if any(line.group == key for line in self.lines)
        ]

    def summary_da(self) -> str:
        """One sentence for the sheet's head: what kinds of change, for how many indicators."""
        if self.first_edition:
            return FIRST_EDITION_DA
        if not self.comparable:
            return NOT_COMPARABLE_DA
        if not self.lines:
            return NO_CHANGES_DA
        parts = []
        for key, (one, many) in _SUMMARY_DA.items():
            subjects = {line.subject_da for line in self.lines if line.group == key}
            if subjects:
                parts.append((one if len(subjects) == 1 else many).format(n=len(subjects)))
        return f"Siden forrige udgave: {_joined(parts)}."


def compare(
    current: PackSnapshot,
    previous: PackSnapshot | None,
    earlier_pack_built_at: datetime | None = None,
) -> Changes:
    """What changed from ``previous`` to ``current``.

    ``previous`` None: the first edition, unless ``earlier_pack_built_at`` says a pack existed
    (one built before snapshots were kept): then the changes are unknown, and the sheet says so.
    """
    if previous is None:
        if earlier_pack_built_at is None:
            return Changes(previous_built_at=None)
        return Changes(previous_built_at=earlier_pack_built_at, comparable=False)
    titles = _titles(previous.indicators, current.indicators)
    decimals = _decimals(previous.indicators, current.indicators)
    now_ids = set(current.indicators["indicator_id"].dropna())
    periods = _periods(current.values), _periods(previous.values)
    lines = [
        *_indicator_lines(current, previous, periods[0]),
        *_period_lines(*periods, titles, now_ids),
        *_revision_lines(current, previous, titles, decimals, now_ids),
        *_comparison_lines(current, previous, titles, now_ids),
        *_source_lines(current, previous),
    ]
    order = {ind: i for i, ind in enumerate(current.indicators["indicator_id"])}
    group_rank = {key: i for i, key in enumerate(GROUPS_DA)}
    lines.sort(key=lambda line: (group_rank[line.group], order.get(line.indicator_id, len(order))))
    return Changes(previous_built_at=previous.built_at, lines=tuple(lines))


# --------------------------------------------------------------------------- indicators


def _indicator_lines(
    current: PackSnapshot, previous: PackSnapshot, periods: dict[str, list[str]]
) -> list[ChangeLine]:
    now = current.indicators.set_index("indicator_id", drop=False)
    before = previous.indicators.set_index("indicator_id", drop=False)
    lines = []
    for ind in now.index.difference(before.index, sort=False):
        shown = periods.get(ind, [])
        span = f" ({_span(shown)})" if shown else ""
        lines.append(
            ChangeLine("indicators", _text(now.at[ind, "title_da"]), f"Ny i datapakken{span}.", ind)
        )
    for ind in before.index.difference(now.index, sort=False):
        title = _text(before.at[ind, "title_da"]) or ind
        lines.append(ChangeLine("indicators", title, "Udgået: indgår ikke længere i datapakken."))
    for ind in now.index.intersection(before.index, sort=False):
        changed = [c for c in DEFINING if not _same(now.at[ind, c], before.at[ind, c])]
        if changed:
            lines.append(
                ChangeLine(
                    "indicators",
                    _text(now.at[ind, "title_da"]),
                    "Definitionen eller beregningen er ændret; tal fra før og efter kan "
                    "ikke sammenlignes direkte (se arket).",
                    ind,
                )
            )
    return lines


# --------------------------------------------------------------------------- periods


def _period_lines(
    periods_now: dict[str, list[str]],
    periods_before: dict[str, list[str]],
    titles: _Titles,
    now_ids: set[str],
) -> list[ChangeLine]:
    lines = []
    for ind, now in periods_now.items():
        before = periods_before.get(ind)
        if before is None:
            continue  # a new indicator: said once, under indicators
        added = sorted(set(now) - set(before))
        gone = sorted(set(before) - set(now))
        parts = []
        if added:
            parts.append(f"{_new_periods_word(added)}: {_joined(added)}.")
        if gone:
            parts.append(f"Ikke længere med: {_joined(gone)}.")
        if parts:
            lines.append(ChangeLine("periods", titles[ind], " ".join(parts), _link(ind, now_ids)))
    return lines


def _new_periods_word(periods: list[str]) -> str:
    """'Nyt år' for one calendar year, 'Nye år' for several; 'Ny periode' for other periods."""
    if all(len(p) == 4 and p.isdigit() for p in periods):
        return "Nyt år" if len(periods) == 1 else "Nye år"
    return "Ny periode" if len(periods) == 1 else "Nye perioder"


# --------------------------------------------------------------------------- revisions


def _revision_lines(
    current: PackSnapshot,
    previous: PackSnapshot,
    titles: _Titles,
    decimals: dict[str, int],
    now_ids: set[str],
) -> list[ChangeLine]:
    """Rows both versions have whose shown value differs (rounded as the pack shows it), or
    that became hidden or shown."""
    keep = [*_KEY, "area_name", "value", "is_suppressed"]
    both = current.values[keep].merge(
        previous.values[keep], on=_KEY, suffixes=("", "_before"), how="inner"
    )
    if both.empty:
        return []
    digits = both["indicator_id"].map(decimals).fillna(1).astype(int)
    now, before = both["value"].astype(float), both["value_before"].astype(float)
    scale = 10.0**digits
    shown_now, shown_before = (now * scale).round(), (before * scale).round()
    hidden_now = _flag(both["is_suppressed"])
    hidden_before = _flag(both["is_suppressed_before"])
    differs = (shown_now != shown_before) & ~(now.isna() & before.isna())
    differs |= hidden_now != hidden_before
    revised = both[differs].assign(
        # as shown; hidden ↔ shown after numbers; on a tie, men and women together first
        _size=((shown_now - shown_before).abs() / scale)[differs].fillna(-1.0),
        _other_sex=both["sex"][differs] != "T",
        _digits=digits[differs],
    )
    lines = []
    for ind, group in revised.groupby("indicator_id", sort=False):
        top = group.sort_values(
            ["_size", "_other_sex"], ascending=[False, True], kind="stable"
        ).iloc[0]
        n = len(group)
        what = f"{n} tal revideret" + (", størst" if n > 1 else "")
        example = (
            f"{_unit(top)} {top['period']}{_sex(top['sex'])}: "
            f"{_shown(top['value_before'], top['is_suppressed_before'], top['_digits'])} → "
            f"{_shown(top['value'], top['is_suppressed'], top['_digits'])}"
        )
        lines.append(
            ChangeLine(
                "revisions", titles[str(ind)], f"{what}: {example}.", _link(str(ind), now_ids)
            )
        )
    return lines


def _shown(value: Any, suppressed: Any, digits: int) -> str:
    if not _missing(suppressed) and bool(suppressed) and _missing(value):
        return HIDDEN_DA
    return "–" if _missing(value) else format_da(float(value), int(digits))


# --------------------------------------------------------------------------- comparisons


def _comparison_lines(
    current: PackSnapshot, previous: PackSnapshot, titles: _Titles, now_ids: set[str]
) -> list[ChangeLine]:
    """Verdicts at each version's latest period (sex T) for the area and its municipalities."""
    now, before = _latest_rows(current.values), _latest_rows(previous.values)
    both = now.merge(
        before, on=["indicator_id", "role", "area_code"], suffixes=("", "_before"), how="inner"
    )
    differs = pd.Series(False, index=both.index)
    for column in ("compared_to_national", "compared_to_area", "trend"):
        differs |= both[column].astype(str) != both[f"{column}_before"].astype(str)
    both = both[differs]  # usually a handful of rows: the loop below is over these only
    lines = []
    for ind, group in both.groupby("indicator_id", sort=False):
        found: list[str] = []
        for row in group.sort_values(["role", "area_code"], key=_area_first).itertuples():
            found += _flips(row._asdict())
        if not found:
            continue
        shown = found[:MAX_COMPARISON_LINES]
        if len(found) > len(shown):
            rest = len(found) - len(shown)
            shown.append(f"… og {rest} {'anden' if rest == 1 else 'andre'} (se arket).")
        for text in shown:
            lines.append(
                ChangeLine("comparisons", titles[str(ind)], text, _link(str(ind), now_ids))
            )
    return lines


def _latest_rows(values: pd.DataFrame) -> pd.DataFrame:
    """Each (indicator, area or municipality) at its latest period with a row, sex T."""
    rows = values[(values["sex"] == "T") & values["role"].isin(["area", "member"])]
    rows = rows.sort_values("period", kind="stable")
    return rows.drop_duplicates(["indicator_id", "role", "area_code"], keep="last")


def _area_first(column: pd.Series) -> pd.Series:
    return (
        column.map({"area": "0", "member": "1"}).fillna(column) if column.name == "role" else column
    )


def _flips(row: dict[str, Any]) -> list[str]:
    """The changed verdicts of one unit: vs Denmark, vs the area (municipalities), trend."""
    who = "Området" if row["role"] == "area" else str(row["area_name"])
    when = _when(str(row["period"]), str(row["period_before"]))
    texts = []
    benchmarks = [("compared_to_national", "hele landet")]
    if row["role"] == "member":
        benchmarks.append(("compared_to_area", "området"))
    for column, benchmark in benchmarks:
        new, old = _text(row[column]), _text(row[f"{column}_before"])
        if new != old and new in _VERDICT_DA and old in _VERDICT_DA:
            texts.append(
                f"{who} er {when[0]}{_VERDICT_DA[new]} {benchmark} "
                f"({when[1]}{COMPARISON_LABELS_DA[old].lower()})."
            )
    new, old = _text(row["trend"]), _text(row["trend_before"])
    if new != old and new in TREND_LABELS_DA and old in TREND_LABELS_DA:
        whose = "området" if row["role"] == "area" else str(row["area_name"])
        texts.append(
            f"Udviklingen for {whose} er {when[0]}{TREND_LABELS_DA[new].lower()} "
            f"({when[1]}{TREND_LABELS_DA[old].lower()})."
        )
    return texts


def _when(now: str, before: str) -> tuple[str, str]:
    """'nu …(var: …)' for the same period; 'i 2025 …(2024: …)' when the latest period moved."""
    if now == before:
        return "nu ", "var: "
    return f"i {now} ", f"{before}: "


# --------------------------------------------------------------------------- sources


def _source_lines(current: PackSnapshot, previous: PackSnapshot) -> list[ChangeLine]:
    now = current.sources.drop_duplicates("source_id").set_index("source_id", drop=False)
    before = previous.sources.drop_duplicates("source_id").set_index("source_id", drop=False)
    lines = []
    for sid in now.index:
        title = _text(now.at[sid, "title"]) or str(sid)
        file = _text(now.at[sid, "file"]) or "ingen godkendt fil"
        if sid not in before.index:
            lines.append(ChangeLine("sources", title, f"Ny kilde: {file}."))
            continue
        old_file = _text(before.at[sid, "file"]) or "ingen godkendt fil"
        if file != old_file:
            lines.append(ChangeLine("sources", title, f"Ny fil: {file} (før: {old_file})."))
        elif _text(now.at[sid, "sha256"]) != _text(before.at[sid, "sha256"]):
            lines.append(
                ChangeLine("sources", title, f"Filen {file} har nyt indhold (ny kontrolsum).")
            )
    for sid in before.index.difference(now.index, sort=False):
        title = _text(before.at[sid, "title"]) or str(sid)
        lines.append(ChangeLine("sources", title, "Kilden indgår ikke længere i datapakken."))
    return lines


# --------------------------------------------------------------------------- helpers


class _Titles(dict[str, str]):
    """Indicator id → title; an id missing from both catalogues shows itself."""

    def __missing__(self, key: str) -> str:
        return key


def _titles(*catalogues: pd.DataFrame) -> _Titles:
    """Titles from the catalogues, the last winning (a withdrawn indicator keeps its old one)."""
    titles = _Titles()
    for catalogue in catalogues:
        for ind, title in zip(catalogue["indicator_id"], catalogue["title_da"], strict=True):
            titles[str(ind)] = _text(title) or str(ind)
    return titles


def _decimals(*catalogues: pd.DataFrame) -> dict[str, int]:
    decimals: dict[str, int] = {}
    for catalogue in catalogues:
        for ind, digits in zip(catalogue["indicator_id"], catalogue["decimals"], strict=True):
            if not _missing(digits):
                decimals[str(ind)] = int(digits)
    return decimals


def _periods(values: pd.DataFrame) -> dict[str, list[str]]:
    """Indicator id → the periods it shows, sorted."""
    grouped = values.groupby("indicator_id", sort=False)["period"].unique()
    return {str(ind): sorted(str(p) for p in periods) for ind, periods in grouped.items()}


def _span(periods: list[str]) -> str:
    return periods[0] if len(periods) == 1 else f"{periods[0]}–{periods[-1]}"


def _unit(row: pd.Series) -> str:
    if row["role"] == "country":
        return "Hele landet"
    return _text(row["area_name"]) or str(row["area_code"])


def _sex(sex: Any) -> str:
    return f" ({_SEX_DA[sex]})" if sex in _SEX_DA else ""


def _link(indicator_id: str, now_ids: set[str]) -> str | None:
    return indicator_id if indicator_id in now_ids else None


def _flag(column: pd.Series) -> pd.Series:
    return column.astype("boolean").fillna(False).astype(bool)


def _joined(items: Iterable[str]) -> str:
    """'a', 'a og b', 'a, b og c'."""
    items = list(items)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} og {items[-1]}"


def _text(value: Any) -> str:
    return "" if _missing(value) else str(value)


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _same(a: Any, b: Any) -> bool:
    if _missing(a) and _missing(b):
        return True
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b))
    return _text(a) == _text(b)
