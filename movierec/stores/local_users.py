"""The UserDirectory in the local SQLite file: table ``users (uid PRIMARY KEY, user_id, linked_at)``.

The same file as the event log (``MOVIEREC_HOME/events.sqlite``, WAL mode), its own
table, so ``MOVIEREC_AUTH=firebase`` works on the local backend as on Firestore. One
short-lived connection per call: a lookup happens once per request, and a connection
per call needs no per-thread bookkeeping (opening one costs well under a millisecond).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from movierec.errors import BackendUnavailable
from movierec.stores.deadline import time_left
from movierec.stores.validation import validate_event_id

BUSY_TIMEOUT = 5.0  # seconds a call waits for a held write lock, at most (the request's budget cuts it)
_DDL = "CREATE TABLE IF NOT EXISTS users (uid TEXT PRIMARY KEY, user_id INTEGER NOT NULL, linked_at REAL)"


class SQLiteUserDirectory:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def describe(self) -> str:
        return f"table users of {self.path.absolute()}"

    @contextmanager
    def _connection(self, action: str) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=time_left(BUSY_TIMEOUT), isolation_level=None)) as conn:
                conn.execute(_DDL)
                yield conn
        except (sqlite3.OperationalError, OSError) as exc:  # locked past the timeout, disk I/O, unopenable
            raise BackendUnavailable(f"{self.describe()}: {action} failed: {exc}") from exc

    def user_id_of(self, uid: str) -> int | None:
        try:
            validate_event_id("uid", uid)
        except ValueError:
            return None  # a uid no store can key was never linked
        with self._connection(f"lookup of {uid}") as conn:
            row = conn.execute("SELECT user_id FROM users WHERE uid = ?", (uid,)).fetchone()
        return None if row is None else int(row[0])

    def link(self, uid: str, user_id: int) -> None:
        validate_event_id("uid", uid)
        with self._connection(f"link of {uid}") as conn:
            conn.execute("INSERT OR REPLACE INTO users (uid, user_id, linked_at) VALUES (?, ?, ?)",
                         (uid, int(user_id), time.time()))

    def unlink(self, uid: str) -> bool:
        validate_event_id("uid", uid)
        with self._connection(f"unlink of {uid}") as conn:
            return conn.execute("DELETE FROM users WHERE uid = ?", (uid,)).rowcount > 0
