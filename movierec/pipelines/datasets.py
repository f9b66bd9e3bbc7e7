"""Validated dataset versions in the artifact store: the retrain job trains on exactly
the bytes the retrain workflow validated.

Layout (keys of the artifact store)::

    datasets/<name>/<version>/<file>          the files the loaders read, as validated
    datasets/<name>/<version>/manifest.json   dataset, version, created_at, sha256 and size of each file
    datasets/<name>/VALIDATED                 {"version", "updated_at"}: the version to train on

A version is named by its content: the first 16 hex digits of the sha256 of the
manifest's sorted ``file sha256`` lines, so publishing the same files again names the
same version and uploads nothing. Publishing writes the files, then the manifest,
reads every file back against it, and only then moves ``VALIDATED`` (a crash in
between leaves the previous version in force).

Reading downloads a version into the data cache and checks every file against the
manifest's sha256 before anything is loaded, refusing on a mismatch; the loaders then
check the files against the official checksums of :mod:`movierec.data.registry` too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from movierec.data.fetch import sha256_of
from movierec.data.registry import DatasetSpec, dataset_spec
from movierec.errors import DataError
from movierec.stores.ports import ArtifactNotFound, ArtifactStore

log = logging.getLogger(__name__)

PREFIX = "datasets"
MANIFEST = "manifest.json"
POINTER = "VALIDATED"
# MOVIEREC_DATASET_VERSION's value that means "the version VALIDATED points to".
LATEST_VALIDATED = "validated"


def version_prefix(name: str, version: str) -> str:
    return f"{PREFIX}/{name}/{version}/"


def pointer_key(name: str) -> str:
    return f"{PREFIX}/{name}/{POINTER}"


def content_version(files: dict[str, str]) -> str:
    """The version id of a set of files (name -> sha256)."""
    lines = "".join(f"{name} {digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()[:16]


def publish_dataset(store: ArtifactStore, spec: DatasetSpec, folder: Path, *, now: float) -> str:
    """Upload the required files of a validated copy of ``spec`` in ``folder``; return its version.

    The caller has validated ``folder`` (``movierec data publish`` loads, cleans and
    validates it first). ``VALIDATED`` moves to this version once every file reads back
    with its sha256.
    """
    digests = {name: sha256_of(folder / name) for name in spec.required}
    version = content_version(digests)
    prefix = version_prefix(spec.name, version)
    if not store.exists(prefix + MANIFEST):
        for name in spec.required:
            store.write_bytes(prefix + name, (folder / name).read_bytes())
        manifest = {
            "dataset": spec.name,
            "version": version,
            "created_at": datetime.fromtimestamp(now, tz=timezone.utc).isoformat(),
            "files": {name: {"sha256": digests[name], "bytes": (folder / name).stat().st_size} for name in spec.required},
        }
        store.write_bytes(prefix + MANIFEST, json.dumps(manifest, indent=2).encode(), "application/json")
    for name, expected in read_manifest(store, spec.name, version).items():
        actual = hashlib.sha256(store.read_bytes(prefix + name)).hexdigest()
        if actual != expected:
            raise DataError(f"{store.describe()}/{prefix}{name} read back with sha256 {actual}, expected {expected}")
    pointer = {"version": version, "updated_at": datetime.fromtimestamp(now, tz=timezone.utc).isoformat()}
    store.write_bytes(pointer_key(spec.name), json.dumps(pointer).encode(), "application/json")
    return version


def validated_version(store: ArtifactStore, name: str) -> str:
    """The version ``VALIDATED`` points to; DataError saying how to publish one otherwise."""
    try:
        return str(_json(store, pointer_key(name))["version"])
    except ArtifactNotFound:
        raise DataError(
            f"no validated version of {name} in {store.describe()}/{PREFIX}/{name}/: publish one with "
            "`movierec data publish` (the Retrain workflow does before it starts the job), or unset "
            "MOVIEREC_DATASET_VERSION to download the official archive"
        ) from None


def read_manifest(store: ArtifactStore, name: str, version: str) -> dict[str, str]:
    """File name -> sha256 of a published version."""
    try:
        manifest = _json(store, version_prefix(name, version) + MANIFEST)
    except ArtifactNotFound:
        raise DataError(f"{name} has no published version {version!r} in {store.describe()}/{PREFIX}/{name}/") from None
    return {file: str(entry["sha256"]) for file, entry in manifest["files"].items()}


def download_dataset(store: ArtifactStore, name: str, version: str, cache_dir: Path) -> Path:
    """A local folder holding published ``version`` of ``name`` (``validated``: the one
    ``VALIDATED`` points to), every file checked against the manifest's sha256.

    The copy is kept in ``cache_dir/published/<name>/<version>`` (checked again on reuse);
    a file that does not match refuses the version with a DataError naming it.
    """
    spec = dataset_spec(name)
    if version == LATEST_VALIDATED:
        version = validated_version(store, name)
    expected = read_manifest(store, name, version)
    missing = sorted(set(spec.required) - set(expected))
    if missing:
        raise DataError(f"published {name} {version} lacks {', '.join(missing)}; publish it again")
    target = cache_dir / "published" / name / version
    if _matches(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{version}-"))
    try:
        for file, digest in expected.items():
            key = version_prefix(name, version) + file
            data = store.read_bytes(key)
            actual = hashlib.sha256(data).hexdigest()
            if actual != digest:
                raise DataError(
                    f"{store.describe()}/{key} has sha256 {actual}, but the manifest of {name} {version} "
                    f"says {digest}: the published copy changed after it was validated; refusing to train "
                    "on it. Publish a freshly validated copy (`movierec data publish`, or run the Retrain workflow)"
                )
            (scratch / file).write_bytes(data)
        if target.is_dir():  # a damaged earlier copy
            shutil.rmtree(target)
        os.rename(scratch, target)  # one file system: the cache holds a whole version or none
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    log.info("dataset %s %s from %s, verified against its manifest", name, version, store.describe())
    return target


def _matches(folder: Path, expected: dict[str, str]) -> bool:
    return all((folder / f).is_file() and sha256_of(folder / f) == d for f, d in expected.items())


def _json(store: ArtifactStore, key: str) -> dict[str, Any]:
    try:
        value = json.loads(store.read_bytes(key))
    except json.JSONDecodeError:
        raise DataError(f"{store.describe()}/{key} is not valid JSON") from None
    if not isinstance(value, dict):
        raise DataError(f"{store.describe()}/{key} is not a JSON object")
    return value
