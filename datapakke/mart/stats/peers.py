"""Similar municipalities (peer groups) and the opportunity against the peers' median."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from datapakke.mart.stats._arrays import _float
from datapakke.mart.stats.intervals import Z95, poisson_count_interval


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
    events: ArrayLike, population: ArrayLike, peer_rate: ArrayLike, z: float = Z95
) -> pd.DataFrame:
    """Events that would be avoided at the peers' median rate (the "opportunity").

    Why: turns a rate gap into a number of people, which is what planners act on. expected =
    peer_rate · population (peer_rate in events per person, not multiplied); opportunity =
    max(0, events − expected); its interval is the Poisson interval on events
    (poisson_count_interval) minus expected, clipped at 0. It is an upper bound: the rates are
    not adjusted for case-mix beyond what the peer grouping captures, so part of the gap may be
    need rather than avoidable activity. Keeps the index of ``events`` if it is a Series.
    """
    x, n, rate = np.broadcast_arrays(_float(events), _float(population), _float(peer_rate))
    expected = rate * n
    low, high = poisson_count_interval(x, z)
    index = events.index if isinstance(events, pd.Series) else None
    return pd.DataFrame(
        {
            "expected": expected,
            "opportunity": np.maximum(x - expected, 0.0),
            "opportunity_low": np.maximum(low - expected, 0.0),
            "opportunity_high": np.maximum(high - expected, 0.0),
        },
        index=index,
    )
