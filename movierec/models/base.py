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


RATINGS_IN_ARTIFACT_MAX = 5_000_000


def seen_index_dtype(n_items: int) -> type[np.unsignedinteger] | type[np.signedinteger]:
    """The narrowest dtype for item positions: the training history is most of a large
    artifact (25M ratings), and uint16 halves what a cold start downloads and verifies."""
    # Strictly below the top: a scorer's ``rows + 1`` on uint16 positions must not wrap.
    return np.uint16 if n_items <= np.iinfo(np.uint16).max else np.int32


def history_arrays(matrix: InteractionMatrix, ratings: pd.DataFrame | None = None) -> dict[str, np.ndarray]:
    """Vocabularies, per-user seen items and item popularity: the arrays every artifact has.

    With ``ratings`` (the frame ``matrix`` was built from), also ``seen_ratings`` and
    ``seen_times``, parallel to ``seen_indices``: what each user gave each seen item and
    when, for the demo page's "your ratings" and the reasons of a recommendation. Only up to
    ``RATINGS_IN_ARTIFACT_MAX`` ratings: they are not needed to rank, and at catalogue scale
    (25M ratings) they would triple what a cold start downloads; such artifacts show seen
    items without their ratings, as older artifacts do.
    """
    csr = matrix.matrix.tocsr()
    csr.sort_indices()
    arrays = {
        "user_ids": np.asarray(matrix.user_ids, dtype=np.int64),
        "item_ids": np.asarray(matrix.item_ids, dtype=np.int64),
        "seen_indptr": csr.indptr.astype(np.int64),
        "seen_indices": csr.indices.astype(seen_index_dtype(len(matrix.item_ids))),
        "item_popularity": np.asarray(csr.getnnz(axis=0), dtype=np.float64),
    }
    if ratings is not None and len(arrays["seen_indices"]) <= RATINGS_IN_ARTIFACT_MAX:
        arrays.update(_rating_arrays(matrix, ratings, arrays["seen_indices"]))
    return arrays


def _rating_arrays(matrix: InteractionMatrix, ratings: pd.DataFrame, seen: np.ndarray) -> dict[str, np.ndarray]:
    """Ratings and times in the CSR order of ``seen`` (by user row, then item column)."""
    rows, cols = matrix.user_index(ratings["user_id"].to_numpy()), matrix.item_index(ratings["item_id"].to_numpy())
    known = (rows >= 0) & (cols >= 0)
    order = np.lexsort((cols[known], rows[known]))
    if not np.array_equal(cols[known][order], seen):  # a pair rated twice: no one rating to show
        return {}
    # float16 holds every half star exactly; uint32 seconds last until 2106.
    columns = {"seen_ratings": ("rating", np.float16), "seen_times": ("timestamp", np.uint32)}
    return {
        key: ratings[column].to_numpy(dtype=dtype)[known][order]
        for key, (column, dtype) in columns.items()
        if column in ratings
    }
