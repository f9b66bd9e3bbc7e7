"""Errors that carry a message meant for the user (CLI or HTTP client), not a traceback."""


class MovierecError(Exception):
    """Base class: the message names the problem and, where possible, the fix."""


class DataError(MovierecError):
    """Input data is missing, unreadable, corrupt or fails validation."""


class ArtifactError(MovierecError):
    """A model artifact is missing, incomplete or fails its checksum."""


class ConfigError(MovierecError):
    """A setting is missing or invalid."""


class BackendUnavailable(MovierecError):
    """A storage backend (Firestore, Cloud Storage, BigQuery, SQLite...) could not be reached."""
