"""HTTP routes of the demo page: the page, its static files, and the JSON it reads.

``GET /``                the page (``static/index.html``)
``GET /assets/<name>``   ``app.js`` or ``style.css``: a fixed allow-list, so no request
                         path ever reaches the file system (no traversal to guard)
``GET /api/ab``          the live A/B panel (:mod:`movierec.web.live_ab`)
``GET /api/users``       user ids the default model knows, for the page's picker
``GET /api/movies…``     title search, a movie, a user's ratings (:mod:`movierec.web.movies`)
``GET /api/auth``        the identity mode, and the Firebase Auth emulator the page may sign
                         a test user in on (``static/signin.js``; only with an emulator)

Recommendations and feedback go through the service's own ``/recommend`` and
``/feedback``: the page is a client of the API like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any, Protocol

import flask
import numpy as np

from movierec.errors import BackendUnavailable, MovierecError
from movierec.models.catalogue import Catalogue
from movierec.responses import error_response, json_response
from movierec.stores.ports import EventLog
from movierec.web import movies

log = logging.getLogger(__name__)

PAGE = "index.html"
ASSETS: Mapping[str, str] = MappingProxyType(
    {
        PAGE: "text/html; charset=utf-8",
        "app.js": "text/javascript; charset=utf-8",
        "signin.js": "text/javascript; charset=utf-8",
        "style.css": "text/css; charset=utf-8",
    }
)
# Not /static/: Flask, under functions-framework, claims that prefix for its own folder.
ASSET_PREFIX = "/assets/"
API_PATHS = ("/api/ab", "/api/users", "/api/auth")
MAX_PICKER_USERS = 1000
# The page loads nothing from another origin, and the browser is told to refuse it.
SECURITY_HEADERS: Mapping[str, str] = MappingProxyType(
    {
        "Content-Security-Policy": (
            "default-src 'self'; img-src 'self' data:; base-uri 'none'; "
            "form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
)


def is_web_path(path: str) -> bool:
    """Whether ``path`` (without a trailing slash) is one of the page's routes."""
    return path == "/" or path.startswith(ASSET_PREFIX) or path in API_PATHS or movies.is_movie_path(path)


@cache
def asset(name: str) -> bytes:
    """The bytes of a static file shipped with the package; ``name`` must be in ASSETS."""
    if name not in ASSETS:
        raise KeyError(name)
    return resources.files("movierec.web").joinpath("static").joinpath(name).read_bytes()


def spread(ids: np.ndarray, limit: int = MAX_PICKER_USERS) -> list[int]:
    """At most ``limit`` of ``ids``, evenly spaced over the sorted ids (all when fewer)."""
    ordered = np.unique(np.asarray(ids, dtype=np.int64))
    if len(ordered) > limit:
        ordered = ordered[np.linspace(0, len(ordered) - 1, limit).round().astype(np.int64)]
    return [int(i) for i in ordered]


def security_headers(connect_to: str | None = None) -> Mapping[str, str]:
    """SECURITY_HEADERS, with ``connect_to`` (an origin) added to what scripts may fetch."""
    if connect_to is None:
        return SECURITY_HEADERS
    csp = SECURITY_HEADERS["Content-Security-Policy"] + f"; connect-src 'self' {connect_to}"
    return MappingProxyType({**SECURITY_HEADERS, "Content-Security-Policy": csp})


