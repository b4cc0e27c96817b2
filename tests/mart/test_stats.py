"""stats.py against independently computed values: published examples, hand formulas, other fits.

Reference values never come from the function under test: they are typed in from the literature
(Newcombe 1998), worked out with ``math`` in the test, or computed by a different algorithm
(root finding on the Poisson CDF, ``scipy.optimize`` on the log-likelihood, ``linregress``).
Any warning is an error here: edge cases must not leak numpy/scipy warnings.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy import stats as sps

from datapakke.mart import stats
from datapakke.mart.stats import (
    Z95,
    Z998,
    age_band_of,
    compare_to_benchmark,
    direct_standardised_rate,
    funnel_limits,
    overdispersion,
    poisson_count_interval,
    rate_interval,
    trend_test,
    wilson_interval,
)
from datapakke.standard_population import AGE_BANDS, ESP2013

pytestmark = pytest.mark.filterwarnings("error")
FAST = settings(max_examples=40, deadline=None)


# --- independent reference implementations (math only, or a different algorithm) --------------


def wilson_by_hand(x: float, n: float, z: float = Z95) -> tuple[float, float]:
    centre, denom = 2 * x + z * z, 2 * (n + z * z)
    half = z * math.sqrt(z * z + 4 * x * (1 - x / n))
    return (centre - half) / denom, (centre + half) / denom


def byar_by_hand(x: float, z: float = Z95) -> tuple[float, float]:
    low = x * (1 - 1 / (9 * x) - z / (3 * math.sqrt(x))) ** 3
    high = (x + 1) * (1 - 1 / (9 * (x + 1)) + z / (3 * math.sqrt(x + 1))) ** 3
    return low, high


def exact_by_root_finding(x: int, tail: float = 0.025) -> tuple[float, float]:
    """Garwood limits as the means where P(X ≥ x) = tail and P(X ≤ x) = tail."""
    low = 0.0
    if x > 0:
        low = optimize.brentq(lambda mu: sps.poisson.sf(x - 1, mu) - tail, 1e-12, 10 * x + 10)
    high = optimize.brentq(lambda mu: sps.poisson.cdf(x, mu) - tail, 1e-12, 10 * x + 50)
    return low, high


def poisson_cdf_by_hand(r: int, mu: float) -> float:
    if r < 0:
        return 0.0
    return sum(math.exp(k * math.log(mu) - mu - math.lgamma(k + 1)) for k in range(r + 1))


def spiegelhalter_quantile_by_hand(mu: float, p: float) -> float:
    r = 0
    while poisson_cdf_by_hand(r, mu) < p:
        r += 1
    f_r, f_before = poisson_cdf_by_hand(r, mu), poisson_cdf_by_hand(r - 1, mu)
    return r - (f_r - p) / (f_r - f_before)


def chi2_1df_sf(chi: float) -> float:
    return math.erfc(math.sqrt(chi / 2))


# --- constants and age bands ----------------------------------------------------------------


def test_constants_and_standard_population():
    assert sps.norm.ppf(0.975) == pytest.approx(Z95, abs=1e-14)
    assert sps.norm.ppf(0.999) == pytest.approx(Z998, abs=1e-14)
    assert sum(ESP2013.values()) == 100_000
    assert len(AGE_BANDS) == 19
    assert AGE_BANDS[0] == "0-4" and AGE_BANDS[-2] == "85-89" and AGE_BANDS[-1] == "90+"
    assert tuple(ESP2013) == AGE_BANDS
    assert ESP2013["45-49"] == 7000 and ESP2013["90+"] == 1000


def test_age_band_of():
    ages = [0, 4, 5, 9, 10, 44, 45, 84, 85, 89, 90, 104, 4.9]
    expected = ["0-4", "0-4", "5-9", "5-9", "10-14", "40-44", "45-49", "80-84", "85-89",
                "85-89", "90+", "90+", "0-4"]  # fmt: skip
    assert list(age_band_of(ages)) == expected
    assert list(age_band_of(pd.Series(range(0, 95, 5)))) == list(AGE_BANDS)
    missing = age_band_of([np.nan, -1])
    assert pd.isna(missing).all()


# --- Wilson -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [  # Newcombe (1998), Stat Med 17:857, table I, method 3
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
        (0, 20, 0.0, 0.1611),
        (1, 29, 0.0061, 0.1718),
    ],
)
def test_wilson_newcombe_examples(x, n, low, high):
    lo, hi = wilson_interval(x, n)
    assert float(lo) == pytest.approx(low, abs=1e-4)
    assert float(hi) == pytest.approx(high, abs=1e-4)


def test_wilson_matches_hand_formula_vectorised():
    x = np.array([81, 15, 1, 7, 50, 3])
    n = np.array([263, 148, 29, 10, 50, 1000])
    for z in (Z95, Z998):
        lo, hi = wilson_interval(pd.Series(x), list(n), z)
        for i in range(len(x)):
            ref = wilson_by_hand(x[i], n[i], z)
            assert lo[i] == pytest.approx(ref[0], abs=1e-12)
            assert hi[i] == pytest.approx(ref[1], abs=1e-12)


def test_wilson_edges_give_nan_without_warnings():
    lo, hi = wilson_interval([0, 5, 3, np.nan, 2, -1, 4], [0, 5, np.nan, 10, 1, 10, 4])
    assert np.isnan(lo[0]) and np.isnan(hi[0])  # n = 0
    assert hi[1] == 1.0 and lo[1] == pytest.approx(wilson_by_hand(5, 5)[0], abs=1e-12)
    assert np.isnan(lo[2:6]).all() and np.isnan(hi[2:6]).all()  # NaN, x > n, x < 0
    assert hi[6] == 1.0
    lo, hi = wilson_interval(pd.Series([3, pd.NA], dtype="Int64"), [10, 10])
    assert not np.isnan(lo[0]) and np.isnan(lo[1])


@FAST
@given(
    n=st.integers(1, 100_000),
    frac=st.floats(0, 1),
    z=st.sampled_from([Z95, Z998]),
)
def test_wilson_contains_estimate_and_stays_in_unit_interval(n, frac, z):
    x = math.floor(frac * n)
    lo, hi = wilson_interval(x, n, z)
    assert 0 <= lo <= x / n <= hi <= 1


@FAST
@given(n=st.integers(1, 50_000), frac=st.floats(0, 1))
def test_wilson_narrows_with_n_and_998_contains_95(n, frac):
    x = math.floor(frac * n)
    lo, hi = wilson_interval(x, n)
    lo4, hi4 = wilson_interval(4 * x, 4 * n)
    assert hi4 - lo4 < hi - lo
    lo998, hi998 = wilson_interval(x, n, Z998)
    assert lo998 <= lo and hi <= hi998


# --- Poisson counts and rates -----------------------------------------------------------------


def test_exact_poisson_known_values():
    lo, hi = poisson_count_interval([0, 5])
    assert lo[0] == 0.0 and hi[0] == pytest.approx(3.6889, abs=1e-4)
    assert lo[1] == pytest.approx(1.6235, abs=1e-4) and hi[1] == pytest.approx(11.6683, abs=1e-4)


@pytest.mark.parametrize("x", range(10))
def test_exact_poisson_against_root_finding(x):
    for z, tail in ((Z95, 0.025), (Z998, 0.001)):
        ref = exact_by_root_finding(x, tail)
        lo, hi = poisson_count_interval(x, z)
        assert float(lo) == pytest.approx(ref[0], abs=1e-6)
        assert float(hi) == pytest.approx(ref[1], abs=1e-6)


@pytest.mark.parametrize("x", [10, 100, 1000])
def test_byar_against_hand_formula(x):
    for z in (Z95, Z998):
        lo, hi = poisson_count_interval(x, z)
        ref = byar_by_hand(x, z)
        assert float(lo) == pytest.approx(ref[0], rel=1e-12)
        assert float(hi) == pytest.approx(ref[1], rel=1e-12)


@pytest.mark.parametrize("x", [10, 50, 300, 1000])
def test_byar_is_close_to_exact_for_larger_counts(x):
    ref = exact_by_root_finding(x)
    lo, hi = poisson_count_interval(x)
    assert float(lo) == pytest.approx(ref[0], rel=2e-3)
    assert float(hi) == pytest.approx(ref[1], rel=2e-3)


def test_poisson_switches_method_at_ten_and_handles_bad_input():
    lo, hi = poisson_count_interval([9, 10, np.nan, -1])
    assert lo[0] == pytest.approx(exact_by_root_finding(9)[0], abs=1e-6)
    assert lo[1] == pytest.approx(byar_by_hand(10)[0], rel=1e-12)
    assert np.isnan(lo[2:]).all() and np.isnan(hi[2:]).all()


def test_rate_interval():
    lo, hi = rate_interval([5, 20, 20, np.nan], [1000, 4000, 0, 100], multiplier=1000)
    assert lo[0] == pytest.approx(1.6235 / 1000 * 1000, abs=1e-4)
    assert hi[0] == pytest.approx(11.6683, abs=1e-4)
    ref = byar_by_hand(20)
    assert lo[1] == pytest.approx(ref[0] / 4000 * 1000, rel=1e-12)
    assert hi[1] == pytest.approx(ref[1] / 4000 * 1000, rel=1e-12)
    assert np.isnan(lo[2:]).all() and np.isnan(hi[2:]).all()


@FAST
@given(x=st.one_of(st.integers(0, 10**6), st.floats(0, 1e6)))
def test_poisson_interval_contains_count_and_998_contains_95(x):
    lo, hi = poisson_count_interval(x)
    assert 0 <= lo <= x < hi
    lo998, hi998 = poisson_count_interval(x, Z998)
    assert lo998 <= lo and hi <= hi998


# --- directly standardised rates ------------------------------------------------------------


def dsr_frame(events, population, weights, group="A") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "area": group,
            "age_band": [f"b{i}" for i in range(len(events))],
            "events": events,
            "population": population,
            "weight": weights,
        }
    )


def test_dsr_worked_example_with_dobson_by_hand():
    # Three bands, weights 2000/5000/3000: age-specific rates .004, .005, .012.
    frame = dsr_frame([4, 10, 6], [1000, 2000, 500], [2000, 5000, 3000])
    out = direct_standardised_rate(frame, ["area"], multiplier=100_000)
    row = out.iloc[0]
    dsr = (2000 * 0.004 + 5000 * 0.005 + 3000 * 0.012) / 10_000
    assert dsr == pytest.approx(0.0069)
    assert row["value"] == pytest.approx(690.0, rel=1e-12)
    assert row["observed"] == 20 and row["population"] == 3500
    assert bool(row["is_reliable"])
    var = (2000**2 * 4 / 1000**2 + 5000**2 * 10 / 2000**2 + 3000**2 * 6 / 500**2) / 10_000**2
    assert var == pytest.approx(294.5 / 1e8)
    for label, z in (("95", Z95), ("998", Z998)):
        o_low, o_high = byar_by_hand(20, z)  # O = 20 → Byar
        low = dsr + math.sqrt(var / 20) * (o_low - 20)
        high = dsr + math.sqrt(var / 20) * (o_high - 20)
        assert row[f"ci{label}_low"] == pytest.approx(low * 100_000, rel=1e-10)
        assert row[f"ci{label}_high"] == pytest.approx(high * 100_000, rel=1e-10)


def test_dsr_dobson_with_exact_poisson_below_ten():
    frame = dsr_frame([1, 3, 4], [1000, 2000, 500], [2000, 5000, 3000])
    row = direct_standardised_rate(frame, ["area"], multiplier=1000, min_events=5).iloc[0]
    dsr = (2000 * 1 / 1000 + 5000 * 3 / 2000 + 3000 * 4 / 500) / 10_000
    var = (2000**2 * 1 / 1000**2 + 5000**2 * 3 / 2000**2 + 3000**2 * 4 / 500**2) / 10_000**2
    o_low, o_high = exact_by_root_finding(8)
    assert row["value"] == pytest.approx(dsr * 1000, rel=1e-12)
    assert row["ci95_low"] == pytest.approx((dsr + math.sqrt(var / 8) * (o_low - 8)) * 1000)
    assert row["ci95_high"] == pytest.approx((dsr + math.sqrt(var / 8) * (o_high - 8)) * 1000)


def test_dsr_equals_crude_rate_when_population_is_proportional_to_standard():
    rng = np.random.default_rng(1)
    weights = np.array(list(ESP2013.values()), dtype=float)
    population = weights * 0.37
    events = rng.integers(0, 60, size=len(weights)).astype(float)
    frame = dsr_frame(events, population, weights)
    frame["age_band"] = AGE_BANDS
    row = direct_standardised_rate(frame, ["area"]).iloc[0]
    assert row["value"] == pytest.approx(events.sum() / population.sum() * 100_000, rel=1e-12)


def test_dsr_suppression_zero_populations_and_groups():
    frame = pd.concat(
        [
            dsr_frame([2, 3, 4], [100, 200, 300], [1, 1, 1], "small"),  # 9 events
            dsr_frame([0, 10, 5], [0, 200, 300], [1, 1, 1], "zero_band"),  # n=0, x=0 → 0
            dsr_frame([1, 10, 5], [0, 200, 300], [1, 1, 1], "impossible"),  # n=0, x>0 → NaN
            dsr_frame([np.nan, 10, 5], [100, 200, 300], [1, 1, 1], "missing"),
        ],
        ignore_index=True,
    )
    out = direct_standardised_rate(frame, ["area"], multiplier=1).set_index("area")
    assert list(out.columns) == [
        "observed", "population", "value", "ci95_low", "ci95_high", "ci998_low", "ci998_high",
        "is_reliable",
    ]  # fmt: skip
    assert list(out.index) == ["impossible", "missing", "small", "zero_band"]  # sorted keys
    small = out.loc["small"]
    assert small["observed"] == 9 and small["population"] == 600
    assert not small["is_reliable"]
    limits = ["value", "ci95_low", "ci95_high", "ci998_low", "ci998_high"]
    assert np.isnan(small[limits].astype(float)).all()
    assert out.loc["zero_band", "value"] == pytest.approx((0 + 10 / 200 + 5 / 300) / 3)
    assert out.loc["zero_band", "is_reliable"]
    assert np.isnan(out.loc["impossible", ["value", "ci95_low", "ci95_high"]].astype(float)).all()
    assert np.isnan(out.loc["missing", "value"]) and np.isnan(out.loc["missing", "observed"])
    assert out["is_reliable"].dtype == bool


def test_dsr_zero_events_limit_when_published():
    # O = 0 is only shown with min_events=0: DSR 0, lower 0, upper from the uniform-rate limit.
    frame = dsr_frame([0, 0], [1000, 3000], [1, 3])
    row = direct_standardised_rate(frame, ["area"], multiplier=1, min_events=0).iloc[0]
    assert row["value"] == 0 and row["ci95_low"] == 0
    scale = math.sqrt((1 / 1000 + 9 / 3000) / 4000) / 4
    assert row["ci95_high"] == pytest.approx(scale * exact_by_root_finding(0)[1], rel=1e-8)
    # Here the population is proportional to the weights, so that equals the crude upper limit.
    assert row["ci95_high"] == pytest.approx(exact_by_root_finding(0)[1] / 4000, rel=1e-8)


def test_dsr_keeps_missing_keys_and_multiple_group_columns():
    frame = pd.concat(
        [
            dsr_frame([20, 30], [1000, 1000], [1, 1], "A").assign(sex="M"),
            dsr_frame([20, 30], [1000, 1000], [1, 1], "A").assign(sex="K"),
            dsr_frame([20, 30], [1000, 1000], [1, 1], "B").assign(sex=None),
        ],
        ignore_index=True,
    )
    out = direct_standardised_rate(frame, ["area", "sex"], multiplier=1)
    assert len(out) == 3
    assert out["value"].tolist() == pytest.approx([0.025] * 3)
    assert out["sex"].isna().sum() == 1


@st.composite
def band_frames(draw):
    bands = draw(st.integers(1, 19))
    population = draw(st.lists(st.integers(1, 200_000), min_size=bands, max_size=bands))
    weights = draw(st.lists(st.integers(1, 7000), min_size=bands, max_size=bands))
    return np.array(population, float), np.array(weights, float)


@FAST
@given(frame=band_frames(), rate=st.floats(1e-5, 0.5))
def test_dsr_of_a_constant_rate_is_that_rate(frame, rate):
    population, weights = frame
    events = rate * population
    out = direct_standardised_rate(dsr_frame(events, population, weights), ["area"], min_events=0)
    assert out["value"].iloc[0] == pytest.approx(rate * 100_000, rel=1e-9)


@FAST
@given(frame=band_frames(), data=st.data())
def test_dsr_interval_contains_dsr_and_998_contains_95(frame, data):
    population, weights = frame
    events = np.array([data.draw(st.integers(0, int(n))) for n in population], float)
    row = direct_standardised_rate(
        dsr_frame(events, population, weights), ["area"], min_events=0
    ).iloc[0]
    assert 0 <= row["ci95_low"] <= row["value"] <= row["ci95_high"]
    assert row["ci998_low"] <= row["ci95_low"] and row["ci95_high"] <= row["ci998_high"]


# --- comparison -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("polarity", "above", "below"),
    [
        ("higher_is_better", "better", "worse"),
        ("lower_is_better", "worse", "better"),
        ("no_judgement", "higher", "lower"),
    ],
)
def test_compare_all_outcomes(polarity, above, below):
    low = pd.Series([11.0, 5.0, 8.0, 10.0, np.nan, 8.0, 8.0])
    high = pd.Series([14.0, 9.0, 12.0, 12.0, 12.0, np.nan, 12.0])
    bench = pd.Series([10.0, 10.0, 10.0, 10.0, 10.0, 10.0, np.nan])
    result = compare_to_benchmark(low, high, bench, polarity)
    assert result.dtype == object
    assert list(result) == [above, below, "similar", "similar"] + ["not_compared"] * 3


def test_compare_with_array_polarity_and_scalar_benchmark():
    result = compare_to_benchmark(
        [11, 11, 11, 1], [12, 12, 12, 2], 10,
        ["higher_is_better", "lower_is_better", "no_judgement", "no_judgement"],
    )  # fmt: skip
    assert list(result) == ["better", "worse", "higher", "lower"]
    with pytest.raises(ValueError, match="polarity"):
        compare_to_benchmark([1], [2], [3], "sideways")


# --- trends -----------------------------------------------------------------------------------


def series(events, exposure=10_000, group="A", start=2019) -> pd.DataFrame:
    periods = [str(start + i) for i in range(len(events))]
    exposures = exposure if np.ndim(exposure) else [exposure] * len(events)
    return pd.DataFrame(
        {"area": group, "period": periods, "numerator": events, "denominator": exposures}
    )


def glm_by_hand(t, y, n, family: str) -> tuple[float, float, float]:
    """Slope, model-based SE and Pearson X² of a two-parameter GLM by textbook IRLS.

    Matrix form (design matrix, working response, ``np.linalg.solve``), iterated to machine
    precision: log μ = a + b·t + log n (Poisson) or logit π = a + b·t, y ~ Bin(n, π).
    """
    t, y, n = (np.asarray(v, float) for v in (t, y, n))
    x = np.column_stack([np.ones_like(t), t])
    offset = np.log(n) if family == "poisson" else np.zeros_like(t)
    share = y.sum() / n.sum()
    beta = np.array([math.log(share) if family == "poisson" else math.log(share / (1 - share)), 0])

    def mean_var(beta):
        eta = x @ beta + offset
        if family == "poisson":
            mu = np.exp(eta)
            return eta, mu, mu
        prob = 1 / (1 + np.exp(-eta))
        return eta, n * prob, n * prob * (1 - prob)

    for _ in range(200):
        eta, mu, v = mean_var(beta)
        working = eta - offset + (y - mu) / v
        new = np.linalg.solve(x.T @ (v[:, None] * x), x.T @ (v * working))
        done = np.max(np.abs(new - beta)) < 1e-15
        beta = new
        if done:
            break
    _, mu, v = mean_var(beta)
    cov = np.linalg.inv(x.T @ (v[:, None] * x))
    return float(beta[1]), math.sqrt(cov[1, 1]), float(np.sum((y - mu) ** 2 / v))


def quasi_by_hand(slope: float, se: float, x2: float, k: int) -> tuple[float, float, float]:
    """Quasi-likelihood scaling as R's summary.glm: φ = X²/(k − 2); φ > 1 → SE·√φ and t(k − 2)."""
    phi = x2 / (k - 2)
    if phi > 1:
        se = se * math.sqrt(phi)
        return se, 2 * sps.t.sf(abs(slope) / se, k - 2), phi
    return se, math.erfc(abs(slope) / se / math.sqrt(2)), phi


