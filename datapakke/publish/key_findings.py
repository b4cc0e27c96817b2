"""Hovedpointer: the pack's key findings, written as Danish sentences from the statistics alone.

Why only from flags: the pack is a dialogue tool between municipalities, region and general
practice, so a sentence must never claim more than the numbers do. Every finding stands on one
published flag of the latest period (sex T), and nothing else:

- ``national``: the area (role ``area``) against Denmark, ``compared_to_national`` (95 %) or
  ``compared_to_national_998`` (99.8 %) not ``similar``/``not_compared``;
- ``trend``: the area's ``trend`` is ``increasing``/``decreasing`` (its test at p < 0.05);
- ``member_vs_area``: a member's ``compared_to_area`` (95 %) not ``similar``/``not_compared``.

A suppressed or blank value (or a benchmark without a number) gives no finding. Wording is
neutral: "statistisk signifikant højere/lavere", plus "og dermed bedre/dårligere" only where the
catalogue's polarity says which direction is better (the labels of ``COMPARISON_LABELS_DA``);
trends say "stigende/faldende" (``TREND_LABELS_DA``) for every polarity.

Ordering (``strength``): every finding gets a z-like value, the size of the difference in standard
errors, so the three kinds share one scale:

- a comparison: ``|value − benchmark| / se``, with ``se`` read from the half of the 95 % interval
  that faces the benchmark (``(value − ci95_low) / Z95`` when the benchmark is below): the
  intervals are asymmetric (Wilson, Byar) and that half is the one the flag was read from, so
  the strength is above 1.96 when the 95 % interval excludes the benchmark. The rounding of the
  published numbers is added to se² (see ``comparison_strength``), so limits rounded onto the
  value do not give an infinite strength;
- a trend: the two-sided normal z of its p-value, ``Φ⁻¹(1 − p/2)`` (the engine's tests use t or
  quasi-likelihood references; the z of the same p puts them on the same scale).

At most ``limit`` findings, strongest first, except that every ``national`` finding significant
at 99.8 % is always kept: when there are more of those than ``limit``, all of them are returned
(and nothing else), so the list is then longer than ``limit``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from datapakke.presentation import (
    COMPARISON_LABELS_DA,
    TREND_LABELS_DA,
    format_da,
)
from datapakke.publish.pack_data import AreaPackData

Z95 = 1.959963984540054  # Φ⁻¹(0.975)
P998 = 0.002  # two-sided level of a 99.8 % interval
MIN_P = 1e-300  # floor of a trend p-value (see ``trend_strength``)
LEVEL_95, LEVEL_998 = "95 %", "99,8 %"
KINDS = ("national", "trend", "member_vs_area")  # also the tie-break order
SIGNIFICANT = ("better", "worse", "higher", "lower")
SIGNIFICANT_TRENDS = ("increasing", "decreasing")
NO_FINDINGS_DA = (
    "Der er ikke fundet statistisk signifikante forskelle eller udviklinger i det seneste år."
)


@dataclass(frozen=True)
class KeyFinding:
    """One sentence and the flag behind it."""

    indicator_id: str
    kind: str  # national | trend | member_vs_area
    unit_code: str  # the area's id or the member's municipality code
    unit_name: str  # as shown ('København (delvis)' for a shared member)
    period: str  # the latest period of the indicator
    comparison: str  # better|worse|higher|lower, or increasing|decreasing for a trend
    value: float  # the unit's value in ``period``
    # Denmark's value (national), the area's (member), or the trend's first value in its window
    # (None when the window has no earlier shown value)
    benchmark: float | None
    benchmark_period: str  # the period of ``benchmark``: ``period``, the trend's first, or ''
    level: str  # '99,8 %' or '95 %': the strictest level at which the flag holds
    strength: float  # the difference in standard errors (see the module docstring)
    sentence_da: str

    @property
    def is_required(self) -> bool:
        """Never left out: the area against Denmark at 99.8 %."""
        return self.kind == "national" and self.level == LEVEL_998


def key_findings(pack: AreaPackData, limit: int = 10) -> list[KeyFinding]:
    """The pack's findings, strongest first: at most ``limit``, plus any further 99.8 %
    differences from Denmark (never left out, see the module docstring)."""
    return select(candidates(pack), limit)


def select(findings: list[KeyFinding], limit: int) -> list[KeyFinding]:
    """The ``limit`` strongest, always including every required finding."""
    ranked = sorted(findings, key=_rank)
    required = [f for f in ranked if f.is_required]
    others = [f for f in ranked if not f.is_required][: max(limit - len(required), 0)]
    return sorted(required + others, key=_rank)


def headline(findings: list[KeyFinding], n: int = 3) -> list[str]:
    """The first ``n`` sentences for the front page; the no-findings sentence when there are none."""
    return [f.sentence_da for f in findings[:n]] or [NO_FINDINGS_DA]


def candidates(pack: AreaPackData) -> list[KeyFinding]:
    """Every flagged finding of the latest period, unordered and unlimited."""
    catalogue = {str(r.indicator_id): r for r in pack.catalogue.itertuples(index=False)}
    values = pack.values
    if values.empty:
        return []
    values = values.assign(period=values["period"].astype(str))
    latest = values.groupby("indicator_id")["period"].transform("max")
    now = values[(values["period"] == latest) & (values["sex"] == "T")]
    now = now[now["indicator_id"].isin(list(catalogue))]
    shown = now[_shown(now)]
    benchmark = {  # (indicator, role) → its latest row, for Denmark and the area
        (str(r.indicator_id), str(r.role)): r
        for r in shown[shown["role"].isin(["area", "country"])].itertuples(index=False)
    }
    partial = {m.code for m in pack.members if m.is_partial}
    area_word = "regionens" if pack.grouping == "region" else "områdets"
    found: list[KeyFinding] = []
    for r in shown.itertuples(index=False):
        ind = catalogue[str(r.indicator_id)]
        if r.role == "area":
            dk = benchmark.get((str(r.indicator_id), "country"))
            if dk is not None:
                found += _national(ind, r, dk)
            found += _trend(ind, r, values)
        elif r.role == "member":
            area = benchmark.get((str(r.indicator_id), "area"))
            if area is not None:
                name = f"{r.area_name} (delvis)" if str(r.area_code) in partial else r.area_name
                found += _member(ind, r, area, str(name), str(area.area_name), area_word)
    return found


# --------------------------------------------------------------------------- the three kinds


def _national(ind: Any, r: Any, dk: Any) -> list[KeyFinding]:
    at95, at998 = str(r.compared_to_national), str(r.compared_to_national_998)
    if at95 not in SIGNIFICANT and at998 not in SIGNIFICANT:
        return []
    label = at998 if at998 in SIGNIFICANT else at95
    direction = _direction(label, str(ind.polarity), float(r.value), float(dk.value))
    comparison = _judged(direction, str(ind.polarity))
    numbers = _numbers(ind, r.period, r.value, f"mod landets {_fmt(ind, dk.value)}")
    sentence = (
        f"{_title(ind)}: {r.area_name} ligger statistisk signifikant "
        f"{_word(direction)} end landsgennemsnittet{_judgement(comparison)} ({numbers})."
    )
    return [
        KeyFinding(
            indicator_id=str(r.indicator_id),
            kind="national",
            unit_code=str(r.area_code),
            unit_name=str(r.area_name),
            period=str(r.period),
            comparison=comparison,
            value=float(r.value),
            benchmark=float(dk.value),
            benchmark_period=str(r.period),
            level=LEVEL_998 if at998 in SIGNIFICANT else LEVEL_95,
            strength=comparison_strength(
                r.value, r.ci95_low, r.ci95_high, dk.value, int(ind.decimals)
            ),
            sentence_da=sentence,
        )
    ]


def _trend(ind: Any, r: Any, values: pd.DataFrame) -> list[KeyFinding]:
    trend = str(r.trend)
    if trend not in SIGNIFICANT_TRENDS:
        return []
    p = float(r.trend_p_value) if r.trend_p_value is not None else math.nan
    start_period, start = _trend_start(values, r)
    numbers = _numbers(ind, r.period, r.value)
    if start is not None:
        numbers = f"{start_period}: {_fmt(ind, start)}; {numbers}"
    sentence = (
        f"{_title(ind)}: {r.area_name} har en statistisk signifikant "
        f"{TREND_LABELS_DA[trend].lower()} udvikling ({numbers})."
    )
    return [
        KeyFinding(
            indicator_id=str(r.indicator_id),
            kind="trend",
            unit_code=str(r.area_code),
            unit_name=str(r.area_name),
            period=str(r.period),
            comparison=trend,
            value=float(r.value),
            benchmark=start,
            benchmark_period=start_period,
            level=LEVEL_998 if p < P998 else LEVEL_95,  # NaN compares False: 95 %
            strength=trend_strength(p),
            sentence_da=sentence,
        )
    ]


def _member(
    ind: Any, r: Any, area: Any, name: str, area_name: str, area_word: str
) -> list[KeyFinding]:
    label = str(r.compared_to_area)
    if label not in SIGNIFICANT:
        return []
    direction = _direction(label, str(ind.polarity), float(r.value), float(area.value))
    comparison = _judged(direction, str(ind.polarity))
    numbers = _numbers(ind, r.period, r.value, f"mod {area_word} {_fmt(ind, area.value)}")
    sentence = (
        f"{_title(ind)}: {name} ligger statistisk signifikant {_word(direction)} end "
        f"{area_name} samlet{_judgement(comparison)} ({numbers})."
    )
    return [
        KeyFinding(
            indicator_id=str(r.indicator_id),
            kind="member_vs_area",
            unit_code=str(r.area_code),
            unit_name=name,
            period=str(r.period),
            comparison=comparison,
            value=float(r.value),
            benchmark=float(area.value),
            benchmark_period=str(r.period),
            level=LEVEL_95,  # the published comparison with the area is at 95 % only
            strength=comparison_strength(
                r.value, r.ci95_low, r.ci95_high, area.value, int(ind.decimals)
            ),
            sentence_da=sentence,
        )
    ]


# --------------------------------------------------------------------------- strength


def comparison_strength(
    value: float, low: float, high: float, benchmark: float, decimals: int
) -> float:
    """The difference in standard errors: ``|value − benchmark| / √(se² + q²/6)``.

    ``se`` is the 95 % half-width facing the benchmark over Z95; ``q = 10^-decimals``, the
    rounding step of the published numbers (two rounded numbers: variance 2 · q²/12, as the
    engine's trend test allows for rounding), so limits rounded onto the value (a region's
    '2,5 [2,5; 2,5]') still give a finite strength. A missing limit counts as just
    significant (Z95)."""
    value, benchmark = float(value), float(benchmark)
    side = value - float(low) if benchmark < value else float(high) - value
    if not math.isfinite(side):
        return Z95
    se2 = (max(side, 0.0) / Z95) ** 2 + 10.0 ** (-2 * int(decimals)) / 6
    return abs(value - benchmark) / math.sqrt(se2)


def trend_strength(p: float) -> float:
    """The two-sided normal z of a p-value: Φ⁻¹(1 − p/2), read from p/2 so a tiny p keeps its
    size; p is floored at ``MIN_P`` (z ≈ 37) because an exactly linear series has p = 0."""
    if not math.isfinite(p):
        return Z95  # flagged without a p-value: just significant
    return -NormalDist().inv_cdf(min(max(p, MIN_P), 1.0) / 2)


def _rank(f: KeyFinding) -> tuple[float, int, str, str]:
    return (-f.strength, KINDS.index(f.kind), f.indicator_id, f.unit_name)


# --------------------------------------------------------------------------- helpers


def _shown(frame: pd.DataFrame) -> pd.Series:
    """Rows with a number to show: not suppressed, value finite."""
    value = pd.to_numeric(frame["value"], errors="coerce")
    suppressed = frame["is_suppressed"].astype("boolean").fillna(False).astype(bool)
    return ~suppressed & np.isfinite(value.astype(float))


def _trend_start(values: pd.DataFrame, r: Any) -> tuple[str, float | None]:
    """The area's first shown value in the trend window (the indicator's last five periods with
    a shown value), as the engine's trend test reads it; ('', None) if none before ``r.period``."""
    ind = values[values["indicator_id"] == r.indicator_id]
    window = sorted(ind.loc[_shown(ind), "period"].unique())[-5:]
    mine = ind[
        (ind["role"] == r.role)
        & (ind["area_code"].astype(str) == str(r.area_code))
        & (ind["sex"] == "T")
        & ind["period"].isin(window)
        & (ind["period"] < str(r.period))
    ]
    mine = mine[_shown(mine)].sort_values("period")
    if mine.empty:
        return "", None
    first = mine.iloc[0]
    return str(first["period"]), float(first["value"])


