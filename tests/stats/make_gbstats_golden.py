"""Regenerate the gbstats golden values of tests/stats/test_cuped.py (not a test).

The PyPI release gbstats 0.8.0 predates ``RegressionAdjustedRatioStatistic`` and the
covariance-aware relative CUPED variance, and pins pandas < 2 and numpy < 2, which the
project's venv cannot take. The values were therefore computed with gbstats from
github.com/growthbook/growthbook packages/stats at commit
8f1db4456915a8e7b7faf23d5632ca7219d2f469 (its own tests pass on this venv)::

    git -C growthbook archive 8f1db445 packages/stats | tar -x -C /tmp/gb
    PYTHONPATH=/tmp/gb/packages/stats .venv/bin/python tests/stats/make_gbstats_golden.py

It prints the sufficient statistics and gbstats' results as Python literals.
"""

from __future__ import annotations

import numpy as np
from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    RegressionAdjustedRatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)


def mean_arm(rng, n, lift):
    """Per-user pre x and post y = 0.7 x + noise, correlated (rho ~ 0.75)."""
    x = rng.gamma(2.0, 2.0, size=n)
    y = (0.7 * x + rng.gamma(1.5, 1.5, size=n)) * (1 + lift)
    return {
        "n": n,
        "post": (float(y.sum()), float(y @ y)),
        "pre": (float(x.sum()), float(x @ x)),
        "post_pre": float(y @ x),
    }


def ratio_arm(rng, n, lift):
    """Per-user lists (d) and clicks (m) before and after exposure, sharing a user rate."""
    rate = rng.gamma(2.0, 2.5, size=n)
    ctr = rng.beta(2.0, 12.0, size=n)
    d_pre = rng.poisson(rate).astype(float)
    d = 1.0 + rng.poisson(rate)
    m_pre = rng.binomial(d_pre.astype(int), ctr).astype(float)
    m = rng.binomial(d.astype(int), np.minimum(1.0, ctr * (1 + lift))).astype(float)
    return {
        "n": n,
        "post": (m.sum(), m @ m, d.sum(), d @ d, m @ d),
        "pre": (m_pre.sum(), m_pre @ m_pre, d_pre.sum(), d_pre @ d_pre, m_pre @ d_pre),
        "m_post_m_pre": m @ m_pre,
        "d_post_d_pre": d @ d_pre,
        "m_post_d_pre": m @ d_pre,
        "d_post_m_pre": d @ m_pre,
    }


def plain(arm):
    """numpy scalars as Python floats, so that the printed literals are plain numbers."""
    return {
        k: tuple(float(x) for x in v) if isinstance(v, tuple) else v if k == "n" else float(v)
        for k, v in arm.items()
    }


def gb_mean(arm):
    n = arm["n"]
    return RegressionAdjustedStatistic(
        n=n,
        post_statistic=SampleMeanStatistic(n=n, sum=arm["post"][0], sum_squares=arm["post"][1]),
        pre_statistic=SampleMeanStatistic(n=n, sum=arm["pre"][0], sum_squares=arm["pre"][1]),
        post_pre_sum_of_products=arm["post_pre"],
        theta=None,
    )


def gb_ratio(arm):
    n = arm["n"]
    m, m2, d, d2, md = (float(v) for v in arm["post"])
    mp, mp2, dp, dp2, mdp = (float(v) for v in arm["pre"])
    return RegressionAdjustedRatioStatistic(
        n=n,
        m_statistic_post=SampleMeanStatistic(n=n, sum=m, sum_squares=m2),
        d_statistic_post=SampleMeanStatistic(n=n, sum=d, sum_squares=d2),
        m_statistic_pre=SampleMeanStatistic(n=n, sum=mp, sum_squares=mp2),
        d_statistic_pre=SampleMeanStatistic(n=n, sum=dp, sum_squares=dp2),
        m_post_m_pre_sum_of_products=float(arm["m_post_m_pre"]),
        d_post_d_pre_sum_of_products=float(arm["d_post_d_pre"]),
        m_pre_d_pre_sum_of_products=mdp,
        m_post_d_post_sum_of_products=md,
        m_post_d_pre_sum_of_products=float(arm["m_post_d_pre"]),
        m_pre_d_post_sum_of_products=float(arm["d_post_m_pre"]),
        theta=None,
    )


def results(a, b):
    out = {}
    for difference in ("relative", "absolute"):
        fixed = TwoSidedTTest([(a, b)], FrequentistConfig(difference_type=difference))
        seq = SequentialTwoSidedTTest(
            [(a, b)], SequentialConfig(difference_type=difference, sequential_tuning_parameter=5000)
        )
        bayes = EffectBayesianABTest([(a, b)], EffectBayesianConfig(difference_type=difference))
        f, s, y = fixed.compute_result(), seq.compute_result(), bayes.compute_result()
        out[difference] = {
            "estimate": f.expected,
            "se": f.uplift.stddev,
            "p_value": f.pValue,
            "ci": tuple(f.ci),
            "df": float(fixed.dof),
            "seq_ci": tuple(s.ci),
            "seq_p_value": s.pValue,
            "chance_to_win": y.chanceToWin,
            "risk": tuple(y.risk),
        }
    out["theta"] = fixed.stat_a.theta
    return out


def main() -> None:
    rng = np.random.default_rng(20240611)
    mean_a, mean_b = mean_arm(rng, 1500, 0.0), mean_arm(rng, 1700, 0.03)
    print("MEAN_ARMS =", repr((mean_a, mean_b)))
    print("MEAN_GBSTATS =", repr(results(gb_mean(mean_a), gb_mean(mean_b))))
    ratio_a, ratio_b = (plain(ratio_arm(rng, n, lift)) for n, lift in ((4000, 0.0), (4200, 0.12)))
    print("RATIO_ARMS =", repr((ratio_a, ratio_b)))
    print("RATIO_GBSTATS =", repr(results(gb_ratio(ratio_a), gb_ratio(ratio_b))))


if __name__ == "__main__":
    main()
