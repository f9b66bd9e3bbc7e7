"""Simulated per-user A/B data reduced to the warehouse's sufficient statistics.

Each user gets Geometric(0.2) impressions, a personal click probability drawn from
Beta(2, 18) (mean 0.10) times (1 + lift), binomial clicks, and rates about half of
the clicked movies (1-5 stars, shifted by ``rating_shift``). Users arrive uniformly
over ``days`` days so that the daily cumulative points grow like real ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from movierec.events import Experiment, Variant
from movierec.experiments.data import DailyPoint, ExperimentData, VariantData
from movierec.experiments.statistics import RatioStats, SampleMeanStats


@dataclass(frozen=True)
class Users:
    """Per-user arrays of one variant."""

    day: np.ndarray
    impressions: np.ndarray
    clicks: np.ndarray
    ratings: np.ndarray
    rating_sum: np.ndarray


def simulate_users(
    rng: np.random.Generator, n: int, *, lift: float = 0.0, days: int = 7, rating_shift: float = 0.0
) -> Users:
    impressions = rng.geometric(0.2, size=n)
    p = np.clip(rng.beta(2.0, 18.0, size=n) * (1.0 + lift), 0.0, 1.0)
    clicks = rng.binomial(impressions, p)
    ratings = rng.binomial(clicks, 0.5)
    stars = np.clip(np.round(rng.normal(3.5 + rating_shift, 1.0, size=n)), 1, 5)
    return Users(
        day=rng.integers(0, days, size=n),
        impressions=impressions,
        clicks=clicks,
        ratings=ratings,
        rating_sum=ratings * stars,
    )


def variant_data(name: str, users: Users, mask: np.ndarray | None = None) -> VariantData:
    """Sufficient statistics of the users in ``mask`` (all by default)."""
    m = np.ones(users.day.size, bool) if mask is None else mask
    exposed = m & (users.impressions > 0)
    rated = m & (users.ratings > 0)
    return VariantData(
        variant=name,
        users=int(m.sum()),
        exposed_users=int(exposed.sum()),
        impressions=int(users.impressions[m].sum()),
        clicks=int(users.clicks[m].sum()),
        ratings=int(users.ratings[m].sum()),
        ctr=RatioStats.from_arrays(users.clicks[exposed], users.impressions[exposed]),
        clicks_per_user=SampleMeanStats.from_arrays(users.clicks[exposed]),
        rating=RatioStats.from_arrays(users.rating_sum[rated], users.ratings[rated]),
    )


def experiment_data(
    experiment_id: str, arms: dict[str, Users], *, start: date = date(2026, 11, 1)
) -> ExperimentData:
    """Totals plus one cumulative point per day."""
    days = int(max(u.day.max() for u in arms.values())) + 1
    daily = [
        DailyPoint(
            day=start + timedelta(days=d),
            variants={name: variant_data(name, u, u.day <= d) for name, u in arms.items()},
        )
        for d in range(days)
    ]
    return ExperimentData(
        experiment_id=experiment_id,
        variants={name: variant_data(name, u) for name, u in arms.items()},
        daily=daily,
    )


def two_arm_experiment(
    experiment_id: str = "exp-1", weights: tuple[float, float] = (0.5, 0.5), **kwargs
) -> Experiment:
    return Experiment(
        experiment_id=experiment_id,
        salt="salt",
        variants=(
            Variant("A", "svd", None, weights[0]),
            Variant("B", "ease", None, weights[1]),
        ),
        **kwargs,
    )


def ab_data(
    seed: int,
    n_a: int,
    n_b: int,
    *,
    lift: float = 0.0,
    days: int = 7,
    experiment_id: str = "exp-1",
) -> ExperimentData:
    rng = np.random.default_rng(seed)
    return experiment_data(
        experiment_id,
        {
            "A": simulate_users(rng, n_a, days=days),
            "B": simulate_users(rng, n_b, lift=lift, days=days),
        },
    )
