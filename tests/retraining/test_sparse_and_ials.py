"""The weekly job and its gate, unchanged, with a sparse (pruned) B and with iALS."""

from __future__ import annotations

import pytest

from movierec.models.artifact import list_versions, live_version, load_artifact
from movierec.models.ease import EASE
from movierec.models.ials import IALS, IALSParams
from movierec.models.scoring import scorer_for
from movierec.retraining.compare import live_recipe
from movierec.retraining.job import run_retrain
from movierec.retraining.sources import EventLogFeedback
from tests.retraining.conftest import (
    EASE_L2,
    ShuffledRatings,
    config,
    genre_movies,
    genre_share,
    write_genre_feedback,
)

SMALL_IALS = IALSParams(factors=16, regularization=20.0, alpha=2.0, iterations=8)
FAMILIES = {
    "ease": lambda: EASE(l2=EASE_L2, keep=64),  # B pruned to 64 weights per item on average
    "ials": lambda: IALS(SMALL_IALS, seed=7),
}


def retrain(base, store, events, name, candidates):
    return run_retrain(base, store, EventLogFeedback(events), config((name,)), candidates=candidates)


def top10(store, name, version=None):
    artifact = load_artifact(store, name, version)
    scorer = scorer_for(artifact.kind, artifact.arrays)
    return lambda user: scorer.recommend(user, 10).item_ids


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_feedback_is_learnt_and_the_gate_passes_a_good_candidate(name, base, store, events):
    make = FAMILIES[name]
    first = retrain(base, store, events, name, lambda _: make())
    assert first.promoted.keys() == {name}
    kind = load_artifact(store, name).kind
    assert kind == {"ease": "sparse_item_item", "ials": "embeddings"}[name]
    horror = genre_movies(base.dataset.movies, "Horror")
    users = list(range(1, 301))
    before = genre_share(top10(store, name), users, horror)

    write_genre_feedback(events, base, "Horror", users[:150])
    second = retrain(base, store, events, name, lambda _: make())

    model = second.models[name]
    assert model.decision == "promoted", model.reasons
    # The live side was the live version's recipe refitted: same kind, same parameters.
    assert model.live_metrics is not None and "ndcg@10" in model.live_metrics
    assert genre_share(top10(store, name), users, horror) > 1.3 * before


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_a_broken_candidate_is_refused_and_serving_is_unchanged(name, base, store, events):
    make = FAMILIES[name]
    good = retrain(base, store, events, name, lambda _: make()).promoted[name]
    write_genre_feedback(events, base, "Comedy", range(1, 40), per_user=3)

    result = retrain(base, store, events, name, lambda _: ShuffledRatings(make()))

    model = result.models[name]
    assert model.decision == "refused"
    assert any(reason.startswith("ndcg@10") for reason in model.reasons), model.reasons
    assert live_version(store, name) == good
    assert list_versions(store, name) == [good]


def test_the_live_recipe_of_a_sparse_b_and_of_ials_refits_what_the_manifest_says(base, store, events):
    for name, make in FAMILIES.items():
        retrain(base, store, events, name, lambda _, make=make: make())
        manifest = load_artifact(store, name).manifest
        recipe = live_recipe(manifest, seed=0)
        refit = recipe.fit(base.training)
        assert refit.kind == manifest["kind"]
        if name == "ease":
            assert (refit.params["l2"], refit.params["keep"]) == (EASE_L2, 64)
        else:
            assert (refit.params["factors"], refit.params["regularization"]) == (16, 20.0)
