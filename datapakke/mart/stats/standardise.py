"""Directly age-standardised rates (ESP 2013) with Dobson intervals, and ages to ESP bands."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from datapakke.mart.stats._arrays import _float, _group_ids, _sum_by
from datapakke.mart.stats.intervals import Z95, Z998, poisson_count_interval
from datapakke.standard_population import AGE_BANDS

DSR_COLUMNS = [
    "observed",
    "population",
    "value",
    "ci95_low",
    "ci95_high",
    "ci998_low",
    "ci998_high",
    "is_reliable",
]


def direct_standardised_rate(
    frame: pd.DataFrame,
    group_cols: list[str],
    events_col: str = "events",
    population_col: str = "population",
    weight_col: str = "weight",
    multiplier: float = 100000.0,
    min_events: float = 10,
) -> pd.DataFrame:
    """Directly age-standardised rate per group with Dobson intervals.

    Why: crude rates mix the disease rate with the age structure; weighting the age-specific
    rates by a common standard (ESP 2013) makes areas comparable. DSR = Σ(w_i x_i/n_i) / Σw_i.
    Interval after Dobson et al. (1991, *Stat Med* 10:457), as in PHE's guidance: with
    var(DSR) = Σ(w_i² x_i/n_i²)/(Σw)², O = Σx and (O_L, O_U) = poisson_count_interval(O),
    DSR_L = DSR + √(var/O)·(O_L − O), DSR_U = DSR + √(var/O)·(O_U − O). The lower limit is
    clipped at 0 (Dobson can go below 0 when a few events carry very large weights w_i/n_i).

    O = 0 (only published if ``min_events`` ≤ 0): √(var/O) is 0/0. We use its limit when the
    age-specific rates fall to zero uniformly (x_i ∝ n_i), √(Σ_{n_i>0} w_i²/n_i / Σn) / Σw,
    so DSR = 0, lower = 0 and the upper limit reflects the population at risk.

    One input row per group × age band; output one row per group (keys sorted, NaN keys kept)
    with ``group_cols`` + observed (Σx), population (Σn), value (DSR·multiplier), ci95_low,
    ci95_high, ci998_low, ci998_high and is_reliable (observed ≥ min_events). Below
    ``min_events`` value and limits are NaN (PHE does not publish DSRs on < 10 events: the
    interval is then too unstable) but observed and population are kept. A band with n_i = 0
    and x_i = 0 contributes 0; n_i = 0 with x_i > 0, negative or NaN input make the group NaN.
    """
    gid, keys = _group_ids(frame, group_cols)
    groups = len(keys)
    x = _float(frame[events_col])
    n = _float(frame[population_col])
    w = _float(frame[weight_col])

    bad = ~((x >= 0) & (n >= 0) & (w >= 0)) | ((n == 0) & (x > 0))
    safe_n = np.where(n > 0, n, 1.0)
    contributes = ~bad & (n > 0)
    wr = np.where(contributes, w * x / safe_n, 0.0)
    wv = np.where(contributes, w * w * x / safe_n**2, 0.0)
    w2_n = np.where(contributes, w * w / safe_n, 0.0)

    observed = _sum_by(gid, x, groups)
    population = _sum_by(gid, n, groups)
    sum_w = _sum_by(gid, np.where(bad, 0.0, w), groups)
    any_bad = _sum_by(gid, bad.astype(float), groups) > 0
    ok = ~any_bad & (sum_w > 0) & (population > 0)
    sw = np.where(ok, sum_w, 1.0)
    dsr = _sum_by(gid, wr, groups) / sw
    var = _sum_by(gid, wv, groups) / sw**2

    obs = np.where(ok, observed, 0.0)
    pop = np.where(ok, population, 1.0)
    scale = np.where(
        obs > 0,
        np.sqrt(var / np.where(obs > 0, obs, 1.0)),
        np.sqrt(_sum_by(gid, w2_n, groups) / pop) / sw,
    )
    reliable = ok & (observed >= min_events)

    out = keys.copy()
    out["observed"] = observed
    out["population"] = population
    out["value"] = np.where(reliable, dsr * multiplier, np.nan)
    for label, z in (("95", Z95), ("998", Z998)):
        o_low, o_high = poisson_count_interval(obs, z)
        low = np.maximum(dsr + scale * (o_low - obs), 0.0)
        high = dsr + scale * (o_high - obs)
        out[f"ci{label}_low"] = np.where(reliable, low * multiplier, np.nan)
        out[f"ci{label}_high"] = np.where(reliable, high * multiplier, np.nan)
    out["is_reliable"] = observed >= min_events  # NaN observed → False
    return out[[*group_cols, *DSR_COLUMNS]]


def age_band_of(age: ArrayLike) -> np.ndarray:
    """Map ages in completed years to ESP 2013 band labels '0-4', '5-9', …, '85-89', '90+'.

    Non-integer ages are floored (age at last birthday); NaN or negative ages give NaN.
    """
    a = _float(age)
    valid = a >= 0
    idx = np.minimum(np.floor(np.where(valid, a, 0.0) / 5), len(AGE_BANDS) - 1).astype(np.int64)
    labels = np.asarray(AGE_BANDS, dtype=object)[idx]
    return np.where(valid, labels, np.nan).astype(object)
