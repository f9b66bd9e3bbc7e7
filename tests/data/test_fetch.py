"""fetch_dataset against a real HTTP server on 127.0.0.1 serving archives built here."""

from __future__ import annotations

import io
import logging
import shutil
import socket
import threading
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from movierec.data import DATASETS, fetch_dataset, load_ratings
from movierec.errors import DataError

ML100K_FILES = ("u.data", "u.item", "u.genre", "README")


class ArchiveServer:
    """A real HTTP server on 127.0.0.1 serving in-memory files; counts requests per path."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.hits: Counter[str] = Counter()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                server.hits[name] += 1
                body = server.files.get(name)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def __enter__(self) -> ArchiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()


@pytest.fixture
def archive_server() -> Iterator[ArchiveServer]:
    with ArchiveServer() as server:
        yield server


def build_zip(files: Mapping[str, bytes], folder: str) -> bytes:
    """A zip holding ``files`` under ``folder/``, as GroupLens packs its archives."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{folder}/", b"")
        for name, content in files.items():
            archive.writestr(f"{folder}/{name}", content)
    return buffer.getvalue()


@pytest.fixture
def ml100k_files(movielens_root: Path) -> dict[str, bytes]:
    """The real ml-100k files an archive needs, read from the reference copy."""
    return {name: (movielens_root / "ml-100k" / name).read_bytes() for name in ML100K_FILES}


def _cache_entries(cache_dir: Path) -> list[str]:
    return sorted(path.name for path in cache_dir.iterdir()) if cache_dir.exists() else []


