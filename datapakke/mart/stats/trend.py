"""Trend over the last points of a series: direction and a significance test that allows for
more variation between years than the counting model expects (quasi-likelihood)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from datapakke.mart.stats._arrays import _float, _group_ids, _sum_by
from datapakke.mart.stats.intervals import Z95

TREND_KINDS = ("rate", "proportion", "value")
TREND_COLUMNS = [
    "trend_slope",
    "trend_se",
    "trend_p_value",
    "trend_dispersion",
    "trend",
    "n_points",
]
# Four points leave two residual degrees of freedom for the dispersion (k − 2). With three, the
# dispersion rests on one residual and its t reference has one df (97.5 % point 12.7): a test
# that can hardly ever reject, so three points are reported as too few rather than as 'no change'.
MIN_TREND_POINTS = 4

_Fit = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # slope, se, p, φ, sign


def _classify(slope: np.ndarray, p: np.ndarray, alpha: float) -> np.ndarray:
    significant = p < alpha
    return np.where(
        significant & (slope > 0),
        "increasing",
        np.where(significant & (slope < 0), "decreasing", "no_change"),
    ).astype(object)


def _quasi_wald(
    slope: np.ndarray, se: np.ndarray, x2: np.ndarray, k: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled SE, two-sided p and dispersion φ = X²/(k − 2) from a model-based SE and the
    Pearson X² (or weighted residual sum of squares) on k − 2 residual df.

    φ ≤ 1: the model's own variance is kept (no scaling, normal reference), so data that vary no
    more than the model allows get exactly the plain Poisson / binomial / known-variance Wald test.
    φ > 1: SE·√φ with a t reference on k − 2 df, the quasi-likelihood test (McCullagh & Nelder
    1989, §9.2; R's ``summary.glm`` for quasipoisson/quasibinomial). The t reference matters here:
    φ is estimated from 2–3 residuals, and a normal reference would reject a true null about three
    times too often when the data are strongly overdispersed. The price is a step at φ = 1 (from the
    normal to the t reference); it only ever makes the test more cautious.
    """
    from scipy import stats as sps

    df = k - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.where(df > 0, x2 / np.where(df > 0, df, 1), np.nan)
        scaled = phi > 1
        se_q = np.where(scaled, se * np.sqrt(np.where(scaled, phi, 1.0)), se)
        stat = np.abs(slope) / se_q
    p = np.where(
        scaled,
        2 * sps.t.sf(stat, np.maximum(df, 1)),
        2 * sps.norm.sf(stat),
    )
    return se_q, p, phi


