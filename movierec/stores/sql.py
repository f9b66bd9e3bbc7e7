"""The warehouse tables and the SQL both warehouses run, in one place.

Tables are declared once, as BigQuery schemas (the same fields, types and modes as
``infra/schemas/*.json``, which Terraform applies in production). Every statement is
written in BigQuery's dialect with ``@name`` parameters; :func:`to_duckdb` transpiles
it with sqlglot for the DuckDB warehouse, so a query is tested on DuckDB and on the
BigQuery emulator from one text.

Rows cross into a warehouse as newline-delimited JSON (:func:`encode_rows`, then
:func:`to_ndjson`), the
one load format both BigQuery (load jobs) and DuckDB (``read_json``) accept, and a
batch lands with :func:`insert_new_sql` (only rows whose key is absent) or
:func:`upsert_sql` (replace rows whose key is present).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cache, lru_cache
from typing import Any, Literal

import sqlglot
from sqlglot import exp

from movierec.errors import DataError

Mode = Literal["NULLABLE", "REQUIRED", "REPEATED"]


@dataclass(frozen=True)
class Column:
    """One BigQuery field: ``type`` is a GoogleSQL type name, RECORD holds ``fields``."""

    name: str
    type: str
    mode: Mode = "NULLABLE"
    fields: tuple[Column, ...] = ()

    @property
    def sql_type(self) -> str:
        """The GoogleSQL type of the column, e.g. ``ARRAY<STRUCT<name STRING>>``."""
        if self.type == "RECORD":
            base = "STRUCT<" + ", ".join(f"{f.name} {f.sql_type}" for f in self.fields) + ">"
        else:
            base = self.type
        return f"ARRAY<{base}>" if self.mode == "REPEATED" else base

    @property
    def duckdb_type(self) -> str:
        return exp.DataType.build(self.sql_type, dialect="bigquery").sql("duckdb")

    def ddl(self) -> str:
        return f"{self.name} {self.sql_type}" + (" NOT NULL" if self.mode == "REQUIRED" else "")


@dataclass(frozen=True)
class Table:
    """A warehouse table: its columns, the key rows are deduplicated on, its layout."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    partition_by_day: str | None = None  # a TIMESTAMP column (BigQuery only)
    cluster_by: tuple[str, ...] = ()  # (BigQuery only)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _c(name: str, type_: str, mode: Mode = "REQUIRED", *fields: Column) -> Column:
    return Column(name, type_, mode, tuple(fields))


