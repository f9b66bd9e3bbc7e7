"""The one interface every trainer implements, and the arrays every artifact shares."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from movierec.data.matrix import InteractionMatrix
from movierec.models.artifact import ModelArtifact, dataframe_fingerprint


@dataclass(frozen=True)
class TrainingData:
    """Cleaned, validated ratings (the frame of movierec.data) and their scale."""

    ratings: pd.DataFrame
    rating_scale: tuple[float, float]  # the dataset's: see movierec.data.registry

    @property
    def fingerprint(self) -> str:
        r = self.ratings.sort_values(["user_id", "item_id"], kind="stable")
        return dataframe_fingerprint(
            r["user_id"].to_numpy(), r["item_id"].to_numpy(), r["rating"].to_numpy(), r["timestamp"].to_numpy()
        )

    def matrix(self, *, binary: bool = False) -> InteractionMatrix:
        return InteractionMatrix.from_ratings(self.ratings, binary=binary)


class Trainer(ABC):
    """Fit on ratings, return a servable artifact (arrays + parameters).

    A trainer never returns a fitted third-party object to serving: the artifact's
    arrays are all a scorer needs.
    """

    name: ClassVar[str]

    @abstractmethod
    def fit(self, data: TrainingData) -> ModelArtifact: ...


def seen_index_dtype(n_items: int) -> type[np.unsignedinteger] | type[np.signedinteger]:
    """The narrowest dtype for item positions: the training history is most of a large
    artifact (25M ratings), and uint16 halves what a cold start downloads and verifies."""
    return np.uint16 if n_items <= np.iinfo(np.uint16).max + 1 else np.int32


def history_arrays(matrix: InteractionMatrix) -> dict[str, np.ndarray]:
    """Vocabularies, per-user seen items and item popularity: the arrays every artifact has."""
    csr = matrix.matrix.tocsr()
    csr.sort_indices()
    return {
        "user_ids": np.asarray(matrix.user_ids, dtype=np.int64),
        "item_ids": np.asarray(matrix.item_ids, dtype=np.int64),
        "seen_indptr": csr.indptr.astype(np.int64),
        "seen_indices": csr.indices.astype(seen_index_dtype(len(matrix.item_ids))),
        "item_popularity": np.asarray(csr.getnnz(axis=0), dtype=np.float64),
    }