def poisson_slope_by_minimize(t, y, e) -> float:
    """The Poisson MLE of the slope by a general-purpose optimiser (a second, unrelated method)."""
    t, y, e = (np.asarray(v, float) for v in (t, y, e))

    def nll(beta):
        eta = beta[0] + beta[1] * t + np.log(e)
        return -np.sum(y * eta - np.exp(eta))

    def grad(beta):
        mu = np.exp(beta[0] + beta[1] * t + np.log(e))
        return -np.array([np.sum(y - mu), np.sum((y - mu) * t)])

    start = [math.log(y.sum() / e.sum()), 0.0]
    fit = optimize.minimize(nll, start, jac=grad, method="BFGS", options={"gtol": 1e-10})
    return float(fit.x[1])


def assert_trend_row(row: pd.Series, slope: float, se: float, p: float, phi: float) -> None:
    assert row["trend_slope"] == pytest.approx(slope, rel=1e-6)
    assert row["trend_se"] == pytest.approx(se, rel=1e-6)
    assert row["trend_p_value"] == pytest.approx(p, rel=1e-6)
    assert row["trend_dispersion"] == pytest.approx(phi, rel=1e-6)


OVERDISPERSED = [1000, 1150, 1050, 1300, 1200]  # up ~5 % a year, but far noisier than Poisson
NEAR_POISSON = [100, 110, 121, 133, 146]  # almost exactly log-linear: φ ≪ 1


