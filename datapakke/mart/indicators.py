"""The indicator engine: catalogue + core tables → ``mart.indicator_value`` (protected).

Counts are summed in DuckDB SQL from municipalities up to every unit that is published
(municipalities, every area of every grouping, regions, Denmark): aggregates are computed from
counts, never by averaging rates. Statistics come from ``stats.py`` and are vectorised over the
whole table; disclosure control from ``disclosure.py`` is applied before the table is returned,
so nothing downstream sees an unprotected count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from datapakke.geography import NATIONAL_CODE, NATIONAL_NAME, Geography
from datapakke.mart import stats
from datapakke.mart.age_bands import band_problem, breakdowns, municipal_band_counts, unit_ids
from datapakke.mart.catalogue import METHOD_RULES, Indicator, MeasureRef
from datapakke.mart.completeness import (
    ENGINE_MISSING_COLUMNS,
    missing_years,
    withhold_incomplete,
)
from datapakke.mart.disclosure import DisclosureProblem, protect, recoverable_cells
from datapakke.mart.dsr_inversion import INVERTIBLE_NOTE_DA, invertible_rows
from datapakke.mart.origin import indicator_origin, measure_origins
from datapakke.mart.population import is_population, population_sql
from datapakke.presentation import suppressed_text
from datapakke.schemas import ESTIMATE_COLUMNS, INDICATOR_VALUE_COLUMNS, UNIT_KEY
from datapakke.standard_population import ESP2013, bands_from

# Source cells hidden by the source itself ('<5') count as this in aggregates, and say so.
SOURCE_SUPPRESSED_IMPUTE = 2.5


def units_frame(geo: Geography) -> pd.DataFrame:
    """One row per published unit × member municipality (a municipality is its own unit)."""
    rows = []
    for code, muni in geo.municipalities.items():
        rows.append(("municipality", "", code, muni.name, muni.region_area_id, code))
        rows.append(("country", "", NATIONAL_CODE, NATIONAL_NAME, "", code))
    for area in geo.areas.values():
        level = "region" if area.grouping == "region" else "area"
        majority = (
            pd.Series([geo.municipalities[c].region_area_id for c in area.members]).mode().iloc[0]
        )
        region = area.area_id if level == "region" else majority
        rows += [(level, area.grouping, area.area_id, area.name, region, c) for c in area.members]
    return pd.DataFrame(
        rows,
        columns=[*UNIT_KEY, "area_name", "region_area_id", "municipality_code"],
    )


def _age_filter(min_age: int | None, column: str = "age_band") -> str:
    bands = bands_from(min_age)
    if bands is None:
        return "TRUE"
    return f"{column} IN (" + ", ".join(f"'{b}'" for b in bands) + ")"


def municipal_counts(con: duckdb.DuckDBPyConnection, ref: MeasureRef) -> pd.DataFrame:
    """One row per municipality × year × sex (M/K and their T) × age band for a measure."""
    # A figure left incomplete by quarantined rows counts as missing (see core.missing); the
    # population bases share the quarters of core.population.
    missing_measure = "population" if is_population(ref.measure) else ref.measure
    complete = (
        f"NOT EXISTS (SELECT 1 FROM core.missing m WHERE m.measure_id = '{missing_measure}' "
        "AND m.municipality_code = o.municipality_code AND m.period = o.period "
        f"AND (m.age_band IS NULL OR {_age_filter(ref.min_age, 'm.age_band')}))"
    )
    if is_population(ref.measure):
        source = population_sql(ref.measure, complete)
    else:
        source = (
            "SELECT municipality_code, period, sex, age_band, value, source_suppressed "
            f"FROM core.observation o WHERE measure_id = '{ref.measure}' AND {complete}"
        )
    sql = f"""
    WITH base AS (
        SELECT municipality_code, period, sex, age_band,
               coalesce(value, CASE WHEN source_suppressed THEN {SOURCE_SUPPRESSED_IMPUTE} END) AS x,
               source_suppressed AS imputed
        FROM ({source}) WHERE {_age_filter(ref.min_age)}
    )
    SELECT * FROM base
    UNION ALL
    SELECT municipality_code, period, 'T', age_band, sum(x), bool_or(imputed)
    FROM base WHERE sex IN ('M', 'K') GROUP BY ALL
    """
    return con.execute(sql).df()


def unit_counts(counts: pd.DataFrame, units: pd.DataFrame, by_age: bool) -> pd.DataFrame:
    """Sum municipal counts to every unit in DuckDB; note units with members missing."""
    age = ", age_band" if by_age else ""
    # Summed to one row per municipality first, so count(*) counts members (no DISTINCT needed).
    sql = f"""
    WITH size AS (
        SELECT area_level, "grouping", area_code, count(*) AS members_expected
        FROM units GROUP BY ALL
    ), municipal AS (
        SELECT municipality_code, period, sex{age}, sum(x) AS x, bool_or(imputed) AS imputed
        FROM counts GROUP BY ALL
    )
    SELECT u.area_level, u."grouping", u.area_code, c.period, c.sex{age},
           sum(c.x) AS x, bool_or(c.imputed) AS imputed,
           count(*) AS members_present,
           any_value(s.members_expected) AS members_expected
    FROM units u
    JOIN municipal c USING (municipality_code)
    JOIN size s USING (area_level, "grouping", area_code)
    GROUP BY ALL
    ORDER BY ALL
    """
    con = duckdb.connect()
    try:
        con.register("units", units)
        con.register("counts", counts)
        return con.execute(sql).df()
    finally:
        con.close()


@dataclass
class EngineInputs:
    """Everything the engine reads, fetched once."""

    units: pd.DataFrame
    counts: dict[MeasureRef, pd.DataFrame]
    weights: pd.DataFrame
    # figures left incomplete in the sources (completeness.missing_years of core.missing)
    missing: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=ENGINE_MISSING_COLUMNS)
    )
    # measure id → real | synthetic | mixed (origin.measure_origins); empty: nothing is real
    origins: dict[str, str] = field(default_factory=dict)
    _unit_counts: dict[tuple[MeasureRef, bool], pd.DataFrame] = field(default_factory=dict)
    _band_counts: dict[tuple[MeasureRef, str], pd.DataFrame] = field(default_factory=dict)

    def unit_counts(self, ref: MeasureRef, by_age: bool) -> pd.DataFrame:
        """Counts summed to every unit, computed once per measure (several indicators share one)."""
        key = (ref, by_age)
        if key not in self._unit_counts:
            self._unit_counts[key] = unit_counts(self.counts[ref], self.units, by_age)
        return self._unit_counts[key]

    def band_unit_counts(self, ref: MeasureRef, period: str) -> pd.DataFrame:
        """Counts of one period in broad age bands (``age_bands``), summed to every unit; only
        for a series ``age_bands.breakdowns`` found in five-year bands."""
        key = (ref, period)
        if key not in self._band_counts:
            municipal = municipal_band_counts(self.counts[ref], period)
            if municipal is None:
                raise ValueError(f"{ref.measure} {period} is not in five-year age bands")
            self._band_counts[key] = unit_counts(municipal, self.units, by_age=True)
        return self._band_counts[key]

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection, catalogue: list[Indicator], geo: Geography):
        refs: set[MeasureRef] = set()
        for ind in catalogue:
            if ind.method == "survey":
                for suffix in ("_pct", "_ci95_low_pct", "_ci95_high_pct", "_respondents"):
                    refs.add(MeasureRef(ind.numerator.measure + suffix, None))
            else:
                refs.add(ind.numerator)
            if ind.denominator:
                refs.add(ind.denominator)
        counts = {ref: municipal_counts(con, ref) for ref in sorted(refs, key=str)}
        weights = pd.DataFrame({"age_band": list(ESP2013), "weight": list(ESP2013.values())})
        missing = missing_years(con.execute("SELECT * FROM core.missing").df())
        return cls(
            units=units_frame(geo),
            counts=counts,
            weights=weights,
            missing=missing,
            origins=measure_origins(con),
        )


def _unit_names(units: pd.DataFrame) -> pd.DataFrame:
    return units.drop(columns="municipality_code").drop_duplicates(UNIT_KEY)


def rate_like(
    ind: Indicator, num: pd.DataFrame, den: pd.DataFrame, by: tuple[str, ...] = ()
) -> pd.DataFrame:
    """Rates and proportions with their 95 % and 99.8 % intervals per unit × period × sex (and
    the ``by`` columns, e.g. the age band)."""
    keys = [*UNIT_KEY, "period", "sex", *by]
    frame = num.merge(
        den[[*keys, "x", "imputed", "members_present"]].rename(
            columns={"x": "n", "imputed": "den_imputed", "members_present": "den_present"}
        ),
        on=keys,
        how="inner",
    )
    x, n = frame["x"].to_numpy(float), frame["n"].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(n > 0, x / n, np.nan)
    lows, highs = [], []
    for z in (stats.Z95, stats.Z998):
        if ind.method == "proportion":
            low, high = stats.wilson_interval(x, n, z)
        elif ind.method == "crude_rate":
            low, high = stats.rate_interval(x, n, 1.0, z)
        else:
            low, high = np.full(len(x), np.nan), np.full(len(x), np.nan)
        lows.append(low)
        highs.append(high)
    frame["numerator"], frame["denominator"] = x, n
    frame["value"] = value * ind.multiplier
    frame["ci95_low"], frame["ci95_high"] = lows[0] * ind.multiplier, highs[0] * ind.multiplier
    frame["ci998_low"], frame["ci998_high"] = lows[1] * ind.multiplier, highs[1] * ind.multiplier
    frame["imputed"] = frame["imputed"] | frame["den_imputed"]
    frame["members_present"] = np.minimum(frame["members_present"], frame["den_present"])
    return frame


def _dsr(ind: Indicator, inputs: EngineInputs) -> pd.DataFrame:
    num = inputs.unit_counts(ind.numerator, by_age=True)
    den = inputs.unit_counts(ind.denominator, by_age=True)
    keys = [*UNIT_KEY, "period", "sex"]
    # Every band of the denominator counts, with zero events where the numerator has none.
    frame = den.rename(columns={"x": "population"}).merge(
        num[[*keys, "age_band", "x", "imputed"]].rename(
            columns={"x": "events", "imputed": "num_imputed"}
        ),
        on=[*keys, "age_band"],
        how="left",
    )
    has_events = frame["events"].notna().groupby([frame[k] for k in keys]).transform("any")
    frame = frame[has_events.to_numpy()].copy()
    frame["events"] = frame["events"].fillna(0.0)
    frame["num_imputed"] = frame["num_imputed"].astype("boolean").fillna(False).astype(bool)
    frame = frame.merge(inputs.weights, on="age_band")
    result = stats.direct_standardised_rate(
        frame,
        keys,
        events_col="events",
        population_col="population",
        weight_col="weight",
        multiplier=ind.multiplier,
    )
    flags = frame.groupby(keys, as_index=False).agg(
        imputed=("num_imputed", "any"),
        members_present=("members_present", "min"),
        members_expected=("members_expected", "first"),
    )
    result = result.merge(flags, on=keys)
    result["numerator"], result["denominator"] = result["observed"], result["population"]
    result["note_small"] = ~result["is_reliable"].astype(bool)
    return result


def _survey(ind: Indicator, inputs: EngineInputs) -> pd.DataFrame:
    """Municipal survey estimates as published; aggregates as population-weighted means.

    A unit of one municipality (a municipality, or an area with a single member) shows that
    municipality's own estimate and published interval: nothing to weight. An aggregate needs
    every member's population in that year as its weight; without it the value is left blank
    (``note_no_weights``) rather than averaged with missing weights. The aggregate's SE comes
    from the members' published CIs (independent samples).
    """
    m = ind.numerator.measure

    def measure(suffix: str) -> pd.DataFrame:
        frame = inputs.counts[MeasureRef(m + suffix, None)]
        return frame[frame["sex"] == "T"][["municipality_code", "period", "x"]]

    est = measure("_pct").rename(columns={"x": "p"})
    for suffix, name in (
        ("_ci95_low_pct", "low"),
        ("_ci95_high_pct", "high"),
        ("_respondents", "resp"),
    ):
        est = est.merge(
            measure(suffix).rename(columns={"x": name}), on=["municipality_code", "period"]
        )
    pop = inputs.counts[ind.denominator]
    pop = pop[pop["sex"] == "T"].groupby(["municipality_code", "period"], as_index=False)["x"].sum()
    est = est.merge(pop.rename(columns={"x": "w"}), on=["municipality_code", "period"], how="left")
    est["se"] = (est["high"] - est["low"]) / (2 * stats.Z95)
    merged = inputs.units.merge(est, on="municipality_code")
    merged["wp"] = merged["w"] * merged["p"]
    merged["w2se2"] = merged["w"] ** 2 * merged["se"] ** 2
    keys = [*UNIT_KEY, "period"]
    frame = merged.groupby(keys, as_index=False).agg(
        sw=("w", "sum"),
        swp=("wp", "sum"),
        sw2se2=("w2se2", "sum"),
        resp=("resp", "sum"),
        members_present=("municipality_code", "nunique"),
        weights_present=("w", "count"),
        # The only member's own estimate (used where the unit has one member).
        p=("p", "first"),
        low=("low", "first"),
        high=("high", "first"),
        se=("se", "first"),
    )
    size = inputs.units.groupby(UNIT_KEY).size().rename("members_expected").reset_index()
    frame = frame.merge(size, on=UNIT_KEY)
    frame["sex"] = "T"
    single = (frame["members_expected"] == 1).to_numpy()
    weighted = frame["weights_present"] == frame["members_present"]
    frame["note_no_weights"] = ~single & ~weighted.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (frame["swp"] / frame["sw"]).where(weighted)
        mean_se = np.sqrt(frame["sw2se2"]) / frame["sw"]
    frame["value"] = np.where(single, frame["p"], mean)
    se = np.where(single, frame["se"], mean_se)
    for label, z in (("95", stats.Z95), ("998", stats.Z998)):
        frame[f"ci{label}_low"] = (frame["value"] - z * se).clip(lower=0)
        frame[f"ci{label}_high"] = (frame["value"] + z * se).clip(upper=100)
    # One municipality keeps its own published 95 % interval.
    frame.loc[single, "ci95_low"] = frame.loc[single, "low"]
    frame.loc[single, "ci95_high"] = frame.loc[single, "high"]
    frame["numerator"], frame["denominator"] = np.nan, frame["resp"]
    frame["imputed"] = False
    frame["note_few_respondents"] = frame["resp"] < (ind.min_respondents or 0)
    return frame.drop(columns=["p", "low", "high", "se"])


def _change(ind: Indicator, num: pd.DataFrame) -> pd.DataFrame:
    earlier = num[[*UNIT_KEY, "sex", "period", "x"]].copy()
    earlier["period"] = (earlier["period"].astype(int) + 5).astype(str)
    frame = num.merge(earlier.rename(columns={"x": "x_before"}), on=[*UNIT_KEY, "sex", "period"])
    frame["numerator"], frame["denominator"] = frame["x"], frame["x_before"]
    frame["value"] = (frame["x"] / frame["x_before"] - 1) * ind.multiplier
    return frame


def compute_indicator(ind: Indicator, inputs: EngineInputs) -> pd.DataFrame:
    """Unprotected values of one indicator for every unit, period and sex."""
    if ind.method == "dsr":
        frame = _dsr(ind, inputs)
    elif ind.method == "survey":
        frame = _survey(ind, inputs)
    else:
        num = inputs.unit_counts(ind.numerator, by_age=False)
        if ind.method == "count":
            frame = num.assign(numerator=num["x"], denominator=np.nan, value=num["x"])
        elif ind.method == "change_pct":
            frame = _change(ind, num)
        else:
            den = inputs.unit_counts(ind.denominator, by_age=False)
            frame = rate_like(ind, num, den)
    for column in ("ci95_low", "ci95_high", "ci998_low", "ci998_high"):
        if column not in frame:
            frame[column] = np.nan
    frame["value_note"] = notes(ind, frame)
    hide = frame["value_note"].str.contains("vises ikke", regex=False) | frame["value"].isna()
    frame.loc[hide, ESTIMATE_COLUMNS] = np.nan
    frame["indicator_id"] = ind.id
    return frame


def notes(ind: Indicator, frame: pd.DataFrame) -> pd.Series:
    """The Danish note of every row: why a value is blank, or what it includes."""
    notes = pd.Series("", index=frame.index)
    incomplete = frame["members_present"] < frame["members_expected"]
    notes[incomplete] = "Data mangler for en eller flere kommuner; tallet vises ikke."
    if "note_small" in frame:
        notes[frame["note_small"] & ~incomplete] = (
            "Færre end 10 hændelser: den aldersstandardiserede rate vises ikke."
        )
    if "note_few_respondents" in frame:
        notes[frame["note_few_respondents"] & ~incomplete] = (
            f"Færre end {ind.min_respondents} svarpersoner: estimatet vises ikke."
        )
    if "note_no_weights" in frame:
        notes[frame["note_no_weights"].astype(bool) & ~incomplete] = (
            "Der mangler folketal for året til at vægte kommunernes estimater sammen; "
            "tallet vises ikke."
        )
    # Every blank value says why, even one no rule above foresaw.
    notes[frame["value"].isna() & (notes == "")] = "Tallet kan ikke beregnes for denne periode."
    imputed = frame.get("imputed", pd.Series(False, index=frame.index)).astype(bool)
    notes[imputed & (notes == "")] = (
        "Omfatter celler, som kilden har skjult (<5); de indgår med 2,5 i summen."
    )
    return notes


# ---------------------------------------------------------------- disclosure control
def count_series_problem(
    units: pd.DataFrame, sexes: set[str]
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """Base cells (municipality × finest sex) and every published aggregate over them."""
    base_sexes = ["M", "K"] if {"M", "K"} <= sexes else ["T"]
    munis = sorted(units["municipality_code"].unique())
    cells = [f"municipality::{code}|{sex}" for code in munis for sex in base_sexes]
    aggregates: dict[str, tuple[str, ...]] = {}
    for key, members in units.groupby(UNIT_KEY)["municipality_code"]:
        level, grouping, code = key
        for sex in sorted(sexes):
            parts = base_sexes if sex == "T" else [sex]
            unit_id = f"{level}:{grouping}:{code}|{sex}"
            if level == "municipality" and sex in base_sexes:
                continue  # a base cell
            aggregates[unit_id] = tuple(
                f"municipality::{m}|{s}" for m in sorted(members) for s in parts
            )
    return cells, aggregates


def protect_counts(counts: pd.DataFrame, units: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Suppression flags for one count series (unit × period × sex), solved jointly per period."""
    counts = counts.assign(unit_id=unit_ids(counts))
    cells, aggregates = count_series_problem(units, set(counts["sex"]))
    flags = []
    for period, group in counts.groupby("period"):
        values = dict(zip(group["unit_id"], group["x"], strict=True))
        # A municipality with no row is in no sum: a known zero in the equations.
        problem = DisclosureProblem(
            cells={c: float(values.get(c, 0.0)) for c in cells},
            aggregates=aggregates,
        )
        result = protect(problem, threshold=threshold)
        flags.append(
            pd.DataFrame(
                {
                    "period": period,
                    "unit_id": group["unit_id"],
                    "is_suppressed": [result.is_suppressed(u) for u in group["unit_id"]],
                }
            )
        )
    return counts.merge(pd.concat(flags), on=["period", "unit_id"])


