"""The warehouse DDL (movierec.stores.sql) and the Terraform schemas (infra/schemas) agree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from movierec.stores import sql as wsql

SCHEMAS = Path(__file__).resolve().parents[2] / "infra" / "schemas"


def shape(fields: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(f["name"], f["type"], f["mode"], tuple(shape(f.get("fields", [])))) for f in fields]


def column_shape(columns: tuple[wsql.Column, ...]) -> list[tuple[Any, ...]]:
    return [(c.name, c.type, c.mode, tuple(column_shape(c.fields))) for c in columns]


def test_every_terraform_schema_is_a_warehouse_table() -> None:
    assert {p.stem for p in SCHEMAS.glob("*.json")} == set(wsql.TABLES)


@pytest.mark.parametrize("name", sorted(wsql.TABLES))
def test_columns_types_and_modes_match(name: str) -> None:
    terraform = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    assert column_shape(wsql.TABLES[name].columns) == shape(terraform)


def test_ddl_transpiles_to_duckdb_types() -> None:
    ddl = wsql.to_duckdb(wsql.create_table_sql(wsql.TABLES["experiments"], layout=False)).sql
    assert "variants STRUCT(name TEXT, model TEXT, version TEXT, weight DOUBLE)[]" in ddl
    assert "created_at TIMESTAMPTZ NOT NULL" in ddl


def test_bigquery_ddl_partitions_event_tables_by_day() -> None:
    ddl = wsql.create_table_sql(wsql.TABLES["feedback"])
    assert ddl.endswith("PARTITION BY DATE(ts) CLUSTER BY experiment_id")


def test_parameters_become_duckdb_named_parameters() -> None:
    q = wsql.to_duckdb("SELECT * FROM t WHERE a = @x AND b IN UNNEST(@ys)")
    assert q.parameters == {"x", "ys"} and "$x" in q.sql and "@" not in q.sql
