"""Publishing on a real folder store: verified upload, pointer, promote, rollback, prune."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pytest

from movierec.errors import ArtifactError
from movierec.models.artifact import list_versions, live_version, load_artifact, save_artifact
from movierec.models.base import TrainingData
from movierec.models.ease import EASE
from movierec.pipelines.publish import (
    describe_versions,
    point_live,
    promote,
    prune,
    read_pointer,
    rollback,
    upload_verified,
)
from movierec.stores.local import LocalArtifactStore


@pytest.fixture(scope="module")
def artifacts(base):
    """Three distinct EASE artifacts of 40 users (different l2: different arrays)."""
    small = base.training.ratings[base.training.ratings["user_id"] <= 40]
    data = TrainingData(small, base.training.rating_scale)
    return [EASE(l2=l2).fit(data) for l2 in (100.0, 200.0, 400.0)]


def publish(store, artifact, second: int):
    saved = save_artifact(store, artifact, created_at=datetime(2026, 1, 1, 0, 0, second, tzinfo=timezone.utc))
    point_live(store, saved.name, saved.version)
    return saved.version


class CorruptingStore(LocalArtifactStore):
    """Flips one byte of every arrays.npz it stores: a damaged upload."""

    def write_bytes(self, key, data, content_type="application/octet-stream"):
        if key.endswith("arrays.npz"):
            data = data[:-10] + bytes([data[-10] ^ 0xFF]) + data[-9:]
        super().write_bytes(key, data, content_type)


def test_upload_verified_reads_back_what_was_trained(store, artifacts):
    saved = upload_verified(store, artifacts[0])
    loaded = load_artifact(store, "ease", saved.version)
    np.testing.assert_array_equal(loaded.arrays["weights"], artifacts[0].arrays["weights"])
    assert live_version(store, "ease") is None  # uploading never touches the pointer


def test_a_damaged_upload_is_refused_and_removed(store, artifacts):
    with pytest.raises(ArtifactError, match="checksum mismatch"):
        upload_verified(CorruptingStore(store.root), artifacts[0])
    assert list_versions(store, "ease") == []


def test_promote_and_rollback_move_the_pointer_and_remember_the_previous(store, artifacts):
    v1, v2, v3 = (publish(store, a, i) for i, a in enumerate(artifacts))
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
    publish(store, artifacts[0], 0)
    with pytest.raises(ArtifactError, match="unknown model 'nope'"):
        promote(store, "nope", "v")
    with pytest.raises(ArtifactError, match=r"unknown model 'nope'.*models there: ease"):
        describe_versions(store, "nope")
    with pytest.raises(ArtifactError, match="has no version 'v0'"):
        promote(store, "ease", "v0")
    with pytest.raises(ArtifactError, match="no previous version"):
        rollback(store, "ease")


def test_promote_refuses_a_version_whose_files_were_damaged(store, artifacts):
    v1 = publish(store, artifacts[0], 0)
    v2 = publish(store, artifacts[1], 1)
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
        versions.append(publish(store, artifact, i))
    promote(store, "ease", versions[0])  # live: the oldest; previous: the newest
    assert prune(store, "ease", keep=2) == versions[1:3]
    assert list_versions(store, "ease") == [versions[0], *versions[3:]]
    assert load_artifact(store, "ease").version == versions[0]
