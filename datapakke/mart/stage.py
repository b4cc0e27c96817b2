"""The mart stage: compute and protect every indicator, write ``mart.*``, audit what was written."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import duckdb
import numpy as np
import pandas as pd

from datapakke.config import Settings, get_settings
from datapakke.geography import Geography, default_geography
from datapakke.mart.age_breakdown import age_value_table
from datapakke.mart.catalogue import (
    METHOD_RULES,
    Indicator,
    MeasureRef,
    catalogue_frame,
    load_catalogue,
)
from datapakke.mart.dsr_inversion import invertible_rows
from datapakke.mart.indicators import (
    EngineInputs,
    audit_published_counts,
    combine_indicator_values,
    indicator_frames,
    municipal_counts,
    published_counts,
    unit_counts,
    units_frame,
)
from datapakke.mart.peers import build_peer_tables
from datapakke.parallel import map_forked
from datapakke.schemas import ESTIMATE_COLUMNS, indicator_value_schema
from datapakke.timing import Stopwatch
from datapakke.versions import (
    CORE_STAGE,
    INDICATOR_STAGE,
    code_digest,
    digest,
    record_input,
    recorded_input,
    reference_digest,
)
from datapakke.warehouse import connect, replace_table


@dataclass
class IndicatorReport:
    rows: int
    suppressed_rows: int
    indicators: int
    audit_findings: list[str] = field(default_factory=list)
    schema_errors: str = ""
    seconds: dict[str, float] = field(default_factory=dict)  # per part of the step
    input_fingerprint: str = ""  # what it was built from (datapakke.versions)
    rebuilt: bool = True  # False: the inputs were as last built, nothing was written


def indicator_input_fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings) -> str:
    """Core as last built, the reference data, the disclosure threshold and the mart's code."""
    code = code_digest("mart", "schemas.py", "standard_population.py", "geography.py")
    return digest(
        recorded_input(con, CORE_STAGE),
        reference_digest(settings),
        settings.suppression_threshold,
        code,
    )


def build_indicator_values(
    settings: Settings | None = None,
    geo: Geography | None = None,
    catalogue: list[Indicator] | None = None,
    verify: bool = True,
    workers: int = 2,
) -> IndicatorReport:
    """Compute and protect every indicator; write mart.* and audit what was written.

    The disclosure audit and the schema check run on what was written and their findings are
    kept in ``mart.audit_finding`` (the Dagster asset's blocking checks read them there).
    ``verify=False`` skips them (tests of the computation only); such a build is not recorded as
    current, so the next verified build does it again. When core, the reference data, the
    threshold and the code are as last built (and verified), nothing is computed or written:
    the report comes from the warehouse, with ``rebuilt`` False.
    """
    settings = settings or get_settings()
    geo = geo or default_geography()
    watch = Stopwatch()
    with connect(settings.warehouse_path, read_only=True) as con:
        fingerprint = indicator_input_fingerprint(con, settings)
        if verify and catalogue is None and recorded_input(con, INDICATOR_STAGE) == fingerprint:
            return _report_as_built(con, fingerprint)
    catalogue = catalogue or load_catalogue()
    with watch("read inputs"), connect(settings.warehouse_path, read_only=True) as con:
        inputs = EngineInputs.load(con, catalogue, geo)
    # No connection is open while workers are forked: none of them holds a copy of one.
    with watch("disclosure control"):
        published = published_counts(inputs, catalogue, settings.suppression_threshold)
    with watch("indicators"):
        shares = _shares_by_cost(catalogue, workers)
        frames = map_forked(
            _indicator_share,
            (inputs, published, settings.suppression_threshold),
            shares,
            len(shares),
        )
        values = combine_indicator_values(list(chain.from_iterable(frames)))
    with watch("age bands"):
        by_age = age_value_table(
            inputs, catalogue, published, values, settings.suppression_threshold
        )
    with connect(settings.warehouse_path) as con, watch("write mart tables"):
        replace_table(con, "mart.indicator_value", values)
        replace_table(con, "mart.published_count", published)
        replace_table(con, "mart.indicator_age_value", by_age)
        replace_table(con, "mart.indicator", catalogue_frame(catalogue))
        replace_table(con, "mart.area_member", inputs.units)
    # Similar municipalities (issue 14): mart.peer_group and mart.peer_comparison.
    with watch("similar municipalities"):
        build_peer_tables(settings, geo, catalogue, values)
    report = IndicatorReport(
        rows=len(values),
        suppressed_rows=int(values["is_suppressed"].sum()),
        indicators=values["indicator_id"].nunique(),
        seconds=watch.seconds,
        input_fingerprint=fingerprint,
    )
    if verify:
        with watch("disclosure audit and schema check"):
            report.audit_findings = audit_disclosure(settings, geo)
            report.schema_errors = check_indicator_schema(values)
        findings = pd.DataFrame(
            [("disclosure_audit", f) for f in report.audit_findings]
            + [("schema", report.schema_errors)] * bool(report.schema_errors),
            columns=["check_name", "finding"],
        )
        with connect(settings.warehouse_path) as con:
            replace_table(con, "mart.audit_finding", findings)
            record_input(con, INDICATOR_STAGE, fingerprint)
    return report


