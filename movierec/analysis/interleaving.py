"""The read-out of an interleaved experiment: warehouse query -> preference statistics -> test.

``sql/interleaving_preference.sql`` sums the per-user preference (clicks credited to
B minus clicks credited to A) over users; :mod:`movierec.stats.interleaving` tests it.
"""

from __future__ import annotations

from dataclasses import dataclass

from movierec.analysis.queries import query_text
from movierec.errors import ConfigError
from movierec.events import Experiment
from movierec.stats.interleaving import InterleavingResult, PreferenceStats, interleaving_test
from movierec.stats.sequential import DEFAULT_TUNING_PARAMETER
from movierec.stores.ports import Warehouse


@dataclass(frozen=True)
class InterleavingReadout:
    experiment: Experiment
    stats: PreferenceStats
    result: InterleavingResult

    @property
    def first(self) -> str:
        return self.experiment.variants[0].name

    @property
    def second(self) -> str:
        return self.experiment.variants[1].name


def load_preferences(warehouse: Warehouse, experiment: Experiment) -> PreferenceStats:
    if experiment.design != "interleaved" or len(experiment.variants) != 2:
        raise ConfigError(f"experiment {experiment.experiment_id!r} is not an interleaved experiment")
    a, b = (v.name for v in experiment.variants)
    rows = warehouse.query(query_text("interleaving_preference"),
                           {"experiment_id": experiment.experiment_id, "first_variant": a, "second_variant": b})
    row = rows[0] if rows else {}
    return PreferenceStats(int(row.get("n") or 0), float(row.get("total") or 0), float(row.get("sum_squares") or 0),
                           int(row.get("prefer_b") or 0), int(row.get("prefer_a") or 0))


def analyse_interleaving(warehouse: Warehouse, experiment: Experiment) -> InterleavingReadout:
    """The test at the plan's alpha, the always-valid one tuned for the plan's users."""
    stats = load_preferences(warehouse, experiment)
    plan = experiment.plan
    alpha = plan.alpha if plan else 0.05
    tuning = float(plan.total_users) if plan and plan.total_users else DEFAULT_TUNING_PARAMETER
    return InterleavingReadout(experiment, stats, interleaving_test(stats, alpha=alpha, tuning_parameter=tuning))
