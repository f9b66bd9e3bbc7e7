"""Fold-in against independent answers: the ridge regression solved another way, and the
`implicit` library's own recalculation of a user."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from implicit.cpu.als import AlternatingLeastSquares

from movierec.models.base import TrainingData
from movierec.models.foldin import biased_mf_user, ials_user
from movierec.models.ials import IALS, IALSParams
from movierec.models.scoring import History, scorer_for
from movierec.models.svd import SurpriseSVD, SVDParams


def test_biased_mf_fold_in_is_the_ridge_regression_of_the_docstring():
    rng = np.random.default_rng(3)
    q, bi, r = rng.normal(size=(7, 4)), rng.normal(size=7), rng.uniform(1, 5, size=7)
    mu, lam = 3.5, 0.05
    bu, pu = biased_mf_user(q, bi, r, mu, lam)
    # min ||y - Z w||^2 + lam n ||w||^2 as one least-squares problem on a stacked system
    z = np.hstack([np.ones((7, 1)), q])
    stacked = np.vstack([z, np.sqrt(lam * 7) * np.eye(5)])
    w = np.linalg.lstsq(stacked, np.concatenate([r - mu - bi, np.zeros(5)]), rcond=None)[0]
    np.testing.assert_allclose([bu, *pu], w, rtol=1e-10, atol=1e-12)


def test_ials_fold_in_equals_implicits_recalculate_user(small_data: TrainingData):
    artifact = IALS(IALSParams(factors=16, iterations=5), seed=3, num_threads=1).fit(small_data)
    scorer = scorer_for(artifact.kind, artifact.arrays)
    items = scorer.item_index(small_data.ratings["item_id"].unique()[:12])
    reference = AlternatingLeastSquares(factors=16, regularization=20.0, alpha=2.0, random_state=3)
    reference.user_factors, reference.item_factors = scorer.pu, scorer.qi
    row = sp.csr_matrix((np.ones(len(items), np.float32), (np.zeros(len(items), int), items)), (1, scorer.n_items))
    expected = reference.recalculate_user(0, row)
    np.testing.assert_allclose(ials_user(scorer.gram, scorer.qi[items], 20.0, 2.0), expected, rtol=1e-4, atol=1e-6)


def test_an_artifact_from_before_fold_in_gives_the_popular_list_without_the_history(small_data: TrainingData):
    artifact = SurpriseSVD(SVDParams(n_factors=8, n_epochs=2), seed=1).fit(small_data)
    old = {k: v for k, v in artifact.arrays.items() if k != "regularization"}
    scorer = scorer_for(artifact.kind, old)
    seen = scorer.popular(3).item_ids
    ranked = scorer.recommend(10_000_000, 5, history=History(seen, np.full(3, 5.0)))
    assert ranked.fallback == "popular"
    assert ranked.item_ids.tolist() == scorer.popular(8).item_ids[3:].tolist()
