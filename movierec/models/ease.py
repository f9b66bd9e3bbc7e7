r"""Model B: EASE^R, an embarrassingly shallow autoencoder (Steck, WWW 2019), dense or pruned.

A linear item-item model learnt in closed form from the binary user-item matrix
:math:`X` (every rating counts as a positive):

.. math::
    \min_B \|X - XB\|_F^2 + \lambda \|B\|_F^2 \quad \text{s.t. } \operatorname{diag}(B) = 0

    P = (X^\top X + \lambda I)^{-1}, \qquad B_{ij} = -P_{ij} / P_{jj}\ (i \ne j), \qquad B_{jj} = 0

A user's scores are :math:`x_u B`. :math:`G + \lambda I` is symmetric positive definite,
so :math:`P` comes from its Cholesky factor :math:`G + \lambda I = U^\top U`
(LAPACK ``potrf``, then ``potri`` for :math:`P = U^{-1} U^{-\top}`), in float32 and in place:
one n x n array for G, the factor and P, which then becomes B. That is a third of the
flops of an LU inverse and no identity right-hand side.

**Catalogue scale.** A dense B of n items costs :math:`4n^2` bytes to store and serve
(378 MB at ml-latest-small's 9,724 movies). Beyond ``DENSE_MAX_ITEMS`` the artifact is a
*pruned* B: its ``keep x n`` strongest weights (largest :math:`|B_{ij}|`, on average
``keep`` per item; row i is what item i adds to every other item's score), stored as CSR
arrays. The fit itself is cubic in n, so for catalogues beyond ``max_items`` B is fitted
on the ``max_items`` most-interacted items only; the others get no weights (score 0)
and the manifest says how many items and interactions B covers.

Both :math:`\lambda` and ``keep`` are chosen on a validation split cut from the training
data (:mod:`movierec.selection.ease_search`) unless given.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from movierec.models.artifact import ModelArtifact
from movierec.models.base import Trainer, TrainingData, history_arrays
from movierec.models.scoring import ItemItemScorer, SparseItemItemScorer
from movierec.models.top_lists import top_lists_arrays

DEFAULT_L2 = 500.0
DEFAULT_KEEP = 256  # weights kept per item when pruning is not chosen on validation
DENSE_MAX_ITEMS = 4_000  # a dense float32 B up to 64 MB; pruned beyond
MAX_ITEMS = 20_000  # a 1.6 GB float32 Gram, ~1.5 min per Cholesky inverse on 2 cores
_GRAM_COLUMNS_PER_BLOCK = 2_048  # bounds the sparse partial products of X^T X
_ROWS_PER_BLOCK = 1_024  # bounds the temporaries of symmetrising and pruning
# A user whose seen rows hold more weights than this (about 0.5 ms of summing at ~10 ns a
# pruned weight) is ranked at training: see models.top_lists. On ml-latest-small's pruned B
# that is 46% of the users, 0.3 MB. A dense B's row is the whole catalogue, so on ml-100k
# (1,682 movies) every user with more than 29 movies is listed: 79% of the users, 1 MB,
# where summing their rows took 0.12 ms a request, about a tenth of a request's CPU.
HEAVY_USER_WEIGHTS = 50_000
TOP_LIST_LENGTH = 100  # the API's largest top_n (serving.http.MAX_TOP_N, tested)


def covered_items(matrix: sp.csr_matrix, max_items: int) -> np.ndarray:
    """Column indices (ascending) of the ``max_items`` most-interacted items, ties to the lower index."""
    counts = np.asarray(matrix.getnnz(axis=0))
    if len(counts) <= max_items:
        return np.arange(len(counts))
    order = np.lexsort((np.arange(len(counts)), -counts))
    return np.sort(order[:max_items])


def gram(interactions: sp.spmatrix) -> np.ndarray:
    """Dense float32 :math:`X^\\top X`, one block of columns at a time.

    Each block is a sparse product :math:`X^\\top X_{:, b}` written straight into its columns,
    so no sparse intermediate is larger than n x block (a product over all items at once,
    or over chunks of users, is nearly dense at catalogue scale). Co-occurrence counts are
    exact in float32 up to 2^24.
    """
    x = sp.csr_matrix(interactions, dtype=np.float32)
    xt, columns = x.T.tocsr(), x.tocsc()
    n = x.shape[1]
    g = np.empty((n, n), dtype=np.float32)
    for start in range(0, n, _GRAM_COLUMNS_PER_BLOCK):
        stop = min(start + _GRAM_COLUMNS_PER_BLOCK, n)
        g[:, start:stop] = (xt @ columns[:, start:stop]).toarray()
    return g


def ease_weights(gram_matrix: np.ndarray, l2: float, *, overwrite: bool = False) -> np.ndarray:
    """B of the closed form above (float32), from :math:`G = X^\\top X`.

    ``overwrite=True`` turns ``gram_matrix`` itself into B (no second n x n array).
    """
    if l2 <= 0:
        raise ValueError(f"EASE needs a positive l2, got {l2}")
    p = np.array(gram_matrix, dtype=np.float32, order="C", copy=not overwrite)
    p[np.diag_indices_from(p)] += np.float32(l2)
    # p is symmetric and C-ordered: its transpose is the same matrix in Fortran order, so
    # LAPACK works on p's memory in place (its "upper" triangle is p's lower one).
    potrf, potri = scipy.linalg.get_lapack_funcs(("potrf", "potri"), (p,))
    factor, info = potrf(p.T, lower=False, overwrite_a=True, clean=False)
    if info != 0:
        raise ValueError(f"X^T X + {l2} I is not positive definite (LAPACK potrf info {info})")
    _, info = potri(factor, lower=False, overwrite_c=True)
    if info != 0:
        raise ValueError(f"the Cholesky inverse failed (LAPACK potri info {info})")
    _lower_to_symmetric(p)
    p /= -np.diag(p).copy()[None, :]
    np.fill_diagonal(p, 0.0)
    return p


def magnitude_thresholds(weights: np.ndarray, keeps: list[int]) -> list[float]:
    """For each ``keep``, the magnitude of B's ``keep x n``-th strongest entry (one partition for all)."""
    magnitudes = np.abs(weights).ravel()  # one copy, partitioned in place
    ranks = [max(magnitudes.size - min(keep * weights.shape[0], magnitudes.size), 0) for keep in keeps]
    magnitudes.partition(sorted(set(ranks)))
    return [float(magnitudes[rank]) for rank in ranks]


