"""The embedded defaults: artifacts in a local folder, events in a SQLite file (WAL mode).

Both need no setup and behave like their cloud counterparts in ``gcs.py`` and
``firestore.py``; the contract tests in ``tests/stores`` run the same assertions
against both.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from movierec.errors import BackendUnavailable
from movierec.events import Assignment, Experiment, Feedback, Impression
from movierec.stores.deadline import time_left
from movierec.stores.ports import ArtifactNotFound
from movierec.stores.sqlite_tables import TABLES, Table, add_missing_columns
from movierec.stores.validation import (
    scan_time_field,
    validate_event_id,
    validate_key,
    validate_limit,
    validate_prefix,
)

# Temporary files of in-flight writes: hidden, and never listed as keys.
_PARTIAL_PREFIX = "."
_PARTIAL_SUFFIX = ".partial"


class LocalArtifactStore:
    """Keys are files below ``root``; ``a/b.npz`` is ``root/a/b.npz``.

    ``content_type`` is accepted for compatibility with Cloud Storage and ignored:
    a folder keeps no metadata.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()

    def describe(self) -> str:
        return str(self.root)

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*validate_key(key).split("/"))

    def read_bytes(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ArtifactNotFound(f"no artifact {key!r} in {self.describe()}") from None
        except OSError as exc:
            raise BackendUnavailable(f"cannot read artifact {key!r} in {self.describe()}: {exc}") from exc

    def write_bytes(self, key: str, data: bytes, content_type: str = "application/octet-stream") -> None:
        """Write to a temporary file in the same folder, then rename it over the key.

        ``os.replace`` is atomic within one file system, so a concurrent reader sees
        the old file or the new one, never a prefix of it.
        """
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(
                dir=path.parent, prefix=_PARTIAL_PREFIX + path.name + ".", suffix=_PARTIAL_SUFFIX
            )
        except OSError as exc:
            raise BackendUnavailable(f"cannot write artifact {key!r} in {self.describe()}: {exc}") from exc
        try:
            with os.fdopen(fd, "wb") as tmp:
                tmp.write(data)
                tmp.flush()
                os.fsync(tmp.fileno())
            os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; artifacts are shared read-only
            os.replace(tmp_name, path)
        except OSError as exc:
            with suppress(OSError):
                os.unlink(tmp_name)
            raise BackendUnavailable(f"cannot write artifact {key!r} in {self.describe()}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        # Walk only the deepest folder the prefix names, not the whole store.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        keys: list[str] = []
        for dirpath, _dirnames, filenames in os.walk(start):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(_PARTIAL_PREFIX) and name.endswith(_PARTIAL_SUFFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        """Remove the key; deleting a key that does not exist is not an error."""
        path = self._path(key)
        try:
            path.unlink(missing_ok=True)
        except IsADirectoryError:
            pass  # a folder is a key prefix, not a key
        except OSError as exc:
            raise BackendUnavailable(f"cannot delete artifact {key!r} in {self.describe()}: {exc}") from exc


BUSY_STEP_MS = 50


class SQLiteEventLog:
    """The EventLog in one SQLite file, safe for the threads of one process and for
    several processes (gunicorn workers) on one machine.

    Each thread gets its own connection (a sqlite3 connection must not be shared
    between threads); WAL mode lets readers run beside the single writer, and
    ``busy_timeout`` makes a writer wait for the lock instead of failing at once.
    Every statement runs in its own transaction (autocommit). ``synchronous`` is
    ``NORMAL`` by default: in WAL mode a returned write survives any crash of the
    application (the server can be killed at once without losing an acknowledged
    event); only an OS crash or power loss can drop the last commits. ``FULL`` adds an
    fsync per write (about 0.6 ms here) to survive those too. Errors of the database
    itself (locked past the timeout, disk I/O, unopenable file) become
    ``BackendUnavailable``.
    """

    def __init__(self, path: Path, busy_timeout_ms: int = 5000, synchronous: str = "NORMAL") -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, got {synchronous!r}")
        self.path = Path(path)
        self.busy_timeout_ms = busy_timeout_ms
        self.synchronous = synchronous
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._schema_ready = False

    def describe(self) -> str:
        return str(self.path.absolute())

    # -- connections -------------------------------------------------------------------

    @contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.OperationalError as exc:  # locked, disk I/O, cannot open, read-only
            raise self._unavailable(action, exc) from exc
        except sqlite3.DatabaseError as exc:
            if type(exc) is not sqlite3.DatabaseError:  # IntegrityError etc. are our bugs
                raise
            raise self._unavailable(action, exc) from exc  # "file is not a database"
        except OSError as exc:  # the parent folder cannot be created
            raise self._unavailable(action, exc) from exc

    def _unavailable(self, action: str, exc: BaseException) -> BackendUnavailable:
        return BackendUnavailable(f"SQLite event log {self.describe()}: {action} failed: {exc}")

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path,
            timeout=self.busy_timeout_ms / 1000,
            isolation_level=None,  # autocommit: one statement, one transaction
            check_same_thread=False,  # only so that close() may close it from another thread
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            conn.execute(f"PRAGMA synchronous = {self.synchronous}")
            with self._lock:  # one thread per process creates the schema
                if not self._schema_ready:
                    conn.execute("PRAGMA journal_mode = WAL")
                    conn.executescript(";".join(t.ddl() for t in TABLES.values()))
                    for t in TABLES.values():
                        add_missing_columns(conn, t)
                    self._schema_ready = True
        except BaseException:
            conn.close()
            raise
        with self._lock:
            self._connections.append(conn)
        self._local.conn = conn
        return conn

    def _conn_within_budget(self) -> sqlite3.Connection:
        """This thread's connection, waiting for a held lock no longer than the request's budget."""
        conn = self._conn()
        # Whole steps of BUSY_STEP_MS (rounded down, at least one): the budget left differs by
        # a millisecond from one request to the next, and each change costs a PRAGMA statement.
        left_ms = int(time_left(self.busy_timeout_ms / 1000) * 1000)
        wait_ms = max(min(left_ms, BUSY_STEP_MS), left_ms // BUSY_STEP_MS * BUSY_STEP_MS)
        if wait_ms != getattr(self._local, "busy_ms", self.busy_timeout_ms):
            conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
            self._local.busy_ms = wait_ms
        return conn

    def close(self) -> None:
        """Close every connection this log opened (in any thread)."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._local = threading.local()

    def ping(self) -> None:
        """Take and release the write lock: proves the file is open, writable and not stuck."""
        with self._guard("ping"):
            conn = self._conn_within_budget()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")

    # -- generic rows --------------------------------------------------------------------

    def _insert(self, table: Table, row: Mapping[str, Any], conflict: str) -> bool:
        with self._guard(f"write to {table.name}"):
            cur = self._conn_within_budget().execute(table.insert_sql(conflict), table.encode(row))
            return cur.rowcount == 1

    def _get(self, table: Table, *key: Any) -> dict[str, Any] | None:
        with self._guard(f"read from {table.name}"):
            found = self._conn_within_budget().execute(table.select_sql(), key).fetchone()
        return None if found is None else table.decode(found)

    # -- EventLog ------------------------------------------------------------------------

    def put_experiment(self, experiment: Experiment) -> None:
        validate_event_id("experiment_id", experiment.experiment_id)
        self._insert(TABLES["experiments"], experiment.to_dict(), "REPLACE")

    def get_experiment(self, experiment_id: str) -> Experiment | None:
        row = self._get(TABLES["experiments"], validate_event_id("experiment_id", experiment_id))
        return None if row is None else Experiment.from_dict(row)

    def list_experiments(self) -> list[Experiment]:
        table = TABLES["experiments"]
        with self._guard("read from experiments"):
            rows = self._conn_within_budget().execute(
                f"SELECT {', '.join(table.columns)} FROM experiments ORDER BY experiment_id"
            ).fetchall()
        return [Experiment.from_dict(table.decode(r)) for r in rows]

    def get_or_create_assignment(self, assignment: Assignment) -> Assignment:
        """INSERT OR IGNORE then read back: of concurrent first calls exactly one row lands."""
        validate_event_id("experiment_id", assignment.experiment_id)
        self._insert(TABLES["assignments"], assignment.to_dict(), "IGNORE")
        stored = self.get_assignment(assignment.experiment_id, assignment.user_id)
        if stored is None:  # only if someone deleted it in between
            raise self._unavailable("assignment read-back", LookupError(assignment.key))
        return stored

    def get_assignment(self, experiment_id: str, user_id: int) -> Assignment | None:
        validate_event_id("experiment_id", experiment_id)
        row = self._get(TABLES["assignments"], experiment_id, user_id)
        return None if row is None else Assignment.from_dict(row)

    def record_impression(self, impression: Impression) -> None:
        """Store once per request_id; a repeated request_id (a retried write) is ignored."""
        validate_event_id("request_id", impression.request_id)
        self._insert(TABLES["impressions"], impression.to_dict(), "IGNORE")

    def get_impression(self, request_id: str) -> Impression | None:
        row = self._get(TABLES["impressions"], validate_event_id("request_id", request_id))
        return None if row is None else Impression.from_dict(row)

    def record_feedback(self, feedback: Feedback) -> bool:
        validate_event_id("event_id", feedback.event_id)
        return self._insert(TABLES["feedback"], feedback.to_dict(), "IGNORE")

    def get_feedback(self, event_id: str) -> Feedback | None:
        row = self._get(TABLES["feedback"], validate_event_id("event_id", event_id))
        return None if row is None else Feedback.from_dict(row)

    def recent_feedback(self, user_id: int, limit: int) -> list[Feedback]:
        """The user's latest ``limit`` feedback events, newest first (index ``feedback_user_id_ts``)."""
        table = TABLES["feedback"]
        with self._guard("read of a user's recent feedback"):
            rows = self._conn_within_budget().execute(table.latest_sql("user_id"), (user_id, validate_limit(limit)))
            return [Feedback.from_dict(table.decode(r)) for r in rows.fetchall()]

    def scan(self, collection: str, since: float, limit: int | None = None) -> list[dict[str, Any]]:
        """Rows with time >= ``since`` (``created_at`` for experiments, else ``ts``), oldest
        first, as the ``to_dict()`` of their event. Page through large collections with
        ``limit`` and the last time seen (rows at that time come again: dedupe by key)."""
        scan_time_field(collection)  # ValueError for an unknown collection
        table = TABLES[collection]
        validate_limit(limit)
        with self._guard(f"scan of {collection}"):
            rows = self._conn_within_budget().execute(table.scan_sql(), (since, -1 if limit is None else limit))
            return [table.decode(r) for r in rows.fetchall()]