def test_trend_quasi_poisson_matches_a_hand_irls_and_an_optimiser():
    exposure = [100_000, 101_000, 102_000, 103_000, 104_000]
    row = trend_test(series(OVERDISPERSED, exposure), ["area"], kind="rate").iloc[0]
    t = np.arange(5)  # the slope and its SE do not depend on where t starts
    slope, se, x2 = glm_by_hand(t, OVERDISPERSED, exposure, "poisson")
    assert x2 / 3 > 1  # overdispersed: the scaling applies
    assert_trend_row(row, slope, *quasi_by_hand(slope, se, x2, 5))
    assert row["trend_slope"] == pytest.approx(
        poisson_slope_by_minimize(t, OVERDISPERSED, exposure), rel=1e-6
    )
    assert row["n_points"] == 5


def test_trend_overdispersion_makes_a_trend_less_significant():
    row = trend_test(series(OVERDISPERSED), ["area"], kind="rate").iloc[0]
    slope, se, x2 = glm_by_hand(np.arange(5), OVERDISPERSED, [10_000] * 5, "poisson")
    plain_p = math.erfc(abs(slope) / se / math.sqrt(2))
    assert x2 / 3 > 5  # strongly overdispersed
    assert plain_p < 0.001  # a plain Poisson test calls it a clear increase ...
    assert row["trend_p_value"] > 0.05 and row["trend"] == "no_change"  # ... it is not
    assert row["trend_se"] == pytest.approx(se * math.sqrt(x2 / 3), rel=1e-6)


