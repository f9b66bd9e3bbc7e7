"""CUPED: gbstats' values on the same sufficient statistics, the 1 − ρ² law, and fallbacks.

The golden values are gbstats' results computed by tests/stats/make_gbstats_golden.py
(gbstats at growthbook/growthbook commit 8f1db4456915a8e7b7faf23d5632ca7219d2f469;
its docstring says why not the PyPI release), printed at full precision; the
``PUBLISHED_*`` values are from gbstats' own tests/frequentist/test_tests.py at that
commit, rounded to 5 decimals there.
"""

import numpy as np
import pytest

from movierec.errors import DataError
from movierec.stats.adjusted import PrePostMeanStats, PrePostRatioStats
from movierec.stats.bayesian import bayesian_test
from movierec.stats.cuped import (
    cuped_effect_moments,
    cuped_fit,
    fitted_theta,
    lift_moments,
    mean_adjusted_variance,
    ratio_adjusted_variance,
)
from movierec.stats.frequentist import two_sample_test
from movierec.stats.sequential import sequential_test
from movierec.stats.statistics import ErrorCode, RatioStats, SampleMeanStats

TOL = {"rel": 1e-8, "abs": 1e-12}

MEAN_ARMS = (
    {"n": 1500, "post": (7614.814753238194, 49780.80232749739),
     "pre": (6016.788848383479, 36814.79244962326), "post_pre": 39406.33838232008},
    {"n": 1700, "post": (8953.96978423997, 61498.97819794721),
     "pre": (6811.929317076751, 42251.56377090038), "post_pre": 46709.90650487713},
)  # fmt: skip
MEAN_GBSTATS = {
    "relative": {
        "estimate": 0.03811117488166813, "se": 0.013375375239688528,
        "p_value": 0.004408900576624353, "ci": (0.011885970575805302, 0.06433637918753096),
        "df": 3189.957898327812, "seq_ci": (-0.002746815618397354, 0.07896916538173362),
        "seq_p_value": 0.08297496750379807, "chance_to_win": 0.9978095925590101,
        "risk": (0.03811979117500802, 8.61629333988908e-06),
    },
    "absolute": {
        "estimate": 0.19347302450144488, "se": 0.0666559053195225,
        "p_value": 0.0037265949633651374, "ci": (0.06278026232683886, 0.3241657866760509),
        "df": 3189.957898327812, "seq_ci": (-0.010141924426278426, 0.3970879734291682),
        "seq_p_value": 0.07301622261920168, "chance_to_win": 0.9981493917834192,
        "risk": (0.19350881269732667, 3.5788195881807834e-05),
    },
    "theta": 0.7125546295958197,
}  # fmt: skip
RATIO_ARMS = (
    {"n": 4000, "post": (3371.0, 8609.0, 24063.0, 215899.0, 30247.0),
     "pre": (2892.0, 7782.0, 19831.0, 167113.0, 25058.0), "m_post_m_pre": 5033.0,
     "d_post_d_pre": 169784.0, "m_post_d_pre": 24041.0, "d_post_m_pre": 25194.0},
    {"n": 4200, "post": (3902.0, 10632.0, 24889.0, 221439.0, 34323.0),
     "pre": (2930.0, 7138.0, 20599.0, 172191.0, 24474.0), "m_post_m_pre": 5292.0,
     "d_post_d_pre": 173792.0, "m_post_d_pre": 26590.0, "d_post_m_pre": 24534.0},
)  # fmt: skip
RATIO_GBSTATS = {
    "relative": {
        "estimate": 0.12737689700598334, "se": 0.028523582632101186,
        "p_value": 8.08891462300565e-06, "ci": (0.07146343439361276, 0.18329035961835394),
        "df": 8185.289611014822, "seq_ci": (0.04041596499747803, 0.21433782901448867),
        "seq_p_value": 0.00035635481028994557, "chance_to_win": 0.9999960090651896,
        "risk": (0.12737692041750504, 2.341152170265021e-08),
    },
    "absolute": {
        "estimate": 0.017844305357069767, "se": 0.00376475266841444,
        "p_value": 2.1750234646678024e-06, "ci": (0.010464434452167711, 0.025224176261971824),
        "df": 8185.289611014822, "seq_ci": (0.006366560606367316, 0.029322050107772217),
        "seq_p_value": 0.00011039351475846518, "chance_to_win": 0.9999989305368179,
        "risk": (0.017844306143771027, 7.867012600118613e-10),
    },
    "theta": 0.32257691353643875,
}  # fmt: skip


