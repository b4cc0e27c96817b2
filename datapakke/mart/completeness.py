"""Correct or absent: no published figure may rest on a municipality whose data were rejected.

When validation quarantines some rows of a source (a negative count in one age band, a second
value for the same cell), the municipality's figure for that measure and period is incomplete
(``core.missing``). The engine already leaves those rows out of every sum; this module makes the
consequence visible instead of publishing a smaller, confident, wrong number:

- the municipality's own row says it was rejected in the source ("afvist i kilden"), which is a
  different reason from too few events or disclosure control;
- every aggregate with that municipality as a member (its areas in every grouping, its region,
  Denmark) is withheld with a note naming the missing members;
- comparisons and trends then skip those points, because they only use published values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datapakke.mart.catalogue import Indicator
from datapakke.mart.population import is_population, missing_population_years
from datapakke.schemas import ESTIMATE_COLUMNS, UNIT_KEY
from datapakke.standard_population import bands_from

REJECTED_NOTE_DA = (
    "Afvist i kilden: nogle af kommunens rækker for perioden blev sat i karantæne ved "
    "valideringen, så tallet vises ikke."
)


#: The engine's view of core.missing (see :func:`missing_years`).
ENGINE_MISSING_COLUMNS = ["measure_id", "municipality_code", "period", "age_band", "reasons"]
AGE_GAP_NOTE_DA = (
    "Ufuldstændig i kilden: kildens fil mangler nogle aldre for kommunen i perioden, så tallet "
    "vises ikke."
)


def missing_years(missing: pd.DataFrame) -> pd.DataFrame:
    """``core.missing`` in the engine's periods: population quarters become the years each
    population basis loses (:func:`missing_population_years`); other periods are kept."""
    columns = ENGINE_MISSING_COLUMNS
    others = missing.loc[~missing["measure_id"].map(is_population), columns]
    population = missing_population_years(missing[columns])
    return pd.concat([others, population], ignore_index=True).drop_duplicates()


def indicator_refs(ind: Indicator) -> dict[str, int | None]:
    """Every measure an indicator's value is built from, with the youngest age it counts."""
    refs = {ind.numerator.measure: ind.numerator.min_age}
    if ind.method == "survey":
        base = ind.numerator.measure
        refs |= {
            base + s: None for s in ("_pct", "_ci95_low_pct", "_ci95_high_pct", "_respondents")
        }
    if ind.denominator is not None:
        refs[ind.denominator.measure] = ind.denominator.min_age
    return refs


def _relevant_gaps(ind: Indicator, missing: pd.DataFrame) -> pd.DataFrame:
    """The gaps an indicator rests on: a whole missing figure, or a missing age band it counts."""
    refs = indicator_refs(ind)
    gaps = missing[missing["measure_id"].isin(refs)]
    counted = [
        band is None
        or pd.isna(band)
        or (bands := bands_from(refs[measure])) is None
        or band in bands
        for measure, band in zip(gaps["measure_id"], gaps["age_band"], strict=True)
    ]
    return gaps[np.array(counted, dtype=bool)]


def _missing_members(
    ind: Indicator, missing: pd.DataFrame, units: pd.DataFrame, names: dict[str, str]
) -> pd.DataFrame:
    """One row per unit × period with a missing member: the members' names, in code order, and
    whether any was rejected in its source (else only ages were missing from the file)."""
    gaps = _relevant_gaps(ind, missing)
    gaps = gaps.assign(rejected=gaps["reasons"].str.contains("quarantined", na=True))
    gaps = gaps.groupby(["municipality_code", "period"], as_index=False)["rejected"].any()
    if ind.method == "change_pct":  # the value five years later rests on this period too
        later = gaps.assign(period=(gaps["period"].astype(int) + 5).astype(str))
        gaps = pd.concat([gaps, later]).drop_duplicates(["municipality_code", "period"])
    hit = units[[*UNIT_KEY, "municipality_code"]].merge(gaps, on="municipality_code")
    hit = hit.sort_values("municipality_code")
    hit["member_name"] = hit["municipality_code"].map(names)
    return hit.groupby([*UNIT_KEY, "period"], as_index=False).agg(
        missing_codes=("municipality_code", tuple),
        missing_names=("member_name", ", ".join),
        rejected=("rejected", "any"),
    )


def withhold_incomplete(
    frame: pd.DataFrame,
    ind: Indicator,
    missing: pd.DataFrame,
    units: pd.DataFrame,
    names: dict[str, str],
) -> pd.DataFrame:
    """Withhold every row of ``frame`` (one indicator) that rests on a missing member.

    ``missing`` is :func:`missing_years` of ``core.missing``; ``names`` maps municipality codes
    to names. A rejected municipality that has no row left at all gets one per sex, so its own
    cell can say why it is empty.
    """
    gaps = _missing_members(ind, missing, units, names)
    if gaps.empty:
        return frame
    keys = [*UNIT_KEY, "period"]
    own = gaps[gaps["area_level"] == "municipality"]
    # an indicator with no computed row at all (nothing left to divide) still gets its notes
    sexes = sorted(frame["sex"].dropna().unique()) if "sex" in frame else []
    absent = own.merge(pd.DataFrame({"sex": pd.Series(sexes or ["T"], dtype=object)}), how="cross")
    present = frame.reindex(columns=[*keys, "sex"]).astype({"sex": object, "period": object})
    absent = absent.merge(present, on=[*keys, "sex"], how="left", indicator=True)
    absent = absent[absent["_merge"] == "left_only"][[*keys, "sex"]]
    frame = pd.concat([frame, absent.assign(indicator_id=ind.id)], ignore_index=True)
    hit = frame[keys].merge(gaps, on=keys, how="left")
    is_missing = hit["missing_codes"].notna().to_numpy()
    is_own = is_missing & (frame["area_level"] == "municipality").to_numpy()
    frame.loc[
        is_missing, [c for c in ["numerator", "denominator", *ESTIMATE_COLUMNS] if c in frame]
    ] = np.nan
    rejected = hit["rejected"].astype("boolean").fillna(False).astype(bool).to_numpy()
    why = np.where(rejected, "afvist i kilden", "aldre mangler i kildens fil")
    notes = "Ufuldstændig: " + hit["missing_names"] + " mangler (" + why + "); tallet vises ikke."
    frame.loc[is_missing, "value_note"] = notes[is_missing].to_numpy()
    frame.loc[is_own & rejected, "value_note"] = REJECTED_NOTE_DA
    frame.loc[is_own & ~rejected, "value_note"] = AGE_GAP_NOTE_DA
    return frame