def _direction(label: str, polarity: str, value: float, benchmark: float) -> str:
    """'higher' or 'lower': from the numbers, or from the label and polarity on a tie."""
    if value != benchmark:
        return "higher" if value > benchmark else "lower"
    up = {("better", "higher_is_better"), ("worse", "lower_is_better")}
    return "higher" if label == "higher" or (label, polarity) in up else "lower"


def _judged(direction: str, polarity: str) -> str:
    """The comparison key: better/worse where the polarity judges, else higher/lower."""
    if polarity == "higher_is_better":
        return "better" if direction == "higher" else "worse"
    if polarity == "lower_is_better":
        return "better" if direction == "lower" else "worse"
    return direction


def _word(key: str) -> str:
    return COMPARISON_LABELS_DA[key].lower()


def _judgement(comparison: str) -> str:
    return f" og dermed {_word(comparison)}" if comparison in ("better", "worse") else ""


def _title(ind: Any) -> str:
    return " ".join(str(ind.title_da).split())


def _fmt(ind: Any, value: float) -> str:
    return format_da(float(value), int(ind.decimals))


def _numbers(ind: Any, period: str, value: float, compared: str = "") -> str:
    """'2024: 41,2 mod landets 45,0 pr. 1.000 borgere 65+' (the unit once, at the end)."""
    parts = [f"{period}: {_fmt(ind, value)}", compared, _unit(ind)]
    return " ".join(p for p in parts if p)


def _unit(ind: Any) -> str:
    """The catalogue's unit, less a parenthesis the title already says ('(aldersstandardiseret)')."""
    unit, title = " ".join(str(ind.unit_da).split()), str(ind.title_da)
    for note in re.findall(r"\([^)]*\)", unit):
        if note in title:
            unit = unit.replace(note, "")
    return " ".join(unit.split())