def test_downloads_verifies_and_reuses_the_cache(
    archive_server: ArchiveServer,
    ml100k_files: dict[str, bytes],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    archive_server.files["ml-100k.zip"] = build_zip(ml100k_files, "ml-100k")
    cache = tmp_path / "cache"

    with caplog.at_level(logging.WARNING, logger="movierec.data.fetch"):
        folder = fetch_dataset(
            "ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url
        )

    assert folder == cache / "ml-100k"
    for name, content in ml100k_files.items():
        assert (folder / name).read_bytes() == content
    assert _cache_entries(cache) == ["ml-100k"]  # no scratch folder or partial zip left
    assert len(load_ratings(folder, "ml-100k")) == 100_000
    # The archive built here is not GroupLens's zip: reported, yet accepted on file hashes.
    assert "not the published 0e33842e24a9c977be4e0107933c0723" in caplog.text

    again = fetch_dataset(
        "ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url
    )

    assert again == folder
    assert archive_server.hits["ml-100k.zip"] == 1


def test_a_corrupted_cache_is_downloaded_again(
    archive_server: ArchiveServer, ml100k_files: dict[str, bytes], tmp_path: Path
) -> None:
    archive_server.files["ml-100k.zip"] = build_zip(ml100k_files, "ml-100k")
    cache = tmp_path / "cache"
    stale = cache / "ml-100k"
    stale.mkdir(parents=True)
    (stale / "u.data").write_bytes(b"1\t1\t5\t881250949\n")

    folder = fetch_dataset(
        "ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url
    )

    assert archive_server.hits["ml-100k.zip"] == 1
    assert (folder / "u.data").read_bytes() == ml100k_files["u.data"]


def test_wrong_checksum_is_rejected_and_nothing_is_cached(
    archive_server: ArchiveServer, ml100k_files: dict[str, bytes], tmp_path: Path
) -> None:
    tampered = dict(ml100k_files)
    tampered["u.data"] = ml100k_files["u.data"].replace(b"\t3\t", b"\t5\t", 1)
    archive_server.files["ml-100k.zip"] = build_zip(tampered, "ml-100k")
    cache = tmp_path / "cache"

    with pytest.raises(DataError, match=r"u\.data has sha256 [0-9a-f]{64}, expected 06416e59"):
        fetch_dataset("ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url)

    assert _cache_entries(cache) == []


def test_truncated_archive_is_rejected_and_nothing_is_cached(
    archive_server: ArchiveServer, ml100k_files: dict[str, bytes], tmp_path: Path
) -> None:
    archive = build_zip(ml100k_files, "ml-100k")
    archive_server.files["ml-100k.zip"] = archive[: len(archive) // 2]
    cache = tmp_path / "cache"

    with pytest.raises(DataError, match=r"not a readable zip archive.*truncated"):
        fetch_dataset("ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url)

    assert _cache_entries(cache) == []


def test_corrupt_member_data_is_rejected(
    archive_server: ArchiveServer, ml100k_files: dict[str, bytes], tmp_path: Path
) -> None:
    archive = bytearray(build_zip(ml100k_files, "ml-100k"))
    # Flip bytes inside u.data's compressed stream: the zip directory still parses,
    # so only the CRC/inflate check while extracting can notice.
    start = archive.index(b"ml-100k/u.data") + 200
    archive[start : start + 64] = bytes(b ^ 0xFF for b in archive[start : start + 64])
    archive_server.files["ml-100k.zip"] = bytes(archive)
    cache = tmp_path / "cache"

    with pytest.raises(DataError, match="not a readable zip archive"):
        fetch_dataset("ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url)

    assert _cache_entries(cache) == []


def test_archive_missing_a_required_member_is_rejected(
    archive_server: ArchiveServer, ml100k_files: dict[str, bytes], tmp_path: Path
) -> None:
    without_items = {name: data for name, data in ml100k_files.items() if name != "u.item"}
    archive_server.files["ml-100k.zip"] = build_zip(without_items, "ml-100k")
    cache = tmp_path / "cache"

    with pytest.raises(DataError, match=r"u\.item is missing"):
        fetch_dataset("ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url)

    assert _cache_entries(cache) == []


def test_http_error_is_reported_with_the_url_and_a_way_out(
    archive_server: ArchiveServer, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"

    with pytest.raises(DataError, match=r"ml-100k\.zip failed with HTTP 404.*MOVIELENS_DIR"):
        fetch_dataset("ml-100k", movielens_dir=None, cache_dir=cache, base_url=archive_server.url)

    assert archive_server.hits["ml-100k.zip"] == 1
    assert _cache_entries(cache) == []


def test_unreachable_server_is_a_data_error(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nobody listens on once closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(DataError, match=r"downloading .*ml-100k\.zip failed"):
        fetch_dataset(
            "ml-100k",
            movielens_dir=None,
            cache_dir=tmp_path / "cache",
            base_url=f"http://127.0.0.1:{port}/",
            timeout=5,
        )


def test_unknown_dataset_lists_the_known_ones(
    archive_server: ArchiveServer, tmp_path: Path
) -> None:
    with pytest.raises(
        DataError, match=r"unknown MovieLens dataset 'ml-1m'.*ml-100k, ml-latest-small"
    ):
        fetch_dataset("ml-1m", movielens_dir=None, cache_dir=tmp_path, base_url=archive_server.url)

    assert sum(archive_server.hits.values()) == 0


def test_movielens_dir_is_verified_in_place(movielens_root: Path, tmp_path: Path) -> None:
    folder = movielens_root / "ml-100k"

    assert fetch_dataset("ml-100k", movielens_dir=folder, cache_dir=tmp_path) == folder
    # The folder holding the dataset folder is accepted too.
    assert fetch_dataset("ml-100k", movielens_dir=movielens_root, cache_dir=tmp_path) == folder
    assert _cache_entries(tmp_path) == []


def _copy_required(movielens_root: Path, destination: Path) -> Path:
    destination.mkdir()
    for name in DATASETS["ml-100k"].required:
        shutil.copyfile(movielens_root / "ml-100k" / name, destination / name)
    return destination


def test_movielens_dir_with_a_missing_file(movielens_root: Path, tmp_path: Path) -> None:
    copy = _copy_required(movielens_root, tmp_path / "ml-100k")
    (copy / "u.item").unlink()

    with pytest.raises(DataError, match=r"u\.item is missing.*MOVIELENS_DIR"):
        fetch_dataset("ml-100k", movielens_dir=copy, cache_dir=tmp_path / "cache")


def test_movielens_dir_with_a_corrupted_file(movielens_root: Path, tmp_path: Path) -> None:
    copy = _copy_required(movielens_root, tmp_path / "ml-100k")
    with (copy / "u.data").open("ab") as stream:
        stream.write(b"999\t999999\t5\t881250949\n")

    with pytest.raises(DataError, match=r"u\.data has sha256 .*expected 06416e59.*MOVIELENS_DIR"):
        fetch_dataset("ml-100k", movielens_dir=copy, cache_dir=tmp_path / "cache")


def test_movielens_dir_that_does_not_exist(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        fetch_dataset("ml-100k", movielens_dir=tmp_path / "nowhere", cache_dir=tmp_path)


def test_a_modified_copy_loads_with_allow_modified_and_a_warning_naming_the_file(
    movielens_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    copy = _copy_required(movielens_root, tmp_path / "ml-100k")
    with (copy / "u.data").open("ab") as stream:
        stream.write(b"999\t999999\t5\t881250949\n")
    with pytest.raises(DataError, match=r"u\.data has sha256 .*--allow-modified"):
        fetch_dataset("ml-100k", movielens_dir=copy, cache_dir=tmp_path / "cache")

    with caplog.at_level("WARNING", logger="movierec.data.fetch"):
        assert fetch_dataset("ml-100k", movielens_dir=copy, cache_dir=tmp_path / "cache", allow_modified=True) == copy
    [warning] = [r.getMessage() for r in caplog.records]
    assert "u.data has sha256" in warning and "expected 06416e59" in warning and "--allow-modified" in warning


def test_allow_modified_still_refuses_a_copy_missing_a_file(movielens_root: Path, tmp_path: Path) -> None:
    copy = _copy_required(movielens_root, tmp_path / "ml-100k")
    (copy / "u.item").unlink()
    with pytest.raises(DataError, match=r"u\.item is missing"):
        fetch_dataset("ml-100k", movielens_dir=copy, cache_dir=tmp_path / "cache", allow_modified=True)


def test_a_modified_copy_trains_and_cleaning_reports_the_orphan_row(
    movielens_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from movierec.pipelines.train import prepare_data

    copy = _copy_required(movielens_root, tmp_path / "ml-100k")
    with (copy / "u.data").open("ab") as stream:
        stream.write(b"999\t999999\t5\t881250949\n")
    with caplog.at_level("WARNING"):
        prepared = prepare_data(
            "ml-100k", movielens_dir=copy, cache_dir=tmp_path / "cache", now=2e9, allow_modified=True
        )
    assert prepared.cleaning.unknown_movie_dropped == 1
    assert prepared.cleaning.unknown_movie_examples == ((999, 999999),)
    assert len(prepared.training.ratings) == 100_000
    summary = prepared.cleaning.summary()
    assert summary.startswith("cleaning dropped 1 of 100001 rows") and "(999, 999999)" in summary
    assert any(summary in r.getMessage() for r in caplog.records)
