"""Calibration of the whole decision rule by simulation: error rate and power under daily looks.

:mod:`movierec.stats.calibration` checks the tests one by one; this module runs the
rule itself -- :func:`movierec.analysis.readout.analyse` on each day's cumulative
sufficient statistics, stopping at the first decided verdict, as someone reading the
daily report would -- and the rule it replaced, on the same simulated experiments.

Users (all exposed) follow the engine's calibration model with ratings added::

    impressions_i ~ Geometric(p_imp)        ctr_i ~ Beta(a, b) · (1 + lift)
    clicks_i ~ Binomial(impressions_i, ctr_i)
    ratings_i ~ Binomial(clicks_i, rated)   stars_i = clip(round(N(3.5 + shift, 1)), 1, 5)

and arrive in equal daily cohorts; daily statistics are merged by adding sums, as the
warehouse query does. The old rule: the sequential p-values of every metric (list
CTR, mean rating, clicks per user) Holm-adjusted together, "wins" when the primary's
adjusted p < α with a positive lift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from movierec.analysis.comparison import compare
from movierec.analysis.config import AnalysisConfig
from movierec.analysis.data import ExperimentData, VariantData
from movierec.analysis.readout import analyse
from movierec.events import Experiment, Variant
from movierec.stats.multiple import adjust_p_values
from movierec.stats.statistics import RatioStats, SampleMeanStats

_COLUMNS = 12  # n, Σc, Σc², Σi, Σi², Σci, raters, Σs, Σs², Σr, Σr², Σsr
_MAX_USERS_PER_BATCH = 2_000_000


@dataclass(frozen=True)
class UserModel:
    p_impressions: float = 0.2  # mean 5 lists per user
    ctr_a: float = 1.0  # Beta(1, 9): mean 0.10, strongly heterogeneous
    ctr_b: float = 9.0
    rated: float = 0.5  # share of clicks that get a rating
    stars: float = 3.5


def draw_sums(
    rng: np.random.Generator, model: UserModel, n_users: int, n_groups: int,
    lift: float = 0.0, rating_shift: float = 0.0,
) -> np.ndarray:
    """Sufficient statistics of ``n_groups`` groups of ``n_users`` users, shape (groups, 12)."""
    out = np.empty((n_groups, _COLUMNS))
    batch = max(1, _MAX_USERS_PER_BATCH // n_users)
    for start in range(0, n_groups, batch):
        rows = min(batch, n_groups - start)
        imp = rng.geometric(model.p_impressions, size=(rows, n_users)).astype(float)
        ctr = np.minimum(1.0, rng.beta(model.ctr_a, model.ctr_b, size=(rows, n_users)) * (1 + lift))
        clicks = rng.binomial(imp.astype(np.int64), ctr).astype(float)
        ratings = rng.binomial(clicks.astype(np.int64), model.rated).astype(float)
        stars = np.clip(np.round(rng.normal(model.stars + rating_shift, 1.0, size=(rows, n_users))), 1, 5)
        score = ratings * stars
        out[start:start + rows] = np.column_stack([
            np.full(rows, n_users, dtype=float), clicks.sum(1), (clicks**2).sum(1), imp.sum(1),
            (imp**2).sum(1), (clicks * imp).sum(1), (ratings > 0).sum(1), score.sum(1),
            (score**2).sum(1), ratings.sum(1), (ratings**2).sum(1), (score * ratings).sum(1),
        ])
    return out


def variant_data(name: str, row: np.ndarray) -> VariantData:
    n, c, c2, i, i2, ci, raters, s, s2, r, r2, sr = row
    users = int(n)
    return VariantData(
        variant=name, users=users, exposed_users=users, impressions=int(i), clicks=int(c),
        ratings=int(r),
        ctr=RatioStats(users, float(c), float(c2), float(i), float(i2), float(ci)),
        clicks_per_user=SampleMeanStats(users, float(c), float(c2)),
        rating=RatioStats(int(raters), float(s), float(s2), float(r), float(r2), float(sr)),
    )


Rule = Callable[[ExperimentData], str]  # -> verdict code


def new_rule(experiment: Experiment, config: AnalysisConfig) -> Rule:
    return lambda data: analyse(experiment, data, config).decision.verdict


def old_rule(config: AnalysisConfig, metrics: Sequence[str] = ("ctr", "rating", "clicks_per_user")) -> Rule:
    """The rule before the decision rule: every metric's sequential p Holm-adjusted together."""

    def verdict(data: ExperimentData) -> str:
        a, b = data.variants["A"], data.variants["B"]
        rows = [compare(m, a, b, config) for m in metrics]
        if any(c.seq_p_value is None for c in rows):
            return "keep_running"
        adjusted = adjust_p_values([c.seq_p_value for c in rows], "holm", alpha=config.alpha)  # type: ignore[misc]
        if not adjusted.reject[0]:
            return "keep_running"
        return "wins" if (rows[0].lift_rel or 0.0) > 0 else "loses"

    return verdict


