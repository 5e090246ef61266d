"""The columns of the Superset datasets, read from the tables and BI views this code creates (an
empty in-memory warehouse built by the same DDL and view SQL), with their definitions."""

from __future__ import annotations

import duckdb

from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.serving.superset_datasets import DATASETS
from outcome_pipeline.serving.views import _RENAMED, bi_view_sql
from outcome_pipeline.warehouse import DEFAULT_SCHEMA


def generic_type(duckdb_type: str, dialect: str) -> str:
    """A column type as Superset shows it (only its family matters to Superset)."""
    pg = {
        "VARCHAR": "TEXT",
        "DOUBLE": "DOUBLE PRECISION",
        "BIGINT": "BIGINT",
        "INTEGER": "INTEGER",
        "BOOLEAN": "BOOLEAN",
        "DATE": "DATE",
        "TIMESTAMP WITH TIME ZONE": "TIMESTAMP WITH TIME ZONE",
    }
    return pg.get(duckdb_type, duckdb_type) if dialect == "postgresql" else duckdb_type


def relation_columns(schema: str = DEFAULT_SCHEMA) -> dict[str, list[tuple[str, str]]]:
    """{table or BI view: [(column, DuckDB type)]}, from an empty in-memory warehouse built by
    the same DDL and view SQL as the real one."""
    from outcome_pipeline.warehouse import Warehouse

    con = duckdb.connect()
    try:
        for sql in Warehouse("duckdb:///:memory:", schema).ddl(BI_TABLES):
            con.execute(sql)
        for name, select in bi_view_sql(schema).items():
            con.execute(f'CREATE VIEW "{schema}"."{name}" AS {select}')
        for ds in DATASETS:
            if ds.sql:
                con.execute(f'CREATE VIEW "{schema}"."{ds.key}" AS {ds.sql(schema)}')
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? ORDER BY table_name, ordinal_position",
            [schema],
        ).fetchall()
    finally:
        con.close()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def column_definitions(relation: str) -> dict[str, str]:
    """Column name -> its definition: a table's own comments; for a BI view, those of the
    columns it shows (under their BI names, ``views._RENAMED``)."""
    tables = {t.name: t for t in BI_TABLES}
    if relation in tables:
        return {c.name: c.comment for c in tables[relation].columns}
    bi_names = {warehouse: bi for warehouse, bi in _RENAMED.items()}
    out: dict[str, str] = {}
    for source in ("daily_outcomes", "daily_outputs", "daily_agent_output_vs_outcome"):
        for c in tables[source].columns:
            out.setdefault(bi_names.get(c.name, c.name), c.comment)
    return out
