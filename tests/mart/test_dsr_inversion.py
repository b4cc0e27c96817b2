"""The inversion attack on published age-standardised rates, checked against brute force.

The expected answers come from enumerating every spread of the events over the age bands with
the Dobson formulas written out here, not from the module under test.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats as sps

from datapakke.mart.dsr_inversion import singled_out_rows
from datapakke.standard_population import ESP2013

WEIGHTS = np.array(list(ESP2013.values()), dtype=float)
MULTIPLIER = 100_000.0


def poisson_limits(o: int, z: float) -> tuple[float, float]:
    """Exact Poisson limits of a count (χ² form; Byar from 10 as the engine does)."""
    alpha = 2 * (1 - sps.norm.cdf(z))
    if o < 10:
        low = sps.chi2.ppf(alpha / 2, 2 * o) / 2 if o > 0 else 0.0
        return low, sps.chi2.ppf(1 - alpha / 2, 2 * o + 2) / 2
    low = o * (1 - 1 / (9 * o) - z / (3 * math.sqrt(o))) ** 3
    high = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * math.sqrt(o + 1))) ** 3
    return low, high


def figures(counts: np.ndarray, population: np.ndarray) -> np.ndarray:
    """Value and Dobson limits, written out from Dobson et al. (1991)."""
    rate = np.where(population > 0, counts / np.where(population > 0, population, 1), 0)
    dsr = (WEIGHTS * rate).sum() / WEIGHTS.sum()
    var = (WEIGHTS**2 * counts / np.where(population > 0, population, 1) ** 2).sum()
    var /= WEIGHTS.sum() ** 2
    o = int(counts.sum())
    out = [dsr]
    for z in (1.959963984540054, 3.090232306167813):
        low, high = poisson_limits(o, z)
        out += [
            max(dsr + math.sqrt(var / o) * (low - o), 0.0),
            dsr + math.sqrt(var / o) * (high - o),
        ]
    return np.array(out) * MULTIPLIER


def shares_of(population: np.ndarray) -> np.ndarray:
    safe = np.where(population > 0, population, 1.0)
    return np.where(population > 0, WEIGHTS / safe, 0.0) / WEIGHTS.sum()


def recovered_by_brute_force(
    counts: np.ndarray, population: np.ndarray, decimals: int, bands: list[int]
) -> bool:
    """Whether some small band count is the same in every spread (over ``bands``) that gives
    the published figures."""
    published = np.round(figures(counts, population), decimals)
    total = int(counts.sum())
    solutions = []
    for split in itertools.combinations(range(total + len(bands) - 1), len(bands) - 1):
        parts = np.diff([-1, *split, total + len(bands) - 1]) - 1
        candidate = np.zeros(len(WEIGHTS), dtype=int)
        candidate[bands] = parts
        if np.array_equal(np.round(figures(candidate, population), decimals), published):
            solutions.append(candidate)
    solutions = np.array(solutions)
    small = [b for b in bands if 0 < counts[b] < 5]
    return any((solutions[:, b] == counts[b]).all() for b in small)


def test_distinct_band_weights_single_out_the_counts() -> None:
    population = np.full(len(WEIGHTS), 0.0)
    bands = [15, 16, 17, 18]  # 75-79 … 90+: a small island's oldest people
    population[bands] = [90, 61, 37, 13]
    counts = np.zeros(len(WEIGHTS), dtype=int)
    counts[bands] = [2, 1, 3, 4]
    published = np.round(figures(counts, population), 1)[None, :]
    assert recovered_by_brute_force(counts, population, 1, bands)
    flagged = singled_out_rows(
        shares_of(population)[None, :], counts[None, :], published, 1.0 * MULTIPLIER, 1, 5
    )
    assert flagged.tolist() == [True]


def test_interchangeable_bands_do_not_single_out_anything() -> None:
    # Bands 5-9, 10-14 and 15-19 share one weight (5500); equal populations make one event in
    # any of them count the same, so no count among them is determined.
    population = np.full(len(WEIGHTS), 0.0)
    bands = [1, 2, 3]
    population[bands] = 1000
    counts = np.zeros(len(WEIGHTS), dtype=int)
    counts[bands] = [4, 3, 5]
    published = np.round(figures(counts, population), 1)[None, :]
    assert not recovered_by_brute_force(counts, population, 1, bands)
    flagged = singled_out_rows(
        shares_of(population)[None, :], counts[None, :], published, MULTIPLIER, 1, 5
    )
    assert flagged.tolist() == [False]


def test_every_row_brute_force_inverts_is_flagged() -> None:
    """The rule is conservative: whatever the exhaustive attack recovers, it withholds."""
    recovered = 0
    for seed in range(30):
        rng = np.random.default_rng(seed)
        bands = sorted(rng.choice(np.arange(10, 19), size=4, replace=False).tolist())
        population = np.zeros(len(WEIGHTS))
        population[bands] = rng.integers(10, 400, size=4)
        counts = np.zeros(len(WEIGHTS), dtype=int)
        counts[bands] = rng.integers(0, 6, size=4)
        counts[bands[-1]] += 3
        decimals = int(rng.integers(0, 3))
        published = np.round(figures(counts, population), decimals)[None, :]
        flagged = singled_out_rows(
            shares_of(population)[None, :], counts[None, :], published, MULTIPLIER, decimals, 5
        )
        if recovered_by_brute_force(counts, population, decimals, bands):
            recovered += 1
            assert flagged.tolist() == [True], seed
    assert recovered >= 5  # the attack really succeeds on some of these rows
