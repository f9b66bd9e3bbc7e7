r"""Model A, the baseline: Surprise's SVD (biased matrix factorisation by SGD).

.. math::
    \hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u, \qquad
    \min \sum_{r_{ui}} (r_{ui} - \hat r_{ui})^2 + \lambda (b_u^2 + b_i^2 + \|p_u\|^2 + \|q_i\|^2)

Surprise fits it; the artifact keeps the learnt :math:`\mu, b, p, q` reordered into our
sorted vocabularies, which is all :class:`movierec.models.scoring.FactorScorer` needs, and
:math:`\lambda` (``regularization``), with which it folds in users who arrive after
training (:mod:`movierec.models.foldin`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from surprise import SVD, Trainset

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays
from movierec.models.surprise_adapter import build_trainset, inner_order


@dataclass(frozen=True)
class SVDParams:
    n_factors: int = 100
    n_epochs: int = 20
    lr_all: float = 0.005
    reg_all: float = 0.02
    init_std_dev: float = 0.1


class SurpriseSVD(Trainer):
    name = "svd"

    def __init__(self, params: SVDParams | None = None, seed: int = 42) -> None:
        self.params = params or SVDParams()
        self.seed = seed

    def fit_surprise(self, data: TrainingData) -> tuple[SVD, Trainset]:
        trainset = build_trainset(data)
        algo = SVD(**asdict(self.params), random_state=self.seed)
        algo.fit(trainset)
        return algo, trainset

    def fit(self, data: TrainingData) -> ModelArtifact:
        algo, trainset = self.fit_surprise(data)
        return export_svd(self.name, algo, trainset, data, {**asdict(self.params), "seed": self.seed})


def export_svd(name: str, algo: SVD, trainset: Trainset, data: TrainingData, params: dict) -> ModelArtifact:
    arrays = history_arrays(data.matrix(), data.ratings)
    users, items = inner_order(trainset, arrays["user_ids"], arrays["item_ids"])
    arrays.update(
        global_mean=np.array(trainset.global_mean, dtype=np.float64),
        user_bias=np.asarray(algo.bu, dtype=np.float64)[users],
        item_bias=np.asarray(algo.bi, dtype=np.float64)[items],
        user_factors=np.asarray(algo.pu, dtype=np.float64)[users],
        item_factors=np.asarray(algo.qi, dtype=np.float64)[items],
        rating_scale=np.array(data.rating_scale, dtype=np.float64),
        regularization=np.array(algo.reg_pu, dtype=np.float64),  # = reg_bu = reg_all: one λ
    )
    return ModelArtifact(name, "factors", arrays, params=params, data_fingerprint=data.fingerprint)
