"""``mart.indicator_age_value``: the latest period of every rate and proportion by broad age band
beside its total (issue 14, item 5), protected by the same counts as the totals.

Which indicators, which bands and why: ``age_bands``. A band's value is computed as the total's
(``indicators.rate_like``: the same formula and interval), compared with Denmark's value in the
same band, and withheld where a member is missing or a count it rests on is hidden
(``published_counts`` protects totals and bands of a series together). The total rows are the
published ``mart.indicator_value`` rows themselves, so the two tables cannot disagree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datapakke.mart.age_bands import breakdowns
from datapakke.mart.catalogue import Indicator
from datapakke.mart.indicators import (
    EngineInputs,
    against,
    apply_protection,
    notes,
    rate_like,
    with_national_value,
)
from datapakke.schemas import AGE_VALUE_COLUMNS, ESTIMATE_COLUMNS, UNIT_KEY


def age_value_table(
    inputs: EngineInputs,
    catalogue: list[Indicator],
    published: pd.DataFrame,
    values: pd.DataFrame,
    threshold: int,
) -> pd.DataFrame:
    """Every broken-down indicator's total and bands for its latest period (sexes together)."""
    names = inputs.units.drop(columns="municipality_code").drop_duplicates(UNIT_KEY)
    pieces = []
    for shown in breakdowns(catalogue, inputs.counts):
        ind, period = shown.indicator, shown.period
        total = values[
            (values["indicator_id"] == ind.id)
            & (values["period"] == period)
            & (values["sex"] == "T")
        ]
        pieces.append(total.assign(age_band="total"))
        num = inputs.band_unit_counts(ind.numerator, period)
        den = inputs.band_unit_counts(ind.denominator, period)
        frame = rate_like(ind, num[num["sex"] == "T"], den[den["sex"] == "T"], by=("age_band",))
        frame = frame[frame["age_band"].isin(shown.bands)].copy()
        frame["value_note"] = notes(ind, frame)
        frame.loc[frame["value_note"].str.contains("vises ikke", regex=False), ESTIMATE_COLUMNS] = (
            np.nan
        )
        frame = apply_protection(frame, ind, published, threshold)
        frame = frame.merge(names, on=UNIT_KEY, how="left").assign(indicator_id=ind.id)
        frame = with_national_value(frame, ["age_band"])  # each band against Denmark's band
        frame["compared_to_national"] = against(frame, "ci95", "national_value", ind)
        pieces.append(frame)
    if not pieces:
        return pd.DataFrame(columns=AGE_VALUE_COLUMNS)
    table = pd.concat(pieces, ignore_index=True).reindex(columns=AGE_VALUE_COLUMNS)
    table["is_suppressed"] = table["is_suppressed"].astype(bool)
    table["value_note"] = table["value_note"].fillna("")
    return table.reset_index(drop=True)
