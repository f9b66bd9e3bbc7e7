r"""Precomputed top lists: the exact ranked lists of the users a scorer is slowest for.

A pruned EASE scores a user by summing the weight rows of every movie they saw, so one
user's cost grows with their history: on ml-latest-small (9,724 movies, 128 weights per
row) the median user sums 43,000 weights in about 0.3-0.5 ms, the heaviest (2,698 movies)
takes 7 ms, and the p99 of one call was 4.6x ml-100k's. Training ranks those
*heavy* users -- whose rows hold more than a budget of entries -- with the serving scorer
itself and stores their best ``length`` unseen movies and scores. Serving answers them
from the list: the same items, scores and order as scoring them (tested), in O(n).

Arrays (optional in an artifact; all or none), a CSR over the listed users:

- ``top_users``: sorted user positions that have a list;
- ``top_indptr``: list k is ``top_items[top_indptr[k]:top_indptr[k + 1]]``;
- ``top_items``: item positions, best first; ``top_scores``: their float64 scores;
- ``top_length``: the length of a full list.

A list shorter than ``top_length`` holds every rankable movie of that user (``top_n``
keeps finite scores only), so any ``n`` is answered from it; a full list answers any
``n <= top_length``. A request that also excludes movies is answered from the list while
enough remain, else scored in full.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from movierec.errors import ArtifactError

KEYS = ("top_users", "top_indptr", "top_items", "top_scores", "top_length")


class RanksKnownUsers(Protocol):
    def ranked_positions(self, user: int, n: int) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass(frozen=True)
class TopLists:
    users: np.ndarray
    indptr: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    length: int  # the length of a full list

    @classmethod
    def of(cls, arrays: Mapping[str, np.ndarray], n_users: int, n_items: int) -> TopLists | None:
        present = [k for k in KEYS if k in arrays]
        if not present:
            return None
        if len(present) != len(KEYS):
            raise ArtifactError(f"top lists need all of {', '.join(KEYS)}")
        users = np.asarray(arrays["top_users"], dtype=np.int64)
        indptr = np.asarray(arrays["top_indptr"], dtype=np.int64)
        items, scores = np.asarray(arrays["top_items"]), np.asarray(arrays["top_scores"], dtype=np.float64)
        if (len(indptr) != len(users) + 1 or indptr[0] != 0 or not indptr[-1] == len(items) == len(scores)
                or np.any(np.diff(indptr) < 0) or np.any(np.diff(users) <= 0)):
            raise ArtifactError("top lists are not a CSR over sorted users")
        if len(users) and (users[0] < 0 or users[-1] >= n_users):
            raise ArtifactError("top lists name users outside the user vocabulary")
        if len(items) and (items.min() < 0 or items.max() >= n_items):
            raise ArtifactError("top lists name items outside the item vocabulary")
        return cls(users, indptr, items, scores, int(arrays["top_length"]))

    def top(self, user: int, n: int, blocked: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray] | None:
        """(item positions, scores) of ``user``'s best ``n`` not in ``blocked``, or None when
        the user has no list or their list cannot answer this request."""
        k = int(np.searchsorted(self.users, user))
        if k == len(self.users) or self.users[k] != user:
            return None
        lo, hi = self.indptr[k], self.indptr[k + 1]
        items, scores = self.items[lo:hi], self.scores[lo:hi]
        complete = hi - lo < self.length  # every rankable movie is listed
        if blocked is not None and len(blocked):
            keep = ~np.isin(items, blocked)
            items, scores = items[keep], scores[keep]
        if len(items) < n and not complete:
            return None
        return items[:n].astype(np.intp), scores[:n]


def top_lists_arrays(
    scorer: RanksKnownUsers, users: np.ndarray, length: int, item_dtype: type[np.integer]
) -> dict[str, np.ndarray]:
    """The arrays of ``users``' (positions) lists of ``length``, ranked by ``scorer`` as it
    serves; item positions in ``item_dtype`` (the artifact's ``seen_indices`` dtype)."""
    users = np.unique(np.asarray(users, dtype=np.int64))
    ranked = [scorer.ranked_positions(int(u), length) for u in users]
    lengths = np.array([len(items) for items, _ in ranked], dtype=np.int64)
    return {
        "top_users": users,
        "top_indptr": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        "top_items": np.concatenate([np.zeros(0), *(items for items, _ in ranked)]).astype(item_dtype),
        "top_scores": np.concatenate([np.zeros(0), *(scores for _, scores in ranked)]).astype(np.float64),
        "top_length": np.array(length, dtype=np.int64),
    }
