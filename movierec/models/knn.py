r"""Surprise's user-based neighbourhood models, KNNBasic and KNNBaseline.

KNNBasic: :math:`\hat r_{ui} = \sum_{v} \mathrm{sim}(u,v) r_{vi} / \sum_v \mathrm{sim}(u,v)`
over the ``k`` most similar users who rated :math:`i`; KNNBaseline adds the deviations to
the baseline :math:`b_{ui} = \mu + b_u + b_i` (see :class:`movierec.models.scoring.KNNScorer`).
The artifact keeps the similarity matrix, the rating matrix and the baselines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
from surprise import KNNBaseline, KNNBasic, Trainset

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays
from movierec.models.surprise_adapter import build_trainset, inner_order


@dataclass(frozen=True)
class KNNParams:
    k: int = 40
    min_k: int = 1
    similarity: str = "msd"  # Surprise's default; "pearson_baseline" suits KNNBaseline too
    bsl_options: dict = field(default_factory=dict)


class _SurpriseKNN(Trainer):
    use_baseline: bool = False

    def __init__(self, params: KNNParams | None = None, seed: int = 42) -> None:
        self.params = params or KNNParams()
        self.seed = seed

    def _algo(self) -> KNNBasic | KNNBaseline:
        sim_options = {"name": self.params.similarity, "user_based": True}
        if self.use_baseline:
            return KNNBaseline(
                k=self.params.k, min_k=self.params.min_k, sim_options=sim_options,
                bsl_options=dict(self.params.bsl_options), verbose=False,
            )
        return KNNBasic(k=self.params.k, min_k=self.params.min_k, sim_options=sim_options, verbose=False)

    def fit_surprise(self, data: TrainingData) -> tuple[KNNBasic | KNNBaseline, Trainset]:
        trainset = build_trainset(data)
        np.random.seed(self.seed)  # Surprise's ALS/SGD baselines draw from numpy's global state
        algo = self._algo()
        algo.fit(trainset)
        return algo, trainset

    def fit(self, data: TrainingData) -> ModelArtifact:
        algo, trainset = self.fit_surprise(data)
        matrix = data.matrix()
        arrays = history_arrays(matrix, data.ratings)
        users, items = inner_order(trainset, arrays["user_ids"], arrays["item_ids"])
        dense = matrix.matrix.toarray().astype(np.float64)
        ratings = np.where(matrix.matrix.toarray() != 0, dense, np.nan)
        if self.use_baseline:
            bu, bi = (np.asarray(b, dtype=np.float64) for b in algo.compute_baselines())
            user_bias, item_bias = bu[users], bi[items]
        else:
            user_bias, item_bias = np.zeros(len(users)), np.zeros(len(items))
        arrays.update(
            similarities=np.asarray(algo.sim, dtype=np.float64)[np.ix_(users, users)],
            ratings=ratings,
            global_mean=np.array(trainset.global_mean, dtype=np.float64),
            user_bias=user_bias,
            item_bias=item_bias,
            k=np.array(self.params.k, dtype=np.int64),
            min_k=np.array(self.params.min_k, dtype=np.int64),
            use_baseline=np.array(self.use_baseline),
            rating_scale=np.array(data.rating_scale, dtype=np.float64),
        )
        params = {**asdict(self.params), "seed": self.seed}
        return ModelArtifact(self.name, "knn", arrays, params=params, data_fingerprint=data.fingerprint)


class SurpriseKNNBasic(_SurpriseKNN):
    name = "knn-basic"
    use_baseline = False


class SurpriseKNNBaseline(_SurpriseKNN):
    name = "knn-baseline"
    use_baseline = True
