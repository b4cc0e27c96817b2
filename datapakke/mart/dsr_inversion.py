"""Can a published age-standardised rate be turned back into small age-band counts?

A directly standardised rate is a weighted sum of age-band counts: with s_i = w_i / (n_i Σw),
DSR = m·Σ s_i x_i, and its Dobson limits add a second sum, V = Σ s_i² x_i. The age-band
populations n_i are public (StatBank FOLK1A) and the number of events O = Σ x_i is published
beside the rate. With few events the published value and limits can leave only one way to spread
O over the bands, and then a band count of 1–4 is disclosed although every count table
suppresses it (an attack reproduced on the first wave's marts: 139 of 211 rows with at most 20
events inverted to their exact age-band counts).

The rule here is the attacker's question turned round. For every band whose true count is small,
look for another spread of the same O events over the bands that reproduces every published
figure (value and the four limits, to the published decimals) with that band's count changed,
among all spreads that move one or two events. If one exists, the band is not singled out; if
none does, the row is withheld. Proving uniqueness would need an exhaustive search; withholding
whenever two moves find no alternative is the conservative side of that.

Everything is vectorised over rows: a candidate spread only changes the two sums (S1, S2), so
each candidate is a pair of differences from the true sums.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from datapakke.mart.stats.intervals import Z95, Z998, poisson_count_interval
from datapakke.schemas import ESTIMATE_COLUMNS, UNIT_KEY
from datapakke.standard_population import ESP2013


def _figures(
    s1: np.ndarray, s2: np.ndarray, observed: np.ndarray, limits: np.ndarray, multiplier: float
) -> np.ndarray:
    """Value and Dobson limits (95 % low/high, 99.8 % low/high) from the two sums; ``observed``
    and ``limits`` (the Poisson limits of O, columns as the figures) broadcast against s1/s2."""
    scale = np.sqrt(np.maximum(s2, 0.0) / np.maximum(observed, 1.0))
    out = [s1 * multiplier]
    for column in range(4):
        raw = s1 + scale * (limits[..., column] - observed)
        out.append((np.maximum(raw, 0.0) if column % 2 == 0 else raw) * multiplier)
    return np.stack(out, axis=-1)


def event_limits(observed: np.ndarray) -> np.ndarray:
    """Poisson limits of O (95 % low/high, 99.8 % low/high), one row per O."""
    low95, high95 = poisson_count_interval(observed, Z95)
    low998, high998 = poisson_count_interval(observed, Z998)
    return np.column_stack([low95, high95, low998, high998])


def _moves(shares: np.ndarray, counts: np.ndarray, band: int) -> np.ndarray:
    """(ΔS1, ΔS2) of every spread that moves one event into or out of ``band``."""
    lived = shares > 0
    lived[band] = False
    out_of = np.column_stack([shares - shares[band], shares**2 - shares[band] ** 2])[lived]
    into = -out_of[(counts >= 1)[lived]]
    return np.concatenate([out_of if counts[band] >= 1 else out_of[:0], into])


def _exchanges(shares: np.ndarray, counts: np.ndarray, band: int) -> np.ndarray:
    """(ΔS1, ΔS2) of every exchange of one event between two bands other than ``band``.

    Only bands holding two or more events give one, so the exchange stays possible whatever the
    first move took from them.
    """
    lived = np.flatnonzero(shares > 0)
    lived = lived[lived != band]
    give = lived[counts[lived] >= 2]
    d1 = shares[lived][None, :] - shares[give][:, None]
    d2 = shares[lived][None, :] ** 2 - shares[give][:, None] ** 2
    return np.column_stack([d1.ravel(), d2.ravel()])


def singled_out_rows(
    shares: np.ndarray,
    counts: np.ndarray,
    published: np.ndarray,
    multiplier: float,
    decimals: int,
    threshold: int,
) -> np.ndarray:
    """Which rows leave some small band count (1..threshold-1) with no alternative.

    ``shares`` (rows × bands) are w_i/(n_i Σw) from the public populations, ``counts`` the true
    band counts, ``published`` (rows × 5) the figures as published (already rounded).
    """
    counts = np.asarray(counts, dtype=np.int64)
    observed = counts.sum(axis=1).astype(float)
    limits = event_limits(observed)
    s1 = np.einsum("rb,rb->r", shares, counts)
    s2 = np.einsum("rb,rb->r", shares**2, counts)
    small = (counts > 0) & (counts < threshold)
    leaks = np.zeros(len(counts), dtype=bool)
    for row in np.flatnonzero(small.any(axis=1)):

        def explained(deltas: np.ndarray, r: int = row) -> bool:
            figures = _figures(
                s1[r] + deltas[:, 0], s2[r] + deltas[:, 1], observed[r], limits[r], multiplier
            )
            return bool(np.all(np.round(figures, decimals) == published[r], axis=1).any())

        for band in np.flatnonzero(small[row]):
            moves = _moves(shares[row], counts[row], int(band))
            if len(moves) and explained(moves):
                continue
            exchanges = _exchanges(shares[row], counts[row], int(band))
            pairs = (moves[:, None, :] + exchanges[None, :, :]).reshape(-1, 2)
            if len(pairs) and explained(pairs):
                continue
            leaks[row] = True
            break
    return leaks


INVERTIBLE_NOTE_DA = (
    "Skjult af diskretionshensyn: med så få tilfælde kunne den aldersstandardiserede rate og dens "
    "usikkerhed regnes tilbage til små antal i enkelte aldersgrupper."
)
_ROW_KEY = [*UNIT_KEY, "period", "sex"]


def _by_band(counts: pd.DataFrame, index: pd.MultiIndex) -> np.ndarray:
    """Unit counts by age band (``unit_counts(by_age=True)``) as rows aligned with ``index``."""
    wide = counts.pivot_table(index=_ROW_KEY, columns="age_band", values="x", aggfunc="sum")
    return wide.reindex(columns=list(ESP2013)).reindex(index).fillna(0.0).to_numpy()


def invertible_rows(
    rows: pd.DataFrame,
    events_by_band: pd.DataFrame,
    population_by_band: pd.DataFrame,
    multiplier: float,
    decimals: int,
    threshold: int,
) -> np.ndarray:
    """Which published DSR rows (figures already rounded) single out a small age-band count.

    ``events_by_band`` and ``population_by_band`` hold one row per unit × period × sex × age
    band with the count in ``x``, as the engine sums them; rows without a value are never
    flagged.
    """
    shown = rows["value"].notna().to_numpy()
    flagged = np.zeros(len(rows), dtype=bool)
    if not shown.any():
        return flagged
    index = pd.MultiIndex.from_frame(rows.loc[shown, _ROW_KEY])
    events = np.round(_by_band(events_by_band, index)).astype(np.int64)
    population = _by_band(population_by_band, index)
    weights = np.array(list(ESP2013.values()), dtype=float)
    safe = np.where(population > 0, population, 1.0)
    shares = np.where(population > 0, weights / safe, 0.0) / weights.sum()
    published = rows.loc[shown, ESTIMATE_COLUMNS].to_numpy(dtype=float)
    flagged[shown] = singled_out_rows(shares, events, published, multiplier, decimals, threshold)
    return flagged
