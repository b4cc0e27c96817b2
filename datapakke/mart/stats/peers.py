"""Similar municipalities (peer groups) and the opportunity against the peers' median."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from datapakke.mart.stats._arrays import _float
from datapakke.mart.stats.intervals import Z95, poisson_count_interval, wilson_interval

OPPORTUNITY_STATISTICS = ("rate", "proportion")  # METHOD_RULES[...].statistic of count indicators


def peer_groups(features: pd.DataFrame, k: int = 5, log_cols: tuple[str, ...] = ()) -> pd.DataFrame:
    """The k most similar other municipalities for each row (index = municipality code).

    Why: "similar municipalities" comparisons (like the ONS/CIPFA nearest-neighbour models) give
    a fairer yardstick than the national average. Columns in ``log_cols`` are log-transformed
    (skewed sizes and densities; must be > 0), every column is z-scored (population SD; a
    constant column contributes nothing) so each counts equally, and distance is Euclidean.
    Ties are broken by row order. Output: municipality_code, peer_code, rank (1..k), distance.
    ValueError on missing or non-positive log values, a duplicated index, or k outside 1..rows−1.
    """
    if not features.index.is_unique:
        raise ValueError("features index (municipality code) must be unique")
    rows = len(features)
    if not 1 <= k <= rows - 1:
        raise ValueError(f"k must be between 1 and {rows - 1}, got {k}")
    data = features.astype(float).copy()
    if data.isna().to_numpy().any():
        raise ValueError("features contain missing values")
    for column in log_cols:
        if (data[column] <= 0).any():
            raise ValueError(f"log column {column!r} has values ≤ 0")
        data[column] = np.log(data[column])
    x = data.to_numpy(dtype=float)
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    dist = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(dist, np.inf)
    order = np.argsort(dist, axis=1, kind="stable")[:, :k]
    codes = features.index.to_numpy()
    return pd.DataFrame(
        {
            "municipality_code": np.repeat(codes, k),
            "peer_code": codes[order.ravel()],
            "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), rows),
            "distance": np.take_along_axis(dist, order, axis=1).ravel(),
        }
    )


def opportunity(
    events: ArrayLike,
    denominator: ArrayLike,
    peer_value: ArrayLike,
    multiplier: ArrayLike = 1.0,
    statistic: str = "rate",
    z: float = Z95,
) -> pd.DataFrame:
    """Events there would be fewer of at the peers' median value (the "opportunity").

    Why: turns a gap in a rate into a number of events a year, which is what planners act on.
    expected = peer_value · denominator / multiplier; opportunity = events − expected (the same as
    (value − peer_value) · denominator / multiplier); positive = fewer events at the peers' value,
    negative = more. Its interval is the interval of the events minus expected, by the method of
    the indicator's own interval, so the opportunity's interval excludes 0 exactly when the
    comparison with the peers' value is significant: ``statistic`` 'rate' takes the Poisson
    count interval (exact below 10 events, Byar from 10; the denominator is fixed), 'proportion'
    the Wilson interval times the denominator. It is an upper bound: the values are not adjusted
    for need beyond what the peer grouping captures. NaN where an input is missing or invalid.
    Keeps the index of ``events`` if it is a Series.
    """
    if statistic not in OPPORTUNITY_STATISTICS:
        raise ValueError(f"statistic must be one of {OPPORTUNITY_STATISTICS}, got {statistic!r}")
    x, n, peer, per = np.broadcast_arrays(
        _float(events), _float(denominator), _float(peer_value), _float(multiplier)
    )
    expected = peer * n / per
    if statistic == "rate":
        low, high = poisson_count_interval(x, z)
        low, high = np.where(n > 0, low, np.nan), np.where(n > 0, high, np.nan)
    else:
        p_low, p_high = wilson_interval(x, n, z)
        low, high = p_low * n, p_high * n
    index = events.index if isinstance(events, pd.Series) else None
    return pd.DataFrame(
        {
            "expected": expected,
            "opportunity": np.where(np.isnan(low), np.nan, x - expected),
            "opportunity_low": low - expected,
            "opportunity_high": high - expected,
        },
        index=index,
    )