def published_counts(
    inputs: EngineInputs, catalogue: list[Indicator], threshold: int
) -> pd.DataFrame:
    """Every count that is published (numerators and non-population denominators), protected.

    One row per count series (measure, min age) × unit × period × sex, with ``count`` NULL where
    suppressed. The same series published as one indicator's numerator and another's denominator
    is protected once, so the two can never disagree.
    """
    refs: dict[str, MeasureRef] = {}
    for ind in catalogue:
        if ind.disclosure != "count":
            continue
        for ref in (ind.numerator, ind.denominator):
            if ref is not None and not is_population(ref.measure):
                refs[series_id(ref)] = ref
    # Periods published by age band as well (a series may serve several indicators).
    banded: dict[str, dict[str, tuple[str, ...]]] = {}
    for shown in breakdowns(catalogue, inputs.counts):
        for ref in (shown.indicator.numerator, shown.indicator.denominator):
            if ref is not None and series_id(ref) in refs:
                banded.setdefault(series_id(ref), {})[shown.period] = shown.bands
    pieces = []
    for sid, ref in sorted(refs.items()):
        summed = inputs.unit_counts(ref, by_age=False)
        by_band = banded.get(sid, {})
        by_total = summed[~summed["period"].isin(by_band)]
        if len(by_total):
            protected = protect_counts(by_total, inputs.units, threshold)
            pieces.append(protected.assign(age_band="total", series_id=sid))
        for period, bands in sorted(by_band.items()):
            joint = protect_counts_by_band(inputs, ref, period, list(bands), threshold)
            pieces.append(joint.assign(series_id=sid))
    frame = pd.concat(pieces, ignore_index=True)
    frame["count"] = frame["x"].where(~frame["is_suppressed"])
    return frame[PUBLISHED_COUNT_COLUMNS]


