"""Checks shared by the adapters: artifact keys, event collections, scan limits."""

from __future__ import annotations


def validate_key(key: str) -> str:
    """Return ``key`` when it is a safe relative key, else raise ValueError naming the problem.

    A key must stay inside its store whatever the backend: no absolute paths, no
    '..' segments, no empty segments and no backslashes (which a local folder on
    Windows would read as separators).
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"artifact key must be a non-empty string, got {key!r}")
    if key.startswith("/"):
        raise ValueError(f"artifact key must be relative, got absolute {key!r}")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"artifact key must not contain backslashes or NUL bytes, got {key!r}")
    parts = key.split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(
            f"artifact key must not contain empty, '.' or '..' segments, got {key!r}"
        )
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix is a key fragment: '' lists everything, a trailing '/' is allowed."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


# The event collections every EventLog holds, and the field ``scan`` orders them by.
SCAN_TIME_FIELDS: dict[str, str] = {
    "experiments": "created_at",
    "assignments": "ts",
    "impressions": "ts",
    "feedback": "ts",
}


# The fields that identify a row of each collection (its Firestore document id, joined
# by ':'); ``scan`` breaks time ties by them, and paging drops repeats by them.
SCAN_KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "experiments": ("experiment_id",),
    "assignments": ("experiment_id", "user_id"),
    "impressions": ("request_id",),
    "feedback": ("event_id",),
}


def scan_time_field(collection: str) -> str:
    """The time field of ``collection``, or ValueError naming the valid collections."""
    try:
        return SCAN_TIME_FIELDS[collection]
    except KeyError:
        raise ValueError(
            f"unknown event collection {collection!r}; expected one of {sorted(SCAN_TIME_FIELDS)}"
        ) from None


def validate_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
    return limit


def validate_page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
        raise ValueError(f"page_size must be a positive integer, got {page_size!r}")
    return page_size


def validate_event_id(name: str, value: str) -> str:
    """Ids that become Firestore document ids (request_id, event_id, experiment_id).

    Every EventLog applies the same rule, so an id the cloud backend would refuse
    or misplace ('a/b' names a sub-collection) is refused locally too.
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    if "/" in value or value in (".", "..") or (value.startswith("__") and value.endswith("__")):
        raise ValueError(f"{name} must not contain '/', be '.' or '..', or look like __x__; got {value!r}")
    if len(value.encode()) > 1024:
        raise ValueError(f"{name} must be at most 1024 bytes long")
    return value
