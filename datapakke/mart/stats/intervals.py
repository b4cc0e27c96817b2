"""Confidence intervals for proportions (Wilson) and counts and crude rates (exact Poisson below
10 events, Byar from 10), after the PHE/OHID Fingertips technical guidance."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from datapakke.mart.stats._arrays import _alpha, _float

Z95 = 1.959963984540054  # Φ⁻¹(0.975)
Z998 = 3.090232306167813  # Φ⁻¹(0.999)
BYAR_MIN_COUNT = 10  # exact Poisson below this many events, Byar from it (PHE convention)


def wilson_interval(x: ArrayLike, n: ArrayLike, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for the proportion x/n, returned as proportions (0..1).

    Why Wilson: unlike the Wald interval it never leaves [0, 1], is not degenerate at x = 0 or
    x = n and has close to nominal coverage for small n (Newcombe 1998, *Stat Med* 17:857,
    method 3; Wilson 1927). Limits (2x + z² ± z·√(z² + 4x(1 − x/n))) / (2(n + z²)).
    NaN where n ≤ 0, x < 0, x > n or either is NaN.
    """
    x_arr, n_arr = np.broadcast_arrays(_float(x), _float(n))
    valid = (n_arr > 0) & (x_arr >= 0) & (x_arr <= n_arr)
    xs, ns = np.where(valid, x_arr, 0.0), np.where(valid, n_arr, 1.0)
    z2 = z * z
    root = z * np.sqrt(np.maximum(z2 + 4.0 * xs * (1.0 - xs / ns), 0.0))
    denom = 2.0 * (ns + z2)
    low = np.clip((2.0 * xs + z2 - root) / denom, 0.0, 1.0)
    high = np.clip((2.0 * xs + z2 + root) / denom, 0.0, 1.0)
    # Exact at the boundaries (the formula gives them only up to rounding).
    low = np.where(xs == 0, 0.0, low)
    high = np.where(xs == ns, 1.0, high)
    return np.where(valid, low, np.nan), np.where(valid, high, np.nan)


def poisson_count_interval(x: ArrayLike, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Interval for a Poisson count: Byar for x ≥ 10, exact (chi-square) for x < 10.

    PHE/OHID convention (Fingertips technical guidance, *Confidence intervals*, 2018): the exact
    interval (Garwood 1936) ``χ²(α/2; 2x)/2 .. χ²(1 − α/2; 2x + 2)/2`` (lower 0 at x = 0), with
    α = 2(1 − Φ(z)); from 10 events Byar's approximation (Breslow & Day 1987, vol. II, p. 69),
    accurate to a fraction of a percent there:
    lower x(1 − 1/(9x) − z/(3√x))³, upper (x + 1)(1 − 1/(9(x + 1)) + z/(3√(x + 1)))³.
    Non-integer counts (imputed cells) are allowed; NaN for x < 0 or NaN.
    """
    from scipy import stats as sps

    x_arr = _float(x)
    valid = x_arr >= 0
    xs = np.where(valid, x_arr, 0.0)
    alpha = _alpha(z)

    exact_low = np.where(xs > 0, sps.chi2.ppf(alpha / 2, 2.0 * np.maximum(xs, 1e-300)) / 2, 0.0)
    exact_high = sps.chi2.ppf(1 - alpha / 2, 2.0 * xs + 2.0) / 2

    xb = np.maximum(xs, 1.0)  # Byar only where x ≥ 10; keep the other lanes warning-free
    byar_low = xb * (1 - 1 / (9 * xb) - z / (3 * np.sqrt(xb))) ** 3
    byar_high = (xb + 1) * (1 - 1 / (9 * (xb + 1)) + z / (3 * np.sqrt(xb + 1))) ** 3

    use_byar = xs >= BYAR_MIN_COUNT
    low = np.where(use_byar, byar_low, exact_low)
    high = np.where(use_byar, byar_high, exact_high)
    return np.where(valid, low, np.nan), np.where(valid, high, np.nan)


def rate_interval(
    x: ArrayLike, n: ArrayLike, multiplier: float = 1.0, z: float = Z95
) -> tuple[np.ndarray, np.ndarray]:
    """Crude rate interval = poisson_count_interval(x) / n · multiplier.

    The population is treated as fixed and all uncertainty is in the count (PHE guidance).
    NaN where n ≤ 0 or NaN.
    """
    x_arr, n_arr = np.broadcast_arrays(_float(x), _float(n))
    low, high = poisson_count_interval(x_arr, z)
    ok = n_arr > 0
    ns = np.where(ok, n_arr, 1.0)
    return (
        np.where(ok, low / ns * multiplier, np.nan),
        np.where(ok, high / ns * multiplier, np.nan),
    )
