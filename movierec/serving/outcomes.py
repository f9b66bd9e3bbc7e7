"""What the service answers, in its own terms: results and the reasons it refuses a request.

None of these knows HTTP; :mod:`movierec.serving.http` holds the one table that turns
each of them into a status code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from movierec.errors import MovierecError

FeedbackStatus = Literal["recorded", "duplicate"]
HealthState = Literal["ok", "degraded", "unavailable"]


class ServingError(MovierecError):
    """A request the service cannot serve; the subclass says why, the message says it to the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidFeedback(ServingError):
    """The feedback breaks a rule of its type (a rating's bounds, a click's lack of value)."""


class UnknownMovie(ServingError):
    def __init__(self, movie_id: int) -> None:
        super().__init__(f"unknown movie_id {movie_id}")
        self.movie_id = movie_id


class Forbidden(ServingError):
    """The token does not vouch for this request, user and movie, or no longer does.

    One message whatever failed, so that a client cannot probe which part was wrong;
    only a token whose signature holds is told that it expired.
    """

    def __init__(self, message: str = "token is not valid for this request, user and movie") -> None:
        super().__init__(message)


class Unauthenticated(ServingError):
    """No credentials, or credentials that prove nothing: a missing, malformed, expired,
    revoked or forged ID token. The client signs in (again) and retries."""


class Conflict(ServingError):
    """The event's key already holds a different event of the same request (a reused
    event_id, or a second rating of a movie with another value): not a retry, not stored."""


class Unavailable(ServingError):
    """A backend the request needs is down; the same request may succeed later."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}; retry later")
        self.what = what


@dataclass(frozen=True)
class FeedbackOutcome:
    event_id: str
    status: FeedbackStatus  # "duplicate": this event_id was already stored, nothing changed


@dataclass(frozen=True)
class Health:
    """``ok``: everything loads; ``degraded``: serving, but something failed; ``unavailable``: no model."""

    state: HealthState
    models: Mapping[str, Any]  # ModelCache.status()
    event_log_ok: bool
    event_log_error: str | None
    experiment_id: str | None