def _report_as_built(con: duckdb.DuckDBPyConnection, fingerprint: str) -> IndicatorReport:
    """The report of the build the warehouse holds, read back (nothing recomputed)."""
    rows, suppressed, indicators = con.execute(
        "SELECT count(*), count(*) FILTER (is_suppressed), count(DISTINCT indicator_id) "
        "FROM mart.indicator_value"
    ).fetchone()
    audit, schema = recorded_findings(con)
    return IndicatorReport(
        rows, suppressed, indicators, audit, schema, input_fingerprint=fingerprint, rebuilt=False
    )


def recorded_findings(con: duckdb.DuckDBPyConnection) -> tuple[list[str], str]:
    """The disclosure audit's findings and the schema check's errors of the last verified build."""
    found = con.execute("SELECT check_name, finding FROM mart.audit_finding").fetchall()
    audit = [finding for check, finding in found if check == "disclosure_audit"]
    return audit, "".join(finding for check, finding in found if check == "schema")


def audit_disclosure(settings: Settings | None = None, geo: Geography | None = None) -> list[str]:
    """Re-read what was published and prove no suppressed count can be recovered."""
    settings = settings or get_settings()
    with connect(settings.warehouse_path, read_only=True) as con:
        published = con.execute("SELECT * FROM mart.published_count").df()
        values = con.execute(
            "SELECT v.indicator_id, v.area_level, v.grouping, v.area_code, v.period, v.sex, "
            "'total' AS age_band, v.numerator, v.is_suppressed FROM mart.indicator_value v "
            "JOIN mart.indicator i USING (indicator_id) WHERE i.disclosure = 'count' "
            "UNION ALL BY NAME SELECT a.* FROM mart.indicator_age_value a "
            "JOIN mart.indicator i USING (indicator_id) WHERE i.disclosure = 'count' "
            "AND a.age_band <> 'total'"
        ).df()
    findings = audit_published_counts(published, units_frame(geo or default_geography()))
    small = values[
        (values["numerator"] > 0) & (values["numerator"] < settings.suppression_threshold)
    ]
    findings += [
        f"{r.indicator_id} {r.period} {r.area_level}:{r.area_code}|{r.sex}"
        f"{'' if r.age_band == 'total' else ' ' + r.age_band}: numerator "
        f"{r.numerator:g} is below the threshold but published"
        for r in small.itertuples()
    ]
    return findings + audit_standardised_rates(settings, geo)