class Panel(Protocol):
    """What the page's A/B panel is read from (:class:`movierec.web.live_ab.LiveAB`)."""

    def snapshot(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class WebPages:
    """The page's routes over a live A/B panel and a source of known user ids."""

    live_ab: Panel
    user_ids: Callable[[], list[int]]
    catalogue: Callable[[], Catalogue | None] = lambda: None
    auth_mode: str = "none"
    # http://host:port of the Firebase Auth emulator, or None. Only then does the page offer
    # its test sign-in, and only then may its scripts reach that one other origin.
    auth_emulator: str | None = None

    def handle(self, path: str, request: flask.Request) -> flask.Response:
        if request.method not in ("GET", "HEAD"):
            return error_response(405, "method_not_allowed", "use GET", {"Allow": "GET, HEAD"})
        if path == "/":
            return _asset(PAGE, self.auth_emulator)
        if path.startswith(ASSET_PREFIX):
            return _asset(path[len(ASSET_PREFIX):], self.auth_emulator)
        if path == "/api/auth":
            return json_response(200, {"mode": self.auth_mode, "emulator": self.auth_emulator})
        if path == "/api/ab":
            return self._ab()  # JSON answers are no-store (movierec.responses)
        if self.auth_mode == "firebase" and (path == "/api/users" or movies.RATINGS_PATH.fullmatch(path)):
            # Who the users are and what they rated is exactly what the identity mode protects:
            # the page's user list and rating history are for the trusting local demo only.
            return error_response(403, "forbidden", "user lists and ratings are not served with MOVIEREC_AUTH=firebase")
        if path == "/api/users":
            return self._users()
        if movies.is_movie_path(path):
            return movies.handle(path, request, self.catalogue())
        return error_response(404, "not_found", f"no route {request.path}")

    def _ab(self) -> flask.Response:
        try:
            return json_response(200, self.live_ab.snapshot())
        except BackendUnavailable as exc:
            log.warning("A/B panel unavailable: %s", exc)
            return error_response(503, "unavailable", "the event log cannot be read; retry later")
        except MovierecError as exc:  # bad events or a broken experiment: say which
            log.error("A/B panel failed: %s", exc)
            return error_response(500, "analysis_failed", str(exc))
        except Exception:  # the client gets JSON, the logs get the traceback
            log.exception("A/B panel failed")
            return error_response(500, "internal", "internal error")

    def _users(self) -> flask.Response:
        return json_response(200, {"user_ids": self.user_ids()})


def _asset(name: str, connect_to: str | None = None) -> flask.Response:
    if name not in ASSETS:
        return error_response(404, "not_found", f"no asset {name!r}")
    response = flask.Response(asset(name), status=200, content_type=ASSETS[name])
    response.headers["Cache-Control"] = "no-cache"
    response.headers.update(security_headers(connect_to))
    return response


class PanelOnFirstUse:
    """A :class:`~movierec.web.live_ab.LiveAB` over an in-memory DuckDB, built when first read.

    The warehouse is owned by this process (see :mod:`movierec.web.live_ab` for why
    not the CLI's warehouse file). Built lazily because its imports (the statistics
    engine, DuckDB) take about a second, which the Cloud Run functions, built by the
    same code but never serving the page, must not add to their cold starts.
    """

    def __init__(self, events: EventLog) -> None:
        self.events = events
        self._panel: Panel | None = None
        self._lock = threading.Lock()

    def snapshot(self) -> dict[str, Any]:
        if self._panel is None:
            with self._lock:
                if self._panel is None:
                    from movierec.stores.factory import make_private_warehouse
                    from movierec.web.live_ab import LiveAB

                    self._panel = LiveAB(self.events, make_private_warehouse())
        return self._panel.snapshot()


def build_pages(
    events: EventLog,
    known_user_ids: Callable[[], np.ndarray | None],
    default_model: Callable[[], movies.Source | None] = lambda: None,
    *,
    auth_mode: str = "none",
    auth_emulator: str | None = None,
) -> WebPages:
    """The page's routes over a serving process's event log and the users its model knows.

    ``known_user_ids()`` returns the default model's user ids, or None while no model
    is loaded; the picker shows an even spread of them. ``default_model()`` is what the
    movie routes read (None while no model is loaded). ``auth_emulator`` (host:port of
    the Firebase Auth emulator) is offered to the page only with ``auth_mode="firebase"``.
    """

    def user_ids() -> list[int]:
        ids = known_user_ids()
        return spread(ids) if ids is not None else []

    emulator = None
    if auth_mode == "firebase" and auth_emulator:
        emulator = auth_emulator if "://" in auth_emulator else f"http://{auth_emulator}"
    return WebPages(PanelOnFirstUse(events), user_ids, movies.CatalogueOfLiveModel(default_model), auth_mode, emulator)
