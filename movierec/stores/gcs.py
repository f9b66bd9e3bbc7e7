"""ArtifactStore on a Cloud Storage bucket (or on ``gcp-storage-emulator`` in tests).

Cloud Storage makes an uploaded object visible only once the upload is complete,
so a single ``upload_from_string`` already gives the atomic write the port asks for.
Every call carries a short retry deadline and timeout: the library's defaults retry
for up to two minutes, far longer than an HTTP request may wait before answering 503.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry
from google.cloud import storage
from google.cloud.storage.retry import DEFAULT_RETRY

from movierec.errors import BackendUnavailable
from movierec.stores.google_errors import UNAVAILABLE
from movierec.stores.ports import ArtifactNotFound
from movierec.stores.validation import validate_key, validate_prefix

# Retry transient errors (429, 5xx, connection resets) for a few seconds only.
SHORT_RETRY: Retry = DEFAULT_RETRY.with_delay(initial=0.1, maximum=1.0, multiplier=2.0).with_timeout(4.0)
# (connect, read) seconds for one HTTP attempt.
TIMEOUT: tuple[float, float] = (2.0, 30.0)

# What "the backend could not serve this" looks like from google-cloud-storage.
# A 400 is our bug and propagates; a 404 is handled where it means something.
_UNAVAILABLE = UNAVAILABLE


class GCSArtifactStore:
    """Keys are object names below ``prefix`` in ``bucket``."""

    def __init__(
        self,
        client: storage.Client,
        bucket: str,
        prefix: str = "",
        retry: Retry = SHORT_RETRY,
        timeout: float | tuple[float, float] = TIMEOUT,
    ) -> None:
        if not bucket:
            raise ValueError("GCSArtifactStore needs a bucket name")
        self._client = client
        self._bucket = client.bucket(bucket)
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._retry = retry
        self._timeout = timeout

    def describe(self) -> str:
        # No trailing slash, as for a local folder: callers append "/<key>".
        return f"gs://{self._bucket.name}/{self.prefix}".rstrip("/")

    def _blob(self, key: str) -> storage.Blob:
        return self._bucket.blob(self.prefix + validate_key(key))

    @contextmanager
    def _guard(self, action: str, key: str) -> Iterator[None]:
        try:
            yield
        except _UNAVAILABLE as exc:
            raise BackendUnavailable(
                f"Cloud Storage {self.describe()}: {action} {key!r} failed: {exc}"
            ) from exc

    def read_bytes(self, key: str) -> bytes:
        blob = self._blob(key)
        with self._guard("read of", key):
            try:
                return blob.download_as_bytes(retry=self._retry, timeout=self._timeout)
            except gexc.NotFound:
                raise ArtifactNotFound(f"no artifact {key!r} in {self.describe()}") from None

    def write_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        blob = self._blob(key)
        with self._guard("write of", key):
            try:
                blob.upload_from_string(
                    data, content_type=content_type, retry=self._retry, timeout=self._timeout
                )
            except gexc.NotFound as exc:
                raise BackendUnavailable(
                    f"Cloud Storage bucket {self._bucket.name!r} does not exist: {exc}"
                ) from exc

    def exists(self, key: str) -> bool:
        blob = self._blob(key)
        with self._guard("lookup of", key):
            return bool(blob.exists(retry=self._retry, timeout=self._timeout))

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        with self._guard("listing of", prefix):
            blobs = self._client.list_blobs(
                self._bucket,
                prefix=self.prefix + prefix,
                retry=self._retry,
                timeout=self._timeout,
            )
            names = [blob.name for blob in blobs]
        return sorted(name[len(self.prefix) :] for name in names)

    def delete(self, key: str) -> None:
        """Remove the key; deleting a key that does not exist is not an error."""
        blob = self._blob(key)
        with self._guard("delete of", key), suppress(gexc.NotFound):
            blob.delete(retry=self._retry, timeout=self._timeout)