_EVENT_LAYOUT: dict[str, Any] = {"partition_by_day": "ts", "cluster_by": ("experiment_id",)}

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "assignments",
            (
                _c("experiment_id", "STRING"),
                _c("user_id", "INT64"),
                _c("variant", "STRING"),
                _c("bucket", "INT64"),
                _c("ts", "TIMESTAMP"),
            ),
            key=("experiment_id", "user_id"),
            **_EVENT_LAYOUT,
        ),
        Table(
            "impressions",
            (
                _c("request_id", "STRING"),
                _c("ts", "TIMESTAMP"),
                _c("user_id", "INT64"),
                _c("experiment_id", "STRING", "NULLABLE"),
                _c("variant", "STRING"),
                _c("model_name", "STRING"),
                _c("model_version", "STRING"),
                _c("movie_ids", "INT64", "REPEATED"),
                _c("scores", "FLOAT64", "REPEATED"),
                _c("fallback", "STRING", "NULLABLE"),
                _c("latency_ms", "FLOAT64"),
                # Added with interleaving (nullable/repeated: old rows stay valid, empty).
                _c("credits", "STRING", "REPEATED"),
                _c("rankers", "RECORD", "REPEATED", _c("variant", "STRING"), _c("model_name", "STRING"),
                   _c("model_version", "STRING")),
            ),
            key=("request_id",),
            **_EVENT_LAYOUT,
        ),
        Table(
            "feedback",
            (
                _c("event_id", "STRING"),
                _c("ts", "TIMESTAMP"),
                _c("request_id", "STRING"),
                _c("user_id", "INT64"),
                _c("movie_id", "INT64"),
                _c("type", "STRING"),
                _c("value", "FLOAT64", "NULLABLE"),
                _c("position", "INT64"),
                _c("experiment_id", "STRING", "NULLABLE"),
                _c("variant", "STRING"),
                _c("extra", "JSON", "NULLABLE"),
                _c("credit", "STRING", "NULLABLE"),  # added with interleaving, as credit_version
                _c("credit_version", "STRING", "NULLABLE"),
            ),
            key=("event_id",),
            **_EVENT_LAYOUT,
        ),
        Table(
            "experiments",
            (
                _c("experiment_id", "STRING"),
                _c("salt", "STRING"),
                _c(
                    "variants",
                    "RECORD",
                    "REPEATED",
                    _c("name", "STRING"),
                    _c("model", "STRING"),
                    _c("version", "STRING", "NULLABLE"),
                    _c("weight", "FLOAT64"),
                ),
                _c("status", "STRING"),
                _c("coverage", "FLOAT64"),
                _c("primary_metric", "STRING"),
                _c("guardrails", "STRING", "REPEATED"),
                _c("created_at", "TIMESTAMP"),
                _c("started_at", "TIMESTAMP"),
                _c("stopped_at", "TIMESTAMP", "NULLABLE"),
                # Added with the decision rule; nullable/repeated, so adding them to an
                # existing table is a compatible schema change.
                _c("guardrail_margins", "FLOAT64", "REPEATED"),
                _c("secondary_metrics", "STRING", "REPEATED"),
                _c(
                    "plan",
                    "RECORD",
                    "NULLABLE",
                    _c("mde", "FLOAT64"),
                    _c("alpha", "FLOAT64"),
                    _c("power", "FLOAT64"),
                    _c("baseline", "FLOAT64", "NULLABLE"),
                    _c("baseline_variance", "FLOAT64", "NULLABLE"),
                    _c("users_per_variant", "INT64", "NULLABLE"),
                    _c("total_users", "INT64", "NULLABLE"),
                ),
                # Added with guardrail planning: a column, not a field of ``plan``, so
                # existing tables take it as an additive change.
                _c("guardrail_plans", "RECORD", "REPEATED", _c("metric", "STRING"), _c("baseline", "FLOAT64"),
                   _c("baseline_variance", "FLOAT64"), _c("users_per_variant", "INT64", "NULLABLE")),
                _c("design", "STRING", "NULLABLE"),  # added with interleaving; null: "ab"
            ),
            key=("experiment_id",),
        ),
        Table(  # ratings given before any logged traffic (simulated users' MovieLens past): a CUPED covariate
            "rating_history",
            (_c("user_id", "INT64"), _c("movie_id", "INT64"), _c("rating", "FLOAT64"), _c("ts", "TIMESTAMP")),
            key=("user_id", "movie_id"),
        ),
        Table(
            "export_watermarks",
            (_c("table_name", "STRING"), _c("watermark", "TIMESTAMP")),
            key=("table_name",),
        ),
        Table(
            "alerts",
            (
                _c("alert_id", "STRING"),
                _c("ts", "TIMESTAMP"),
                _c("experiment_id", "STRING", "NULLABLE"),
                _c("variant", "STRING", "NULLABLE"),
                _c("metric", "STRING", "NULLABLE"),
                _c("condition", "STRING"),
                _c("message", "STRING", "NULLABLE"),
                _c("details", "JSON", "NULLABLE"),
            ),
            key=("alert_id",),
        ),
    )
}


def table(name: str) -> Table:
    """The table called ``name``, or DataError naming the tables there are."""
    try:
        return TABLES[name]
    except KeyError:
        raise DataError(f"unknown warehouse table {name!r}; expected one of {sorted(TABLES)}") from None


# -- DDL and DML (BigQuery dialect) ---------------------------------------------------------


def create_table_sql(tbl: Table, name: str | None = None, *, layout: bool = True) -> str:
    """``CREATE TABLE IF NOT EXISTS`` for ``tbl`` (as ``name``, default its own name).

    ``layout`` adds BigQuery's day partitioning and clustering, which DuckDB has no
    syntax for; staging tables and DuckDB leave it out.
    """
    sql = (
        f"CREATE TABLE IF NOT EXISTS {name or tbl.name} ("
        + ", ".join(c.ddl() for c in tbl.columns)
        + ")"
    )
    if layout and tbl.partition_by_day:
        sql += f" PARTITION BY DATE({tbl.partition_by_day})"
    if layout and tbl.cluster_by:
        sql += f" CLUSTER BY {', '.join(tbl.cluster_by)}"
    return sql


def _key_match(tbl: Table, left: str, right: str) -> str:
    return " AND ".join(f"{left}.{k} = {right}.{k}" for k in tbl.key)


def insert_new_sql(tbl: Table, target: str, staging: str) -> str:
    """Copy the staged rows whose key is not in ``target`` (BigQuery has no unique keys)."""
    cols = ", ".join(tbl.column_names)
    return (
        f"INSERT INTO {target} ({cols}) SELECT {cols} FROM {staging} AS s"
        f" WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {_key_match(tbl, 't', 's')})"
    )


def upsert_sql(tbl: Table, target: str, staging: str) -> str:
    """Insert the staged rows, replacing the stored row of the same key (one MERGE)."""
    cols = tbl.column_names
    others = [c for c in cols if c not in tbl.key]
    return (
        f"MERGE {target} AS t USING {staging} AS s ON {_key_match(tbl, 't', 's')}"
        f" WHEN MATCHED THEN UPDATE SET {', '.join(f'{c} = s.{c}' for c in others)}"
        f" WHEN NOT MATCHED THEN INSERT ({', '.join(cols)})"
        f" VALUES ({', '.join(f's.{c}' for c in cols)})"
    )


