"""Scorers: rank and rate items from an artifact's arrays with numpy alone.

Serving and offline evaluation use the same scorer, so what is evaluated is what is
served. No Surprise import, no unpickling: a scorer is built from ``ModelArtifact.arrays``.

Every artifact carries the vocabularies and the training history:

- ``user_ids``, ``item_ids``: sorted raw ids; row/column ``k`` is ``user_ids[k]``/``item_ids[k]``;
- ``seen_indptr``, ``seen_indices``: per-user CSR of the items seen in training,
  never recommended back to that user;
- ``item_popularity``: training interactions per item, for the popular fallback;
- optionally ``seen_ratings``, ``seen_times`` (parallel to ``seen_indices``: the rating and
  time of each seen item), and the heaviest users' lists (:mod:`movierec.models.top_lists`).

:attr:`Scorer.score_meaning` says what a score is, in words; which seen items make a
score is :mod:`movierec.models.reasons`.

A user outside the training data can bring a :class:`History` (what they rated or
clicked since): the scorers that can score any history (EASE's :math:`x_u B`, dense or
pruned; SVD and iALS by :mod:`movierec.models.foldin`) rank for it, the others give the
popular list; either way without the history's items.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np

from movierec.errors import ArtifactError
from movierec.ids import UserItemIds
from movierec.models.foldin import biased_mf_user, ials_user
from movierec.models.ranked import History, Ranked, mask_unrankable, optional_per_seen, top_n
from movierec.models.top_lists import TopLists

# What the scores of the popular fallback are (every scorer's _popular returns these).
POPULARITY_MEANING = "number of ratings in the training data (popularity)"


class Scorer(UserItemIds):
    kind: ClassVar[str] = ""
    predicts_ratings: ClassVar[bool] = False
    score_meaning: ClassVar[str] = ""  # what a ranking score is, in words a visitor reads
    required: ClassVar[tuple[str, ...]] = ()
    _common: ClassVar[tuple[str, ...]] = (
        "user_ids",
        "item_ids",
        "seen_indptr",
        "seen_indices",
        "item_popularity",
    )

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        missing = [k for k in (*self._common, *self.required) if k not in arrays]
        if missing:
            raise ArtifactError(f"{self.kind} artifact lacks arrays: {', '.join(missing)}")
        self.user_ids = np.asarray(arrays["user_ids"], dtype=np.int64)
        self.item_ids = np.asarray(arrays["item_ids"], dtype=np.int64)
        self.seen_indptr = np.asarray(arrays["seen_indptr"], dtype=np.int64)
        # Kept in its stored dtype (uint16 up to 65,535 items): widening 25M positions to
        # int64 cost a large catalogue's cold start seconds and 200 MB.
        self.seen_indices = np.asarray(arrays["seen_indices"])
        if not np.issubdtype(self.seen_indices.dtype, np.integer):
            raise ArtifactError(f"seen_indices must be integers, not {self.seen_indices.dtype}")
        self.item_popularity = np.asarray(arrays["item_popularity"], dtype=np.float64)
        if len(self.seen_indptr) != len(self.user_ids) + 1:
            raise ArtifactError("seen_indptr does not match the user vocabulary")
        self.seen_ratings = optional_per_seen(arrays, "seen_ratings", np.floating, len(self.seen_indices))
        self.seen_times = optional_per_seen(arrays, "seen_times", np.integer, len(self.seen_indices))
        # Popularity order computed once: the fallback is on the hot path for new users.
        self._popular_order = np.lexsort((np.arange(self.n_items), -self.item_popularity))
        self.top_lists = TopLists.of(arrays, self.n_users, self.n_items)  # the heavy users' lists

    def seen(self, user: int) -> np.ndarray:
        return self.seen_indices[self.seen_indptr[user] : self.seen_indptr[user + 1]]

    def score(self, users: np.ndarray) -> np.ndarray:
        """Ranking scores, shape (len(users), n_items), for known user indices."""
        raise NotImplementedError

    def score_history(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray | None:
        """Ranking scores (n_items,) for a user outside the training data who saw the
        distinct item indices ``items`` with ``ratings``; None when this model cannot."""
        return None

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        """Predicted ratings for raw (user, item) pairs; only for rating models."""
        raise ArtifactError(f"{self.kind} models rank items; they do not predict ratings")

    def knows(self, user_id: int) -> bool:
        return self.user_row(user_id) >= 0

    def recommend(
        self, user_id: int, n: int, exclude: np.ndarray | None = None, history: History | None = None
    ) -> Ranked:
        """Top ``n`` raw item ids for a raw user id, never an item seen in training or in ``exclude``.

        Unknown users are ranked for their ``history`` (never recommended back) when this
        model can score it, else get the most popular items (``fallback="popular"``).
        """
        user = self.user_row(user_id)
        extra = self.item_index(np.asarray(exclude)) if exclude is not None and len(exclude) else None
        extra = extra[extra >= 0] if extra is not None else None
        if user < 0:
            blocked = np.zeros(self.n_items, dtype=bool)
            if extra is not None:
                blocked[extra] = True
            return self._recommend_history(history, n, blocked)
        listed = self.top_lists.top(user, n, extra) if self.top_lists is not None else None
        top, scores = listed if listed is not None else self.ranked_positions(user, n, extra)
        return Ranked(self.item_ids[top], scores)

    def ranked_positions(self, user: int, n: int, exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(item positions, scores) of known ``user``'s best ``n`` unseen items, scored in full."""
        scores = mask_unrankable(self.score(np.array([user]))[0])  # a fresh array: ours to overwrite
        scores[self.seen(user)] = -np.inf
        if exclude is not None:
            scores[exclude] = -np.inf
        top = top_n(scores, n)
        return top, scores[top]

    def _recommend_history(self, history: History | None, n: int, blocked: np.ndarray) -> Ranked:
        if history is None:
            return self._popular(n, blocked)
        index = self.item_index(history.item_ids)
        items, first = np.unique(index[index >= 0], return_index=True)  # catalogue's items, once each
        ratings = np.asarray(history.ratings, dtype=np.float64)[index >= 0][first]
        blocked[items] = True
        scores = self.score_history(items, ratings) if len(items) else None
        if scores is None:
            return self._popular(n, blocked)
        scores = mask_unrankable(np.array(scores, dtype=np.float64))  # ours to overwrite
        scores[blocked] = -np.inf
        top = top_n(scores, n)
        return Ranked(self.item_ids[top], scores[top])

    def popular(self, n: int) -> Ranked:
        return self._popular(n, np.zeros(self.n_items, dtype=bool))

    def _popular(self, n: int, blocked: np.ndarray) -> Ranked:
        order = self._popular_order[~blocked[self._popular_order]][:n]
        return Ranked(self.item_ids[order], self.item_popularity[order], fallback="popular")


