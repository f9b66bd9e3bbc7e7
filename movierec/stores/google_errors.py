"""Which Google client errors mean "the backend is unavailable right now".

Each Google adapter turns these into :class:`movierec.errors.BackendUnavailable`
(a 503 with Retry-After for serving, a clear message for the jobs), so callers never
see a library's exception. The common set is here once; an adapter adds what only its
transport raises (Firestore's gRPC errors, for instance).
"""

from __future__ import annotations

import requests
from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

UNAVAILABLE: tuple[type[BaseException], ...] = (
    gexc.ServerError,  # 5xx / UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL, UNKNOWN
    gexc.TooManyRequests,  # 429 / RESOURCE_EXHAUSTED
    gexc.Unauthorized,  # 401/403: the service account lacks a role, or the resource is not ours
    gexc.Forbidden,
    gexc.RetryError,  # the retry deadline passed
    auth_exc.TransportError,  # credentials could not be refreshed
    auth_exc.RefreshError,
    requests.exceptions.RequestException,  # HTTP clients: connection refused, read timeout
    ConnectionError,
    TimeoutError,
)
