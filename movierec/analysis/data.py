"""What the warehouse hands the statistics engine: sufficient statistics per variant.

The aggregation SQL (one text for BigQuery and DuckDB) computes, for one experiment,
per-user counts and then per-variant sums; these dataclasses carry the result. Users are
the randomisation unit, so every metric is a per-user statistic:

- ``ctr`` (list CTR): ratio metric, m = clicks of the user, d = lists served to the user;
- ``item_ctr``: ratio metric, m = clicks of the user, d = items shown to the user;
- ``clicks_per_user``: mean metric over assigned users with at least one impression;
- ``rating``: ratio metric over users who rated, m = sum of their ratings, d = their count.

Per-user values may be capped (``capping``) before they are summed, and some users are
left out of every metric and counted instead: users served more than one variant, and
users above the activity threshold. For variance reduction (CUPED) each variant also
carries the same per-user quantities measured before the user's first exposure
(``ctr_pre``, ``clicks_per_user_pre``).

What the warehouse query (``sql/experiment_stats.sql``, read by
:func:`movierec.analysis.queries.load_experiment_data`) guarantees about these numbers:
duplicated rows change nothing, feedback counts only on a movie the list showed, the
excluded users are in no field here (``users`` included), the plain counts
(``impressions``, ``shown_items``, ``clicks``, ``ratings``) are uncapped while the
statistics are capped, and each daily point is cumulative, the last one being the total.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from movierec.stats.adjusted import PrePostMeanStats, PrePostRatioStats
from movierec.stats.statistics import RatioStats, SampleMeanStats


@dataclass(frozen=True)
class VariantData:
    variant: str
    users: int  # assigned users left after exclusions (the SRM check counts these)
    exposed_users: int  # users with at least one impression
    impressions: int
    clicks: int
    ratings: int
    ctr: RatioStats
    clicks_per_user: SampleMeanStats
    rating: RatioStats
    shown_items: int = 0
    item_ctr: RatioStats = field(default_factory=RatioStats.empty)
    # The same users' activity before their first exposure, paired with the post values.
    ctr_pre: PrePostRatioStats = field(default_factory=PrePostRatioStats.empty)
    clicks_per_user_pre: PrePostMeanStats = field(default_factory=PrePostMeanStats.empty)

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
class Capping:
    """Per-user values above the pooled ``percentile`` were lowered to ``caps[quantity]``.

    Quantities: ``clicks``, ``impressions``, ``shown_items``, ``ratings``, ``rating_sum``
    and the pre-exposure ``pre_clicks``, ``pre_impressions``; one without any positive
    value has no cap. ``capped_users`` had at least one of them lowered.
    """

    percentile: float
    caps: dict[str, float] = field(default_factory=dict)
    capped_users: int = 0


@dataclass(frozen=True)
class Exclusions:
    """Users left out of every metric, and why; they are reported, never silently dropped."""

    multiple_variants: int = 0  # served lists of more than one variant
    heavy_users: int = 0  # above the activity threshold (bots, load tests)
    activity_threshold: int | None = None
    assigned_users: int = 0  # before exclusions, for the share that was excluded


# The CUPED covariate the pre-exposure statistics hold: the user's logged lists and clicks
# in the window before exposure, or the number of movies they rated before (their history).
Covariate = Literal["pre_period", "rating_history"]


@dataclass(frozen=True)
class ExperimentData:
    experiment_id: str
    variants: dict[str, VariantData]
    daily: list[DailyPoint] = field(default_factory=list)
    exclusions: Exclusions = field(default_factory=Exclusions)
    capping: Capping | None = None
    covariate: Covariate | None = None  # None: no user has pre-exposure data