PUBLISHED_COUNT_COLUMNS = [
    *("series_id", *UNIT_KEY, "period", "sex", "age_band", "count", "is_suppressed")
]


def protect_counts_by_band(
    inputs: EngineInputs, ref: MeasureRef, period: str, bands: list[str], threshold: int
) -> pd.DataFrame:
    """One period of a series published as totals (every sex) and by age band (sexes together),
    protected as one problem (``age_bands.band_problem``): its rows, flagged."""
    totals = inputs.unit_counts(ref, by_age=False)
    totals = totals[totals["period"] == period].assign(age_band="total")
    by_band = inputs.band_unit_counts(ref, period)
    by_band = by_band[(by_band["sex"] == "T") & by_band["age_band"].isin(bands)]
    municipal = municipal_band_counts(inputs.counts[ref], period)
    assert municipal is not None  # breakdowns() found it in five-year bands
    base = municipal.assign(
        area_level="municipality", grouping="", area_code=municipal.pop("municipality_code")
    )
    rows = pd.concat([totals, by_band], ignore_index=True)
    values = dict(zip(unit_ids(base), base["x"], strict=True))
    values.update(zip(unit_ids(rows), rows["x"], strict=True))
    problem = band_problem(inputs.units, set(totals["sex"]), bands, values)
    result = protect(problem, threshold=threshold)
    rows["is_suppressed"] = [result.is_suppressed(u) for u in unit_ids(rows)]
    return rows


