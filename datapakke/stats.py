"""Statistics for indicators: intervals, age standardisation, comparisons, trends, funnels, peers.

Formulas follow the published methods (see the references in each docstring); everything is
vectorised over numpy arrays so whole indicator tables are computed at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

Z95 = 1.959963984540054
Z998 = 3.090232306167813

ESP2013: dict[str, int] = {
    "0-4": 5000, "5-9": 5500, "10-14": 5500, "15-19": 5500, "20-24": 6000, "25-29": 6000,
    "30-34": 6500, "35-39": 7000, "40-44": 7000, "45-49": 7000, "50-54": 7000, "55-59": 6500,
    "60-64": 6000, "65-69": 5500, "70-74": 5000, "75-79": 4000, "80-84": 2500, "85-89": 1500,
    "90+": 1000,
}  # fmt: skip
AGE_BANDS: tuple[str, ...] = tuple(ESP2013)


def _arr(values) -> np.ndarray:
    return np.asarray(values, dtype=float)


def wilson_interval(x, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for x/n (Wilson 1927; Newcombe 1998 method 3), as proportions."""
    x, n = np.broadcast_arrays(_arr(x), _arr(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = 2 * x + z**2
        spread = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        denom = 2 * (n + z**2)
        low = (centre - spread) / denom
        high = (centre + spread) / denom
    bad = ~(n > 0) | np.isnan(x) | (x < 0) | (x > n)
    low = np.where(bad, np.nan, np.where(x == 0, 0.0, low))
    high = np.where(bad, np.nan, np.where(x == n, 1.0, high))
    return low, high


def _alpha(z: float) -> float:
    return 2 * (1 - sps.norm.cdf(z))


def poisson_count_interval(x, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Interval for a Poisson count: exact (chi-square) below 10, Byar's approximation from 10.

    Exact: (χ²(α/2, 2x)/2, χ²(1−α/2, 2x+2)/2). Byar: x(1 − 1/(9x) − z/(3√x))³ and
    (x+1)(1 − 1/(9(x+1)) + z/(3√(x+1)))³ (Breslow & Day 1987; PHE Technical Guide).
    """
    x = _arr(x)
    alpha = _alpha(z)
    with np.errstate(divide="ignore", invalid="ignore"):
        exact_low = np.where(x > 0, sps.chi2.ppf(alpha / 2, 2 * x) / 2, 0.0)
        exact_high = sps.chi2.ppf(1 - alpha / 2, 2 * x + 2) / 2
        byar_low = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        byar_high = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * np.sqrt(x + 1))) ** 3
    small = x < 10
    low = np.where(small, exact_low, byar_low)
    high = np.where(small, exact_high, byar_high)
    bad = np.isnan(x) | (x < 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def rate_interval(x, n, multiplier: float = 1.0, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Crude rate interval: the count's Poisson interval divided by the denominator."""
    n = _arr(n)
    low, high = poisson_count_interval(x, z)
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(n > 0, multiplier / n, np.nan)
    return low * scale, high * scale


def direct_standardised_rate(
    frame: pd.DataFrame,
    group_cols: list[str],
    events_col: str = "events",
    population_col: str = "population",
    weight_col: str = "weight",
    multiplier: float = 100000.0,
    min_events: int = 10,
) -> pd.DataFrame:
    """Directly standardised rate with Dobson et al. (1991) intervals, per group.

    DSR = Σ(wᵢxᵢ/nᵢ)/Σwᵢ; var = Σ(wᵢ²xᵢ/nᵢ²)/(Σwᵢ)²; with O = Σxᵢ and (O_L, O_U) its Poisson
    interval, limits DSR + √(var/O)(O_L − O) and DSR + √(var/O)(O_U − O). Below ``min_events``
    (so also at O = 0, where the Dobson factor is undefined) value and limits are NaN; observed
    and population are always kept.
    """
    x = frame[events_col].to_numpy(float)
    n = frame[population_col].to_numpy(float)
    w = frame[weight_col].to_numpy(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(n > 0, x / n, np.where(x > 0, np.nan, 0.0))
        var_term = np.where(n > 0, w**2 * x / n**2, np.where(x > 0, np.nan, 0.0))
    parts = frame[group_cols].copy()
    parts["_wr"] = w * rate
    parts["_var"] = var_term
    parts["_w"] = w
    parts["_x"] = x
    parts["_n"] = n
    grouped = parts.groupby(group_cols, as_index=False, sort=False).agg(
        _wr=("_wr", lambda s: s.sum(min_count=len(s)) if s.notna().all() else np.nan),
        _var=("_var", lambda s: s.sum() if s.notna().all() else np.nan),
        _w=("_w", "sum"),
        observed=("_x", "sum"),
        population=("_n", "sum"),
    )
    dsr = grouped["_wr"].to_numpy() / grouped["_w"].to_numpy()
    var = grouped["_var"].to_numpy() / grouped["_w"].to_numpy() ** 2
    observed = grouped["observed"].to_numpy(float)
    out = grouped[group_cols].copy()
    out["observed"] = observed
    out["population"] = grouped["population"].to_numpy(float)
    reliable = observed >= min_events
    out["value"] = np.where(reliable, dsr * multiplier, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.sqrt(var / observed)
    for label, z in (("95", Z95), ("998", Z998)):
        o_low, o_high = poisson_count_interval(observed, z)
        low = dsr + factor * (o_low - observed)
        high = dsr + factor * (o_high - observed)
        out[f"ci{label}_low"] = np.where(reliable, low * multiplier, np.nan)
        out[f"ci{label}_high"] = np.where(reliable, high * multiplier, np.nan)
    out["is_reliable"] = reliable
    return out


def compare_to_benchmark(low, high, benchmark, polarity) -> np.ndarray:
    """Interval against a benchmark's point value, read through polarity (PHE Fingertips)."""
    low, high, benchmark = np.broadcast_arrays(_arr(low), _arr(high), _arr(benchmark))
    polarity = np.broadcast_to(np.asarray(polarity, dtype=object), low.shape)
    above = low > benchmark
    below = high < benchmark
    judged_higher = np.where(polarity == "higher_is_better", "better", "worse")
    judged_lower = np.where(polarity == "higher_is_better", "worse", "better")
    neutral = polarity == "no_judgement"
    result = np.where(
        above,
        np.where(neutral, "higher", judged_higher),
        np.where(below, np.where(neutral, "lower", judged_lower), "similar"),
    ).astype(object)
    result[np.isnan(low) | np.isnan(high) | np.isnan(benchmark)] = "not_compared"
    return result


def _poisson_slope(t: np.ndarray, y: np.ndarray, exposure: np.ndarray) -> tuple[float, float]:
    """Poisson regression log μ = a + b·t + log(exposure) by IRLS; returns (b, Wald SE of b)."""
    design = np.column_stack([np.ones_like(t), t])
    offset = np.log(exposure)
    beta = np.array([np.log(max(y.sum(), 0.5) / exposure.sum()), 0.0])
    for _ in range(50):
        mu = np.exp(design @ beta + offset)
        weights = mu
        z = design @ beta + (y - mu) / mu
        xtw = design.T * weights
        new = np.linalg.solve(xtw @ design, xtw @ z)
        if np.max(np.abs(new - beta)) < 1e-10:
            beta = new
            break
        beta = new
    mu = np.exp(design @ beta + offset)
    cov = np.linalg.inv((design.T * mu) @ design)
    return float(beta[1]), float(np.sqrt(cov[1, 1]))


def _cochran_armitage(t: np.ndarray, x: np.ndarray, n: np.ndarray) -> tuple[float, float]:
    """Chi-square test for trend in proportions (Armitage 1955); returns (slope, z)."""
    p_bar = x.sum() / n.sum()
    t_bar = (n * t).sum() / n.sum()
    numerator = (x * (t - t_bar)).sum()
    variance = p_bar * (1 - p_bar) * (n * (t - t_bar) ** 2).sum()
    if variance <= 0:
        return 0.0, 0.0
    slope = numerator / (n * (t - t_bar) ** 2).sum()
    return float(slope), float(numerator / np.sqrt(variance))


def trend_test(
    frame: pd.DataFrame,
    group_cols: list[str],
    period_col: str = "period",
    events_col: str = "numerator",
    exposure_col: str = "denominator",
    kind: str = "rate",
    last_n: int = 5,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Direction and significance of the trend over each group's last ``last_n`` periods."""
    rows = []
    for key, group in frame.sort_values(period_col).groupby(group_cols, sort=False):
        group = group.dropna(subset=[events_col]).tail(last_n)
        key = key if isinstance(key, tuple) else (key,)
        record = dict(zip(group_cols, key, strict=True))
        t = np.arange(len(group), dtype=float)
        if len(group) >= 2:
            t = group[period_col].astype(str).str[:4].astype(float).to_numpy()
            t = t - t.mean()
        y = group[events_col].to_numpy(float)
        slope, p_value = np.nan, np.nan
        if len(group) >= 3:
            if kind == "rate":
                exposure = group[exposure_col].to_numpy(float)
                if (exposure > 0).all() and y.sum() > 0:
                    slope, se = _poisson_slope(t, y, exposure)
                    p_value = 2 * sps.norm.sf(abs(slope / se))
            elif kind == "proportion":
                n = group[exposure_col].to_numpy(float)
                if (n > 0).all():
                    slope, z = _cochran_armitage(t, y, n)
                    p_value = 2 * sps.norm.sf(abs(z))
            else:
                fit = sps.linregress(t, y)
                slope, p_value = float(fit.slope), float(fit.pvalue)
        if np.isnan(p_value):
            trend = "insufficient_data"
        elif p_value < alpha:
            trend = "increasing" if slope > 0 else "decreasing"
        else:
            trend = "no_change"
        rows.append(
            {**record, "trend_slope": slope, "trend_p_value": p_value, "trend": trend,
             "n_points": len(group)}
        )  # fmt: skip
    columns = [*group_cols, "trend_slope", "trend_p_value", "trend", "n_points"]
    return pd.DataFrame(rows, columns=columns)


def funnel_limits(
    target: float, denominators, kind: str, z: float, multiplier: float = 1.0, tau2: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Funnel-plot control limits around ``target`` for each denominator (Spiegelhalter 2005)."""
    n = _arr(denominators)
    theta = target / multiplier
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "proportion":
            se = np.sqrt(theta * (1 - theta) / n + tau2)
            low, high = theta - z * se, np.minimum(theta + z * se, 1.0)
        elif kind == "rate":
            if tau2 > 0:
                se = np.sqrt(theta / n + tau2)
                low, high = theta - z * se, theta + z * se
            else:
                expected = theta * n
                low_count, high_count = poisson_count_interval(expected, z)
                low, high = low_count / n, high_count / n
        else:
            raise ValueError(f"funnel kind must be 'proportion' or 'rate', not {kind!r}")
    return np.maximum(low, 0.0) * multiplier, high * multiplier


def overdispersion(
    values, denominators, target: float, kind: str, multiplier: float = 1.0,
    winsor_pct: float = 0.1,
) -> dict:
    """Overdispersion test and additive τ² (Spiegelhalter 2005; DerSimonian–Laird)."""
    y = _arr(values) / multiplier
    n = _arr(denominators)
    keep = ~np.isnan(y) & (n > 0)
    y, n = y[keep], n[keep]
    theta = target / multiplier
    variance = theta * (1 - theta) / n if kind == "proportion" else theta / n
    s = np.sqrt(variance)
    z = (y - theta) / s
    count = len(z)
    if count < 3:
        return {"phi": np.nan, "tau2": 0.0, "n": count, "overdispersed": False}
    low, high = np.quantile(z, [winsor_pct, 1 - winsor_pct])
    z_w = np.clip(z, low, high)
    phi = float(np.mean(z_w**2))
    w = 1 / s**2
    tau2 = max(0.0, (count * phi - (count - 1)) / (w.sum() - (w**2).sum() / w.sum()))
    overdispersed = count * phi > sps.chi2.ppf(0.95, count - 1)
    return {"phi": phi, "tau2": float(tau2) if overdispersed else 0.0, "n": count,
            "overdispersed": bool(overdispersed)}  # fmt: skip


def peer_groups(features: pd.DataFrame, k: int = 5, log_cols: tuple[str, ...] = ()) -> pd.DataFrame:
    """The k most similar municipalities: log-transform sizes, z-standardise, Euclidean distance."""
    data = features.astype(float).copy()
    for column in log_cols:
        data[column] = np.log(data[column])
    z = ((data - data.mean()) / data.std(ddof=0)).to_numpy()
    distance = np.sqrt(((z[:, None, :] - z[None, :, :]) ** 2).sum(axis=2))
    np.fill_diagonal(distance, np.inf)
    order = np.argsort(distance, axis=1, kind="stable")[:, :k]
    codes = features.index.to_numpy()
    return pd.DataFrame(
        {
            "municipality_code": np.repeat(codes, k),
            "peer_code": codes[order].ravel(),
            "rank": np.tile(np.arange(1, k + 1), len(codes)),
            "distance": np.take_along_axis(distance, order, axis=1).ravel(),
        }
    )


def opportunity(events, population, peer_rate, z: float = Z95) -> pd.DataFrame:
    """Events avoided at the peers' median rate: an upper bound, since case mix is not adjusted."""
    events, population, peer_rate = _arr(events), _arr(population), _arr(peer_rate)
    expected = peer_rate * population
    low, high = poisson_count_interval(events, z)
    return pd.DataFrame(
        {
            "expected": expected,
            "opportunity": np.maximum(events - expected, 0.0),
            "opportunity_low": np.maximum(low - expected, 0.0),
            "opportunity_high": np.maximum(high - expected, 0.0),
        }
    )


def age_band_of(age) -> np.ndarray:
    """Integer ages → ESP 2013 band labels."""
    ages = np.asarray(age, dtype=int)
    index = np.minimum(ages // 5, len(AGE_BANDS) - 1)
    return np.asarray(AGE_BANDS, dtype=object)[index]
