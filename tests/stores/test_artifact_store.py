"""One contract for every ArtifactStore: a local folder and Cloud Storage (emulator)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from movierec.errors import BackendUnavailable
from movierec.stores.gcs import GCSArtifactStore
from movierec.stores.local import LocalArtifactStore
from movierec.stores.ports import ArtifactNotFound, ArtifactStore

BAD_KEYS = ["", "/etc/passwd", "../outside", "a/../../b", "a//b", "a/./b", "a\\b", "a/"]


@pytest.fixture(params=["local", pytest.param("gcs", marks=pytest.mark.emulator)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ArtifactStore:
    if request.param == "local":
        return LocalArtifactStore(tmp_path / "artifacts")
    bucket = request.getfixturevalue("gcs_bucket")
    return GCSArtifactStore(bucket.client, bucket.name, prefix="team/movierec")


def test_is_an_artifact_store(store: ArtifactStore) -> None:
    assert isinstance(store, ArtifactStore)


@pytest.mark.parametrize("data", [b"", b"hello", bytes(range(256)) * 4096], ids=["empty", "text", "1MiB"])
def test_round_trip(store: ArtifactStore, data: bytes) -> None:
    store.write_bytes("models/ease/v1/arrays.npz", data)
    assert store.read_bytes("models/ease/v1/arrays.npz") == data
    assert store.exists("models/ease/v1/arrays.npz")


def test_overwrite_replaces_the_whole_object(store: ArtifactStore) -> None:
    store.write_bytes("live.json", b'{"version": "a-much-longer-old-value"}')
    store.write_bytes("live.json", b'{"version": "b"}', content_type="application/json")
    assert store.read_bytes("live.json") == b'{"version": "b"}'


def test_missing_key(store: ArtifactStore) -> None:
    with pytest.raises(ArtifactNotFound, match="nothing/here"):
        store.read_bytes("nothing/here")
    assert not store.exists("nothing/here")


def test_a_folder_is_not_a_key(store: ArtifactStore) -> None:
    store.write_bytes("models/svd/v1/manifest.json", b"{}")
    assert not store.exists("models/svd")
    with pytest.raises(ArtifactNotFound):
        store.read_bytes("models/svd")


def test_list_by_prefix_sorted(store: ArtifactStore) -> None:
    keys = ["models/svd/v2/a.npz", "models/ease/v1/b.npz", "models/svd/v1/a.npz", "reports/r.html"]
    for key in keys:
        store.write_bytes(key, key.encode())
    assert store.list() == sorted(keys)
    assert store.list("models/svd/") == ["models/svd/v1/a.npz", "models/svd/v2/a.npz"]
    assert store.list("models/s") == ["models/svd/v1/a.npz", "models/svd/v2/a.npz"]
    assert store.list("models/svd/v1/a.npz") == ["models/svd/v1/a.npz"]
    assert store.list("nothing/") == []


def test_delete(store: ArtifactStore) -> None:
    store.write_bytes("tmp/x.bin", b"x")
    store.write_bytes("tmp/y.bin", b"y")
    store.delete("tmp/x.bin")
    assert not store.exists("tmp/x.bin")
    assert store.list("tmp/") == ["tmp/y.bin"]
    store.delete("tmp/x.bin")  # deleting again is not an error
    assert store.list("tmp/") == ["tmp/y.bin"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_unsafe_keys_are_refused(store: ArtifactStore, key: str) -> None:
    for call in (
        lambda: store.read_bytes(key),
        lambda: store.write_bytes(key, b"x"),
        lambda: store.exists(key),
        lambda: store.delete(key),
    ):
        with pytest.raises(ValueError, match="artifact key"):
            call()
    assert store.list() == []


def test_readers_never_see_a_partial_write(store: ArtifactStore) -> None:
    old, new = b"a" * (1 << 20), b"b" * (1 << 20)
    store.write_bytes("big.bin", old)
    seen: list[bytes] = []
    done = threading.Event()

    def writer() -> None:
        for i in range(6):
            store.write_bytes("big.bin", new if i % 2 == 0 else old)
        done.set()

    def reader() -> None:
        while not done.is_set():
            seen.append(store.read_bytes("big.bin"))

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen, "the reader never ran"
    assert all(data in (old, new) for data in seen), {len(d) for d in seen}
    assert store.list() == ["big.bin"]  # no temporary objects left behind


def test_describe_names_the_location(store: ArtifactStore, tmp_path: Path) -> None:
    where = store.describe()
    assert where in (str(tmp_path / "artifacts"), "gs://movierec-test-artifacts/team/movierec")
    assert not where.endswith("/")  # callers append "/<key>"


# -- backend specifics ---------------------------------------------------------------------


def test_local_keys_are_files_under_root(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.write_bytes("a/b/c.json", b"{}")
    assert (tmp_path / "a" / "b" / "c.json").read_bytes() == b"{}"
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["c.json"]


def test_local_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    store = LocalArtifactStore(tmp_path)
    store.write_bytes("a/b", b"old")
    (tmp_path / "a" / "c").mkdir()  # a folder where the write must put a file
    with pytest.raises(BackendUnavailable, match="a/c"):
        store.write_bytes("a/c", b"new")
    with pytest.raises(BackendUnavailable, match="a/b/x"):  # 'a/b' is a file, not a folder
        store.write_bytes("a/b/x", b"new")
    assert store.read_bytes("a/b") == b"old"
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b", "c"]


@pytest.mark.emulator
def test_gcs_keeps_content_type_and_prefix(gcs_bucket) -> None:
    store = GCSArtifactStore(gcs_bucket.client, gcs_bucket.name, prefix="/p/")
    store.write_bytes("m.json", b"{}", content_type="application/json")
    blob = gcs_bucket.client.bucket(gcs_bucket.name).get_blob("p/m.json")
    assert blob is not None and blob.content_type == "application/json"
    assert store.list() == ["m.json"]