def series_id(ref: MeasureRef) -> str:
    return ref.measure if ref.min_age is None else f"{ref.measure}_{ref.min_age}plus"


def audit_published_counts(published: pd.DataFrame, units: pd.DataFrame) -> list[str]:
    """The disclosure audit: which suppressed counts could be recovered from what is published.

    Rebuilds each series × period problem from the *published* table alone and runs the
    row-space test; returns readable descriptions of every recoverable cell (empty = safe).
    """
    problems: list[str] = []
    published = published.assign(unit_id=unit_ids(published))
    shapes: dict[frozenset[str], tuple[list[str], dict[str, tuple[str, ...]]]] = {}
    for (sid, period), group in published.groupby(["series_id", "period"]):
        bands = sorted(set(group["age_band"]) - {"total"})
        if bands:
            problems += _audit_by_band(group, units, bands, f"{sid} {period}")
            continue
        sexes = frozenset(group["sex"])
        if sexes not in shapes:
            shapes[sexes] = count_series_problem(units, set(sexes))
        cells, aggregates = shapes[sexes]
        values = dict(zip(group["unit_id"], group["count"], strict=True))
        suppressed = set(group.loc[group["is_suppressed"], "unit_id"])
        problem = DisclosureProblem(
            cells={c: float(values.get(c, 0.0)) for c in cells}, aggregates=aggregates
        )
        leaked = recoverable_cells(
            problem,
            frozenset(c for c in cells if c in suppressed),
            frozenset(a for a in aggregates if a in suppressed),
        )
        problems += [f"{sid} {period}: {cell}" for cell in leaked]
    return problems


