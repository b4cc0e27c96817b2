"""The indicator catalogue (``data/reference/indicators.yaml``): loaded once, checked on load.

Every indicator is defined once there; the engine, the charts and the pack's "Om data" sheet all
read it from here, so a definition can never differ between the table and its explanation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd
import yaml

from datapakke.config import REFERENCE_DIR
from datapakke.mart.population import POPULATION_MEASURES
from datapakke.presentation import THEME_ORDER

POLARITIES = ("higher_is_better", "lower_is_better", "no_judgement")
INTERVALS = {"none", "wilson", "byar_exact", "dobson", "survey"}
DISCLOSURE_RULES = {"count", "none"}


@dataclass(frozen=True)
class MethodRule:
    """What a catalogue method means everywhere: its interval, how its trend is tested and its
    funnel drawn, how it is described in Danish, and what it costs to compute."""

    intervals: frozenset[str]  # the interval methods allowed (one method: table, chart, funnel)
    statistic: str | None  # 'rate' | 'proportion': event-based trend test and funnel; else None
    description_da: str  # the "Om data" sentence
    no_funnel_da: str  # why no funnel is drawn (when statistic is None)
    is_count: bool = False  # a sum: an area is not comparable with single municipalities
    cost: float = 1.0  # relative compute cost, for sharing the indicators among workers


_NO_UNCERTAINTY_DA = "Tragtdiagram vises ikke for tal uden statistisk usikkerhed"
METHOD_RULES: dict[str, MethodRule] = {
    "count": MethodRule(frozenset({"none"}), None, "Optælling.", _NO_UNCERTAINTY_DA, is_count=True),
    "share": MethodRule(
        frozenset({"none"}),
        None,
        "Andel i procent: tæller divideret med nævner, gange 100.",
        _NO_UNCERTAINTY_DA,
    ),
    "change_pct": MethodRule(
        frozenset({"none"}),
        None,
        "Ændring i procent i forhold til samme tidspunkt fem år tidligere.",
        _NO_UNCERTAINTY_DA,
    ),
    "proportion": MethodRule(
        frozenset({"wilson"}),
        "proportion",
        "Andel: tæller divideret med nævner.",
        "",
    ),
    "crude_rate": MethodRule(
        frozenset({"byar_exact"}),
        "rate",
        "Rate: antal hændelser divideret med antal borgere (ikke aldersstandardiseret).",
        "",
    ),
    "dsr": MethodRule(
        frozenset({"dobson"}),
        None,
        "Direkte aldersstandardisering med Europas standardbefolkning 2013 (ESP 2013, 19 "
        "aldersgrupper), så områder med forskellig alderssammensætning kan sammenlignes. Vises "
        "ikke ved færre end 10 hændelser.",
        "Tragtdiagram vises ikke for aldersstandardiserede rater",
        cost=6.0,
    ),
    "survey": MethodRule(
        frozenset({"survey"}),
        None,
        "Spørgeskemaestimat fra Den Nationale Sundhedsprofil (vægtet, så svarene "
        "repræsenterer befolkningen).",
        "Tragtdiagram vises ikke for spørgeskemaestimater",
        cost=2.0,
    ),
}
METHODS = set(METHOD_RULES)


class CatalogueError(ValueError):
    """A catalogue entry that breaks a rule; the message names the indicator and the field."""


@dataclass(frozen=True)
class MeasureRef:
    """A measure and the youngest age band it counts (None = every age)."""

    measure: str
    min_age: int | None


@dataclass(frozen=True)
class Indicator:
    id: str
    title_da: str
    definition_da: str
    theme: str
    numerator: MeasureRef
    denominator: MeasureRef | None
    method: str
    interval: str
    standard_population: str | None
    multiplier: float
    unit_da: str
    decimals: int
    polarity: str
    source_da: str
    caveats_da: str
    disclosure: str
    disclosure_note_da: str
    min_respondents: int | None = None
    order: int = 0

    @property
    def measures(self) -> set[str]:
        refs = [self.numerator] + ([self.denominator] if self.denominator else [])
        return {ref.measure for ref in refs}


_REQUIRED = [
    "id",
    "title_da",
    "definition_da",
    "theme",
    "numerator",
    "method",
    "interval",
    "multiplier",
    "unit_da",
    "decimals",
    "polarity",
    "source_da",
    "disclosure",
    "disclosure_note_da",
]


def _measure_ref(value: object, where: str, field: str) -> MeasureRef | None:
    if value is None:
        return None
    if not isinstance(value, dict) or "measure" not in value:
        raise CatalogueError(f"{where}: {field} must be {{measure: ..., min_age: ...}}")
    unknown = set(value) - {"measure", "min_age"}
    if unknown:
        raise CatalogueError(f"{where}: {field} has unknown key(s) {sorted(unknown)}")
    min_age = value.get("min_age")
    if min_age is not None and (not isinstance(min_age, int) or min_age % 5 != 0):
        raise CatalogueError(
            f"{where}: {field}.min_age must be a multiple of 5 (an age band start)"
        )
    return MeasureRef(measure=str(value["measure"]), min_age=min_age)


def parse_catalogue(
    data: dict, source: str, known_measures: set[str] | None = None
) -> list[Indicator]:
    """Check and convert the YAML structure; ``known_measures`` rejects typos in measure ids."""
    if not isinstance(data, dict) or not isinstance(data.get("indicators"), list):
        raise CatalogueError(f"{source}: expected a mapping with a list under 'indicators'")
    defaults = data.get("defaults") or {}
    allowed = {f.name for f in fields(Indicator)} - {"order"}
    indicators: list[Indicator] = []
    seen: set[str] = set()
    for order, raw in enumerate(data["indicators"]):
        entry = {**defaults, **raw}
        where = f"{source}: indicator {entry.get('id', f'#{order + 1}')!r}"
        missing = [k for k in _REQUIRED if entry.get(k) in (None, "")]
        if missing:
            raise CatalogueError(f"{where}: missing field(s) {', '.join(missing)}")
        unknown = set(entry) - allowed
        if unknown:
            raise CatalogueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if entry["id"] in seen:
            raise CatalogueError(f"{where}: id used twice")
        seen.add(entry["id"])
        for key, allowed_values in [
            ("method", METHODS),
            ("interval", INTERVALS),
            ("polarity", POLARITIES),
            ("disclosure", DISCLOSURE_RULES),
            ("theme", set(THEME_ORDER)),
        ]:
            if entry[key] not in allowed_values:
                raise CatalogueError(
                    f"{where}: {key} {entry[key]!r} is not one of {', '.join(sorted(allowed_values))}"
                )
        if entry["interval"] not in METHOD_RULES[entry["method"]].intervals:
            raise CatalogueError(
                f"{where}: method {entry['method']} takes interval "
                f"{'/'.join(sorted(METHOD_RULES[entry['method']].intervals))}, not {entry['interval']}"
            )
        if entry["method"] == "dsr" and entry.get("standard_population") != "ESP2013":
            raise CatalogueError(f"{where}: method dsr needs standard_population ESP2013")
        numerator = _measure_ref(entry["numerator"], where, "numerator")
        denominator = _measure_ref(entry.get("denominator"), where, "denominator")
        needs_denominator = entry["method"] not in {"count", "change_pct"}
        if needs_denominator and denominator is None:
            raise CatalogueError(f"{where}: method {entry['method']} needs a denominator")
        indicator = Indicator(
            **{k: v for k, v in entry.items() if k not in {"numerator", "denominator"}},
            numerator=numerator,  # type: ignore[arg-type]
            denominator=denominator,
            order=order,
        )
        if known_measures is not None:
            unknown_measures = indicator.measures - known_measures - set(POPULATION_MEASURES)
            if entry["method"] == "survey":
                unknown_measures = {m for m in unknown_measures if f"{m}_pct" not in known_measures}
            if unknown_measures:
                raise CatalogueError(
                    f"{where}: unknown measure(s) {', '.join(sorted(unknown_measures))}"
                )
        indicators.append(indicator)
    return indicators


def load_catalogue(
    path: Path | None = None, known_measures: set[str] | None = None
) -> list[Indicator]:
    """Load ``indicators.yaml`` (or another file) and check every entry."""
    path = path or REFERENCE_DIR / "indicators.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path}: not valid YAML ({exc})") from None
    return parse_catalogue(data, str(path), known_measures)


def catalogue_frame(indicators: list[Indicator]) -> pd.DataFrame:
    """The catalogue as a table (one row per indicator), as stored in marts and shown in packs."""
    rows = []
    for ind in indicators:
        rows.append(
            {
                "indicator_id": ind.id,
                "order": ind.order,
                "theme": ind.theme,
                "title_da": ind.title_da,
                "definition_da": ind.definition_da,
                "numerator_measure": ind.numerator.measure,
                "numerator_min_age": ind.numerator.min_age,
                "denominator_measure": ind.denominator.measure if ind.denominator else None,
                "denominator_min_age": ind.denominator.min_age if ind.denominator else None,
                "method": ind.method,
                "interval": ind.interval,
                "standard_population": ind.standard_population,
                "multiplier": float(ind.multiplier),
                "unit_da": ind.unit_da,
                "decimals": int(ind.decimals),
                "polarity": ind.polarity,
                "source_da": ind.source_da,
                "caveats_da": ind.caveats_da,
                "disclosure": ind.disclosure,
                "disclosure_note_da": ind.disclosure_note_da,
            }
        )
    return pd.DataFrame(rows)