def prune(weights: np.ndarray, keep: int, threshold: float | None = None) -> sp.csr_matrix:
    """B's strongest ``keep x n`` entries (by magnitude, ties kept) as CSR with sorted indices.

    A global threshold rather than a fixed count per row: a popular item's row keeps more of
    its many strong weights, a rare item's fewer (on ml-latest-small's validation split, 128
    per item on average lose 1% of NDCG@10 where 128 in every row lose 5%).
    """
    if threshold is None:
        [threshold] = magnitude_thresholds(weights, [keep])
    blocks = []
    for start in range(0, weights.shape[0], _ROWS_PER_BLOCK):
        block = weights[start : start + _ROWS_PER_BLOCK]
        blocks.append(sp.csr_matrix(np.where(np.abs(block) >= max(threshold, np.finfo(np.float32).tiny), block, 0)))
    pruned = sp.vstack(blocks, format="csr", dtype=np.float32)
    pruned.sort_indices()
    return pruned


def embed(pruned: sp.csr_matrix, items: np.ndarray, n_items: int) -> sp.csr_matrix:
    """A pruned B over the ``items`` sub-catalogue placed in the full n_items x n_items space."""
    coo = pruned.tocoo()
    full = sp.csr_matrix((coo.data, (items[coo.row], items[coo.col])), shape=(n_items, n_items), dtype=np.float32)
    full.sort_indices()
    return full


