"""Servable model artifacts: numeric arrays in one ``.npz`` plus ``manifest.json``.

Serving loads arrays only (``allow_pickle=False``) after checking the sha256 of every
file against the manifest; it never unpickles. The ``.npz`` is written with fixed zip
timestamps so that the same arrays give the same bytes, hence the same checksum.

Store layout (keys of an ArtifactStore)::

    models/<name>/<version>/arrays.npz
    models/<name>/<version>/manifest.json
    models/<name>/<version>/items.json    titles and genres of the item vocabulary
    models/<name>/LIVE            {"version": ...}: the version serving uses
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import numpy as np

from movierec import __version__
from movierec.errors import ArtifactError
from movierec.jsonsafe import json_safe
from movierec.stores.ports import ArtifactNotFound, ArtifactStore

if TYPE_CHECKING:  # a type hint only: serving loads artifacts without pandas
    import pandas as pd

ARRAYS_FILE = "arrays.npz"
MANIFEST_FILE = "manifest.json"
ITEMS_FILE = "items.json"
LIVE_POINTER = "LIVE"
# The code a manifest says wrote it; `movierec --version` prints it beside the package's.
CODE_VERSION = __version__
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class ModelArtifact:
    """What a trainer produces and a scorer consumes."""

    name: str  # registry name, e.g. "svd", "ease"
    kind: str  # scorer kind, e.g. "factors", "item_item", "knn", "popular"
    arrays: Mapping[str, np.ndarray]
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    data_fingerprint: str = ""
    version: str = ""
    created_at: str = ""
    manifest: Mapping[str, Any] = field(default_factory=dict)
    # Small side files (e.g. ``items.json``: titles of the item vocabulary), checksummed too.
    files: Mapping[str, bytes] = field(default_factory=dict)


def array_digest(array: np.ndarray) -> str:
    """sha256 over dtype, shape and the C-ordered bytes: equal arrays give equal digests."""
    h = hashlib.sha256()
    h.update(str(array.dtype.str).encode())
    h.update(str(array.shape).encode())
    h.update(np.asarray(array, order="C").tobytes())
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dataframe_fingerprint(*columns: np.ndarray) -> str:
    """A digest of training data given as parallel columns (order matters)."""
    h = hashlib.sha256()
    for column in columns:
        h.update(array_digest(np.asarray(column)).encode())
    return h.hexdigest()


def write_npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    """``np.savez`` stamps the current time into the zip; this writes the same format reproducibly."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            array = np.asarray(arrays[name])
            if array.dtype == object:
                raise ArtifactError(f"array {name!r} has dtype object; artifacts hold numeric arrays only")
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_ZIP_EPOCH)
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.asarray(array, order="C"), allow_pickle=False)
    return buffer.getvalue()


def read_npz(data: bytes) -> dict[str, np.ndarray]:
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (ValueError, OSError, zipfile.BadZipFile) as exc:
        raise ArtifactError(f"artifact arrays are unreadable: {exc}") from None


def build_manifest(artifact: ModelArtifact, npz_bytes: bytes, created_at: datetime) -> dict[str, Any]:
    array_digests = {name: array_digest(np.asarray(a)) for name, a in sorted(artifact.arrays.items())}
    content = sha256_bytes(json.dumps([artifact.kind, array_digests], sort_keys=True).encode())
    version = f"{created_at.strftime('%Y%m%dT%H%M%SZ')}-{content[:8]}"
    return {
        "name": artifact.name,
        "kind": artifact.kind,
        "version": version,
        "created_at": created_at.isoformat(),
        "data_fingerprint": artifact.data_fingerprint,
        "params": json_safe(dict(artifact.params)),
        "metrics": json_safe(dict(artifact.metrics)),
        "code_version": CODE_VERSION,
        "arrays": {
            name: {"dtype": np.asarray(a).dtype.str, "shape": list(np.asarray(a).shape), "sha256": array_digests[name]}
            for name, a in sorted(artifact.arrays.items())
        },
        "files": {
            ARRAYS_FILE: sha256_bytes(npz_bytes),
            **{name: sha256_bytes(data) for name, data in sorted(artifact.files.items())},
        },
    }


def artifact_files(artifact: ModelArtifact) -> dict[str, bytes]:
    """Every file of a saved version, as stored: for copies such as MLflow's."""
    return {
        ARRAYS_FILE: write_npz(artifact.arrays),
        **artifact.files,
        MANIFEST_FILE: _dump(dict(artifact.manifest)),
    }


def items_file(movies: pd.DataFrame, item_ids: Sequence[int]) -> bytes:
    """Titles and genres of an artifact's items, so serving needs no dataset at hand."""
    known = movies.set_index("item_id")
    rows = []
    for item in item_ids:
        title, genres = (known.at[item, "title"], known.at[item, "genres"]) if item in known.index else ("", "")
        rows.append({"movie_id": int(item), "title": str(title), "genres": str(genres)})
    return json.dumps(rows, ensure_ascii=False, sort_keys=True).encode()


def read_items(artifact: ModelArtifact) -> tuple[dict[int, str], dict[int, str]]:
    """Titles and genres by movie id, from :func:`items_file`'s bytes; empty without the file."""
    try:
        rows = json.loads(artifact.files.get(ITEMS_FILE, b"[]"))
        titles = {int(r["movie_id"]): r["title"] for r in rows}
        genres = {int(r["movie_id"]): r.get("genres", "") for r in rows}
    except (ValueError, TypeError, KeyError) as exc:
        raise ArtifactError(f"{artifact.name} {artifact.version}: {ITEMS_FILE} is malformed: {exc!r}") from None
    return titles, genres


