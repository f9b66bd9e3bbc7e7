r"""The promotion gate: pure functions of metrics and sanity checks, no I/O.

**Primary metric.** Models that predict ratings (``Scorer.predicts_ratings``: SVD, KNN)
are judged on RMSE of the slice's ratings, lower is better; ranking-only models (EASE,
popular) on NDCG@10 with every slice rating relevant and training items removed,
higher is better. The metric each family is built to optimise is the one it is judged on.

**Rule.** With :math:`c` the candidate's value, :math:`\ell` the live model's on the
same held-out temporal slice and :math:`\tau` the tolerance (relative, default 2%):

.. math::
    \text{higher is better: } c \ge (1 - \tau)\,\ell \qquad
    \text{lower is better: } c \le (1 + \tau)\,\ell

A relative tolerance means the same thing for RMSE (~0.9) and NDCG (~0.1-0.4), and
absorbs the seed-to-seed noise of a refit on nearly the same data, which otherwise
would block every second week. With no live model the metric rule passes vacuously.

**Sanity checks**, all required, on the version that would be served (the refit on
all data): every score finite; catalogue coverage of the top-10 lists of the checked
users at least ``coverage_floor``; no recommended item among the user's training
ratings (checked against the training data, not against the artifact's own history
arrays); after upload, the stored files match their sha256 and the arrays read back
equal the arrays trained.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from movierec.data.frames import ITEM_ID, USER_ID
from movierec.errors import ConfigError
from movierec.evaluation.metrics import catalogue_coverage
from movierec.models.scoring import Scorer


@dataclass(frozen=True)
class GatePolicy:
    tolerance: float = 0.02  # relative
    coverage_floor: float = 0.02  # share of the catalogue in the checked users' top-k
    k: int = 10
    sanity_users: int = 300  # users checked by the sanity checks (evenly spread)

    def __post_init__(self) -> None:
        if not 0.0 <= self.tolerance < 1.0:
            raise ConfigError(f"tolerance must be in [0, 1), got {self.tolerance}")
        if not 0.0 <= self.coverage_floor <= 1.0:
            raise ConfigError(f"coverage floor must be in [0, 1], got {self.coverage_floor}")
        if self.k < 1 or self.sanity_users < 1:
            raise ConfigError("k and sanity_users must be positive")


@dataclass(frozen=True)
class PrimaryMetric:
    name: str
    higher_is_better: bool


def primary_metric(predicts_ratings: bool, k: int = 10) -> PrimaryMetric:
    return PrimaryMetric("rmse", False) if predicts_ratings else PrimaryMetric(f"ndcg@{k}", True)


@dataclass(frozen=True)
class SanityReport:
    users_checked: int
    finite: bool
    coverage: float
    seen_recommended: int  # (user, item) pairs recommended although rated in training

    def failures(self, coverage_floor: float) -> list[str]:
        out = []
        if not self.finite:
            out.append("non-finite scores")
        if self.coverage < coverage_floor:
            out.append(f"catalogue coverage {self.coverage:.4f} below the floor {coverage_floor:.4f}")
        if self.seen_recommended:
            out.append(f"{self.seen_recommended} recommendations of items the user already rated")
        return out


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    metric: str
    candidate: float
    live: float | None
    threshold: float | None
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def sanity_checks(scorer: Scorer, training: pd.DataFrame, *, k: int, max_users: int) -> SanityReport:
    """Recommend top-``k`` through the serving code path for up to ``max_users`` users."""
    positions = np.unique(np.linspace(0, scorer.n_users - 1, num=min(max_users, scorer.n_users)).astype(int))
    users = scorer.user_ids[positions]
    checked = training[training[USER_ID].isin(users)]
    rated = checked.groupby(USER_ID)[ITEM_ID].agg(frozenset)
    scores = scorer.score(positions) if len(positions) else np.zeros((0, scorer.n_items))
    lists, seen_hits = [], 0
    for user in users:
        ranked = scorer.recommend(int(user), k)
        seen_hits += len(rated.get(int(user), frozenset()).intersection(ranked.item_ids.tolist()))
        row = np.full(k, -1, dtype=np.int64)
        row[: len(ranked.item_ids)] = scorer.item_index(ranked.item_ids)
        lists.append(row)
    coverage = catalogue_coverage(np.vstack(lists), scorer.n_items) if lists else 0.0
    return SanityReport(len(users), bool(np.isfinite(scores).all()), coverage, seen_hits)


def decide(
    metric: PrimaryMetric,
    candidate: Mapping[str, float],
    live: Mapping[str, float] | None,
    sanity: SanityReport,
    policy: GatePolicy,
    *,
    checksums_ok: bool = True,
) -> GateDecision:
    """Promote when the metric rule and every sanity check pass; ``reasons`` say why not."""
    value = float(candidate[metric.name])
    reasons = sanity.failures(policy.coverage_floor)
    if not checksums_ok:
        reasons.append("the uploaded artifact failed checksum verification")
    if not math.isfinite(value):
        reasons.append(f"candidate {metric.name} is not finite")
    live_value = threshold = None
    if live is not None:
        live_value = float(live[metric.name])
        if metric.higher_is_better:
            threshold = (1 - policy.tolerance) * live_value
            worse = value < threshold
        else:
            threshold = (1 + policy.tolerance) * live_value
            worse = value > threshold
        if worse:
            direction = "<" if metric.higher_is_better else ">"
            reasons.append(
                f"{metric.name} {value:.4f} {direction} {threshold:.4f} "
                f"(live {live_value:.4f} with tolerance {policy.tolerance:.0%})"
            )
    return GateDecision(not reasons, metric.name, value, live_value, threshold, reasons)