def mean_stats(arm):
    n = arm["n"]
    return PrePostMeanStats(
        SampleMeanStats(n, *arm["post"]), SampleMeanStats(n, *arm["pre"]), arm["post_pre"]
    )


def ratio_stats(arm):
    n = arm["n"]
    return PrePostRatioStats(
        post=RatioStats(n, *arm["post"]),
        pre=RatioStats(n, *arm["pre"]),
        m_post_m_pre_sum_of_products=arm["m_post_m_pre"],
        d_post_d_pre_sum_of_products=arm["d_post_d_pre"],
        m_post_d_pre_sum_of_products=arm["m_post_d_pre"],
        d_post_m_pre_sum_of_products=arm["d_post_m_pre"],
    )


CASES = [
    pytest.param(mean_stats, MEAN_ARMS, MEAN_GBSTATS, id="mean"),
    pytest.param(ratio_stats, RATIO_ARMS, RATIO_GBSTATS, id="ratio"),
]


@pytest.mark.parametrize(("build", "arms", "golden"), CASES)
@pytest.mark.parametrize("difference", ["relative", "absolute"])
def test_adjusted_tests_equal_gbstats(build, arms, golden, difference):
    a, b = build(arms[0]), build(arms[1])
    want = golden[difference]
    assert fitted_theta(a, b) == pytest.approx(golden["theta"], **TOL)

    fixed = two_sample_test(a, b, difference=difference)
    estimate = fixed.lift_rel if difference == "relative" else fixed.lift_abs
    se = fixed.se_rel if difference == "relative" else fixed.se_abs
    ci = fixed.ci_rel if difference == "relative" else fixed.ci_abs
    assert estimate == pytest.approx(want["estimate"], **TOL)
    assert se == pytest.approx(want["se"], **TOL)
    assert fixed.df == pytest.approx(want["df"], **TOL)
    assert fixed.p_value == pytest.approx(want["p_value"], **TOL)
    assert ci == pytest.approx(want["ci"], **TOL)

    seq = sequential_test(a, b, difference=difference, tuning_parameter=5000)
    assert (seq.ci_rel if difference == "relative" else seq.ci_abs) == pytest.approx(
        want["seq_ci"], **TOL
    )
    assert seq.p_value == pytest.approx(want["seq_p_value"], **TOL)

    bayes = bayesian_test(a, b, difference=difference)
    assert bayes.chance_to_win == pytest.approx(want["chance_to_win"], **TOL)
    assert (bayes.risk_control, bayes.risk_treatment) == pytest.approx(want["risk"], **TOL)


def test_published_gbstats_ratio_cuped_values():
    # gbstats test_two_sided_ttest_test_runs_ratio_ra / test_sequential_test_runs_ratio_ra.
    def arm(m, d, m_pre, d_pre, m_mpre, d_dpre, mpre_dpre, m_d, m_dpre, mpre_d):
        return PrePostRatioStats(
            post=RatioStats(100, m[0], m[1], d[0], d[1], m_d),
            pre=RatioStats(100, m_pre[0], m_pre[1], d_pre[0], d_pre[1], mpre_dpre),
            m_post_m_pre_sum_of_products=m_mpre,
            d_post_d_pre_sum_of_products=d_dpre,
            m_post_d_pre_sum_of_products=m_dpre,
            d_post_m_pre_sum_of_products=mpre_d,
        )

    a = arm((485.112236689623, 2715.484666118136), (679.9093275844917, 4939.424001640236),
            (192.59138069991536, 460.076026390857), (290.1398399750233, 920.9461385038898),
            1113.6215759318352, 2130.9404074446747, 634.239482353647, 3602.146836776702,
            1559.2878434944676, 1460.3181079276983)  # fmt: skip
    b = arm((514.7757826608777, 2994.897482705013), (705.4090874383759, 5291.36604146392),
            (206.94157227402536, 514.2903702246757), (302.54389139107326, 994.4506208125663),
            1237.0953021125997, 2292.081739775257, 698.4173425817908, 3918.1561431600717,
            1701.0287270040265, 1604.0759503266522)  # fmt: skip
    fixed = two_sample_test(a, b)
    assert round(fixed.lift_rel, 5) == -0.0007
    assert round(fixed.se_rel, 5) == 0.00391
    assert tuple(round(x, 5) for x in fixed.ci_rel) == (-0.00841, 0.00700)
    assert round(fixed.p_value, 5) == 0.85771
    seq = sequential_test(a, b)
    assert tuple(round(x, 5) for x in seq.ci_rel) == (-0.02063, 0.01923)
    assert seq.p_value == 1.0