def test_trend_pure_poisson_series_gets_the_plain_poisson_p():
    exposure = [20_000, 20_100, 20_300, 20_200, 20_500]
    row = trend_test(series(NEAR_POISSON, exposure), ["area"], kind="rate").iloc[0]
    slope, se, x2 = glm_by_hand(np.arange(5), NEAR_POISSON, exposure, "poisson")
    assert x2 / 3 <= 1
    plain_p = math.erfc(abs(slope) / se / math.sqrt(2))  # the Wald test, unscaled
    assert_trend_row(row, slope, se, plain_p, x2 / 3)
    assert row["trend"] == "increasing"


def test_trend_quasi_binomial_matches_a_hand_irls():
    r, n = [28, 50, 30, 64, 52], [400, 410, 390, 420, 405]  # noisy rise
    flat_r = [40, 42, 41, 43, 44]  # binomial-sized noise around a slow rise
    frame = pd.concat(
        [series(r, n, group="noisy"), series(flat_r, n, group="calm")], ignore_index=True
    )
    out = trend_test(frame, ["area"], kind="proportion").set_index("area")
    slope, se, x2 = glm_by_hand(np.arange(5), r, n, "binomial")
    assert x2 / 3 > 1
    assert_trend_row(out.loc["noisy"], slope, *quasi_by_hand(slope, se, x2, 5))
    slope, se, x2 = glm_by_hand(np.arange(5), flat_r, n, "binomial")
    assert x2 / 3 <= 1
    assert_trend_row(out.loc["calm"], slope, se, math.erfc(abs(slope) / se / 2**0.5), x2 / 3)
    # The same data treated as plain binomial would call the noisy series an increase.
    slope, se, _ = glm_by_hand(np.arange(5), r, n, "binomial")
    assert math.erfc(abs(slope) / se / 2**0.5) < 0.05 and out.loc["noisy", "trend"] == "no_change"


