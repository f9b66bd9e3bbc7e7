"""How the SQLite event log lays out its tables: columns, keys, indexes and the SQL of each.

One :class:`Table` per event collection, with the columns of its event's ``to_dict()``
(JSON-encoded where a field is a list or a mapping). The key and the time column are the
ones every event log shares (:mod:`movierec.stores.validation`), so the scans of SQLite
and Firestore order rows alike.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from movierec.stores.validation import SCAN_KEY_FIELDS, SCAN_TIME_FIELDS


@dataclass(frozen=True)
class Table:
    """How one event collection is laid out in SQLite."""

    name: str
    columns: tuple[str, ...]
    types: tuple[str, ...]
    json_columns: frozenset[str] = frozenset()
    # (column, time column) pairs of the "latest rows of one X" reads: one index each
    latest_by: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, ...]:
        return SCAN_KEY_FIELDS[self.name]

    @property
    def time_column(self) -> str:
        return SCAN_TIME_FIELDS[self.name]

    def ddl(self) -> str:
        cols = ", ".join(f"{c} {t}" for c, t in zip(self.columns, self.types, strict=True))
        return (
            f"CREATE TABLE IF NOT EXISTS {self.name} ({cols}, PRIMARY KEY ({', '.join(self.key)}));"
            f"CREATE INDEX IF NOT EXISTS {self.name}_{self.time_column}"
            f" ON {self.name} ({self.time_column})"
            + "".join(
                f";CREATE INDEX IF NOT EXISTS {self.name}_{c}_{self.time_column}"
                f" ON {self.name} ({c}, {self.time_column})"
                for c in self.latest_by
            )
        )

    def encode(self, row: Mapping[str, Any]) -> tuple[Any, ...]:
        return tuple(
            json.dumps(row[c]) if c in self.json_columns else row[c] for c in self.columns
        )

    def decode(self, values: tuple[Any, ...]) -> dict[str, Any]:
        return {
            c: json.loads(v) if c in self.json_columns and v is not None else v
            for c, v in zip(self.columns, values, strict=True)
        }

    def insert_sql(self, conflict: str) -> str:
        marks = ", ".join("?" for _ in self.columns)
        return f"INSERT OR {conflict} INTO {self.name} ({', '.join(self.columns)}) VALUES ({marks})"

    def select_sql(self) -> str:
        where = " AND ".join(f"{c} = ?" for c in self.key)
        return f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {where}"

    def latest_sql(self, column: str) -> str:
        """The newest rows whose ``column`` equals a value, newest first, ties by key
        descending (Firestore's implicit order after a descending ``order_by``)."""
        if column not in self.latest_by:
            raise ValueError(f"{self.name} has no index for the latest rows by {column!r}")
        tie = ", ".join(f"{c} DESC" for c in self.key)
        return (
            f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {column} = ?"
            f" ORDER BY {self.time_column} DESC, {tie} LIMIT ?"
        )

    def scan_sql(self) -> str:
        # Ties on time are broken by the key as Firestore spells it (the document id),
        # so both event logs return equal-time rows in the same order.
        tie = " || ':' || ".join(self.key)
        return (
            f"SELECT {', '.join(self.columns)} FROM {self.name} WHERE {self.time_column} >= ?"
            f" ORDER BY {self.time_column}, {tie} LIMIT ?"
        )


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "experiments",
            ("experiment_id", "salt", "variants", "status", "coverage", "primary_metric",
             "guardrails", "created_at", "started_at", "stopped_at",
             "guardrail_margins", "secondary_metrics", "plan", "guardrail_plans", "design"),
            ("TEXT NOT NULL", "TEXT", "TEXT", "TEXT", "REAL", "TEXT", "TEXT", "REAL", "REAL", "REAL",
             "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"),
            json_columns=frozenset({"variants", "guardrails", "guardrail_margins",
                                    "secondary_metrics", "plan", "guardrail_plans"}),
        ),
        Table(
            "assignments",
            ("experiment_id", "user_id", "variant", "bucket", "ts"),
            ("TEXT NOT NULL", "INTEGER NOT NULL", "TEXT", "INTEGER", "REAL"),
        ),
        Table(
            "impressions",
            ("request_id", "ts", "user_id", "experiment_id", "variant", "model_name",
             "model_version", "movie_ids", "scores", "fallback", "latency_ms", "credits", "rankers"),
            ("TEXT NOT NULL", "REAL", "INTEGER", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT", "TEXT",
             "TEXT", "REAL", "TEXT", "TEXT"),
            json_columns=frozenset({"movie_ids", "scores", "credits", "rankers"}),
        ),
        Table(
            "feedback",
            ("event_id", "ts", "request_id", "user_id", "movie_id", "type", "value", "position",
             "experiment_id", "variant", "extra", "credit", "credit_version"),
            ("TEXT NOT NULL", "REAL", "TEXT", "INTEGER", "INTEGER", "TEXT", "REAL", "INTEGER",
             "TEXT", "TEXT", "TEXT", "TEXT", "TEXT"),
            json_columns=frozenset({"extra"}),
            latest_by=("user_id",),  # serving's recent feedback of a user
        ),
    )
}


def add_missing_columns(conn: sqlite3.Connection, table: Table) -> None:
    """Columns added to the layout since the file was created (SQLite has no
    ADD COLUMN IF NOT EXISTS): an event log of an older release stays readable, its
    old rows read NULL there, which ``from_dict`` takes as the default."""
    present = {row[1] for row in conn.execute(f"PRAGMA table_info({table.name})")}
    for column, type_ in zip(table.columns, table.types, strict=True):
        if column not in present:
            conn.execute(f"ALTER TABLE {table.name} ADD COLUMN {column} {type_}")