def _audit_by_band(
    group: pd.DataFrame, units: pd.DataFrame, bands: list[str], label: str
) -> list[str]:
    """The audit of one series × period published by band: the problem rebuilt from the
    published counts alone (hidden ones unknown)."""
    values = dict(zip(group["unit_id"], group["count"], strict=True))
    problem = band_problem(units, set(group["sex"]), bands, values)
    suppressed = set(group.loc[group["is_suppressed"], "unit_id"])
    leaked = recoverable_cells(
        problem,
        frozenset(c for c in problem.cells if c in suppressed),
        frozenset(a for a in problem.aggregates if a in suppressed),
    )
    return [f"{label}: {cell}" for cell in leaked]


def apply_protection(
    frame: pd.DataFrame, ind: Indicator, published: pd.DataFrame, threshold: int
) -> pd.DataFrame:
    """Withhold every row whose numerator or (counted) denominator ``published`` hides; rows
    without an ``age_band`` column are totals."""
    keys = [*UNIT_KEY, "period", "sex", "age_band"]
    rows = frame.reindex(columns=keys).fillna({"age_band": "total"})
    hidden = pd.Series(False, index=frame.index)
    for ref, column in ((ind.numerator, "numerator"), (ind.denominator, "denominator")):
        if ind.disclosure != "count" or ref is None or is_population(ref.measure):
            continue
        series = published[published["series_id"] == series_id(ref)][[*keys, "is_suppressed"]]
        flags = rows.merge(series, on=keys, how="left")["is_suppressed"]
        flags = flags.astype("boolean").fillna(False).astype(bool).to_numpy()
        frame.loc[flags, column] = np.nan
        hidden |= flags
    frame["is_suppressed"] = hidden.to_numpy()
    frame.loc[hidden, ESTIMATE_COLUMNS] = np.nan
    frame.loc[hidden, "value_note"] = f"Skjult af diskretionshensyn ({suppressed_text(threshold)})."
    return frame


