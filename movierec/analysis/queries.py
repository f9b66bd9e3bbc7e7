"""Read an experiment's sufficient statistics from the Warehouse.

The aggregation is one BigQuery-dialect query, ``sql/experiment_stats.sql``, run as
is on BigQuery and transpiled on DuckDB. It returns, per UTC day and variant, the
cumulative per-user sums up to that day; this module turns its rows into
:class:`~movierec.analysis.data.ExperimentData` (the last day is the total).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from movierec.analysis.data import DailyPoint, ExperimentData, VariantData
from movierec.errors import DataError
from movierec.events import Experiment, Variant
from movierec.stats.statistics import RatioStats, SampleMeanStats
from movierec.stores.ports import Warehouse


@cache
def query_text(name: str) -> str:
    """The text of ``sql/<name>.sql`` shipped with the package."""
    return resources.files("movierec.analysis").joinpath("sql").joinpath(f"{name}.sql").read_text("utf-8")


_EXPERIMENTS_SQL = """
SELECT experiment_id, salt, variants, status, coverage, primary_metric, guardrails,
  UNIX_MICROS(created_at) AS created_us, UNIX_MICROS(started_at) AS started_us,
  UNIX_MICROS(stopped_at) AS stopped_us
FROM experiments
ORDER BY experiment_id
"""
_ASSIGNED_SQL = "SELECT DISTINCT experiment_id FROM assignments ORDER BY experiment_id"


def list_experiments(warehouse: Warehouse) -> list[Experiment]:
    """The experiments exported to the warehouse, by id."""
    return [_experiment(r) for r in warehouse.query(_EXPERIMENTS_SQL)]


def load_experiment(warehouse: Warehouse, experiment_id: str) -> Experiment | None:
    """The exported definition of one experiment, or None."""
    return next((e for e in list_experiments(warehouse) if e.experiment_id == experiment_id), None)


def load_experiment_data(warehouse: Warehouse, experiment_id: str) -> ExperimentData:
    """Per-variant sufficient statistics of ``experiment_id``, in total and per day.

    Every variant of the exported definition is present, with empty statistics when
    it has no users yet, so a report can say "variant B has no impressions" instead
    of missing it. An experiment that is neither defined nor has assignments in the
    warehouse is a DataError that names the known ones.
    """
    rows = warehouse.query(query_text("experiment_stats"), {"experiment_id": experiment_id})
    definition = load_experiment(warehouse, experiment_id)
    if definition is None and not rows:
        known = sorted({e.experiment_id for e in list_experiments(warehouse)}
                       | {r["experiment_id"] for r in warehouse.query(_ASSIGNED_SQL)})
        raise DataError(
            f"unknown experiment {experiment_id!r} in the warehouse; known: {known or 'none'}"
            " (run `movierec export` to copy new events)"
        )
    names = [v.name for v in definition.variants] if definition else []
    names += sorted({r["variant"] for r in rows} - set(names))

    by_day: dict[date, dict[str, VariantData]] = {}
    for row in rows:
        by_day.setdefault(_as_date(row["day"]), {})[row["variant"]] = variant_data(row)
    daily: list[DailyPoint] = []
    latest = {name: VariantData.empty(name) for name in names}
    for day in sorted(by_day):
        latest = {**latest, **by_day[day]}  # a variant without users yet keeps its zeros
        daily.append(DailyPoint(day, dict(latest)))
    return ExperimentData(experiment_id, dict(latest), daily)


def variant_data(row: dict[str, Any]) -> VariantData:
    """One result row of ``experiment_stats.sql`` as sufficient statistics."""
    exposed = int(row["exposed_users"])
    clicks, impressions = float(row["clicks"]), float(row["impressions"])
    clicks_ss = float(row["clicks_sum_squares"])
    return VariantData(
        variant=row["variant"],
        users=int(row["users"]),
        exposed_users=exposed,
        impressions=int(row["impressions"]),
        clicks=int(row["clicks"]),
        ratings=int(row["ratings"]),
        ctr=RatioStats(
            n=exposed,
            m_sum=clicks,
            m_sum_squares=clicks_ss,
            d_sum=impressions,
            d_sum_squares=float(row["impressions_sum_squares"]),
            m_d_sum_of_products=float(row["clicks_impressions_sum_products"]),
        ),
        clicks_per_user=SampleMeanStats(n=exposed, sum=clicks, sum_squares=clicks_ss),
        rating=RatioStats(
            n=int(row["raters"]),
            m_sum=float(row["rating_sum"]),
            m_sum_squares=float(row["rating_sum_squares"]),
            d_sum=float(row["ratings"]),
            d_sum_squares=float(row["ratings_sum_squares"]),
            m_d_sum_of_products=float(row["rating_sum_ratings_products"]),
        ),
    )


def _as_date(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def _experiment(row: dict[str, Any]) -> Experiment:
    def seconds(us: int | None) -> float | None:
        return None if us is None else us / 1e6

    return Experiment(
        experiment_id=row["experiment_id"],
        salt=row["salt"],
        variants=tuple(
            Variant(name=v["name"], model=v["model"], version=v["version"], weight=float(v["weight"]))
            for v in row["variants"] or ()
        ),
        status=row["status"],
        coverage=float(row["coverage"]),
        primary_metric=row["primary_metric"],
        guardrails=tuple(row["guardrails"] or ()),
        created_at=seconds(row["created_us"]) or 0.0,
        started_at=seconds(row["started_us"]) or 0.0,
        stopped_at=seconds(row["stopped_us"]),
    )
