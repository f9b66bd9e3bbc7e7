"""The weekly job end to end on real components: a local folder, SQLite, the real scorers."""

from __future__ import annotations

import time

import pytest
from mlflow.tracking import MlflowClient

from movierec.errors import BackendUnavailable, ConfigError
from movierec.models.artifact import list_versions, live_version, load_artifact
from movierec.models.scoring import scorer_for
from movierec.retraining import records
from movierec.retraining.job import run_retrain
from movierec.retraining.records import Window
from movierec.retraining.sources import EventLogFeedback
from movierec.serving.models import ModelCache
from movierec.stores.local import LocalArtifactStore
from tests.retraining.conftest import (
    CorruptingStore,
    ShuffledRatings,
    config,
    genre_movies,
    genre_share,
    small_candidates,
    write_genre_feedback,
)


def retrain(base, store, events, *, models=("ease",), candidates=small_candidates, until=None, **kwargs):
    return run_retrain(
        base, store, EventLogFeedback(events), config(models, **kwargs), until=until, candidates=candidates
    )


def top10(store, name="ease"):
    scorer = scorer_for(*_kind_arrays(load_artifact(store, name)))
    return lambda user: scorer.recommend(user, 10).item_ids


def _kind_arrays(artifact):
    return artifact.kind, artifact.arrays


def test_feedback_for_a_genre_moves_the_next_version_toward_it(base, store, events):
    first = retrain(base, store, events, models=("ease", "svd"))
    assert first.promoted.keys() == {"ease", "svd"}  # nothing live yet: sanity checks alone decide
    horror = genre_movies(base.dataset.movies, "Horror")
    users = list(range(1, 301))
    before = genre_share(top10(store), users, horror)

    written = write_genre_feedback(events, base, "Horror", users[:150])
    second = retrain(base, store, events, models=("ease", "svd"))

    assert second.signals.events == written
    assert second.promoted.keys() == {"ease", "svd"}
    after = genre_share(top10(store), users, horror)
    assert after > 1.5 * before, (before, after)  # measured: 0.042 -> 0.083
    # Users who gave no feedback move too, through the item-item weights.
    quiet = users[150:]
    assert genre_share(top10(store), quiet, horror) > genre_share(
        lambda u: scorer_for(*_kind_arrays(load_artifact(store, "ease", first.promoted["ease"]))).recommend(u, 10).item_ids,
        quiet,
        horror,
    )


def test_a_broken_candidate_is_refused_and_serving_is_unchanged(base, store, events, tmp_path):
    good = retrain(base, store, events).promoted["ease"]
    write_genre_feedback(events, base, "Comedy", range(1, 40), per_user=3)
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"

    result = retrain(
        base, store, events, candidates=lambda name: ShuffledRatings(small_candidates(name)), tracking_uri=tracking
    )

    model = result.models["ease"]
    assert model.decision == "refused"
    assert model.gate.candidate < model.gate.threshold
    assert any(reason.startswith("ndcg@10") for reason in model.reasons), model.reasons
    assert live_version(store, "ease") == good
    assert list_versions(store, "ease") == [good]  # a refused candidate is never uploaded
    stored = records.read_record(store, result.run_id)
    assert stored.models["ease"] == model
    run = MlflowClient(tracking).get_run(stored.mlflow_run_id)
    assert run.data.tags["decision.ease"] == "refused"
    assert run.data.metrics["ease.candidate.ndcg@10".replace("@", "_at_")] < run.data.metrics["ease.live.ndcg_at_10"]


def test_an_upload_that_does_not_verify_is_refused_and_serving_is_unchanged(base, store, events):
    good = retrain(base, store, events).promoted["ease"]
    write_genre_feedback(events, base, "Horror", range(1, 40), per_user=3)

    result = retrain(base, CorruptingStore(store.root), events)

    model = result.models["ease"]
    assert model.decision == "refused" and model.candidate_version is None
    assert "the uploaded artifact failed checksum verification" in model.reasons
    assert any("checksum mismatch" in reason for reason in model.reasons), model.reasons
    assert live_version(store, "ease") == model.live_version_after == good
    assert list_versions(store, "ease") == [good]


class FailingPointerStore(LocalArtifactStore):
    """The store fails exactly at the pointer write, after the upload went through."""

    def write_bytes(self, key, data, content_type="application/octet-stream"):
        if key.endswith("/LIVE"):
            raise BackendUnavailable(f"injected failure writing {key}")
        super().write_bytes(key, data, content_type)


def test_a_crash_between_upload_and_pointer_leaves_serving_on_the_old_version(base, store, events):
    old = retrain(base, store, events).promoted["ease"]
    cache = ModelCache(store, refresh_seconds=0, clock=time.monotonic)
    assert cache.get("ease").version == old
    written = write_genre_feedback(events, base, "Horror", range(1, 60), per_user=5)

    with pytest.raises(BackendUnavailable, match="injected"):
        retrain(base, FailingPointerStore(store.root), events)

    assert live_version(store, "ease") == old
    assert cache.get("ease").version == old
    assert load_artifact(store, "ease").version == old  # complete: checksums verified
    orphan = [v for v in list_versions(store, "ease") if v != old]
    assert len(orphan) == 1  # uploaded, verified, never pointed to
    failed = records.read_record(store, records.list_runs(store)[-1])
    assert failed.status == "failed" and "injected" in failed.error

    again = retrain(base, store, events)
    assert again.status == "completed"
    assert again.signals.events == written  # the failed run did not consume the window
    new = again.promoted["ease"]
    assert live_version(store, "ease") == new != old
    assert cache.get("ease").version == new


def test_running_twice_on_the_same_window_promotes_at_most_once(base, store, events):
    retrain(base, store, events)
    write_genre_feedback(events, base, "Drama", range(1, 30), per_user=4)
    until = time.time()

    runs = [retrain(base, store, events, until=until) for _ in range(2)]
    later = retrain(base, store, events)  # nothing new since: same data

    assert [len(r.promoted) for r in (*runs, later)] == [1, 0, 0]
    assert runs[1].window == Window(since=until, until=until, requested_until=until)
    assert runs[1].models["ease"].decision == "unchanged"
    with pytest.raises(ConfigError, match="already used"):
        retrain(base, store, events, until=until - 60)


def test_signals_accumulate_across_windows(base, store, events):
    first_window = write_genre_feedback(events, base, "Horror", range(1, 11), per_user=6, ts=time.time() - 7200)
    one = retrain(base, store, events, until=time.time() - 3600)
    second_window = write_genre_feedback(events, base, "Comedy", range(11, 21), per_user=6, seed=1)
    two = retrain(base, store, events)

    assert one.signals.events == first_window
    assert two.signals.events == second_window
    assert two.signals.signals == first_window + second_window
    assert two.counts.training_ratings == len(base.training.ratings) + first_window + second_window