# ---------------------------------------------------------------- comparisons and trends
def with_national_value(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``frame`` with ``national_value``: Denmark's value in the same ``keys`` (period and sex,
    or age band)."""
    national = frame.loc[frame["area_level"] == "country", [*keys, "value"]]
    return frame.merge(national.rename(columns={"value": "national_value"}), on=keys, how="left")


def against(frame: pd.DataFrame, interval: str, benchmark: str, ind: Indicator) -> pd.Series:
    """Each row's ``interval`` (``ci95``/``ci998``) against its ``benchmark`` column, read through
    the indicator's polarity; the benchmark's own level and those above it are not compared."""
    above = {"national_value": ["country"], "region_value": ["region", "country"]}[benchmark]
    return stats.compare_to_benchmark(
        frame[f"{interval}_low"],
        frame[f"{interval}_high"],
        frame[benchmark].where(~frame["area_level"].isin(above)),
        ind.polarity,
    )


def _compare(frame: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    keys = ["period", "sex"]
    region = frame[frame["area_level"] == "region"][[*keys, "area_code", "value"]].rename(
        columns={"area_code": "region_area_id", "value": "region_value"}
    )
    frame = with_national_value(frame, keys).merge(region, on=[*keys, "region_area_id"], how="left")
    if ind.interval == "none":
        for column in ("compared_to_region", "compared_to_national", "compared_to_national_998"):
            frame[column] = "not_compared"
        return frame
    frame["compared_to_national"] = against(frame, "ci95", "national_value", ind)
    frame["compared_to_national_998"] = against(frame, "ci998", "national_value", ind)
    frame["compared_to_region"] = against(frame, "ci95", "region_value", ind)
    return frame


def _trend(frame: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Trend over the last five published points, stored on each series' latest period.

    Counts use the quasi-Poisson/quasi-binomial test on numerator and denominator; DSRs and
    survey estimates the weighted least-squares test with weights from their 95 % interval
    (as published, rounded to the catalogue's decimals: the rounding error is allowed for);
    values without uncertainty OLS (see ``stats.trend_test``). A latest row that is suppressed
    or blank shows no number, so it carries no trend either ('').
    """
    keys = [*UNIT_KEY, "sex"]
    shown = ~frame["is_suppressed"].astype(bool) & frame["value"].notna()
    usable = frame[shown]
    periods = sorted(usable["period"].unique())[-5:]
    usable = usable[usable["period"].isin(periods)]
    kind = METHOD_RULES[ind.method].statistic or "value"
    events = "numerator" if kind != "value" else "value"
    has_interval = kind == "value" and ind.interval != "none"
    trend = stats.trend_test(
        usable,
        keys,
        period_col="period",
        events_col=events,
        exposure_col="denominator",
        kind=kind,
        last_n=5,
        interval_cols=("ci95_low", "ci95_high") if has_interval else None,
        rounding=10.0**-ind.decimals if has_interval else 0.0,
    )
    latest = frame["period"] == (periods[-1] if periods else None)
    merged = frame.merge(trend[[*keys, "trend", "trend_p_value"]], on=keys, how="left")
    merged.loc[~(latest & shown).to_numpy(), ["trend", "trend_p_value"]] = [None, np.nan]
    merged["trend"] = merged["trend"].fillna("")
    return merged


