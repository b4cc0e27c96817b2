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


def _one_moves(shares: np.ndarray, counts: np.ndarray, band: np.ndarray) -> tuple[np.ndarray, ...]:
    """(ΔS1, ΔS2) of every spread that moves one event out of or into the small ``band`` of
    each row (its count is at least 1), and which of them are possible: out of it into any
    other band with people, into it from any other band holding an event. Arrays are
    pairs × 2·bands."""
    pairs = np.arange(len(band))
    own = shares[pairs, band][:, None]
    d1 = shares - own
    d2 = shares**2 - own**2
    lived = shares > 0
    lived[pairs, band] = False
    into = lived & (counts >= 1)
    return (
        np.concatenate([d1, -d1], axis=1),
        np.concatenate([d2, -d2], axis=1),
        np.concatenate([lived, into], axis=1),
    )


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


# (row, band) pairs checked at once by the one-move test: bounds its arrays to a few MB.
_CHUNK = 4096


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

    Every small band is first tried with the spreads that move one event, all (row, band)
    pairs at once; only the few that no such spread explains are tried with a move plus an
    exchange, row by row.
    """
    counts = np.asarray(counts, dtype=np.int64)
    observed = counts.sum(axis=1).astype(float)
    limits = event_limits(observed)
    s1 = np.einsum("rb,rb->r", shares, counts)
    s2 = np.einsum("rb,rb->r", shares**2, counts)
    rows, bands = np.nonzero((counts > 0) & (counts < threshold))
    unexplained = np.ones(len(rows), dtype=bool)
    for at in range(0, len(rows), _CHUNK):
        r, b = rows[at : at + _CHUNK], bands[at : at + _CHUNK]
        d1, d2, possible = _one_moves(shares[r], counts[r], b)
        figures = _figures(
            s1[r, None] + d1, s2[r, None] + d2, observed[r, None], limits[r, None], multiplier
        )
        matches = np.all(np.round(figures, decimals) == published[r, None], axis=2)
        unexplained[at : at + _CHUNK] = ~(matches & possible).any(axis=1)

    leaks = np.zeros(len(counts), dtype=bool)
    for row, band in zip(rows[unexplained], bands[unexplained], strict=True):
        if leaks[row]:
            continue
        d1, d2, possible = _one_moves(shares[row, None], counts[row, None], band[None])
        moves = np.column_stack([d1[0], d2[0]])[possible[0]]
        exchanges = _exchanges(shares[row], counts[row], int(band))
        pairs = (moves[:, None, :] + exchanges[None, :, :]).reshape(-1, 2)
        if len(pairs):
            figures = _figures(
                s1[row] + pairs[:, 0], s2[row] + pairs[:, 1], observed[row], limits[row], multiplier
            )
            if np.all(np.round(figures, decimals) == published[row], axis=1).any():
                continue
        leaks[row] = True
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
