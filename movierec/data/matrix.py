"""The user x item interaction matrix and the raw-id <-> row/column mapping behind it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike

from movierec.data.frames import ITEM_ID, RATING, USER_ID, require_columns
from movierec.errors import DataError
from movierec.ids import UserItemIds, lookup


@dataclass(frozen=True)
class InteractionMatrix(UserItemIds):
    """Ratings as a CSR matrix: row ``u`` is raw user ``user_ids[u]``, column ``i`` raw
    item ``item_ids[i]``. Both vocabularies are sorted and unique, so the mapping depends
    only on the set of ids, never on row order. Absent pairs are structural zeros."""

    user_ids: np.ndarray
    item_ids: np.ndarray
    matrix: sp.csr_matrix

    def __post_init__(self) -> None:
        expected = (len(self.user_ids), len(self.item_ids))
        if self.matrix.shape != expected:
            raise ValueError(f"matrix shape {self.matrix.shape} != vocabulary sizes {expected}")

    @classmethod
    def from_ratings(
        cls,
        ratings: pd.DataFrame,
        *,
        user_ids: ArrayLike | None = None,
        item_ids: ArrayLike | None = None,
        binary: bool = False,
    ) -> InteractionMatrix:
        """Build the matrix of ``ratings`` (float32 ratings, or 1.0 everywhere if ``binary``).

        Without vocabularies, the ids present in ``ratings`` are used. With them (e.g. a
        test set mapped onto the training vocabulary), rows whose user or item is not in
        the vocabulary are dropped. Duplicate (user, item) pairs raise DataError unless
        ``binary``, where they are one interaction.
        """
        require_columns(ratings, (USER_ID, ITEM_ID) if binary else (USER_ID, ITEM_ID, RATING))
        users = _vocabulary(ratings[USER_ID] if user_ids is None else user_ids)
        items = _vocabulary(ratings[ITEM_ID] if item_ids is None else item_ids)
        rows = lookup(users, ratings[USER_ID].to_numpy())
        cols = lookup(items, ratings[ITEM_ID].to_numpy())
        known = (rows >= 0) & (cols >= 0)
        rows, cols = rows[known], cols[known]
        if binary:
            values = np.ones(len(rows), dtype=np.float32)
        else:
            values = ratings[RATING].to_numpy(dtype=np.float32)[known]
            keys = rows.astype(np.int64) * max(len(items), 1) + cols
            if len(np.unique(keys)) != len(keys):
                raise DataError(
                    "ratings hold several ratings for the same (user_id, item_id) pair; "
                    "deduplicate them first (movierec.data.clean_ratings keeps the latest)"
                )
        matrix = sp.csr_matrix((values, (rows, cols)), shape=(len(users), len(items)))
        if binary:
            matrix.sum_duplicates()
            matrix.data[:] = 1.0
        return cls(user_ids=users, item_ids=items, matrix=matrix)



def _vocabulary(ids: ArrayLike) -> np.ndarray:
    """Sorted unique int64 ids."""
    array = np.asarray(ids)
    if array.ndim != 1:
        raise ValueError(f"an id vocabulary must be one-dimensional, got shape {array.shape}")
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise DataError(f"ids must be integers, got dtype {array.dtype}")
    return np.unique(array.astype(np.int64))
