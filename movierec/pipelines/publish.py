"""Publishing model versions safely: upload, verify, flip one pointer; promote, roll back, prune.

The order is what makes a crash harmless. ``save_artifact`` writes the arrays and side
files, then the manifest; :func:`upload_verified` reads the version back through
``load_artifact`` (sha256 of every file) and compares every array with the one trained;
only then does :func:`point_live` write the ``LIVE`` pointer, one small object whose
write is atomic in both stores (rename locally, a single object PUT on Cloud Storage).
:func:`publish` is that sequence, and the only way a newly trained version is made
live: ``movierec train`` and the weekly retrain both go through it.
Serving follows that pointer, so a crash before it leaves serving on the previous,
complete version, and a crash after it leaves serving on the new, verified one. A
version uploaded by a run that crashed is an orphan: never live, pruned later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from movierec.errors import ArtifactError
from movierec.models.artifact import (
    LivePointer,
    ModelArtifact,
    VersionExists,
    array_digest,
    list_versions,
    load_artifact,
    model_prefix,
    read_manifest,
    read_pointer,
    save_artifact,
    set_live_version,
)
from movierec.stores.ports import ArtifactStore


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    created_at: str
    live: bool
    previous: bool
    metrics: dict[str, Any]
    data_fingerprint: str


class UploadNotVerified(ArtifactError):
    """What the store returned is not what was trained; the upload has been deleted.

    Its own class so that a caller can tell a refused upload, which leaves serving as
    it was, from a failure to move the pointer afterwards.
    """


def publish(store: ArtifactStore, artifact: ModelArtifact, *, make_live: bool = True) -> ModelArtifact:
    """Upload and verify ``artifact``, then (with ``make_live``) point serving at it.

    Raises UploadNotVerified, with the pointer untouched, when the upload does not
    read back as trained.
    """
    saved = upload_verified(store, artifact)
    if make_live:
        point_live(store, saved.name, saved.version)
    return saved


def upload_verified(store: ArtifactStore, artifact: ModelArtifact) -> ModelArtifact:
    """Upload (arrays, side files, manifest), then read back and compare; UploadNotVerified
    (after deleting the upload) when what the store returns is not what was trained."""
    try:
        saved = save_artifact(store, artifact)
    except VersionExists as exists:
        # The same arrays were published within the same second: the stored version is
        # this one, and may be live, so it is verified but never deleted.
        return _verified(store, artifact, exists.name, exists.version, delete_on_failure=False)
    return _verified(store, artifact, saved.name, saved.version, delete_on_failure=True)


def _verified(
    store: ArtifactStore, artifact: ModelArtifact, name: str, version: str, *, delete_on_failure: bool
) -> ModelArtifact:
    try:
        loaded = load_artifact(store, name, version)  # verifies every sha256
        mismatched = [
            key
            for key, array in artifact.arrays.items()
            if key not in loaded.arrays or array_digest(loaded.arrays[key]) != array_digest(array)
        ]
        if mismatched:
            raise ArtifactError(f"{name} {version}: arrays differ after upload: {', '.join(mismatched)}")
    except ArtifactError as exc:
        if delete_on_failure:
            delete_version(store, name, version)
        raise UploadNotVerified(str(exc)) from exc
    return loaded


def point_live(store: ArtifactStore, name: str, version: str) -> LivePointer:
    """The one write that changes what serving uses; remembers the version it replaces."""
    current = read_pointer(store, name)
    previous = current.version if current and current.version != version else (current.previous if current else None)
    set_live_version(store, name, version, previous=previous)
    return LivePointer(version, previous, None)


def promote(store: ArtifactStore, name: str, version: str) -> LivePointer:
    """Make an existing ``version`` live after verifying its checksums."""
    if not list_versions(store, name):
        raise ArtifactError(f"unknown model {name!r}: no versions in {store.describe()}")
    load_artifact(store, name, version)
    return point_live(store, name, version)


def rollback(store: ArtifactStore, name: str, to: str | None = None) -> LivePointer:
    """Point serving back to the previous live version (or to ``to``)."""
    if not list_versions(store, name):
        raise ArtifactError(f"unknown model {name!r}: no versions in {store.describe()}")
    current = read_pointer(store, name)
    if current is None:
        raise ArtifactError(f"model {name!r} has no live version in {store.describe()}; nothing to roll back")
    target = to or current.previous
    if target is None:
        raise ArtifactError(
            f"model {name!r} has no previous version recorded; "
            f"pick one from `movierec model list {name}` and run `movierec model promote {name} VERSION`"
        )
    if target == current.version:
        raise ArtifactError(f"{name} {target} is already live")
    return promote(store, name, target)


def delete_version(store: ArtifactStore, name: str, version: str) -> None:
    """Manifest first: a half-deleted version is never listed or loaded as complete."""
    prefix = model_prefix(name, version)
    keys = store.list(prefix)
    for key in sorted(keys, key=lambda k: not k.endswith("/manifest.json")):
        store.delete(key)


def prune(store: ArtifactStore, name: str, keep: int) -> list[str]:
    """Delete all but the newest ``keep`` versions, never the live or the previous one.

    Versions sort by creation time (their names start with a UTC timestamp). Returns the
    deleted versions.
    """
    if keep < 1:
        raise ArtifactError(f"keep must be at least 1, got {keep}")
    pointer = read_pointer(store, name)
    protected = {pointer.version, pointer.previous} if pointer else set()
    versions = list_versions(store, name)
    doomed = [v for v in versions[: max(0, len(versions) - keep)] if v not in protected]
    for version in doomed:
        delete_version(store, name, version)
    return doomed


def model_names(store: ArtifactStore) -> list[str]:
    return sorted({key.split("/")[1] for key in store.list("models/") if key.count("/") >= 2})


def describe_versions(store: ArtifactStore, name: str) -> list[VersionInfo]:
    versions = list_versions(store, name)
    if not versions:
        known = ", ".join(model_names(store)) or "none"
        raise ArtifactError(f"unknown model {name!r}: no versions in {store.describe()} (models there: {known})")
    pointer = read_pointer(store, name)
    out = []
    for version in versions:
        manifest = read_manifest(store, name, version)
        out.append(
            VersionInfo(
                name=name,
                version=version,
                created_at=manifest.get("created_at", ""),
                live=pointer is not None and pointer.version == version,
                previous=pointer is not None and pointer.previous == version,
                metrics=dict(manifest.get("metrics", {})),
                data_fingerprint=manifest.get("data_fingerprint", ""),
            )
        )
    return out
