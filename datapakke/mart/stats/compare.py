"""Comparison of an interval with a benchmark value, read through the indicator's polarity."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from datapakke.mart.catalogue import POLARITIES
from datapakke.mart.stats._arrays import _float


def compare_to_benchmark(
    low: ArrayLike, high: ArrayLike, benchmark: ArrayLike, polarity: ArrayLike
) -> np.ndarray:
    """Compare an interval with a benchmark point value by overlap (PHE "RAG" comparison).

    Why overlap with a point: the benchmark (region, Denmark) is treated as fixed, so an area is
    significantly different when its own interval excludes it (Fingertips technical guidance).
    Interval entirely above the benchmark → 'higher' ('better' if higher_is_better, 'worse' if
    lower_is_better); entirely below → 'lower'; touching or overlapping → 'similar';
    'not_compared' where low, high or benchmark is NaN. ``polarity`` is a scalar or an array of
    'higher_is_better', 'lower_is_better', 'no_judgement' (ValueError otherwise).
    """
    lo, hi, bench = _float(low), _float(high), _float(benchmark)
    pol = np.asarray(polarity.to_numpy() if isinstance(polarity, pd.Series) else polarity, object)
    unknown = ~np.isin(pol, POLARITIES)
    if unknown.any():
        raise ValueError(f"unknown polarity: {sorted({str(p) for p in pol[unknown].ravel()})}")
    lo, hi, bench, pol = np.broadcast_arrays(lo, hi, bench, pol)
    above = lo > bench
    below = hi < bench
    higher_good = pol == "higher_is_better"
    lower_good = pol == "lower_is_better"
    up = np.where(higher_good, "better", np.where(lower_good, "worse", "higher"))
    down = np.where(higher_good, "worse", np.where(lower_good, "better", "lower"))
    result = np.where(above, up, np.where(below, down, "similar")).astype(object)
    missing = np.isnan(lo) | np.isnan(hi) | np.isnan(bench)
    result[missing] = "not_compared"
    return result
