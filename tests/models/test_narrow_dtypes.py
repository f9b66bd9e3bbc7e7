"""The narrow dtypes of large artifacts: uint16 item positions, and sparse rows that are empty."""

from __future__ import annotations

import numpy as np

from movierec.models.base import seen_index_dtype
from movierec.models.scoring import scorer_for


def test_uint16_positions_stop_short_of_the_top_so_rows_plus_one_cannot_wrap():
    assert seen_index_dtype(65_535) == np.uint16
    assert seen_index_dtype(65_536) == np.int32
    rows = np.array([65_534], dtype=seen_index_dtype(65_535))
    assert int((rows + 1)[0]) == 65_535


def sparse_arrays(n_items: int, weighted_rows: dict[int, dict[int, float]]) -> dict[str, np.ndarray]:
    indptr, indices, data = [0], [], []
    for row in range(n_items):
        for col, w in sorted(weighted_rows.get(row, {}).items()):
            indices.append(col)
            data.append(w)
        indptr.append(len(indices))
    dtype = seen_index_dtype(n_items)
    return {
        "user_ids": np.array([1, 2], dtype=np.int64),
        "item_ids": np.arange(10, 10 + n_items, dtype=np.int64),
        "seen_indptr": np.array([0, 2, 3], dtype=np.int64),
        "seen_indices": np.array([3, 4, 0], dtype=dtype),  # user 1 saw items 3 and 4: rows without weights
        "item_popularity": np.arange(n_items, dtype=np.float64),
        "weights_indptr": np.array(indptr, dtype=np.int64),
        "weights_indices": np.array(indices, dtype=np.int32),
        "weights_data": np.array(data, dtype=np.float32),
    }


def test_a_user_whose_seen_movies_carry_no_weights_still_gets_a_list():
    """B covers only the most-rated movies at catalogue scale: a user who saw none of them
    has all-zero scores, not an error."""
    scorer = scorer_for("sparse_item_item", sparse_arrays(6, {0: {1: 0.5, 2: 0.25}}))
    ranked = scorer.recommend(1, 3)
    assert len(ranked.item_ids) == 3 and not set(ranked.item_ids) & {13, 14}
    assert ranked.scores.dtype == np.float64
    assert list(scorer.recommend(2, 2).item_ids) == [11, 12]  # item 0's row: 1 then 2
