"""Locate a MovieLens dataset on disk, downloading and verifying the official archive if needed.

Either the user points ``movielens_dir`` at an unpacked copy, which is verified in
place, or the archive is downloaded from GroupLens into a private temporary folder
inside ``cache_dir``, unpacked there, verified file by file against the sha256 in
:mod:`movierec.data.registry`, and only then renamed to ``cache_dir/<name>``. The
rename is atomic, so the cache holds either a complete verified dataset or nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import zipfile
import zlib
from pathlib import Path

import requests

from movierec.data.registry import DatasetSpec, dataset_spec
from movierec.errors import DataError

log = logging.getLogger(__name__)

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/"
_CHUNK_BYTES = 1 << 16


def fetch_dataset(
    name: str,
    *,
    movielens_dir: Path | None,
    cache_dir: Path,
    base_url: str = GROUPLENS_URL,
    timeout: float = 60.0,
    allow_modified: bool = False,
) -> Path:
    """Return the folder holding dataset ``name``'s files, each verified against its sha256.

    ``movielens_dir`` may be the unpacked dataset folder itself or a folder containing
    it (``.../data`` holding ``ml-100k/``). When it is None, a verified copy in
    ``cache_dir/<name>`` is reused, or the archive at ``base_url`` is downloaded
    (``timeout`` seconds per network operation).

    Raises DataError for an unknown name, a missing or altered file, an HTTP or network
    failure, a corrupt or incomplete archive; a failed download leaves nothing in the cache.
    With ``allow_modified``, a ``movielens_dir`` copy whose files are all present but
    differ from the official ones is used anyway, with a warning naming each file and
    its checksums (downloads are always verified).
    """
    spec = dataset_spec(name)
    if movielens_dir is not None:
        return _verified_local_copy(spec, Path(movielens_dir), allow_modified=allow_modified)

    target = Path(cache_dir) / spec.name
    if target.is_dir():
        problems = _problems(target, spec)
        if not problems:
            return target
        log.warning("cached %s is unusable (%s); downloading again", target, "; ".join(problems))
    return _download_into_cache(spec, Path(cache_dir), base_url, timeout)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _problems(folder: Path, spec: DatasetSpec) -> list[str]:
    """What is wrong with ``folder`` as a copy of ``spec``: one line per bad required file."""
    problems = []
    for file_name, expected in spec.required.items():
        path = folder / file_name
        if not path.is_file():
            problems.append(f"{file_name} is missing")
            continue
        actual = sha256_of(path)
        if actual != expected:
            problems.append(f"{file_name} has sha256 {actual}, expected {expected}")
    return problems


def _verified_local_copy(spec: DatasetSpec, movielens_dir: Path, *, allow_modified: bool = False) -> Path:
    folder = movielens_dir
    if folder.name != spec.name and (folder / spec.name).is_dir():
        folder = folder / spec.name
    if not folder.is_dir():
        raise DataError(
            f"MovieLens folder {movielens_dir} does not exist; point MOVIELENS_DIR at the "
            f"unpacked {spec.archive}, or unset it to download the official archive"
        )
    problems = _problems(folder, spec)
    missing = [p for p in problems if p.endswith(" is missing")]
    if problems and allow_modified and not missing:
        log.warning(
            "%s is not an unmodified copy of %s: %s; loading it anyway (--allow-modified)",
            folder,
            spec.name,
            "; ".join(problems),
        )
        return folder
    if problems:
        raise DataError(
            f"{folder} is not an unmodified copy of {spec.name}: {'; '.join(problems)}. "
            f"Point MOVIELENS_DIR at a fresh unpacked {spec.archive} from GroupLens, "
            "unset it to download and verify the official archive, "
            "or pass --allow-modified to load this copy anyway (with a warning)"
        )
    return folder


def _download_into_cache(spec: DatasetSpec, cache_dir: Path, base_url: str, timeout: float) -> Path:
    url = base_url.rstrip("/") + "/" + spec.archive
    target = cache_dir / spec.name
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        # The scratch folder lives inside cache_dir so the final rename stays on one
        # file system (and is therefore atomic); it is removed whatever happens.
        with tempfile.TemporaryDirectory(dir=cache_dir, prefix=f".{spec.name}-") as scratch:
            archive = Path(scratch) / spec.archive
            _download(url, archive, spec, timeout)
            unpacked = _extract(archive, Path(scratch) / "unpacked", spec, url)
            problems = _problems(unpacked, spec)
            if problems:
                raise DataError(
                    f"the archive downloaded from {url} does not hold the expected {spec.name} "
                    f"files: {'; '.join(problems)}. Nothing was cached; retry later, or download "
                    f"{spec.archive} yourself and set MOVIELENS_DIR to the unpacked folder"
                )
            _publish(unpacked, target, spec)
    except OSError as error:
        raise DataError(
            f"cannot write the {spec.name} cache under {cache_dir}: {error}. "
            "Choose a writable folder (MOVIEREC_DATA_CACHE) or set MOVIELENS_DIR"
        ) from error
    log.info("downloaded and verified %s into %s", spec.name, target)
    return target


def _download(url: str, destination: Path, spec: DatasetSpec, timeout: float) -> None:
    hint = (
        f"Check the network, or download {spec.archive} yourself, unzip it and set "
        f"MOVIELENS_DIR to the unpacked {spec.name} folder"
    )
    log.info("downloading %s", url)
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    try:
        with requests.get(url, stream=True, timeout=timeout) as response:
            response.raise_for_status()
            with destination.open("wb") as out:
                for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
                    size += len(chunk)
                    if size > spec.max_archive_bytes:
                        raise DataError(
                            f"{url} is larger than {spec.max_archive_bytes} bytes, far more than "
                            f"{spec.archive} should be; refusing it. {hint}"
                        )
                    out.write(chunk)
                    md5.update(chunk)
    except requests.HTTPError as error:
        status = error.response.status_code if error.response is not None else "?"
        raise DataError(f"downloading {url} failed with HTTP {status}. {hint}") from error
    except requests.RequestException as error:
        raise DataError(f"downloading {url} failed: {error}. {hint}") from error
    if spec.archive_md5 is not None and md5.hexdigest() != spec.archive_md5:
        # Not fatal: GroupLens may re-pack the same files; the per-file sha256 decide.
        log.warning(
            "%s has md5 %s, not the published %s; checking the unpacked files",
            url,
            md5.hexdigest(),
            spec.archive_md5,
        )


def _extract(archive: Path, destination: Path, spec: DatasetSpec, url: str) -> Path:
    """Unpack ``archive`` and return the folder holding the dataset's files."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            # ZipFile.extractall drops absolute paths and "..", so members cannot escape.
            bundle.extractall(destination)
    except (zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise DataError(
            f"the file downloaded from {url} is not a readable zip archive ({error}); "
            "the download was probably truncated or corrupted. Nothing was cached; retry"
        ) from error
    nested = destination / spec.name
    return nested if nested.is_dir() else destination


def _publish(unpacked: Path, target: Path, spec: DatasetSpec) -> None:
    if target.is_dir() and _problems(target, spec):  # a damaged earlier copy
        shutil.rmtree(target)
    try:
        os.rename(unpacked, target)
    except OSError:
        # Another process may have published a verified copy first; keep theirs.
        if target.is_dir() and not _problems(target, spec):
            return
        raise