def test_trend_proportion_separated_and_degenerate_series():
    # All events in the last period: the logistic MLE slope is +∞, so the Cochran–Armitage score
    # test is used. n = 100, t = −1.5..1.5 (centred), r = 0,0,0,8: R = 8, N = 400, p̄ = 0.02,
    # T = Σ r t − R·t̄ = 8·1.5 = 12, Sxx = 100·(2.25 + 0.25 + 0.25 + 2.25) = 500,
    # Var = 0.02·0.98·500 = 9.8 → χ² = 144/9.8.
    frame = pd.concat(
        [
            series([0, 0, 0, 8], 100, group="late"),
            series([0, 0, 0, 0], 50, group="zero"),
            series([50, 50, 50, 50], 50, group="all"),
        ],
        ignore_index=True,
    )
    out = trend_test(frame, ["area"], kind="proportion").set_index("area")
    assert out.loc["late", "trend_p_value"] == pytest.approx(chi2_1df_sf(144 / 9.8), rel=1e-10)
    assert np.isnan(out.loc["late", "trend_slope"]) and out.loc["late", "trend"] == "increasing"
    assert out.loc["zero", "trend"] == "no_change" and out.loc["zero", "trend_p_value"] == 1
    assert out.loc["all", "trend"] == "no_change"