def _protect_standardised(
    frame: pd.DataFrame, ind: Indicator, inputs: EngineInputs, threshold: int
) -> pd.DataFrame:
    """A DSR is published rounded to the catalogue's decimals, and withheld where value and
    limits would single out a small age-band count (see ``dsr_inversion``)."""
    if ind.method != "dsr":
        return frame
    frame[ESTIMATE_COLUMNS] = frame[ESTIMATE_COLUMNS].round(ind.decimals)
    flagged = invertible_rows(
        frame,
        inputs.unit_counts(ind.numerator, by_age=True),
        inputs.unit_counts(ind.denominator, by_age=True),
        ind.multiplier,
        ind.decimals,
        threshold,
    )
    frame.loc[flagged, ESTIMATE_COLUMNS] = np.nan
    frame.loc[flagged, "value_note"] = INVERTIBLE_NOTE_DA
    return frame


def indicator_frames(
    inputs: EngineInputs, indicators: list[Indicator], published: pd.DataFrame, threshold: int
) -> list[pd.DataFrame]:
    """One protected frame per indicator; each is independent, so they can be made in parallel."""
    names = _unit_names(inputs.units)
    municipal = names[names["area_level"] == "municipality"]
    member_names = dict(zip(municipal["area_code"], municipal["area_name"], strict=True))
    frames = []
    for ind in indicators:
        frame = compute_indicator(ind, inputs)
        frame = withhold_incomplete(frame, ind, inputs.missing, inputs.units, member_names)
        frame = frame.merge(names, on=UNIT_KEY, how="left")
        frame = apply_protection(frame, ind, published, threshold)
        frame = _protect_standardised(frame, ind, inputs, threshold)
        frame = _compare(frame, ind)
        frame = _trend(frame, ind)
        frame["data_origin"] = indicator_origin(ind, inputs.origins)
        frames.append(frame.reindex(columns=INDICATOR_VALUE_COLUMNS))
    return frames


def combine_indicator_values(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """The per-indicator frames as mart.indicator_value, in its fixed row order."""
    values = pd.concat(frames, ignore_index=True)
    values["is_suppressed"] = values["is_suppressed"].astype(bool)
    values["value_note"] = values["value_note"].fillna("")
    for column in ("compared_to_region", "compared_to_national", "compared_to_national_998"):
        values[column] = values[column].fillna("not_compared")
    order = {"municipality": 0, "area": 1, "region": 2, "country": 3}
    values = values.sort_values(
        ["indicator_id", "period", "sex", "area_level", "grouping", "area_code"],
        key=lambda s: s.map(order) if s.name == "area_level" else s,
    ).reset_index(drop=True)
    return values