def test_published_gbstats_mean_cuped_sequential_values():
    # gbstats test_sequential_test_runs_ra.
    a = PrePostMeanStats(
        SampleMeanStats(3000, 1396.87, 52377.9767), SampleMeanStats(3000, 16.87, 527.9767), 1
    )
    b = PrePostMeanStats(
        SampleMeanStats(3461, 2422.7, 134698.29), SampleMeanStats(3461, 22.7, 1348.29), 1
    )
    seq = sequential_test(a, b)
    assert round(seq.lift_rel, 5) == 0.50338
    assert round(seq.se_rel, 5) == 0.33341
    assert tuple(round(x, 5) for x in seq.ci_rel) == (-0.50969, 1.51646)
    assert seq.p_value == 1.0


def _correlated_arm(rng, n, rho, shift=0.0):
    x = rng.normal(5.0, 2.0, size=n)
    y = 10.0 + shift + rho * (x - 5.0) + np.sqrt(1 - rho**2) * 2.0 * rng.normal(size=n)
    return x, y


def _mean_pair(x, y):
    return PrePostMeanStats(SampleMeanStats.from_arrays(y), SampleMeanStats.from_arrays(x), x @ y)


@pytest.mark.parametrize("rho", [0.3, 0.6, 0.9])
def test_variance_reduction_is_one_minus_rho_squared(rho):
    rng = np.random.default_rng(int(rho * 10))
    a = _mean_pair(*_correlated_arm(rng, 100_000, rho))
    b = _mean_pair(*_correlated_arm(rng, 100_000, rho, shift=0.1))
    fit = cuped_fit(a, b, difference="absolute")
    # Sampling error of the ratio is about 2ρ²·sqrt(2/n) < 0.01 here.
    assert fit.variance_ratio == pytest.approx(1 - rho**2, abs=0.01)
    assert fit.theta == pytest.approx(rho, abs=0.01)  # slope of y on x: ρ σ_y / σ_x = ρ


def test_adjusted_values_are_the_per_user_regression_residuals():
    rng = np.random.default_rng(7)
    (xa, ya), (xb, yb) = _correlated_arm(rng, 800, 0.7), _correlated_arm(rng, 900, 0.7, 0.3)
    a, b = _mean_pair(xa, ya), _mean_pair(xb, yb)
    theta = np.polyfit(np.r_[xa, xb], np.r_[ya, yb], 1)[0]  # pooled OLS slope
    moments = lift_moments(a, b)
    assert moments.theta == pytest.approx(theta, rel=1e-10)
    adjusted_a, adjusted_b = ya - theta * xa, yb - theta * xb
    assert moments.lift_abs == pytest.approx(adjusted_b.mean() - adjusted_a.mean(), rel=1e-10)
    assert mean_adjusted_variance(a, theta) == pytest.approx(np.var(adjusted_a, ddof=1), rel=1e-10)
    # The absolute CUPED test is Welch's test on the residuals.
    welch = two_sample_test(
        SampleMeanStats.from_arrays(adjusted_a),
        SampleMeanStats.from_arrays(adjusted_b),
        difference="absolute",
    )
    cuped = two_sample_test(a, b, difference="absolute")
    assert cuped.p_value == pytest.approx(welch.p_value, rel=1e-9)
    assert cuped.df == pytest.approx(welch.df, rel=1e-9)


def test_ratio_adjusted_variance_is_that_of_the_linearised_values():
    rng = np.random.default_rng(8)
    n = 3000
    d_pre, d = rng.poisson(4.0, size=n), 1 + rng.poisson(4.0, size=n)
    p = rng.beta(2, 10, size=n)
    m_pre, m = rng.binomial(d_pre, p), rng.binomial(d, p)
    stats = PrePostRatioStats(
        post=RatioStats.from_arrays(m, d),
        pre=RatioStats.from_arrays(m_pre, d_pre),
        m_post_m_pre_sum_of_products=float(m @ m_pre),
        d_post_d_pre_sum_of_products=float(d @ d_pre),
        m_post_d_pre_sum_of_products=float(m @ d_pre),
        d_post_m_pre_sum_of_products=float(d @ m_pre),
    )
    theta = 0.4
    r, r_pre = m.sum() / d.sum(), m_pre.sum() / d_pre.sum()
    linear = (m - r * d) / d.mean() - theta * (m_pre - r_pre * d_pre) / d_pre.mean()
    assert ratio_adjusted_variance(stats, theta) == pytest.approx(np.var(linear, ddof=1), rel=1e-9)
    assert ratio_adjusted_variance(stats, 0.0) == pytest.approx(stats.post.variance, rel=1e-9)