def audit_standardised_rates(
    settings: Settings | None = None,
    geo: Geography | None = None,
    catalogue: list[Indicator] | None = None,
    workers: int = 2,
) -> list[str]:
    """Attack every published DSR as a reader could: is it rounded to the catalogue's decimals,
    and does it single out a small age-band count (``dsr_inversion``)?

    The indicators are shared out over ``workers`` forked processes (about 4 s on one core), those
    of one denominator in the same process: each process reads the counts it needs itself, and
    the population by age and unit is the costliest read (no connection is open while they fork).
    """
    settings = settings or get_settings()
    standardised = [ind for ind in catalogue or load_catalogue() if ind.method == "dsr"]
    by_denominator: dict[MeasureRef, list[Indicator]] = {}
    for ind in standardised:
        by_denominator.setdefault(ind.denominator, []).append(ind)
    shares: list[list[Indicator]] = [[] for _ in range(max(1, workers))]
    for group in sorted(by_denominator.values(), key=len, reverse=True):
        min(shares, key=len).extend(group)
    shares = [share for share in shares if share]
    units = units_frame(geo or default_geography())
    found = map_forked(_audit_share, (settings, units), shares, len(shares))
    return list(chain.from_iterable(found))


def _audit_share(shared: tuple[Settings, pd.DataFrame], standardised: list[Indicator]) -> list[str]:
    """``audit_standardised_rates`` for some of the indicators, one at a time: a measure's counts
    by unit and age band are read when first needed and dropped once no later indicator uses
    them (holding them all doubled the refresh's peak memory)."""
    settings, units = shared
    findings: list[str] = []
    with connect(settings.warehouse_path, read_only=True) as con:
        values = con.execute(
            "SELECT * FROM mart.indicator_value WHERE list_contains(?, indicator_id)",
            [[ind.id for ind in standardised]],
        ).df()
        counts: dict[MeasureRef, pd.DataFrame] = {}
        for at, ind in enumerate(standardised):
            for ref in (ind.numerator, ind.denominator):
                if ref not in counts:
                    counts[ref] = unit_counts(municipal_counts(con, ref), units, by_age=True)
            rows = values[values["indicator_id"] == ind.id].reset_index(drop=True)
            figures = rows[ESTIMATE_COLUMNS].to_numpy(dtype=float)
            unrounded = np.isfinite(figures) & (np.round(figures, ind.decimals) != figures)
            findings += [
                f"{ind.id} {r.period} {r.area_level}:{r.area_code}|{r.sex}: published with more "
                f"than {ind.decimals} decimals"
                for r in rows[unrounded.any(axis=1)].itertuples()
            ]
            flagged = invertible_rows(
                rows,
                counts[ind.numerator],
                counts[ind.denominator],
                ind.multiplier,
                ind.decimals,
                settings.suppression_threshold,
            )
            findings += [
                f"{ind.id} {r.period} {r.area_level}:{r.area_code}|{r.sex}: the standardised "
                "rate singles out a small age-band count"
                for r in rows[flagged].itertuples()
            ]
            needed = {
                ref
                for later in standardised[at + 1 :]
                for ref in (later.numerator, later.denominator)
            }
            counts = {ref: frame for ref, frame in counts.items() if ref in needed}
    return findings


def check_indicator_schema(values: pd.DataFrame) -> str:
    """Pandera check of the published table; '' when it passes."""
    import pandera.pandas as pa

    try:
        indicator_value_schema().validate(values, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return str(errors.failure_cases.head(20).to_string())
    return ""


def _shares_by_cost(catalogue: list[Indicator], workers: int) -> list[list[Indicator]]:
    """Indicators split into ``workers`` shares of about equal cost (largest first)."""
    shares: list[list[Indicator]] = [[] for _ in range(max(1, workers))]
    load = [0.0] * len(shares)
    for ind in sorted(catalogue, key=lambda i: -METHOD_RULES[i.method].cost):
        lightest = load.index(min(load))
        shares[lightest].append(ind)
        load[lightest] += METHOD_RULES[ind.method].cost
    return [share for share in shares if share]


def _indicator_share(
    shared: tuple[EngineInputs, pd.DataFrame, int], share: list[Indicator]
) -> list[pd.DataFrame]:
    inputs, published, threshold = shared
    return indicator_frames(inputs, share, published, threshold)
