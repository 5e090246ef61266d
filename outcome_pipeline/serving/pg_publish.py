"""Publish the BI schema of a PostgreSQL warehouse: ``<schema>_bi``, refreshed in one transaction.

The pipeline's assets commit one by one (staging, the load audit, the outcome tables), so a
reader of the working schema during a run can see the load audit of the new run beside the
outcome tables of the old one. BI therefore reads ``<schema>_bi``: the same tables as the DuckDB
BI file (the outcome tables and ``load_audit``, never staging or quarantine) and the BI views
over them. At the end of each run ``bi_views`` brings it up to date in **one** transaction
(REPEATABLE READ, so what it copies is one snapshot of the working schema): the run's days are
replaced by ``DELETE`` + ``INSERT ... SELECT`` in every table. A BI query sees the schema as
of the last completed publish, every table of the same run, never a mix; a reader is never
blocked (row locks only).

Why a copy updated in place rather than a published-run marker the views filter on, or a swap
of a freshly built schema:

- a marker needs the old rows to survive while a run writes, but the working tables are
  replaced partition by partition (delete + insert): the old version is gone at the first
  commit, there is nothing to filter back to;
- a schema swap rebuilds every table each night (the whole history, growing daily), and the
  swapped-in schema and its tables are new objects: grants on them, and BI tools or prepared
  statements that resolved the old objects, break at each swap;
- updating in place costs what the run changed (the days it wrote) and keeps the objects, so
  ``GRANT SELECT ON ALL TABLES IN SCHEMA <schema>_bi`` and view definitions cached by BI tools
  stay valid. Tables are dropped and recreated only when their layout changed (a new version
  of the code): grant with ``ALTER DEFAULT PRIVILEGES`` too.

The price is a second copy of the outcome tables (not of staging, most of the warehouse).

Only the run's days, not every day whose fingerprint differs (as the DuckDB file does): on
PostgreSQL a per-day ``count(*), min(as_of), max(as_of)`` reads every row of both schemas (about
1 s per 1M rows on the development machine), so it would cost ~1 minute a night after a month
at 1M interactions a day, and grow. ``bi_views`` runs last in every run that writes outcome
tables, over the same days; a run that failed before it leaves those days of ``bi_views``
unmaterialized in the UI until a run covers them again, and a staging-only run's
``load_audit`` rows reach BI with the next run over their days (BI shows a completed run,
never half of one). ``compare_all`` also replaces every other day that differs (after a manual
edit of the working tables).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.engine import Connection

from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.serving.views import bi_view_sql, create_bi_views
from outcome_pipeline.warehouse.tables import TableDef, check_identifier
from outcome_pipeline.warehouse.warehouse import Warehouse

_LAYOUT = """
SELECT c.relname, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod),
       col_description(c.oid, a.attnum)
FROM pg_attribute a
JOIN pg_class c ON c.oid = a.attrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = ANY(%(tables)s) AND c.relkind IN ('r', 'p')
  AND a.attnum > 0 AND NOT a.attisdropped