def _identical(x, y):
    assert x == y  # frozen dataclasses compare field by field, exactly


def test_theta_zero_reproduces_the_unadjusted_tests_exactly():
    a, b = mean_stats(MEAN_ARMS[0]), mean_stats(MEAN_ARMS[1])
    _identical(cuped_effect_moments(a, b, theta=0.0), lift_moments(a.post, b.post))
    ra, rb = ratio_stats(RATIO_ARMS[0]), ratio_stats(RATIO_ARMS[1])
    _identical(cuped_effect_moments(ra, rb, theta=0.0), lift_moments(ra.post, rb.post))
    # A pre-period without variance (everyone had the same history) fits θ = 0.
    flat_a = PrePostMeanStats(a.post, SampleMeanStats(a.n, 2.0 * a.n, 4.0 * a.n), 2.0 * a.post.sum)
    flat_b = PrePostMeanStats(b.post, SampleMeanStats(b.n, 2.0 * b.n, 4.0 * b.n), 2.0 * b.post.sum)
    assert fitted_theta(flat_a, flat_b) == 0.0
    for test in (two_sample_test, sequential_test, bayesian_test):
        _identical(test(flat_a, flat_b), test(a.post, b.post))


def test_ratio_without_pre_period_activity_falls_back():
    ra, rb = ratio_stats(RATIO_ARMS[0]), ratio_stats(RATIO_ARMS[1])
    # Every user of the treatment is new: no pre-period lists at all.
    new_b = PrePostRatioStats(rb.post, RatioStats(rb.n, 0, 0, 0, 0, 0), 0, 0, 0, 0)
    assert fitted_theta(ra, new_b) == 0.0
    _identical(two_sample_test(ra, new_b), two_sample_test(ra.post, rb.post))
    _identical(cuped_effect_moments(ra, new_b, theta=0.5), lift_moments(ra.post, rb.post))
    assert cuped_fit(ra, new_b).variance_ratio == 1.0


@pytest.mark.parametrize(
    ("a", "b", "error"),
    [
        (PrePostMeanStats.empty(), PrePostMeanStats.empty(), ErrorCode.NO_UNITS),
        (
            PrePostMeanStats(SampleMeanStats(1, 3, 9), SampleMeanStats(1, 2, 4), 6),
            PrePostMeanStats(SampleMeanStats(5, 10, 30), SampleMeanStats(5, 5, 7), 12),
            ErrorCode.TOO_FEW_UNITS,
        ),
        (PrePostRatioStats.empty(), PrePostRatioStats.empty(), ErrorCode.NO_UNITS),
    ],
)
def test_degenerate_arms_give_error_codes_not_exceptions(a, b, error):
    assert two_sample_test(a, b).error is error
    assert sequential_test(a, b).error is error
    assert bayesian_test(a, b).error is error
    assert cuped_fit(a, b).error is error


def test_mixing_kinds_raises():
    a = mean_stats(MEAN_ARMS[0])
    with pytest.raises(DataError, match="same kind"):
        two_sample_test(a, a.post)
    with pytest.raises(DataError, match="same kind"):
        two_sample_test(a.post, a)
    with pytest.raises(DataError, match="same kind"):
        two_sample_test(a, ratio_stats(RATIO_ARMS[0]))


def test_daily_pre_post_statistics_add_up_before_adjusting():
    rng = np.random.default_rng(9)
    days = [_correlated_arm(rng, 300, 0.8) for _ in range(3)]
    merged = sum((_mean_pair(x, y) for x, y in days), PrePostMeanStats.empty())
    whole = _mean_pair(np.concatenate([d[0] for d in days]), np.concatenate([d[1] for d in days]))
    other = _mean_pair(*_correlated_arm(rng, 500, 0.8, shift=0.2))
    assert lift_moments(merged, other).var_rel == pytest.approx(
        lift_moments(whole, other).var_rel, rel=1e-10
    )