def _glm_trend(
    gid: np.ndarray, t: np.ndarray, y: np.ndarray, n: np.ndarray, groups: int, family: str
) -> _Fit:
    """Per-group two-parameter GLM with canonical link, fitted for all groups at once.

    family='poisson': log μ_i = a + b·t_i + log n_i (n = exposure); family='binomial':
    logit π_i = a + b·t_i with y_i ~ Bin(n_i, π_i). With a canonical link IRLS is Newton's
    method: every iteration is a handful of ``bincount`` sums and a closed-form 2×2 solve, with
    step halving to keep the log-likelihood increasing. The Wald SE of b is scaled by the Pearson
    dispersion (see ``_quasi_wald``).

    Degenerate groups: no events (or, binomial, no non-events) → slope 0, p = 1 (nothing varies).
    Separation – all events at the first or last period (Poisson); all events after all
    non-events or the reverse (binomial) – puts the MLE of b at ±∞ and the Wald test breaks down
    (Hauck–Donner), so the slope is NaN and p comes from the score test of b = 0 (Poisson: its
    Cochran–Armitage analogue; binomial: Cochran–Armitage itself). There the fitted model
    reproduces the data in the limit (X² → 0, φ ≤ 1), so the score test is not scaled.
    """
    from scipy import special
    from scipy import stats as sps

    binomial = family == "binomial"
    count = np.bincount(gid, minlength=groups)[:groups].astype(float)
    has = count > 0
    tc = t - (_sum_by(gid, t, groups) / np.where(has, count, 1.0))[gid]
    total = _sum_by(gid, y, groups)
    trials = _sum_by(gid, n, groups)
    safe_trials = np.where(trials > 0, trials, 1.0)

    if binomial:
        degenerate = has & ((total <= 0) | (total >= trials))
        separated = has & ~degenerate & _binomial_separation(gid, tc, y, n, groups)
    else:
        degenerate = has & (total <= 0)
        tmin = np.full(groups, np.inf)
        tmax = np.full(groups, -np.inf)
        np.minimum.at(tmin, gid, tc)
        np.maximum.at(tmax, gid, tc)
        at_min = _sum_by(gid, np.where(tc == tmin[gid], y, 0.0), groups)
        at_max = _sum_by(gid, np.where(tc == tmax[gid], y, 0.0), groups)
        separated = has & ~degenerate & ((at_min == total) | (at_max == total))
    fit = has & ~degenerate & ~separated

    slope = np.full(groups, np.nan)
    se = np.full(groups, np.nan)
    p = np.full(groups, np.nan)
    phi = np.full(groups, np.nan)
    sign = np.zeros(groups)
    slope[degenerate], p[degenerate] = 0.0, 1.0

    # Score test at b = 0 for separated groups: U = Σ y(t − t̄_n), Var U = v·Σ n(t − t̄_n)², with
    # v = ȳ (Poisson, events per unit exposure) or p̄(1 − p̄) (binomial, Cochran–Armitage).
    t_n = _sum_by(gid, n * tc, groups) / safe_trials
    sxx = np.maximum(_sum_by(gid, n * tc * tc, groups) - trials * t_n**2, 0.0)
    u = _sum_by(gid, y * (tc - t_n[gid]), groups)
    pbar = total / safe_trials
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = u * u / ((pbar * (1 - pbar) if binomial else pbar) * sxx)
    p[separated] = sps.chi2.sf(chi[separated], 1)
    sign[separated] = np.sign(u[separated])

    if fit.any():
        rows = fit[gid]
        g, tt, yy, nn = gid[rows], tc[rows], y[rows], n[rows]
        offset = np.zeros_like(nn) if binomial else np.log(nn)
        safe_p = np.clip(pbar, 1e-300, 1 - 1e-16)
        start = np.log(safe_p / (1 - safe_p)) if binomial else np.log(np.maximum(pbar, 1e-300))
        a = np.where(fit, start, 0.0)
        b = np.zeros(groups)

        def mean_and_weight(a_: np.ndarray, b_: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            eta = a_[g] + b_[g] * tt + offset
            if binomial:
                prob = special.expit(eta)
                return nn * prob, nn * prob * (1 - prob)
            mu = np.exp(eta)
            return mu, mu

        def loglik(a_: np.ndarray, b_: np.ndarray) -> np.ndarray:
            eta = a_[g] + b_[g] * tt + offset
            if binomial:
                return _sum_by(g, yy * eta - nn * np.logaddexp(0.0, eta), groups)
            return _sum_by(g, yy * eta - np.exp(eta), groups)

        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(100):
                mu, v = mean_and_weight(a, b)
                g0, g1 = _sum_by(g, yy - mu, groups), _sum_by(g, (yy - mu) * tt, groups)
                h00, h01, h11 = (_sum_by(g, v * tt**j, groups) for j in (0, 1, 2))
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
        mu, v = mean_and_weight(a, b)
        h00, h01, h11 = (_sum_by(g, v * tt**j, groups) for j in (0, 1, 2))
        det = h00 * h11 - h01 * h01
        with np.errstate(divide="ignore", invalid="ignore"):
            model_se = np.sqrt(h00 / det)
            x2 = _sum_by(g, (yy - mu) ** 2 / v, groups)  # Pearson X²
        se_q, p_q, phi_q = _quasi_wald(b, model_se, x2, count)
        slope[fit], se[fit], p[fit], phi[fit] = b[fit], se_q[fit], p_q[fit], phi_q[fit]
        sign[fit] = np.sign(b[fit])
    return slope, se, p, phi, sign


def _binomial_separation(
    gid: np.ndarray, t: np.ndarray, r: np.ndarray, n: np.ndarray, groups: int
) -> np.ndarray:
    """(Quasi-)complete separation along t: every event at or after every non-event, or the
    reverse (Albert & Anderson 1984). Only meaningful where there are events and non-events."""

    def extreme(mask: np.ndarray, low: bool) -> np.ndarray:
        out = np.full(groups, np.inf if low else -np.inf)
        (np.minimum if low else np.maximum).at(out, gid[mask], t[mask])
        return out

    events, non_events = r > 0, n - r > 0
    up = extreme(non_events, low=False) <= extreme(events, low=True)
    down = extreme(events, low=False) <= extreme(non_events, low=True)
    return up | down


def _wls_trend(
    gid: np.ndarray, t: np.ndarray, y: np.ndarray, w: np.ndarray, groups: int, known_variance: bool
) -> _Fit:
    """Weighted least-squares slope, all groups at once from centred weighted sums.

    ``known_variance=True`` (values with a published interval, w = 1/SE²): SE(b) = 1/√Sxx_w,
    scaled by the residual dispersion φ = Σw·e²/(k − 2) when φ > 1 (``_quasi_wald``): the published
    intervals cover sampling error only, and a series that moves more than they allow has other
    variation too. ``known_variance=False`` (w = 1, no interval): ordinary least squares with the
    residual variance always estimated and a t-test on k − 2 df; constant values → slope 0, p = 1,
    an exactly linear series → p = 0.
    """
    from scipy import stats as sps

    count = np.bincount(gid, minlength=groups)[:groups].astype(float)
    sw = _sum_by(gid, w, groups)
    safe = np.where(sw > 0, sw, 1.0)
    tc = t - (_sum_by(gid, w * t, groups) / safe)[gid]
    yc = y - (_sum_by(gid, w * y, groups) / safe)[gid]
    sxx = _sum_by(gid, w * tc * tc, groups)
    sxy = _sum_by(gid, w * tc * yc, groups)
    syy = _sum_by(gid, w * yc * yc, groups)
    df = count - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = sxy / sxx
        rss = np.maximum(syy - slope * sxy, 0.0)
        if known_variance:
            se, p, phi = _quasi_wald(slope, 1 / np.sqrt(sxx), rss, count)
        else:
            phi = np.where(df > 0, rss / np.where(df > 0, df, 1), np.nan)
            se = np.sqrt(phi / sxx)
            p = 2 * sps.t.sf(np.abs(slope) / se, np.maximum(df, 1))
    constant = syy == 0
    slope = np.where(constant, 0.0, slope)
    p = np.where(constant, 1.0, p)
    return slope, se, p, phi, np.sign(slope)


def trend_test(
    frame: pd.DataFrame,
    group_cols: list[str],
    period_col: str = "period",
    events_col: str = "numerator",
    exposure_col: str = "denominator",
    kind: str = "rate",
    last_n: int = 5,
    alpha: float = 0.05,
    interval_cols: tuple[str, str] | None = None,
    z: float = Z95,
    rounding: float = 0.0,
) -> pd.DataFrame:
    """Trend over the last ``last_n`` periods per group, allowing for overdispersion.

    Why these tests: PHE's Fingertips "recent trend" matches a regression on time to the data's
    error model; counts of bed days, contacts or admissions vary between years far more than a
    Poisson or binomial count would (the same patients recur, and there is real year-to-year
    variation), so each test is the quasi-likelihood version of the model (Wedderburn 1974;
    McCullagh & Nelder 1989, ch. 9): the model-based SE of the slope is scaled by √φ,
    φ = Pearson X²/(k − 2), when φ > 1, with a t reference on k − 2 df (see ``_quasi_wald``).

    ``kind='rate'``: quasi-Poisson regression log μ = a + b·t + log(exposure); slope per period on
    the log scale. ``kind='proportion'``: quasi-binomial logistic regression of events out of
    exposure on t; slope per period on the log-odds scale. ``kind='value'`` with
    ``interval_cols=(low, high)`` (DSRs, survey estimates): weighted least squares of the values
    in ``events_col`` on t with weights 1/SE², SE = (high − low)/(2z) from the published
    interval, scaled by the residual dispersion when it is > 1. When the values and limits are
    published rounded to multiples of ``rounding`` (q), the rounding error of the value, uniform
    on ±q/2, adds q²/12 to each SE²: a small rate whose rounded limits coincide (0.3 [0.3; 0.3])
    still has a known, non-zero uncertainty. ``kind='value'`` without intervals: OLS with a
    t-test (exposure ignored).

    The window is the ``last_n`` most recent distinct periods in the whole frame (periods sort as
    strings or numbers), so a series that stopped early is not given a trend for old years.
    t is the period itself when every period is numeric ('2019' → 2019: slope per year, a
    skipped year stays a gap), else its position among the frame's sorted distinct periods.
    Usable points: rate – events ≥ 0, exposure > 0; proportion – 0 ≤ events ≤ exposure,
    exposure > 0; value – a finite value (and, with intervals, finite limits with high > low, or
    high ≥ low when ``rounding`` > 0). Fewer
    than ``MIN_TREND_POINTS`` (4) usable points → 'insufficient_data' (why 4: see the constant).
    Otherwise 'increasing'/'decreasing' when p < alpha, else 'no_change'. Output one row per
    group: ``group_cols`` + trend_slope, trend_se (scaled), trend_p_value, trend_dispersion (φ,
    before flooring at 1; NaN where not estimated), trend, n_points. Duplicate group × period rows
    raise ValueError.
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
    if kind == "value":
        usable = in_window & np.isfinite(y)
        if interval_cols is not None:
            low, high = (_float(frame[c]) for c in interval_cols)
            with np.errstate(invalid="ignore"):
                var_row = ((high - low) / (2 * z)) ** 2 + rounding**2 / 12
                usable &= np.isfinite(var_row) & (high >= low) & (var_row > 0)
            e = np.where(usable, 1 / np.where(usable, var_row, 1.0), np.nan)
        else:
            e = np.ones(len(frame))
    else:
        e = _float(frame[exposure_col])
        usable = in_window & np.isfinite(y) & np.isfinite(e) & (y >= 0) & (e > 0)
        if kind == "proportion":
            usable &= y <= e

    pairs = pd.DataFrame({"g": gid_all[in_window], "t": position[in_window]})
    if pairs.duplicated().any():
        raise ValueError(f"more than one row per group × {period_col} in the trend window")

    gid, t, y, e = gid_all[usable], t_all[usable].astype(float), y[usable], e[usable]
    n_points = np.bincount(gid, minlength=groups)[:groups]
    if kind == "value":
        slope, se, p, phi, sign = _wls_trend(gid, t, y, e, groups, interval_cols is not None)
    else:
        family = "poisson" if kind == "rate" else "binomial"
        slope, se, p, phi, sign = _glm_trend(gid, t, y, e, groups, family)

    enough = n_points >= MIN_TREND_POINTS
    trend = np.where(enough, _classify(sign, p, alpha), "insufficient_data").astype(object)
    out["trend_slope"] = np.where(enough, slope, np.nan)
    out["trend_se"] = np.where(enough, se, np.nan)
    out["trend_p_value"] = np.where(enough, p, np.nan)
    out["trend_dispersion"] = np.where(enough, phi, np.nan)
    out["trend"] = trend
    out["n_points"] = n_points.astype(np.int64)
    return out[[*group_cols, *TREND_COLUMNS]]