"""


@dataclass(frozen=True)
class PublishedSchema:
    schema: str
    seconds: float
    # Rows copied per table in this publish.
    rows_copied: dict[str, int] = field(default_factory=dict)
    partitions_copied: dict[str, int] = field(default_factory=dict)
    rebuilt: tuple[str, ...] = ()
    views: tuple[str, ...] = ()
    # Views of the same names left in the working schema by earlier versions, dropped.
    dropped_old_views: tuple[str, ...] = ()


def bi_schema_name(schema: str) -> str:
    """``outcome`` -> ``outcome_bi`` (a valid identifier of at most 63 bytes)."""
    name = check_identifier(f"{check_identifier(schema)}_bi")
    if len(name) > 63:
        raise ValueError(f"schema {schema!r}: {name!r} is longer than PostgreSQL's 63 bytes")
    return name


def _layout(conn: Connection, schema: str, tables: Sequence[TableDef]) -> dict[str, set]:
    rows = conn.exec_driver_sql(
        _LAYOUT, {"schema": schema, "tables": [t.name for t in tables]}
    ).fetchall()
    out: dict[str, set] = {t.name: set() for t in tables}
    for name, *column in rows:
        out[name].add(tuple(column))
    return out


def _fingerprints(conn: Connection, schema: str, t: TableDef) -> dict[date, tuple]:
    as_of = ", min(as_of), max(as_of)" if "as_of" in t.column_names else ""
    rows = conn.exec_driver_sql(
        f'SELECT "{t.partition_column}", count(*){as_of} FROM "{schema}"."{t.name}" GROUP BY 1'
    ).fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


def _drop_old_views(conn: Connection, schema: str) -> list[str]:
    """Earlier versions kept the BI views in the working schema, where they read tables of
    two runs at once during a run: drop them (only views, only these names)."""
    dropped = []
    for name in bi_view_sql(schema):
        kind = conn.exec_driver_sql(
            "SELECT relkind FROM pg_class WHERE oid = to_regclass(%(n)s)",
            {"n": f'"{schema}"."{name}"'},
        ).scalar()
        if kind == "v":
            conn.exec_driver_sql(f'DROP VIEW "{schema}"."{name}"')
            dropped.append(name)
    return dropped


def publish_postgres_bi(
    wh: Warehouse,
    refresh: Sequence[date] = (),
    compare_all: bool = False,
    tables: Sequence[TableDef] = BI_TABLES,
) -> PublishedSchema:
    """Bring ``<schema>_bi`` up to date with the working schema of ``wh``, in one transaction:
    replace the ``refresh`` days (the run's own) of every table, a table whose layout differs
    entirely; with ``compare_all`` also every other day whose fingerprint differs."""
    if wh.dialect != "postgresql":
        raise ValueError("the BI schema is for a PostgreSQL warehouse; DuckDB publishes a file")
    t0 = time.perf_counter()
    source, bi = wh.schema, bi_schema_name(wh.schema)
    with wh.engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        expected, held = _layout(conn, source, tables), _layout(conn, bi, tables)
        missing = [t.name for t in tables if not expected[t.name]]
        if missing:
            raise ValueError(f"schema {source} has no table {', '.join(missing)}")
        stale_layout = [t for t in tables if expected[t.name] != held[t.name]]
        if stale_layout:
            for t in stale_layout:
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{bi}"."{t.name}" CASCADE')
            for sql in Warehouse(wh.url.render_as_string(False), bi).ddl(stale_layout):
                conn.exec_driver_sql(sql)
        copied: dict[str, int] = {}
        rows: dict[str, int] = {}
        for t in tables:
            cols = ", ".join(f'"{c}"' for c in t.column_names)
            copy = (
                f'INSERT INTO "{bi}"."{t.name}" ({cols}) SELECT {cols} FROM "{source}"."{t.name}"'
            )
            if t in stale_layout:
                rows[t.name] = conn.exec_driver_sql(copy).rowcount
                copied[t.name] = conn.exec_driver_sql(
                    f'SELECT count(DISTINCT "{t.partition_column}") FROM "{bi}"."{t.name}"'
                ).scalar()
                continue
            stale = set(refresh)
            if compare_all:
                want, have = _fingerprints(conn, source, t), _fingerprints(conn, bi, t)
                stale |= {d for d in want.keys() | have.keys() if want.get(d) != have.get(d)}
            copied[t.name], rows[t.name] = len(stale), 0
            if not stale:
                continue
            where = f'WHERE "{t.partition_column}" = ANY(%(days)s)'
            days = {"days": sorted(stale)}
            conn.exec_driver_sql(f'DELETE FROM "{bi}"."{t.name}" {where}', days)
            rows[t.name] = conn.exec_driver_sql(f"{copy} {where}", days).rowcount
        views = create_bi_views(conn, bi, "postgresql")
        dropped = _drop_old_views(conn, source)
    return PublishedSchema(
        bi,
        time.perf_counter() - t0,
        rows,
        copied,
        tuple(t.name for t in stale_layout),
        tuple(views),
        tuple(dropped),
    )