@dataclass(frozen=True)
class RuleRates:
    """Share of experiments whose first decided look said "wins" / "loses"."""

    rule: str
    n_experiments: int
    wins: float
    loses: float
    wins_se: float
    loses_se: float


@dataclass(frozen=True)
class RuleCalibration:
    n_experiments: int
    days: int
    users_per_day_per_arm: int
    lift: float
    rating_shift: float
    rates: tuple[RuleRates, ...] = field(default=())


def _se(rate: float, n: int) -> float:
    return float(np.sqrt(rate * (1.0 - rate) / n))


def count_decisions(
    rng: np.random.Generator,
    rules: dict[str, Rule],
    *,
    n_experiments: int,
    days: int,
    users_per_day_per_arm: int,
    lift: float = 0.0,
    rating_shift: float = 0.0,
    model: UserModel = UserModel(),
) -> dict[str, dict[str, int]]:
    """Every rule on the same experiments, looked at daily, stopped at its first decision:
    per rule, how many experiments ended "wins" and "loses"."""
    daily_a = draw_sums(rng, model, users_per_day_per_arm, n_experiments * days)
    daily_b = draw_sums(rng, model, users_per_day_per_arm, n_experiments * days, lift, rating_shift)
    cum_a = np.cumsum(daily_a.reshape(n_experiments, days, _COLUMNS), axis=1)
    cum_b = np.cumsum(daily_b.reshape(n_experiments, days, _COLUMNS), axis=1)
    counts = {name: {"wins": 0, "loses": 0} for name in rules}
    for e in range(n_experiments):
        looks = [
            ExperimentData("sim", {"A": variant_data("A", cum_a[e, d]), "B": variant_data("B", cum_b[e, d])})
            for d in range(days)
        ]
        for name, rule in rules.items():
            for data in looks:
                verdict = rule(data)
                if verdict in ("wins", "loses"):
                    counts[name][verdict] += 1
                    break
                if verdict == "no_difference":  # the planned size is reached: stop, no claim
                    break
    return counts


def calibration(
    counts: dict[str, dict[str, int]], *, n_experiments: int, days: int, users_per_day_per_arm: int,
    lift: float = 0.0, rating_shift: float = 0.0,
) -> RuleCalibration:
    rates = tuple(
        RuleRates(name, n_experiments, c["wins"] / n_experiments, c["loses"] / n_experiments,
                  _se(c["wins"] / n_experiments, n_experiments), _se(c["loses"] / n_experiments, n_experiments))
        for name, c in counts.items()
    )
    return RuleCalibration(n_experiments, days, users_per_day_per_arm, lift, rating_shift, rates)


def two_arm(**kwargs) -> Experiment:
    return Experiment("sim", "sim", (Variant("A", "svd", None, 0.5), Variant("B", "ease", None, 0.5)), **kwargs)
