"""From raw text rows to typed ``core`` rows, with every rejected row quarantined with a reason.

Two passes: normalisation maps each text column to its canonical value (municipality code,
period, sex, age band, number) and quarantines what cannot be mapped; then the Pandera schema of
the target table checks the typed rows lazily and its failure cases are quarantined too. Nothing
is dropped silently: aggregate rows (the country, regions) and redundant totals are counted as
skipped, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import pandas as pd
import pandera.pandas as pa

from datapakke.geography import Geography
from datapakke.raw.coverage import (
    SPECIAL_AREA,
    aggregate_resolver,
    area_resolver,
    cross_check_aggregates,
    single_age_gaps,
    special_area_findings,
    special_area_name,
)
from datapakke.raw.periods import Period, parse_period
from datapakke.raw.periods import is_future as is_future_period
from datapakke.raw.registry import SourceSpec
from datapakke.raw.values import looks_like_formula, parse_number_series
from datapakke.schemas import MISSING_COLUMNS, QUARANTINE_COLUMNS, core_observation_schema
from datapakke.standard_population import AGE_BANDS

_SEX = {
    "1": "M",
    "m": "M",
    "mænd": "M",
    "mand": "M",
    "men": "M",
    "2": "K",
    "k": "K",
    "kvinder": "K",
    "kvinde": "K",
    "women": "K",
    "t": "T",
    "tot": "T",
    "ialt": "T",
    "i alt": "T",
    "køn i alt": "T",
    "total": "T",
}
_AGE_TOTAL = {"ialt", "i alt", "tot", "total", "alder i alt", "alle aldre"}
_BAND_START = {int(band.split("-")[0].rstrip("+")): band for band in AGE_BANDS}
_TEXT_COLUMNS = {
    "municipality_text": "municipality",
    "measure_text": "measure",
    "period_text": "period",
    "sex_text": "sex",
    "age_text": "age",
}


@dataclass
class ValidationResult:
    """Typed rows for the core table, the quarantine, counts, and whether the file was rejected."""

    source_id: str
    rows: pd.DataFrame
    quarantine: pd.DataFrame
    skipped: list[tuple[int, str]] = field(default_factory=list)
    rows_in: int = 0
    rejected_reason: str = ""
    # measure × municipality × period (× age band) whose figure is incomplete: rows were
    # quarantined, or single ages are absent from the file
    missing: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MISSING_COLUMNS))
    # What the file covers besides its rows (aggregates cross-checked, special areas), and what
    # a user must look at although the file was accepted (aggregates disagree, ages missing)
    findings: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def is_rejected(self) -> bool:
        return bool(self.rejected_reason)

    @property
    def bad_share(self) -> float:
        return len(self.quarantine) / self.rows_in if self.rows_in else 0.0


def normalise_age(text: str) -> str:
    """An age label as written in a source → ESP band, '65+', or 'total'. ValueError otherwise."""
    cleaned = re.sub(r"\s*(år|årige|years?)\b", "", text.strip().casefold()).strip()
    cleaned = cleaned.replace("–", "-").replace(" - ", "-")
    if cleaned in _AGE_TOTAL:
        return "total"
    over = re.fullmatch(r"(\d+)\s*(\+|og derover|og over|\+ ?)", cleaned)
    if over:
        start = int(over.group(1))
        if start == 90:
            return "90+"
        if start == 65:
            return "65+"
        raise ValueError(f"open age group {text!r} is not 65+ or 90+")
    band = re.fullmatch(r"(\d+)-(\d+)", cleaned)
    if band:
        start, end = int(band.group(1)), int(band.group(2))
        if start in _BAND_START and _BAND_START[start] != "90+" and end == start + 4:
            return _BAND_START[start]
        raise ValueError(f"age group {text!r} does not match the 5-year bands")
    if cleaned.isdigit():
        age = int(cleaned)
        return "90+" if age >= 90 else _BAND_START[age - age % 5]
    raise ValueError(f"unknown age {text!r}")


def normalise_sex(text: str) -> str:
    try:
        return _SEX[text.strip().casefold()]
    except KeyError:
        raise ValueError(f"unknown sex {text!r} (expected 1/2/TOT, Mænd/Kvinder/I alt)") from None


def _map_unique(series: pd.Series, func: Callable[[str], object]) -> tuple[pd.Series, pd.Series]:
    """Apply ``func`` once per distinct value; return (mapped values, error messages)."""
    mapped: dict[str, object] = {}
    errors: dict[str, str] = {}
    for value in series.unique():
        try:
            mapped[value] = func(value)
        except (KeyError, ValueError) as exc:
            errors[value] = str(exc.args[0]) if exc.args else str(exc)
    return series.map(mapped), series.map(errors).fillna("")


def _map_distinct(series: pd.Series, func: Callable[[str], object]) -> pd.Series:
    """``series.map(func)`` with ``func`` called once per distinct value (a file repeats each
    area and period thousands of times)."""
    return series.map({value: func(value) for value in series.unique()})


class _Quarantine:
    """Collects rejected rows; one row of input is quarantined at most once (first reason wins)."""

    def __init__(self, raw: pd.DataFrame) -> None:
        self.raw = raw
        self.entries: list[pd.DataFrame] = []
        self.rejected = pd.Series(False, index=raw.index)

    def add(
        self,
        mask: pd.Series,
        column: str | pd.Series,
        check: str,
        values: pd.Series,
        messages: str | pd.Series,
    ) -> None:
        """Quarantine the rows in ``mask`` not already quarantined; ``column`` and ``messages``
        are one text for all of them or a per-row Series."""
        mask = mask & ~self.rejected
        if not mask.any():
            return
        rows = self.raw[mask]
        self.entries.append(
            pd.DataFrame(
                {
                    "source_id": rows["source_id"],
                    "file": rows["_source_file"],
                    "row": rows["_source_row"].astype(int),
                    "column": column if isinstance(column, str) else column[mask],
                    "check": check,
                    "value": values[mask].astype(str),
                    "message": messages if isinstance(messages, str) else messages[mask],
                    "file_sha256": rows["_file_sha256"],
                    "loaded_at": rows["_loaded_at"],
                }
            )
        )
        self.rejected |= mask

    def frame(self) -> pd.DataFrame:
        if not self.entries:
            return pd.DataFrame(columns=QUARANTINE_COLUMNS)
        return pd.concat(self.entries, ignore_index=True)[QUARANTINE_COLUMNS]


def _measure_ids(raw: pd.DataFrame, spec: SourceSpec) -> tuple[pd.Series, pd.Series]:
    """The measure id of each row (the registry's measure or measure_map, plus the value
    column's suffix), and an error message where the label is not in the measure_map."""
    suffix = raw["value_column"].map(spec.value_columns).fillna("") if spec.value_columns else ""
    if spec.measure_map:
        base = raw["measure_text"].map(spec.measure_map)
        error = base.isna()
        messages = (
            "unknown measure label "
            + raw["measure_text"].map(repr)
            + ("; known: " + ", ".join(repr(k) for k in spec.measure_map))
        )
        return base.fillna("") + suffix, messages.where(error, "")
    return pd.Series(spec.measure or "", index=raw.index) + suffix, pd.Series("", index=raw.index)


@dataclass
class _Parsed:
    """Each row's text columns as canonical values (NaN where the row was quarantined)."""

    municipality: pd.Series  # 3-digit code; None for aggregates (the country, regions)
    measure_id: pd.Series
    period: pd.Series  # Period
    sex: pd.Series
    age: pd.Series
    numbers: pd.DataFrame  # value, is_suppressed, error (see parse_number_series)


class _Checker:
    """One file's rows, its quarantine, and the file's own name for each canonical column."""

    def __init__(self, raw: pd.DataFrame, spec: SourceSpec) -> None:
        self.raw = raw
        self.spec = spec
        self.quarantine = _Quarantine(raw)
        self.column_of = {role: spec.columns.get(role, role) for role in _TEXT_COLUMNS.values()}

    def no_formulas(self) -> None:
        """Text that a spreadsheet would run as a formula is never passed on."""
        for text_column, role in _TEXT_COLUMNS.items():
            formula = _map_unique(self.raw[text_column], looks_like_formula)[0].astype(bool)
            self.quarantine.add(
                formula,
                self.column_of[role],
                "no_formula",
                self.raw[text_column],
                "text starting with '=', '+', '-' or '@' looks like a spreadsheet formula",
            )

    def mapped(self, role: str, check: str, parse: Callable[[str], object]) -> pd.Series:
        """The role's text column parsed value by value; what does not parse is quarantined."""
        text = self.raw[f"{role}_text"]
        values, errors = _map_unique(text, parse)
        self.quarantine.add(errors != "", self.column_of[role], check, text, errors)
        return values

    def parse(self, geography: Geography) -> tuple[_Parsed, pd.Series]:
        """Every column parsed, in order; also the aggregate rows (valid, but not municipal)."""
        municipality = self.mapped("municipality", "known_municipality", area_resolver(geography))
        is_aggregate = municipality.isna() & ~self.quarantine.rejected
        measure_id, measure_error = _measure_ids(self.raw, self.spec)
        self.quarantine.add(
            measure_error != "",
            self.column_of["measure"],
            "known_measure",
            self.raw["measure_text"],
            measure_error,
        )
        period = self.mapped("period", "parseable_period", parse_period)
        sex = self.mapped("sex", "known_sex", normalise_sex)
        age = self.mapped("age", "known_age", normalise_age)
        decimal = (self.spec.layout or {}).get("decimal", ",")
        numbers = parse_number_series(self.raw["value_text"], decimal=decimal)
        self.quarantine.add(
            numbers["error"] != "",
            self.raw["value_column"],
            "number",
            self.raw["value_text"],
            numbers["error"],
        )
        return _Parsed(municipality, measure_id, period, sex, age, numbers), is_aggregate

    def not_future(self, period: pd.Series, today: date) -> None:
        is_future = period.map(lambda p: isinstance(p, Period) and is_future_period(p, today))
        self.quarantine.add(
            is_future.astype(bool),
            self.column_of["period"],
            "not_future",
            self.raw["period_text"],
            f"period lies in the future (today is {today.isoformat()})",
        )

    def unique_key(self) -> None:
        """A row repeating an earlier row's key (as written) is quarantined; the first stays."""
        duplicate = self.raw.duplicated(subset=[*_TEXT_COLUMNS, "value_column"], keep="first")
        self.quarantine.add(
            duplicate,
            "row",
            "unique_key",
            self.raw["value_text"],
            "duplicate row: the same measure, municipality, period, sex and age appear earlier",
        )


def _area_skips(raw: pd.DataFrame, rows: pd.Series, what: str) -> list[tuple[int, str]]:
    """Rows of an area that is not a municipality, each with the reason it was skipped."""
    return [
        (int(r), f"area {t!r} is {what}")
        for r, t in zip(
            raw.loc[rows, "_source_row"], raw.loc[rows, "municipality_text"], strict=True
        )
    ]


def _typed_rows(raw: pd.DataFrame, parsed: _Parsed, keep: pd.Series) -> pd.DataFrame:
    """The kept rows in the shape of ``core.observation``, with their lineage."""
    return pd.DataFrame(
        {
            "measure_id": parsed.measure_id[keep],
            "municipality_code": parsed.municipality[keep].astype(str),
            "period": parsed.period[keep].map(lambda p: p.code),
            "sex": parsed.sex[keep].astype(str),
            "age_band": parsed.age[keep].astype(str),
            "value": parsed.numbers.loc[keep, "value"].astype(float),
            "source_suppressed": parsed.numbers.loc[keep, "is_suppressed"].astype(bool),
            "source_id": raw.loc[keep, "source_id"],
            "_source_file": raw.loc[keep, "_source_file"],
            "_source_row": raw.loc[keep, "_source_row"].astype(int),
            "_source_column": raw.loc[keep, "value_column"],
            "_file_sha256": raw.loc[keep, "_file_sha256"],
            "_loaded_at": raw.loc[keep, "_loaded_at"],
        }
    )


def _rejection_reason(result: ValidationResult, max_bad_share: float) -> str:
    """Why the whole file is rejected ('' when it is not): too many rows failed."""
    if result.bad_share <= max_bad_share:
        return ""
    return (
        f"{len(result.quarantine)} of {result.rows_in} rows ({result.bad_share:.0%}) failed "
        f"validation, above the limit of {max_bad_share:.0%}: the whole file is rejected "
        "and the previous good data stay in use"
    )


def validate_observations(
    raw: pd.DataFrame,
    spec: SourceSpec,
    geography: Geography,
    today: date,
    max_bad_share: float,
    skipped: list[tuple[int, str]] | None = None,
) -> ValidationResult:
    """Normalise and check one source's raw rows; reject the whole file above ``max_bad_share``.

    A row is quarantined by the first rule it breaks, in this order: a formula in any text
    column, then an unknown municipality, measure, period, sex or age, a value that is not a
    number, a period in the future, a key seen earlier in the file, and last the Pandera schema
    of ``core.observation``. Aggregate areas are skipped (counted with the reason, as are the
    reader's ``skipped`` rows and totals whose parts are present), never quarantined.
    """
    checker = _Checker(raw, spec)
    checker.no_formulas()
    parsed, is_aggregate = checker.parse(geography)
    checker.not_future(parsed.period, today)
    checker.unique_key()
    quarantine = checker.quarantine
    is_special = (parsed.municipality == SPECIAL_AREA) & ~quarantine.rejected
    typed = _typed_rows(raw, parsed, keep=~quarantine.rejected & ~is_aggregate & ~is_special)
    _apply_schema(typed, geography, raw, quarantine)
    typed = typed[~quarantine.rejected.loc[typed.index]]
    age_gaps, age_findings = single_age_gaps(_single_ages(raw, typed))
    checked, mismatches = _cross_check(raw, parsed, is_aggregate, quarantine.rejected, geography)
    typed, totals = drop_redundant_totals(typed)
    result = ValidationResult(
        source_id=spec.id,
        rows=typed.reset_index(drop=True),
        quarantine=quarantine.frame(),
        skipped=[
            *(skipped or []),
            *_area_skips(raw, is_aggregate, "an aggregate (country/region), not a municipality"),
            *_area_skips(raw, is_special, "a special area (no municipality): counted, not loaded"),
            *totals,
        ],
        rows_in=len(raw),
        missing=pd.concat(
            [
                _incomplete_keys(parsed, quarantine.rejected),
                age_gaps.assign(rows_quarantined=0, reason="age_gap")[MISSING_COLUMNS],
            ],
            ignore_index=True,
        ),
        findings=[*special_area_findings(raw.loc[is_special, "municipality_text"]), *checked],
        warnings=[*mismatches, *age_findings],
    )
    result.rejected_reason = _rejection_reason(result, max_bad_share)
    return result


def _single_ages(raw: pd.DataFrame, typed: pd.DataFrame) -> pd.DataFrame:
    """The typed rows written with a single-year age (``38``, or a label ``38 år``), with that
    age as a number: a labels download must have its missing ages found like a codes one."""
    age_text = raw.loc[typed.index, "age_text"].str.strip().str.casefold()
    age = age_text.str.extract(r"^(\d+)\s*(?:år|årige|years?)?$", expand=False)
    single = age.notna()
    return typed.loc[
        single, ["measure_id", "municipality_code", "period", "sex", "age_band"]
    ].assign(age=age[single].astype(int))


def _cross_check(
    raw: pd.DataFrame,
    parsed: _Parsed,
    is_aggregate: pd.Series,
    rejected: pd.Series,
    geography: Geography,
) -> tuple[list[str], list[str]]:
    """Aggregate rows against the sum of the municipal rows, cell by cell as written."""
    counts = ~parsed.measure_id.astype(str).str.endswith("_pct") & ~rejected
    key = (
        parsed.measure_id.astype(str)
        + " "
        + raw["period_text"]
        + " "
        + raw["sex_text"]
        + " "
        + raw["age_text"]
    )
    value = parsed.numbers["value"]
    aggregates = pd.DataFrame(
        {
            "area": _map_distinct(raw["municipality_text"], aggregate_resolver(geography)),
            "key": key,
            "value": value,
        }
    )[is_aggregate & counts]
    # a special area by its name: the country counts them all, a region only its own
    special = _map_distinct(raw["municipality_text"], special_area_name)
    area = parsed.municipality.where(parsed.municipality != SPECIAL_AREA, special)
    cells = pd.DataFrame({"area": area, "key": key, "value": value})[~is_aggregate & counts]
    return cross_check_aggregates(cells, aggregates.dropna(subset=["area"]), geography)


def _incomplete_keys(parsed: _Parsed, rejected: pd.Series) -> pd.DataFrame:
    """The measure × municipality × period of every quarantined row whose key could be read.

    One bad row (a negative count in one age band, a second value for the same cell) makes the
    municipality's figure for that measure and period incomplete: a sum over its remaining rows
    would be a confident wrong number. The engine treats the whole figure as missing, so no value
    and no aggregate that includes it is published.
    """
    period = parsed.period[rejected].map(lambda p: p.code if isinstance(p, Period) else None)
    keys = pd.DataFrame(
        {
            "measure_id": parsed.measure_id[rejected],
            "municipality_code": parsed.municipality[rejected],
            "period": period,
        }
    )
    keys = keys[keys["measure_id"].astype(bool)].dropna()
    keys = keys[keys["municipality_code"] != SPECIAL_AREA]
    counted = keys.groupby(["measure_id", "municipality_code", "period"], as_index=False).size()
    return counted.rename(columns={"size": "rows_quarantined"}).assign(
        age_band=None, reason="quarantined"
    )[MISSING_COLUMNS]


def _apply_schema(
    typed: pd.DataFrame, geography: Geography, raw: pd.DataFrame, quarantine: _Quarantine
) -> None:
    """Run the Pandera schema lazily and quarantine each failure case's row with its message."""
    codes = sorted(geography.municipalities)
    is_count = ~typed["measure_id"].str.endswith("_pct")
    for counts, part in ((True, typed[is_count]), (False, typed[~is_count])):
        if part.empty:
            continue
        schema = core_observation_schema(codes, count_measures=counts, check_unique=False)
        try:
            schema.validate(part, lazy=True)
        except pa.errors.SchemaErrors as errors:
            cases = errors.failure_cases
            cases = cases[cases["index"].notna()]
            for (column, check), group in cases.groupby(["column", "check"]):
                mask = pd.Series(False, index=raw.index)
                mask.loc[group["index"].astype(int).unique()] = True
                is_value = column == "value"
                quarantine.add(
                    mask,
                    raw["value_column"] if is_value else str(column),
                    f"{column}:{check}" if " " not in str(check) else f"{column}",
                    raw["value_text"] if is_value else typed[column].reindex(raw.index).astype(str),
                    str(check) if " " in str(check) else f"failed check {check}",
                )


def drop_redundant_totals(typed: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[int, str]]]:
    """Sum single-year ages into bands and drop totals that duplicate their parts.

    A StatBank extract with ``ALDER=*`` holds every age *and* the total; keeping both would
    count people twice. Totals are dropped only where their parts are present, and counted.
    """
    if typed.empty:
        return typed, []
    skipped: list[tuple[int, str]] = []
    keys = ["measure_id", "municipality_code", "period"]
    for column, total in (("age_band", "total"), ("sex", "T")):
        is_part = typed[column] != total
        has_parts = is_part.groupby([typed[k] for k in keys]).transform("any")
        redundant = ~is_part & has_parts
        skipped += [
            (int(r), f"{column} total row dropped: its parts are in the file")
            for r in typed.loc[redundant, "_source_row"]
        ]
        typed = typed[~redundant]
    group_keys = ["measure_id", "municipality_code", "period", "sex", "age_band"]
    if typed.duplicated(group_keys).any():
        # Single years summed into one band: a band with any unknown (hidden) year is unknown.
        aggregations = {c: "first" for c in typed.columns if c not in [*group_keys, "value"]}
        aggregations["source_suppressed"] = "any"
        grouped = typed.assign(value_missing=typed["value"].isna()).groupby(group_keys)
        summed = grouped.agg({"value": "sum", "value_missing": "any", **aggregations})
        summed["value"] = summed["value"].mask(summed["value_missing"])
        typed = summed.reset_index()[typed.columns]
    return typed, skipped
