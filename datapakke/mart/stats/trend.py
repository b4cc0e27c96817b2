"""Trend over the last points of a series: direction and a significance test."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats as sps

from datapakke.mart.stats._arrays import _float, _group_ids, _sum_by

TREND_KINDS = ("rate", "proportion", "value")
TREND_COLUMNS = ["trend_slope", "trend_p_value", "trend", "n_points"]


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
