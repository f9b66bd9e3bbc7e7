"""Checks shared by the adapters: artifact keys, event collections, scan limits."""

from __future__ import annotations

import re


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


# The one rule for ids that become keys of the event log (Firestore document ids, SQLite
# keys): request_id, event_id, experiment_id. The HTTP edge checks client ids with this
# same function, so an id the stores would refuse never gets past the parser.
# A letter or digit first, so never '.', '..' or Firestore's reserved '__x__'; then
# letters, digits and '_' '.' ':' '-' (no '/', which names a Firestore sub-collection).
ID_MAX_LENGTH = 128
ID_PATTERN = rf"^[A-Za-z0-9][A-Za-z0-9_.:-]{{0,{ID_MAX_LENGTH - 1}}}$"
_ID = re.compile(ID_PATTERN.removeprefix("^").removesuffix("$"))


def validate_event_id(name: str, value: str) -> str:
    """``value`` when it is a valid id (see ID_PATTERN), else ValueError naming ``name``.

    Matched in full (``fullmatch``, not ``$``, which would let a trailing newline through).
    """
    if not isinstance(value, str) or _ID.fullmatch(value) is None:
        raise ValueError(
            f"{name} must be 1 to {ID_MAX_LENGTH} letters, digits, '_', '.', ':' or '-', "
            f"starting with a letter or digit; got {value!r:.80}"
        )
    return value