def test_trend_value_with_intervals_is_weighted_least_squares():
    years = np.array([2019, 2020, 2021, 2022, 2023.0])
    values = np.array([31.5, 30.2, 29.9, 28.1, 27.5])
    se = np.array([0.8, 0.5, 1.0, 0.6, 0.9])
    noisy = np.array([31.5, 27.2, 32.9, 26.1, 29.5])

    def frame(y, group):
        return pd.DataFrame(
            {"area": group, "period": years.astype(int).astype(str), "value": y,
             "low": y - Z95 * se, "high": y + Z95 * se}
        )  # fmt: skip

    both = pd.concat([frame(values, "steady"), frame(noisy, "noisy")], ignore_index=True)
    out = trend_test(
        both, ["area"], events_col="value", kind="value", interval_cols=("low", "high")
    ).set_index("area")
    for group, y in (("steady", values), ("noisy", noisy)):
        # np.polyfit with w = 1/σ and cov='unscaled' is WLS with known variances.
        (slope, _), cov = np.polyfit(years, y, 1, w=1 / se, cov="unscaled")
        resid = y - np.polyval(np.polyfit(years, y, 1, w=1 / se), years)
        x2 = float(np.sum(resid**2 / se**2))
        assert_trend_row(out.loc[group], slope, *quasi_by_hand(slope, math.sqrt(cov[0, 0]), x2, 5))
    assert out.loc["steady", "trend_dispersion"] <= 1 and out.loc["noisy", "trend_dispersion"] > 1
    assert out.loc["steady", "trend"] == "decreasing" and out.loc["noisy", "trend"] == "no_change"


def test_trend_value_allows_for_rounding_of_published_values():
    # Values and limits published with one decimal: two intervals have collapsed to a point.
    y = np.array([2.3, 2.4, 2.4, 2.6, 2.7])
    low = np.array([2.3, 2.2, 2.4, 2.4, 2.5])
    high = np.array([2.3, 2.6, 2.4, 2.8, 2.9])
    frame = series(y).assign(low=low, high=high)
    kw = {"events_col": "numerator", "kind": "value", "interval_cols": ("low", "high")}
    unrounded = trend_test(frame, ["area"], **kw).iloc[0]
    assert unrounded["n_points"] == 3  # zero width and no rounding: no known uncertainty
    row = trend_test(frame, ["area"], rounding=0.1, **kw).iloc[0]
    sigma = np.sqrt(((high - low) / (2 * Z95)) ** 2 + 0.01 / 12)
    t = np.arange(5.0)
    (slope, _), cov = np.polyfit(t, y, 1, w=1 / sigma, cov="unscaled")
    x2 = float(np.sum(((y - np.polyval(np.polyfit(t, y, 1, w=1 / sigma), t)) / sigma) ** 2))
    assert row["n_points"] == 5
    assert_trend_row(row, slope, *quasi_by_hand(slope, math.sqrt(cov[0, 0]), x2, 5))


def test_trend_value_without_intervals_is_ols_against_linregress():
    values = [31.5, 30.2, 29.9, 28.1, 27.5]
    frame = series(values).assign(denominator=np.nan)
    row = trend_test(frame, ["area"], kind="value").iloc[0]
    ref = sps.linregress(np.arange(5), values)
    assert row["trend_slope"] == pytest.approx(ref.slope, abs=1e-12)
    assert row["trend_se"] == pytest.approx(ref.stderr, rel=1e-9)
    assert row["trend_p_value"] == pytest.approx(ref.pvalue, rel=1e-9)
    assert row["trend"] == "decreasing"
    flat = trend_test(series([5.0, 5.0, 5.0, 5.0]), ["area"], kind="value").iloc[0]
    assert flat["trend"] == "no_change"


def test_trend_needs_four_points():
    frame = pd.concat(
        [
            series([100, 150, 200], group="three"),
            series([100, 150, 200, 250], group="four", start=2018),
            series([10.0, 12, 14], group="survey"),
        ],
        ignore_index=True,
    )
    out = trend_test(frame, ["area"], kind="rate").set_index("area")
    assert out.loc["three", "trend"] == "insufficient_data" and out.loc["three", "n_points"] == 3
    assert np.isnan(
        out.loc["three", ["trend_slope", "trend_se", "trend_p_value"]].astype(float)
    ).all()
    assert out.loc["four", "trend"] == "increasing" and out.loc["four", "n_points"] == 4
    waves = series([20.0, 18.0, 16.0], group="w").assign(low=[19.0, 17, 15], high=[21.0, 19, 17])
    row = trend_test(
        waves, ["area"], events_col="numerator", kind="value", interval_cols=("low", "high")
    ).iloc[0]
    assert row["trend"] == "insufficient_data"
    assert list(out.columns) == [
        "trend_slope", "trend_se", "trend_p_value", "trend_dispersion", "trend", "n_points"
    ]  # fmt: skip


