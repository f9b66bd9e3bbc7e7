"""Artifacts: reproducible bytes, verified checksums, arrays only, live pointer."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timezone

import numpy as np
import pandas as pd
import pytest

from movierec.errors import ArtifactError
from movierec.models.artifact import (
    ITEMS_FILE,
    ModelArtifact,
    items_file,
    list_versions,
    live_version,
    load_artifact,
    read_items,
    save_artifact,
    set_live_version,
    write_npz,
)
from movierec.stores.local import LocalArtifactStore


def artifact(seed: int = 0, **kwargs) -> ModelArtifact:
    rng = np.random.default_rng(seed)
    arrays = {
        "user_ids": np.arange(5),
        "weights": rng.normal(size=(4, 4)).astype(np.float32),
        "global_mean": np.array(3.5),  # 0-d arrays must stay 0-d
    }
    return ModelArtifact("toy", "item_item", arrays, params={"l2": 1.5}, files={"items.json": b"[]"}, **kwargs)


@pytest.fixture
def store(tmp_path) -> LocalArtifactStore:
    return LocalArtifactStore(tmp_path / "artifacts")


def test_npz_bytes_are_reproducible():
    assert write_npz(artifact().arrays) == write_npz(artifact().arrays)
    assert write_npz(artifact(0).arrays) != write_npz(artifact(1).arrays)


def test_object_arrays_are_refused():
    with pytest.raises(ArtifactError, match="object"):
        write_npz({"bad": np.array([{"a": 1}], dtype=object)})


def test_round_trip_keeps_arrays_manifest_and_files(store):
    saved = save_artifact(store, artifact())
    loaded = load_artifact(store, "toy", saved.version)
    assert loaded.kind == "item_item"
    assert loaded.params == {"l2": 1.5}
    assert loaded.files == {"items.json": b"[]"}
    for name, array in artifact().arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array)
        assert loaded.arrays[name].dtype == array.dtype
    manifest = json.loads(store.read_bytes(f"models/toy/{saved.version}/manifest.json"))
    assert set(manifest["files"]) == {"arrays.npz", "items.json"}
    assert manifest["arrays"]["weights"]["shape"] == [4, 4]


def test_manifest_is_strict_json_with_undefined_metrics_as_null(store):
    undefined = artifact(metrics={"ndcg@10": float("nan"), "rmse": float("inf"), "runs": np.int64(3)})
    saved = save_artifact(store, undefined)

    def refuse(constant: str) -> None:
        raise AssertionError(f"manifest holds {constant}, which strict JSON readers refuse")

    raw = store.read_bytes(f"models/toy/{saved.version}/manifest.json")
    manifest = json.loads(raw, parse_constant=refuse)
    assert manifest["metrics"] == {"ndcg@10": None, "rmse": None, "runs": 3}


def test_same_arrays_same_version_suffix(store):
    first, second = (datetime(2026, 1, 1, 0, 0, s, tzinfo=timezone.utc) for s in (0, 1))
    a, b = save_artifact(store, artifact(), created_at=first), save_artifact(store, artifact(), created_at=second)
    assert a.version != b.version and a.version.split("-")[1] == b.version.split("-")[1]
    assert a.manifest["files"] == b.manifest["files"]


def test_checksum_mismatch_is_refused(store):
    saved = save_artifact(store, artifact())
    key = f"models/toy/{saved.version}/arrays.npz"
    store.write_bytes(key, write_npz(artifact(seed=9).arrays))
    with pytest.raises(ArtifactError, match=r"checksum mismatch for arrays\.npz"):
        load_artifact(store, "toy", saved.version)


def test_corrupt_side_file_is_refused(store):
    saved = save_artifact(store, artifact())
    store.write_bytes(f"models/toy/{saved.version}/items.json", b"[{}]")
    with pytest.raises(ArtifactError, match=r"items\.json"):
        load_artifact(store, "toy", saved.version)


def test_items_file_round_trips_titles_and_genres_through_a_saved_version(store):
    movies = pd.DataFrame({"item_id": [1, 2], "title": ["Toy Story (1995)", "Heat"], "genres": ["Animation", ""]})
    written = items_file(movies, [2, 1, 99])  # 99: a trained item the catalogue lost
    saved = save_artifact(store, replace(artifact(), files={ITEMS_FILE: written}))
    titles, genres = read_items(load_artifact(store, "toy", saved.version))
    assert titles == {1: "Toy Story (1995)", 2: "Heat", 99: ""}
    assert genres == {1: "Animation", 2: "", 99: ""}


def test_without_or_with_a_malformed_items_file():
    assert read_items(ModelArtifact("toy", "popular", {})) == ({}, {})
    with pytest.raises(ArtifactError, match=r"items\.json is malformed"):
        read_items(ModelArtifact("toy", "popular", {}, files={ITEMS_FILE: b'[{"title": "no id"}]'}))


def test_missing_version_and_missing_live_pointer_are_clear_errors(store):
    with pytest.raises(ArtifactError, match="no live version"):
        load_artifact(store, "toy")
    with pytest.raises(ArtifactError, match="has no version 'nope'"):
        load_artifact(store, "toy", "nope")


def test_live_pointer_moves_and_lists_versions(store):
    first = save_artifact(store, artifact(0))
    second = save_artifact(store, artifact(1))
    set_live_version(store, "toy", first.version)
    assert live_version(store, "toy") == first.version
    set_live_version(store, "toy", second.version, previous=first.version)
    assert load_artifact(store, "toy").version == second.version
    assert list_versions(store, "toy") == sorted([first.version, second.version])
    with pytest.raises(ArtifactError):
        set_live_version(store, "toy", "does-not-exist")