def model_prefix(name: str, version: str) -> str:
    return f"models/{name}/{version}/"


class VersionExists(ArtifactError):
    """A version with this name is already stored; versions are immutable."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__(f"{name} {version} is already stored; a version is never rewritten")
        self.name, self.version = name, version


def save_artifact(
    store: ArtifactStore, artifact: ModelArtifact, *, created_at: datetime | None = None
) -> ModelArtifact:
    """Upload arrays first, then the manifest: a manifest is only visible once its arrays are.

    A version is never rewritten (it may be the live one): the same arrays saved twice
    in one second name the same version, and the second save raises VersionExists.
    """
    created_at = created_at or datetime.now(timezone.utc)
    npz_bytes = write_npz(artifact.arrays)
    manifest = build_manifest(artifact, npz_bytes, created_at)
    prefix = model_prefix(artifact.name, manifest["version"])
    if store.exists(prefix + MANIFEST_FILE):
        raise VersionExists(artifact.name, manifest["version"])
    store.write_bytes(prefix + ARRAYS_FILE, npz_bytes)
    for filename, data in sorted(artifact.files.items()):
        store.write_bytes(prefix + filename, data, content_type="application/json")
    store.write_bytes(prefix + MANIFEST_FILE, _dump(manifest), content_type="application/json")
    return _with_manifest(artifact, manifest)


def read_manifest(store: ArtifactStore, name: str, version: str) -> dict[str, Any]:
    try:
        raw = store.read_bytes(model_prefix(name, version) + MANIFEST_FILE)
    except ArtifactNotFound:
        raise ArtifactError(f"model {name!r} has no version {version!r} in {store.describe()}") from None
    try:
        return json.loads(raw)
    except ValueError:
        raise ArtifactError(f"manifest of {name} {version} is not valid JSON") from None


def load_artifact(store: ArtifactStore, name: str, version: str | None = None) -> ModelArtifact:
    """Load and verify a version (the live one when ``version`` is None)."""
    version = version or live_version(store, name)
    if version is None:
        raise ArtifactError(f"model {name!r} has no live version in {store.describe()}; run `movierec train`")
    manifest = read_manifest(store, name, version)
    prefix = model_prefix(name, version)
    files: dict[str, bytes] = {}
    for filename, expected in manifest.get("files", {}).items():
        try:
            data = store.read_bytes(prefix + filename)
        except ArtifactNotFound:
            raise ArtifactError(f"{name} {version}: {filename} listed in the manifest is missing") from None
        actual = sha256_bytes(data)
        if actual != expected:
            raise ArtifactError(
                f"{name} {version}: checksum mismatch for {filename} "
                f"(manifest {expected[:12]}..., file {actual[:12]}...); refusing to load it"
            )
        files[filename] = data
    if ARRAYS_FILE not in files:
        raise ArtifactError(f"{name} {version}: manifest lists no {ARRAYS_FILE}")
    arrays = read_npz(files.pop(ARRAYS_FILE))
    return ModelArtifact(
        name=manifest["name"],
        kind=manifest["kind"],
        arrays=arrays,
        params=manifest.get("params", {}),
        metrics=manifest.get("metrics", {}),
        data_fingerprint=manifest.get("data_fingerprint", ""),
        version=manifest["version"],
        created_at=manifest.get("created_at", ""),
        manifest=manifest,
        files=files,
    )


@dataclass(frozen=True)
class LivePointer:
    """The content of ``models/<name>/LIVE``: what serves, and what served before it."""

    version: str
    previous: str | None
    updated_at: str | None


def read_pointer(store: ArtifactStore, name: str) -> LivePointer | None:
    try:
        raw = json.loads(store.read_bytes(f"models/{name}/{LIVE_POINTER}"))
    except ArtifactNotFound:
        return None
    except ValueError:
        raise ArtifactError(f"live pointer of model {name!r} is not valid JSON") from None
    return LivePointer(raw["version"], raw.get("previous"), raw.get("updated_at"))


def live_version(store: ArtifactStore, name: str) -> str | None:
    pointer = read_pointer(store, name)
    return pointer.version if pointer else None


def set_live_version(store: ArtifactStore, name: str, version: str, *, previous: str | None = None) -> None:
    """One small write flips serving to ``version``; refuses a version whose manifest is absent."""
    read_manifest(store, name, version)
    pointer = {"version": version, "previous": previous, "updated_at": datetime.now(timezone.utc).isoformat()}
    store.write_bytes(f"models/{name}/{LIVE_POINTER}", _dump(pointer), content_type="application/json")


def list_versions(store: ArtifactStore, name: str) -> list[str]:
    versions = {
        key.split("/")[2]
        for key in store.list(f"models/{name}/")
        if key.endswith("/" + MANIFEST_FILE) and len(key.split("/")) == 4
    }
    return sorted(versions)


def _with_manifest(artifact: ModelArtifact, manifest: dict[str, Any]) -> ModelArtifact:
    return replace(artifact, version=manifest["version"], created_at=manifest["created_at"], manifest=manifest)


def _dump(obj: Any) -> bytes:
    return json.dumps(obj, indent=2, sort_keys=True).encode()