def test_trend_uses_last_n_periods_and_skips_unusable_points():
    frame = series([10, 500, 400, 300, 200, 100, 90])  # 2019..2025, early spike ignored
    out = trend_test(frame, ["area"], kind="rate", last_n=5).iloc[0]
    assert out["n_points"] == 5 and out["trend"] == "decreasing"
    frame.loc[frame["period"] == "2024", "denominator"] = 0
    out = trend_test(frame, ["area"], kind="rate", last_n=5).iloc[0]
    assert out["n_points"] == 4
    frame.loc[frame["period"] == "2023", "numerator"] = np.nan
    out = trend_test(frame, ["area"], kind="rate", last_n=5).iloc[0]
    assert out["n_points"] == 3 and out["trend"] == "insufficient_data"
    # A value whose interval is missing or empty cannot be weighted: it is not a point.
    values = series([5.0, 6, 7, 8, 9]).assign(low=[4.0, 5, np.nan, 7, 8], high=[6.0, 7, 8, 7, 10])
    row = trend_test(
        values, ["area"], events_col="numerator", kind="value", interval_cols=("low", "high")
    ).iloc[0]
    assert row["n_points"] == 3


def test_trend_rate_degenerate_series():
    frame = pd.concat(
        [series([0, 0, 0, 0, 0], group="none"), series([0, 0, 0, 0, 12], group="late")],
        ignore_index=True,
    )
    out = trend_test(frame, ["area"], kind="rate").set_index("area")
    assert out.loc["none", "trend"] == "no_change"
    # All events in the last period: the MLE slope is infinite, the score test is used.
    # Equal exposures, centred t = -2..2: U = 12·2 = 24, Var U = 12·mean(t²) = 24 → χ² = 24.
    assert np.isnan(out.loc["late", "trend_slope"])
    assert out.loc["late", "trend_p_value"] == pytest.approx(chi2_1df_sf(24.0), rel=1e-9)
    assert out.loc["late", "trend"] == "increasing"


def test_trend_groups_gaps_duplicates_and_empty():
    frame = pd.concat(
        [series([100, 120, 150, 190, 230], group="A"), series([50, 60, 70, 80], group=None)],
        ignore_index=True,
    )
    frame["sex"] = "T"
    out = trend_test(frame, ["area", "sex"], kind="rate")
    assert len(out) == 2 and out["area"].isna().sum() == 1
    # Numeric periods keep their spacing (slope per year): 2019, 2021, 2023, 2025 → +50 a year.
    long = series([100, 150, 200, 250, 300, 350, 400])
    gap = long.iloc[[0, 2, 4, 6]]
    assert trend_test(gap, ["area"], kind="value").iloc[0]["trend_slope"] == pytest.approx(50.0)
    # Other period labels are spaced by their rank among the frame's periods.
    waves = gap.assign(period=["2019/20", "2021/22", "2023/24", "2025/26"])
    assert trend_test(waves, ["area"], kind="value").iloc[0]["trend_slope"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="more than one row"):
        trend_test(pd.concat([gap, gap]), ["area"])
    empty = trend_test(series([]), ["area"])
    assert empty.empty and list(empty.columns) == ["area", *stats.TREND_COLUMNS]


@FAST
@given(
    base=st.integers(20, 2000),
    growth=st.floats(-0.3, 0.3),
    exposure=st.lists(st.integers(1000, 100_000), min_size=5, max_size=5),
)
def test_trend_irls_slope_matches_closed_form_for_exact_log_linear_data(base, growth, exposure):
    e = np.array(exposure, float)
    events = base * e / e[0] * np.exp(growth * np.arange(5))  # exactly log-linear → MLE exact
    row = trend_test(series(events, e), ["area"], kind="rate").iloc[0]
    assert row["trend_slope"] == pytest.approx(growth, abs=1e-8)


@FAST
@given(
    counts=st.lists(st.integers(5, 3000), min_size=4, max_size=6),
    exposure=st.integers(10_000, 1_000_000),
)
def test_trend_quasi_poisson_agrees_with_hand_irls_on_any_series(counts, exposure):
    row = trend_test(series(counts, exposure), ["area"], kind="rate", last_n=6).iloc[0]
    slope, se, x2 = glm_by_hand(np.arange(len(counts)), counts, [exposure] * len(counts), "poisson")
    q_se, p, phi = quasi_by_hand(slope, se, x2, len(counts))
    assert row["trend_slope"] == pytest.approx(slope, rel=1e-6, abs=1e-12)
    assert row["trend_se"] == pytest.approx(q_se, rel=1e-6)
    assert row["trend_p_value"] == pytest.approx(p, rel=1e-6, abs=1e-14)
    assert row["trend_dispersion"] == pytest.approx(phi, rel=1e-6, abs=1e-12)
    plain = math.erfc(abs(slope) / se / math.sqrt(2))
    assert row["trend_p_value"] >= plain - 1e-12  # scaling never makes a trend more certain


# --- funnels and overdispersion ---------------------------------------------------------------


