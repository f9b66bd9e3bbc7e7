r"""iALS: implicit-feedback matrix factorisation by alternating least squares (Hu, Koren, Volinsky 2008).

Every rating is a positive (:math:`p_{ui} = 1`), every other pair a zero with
confidence 1; observed pairs get confidence :math:`c_{ui} = \alpha` (implicit scales the
binary matrix by ``alpha``):

.. math::
    \min_{P, Q} \sum_{u, i} c_{ui} (p_{ui} - p_u^\top q_i)^2 + \lambda (\|P\|_F^2 + \|Q\|_F^2)

Each half-step solves every user (or item) exactly given the other side, in closed form.
The `implicit` library fits it (its conjugate-gradient CPU solver, seeded); the artifact
keeps :math:`P` and :math:`Q` in our sorted vocabularies, which is all
:class:`movierec.models.scoring.EmbeddingScorer` needs (:math:`s_{ui} = p_u^\top q_i`), and
:math:`\lambda`, :math:`\alpha`, with which it folds in users who arrive after training
(:mod:`movierec.models.foldin`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from implicit.cpu.als import AlternatingLeastSquares

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays


@dataclass(frozen=True)
class IALSParams:
    factors: int = 64
    regularization: float = 20.0
    alpha: float = 2.0
    iterations: int = 15


class IALS(Trainer):
    name = "ials"

    def __init__(self, params: IALSParams | None = None, seed: int = 42, num_threads: int = 0) -> None:
        self.params = params or IALSParams()
        self.seed = seed
        self.num_threads = num_threads  # 0: implicit's default, one thread per core

    def fit(self, data: TrainingData) -> ModelArtifact:
        matrix = data.matrix(binary=True)
        arrays = history_arrays(matrix, data.ratings)
        model = AlternatingLeastSquares(
            factors=self.params.factors,
            regularization=self.params.regularization,
            alpha=self.params.alpha,
            iterations=self.params.iterations,
            random_state=self.seed,
            num_threads=self.num_threads,
        )
        model.fit(matrix.matrix.tocsr().astype(np.float32), show_progress=False)
        arrays.update(
            user_factors=np.ascontiguousarray(model.user_factors, dtype=np.float32),
            item_factors=np.ascontiguousarray(model.item_factors, dtype=np.float32),
            regularization=np.array(self.params.regularization, dtype=np.float64),
            alpha=np.array(self.params.alpha, dtype=np.float64),
        )
        params = {**asdict(self.params), "seed": self.seed}
        return ModelArtifact(self.name, "embeddings", arrays, params=params, data_fingerprint=data.fingerprint)
