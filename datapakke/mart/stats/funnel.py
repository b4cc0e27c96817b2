"""Funnel-plot limits and overdispersion after Spiegelhalter (2005)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from datapakke.mart.stats._arrays import _float


def _poisson_quantile_limit(expected: np.ndarray, prob: float) -> np.ndarray:
    """Continuous p-quantile of Poisson(E) by Spiegelhalter's interpolation (2005, appendix).

    r_p = smallest r with F(r) ≥ p; α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)); limit r_p − α.
    The interpolation makes the funnel smooth in n instead of a staircase.
    """
    from scipy import stats as sps

    r = sps.poisson.ppf(prob, expected)
    f_r = sps.poisson.cdf(r, expected)
    f_before = sps.poisson.cdf(r - 1, expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(f_r > f_before, (f_r - prob) / (f_r - f_before), 0.0)
    return r - frac


def funnel_limits(
    target: float,
    denominators: ArrayLike,
    kind: str,
    z: float,
    multiplier: float = 1.0,
    tau2: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel-plot control limits around ``target`` for each denominator (Spiegelhalter 2005).

    Why: a funnel shows which units differ from the target by more than chance given their size
    (Spiegelhalter, *Stat Med* 24:1185). ``target`` is on the published scale (already times
    ``multiplier``); ``tau2`` is on the unmultiplied scale (proportion or events per person),
    as returned by ``overdispersion``.

    kind='proportion': p0 ± z·√(p0(1 − p0)/n + τ²), clipped to [0, 1], times multiplier.
    kind='rate', τ² = 0: exact Poisson limits of the expected count E = θn (θ = target /
    multiplier) from interpolated Poisson quantiles at Φ(∓z), divided by n, times multiplier.
    kind='rate', τ² > 0: random-effects normal limits θ ± z·√(θ/n + τ²).
    Lower limits clipped at 0. NaN where n ≤ 0 or NaN.
    """
    from scipy import stats as sps

    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    n = _float(denominators)
    theta = float(target) / multiplier
    ok = (n > 0) & np.isfinite(theta) & (theta >= 0)
    if kind == "proportion":
        ok &= theta <= 1
    ns = np.where(ok, n, 1.0)
    th = theta if np.isfinite(theta) else 0.0
    if kind == "proportion":
        half = z * np.sqrt(max(th * (1 - th), 0.0) / ns + tau2)
        low, high = np.clip(th - half, 0.0, 1.0), np.clip(th + half, 0.0, 1.0)
    elif tau2 > 0:
        half = z * np.sqrt(max(th, 0.0) / ns + tau2)
        low, high = np.maximum(th - half, 0.0), th + half
    else:
        expected = np.maximum(th * ns, 0.0)
        low = np.maximum(_poisson_quantile_limit(expected, float(sps.norm.cdf(-z))), 0.0) / ns
        high = _poisson_quantile_limit(expected, float(sps.norm.cdf(z))) / ns
    return (
        np.where(ok, low * multiplier, np.nan),
        np.where(ok, high * multiplier, np.nan),
    )


def overdispersion(
    values: ArrayLike,
    denominators: ArrayLike,
    target: float,
    kind: str,
    multiplier: float = 1.0,
    winsor_pct: float = 0.1,
) -> dict[str, Any]:
    """Overdispersion of units around a target: φ, additive τ² and a test (Spiegelhalter 2005).

    Why: with many large units nearly everyone falls outside pure-chance funnel limits because
    of real, unexplained between-unit variation; τ² widens the limits to allow for it.
    z_i = (y_i − θ)/s_i with s_i = √(θ(1 − θ)/n_i) (proportion) or √(θ/n_i) (rate), values and
    θ divided by ``multiplier``; z winsorised at the ``winsor_pct`` / 1 − ``winsor_pct``
    quantiles; φ = mean(z²); overdispersed when n·φ > χ²₀.₉₅(n − 1); DerSimonian–Laird τ² =
    max(0, (nφ − (n − 1)) / (Σw − Σw²/Σw)), w = 1/s², on the unmultiplied scale. Spiegelhalter
    advises using τ² only when the test says overdispersed. Units with NaN or n ≤ 0 are left out;
    fewer than 2 usable units give NaN.
    """
    from scipy import stats as sps

    if kind not in ("proportion", "rate"):
        raise ValueError(f"kind must be 'proportion' or 'rate', got {kind!r}")
    y_all, n_all = np.broadcast_arrays(_float(values), _float(denominators))
    theta = float(target) / multiplier
    keep = np.isfinite(y_all) & np.isfinite(n_all) & (n_all > 0)
    y, n = y_all[keep] / multiplier, n_all[keep]
    unit_var = theta * (1 - theta) if kind == "proportion" else theta
    count = int(keep.sum())
    if count < 2 or not np.isfinite(unit_var) or unit_var <= 0:
        return {"phi": np.nan, "tau2": np.nan, "n": count, "overdispersed": False}
    s = np.sqrt(unit_var / n)
    z = (y - theta) / s
    lo, hi = np.quantile(z, [winsor_pct, 1 - winsor_pct])
    phi = float(np.mean(np.clip(z, lo, hi) ** 2))
    w = 1 / s**2
    tau2 = max(0.0, (count * phi - (count - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    return {
        "phi": phi,
        "tau2": float(tau2),
        "n": count,
        "overdispersed": bool(count * phi > sps.chi2.ppf(0.95, count - 1)),
    }
