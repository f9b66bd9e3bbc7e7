"""Errors that carry a message meant for the user (CLI or HTTP client), not a traceback."""


class MovierecError(Exception):
    """Base class: the message names the problem and, where possible, the fix."""


class DataError(MovierecError):
    """Input data is missing, unreadable, corrupt or fails validation."""


class NothingToAnalyse(DataError):
    """There is no data to analyse yet (no experiment, no exported event, an empty window).

    A command stops with this; a scheduled job reports it and succeeds, because a fresh
    deployment is no failure to retry.
    """


class ArtifactError(MovierecError):
    """A model artifact is missing, incomplete or fails its checksum."""


class ConfigError(MovierecError):
    """A setting is missing or invalid."""


class BackendUnavailable(MovierecError):
    """A storage backend (Firestore, Cloud Storage, BigQuery, SQLite...) could not be reached."""


class DeadlineExceeded(BackendUnavailable):
    """The request's time budget ran out before (or while) a backend was called."""


class CircuitOpen(BackendUnavailable):
    """The circuit breaker of a backend is open: calls fail at once instead of waiting on it.

    ``retry_after`` is how many seconds remain until the breaker lets a probe through.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
