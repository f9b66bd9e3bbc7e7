"""A cold start whose LIVE version fails verification serves the newest earlier version
that verifies, on both real artifact stores; the popular fallback only when none does."""

from __future__ import annotations

import gc
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from movierec.models.artifact import live_version, load_artifact, save_artifact, set_live_version
from movierec.serving.models import ModelCache
from movierec.stores.gcs import GCSArtifactStore
from movierec.stores.local import LocalArtifactStore
from tests.serving.test_handlers import check_contract


@pytest.fixture(params=["folder", pytest.param("gcs", marks=pytest.mark.emulator)])
def store(request, tmp_path, published):
    source = LocalArtifactStore(Path(published[0]))
    if request.param == "folder":
        target = LocalArtifactStore(tmp_path / "artifacts")
    else:
        bucket = request.getfixturevalue("gcs_bucket")
        target = GCSArtifactStore(bucket.client, bucket.name)
    for key in source.list("models/svd/"):
        target.write_bytes(key, source.read_bytes(key))
    return target


def new_version(store, base: str, days: int, *, corrupt: bool) -> str:
    """A version of svd ``days`` after ``base``, its arrays torn after upload when ``corrupt``."""
    current = load_artifact(store, "svd", base)
    arrays = {**current.arrays, "item_bias": current.arrays["item_bias"] + days}
    created = datetime.now(timezone.utc) + timedelta(days=days)
    saved = save_artifact(store, type(current)("svd", "factors", arrays, files=current.files), created_at=created)
    if corrupt:
        corrupt_version(store, saved.version)
    return saved.version


def corrupt_version(store, version: str) -> None:
    key = f"models/svd/{version}/arrays.npz"
    store.write_bytes(key, store.read_bytes(key)[:-10] + b"0123456789")


def cold(store) -> ModelCache:
    return ModelCache(store, refresh_seconds=60.0)


def test_a_refused_live_version_at_cold_start_serves_the_newest_earlier_verified_one(store, caplog) -> None:
    first = live_version(store, "svd")
    second = new_version(store, first, 1, corrupt=False)
    third = new_version(store, first, 2, corrupt=True)
    set_live_version(store, "svd", third, previous=second)

    cache = cold(store)
    model = cache.get("svd")
    assert model is not None and model.version == second
    status = cache.status()["svd"]
    assert status["version"] == second and status["earlier_than_live"] is True
    assert status["refused_version"] == third and status["error"] == "verification_failed"
    assert f"live version {third} of svd refused; serving the earlier verified version {second}" in caplog.text

    corrupt_version(store, second)  # the previous one is damaged too: one further back
    model = cold(store).get("svd")
    assert model is not None and model.version == first


def test_no_verified_version_at_all_leaves_the_model_missing(store) -> None:
    first = live_version(store, "svd")
    corrupt_version(store, first)
    cache = cold(store)
    assert cache.get("svd") is None  # the service then serves the popular fallback
    assert cache.status()["svd"]["refused_version"] == first


def test_a_warm_instance_keeps_its_version_rather_than_an_earlier_one(store) -> None:
    first = live_version(store, "svd")
    cache = ModelCache(store, refresh_seconds=0.0)
    assert cache.get("svd").version == first
    bad = new_version(store, first, 1, corrupt=True)
    set_live_version(store, "svd", bad, previous=first)
    assert cache.get("svd").version == first
    assert cache.status()["svd"]["earlier_than_live"] is False


def test_healthz_and_recommend_say_which_version_a_cold_start_serves(make_client, local_env, home, openapi) -> None:
    store = LocalArtifactStore(home / "artifacts")
    first = live_version(store, "svd")
    second = new_version(store, first, 1, corrupt=False)
    third = new_version(store, first, 2, corrupt=True)
    set_live_version(store, "svd", third, previous=second)
    client = make_client(local_env)
    rec = client.get("/recommend?user_id=1").get_json()
    assert rec["model"] == {"name": "svd", "version": second} and rec["fallback"] is None
    health = client.get("/healthz")
    check_contract(openapi, health)
    body = health.get_json()
    assert body["status"] == "degraded"
    assert body["models"]["svd"] | {"loaded_at": None, "error": None} == {
        "version": second, "loaded_at": None, "error": None, "refused_version": third, "earlier_than_live": True,
    }


def _tracked(obj: object) -> bool:
    """Whether the cyclic collector walks ``obj`` (frozen objects are outside its generations)."""
    return any(o is obj for o in gc.get_objects())


def test_each_model_loaded_leaves_the_collectors_sight(store) -> None:
    """A full collection over a model's objects was a pause of 16-37 ms for every request in
    flight: the cache calls ``on_load`` (``gc.freeze`` in serving) after each version it loads."""
    loads: list[str] = []
    first = live_version(store, "svd")
    cache = ModelCache(store, refresh_seconds=0.0, on_load=lambda: loads.append("loaded"))
    assert cache.get("svd") is not None and loads == ["loaded"]
    assert cache.get("svd") is not None and loads == ["loaded"]  # unchanged pointer: nothing loaded

    bad = new_version(store, first, 1, corrupt=True)
    set_live_version(store, "svd", bad, previous=first)
    assert cache.get("svd").version == first and loads == ["loaded"]  # refused: nothing new held

    try:
        frozen = ModelCache(store, refresh_seconds=60.0, on_load=gc.freeze).get("svd")  # the earlier version
        assert frozen is not None and frozen.version == first
        assert not _tracked(frozen.titles)
        assert _tracked(["a request's object", []])  # new objects are still collected
    finally:
        gc.unfreeze()
