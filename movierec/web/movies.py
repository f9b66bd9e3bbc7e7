"""The page's movie routes, read from the default model's catalogue (:mod:`movierec.models.catalogue`).

``GET /api/movies?q=<text>&limit=<1..50>``     titles holding ``q``, most-rated first
``GET /api/movies/<movie_id>``                 one movie: genres, year, ratings, mean rating
``GET /api/users/<user_id>/ratings?limit=``    the user's training ratings, most recent first

Bad input is a 400 with a JSON message naming the parameter; an unknown movie a 404; no
model loaded yet a 503. Answers are bounded (``MAX_LIMIT``), whatever is asked.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import flask

from movierec.models.catalogue import Catalogue
from movierec.models.scoring import Scorer
from movierec.responses import error_response, json_response

MAX_QUERY_CHARS = 100
MAX_LIMIT = 50
DEFAULT_LIMIT = 10
MAX_ID = 10**12
MOVIE_PATH = re.compile(r"/api/movies/(?P<id>[^/]*)")
RATINGS_PATH = re.compile(r"/api/users/(?P<id>[^/]*)/ratings")
_DIGITS = re.compile(r"[0-9]{1,13}")  # ASCII digits only: no sign, space or full-width digit


@dataclass(frozen=True)
class Source:
    """What a catalogue is built from: the default model's version and arrays."""

    key: tuple[str, str]  # (model name, version): a new version means a new catalogue
    scorer: Scorer
    titles: Mapping[int, str]
    genres: Mapping[int, str]


class CatalogueOfLiveModel:
    """The catalogue of whatever version ``source()`` returns, rebuilt when that version changes."""

    def __init__(self, source: Callable[[], Source | None]) -> None:
        self.source = source
        self._built: tuple[tuple[str, str], Catalogue] | None = None
        self._lock = threading.Lock()

    def __call__(self) -> Catalogue | None:
        current = self.source()
        if current is None:
            return None
        with self._lock:
            if self._built is None or self._built[0] != current.key:
                self._built = (current.key, Catalogue(current.scorer, current.titles, current.genres))
            return self._built[1]


class BadParameter(Exception):
    pass


def is_movie_path(path: str) -> bool:
    return path == "/api/movies" or bool(MOVIE_PATH.fullmatch(path) or RATINGS_PATH.fullmatch(path))


def handle(path: str, request: flask.Request, catalogue: Catalogue | None) -> flask.Response:
    try:
        if path == "/api/movies":
            return _search(request.args, catalogue)
        movie = MOVIE_PATH.fullmatch(path)
        if movie:
            _only(request.args, ())
            return _movie(_id("movie_id", movie["id"]), catalogue)
        ratings = RATINGS_PATH.fullmatch(path)
        if ratings is None:
            return error_response(404, "not_found", f"no route {request.path}")
        _only(request.args, ("limit",))
        return _ratings(_id("user_id", ratings["id"]), _limit(request.args), catalogue)
    except BadParameter as exc:
        return error_response(400, "invalid_argument", str(exc))


def _search(args: Mapping[str, str], catalogue: Catalogue | None) -> flask.Response:
    _only(args, ("q", "limit"))
    query = args.get("q")
    if not query:
        raise BadParameter("q is required: a part of a title")
    if len(query) > MAX_QUERY_CHARS:
        raise BadParameter(f"q must be at most {MAX_QUERY_CHARS} characters")
    limit = _limit(args)
    if catalogue is None:
        return _no_model()
    return json_response(200, {"query": query, "movies": [m.to_dict() for m in catalogue.search(query, limit)]})


def _movie(movie_id: int, catalogue: Catalogue | None) -> flask.Response:
    if catalogue is None:
        return _no_model()
    movie = catalogue.movie(movie_id)
    if movie is None:
        return error_response(404, "not_found", f"no movie {movie_id} in the catalogue")
    return json_response(200, movie.to_dict())


def _ratings(user_id: int, limit: int, catalogue: Catalogue | None) -> flask.Response:
    if catalogue is None:
        return _no_model()
    ratings = catalogue.user_ratings(user_id, limit)
    body = {
        "user_id": user_id,
        "known": ratings is not None,  # a user the model was not trained on has no ratings here
        "ratings": [{"movie_id": r.movie_id, "title": r.title, "rating": r.rating, "ts": r.ts} for r in ratings or []],
    }
    return json_response(200, body)


def _no_model() -> flask.Response:
    return error_response(503, "unavailable", "no model is loaded yet: run `movierec train`")


def _only(args: Mapping[str, str], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(args) - set(allowed))
    if unknown:
        raise BadParameter(f"unknown parameter {unknown[0]!r}")


def _id(name: str, raw: str) -> int:
    if not _DIGITS.fullmatch(raw) or int(raw) > MAX_ID:
        raise BadParameter(f"{name} must be an integer in [0, {MAX_ID}]")
    return int(raw)


def _limit(args: Mapping[str, str]) -> int:
    raw = args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not _DIGITS.fullmatch(raw) or not 1 <= int(raw) <= MAX_LIMIT:
        raise BadParameter(f"limit must be an integer in [1, {MAX_LIMIT}]")
    return int(raw)
