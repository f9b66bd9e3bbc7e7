"""What the warehouse hands the statistics engine: sufficient statistics per variant.

The aggregation SQL (one text for BigQuery and DuckDB) computes, for one experiment,
per-user counts and then per-variant sums; these dataclasses carry the result. Users are
the randomisation unit, so every metric is a per-user statistic:

- ``ctr``: ratio metric, m = clicks of the user, d = impressions of the user;
- ``clicks_per_user``: mean metric over assigned users with at least one impression;
- ``rating``: ratio metric over users who rated, m = sum of their ratings, d = their count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from movierec.stats.statistics import RatioStats, SampleMeanStats


@dataclass(frozen=True)
class VariantData:
    variant: str
    users: int  # assigned users (the SRM check counts these)
    exposed_users: int  # users with at least one impression
    impressions: int
    clicks: int
    ratings: int
    ctr: RatioStats
    clicks_per_user: SampleMeanStats
    rating: RatioStats

    @classmethod
    def empty(cls, variant: str) -> VariantData:
        """A variant nobody has been assigned to yet."""
        return cls(
            variant=variant, users=0, exposed_users=0, impressions=0, clicks=0, ratings=0,
            ctr=RatioStats.empty(), clicks_per_user=SampleMeanStats.empty(), rating=RatioStats.empty(),
        )


@dataclass(frozen=True)
class DailyPoint:
    """Cumulative statistics of every variant up to and including ``day``."""

    day: date
    variants: dict[str, VariantData]


@dataclass(frozen=True)
class ExperimentData:
    experiment_id: str
    variants: dict[str, VariantData]
    daily: list[DailyPoint] = field(default_factory=list)
