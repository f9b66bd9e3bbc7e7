"""Read an experiment's sufficient statistics from the Warehouse.

The aggregation is one BigQuery-dialect query, ``sql/experiment_stats.sql``, run as
is on BigQuery and transpiled on DuckDB. It returns, per UTC day and variant, the
cumulative per-user sums up to that day -- deduplicated, restricted to feedback on
served items, without the users served several variants or above the activity
threshold, capped, and paired with each user's pre-exposure activity -- plus, on every
row, who was left out and the caps. This module turns its rows into
:class:`~movierec.analysis.data.ExperimentData` (the last day is the total).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from movierec.analysis.data import (
    Capping,
    Covariate,
    DailyPoint,
    Exclusions,
    ExperimentData,
    VariantData,
)
from movierec.analysis.definitions import list_experiments
from movierec.errors import ConfigError, DataError
from movierec.events import Experiment
from movierec.stats.adjusted import PrePostMeanStats, PrePostRatioStats
from movierec.stats.statistics import RatioStats, SampleMeanStats
from movierec.stores.ports import Warehouse


@cache
def query_text(name: str) -> str:
    """The text of ``sql/<name>.sql`` shipped with the package."""
    return resources.files("movierec.analysis").joinpath("sql").joinpath(f"{name}.sql").read_text("utf-8")


_ASSIGNED_SQL = "SELECT DISTINCT experiment_id FROM assignments ORDER BY experiment_id"


def load_experiment(warehouse: Warehouse, experiment_id: str) -> Experiment | None:
    """The exported definition of one experiment (with its plan and roles), or None."""
    return next((e for e in list_experiments(warehouse) if e.experiment_id == experiment_id), None)


DEFAULT_CAP_PERCENTILE = 0.99
DEFAULT_ACTIVITY_THRESHOLD = 5_000
DEFAULT_PRE_WINDOW_DAYS = 14
# What "no threshold" is sent as: the query takes an INT64, and nobody is served 2^62 lists.
_NO_THRESHOLD = 2**62
# The per-user quantities the query caps, as named in Capping.caps.
CAPPED_QUANTITIES = (
    "clicks", "impressions", "shown_items", "ratings", "rating_sum", "pre_clicks", "pre_impressions",
)


def load_experiment_data(
    warehouse: Warehouse,
    experiment_id: str,
    *,
    cap_percentile: float | None = DEFAULT_CAP_PERCENTILE,
    activity_threshold: int | None = DEFAULT_ACTIVITY_THRESHOLD,
    pre_window_days: int = DEFAULT_PRE_WINDOW_DAYS,
) -> ExperimentData:
    """Per-variant sufficient statistics of ``experiment_id``, in total and per day.

    ``cap_percentile`` (default 0.99; None caps nothing): every per-user total --
    clicks, lists, shown items, rating sum, rating count, each on its own, so a ratio
    metric's numerator and denominator are capped separately as GrowthBook does -- is
    lowered to that percentile of the users (all variants pooled, zeros left out) who
    have it; the pre-exposure clicks and lists at their own percentile. ``activity_threshold``
    (default 5,000 lists in the experiment; None keeps everyone): heavier users (bots,
    load tests) are left out and counted in ``exclusions.heavy_users``, as users served
    more than one variant are in ``exclusions.multiple_variants``. ``pre_window_days``
    (default 14): the CUPED covariates are the user's lists and clicks in that many days
    before their first exposure. See ``sql/experiment_stats.sql`` for the guarantees.

    Every variant of the exported definition is present, with empty statistics when
    it has no users yet, so a report can say "variant B has no impressions" instead
    of missing it. An experiment that is neither defined nor has assignments in the
    warehouse is a DataError that names the known ones.
    """
    if cap_percentile is not None and not 0.0 < cap_percentile <= 1.0:
        raise ConfigError(f"cap_percentile must be in (0, 1], got {cap_percentile!r}")
    if activity_threshold is not None and activity_threshold < 1:
        raise ConfigError(f"activity_threshold must be >= 1 list, got {activity_threshold!r}")
    if pre_window_days < 0:
        raise ConfigError(f"pre_window_days must be >= 0, got {pre_window_days!r}")
    rows = warehouse.query(query_text("experiment_stats"), {
        "experiment_id": experiment_id,
        "cap_percentile": 1.0 if cap_percentile is None else float(cap_percentile),
        "activity_threshold": _NO_THRESHOLD if activity_threshold is None else int(activity_threshold),
        "pre_window_days": int(pre_window_days),
    })
    summary = rows[0] if rows else {}
    definition = load_experiment(warehouse, experiment_id)
    if definition is None and not summary.get("assigned_users"):
        known = sorted({e.experiment_id for e in list_experiments(warehouse)}
                       | {r["experiment_id"] for r in warehouse.query(_ASSIGNED_SQL)})
        raise DataError(
            f"unknown experiment {experiment_id!r} in the warehouse; known: {known or 'none'}"
            " (run `movierec export` to copy new events)"
        )
    rows = [r for r in rows if r["day"] is not None]  # a null day only carries the summary
    names = [v.name for v in definition.variants] if definition else []
    names += sorted({r["variant"] for r in rows} - set(names))

    covariate = choose_covariate(rows)
    by_day: dict[date, dict[str, VariantData]] = {}
    for row in rows:
        by_day.setdefault(_as_date(row["day"]), {})[row["variant"]] = variant_data(row, covariate)
    daily: list[DailyPoint] = []
    latest = {name: VariantData.empty(name) for name in names}
    for day in sorted(by_day):
        latest = {**latest, **by_day[day]}  # a variant without users yet keeps its zeros
        daily.append(DailyPoint(day, dict(latest)))
    return ExperimentData(
        experiment_id,
        dict(latest),
        daily,
        exclusions=Exclusions(
            multiple_variants=_count(summary, "multiple_variant_users"),
            heavy_users=_count(summary, "heavy_users"),
            activity_threshold=activity_threshold,
            assigned_users=_count(summary, "assigned_users"),
        ),
        capping=None if cap_percentile is None else Capping(
            percentile=cap_percentile,
            caps={q: float(summary[f"{q}_cap"]) for q in CAPPED_QUANTITIES
                  if summary.get(f"{q}_cap") is not None},
            capped_users=_count(summary, "capped_users"),
        ),
        covariate=covariate,
    )


def _count(row: dict[str, Any], name: str) -> int:
    return int(row.get(name) or 0)  # DuckDB's COUNTIF over no rows is null, BigQuery's 0


def choose_covariate(rows: list[dict[str, Any]]) -> Covariate | None:
    """The CUPED covariate for the whole experiment (both arms must share one).

    The logged pre-exposure lists and clicks when any user has some (the metric itself
    before exposure, as gbstats and Eppo use), else the rating history when any user
    has one (simulated MovieLens users), else none.
    """
    if any(float(r.get("pre_d_sum") or 0) > 0 for r in rows):
        return "pre_period"
    if any(float(r.get("pre_h_sum") or 0) > 0 for r in rows):
        return "rating_history"
    return None


def variant_data(row: dict[str, Any], covariate: Covariate | None = "pre_period") -> VariantData:
    """One result row of ``experiment_stats.sql`` as sufficient statistics.

    With ``covariate="rating_history"`` the pre-exposure value of every user is their
    number of rated movies: a mean covariate, written as a ratio over a denominator of 1
    per user, so the ratio metric's regression adjustment takes it unchanged.
    """
    def f(name: str) -> float:
        return float(row[name])

    exposed = int(row["exposed_users"])
    ctr = RatioStats(exposed, f("m_sum"), f("m_sum_squares"), f("d_sum"), f("d_sum_squares"),
                     f("m_d_sum_products"))
    clicks_per_user = SampleMeanStats(exposed, f("m_sum"), f("m_sum_squares"))
    if covariate == "rating_history":
        h, hh = f("pre_h_sum"), f("pre_h_sum_squares")
        ctr_pre = PrePostRatioStats(
            post=ctr, pre=RatioStats(exposed, h, hh, exposed, exposed, h),
            m_post_m_pre_sum_of_products=f("m_pre_h_sum_products"), d_post_d_pre_sum_of_products=f("d_sum"),
            m_post_d_pre_sum_of_products=f("m_sum"), d_post_m_pre_sum_of_products=f("d_pre_h_sum_products"),
        )
        clicks_pre = PrePostMeanStats(post=clicks_per_user, pre=SampleMeanStats(exposed, h, hh),
                                      post_pre_sum_of_products=f("m_pre_h_sum_products"))
    else:
        ctr_pre = PrePostRatioStats(
            post=ctr,
            pre=RatioStats(exposed, f("pre_m_sum"), f("pre_m_sum_squares"), f("pre_d_sum"),
                           f("pre_d_sum_squares"), f("pre_m_d_sum_products")),
            m_post_m_pre_sum_of_products=f("m_pre_m_sum_products"),
            d_post_d_pre_sum_of_products=f("d_pre_d_sum_products"),
            m_post_d_pre_sum_of_products=f("m_pre_d_sum_products"),
            d_post_m_pre_sum_of_products=f("d_pre_m_sum_products"),
        )
        clicks_pre = PrePostMeanStats(
            post=clicks_per_user,
            pre=SampleMeanStats(exposed, f("pre_m_sum"), f("pre_m_sum_squares")),
            post_pre_sum_of_products=f("m_pre_m_sum_products"),
        )
    return VariantData(
        variant=row["variant"],
        users=int(row["users"]),
        exposed_users=exposed,
        impressions=int(row["impressions"]),
        clicks=int(row["clicks"]),
        ratings=int(row["ratings"]),
        shown_items=int(row["shown_items"]),
        ctr=ctr,
        item_ctr=RatioStats(exposed, f("m_sum"), f("m_sum_squares"), f("items_sum"),
                            f("items_sum_squares"), f("m_items_sum_products")),
        clicks_per_user=clicks_per_user,
        rating=RatioStats(int(row["raters"]), f("rating_sum"), f("rating_sum_squares"),
                          f("rating_count"), f("rating_count_squares"), f("rating_sum_count_products")),
        ctr_pre=ctr_pre,
        clicks_per_user_pre=clicks_pre,
    )


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value
