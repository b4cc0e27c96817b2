"""Array helpers shared by the statistics: float coercion, group ids, sums by group."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike


def _float(values: ArrayLike) -> np.ndarray:
    """Any array-like (including nullable pandas dtypes with pd.NA) as a float ndarray."""
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    return np.asarray(values, dtype=float)


def _alpha(z: float) -> float:
    """Two-sided tail probability that belongs to a normal deviate z (z = 1.96 → 0.05)."""
    from scipy import stats as sps

    return float(2.0 * sps.norm.sf(z))


def _group_ids(frame: pd.DataFrame, group_cols: list[str]) -> tuple[np.ndarray, pd.DataFrame]:
    """Dense group number per row (sorted by key, NaN keys kept) and one key row per group."""
    if not group_cols:
        return np.zeros(len(frame), dtype=np.int64), pd.DataFrame(index=range(min(len(frame), 1)))
    gid = frame.groupby(group_cols, dropna=False, sort=True).ngroup().to_numpy(dtype=np.int64)
    _, first = np.unique(gid, return_index=True)
    keys = frame[group_cols].iloc[first].reset_index(drop=True)
    return gid, keys


def _sum_by(gid: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """Per-group sum; a NaN anywhere in a group makes its sum NaN (unlike pandas' skipna)."""
    return np.bincount(gid, weights=values, minlength=groups)[:groups]
