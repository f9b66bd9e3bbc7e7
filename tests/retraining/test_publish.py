"""Publishing on a real folder store: verified upload, pointer, promote, rollback, prune."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from movierec.errors import ArtifactError
from movierec.models.artifact import (
    VersionExists,
    list_versions,
    live_version,
    load_artifact,
    save_artifact,
)
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.pipelines.publish import (
    UploadNotVerified,
    describe_versions,
    point_live,
    promote,
    prune,
    publish,
    read_pointer,
    rollback,
    upload_verified,
)
from movierec.pipelines.train import hold_out, train_and_publish
from tests.retraining.conftest import CorruptingStore


@pytest.fixture(scope="module")
def artifacts(base):
    """Three distinct EASE artifacts of 40 users (different l2: different arrays)."""
    small = base.training.ratings[base.training.ratings["user_id"] <= 40]
    data = TrainingData(small, base.training.rating_scale)
    return [EASE(l2=l2).fit(data) for l2 in (100.0, 200.0, 400.0)]


def publish_at(store, artifact, second: int):
    saved = save_artifact(store, artifact, created_at=datetime(2026, 1, 1, 0, 0, second, tzinfo=timezone.utc))
    point_live(store, saved.name, saved.version)
    return saved.version


def test_upload_verified_reads_back_what_was_trained(store, artifacts):
    saved = upload_verified(store, artifacts[0])
    loaded = load_artifact(store, "ease", saved.version)
    np.testing.assert_array_equal(loaded.arrays["weights"], artifacts[0].arrays["weights"])
    assert live_version(store, "ease") is None  # uploading never touches the pointer


def test_a_damaged_upload_is_refused_and_removed(store, artifacts):
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        upload_verified(CorruptingStore(store.root), artifacts[0])
    assert list_versions(store, "ease") == []


def test_publish_moves_the_pointer_only_to_an_upload_that_verifies(store, artifacts):
    live = publish(store, artifacts[0]).version
    assert read_pointer(store, "ease").version == live

    with pytest.raises(UploadNotVerified, match="checksum mismatch"):
        publish(CorruptingStore(store.root), artifacts[1])
    assert (read_pointer(store, "ease").version, read_pointer(store, "ease").previous) == (live, None)
    assert list_versions(store, "ease") == [live]

    unpromoted = publish(store, artifacts[2], make_live=False).version
    assert live_version(store, "ease") == live
    assert load_artifact(store, "ease", unpromoted).version == unpromoted


def test_a_version_is_never_rewritten(store, artifacts):
    when = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = save_artifact(store, artifacts[0], created_at=when)
    with pytest.raises(VersionExists):  # same arrays, same second: the same version name
        save_artifact(CorruptingStore(store.root), artifacts[0], created_at=when)
    assert load_artifact(store, "ease", first.version).version == first.version  # still intact


def test_republishing_the_live_arrays_through_a_failing_store_leaves_the_live_version_whole(store, artifacts):
    live = publish(store, artifacts[0]).version
    try:  # within the same second the version exists and is only verified; else a new upload is refused
        again = publish(CorruptingStore(store.root), artifacts[0]).version
        assert again == live
    except UploadNotVerified:
        pass
    assert read_pointer(store, "ease").version == live
    np.testing.assert_array_equal(load_artifact(store, "ease").arrays["weights"], artifacts[0].arrays["weights"])


def test_train_and_publish_never_points_live_at_an_upload_that_does_not_verify(store, base):
    [good] = train_and_publish(base, store, ["popular"], seed=0, tracking_uri=None)
    assert live_version(store, "popular") == good.artifact.version
    # A version is named by its second and its arrays: other ratings keep the damaged
    # upload from taking the live version's name.
    other, _ = hold_out(base, seed=0)

    with pytest.raises(UploadNotVerified, match="checksum mismatch"):
        train_and_publish(other, CorruptingStore(store.root), ["popular"], seed=0, tracking_uri=None)

    assert live_version(store, "popular") == good.artifact.version
    assert list_versions(store, "popular") == [good.artifact.version]  # the damaged upload was removed
    assert load_artifact(store, "popular").version == good.artifact.version


def test_promote_and_rollback_move_the_pointer_and_remember_the_previous(store, artifacts):
    v1, v2, v3 = (publish_at(store, a, i) for i, a in enumerate(artifacts))
    assert (read_pointer(store, "ease").version, read_pointer(store, "ease").previous) == (v3, v2)

    rollback(store, "ease")
    assert (live_version(store, "ease"), read_pointer(store, "ease").previous) == (v2, v3)
    promote(store, "ease", v1)
    assert (live_version(store, "ease"), read_pointer(store, "ease").previous) == (v1, v2)
    assert [(i.version, i.live, i.previous) for i in describe_versions(store, "ease")] == [
        (v1, True, False),
        (v2, False, True),
        (v3, False, False),
    ]


def test_clear_errors_for_unknown_models_and_versions(store, artifacts):
    publish_at(store, artifacts[0], 0)
    with pytest.raises(ArtifactError, match="unknown model 'nope'"):
        promote(store, "nope", "v")
    with pytest.raises(ArtifactError, match=r"unknown model 'nope'.*models there: ease"):
        describe_versions(store, "nope")
    with pytest.raises(ArtifactError, match="has no version 'v0'"):
        promote(store, "ease", "v0")
    with pytest.raises(ArtifactError, match="no previous version"):
        rollback(store, "ease")


def test_promote_refuses_a_version_whose_files_were_damaged(store, artifacts):
    v1 = publish_at(store, artifacts[0], 0)
    v2 = publish_at(store, artifacts[1], 1)
    key = f"models/ease/{v1}/arrays.npz"
    data = store.read_bytes(key)
    store.write_bytes(key, data[:-1] + bytes([data[-1] ^ 0xFF]))
    with pytest.raises(ArtifactError, match="checksum"):
        promote(store, "ease", v1)
    assert live_version(store, "ease") == v2


def test_prune_keeps_the_newest_and_never_the_live_or_previous(store, artifacts):
    many = [replace(artifacts[i % 3], params={"copy": i}) for i in range(5)]
    versions = []
    for i, artifact in enumerate(many):
        artifact = replace(artifact, arrays={**artifact.arrays, "marker": np.array([i])})
        versions.append(publish_at(store, artifact, i))
    promote(store, "ease", versions[0])  # live: the oldest; previous: the newest
    assert prune(store, "ease", keep=2) == versions[1:3]
    assert list_versions(store, "ease") == [versions[0], *versions[3:]]
    assert load_artifact(store, "ease").version == versions[0]