class PopularScorer(Scorer):
    """Most interactions first: the fallback and the simplest baseline."""

    kind = "popular"
    score_meaning = POPULARITY_MEANING

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.item_popularity, (len(users), self.n_items)).copy()


class FactorScorer(Scorer):
    r"""Biased matrix factorisation (Surprise's SVD).

    .. math:: \hat r_{ui} = \mu + b_u + b_i + q_i^\top p_u

    with the bias of an unknown user or item taken as 0 and the dot product dropped
    when either is unknown, as Surprise does; ratings are clipped to the rating scale.
    Ranking uses the unclipped estimate, so items above the scale's top stay ordered.
    A user outside the training data with a history is folded in
    (:func:`movierec.models.foldin.biased_mf_user`) when the artifact stores the
    training's ``regularization``.
    """

    kind = "factors"
    predicts_ratings = True
    score_meaning = "predicted rating (stars)"
    required = ("global_mean", "user_bias", "item_bias", "user_factors", "item_factors", "rating_scale")

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        super().__init__(arrays)
        self.mu = float(arrays["global_mean"])
        self.bu = np.asarray(arrays["user_bias"], dtype=np.float64)
        self.bi = np.asarray(arrays["item_bias"], dtype=np.float64)
        self.pu = np.asarray(arrays["user_factors"], dtype=np.float64)
        self.qi = np.asarray(arrays["item_factors"], dtype=np.float64)
        self.scale = tuple(float(x) for x in arrays["rating_scale"])
        self.regularization = float(arrays["regularization"]) if "regularization" in arrays else None

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.mu + self.bu[users][:, None] + self.bi[None, :] + self.pu[users] @ self.qi.T

    def score_history(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray | None:
        if self.regularization is None:  # an artifact from before fold-in
            return None
        bu, pu = biased_mf_user(self.qi[items], self.bi[items], ratings, self.mu, self.regularization)
        return self.mu + bu + self.bi + self.qi @ pu

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        u, i = self.user_index(user_ids), self.item_index(item_ids)
        ku, ki = u >= 0, i >= 0
        est = np.full(len(u), self.mu)
        est[ku] += self.bu[u[ku]]
        est[ki] += self.bi[i[ki]]
        both = ku & ki
        est[both] += np.einsum("ij,ij->i", self.pu[u[both]], self.qi[i[both]])
        return np.clip(est, self.scale[0], self.scale[1])


class ItemItemScorer(Scorer):
    r"""Linear item-item model (EASE^R): :math:`s_u = x_u B`, with :math:`x_u` the user's
    binary history and ``weights`` = B (zero diagonal)."""

    kind = "item_item"
    required = ("weights",)
    score_meaning = "relevance weight: the sum of the item-item weights of the movies you rated"

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        super().__init__(arrays)
        self.weights = np.asarray(arrays["weights"])
        if self.weights.shape != (self.n_items, self.n_items):
            raise ArtifactError("item_item weights do not match the item vocabulary")

    def score(self, users: np.ndarray) -> np.ndarray:
        if len(users) == 1:  # serving: summing the seen rows beats a dense vector-matrix product
            return self.weights[self.seen(int(users[0]))].sum(axis=0, dtype=np.float64)[None, :]
        history = np.zeros((len(users), self.n_items), dtype=self.weights.dtype)
        for row, user in enumerate(users):
            history[row, self.seen(user)] = 1.0
        return (history @ self.weights).astype(np.float64)

    def score_history(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray | None:
        return self.weights[items].sum(axis=0, dtype=np.float64)  # x_u B, any rating a positive


class SparseItemItemScorer(Scorer):
    r"""A pruned EASE^R: :math:`s_u = x_u B` with B stored as CSR arrays
    (``weights_indptr``, ``weights_indices``, ``weights_data``; row i = what item i adds).

    A user's scores are the sum of the rows of the items they saw: one ``bincount`` over
    those rows' entries, numpy only.
    """

    kind = "sparse_item_item"
    required = ("weights_indptr", "weights_indices", "weights_data")
    score_meaning = ItemItemScorer.score_meaning

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        super().__init__(arrays)
        self.indptr = np.asarray(arrays["weights_indptr"], dtype=np.int64)
        self.indices = np.asarray(arrays["weights_indices"], dtype=np.int64)
        self.data = np.asarray(arrays["weights_data"], dtype=np.float64)
        if len(self.indptr) != self.n_items + 1 or not self.indptr[-1] == len(self.indices) == len(self.data):
            raise ArtifactError("sparse_item_item weights do not match the item vocabulary")
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= self.n_items):
            raise ArtifactError("sparse_item_item weights point outside the item vocabulary")

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.vstack([self._score_rows(self.seen(int(user))) for user in users])

    def score_history(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray | None:
        return self._score_rows(items)

    def row_entries(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ``indices``/``data`` of every entry of ``rows``, each row's entry count),
        without a Python loop over rows."""
        rows = np.asarray(rows, dtype=np.intp)  # stored positions may be uint16
        starts, stops = self.indptr[rows], self.indptr[rows + 1]
        lengths = stops - starts
        return np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum()), lengths

    def _score_rows(self, rows: np.ndarray) -> np.ndarray:
        offsets, _ = self.row_entries(rows)
        # bincount of nothing is int64 even with weights: a user whose seen movies all lie
        # outside B's covered head would get an integer array that -inf cannot mask.
        return np.bincount(self.indices[offsets], weights=self.data[offsets], minlength=self.n_items).astype(
            np.float64, copy=False)


class EmbeddingScorer(Scorer):
    r"""Implicit-feedback matrix factorisation (iALS): :math:`s_{ui} = p_u^\top q_i`; a user
    outside the training data is folded in (:func:`movierec.models.foldin.ials_user`) when
    the artifact stores ``regularization`` and ``alpha``."""

    kind = "embeddings"
    required = ("user_factors", "item_factors")
    score_meaning = "relevance weight: the dot product of your taste and the movie's factors"

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        super().__init__(arrays)
        self.pu = np.asarray(arrays["user_factors"], dtype=np.float32)
        self.qi = np.asarray(arrays["item_factors"], dtype=np.float32)
        if self.pu.shape[0] != self.n_users or self.qi.shape[0] != self.n_items or self.pu.shape[1] != self.qi.shape[1]:
            raise ArtifactError("embeddings do not match the user and item vocabularies")
        self.fold_in = (float(arrays["regularization"]), float(arrays["alpha"])) if "alpha" in arrays else None
        self.gram = self.qi.T.astype(np.float64) @ self.qi  # Q^T Q, for the fold-in

    def score(self, users: np.ndarray) -> np.ndarray:
        return (self.pu[users] @ self.qi.T).astype(np.float64)

    def score_history(self, items: np.ndarray, ratings: np.ndarray) -> np.ndarray | None:
        if self.fold_in is None:  # an artifact from before fold-in
            return None
        xu = ials_user(self.gram, self.qi[items], *self.fold_in)
        return self.qi.astype(np.float64) @ xu


class KNNScorer(Scorer):
    r"""User-based k-nearest neighbours (Surprise's KNNBasic and KNNBaseline).

    Among the users who rated item :math:`i`, the ``k`` most similar to :math:`u`
    with positive similarity form :math:`N_i^k(u)`:

    .. math::
        \hat r_{ui} = b_{ui} + \frac{\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)\,(r_{vi} - b_{vi})}
                                    {\sum_{v \in N_i^k(u)} \mathrm{sim}(u, v)}

    with :math:`b = 0` for KNNBasic and :math:`b_{ui} = \mu + b_u + b_i` for KNNBaseline.
    With fewer than ``min_k`` neighbours, KNNBasic predicts :math:`\mu` and
    KNNBaseline the baseline alone, as Surprise does.
    """

    kind = "knn"
    predicts_ratings = True
    score_meaning = "predicted rating (stars)"
    required = (
        "similarities",
        "ratings",
        "global_mean",
        "user_bias",
        "item_bias",
        "k",
        "min_k",
        "use_baseline",
        "rating_scale",
    )

    def __init__(self, arrays: Mapping[str, np.ndarray]) -> None:
        super().__init__(arrays)
        self.sim = np.asarray(arrays["similarities"], dtype=np.float64)
        self.ratings = np.asarray(arrays["ratings"], dtype=np.float64)  # dense, NaN = not rated
        self.rated = ~np.isnan(self.ratings)
        self.mu = float(arrays["global_mean"])
        self.bu = np.asarray(arrays["user_bias"], dtype=np.float64)
        self.bi = np.asarray(arrays["item_bias"], dtype=np.float64)
        self.k = int(arrays["k"])
        self.min_k = int(arrays["min_k"])
        self.use_baseline = bool(arrays["use_baseline"])
        self.scale = tuple(float(x) for x in arrays["rating_scale"])
        # Deviation of every rating from its baseline, precomputed once per artifact.
        base = self.mu + self.bu[:, None] + self.bi[None, :] if self.use_baseline else 0.0
        self.residuals = np.where(self.rated, self.ratings - base, 0.0)

    def _estimate_row(self, user: int, items: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Estimates of ``user`` for ``items`` (all by default)."""
        rated, residuals = self.rated[:, items], self.residuals[:, items]
        masked = np.where(rated, self.sim[user][:, None], -np.inf)
        k = min(self.k, self.n_users)
        top = np.argpartition(-masked, k - 1, axis=0)[:k]
        sims = np.take_along_axis(masked, top, axis=0)
        res = np.take_along_axis(residuals, top, axis=0)
        positive = sims > 0
        weights = np.where(positive, sims, 0.0)
        sum_sim = weights.sum(axis=0)
        actual_k = positive.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            neighbour_term = (weights * res).sum(axis=0) / sum_sim
        enough = (actual_k >= self.min_k) & (sum_sim > 0)
        if self.use_baseline:
            return self.mu + self.bu[user] + self.bi[items] + np.where(enough, neighbour_term, 0.0)
        return np.where(enough, neighbour_term, self.mu)

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.vstack([self._estimate_row(int(u)) for u in users])

    def predict(self, user_ids: np.ndarray, item_ids: np.ndarray) -> np.ndarray:
        u, i = self.user_index(user_ids), self.item_index(item_ids)
        est = np.full(len(u), self.mu)
        if self.use_baseline:
            est[u >= 0] += self.bu[u[u >= 0]]
            est[i >= 0] += self.bi[i[i >= 0]]
        both = (u >= 0) & (i >= 0)
        order = np.argsort(u, kind="stable")
        for rows in np.split(order, np.flatnonzero(np.diff(u[order])) + 1):
            rows = rows[both[rows]]
            if len(rows):
                est[rows] = self._estimate_row(int(u[rows[0]]), i[rows])
        return np.clip(est, self.scale[0], self.scale[1])


SCORERS: dict[str, type[Scorer]] = {
    cls.kind: cls
    for cls in (PopularScorer, FactorScorer, ItemItemScorer, SparseItemItemScorer, EmbeddingScorer, KNNScorer)
}


def scorer_for(kind: str, arrays: Mapping[str, np.ndarray]) -> Scorer:
    try:
        cls = SCORERS[kind]
    except KeyError:
        raise ArtifactError(f"unknown scorer kind {kind!r}; known: {', '.join(sorted(SCORERS))}") from None
    try:
        return cls(arrays)
    except (TypeError, ValueError, IndexError) as exc:
        raise ArtifactError(f"{kind} artifact arrays are inconsistent: {exc}") from None
