"""Raw ids <-> positions in a sorted id vocabulary (numpy only: serving imports it too)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def lookup(vocabulary: np.ndarray, raw_ids: ArrayLike) -> np.ndarray:
    """Positions of ``raw_ids`` in the sorted ``vocabulary``; -1 where absent (int64)."""
    raw = np.atleast_1d(np.asarray(raw_ids, dtype=np.int64))
    if raw.size == 0 or vocabulary.size == 0:
        return np.full(raw.shape, -1, dtype=np.int64)
    positions = np.searchsorted(vocabulary, raw)
    clipped = np.minimum(positions, vocabulary.size - 1)
    return np.where(vocabulary[clipped] == raw, clipped, -1).astype(np.int64)