def test_funnel_proportion_equals_normal_formula_and_tau2_widens():
    n = np.array([50, 200, 1000, 10_000])
    p0 = 0.3
    for z in (Z95, Z998):
        lo, hi = funnel_limits(30.0, n, "proportion", z, multiplier=100)
        half = z * np.sqrt(p0 * (1 - p0) / n)
        assert lo == pytest.approx((p0 - half) * 100, rel=1e-12)
        assert hi == pytest.approx((p0 + half) * 100, rel=1e-12)
        lo_t, hi_t = funnel_limits(30.0, n, "proportion", z, multiplier=100, tau2=0.001)
        half_t = z * np.sqrt(p0 * (1 - p0) / n + 0.001)
        assert hi_t == pytest.approx((p0 + half_t) * 100, rel=1e-12)
        assert (lo_t < lo).all() and (hi_t > hi).all()


def test_funnel_limits_narrow_nest_and_clip():
    n = np.array([10, 100, 1000, 10_000, 100_000])
    for kind, target, mult in (("proportion", 0.05, 1), ("rate", 500.0, 100_000)):
        lo95, hi95 = funnel_limits(target, n, kind, Z95, multiplier=mult)
        lo998, hi998 = funnel_limits(target, n, kind, Z998, multiplier=mult)
        assert (np.diff(hi95) < 0).all() and (np.diff(lo95) >= 0).all()
        assert (lo998 <= lo95).all() and (hi95 <= hi998).all()
        assert (lo998 >= 0).all() and lo998[0] == 0  # clipped for small n
        assert (lo95 <= target).all() and (target <= hi95).all()
    lo, hi = funnel_limits(0.99, [5], "proportion", Z998)
    assert hi[0] == 1.0
    lo, hi = funnel_limits(0.2, [0, np.nan], "rate", Z95)
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_funnel_rate_exact_limits_by_hand():
    n = np.array([2000, 7000, 40_000])
    theta = 0.004
    lo, hi = funnel_limits(4.0, n, "rate", Z95, multiplier=1000)
    for i, size in enumerate(n):
        expected = theta * size
        low = max(spiegelhalter_quantile_by_hand(expected, 0.025), 0.0)
        high = spiegelhalter_quantile_by_hand(expected, 0.975)
        assert lo[i] == pytest.approx(low / size * 1000, rel=1e-6)
        assert hi[i] == pytest.approx(high / size * 1000, rel=1e-6)
    # Large n: close to the normal approximation θ ± z√(θ/n).
    lo, hi = funnel_limits(4.0, [1e7], "rate", Z95, multiplier=1000)
    assert hi[0] == pytest.approx((theta + Z95 * math.sqrt(theta / 1e7)) * 1000, rel=1e-4)
    _lo, hi_t = funnel_limits(4.0, n, "rate", Z95, multiplier=1000, tau2=1e-6)
    assert hi_t == pytest.approx((theta + Z95 * np.sqrt(theta / n + 1e-6)) * 1000, rel=1e-12)


def test_overdispersion_by_hand_without_winsorising():
    values = np.array([0.12, 0.08, 0.15, 0.10])
    n = np.array([400, 900, 250, 1600])
    theta = 0.1
    s = [math.sqrt(theta * (1 - theta) / k) for k in n]
    z = [(v - theta) / si for v, si in zip(values, s, strict=True)]
    phi = sum(zi * zi for zi in z) / 4
    w = [1 / si**2 for si in s]
    tau2 = max(0.0, (4 * phi - 3) / (sum(w) - sum(wi * wi for wi in w) / sum(w)))
    out = overdispersion(values * 100, n, 10.0, "proportion", multiplier=100, winsor_pct=0.0)
    assert out["phi"] == pytest.approx(phi, rel=1e-12)
    assert out["tau2"] == pytest.approx(tau2, rel=1e-12)
    assert out["n"] == 4
    assert out["overdispersed"] == (4 * phi > sps.chi2.ppf(0.95, 3))


def test_overdispersion_simulated():
    target = 0.2
    null_tau2, null_flags = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        n = rng.integers(500, 20_000, size=98)
        y = rng.binomial(n, target) / n
        out = overdispersion(y, n, target, "proportion")
        null_tau2.append(out["tau2"])
        null_flags.append(out["overdispersed"])
    assert sum(t == 0 for t in null_tau2) >= 18
    assert sum(null_flags) <= 2

    rng = np.random.default_rng(7)
    n = rng.integers(500, 20_000, size=98)
    rates = rng.gamma(shape=25, scale=0.01 / 25, size=98)  # SD of true rates 0.002 (τ² 4e-6)
    y = rng.poisson(rates * n) / n * 1000
    out = overdispersion(y, n, 10.0, "rate", multiplier=1000)
    assert out["overdispersed"] and out["tau2"] > 0
    assert 1e-6 < out["tau2"] < 1e-5
    wide = funnel_limits(10.0, n, "rate", Z95, multiplier=1000, tau2=out["tau2"])
    narrow = funnel_limits(10.0, n, "rate", Z95, multiplier=1000)
    assert (wide[1] > narrow[1]).all()


def test_overdispersion_edge_cases():
    out = overdispersion([np.nan, 0.1], [100, 0], 0.1, "proportion")
    assert out["n"] == 0 and np.isnan(out["phi"]) and not out["overdispersed"]
    out = overdispersion([0.1, 0.2], [100, 100], 0.0, "rate")
    assert np.isnan(out["tau2"])


def test_public_api_is_complete():
    for name in (
        "wilson_interval", "poisson_count_interval", "rate_interval", "direct_standardised_rate",
        "compare_to_benchmark", "trend_test", "funnel_limits", "overdispersion",
        "age_band_of",
    ):  # fmt: skip
        assert callable(getattr(stats, name))
