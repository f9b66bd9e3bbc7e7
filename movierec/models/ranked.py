"""What a scorer returns and takes: ranked lists, a new user's history, and the top-n selection."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from movierec.errors import ArtifactError


@dataclass(frozen=True)
class Ranked:
    """A ranked list of raw item ids with their scores; ``fallback`` names the rule used."""

    item_ids: np.ndarray
    scores: np.ndarray
    fallback: str | None = None


@dataclass(frozen=True)
class History:
    """What a user outside the training data did: raw item ids, one each, and their
    ratings on the model's scale (the ones only ranking models ignore)."""

    item_ids: np.ndarray
    ratings: np.ndarray


def optional_per_seen(arrays: Mapping[str, np.ndarray], key: str, kind: type, length: int) -> np.ndarray | None:
    """An array the older artifacts lack (None then), of one entry per seen item, kept in
    its stored (narrow) dtype."""
    if key not in arrays:
        return None
    values: np.ndarray = np.asarray(arrays[key])
    if not np.issubdtype(values.dtype, kind) or values.shape != (length,):
        raise ArtifactError(f"{key} does not match seen_indices")
    return values


def mask_unrankable(scores: np.ndarray) -> np.ndarray:
    """``scores`` with every NaN and infinity set to -inf, in place. One sum finds them
    (or an overflow, which the mask then leaves alone): a request pays no mask when all
    are finite."""
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow or inf - inf: no stderr line
        total = scores.sum()
    if not np.isfinite(total):
        scores[~np.isfinite(scores)] = -np.inf
    return scores


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` highest finite scores, best first, ties to the lower index.

    One user's scores: a stable sort of a few thousand floats is cheaper than the
    partition-based batch version in movierec.evaluation.metrics (which agrees, tested).
    """
    if n < len(scores) // 4:
        # Everything at or above the n-th best score, ties included, then a stable sort of
        # those few: same result as sorting all scores, at a fraction of the cost.
        threshold = np.partition(scores, len(scores) - n)[len(scores) - n]
        candidates = np.flatnonzero(scores >= threshold)
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:n]
    else:
        order = np.argsort(-scores, kind="stable")[:n]
    return order[np.isfinite(scores[order])]