class EASE(Trainer):
    """EASE with a given l2; dense up to ``dense_max_items`` items, else pruned to ``keep`` per item on average."""

    name = "ease"

    def __init__(
        self,
        l2: float = DEFAULT_L2,
        *,
        keep: int | None = None,
        max_items: int = MAX_ITEMS,
        dense_max_items: int = DENSE_MAX_ITEMS,
        heavy_user_weights: int = HEAVY_USER_WEIGHTS,
        seed: int = 42,
    ) -> None:
        self.l2 = l2
        self.keep = keep
        self.max_items = max_items
        self.dense_max_items = dense_max_items
        self.heavy_user_weights = heavy_user_weights
        self.seed = seed

    def fit(self, data: TrainingData) -> ModelArtifact:
        return self.fit_with(data, self.recipe())

    def recipe(self) -> dict[str, Any]:
        return {"seed": self.seed, "l2": self.l2, "keep": self.keep, "max_items": self.max_items}

    def fit_with(self, data: TrainingData, params: dict[str, Any]) -> ModelArtifact:
        """The artifact for ``params`` (l2, keep, max_items); ``params`` is recorded in the manifest."""
        matrix = data.matrix(binary=True)
        arrays = history_arrays(matrix, data.ratings)
        n_items = len(matrix.item_ids)
        max_items = int(params.get("max_items") or MAX_ITEMS)
        keep = params.get("keep")
        items = covered_items(matrix.matrix, max_items)
        weights = ease_weights(gram(matrix.matrix[:, items]), float(params["l2"]), overwrite=True)
        if keep is None and n_items <= self.dense_max_items and len(items) == n_items:
            arrays["weights"] = weights
            return self._listed("item_item", ItemItemScorer(arrays), arrays, params, data)
        pruned = embed(prune(weights, int(keep or DEFAULT_KEEP)), items, n_items)
        del weights
        arrays.update(
            weights_indptr=pruned.indptr.astype(np.int64),
            weights_indices=pruned.indices.astype(np.int32),
            weights_data=pruned.data.astype(np.float32),
        )
        covered = float(matrix.matrix[:, items].nnz / max(matrix.matrix.nnz, 1))
        params = {**params, "covered_items": len(items), "covered_interactions": covered}
        return self._listed("sparse_item_item", SparseItemItemScorer(arrays), arrays, params, data)

    def _listed(self, kind: str, scorer: ItemItemScorer | SparseItemItemScorer, arrays: dict[str, np.ndarray],
                params: dict[str, Any], data: TrainingData) -> ModelArtifact:
        """The artifact with its heavy users' lists, ranked by ``scorer`` exactly as serving would."""
        heavy = heavy_users(scorer, self.heavy_user_weights)
        arrays.update(top_lists_arrays(scorer, heavy, TOP_LIST_LENGTH, arrays["seen_indices"].dtype.type))
        params = {**params, "top_lists": {"users": len(heavy), "above_weights": self.heavy_user_weights,
                                          "length": TOP_LIST_LENGTH}}
        return ModelArtifact(self.name, kind, arrays, params=params, data_fingerprint=data.fingerprint)


def scoring_work(scorer: ItemItemScorer | SparseItemItemScorer) -> np.ndarray:
    """Per user position, the weights of B that scoring them sums: their seen items' rows
    (a dense row is the whole catalogue)."""
    if isinstance(scorer, ItemItemScorer):
        return np.diff(scorer.seen_indptr) * scorer.n_items
    row_lengths = np.diff(scorer.indptr)[scorer.seen_indices.astype(np.intp)]
    owner = np.repeat(np.arange(scorer.n_users), np.diff(scorer.seen_indptr))
    return np.bincount(owner, weights=row_lengths, minlength=scorer.n_users).astype(np.int64)


def heavy_users(scorer: ItemItemScorer | SparseItemItemScorer, weights: int) -> np.ndarray:
    """Positions of the users whose scoring sums more than ``weights`` entries of B."""
    return np.flatnonzero(scoring_work(scorer) > weights)


def _lower_to_symmetric(p: np.ndarray) -> None:
    """Copy the lower triangle of square ``p`` onto its upper one, in place, block by block."""
    n = p.shape[0]
    for start in range(0, n, _ROWS_PER_BLOCK):
        stop = min(start + _ROWS_PER_BLOCK, n)
        p[start:stop, stop:] = p[stop:, start:stop].T
        block = p[start:stop, start:stop]
        upper = np.triu_indices(stop - start, 1)
        block[upper] = block.T[upper]