GET_WATERMARK_SQL = "SELECT UNIX_MICROS(watermark) AS us FROM export_watermarks WHERE table_name = @name"


# -- transpiling to DuckDB ---------------------------------------------------------------


@dataclass(frozen=True)
class DuckDBQuery:
    sql: str
    parameters: frozenset[str]  # names of the @parameters, now written $name


@lru_cache(maxsize=256)
def to_duckdb(sql: str) -> DuckDBQuery:
    """Transpile one BigQuery statement to DuckDB; ``@name`` becomes ``$name``.

    Raises DataError when sqlglot cannot parse the text (a typo in the query).
    """
    try:
        trees = sqlglot.parse(sql, read="bigquery")
    except sqlglot.errors.ParseError as exc:
        raise DataError(f"cannot parse the warehouse query: {exc}") from exc
    statements = [t for t in trees if t is not None]
    if len(statements) != 1:
        raise DataError(f"expected one SQL statement, got {len(statements)}")
    tree = statements[0]
    names = frozenset(p.name for p in tree.find_all(exp.Parameter))
    return DuckDBQuery(tree.sql(dialect="duckdb"), names)


# -- rows as newline-delimited JSON --------------------------------------------------------


def timestamp_text(value: Any, where: str) -> str:
    """A TIMESTAMP value for a load file: epoch seconds or an aware datetime -> RFC 3339 UTC.

    Microseconds are the precision of both warehouses' TIMESTAMP.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DataError(f"{where}: naive datetime {value!r}; pass an aware (UTC) datetime")
        moment = value.astimezone(timezone.utc)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        moment = datetime.fromtimestamp(value, tz=timezone.utc)
    else:
        raise DataError(f"{where}: expected epoch seconds or an aware datetime, got {value!r}")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


Encoder = Callable[[Any, str], Any]  # (value, where-for-messages) -> load-file value


def _encoder(col: Column) -> Encoder:
    """A function turning a Python value of ``col`` into its load-file form, built once
    per column so that a batch pays only for the checks its types need."""
    if col.mode == "REPEATED":
        item = _encoder(Column(col.name, col.type, "REQUIRED", col.fields))

        def repeated(value: Any, where: str) -> Any:
            if value is None:
                return []
            if not isinstance(value, (list, tuple)):
                raise DataError(f"{where}: column {col.name!r} needs a list, got {value!r}")
            return [item(v, where) for v in value]

        return repeated
    if col.type == "TIMESTAMP":
        def scalar(value: Any, where: str) -> Any:
            return timestamp_text(value, f"{where}, column {col.name!r}")
    elif col.type == "RECORD":
        fields = [(f.name, _encoder(f)) for f in col.fields]

        def scalar(value: Any, where: str) -> Any:
            if not isinstance(value, Mapping):
                raise DataError(f"{where}: column {col.name!r} needs a mapping, got {value!r}")
            return {name: enc(value.get(name), where) for name, enc in fields}
    else:
        def scalar(value: Any, where: str) -> Any:
            return value

    def nullable(value: Any, where: str) -> Any:
        if value is None:
            if col.mode == "REQUIRED":
                raise DataError(f"{where}: required column {col.name!r} is null")
            return None
        return scalar(value, where)

    return nullable


@cache
def _encoders(tbl: Table) -> tuple[tuple[str, Encoder], ...]:
    return tuple((c.name, _encoder(c)) for c in tbl.columns)


def encode_rows(tbl: Table, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Rows checked against the table (every required column present, no unknown one),
    deduplicated on the key (the last row of a key wins), values in load-file form."""
    known = set(tbl.column_names)
    required = [c.name for c in tbl.columns if c.mode == "REQUIRED"]
    encoders = _encoders(tbl)
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for i, row in enumerate(rows):
        if row.keys() - known:
            raise DataError(
                f"table {tbl.name!r}, row {i}: unknown columns {sorted(row.keys() - known)};"
                f" expected {list(tbl.column_names)}"
            )
        missing = [n for n in required if n not in row]
        if missing:
            raise DataError(f"table {tbl.name!r}, row {i}: missing columns {missing}")
        where = f"table {tbl.name!r}, row {i}"
        encoded = {name: enc(row.get(name), where) for name, enc in encoders}
        out[tuple(encoded[k] for k in tbl.key)] = encoded
    return list(out.values())


def to_ndjson(tbl: Table, rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Newline-delimited JSON of encoded rows; NaN and infinity are refused (not JSON)."""
    lines = []
    for row in rows:
        try:
            lines.append(json.dumps(row, allow_nan=False, separators=(",", ":")))
        except (TypeError, ValueError) as exc:
            key = {k: row.get(k) for k in tbl.key}
            raise DataError(f"table {tbl.name!r}, row {key}: cannot encode as JSON: {exc}") from exc
    return ("\n".join(lines) + "\n").encode() if lines else b""
