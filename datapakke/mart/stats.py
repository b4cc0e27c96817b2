"""Statistics for the data packs: intervals, standardisation, comparisons, trends, funnels, peers.

Pure numpy/scipy/pandas, vectorised over whole tables (no I/O, no orchestration). Every public
function accepts array-likes (lists, numpy arrays, pandas Series, nullable pandas dtypes) and
returns numpy arrays or DataFrames. In the numeric functions invalid or missing input gives NaN
output, never a warning: ``n = 0`` (nothing to divide by), a NaN anywhere in a row, negative
counts, ``x > n`` for a proportion.

Methods follow the conventions of the English public-health profiles (PHE/OHID "Fingertips"
technical guidance, *Confidence intervals*, 2018), which the packs mirror so that Danish users can
read them like the well-known English ones:

* proportions: Wilson score interval (Newcombe 1998);
* counts and crude rates: exact Poisson below 10 events, Byar's approximation from 10;
* directly standardised rates: European Standard Population 2013 with Dobson intervals;
* comparison with a benchmark by interval overlap (95 % and 99.8 %);
* funnel plots and overdispersion after Spiegelhalter (2005).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats as sps

from datapakke.mart.catalogue import POLARITIES
from datapakke.standard_population import AGE_BANDS

Z95 = 1.959963984540054  # Φ⁻¹(0.975)
Z998 = 3.090232306167813  # Φ⁻¹(0.999)

TREND_KINDS = ("rate", "proportion", "value")
BYAR_MIN_COUNT = 10  # exact Poisson below this many events, Byar from it (PHE convention)

DSR_COLUMNS = [
    "observed",
    "population",
    "value",
    "ci95_low",
    "ci95_high",
    "ci998_low",
    "ci998_high",
    "is_reliable",
]
TREND_COLUMNS = ["trend_slope", "trend_p_value", "trend", "n_points"]


# --------------------------------------------------------------------------------------------
# helpers


def _float(values: ArrayLike) -> np.ndarray:
    """Any array-like (including nullable pandas dtypes with pd.NA) as a float ndarray."""
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        return np.asarray(values.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    return np.asarray(values, dtype=float)


def _alpha(z: float) -> float:
    """Two-sided tail probability that belongs to a normal deviate z (z = 1.96 → 0.05)."""
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


# --------------------------------------------------------------------------------------------
# intervals


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


# --------------------------------------------------------------------------------------------
# direct standardisation


def direct_standardised_rate(
    frame: pd.DataFrame,
    group_cols: list[str],
    events_col: str = "events",
    population_col: str = "population",
    weight_col: str = "weight",
    multiplier: float = 100000.0,
    min_events: float = 10,
) -> pd.DataFrame:
    """Directly age-standardised rate per group with Dobson intervals.

    Why: crude rates mix the disease rate with the age structure; weighting the age-specific
    rates by a common standard (ESP 2013) makes areas comparable. DSR = Σ(w_i x_i/n_i) / Σw_i.
    Interval after Dobson et al. (1991, *Stat Med* 10:457), as in PHE's guidance: with
    var(DSR) = Σ(w_i² x_i/n_i²)/(Σw)², O = Σx and (O_L, O_U) = poisson_count_interval(O),
    DSR_L = DSR + √(var/O)·(O_L − O), DSR_U = DSR + √(var/O)·(O_U − O). The lower limit is
    clipped at 0 (Dobson can go below 0 when a few events carry very large weights w_i/n_i).

    O = 0 (only published if ``min_events`` ≤ 0): √(var/O) is 0/0. We use its limit when the
    age-specific rates fall to zero uniformly (x_i ∝ n_i), √(Σ_{n_i>0} w_i²/n_i / Σn) / Σw,
    so DSR = 0, lower = 0 and the upper limit reflects the population at risk.

    One input row per group × age band; output one row per group (keys sorted, NaN keys kept)
    with ``group_cols`` + observed (Σx), population (Σn), value (DSR·multiplier), ci95_low,
    ci95_high, ci998_low, ci998_high and is_reliable (observed ≥ min_events). Below
    ``min_events`` value and limits are NaN (PHE does not publish DSRs on < 10 events: the
    interval is then too unstable) but observed and population are kept. A band with n_i = 0
    and x_i = 0 contributes 0; n_i = 0 with x_i > 0, negative or NaN input make the group NaN.
    """
    gid, keys = _group_ids(frame, group_cols)
    groups = len(keys)
    x = _float(frame[events_col])
    n = _float(frame[population_col])
    w = _float(frame[weight_col])

    bad = ~((x >= 0) & (n >= 0) & (w >= 0)) | ((n == 0) & (x > 0))
    safe_n = np.where(n > 0, n, 1.0)
    contributes = ~bad & (n > 0)
    wr = np.where(contributes, w * x / safe_n, 0.0)
    wv = np.where(contributes, w * w * x / safe_n**2, 0.0)
    w2_n = np.where(contributes, w * w / safe_n, 0.0)

    observed = _sum_by(gid, x, groups)
    population = _sum_by(gid, n, groups)
    sum_w = _sum_by(gid, np.where(bad, 0.0, w), groups)
    any_bad = _sum_by(gid, bad.astype(float), groups) > 0
    ok = ~any_bad & (sum_w > 0) & (population > 0)
    sw = np.where(ok, sum_w, 1.0)
    dsr = _sum_by(gid, wr, groups) / sw
    var = _sum_by(gid, wv, groups) / sw**2

    obs = np.where(ok, observed, 0.0)
    pop = np.where(ok, population, 1.0)
    scale = np.where(
        obs > 0,
        np.sqrt(var / np.where(obs > 0, obs, 1.0)),
        np.sqrt(_sum_by(gid, w2_n, groups) / pop) / sw,
    )
    reliable = ok & (observed >= min_events)

    out = keys.copy()
    out["observed"] = observed
    out["population"] = population
    out["value"] = np.where(reliable, dsr * multiplier, np.nan)
    for label, z in (("95", Z95), ("998", Z998)):
        o_low, o_high = poisson_count_interval(obs, z)
        low = np.maximum(dsr + scale * (o_low - obs), 0.0)
        high = dsr + scale * (o_high - obs)
        out[f"ci{label}_low"] = np.where(reliable, low * multiplier, np.nan)
        out[f"ci{label}_high"] = np.where(reliable, high * multiplier, np.nan)
    out["is_reliable"] = observed >= min_events  # NaN observed → False
    return out[[*group_cols, *DSR_COLUMNS]]


# --------------------------------------------------------------------------------------------
# comparison with a benchmark


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


# --------------------------------------------------------------------------------------------
# trends


def _classify(slope: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    significant = p < alpha
    return np.where(
        significant & (slope > 0),
        "increasing",
        np.where(significant & (slope < 0), "decreasing", "no_change"),
    ).astype(object)


def _poisson_trend(
    gid: np.ndarray, t: np.ndarray, y: np.ndarray, e: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-group log-linear Poisson slope, Wald p-value and direction sign (vectorised IRLS).

    Model log μ_i = a + b·t_i + log E_i (canonical log link, so IRLS is Newton's method). The
    fit is done for all groups at once: every iteration is a handful of ``bincount`` sums and a
    closed-form 2×2 solve, with step halving to keep the log-likelihood increasing.

    Degenerate groups: no events → slope 0, p = 1 (nothing varies). All events at the first or
    last period → the MLE of b is ±∞ (separation) and the Wald test breaks down (Hauck–Donner),
    so the slope is NaN and p comes from the score test of b = 0 (the Poisson analogue of the
    Cochran–Armitage test), which is finite.
    """
    count = np.bincount(gid, minlength=groups)[:groups].astype(float)
    has = count > 0
    tc = t - (_sum_by(gid, t, groups) / np.where(has, count, 1.0))[gid]
    total = _sum_by(gid, y, groups)
    exposure = _sum_by(gid, e, groups)
    log_e = np.log(e)

    tmin = np.full(groups, np.inf)
    tmax = np.full(groups, -np.inf)
    np.minimum.at(tmin, gid, tc)
    np.maximum.at(tmax, gid, tc)
    at_min = _sum_by(gid, np.where(tc == tmin[gid], y, 0.0), groups)
    at_max = _sum_by(gid, np.where(tc == tmax[gid], y, 0.0), groups)
    separated = has & (total > 0) & ((at_min == total) | (at_max == total))
    fit = has & (total > 0) & ~separated

    slope = np.full(groups, np.nan)
    p = np.full(groups, np.nan)
    sign = np.zeros(groups)
    none = has & (total == 0)
    slope[none], p[none] = 0.0, 1.0

    # Score test at b = 0 for separated groups: U = Σ y(t − t̄_E), Var U = O·var_E(t).
    safe_exp = np.where(exposure > 0, exposure, 1.0)
    t_e = _sum_by(gid, e * tc, groups) / safe_exp
    var_t = np.maximum(_sum_by(gid, e * tc * tc, groups) / safe_exp - t_e**2, 0.0)
    u = _sum_by(gid, y * (tc - t_e[gid]), groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = u * u / (total * var_t)
    p[separated] = sps.chi2.sf(chi[separated], 1)
    sign[separated] = np.sign(u[separated])

    if fit.any():
        rows = fit[gid]
        g, tt, yy, le = gid[rows], tc[rows], y[rows], log_e[rows]
        a = np.where(fit, np.log(np.where(fit, total, 1.0) / safe_exp), 0.0)
        b = np.zeros(groups)

        def loglik(a_: np.ndarray, b_: np.ndarray) -> np.ndarray:
            eta = a_[g] + b_[g] * tt + le
            return _sum_by(g, yy * eta - np.exp(eta), groups)

        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(100):
                mu = np.exp(a[g] + b[g] * tt + le)
                g0, g1 = _sum_by(g, yy - mu, groups), _sum_by(g, (yy - mu) * tt, groups)
                h00, h01 = _sum_by(g, mu, groups), _sum_by(g, mu * tt, groups)
                h11 = _sum_by(g, mu * tt * tt, groups)
                det = h00 * h11 - h01 * h01
                det = np.where(fit & (det > 0), det, np.inf)
                da = np.nan_to_num((h11 * g0 - h01 * g1) / det, nan=0.0, posinf=0.0, neginf=0.0)
                db = np.nan_to_num((h00 * g1 - h01 * g0) / det, nan=0.0, posinf=0.0, neginf=0.0)
                # Step halving: a trial point that lowers (or overflows) the log-likelihood is
                # pulled back, so the iteration cannot diverge.
                old = loglik(a, b)
                step = np.ones(groups)
                for _halving in range(60):
                    new = loglik(a + step * da, b + step * db)
                    worse = ~(new >= old - 1e-12 * np.abs(old))
                    if not worse.any():
                        break
                    step = np.where(worse, step / 2, step)
                a, b = a + step * da, b + step * db
                if np.all(np.abs(step * db) < 1e-10 * (1 + np.abs(b))) and np.all(
                    np.abs(step * da) < 1e-10 * (1 + np.abs(a))
                ):
                    break
        mu = np.exp(a[g] + b[g] * tt + le)
        h00, h01 = _sum_by(g, mu, groups), _sum_by(g, mu * tt, groups)
        h11 = _sum_by(g, mu * tt * tt, groups)
        det = h00 * h11 - h01 * h01
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.sqrt(h00 / det)
            wald = np.abs(b) / se
        slope[fit] = b[fit]
        p[fit] = 2 * sps.norm.sf(wald[fit])
        sign[fit] = np.sign(b[fit])
    return slope, p, sign


def _armitage_trend(
    gid: np.ndarray, t: np.ndarray, r: np.ndarray, n: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """Chi-square test for trend in proportions (Armitage 1955; Altman 1991, §10.7.4).

    With p̄ = R/N: T = Σ r_i t_i − R·Σn_i t_i/N, Var = p̄(1 − p̄)(Σ n_i t_i² − (Σ n_i t_i)²/N),
    χ² = T²/Var on 1 df. The slope is T/Sxx, the n-weighted least-squares change in the
    proportion per period. All-zero or all-event series (p̄ ∈ {0, 1}) → slope 0, p = 1.
    """
    big_n = _sum_by(gid, n, groups)
    big_r = _sum_by(gid, r, groups)
    safe_n = np.where(big_n > 0, big_n, 1.0)
    t = t - (_sum_by(gid, n * t, groups) / safe_n)[gid]  # centred: no cancellation at t ≈ 2019
    st = _sum_by(gid, n * t, groups)
    stt = _sum_by(gid, n * t * t, groups)
    srt = _sum_by(gid, r * t, groups)
    pbar = big_r / safe_n
    stat_t = srt - big_r * st / safe_n
    sxx = stt - st * st / safe_n
    var = pbar * (1 - pbar) * sxx
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = stat_t / sxx
        chi = stat_t * stat_t / var
    degenerate = (pbar <= 0) | (pbar >= 1)
    slope = np.where(degenerate, 0.0, slope)
    p = np.where(degenerate, 1.0, sps.chi2.sf(np.where(degenerate, 0.0, chi), 1))
    return slope, p


def _ols_trend(
    gid: np.ndarray, t: np.ndarray, y: np.ndarray, groups: int
) -> tuple[np.ndarray, np.ndarray]:
    """OLS slope with a t-test on n − 2 df, all groups at once from centred sums.

    Constant values → slope 0, p = 1; an exactly linear series → p = 0.
    """
    count = np.bincount(gid, minlength=groups)[:groups].astype(float)
    safe = np.where(count > 0, count, 1.0)
    tc = t - (_sum_by(gid, t, groups) / safe)[gid]
    yc = y - (_sum_by(gid, y, groups) / safe)[gid]
    sxx = _sum_by(gid, tc * tc, groups)
    sxy = _sum_by(gid, tc * yc, groups)
    syy = _sum_by(gid, yc * yc, groups)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
        ssr = np.maximum(syy - slope * sxy, 0.0)
        se = np.sqrt(ssr / (count - 2) / sxx)
        stat = np.abs(slope) / se
    p = 2 * sps.t.sf(stat, np.maximum(count - 2, 1))
    constant = syy == 0
    return np.where(constant, 0.0, slope), np.where(constant, 1.0, p)


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
    """Trend over the last ``last_n`` periods per group.

    Why these tests: they are the ones PHE uses for "recent trend" in Fingertips, each matched
    to the data's error model. ``kind='rate'``: Poisson regression log μ = a + b·t + log(exposure)
    fitted by IRLS with a Wald test on b (McCullagh & Nelder 1989); slope per period on the log
    scale. ``kind='proportion'``: chi-square test for trend (Cochran–Armitage) on
    events/exposure; slope on the proportion scale. ``kind='value'``: estimates without counts
    (survey): OLS slope of the values in ``events_col`` with a t-test (exposure ignored).

    The window is the ``last_n`` most recent distinct periods in the whole frame (periods sort as
    strings or numbers), so a series that stopped early is not given a trend for old years.
    t is the period itself when every period is numeric ('2019' → 2019: slope per year, a
    skipped year stays a gap), else its position among the frame's sorted distinct periods.
    Usable points: rate – events ≥ 0, exposure > 0; proportion – 0 ≤ events ≤ exposure,
    exposure > 0; value – a finite value. Fewer than 3 usable points → 'insufficient_data'.
    Otherwise 'increasing'/'decreasing' when p < alpha, else 'no_change'. Output one row per
    group: ``group_cols`` + trend_slope, trend_p_value, trend, n_points. Duplicate group × period
    rows raise ValueError.
    """
    if kind not in TREND_KINDS:
        raise ValueError(f"kind must be one of {TREND_KINDS}, got {kind!r}")
    gid_all, keys = _group_ids(frame, group_cols)
    groups = len(keys)
    out = keys.copy()
    if groups == 0:
        for column in TREND_COLUMNS:
            out[column] = pd.Series(dtype=object if column == "trend" else float)
        out["n_points"] = out["n_points"].astype(np.int64)
        return out[[*group_cols, *TREND_COLUMNS]]

    periods = frame[period_col]
    present = periods.notna().to_numpy()
    distinct = np.sort(pd.unique(periods[present]))
    window = distinct[-last_n:] if last_n > 0 else distinct[:0]
    position = pd.Index(distinct).get_indexer(periods.where(periods.isin(window)))
    in_window = present & (position >= 0)
    numeric = pd.to_numeric(pd.Series(distinct), errors="coerce").to_numpy(dtype=float)
    scale = numeric if len(numeric) and np.isfinite(numeric).all() else np.arange(len(distinct))
    t_all = np.where(in_window, scale[np.maximum(position, 0)] if len(scale) else 0.0, np.nan)

    y = _float(frame[events_col])
    e = _float(frame[exposure_col]) if kind != "value" else np.ones(len(frame))
    if kind == "value":
        usable = in_window & np.isfinite(y)
    elif kind == "rate":
        usable = in_window & np.isfinite(y) & np.isfinite(e) & (y >= 0) & (e > 0)
    else:
        usable = in_window & np.isfinite(y) & np.isfinite(e) & (y >= 0) & (e > 0) & (y <= e)

    pairs = pd.DataFrame({"g": gid_all[in_window], "t": position[in_window]})
    if pairs.duplicated().any():
        raise ValueError(f"more than one row per group × {period_col} in the trend window")

    gid, t, y, e = gid_all[usable], t_all[usable].astype(float), y[usable], e[usable]
    n_points = np.bincount(gid, minlength=groups)[:groups]
    if kind == "rate":
        slope, p, sign = _poisson_trend(gid, t, y, e, groups)
    elif kind == "proportion":
        slope, p = _armitage_trend(gid, t, y, e, groups)
        sign = np.sign(slope)
    else:
        slope, p = _ols_trend(gid, t, y, groups)
        sign = np.sign(slope)

    enough = n_points >= 3
    trend = np.where(enough, _classify(sign, p, alpha), "insufficient_data").astype(object)
    out["trend_slope"] = np.where(enough, slope, np.nan)
    out["trend_p_value"] = np.where(enough, p, np.nan)
    out["trend"] = trend
    out["n_points"] = n_points.astype(np.int64)
    return out[[*group_cols, *TREND_COLUMNS]]


# --------------------------------------------------------------------------------------------
# funnel plots and overdispersion


def _poisson_quantile_limit(expected: np.ndarray, prob: float) -> np.ndarray:
    """Continuous p-quantile of Poisson(E) by Spiegelhalter's interpolation (2005, appendix).

    r_p = smallest r with F(r) ≥ p; α = (F(r_p) − p) / (F(r_p) − F(r_p − 1)); limit r_p − α.
    The interpolation makes the funnel smooth in n instead of a staircase.
    """
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


# --------------------------------------------------------------------------------------------
# peers and opportunity


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


def age_band_of(age: ArrayLike) -> np.ndarray:
    """Map ages in completed years to ESP 2013 band labels '0-4', '5-9', …, '85-89', '90+'.

    Non-integer ages are floored (age at last birthday); NaN or negative ages give NaN.
    """
    a = _float(age)
    valid = a >= 0
    idx = np.minimum(np.floor(np.where(valid, a, 0.0) / 5), len(AGE_BANDS) - 1).astype(np.int64)
    labels = np.asarray(AGE_BANDS, dtype=object)[idx]
    return np.where(valid, labels, np.nan).astype(object)
