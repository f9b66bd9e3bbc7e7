"""Experiment definitions as the warehouse holds them, with their plan and metric roles.

`movierec export` copies every experiment's stored form (``Experiment.to_dict``) into
the ``experiments`` table, so the daily report reads the same definition -- the
recorded plan included -- as the serving side, without access to the event log.
"""

from __future__ import annotations

from typing import Any

from movierec.events import Experiment
from movierec.stores.ports import Warehouse

_SQL = """
SELECT experiment_id, salt, variants, status, coverage, primary_metric, guardrails,
  guardrail_margins, secondary_metrics, plan, guardrail_plans, design,
  UNIX_MICROS(created_at) AS created_us, UNIX_MICROS(started_at) AS started_us,
  UNIX_MICROS(stopped_at) AS stopped_us
FROM experiments
ORDER BY experiment_id
"""


def list_experiments(warehouse: Warehouse) -> list[Experiment]:
    """The experiments exported to the warehouse, by id, with their plans."""
    return [_experiment(r) for r in warehouse.query(_SQL)]


def _experiment(row: dict[str, Any]) -> Experiment:
    def seconds(us: int | None) -> float | None:
        return None if us is None else us / 1e6

    plan = row["plan"]
    return Experiment.from_dict({
        "experiment_id": row["experiment_id"],
        "salt": row["salt"],
        "variants": [
            {"name": v["name"], "model": v["model"], "version": v["version"], "weight": float(v["weight"])}
            for v in row["variants"] or ()
        ],
        "status": row["status"],
        "coverage": float(row["coverage"]),
        "primary_metric": row["primary_metric"],
        "guardrails": list(row["guardrails"] or ()),
        "guardrail_margins": list(row["guardrail_margins"] or ()),
        "secondary_metrics": list(row["secondary_metrics"] or ()),
        # Integers come back as floats from some BigQuery paths; the plan's counts are ints.
        "plan": None if plan is None else {
            **plan,
            "users_per_variant": None if plan.get("users_per_variant") is None else int(plan["users_per_variant"]),
            "total_users": None if plan.get("total_users") is None else int(plan["total_users"]),
        },
        "guardrail_plans": list(row.get("guardrail_plans") or ()),
        "design": row.get("design"),  # null in rows exported before designs: an A/B test
        "created_at": seconds(row["created_us"]) or 0.0,
        "started_at": seconds(row["started_us"]) or 0.0,
        "stopped_at": seconds(row["stopped_us"]),
    })
