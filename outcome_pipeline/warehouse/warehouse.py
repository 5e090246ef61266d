"""The warehouse: a SQLAlchemy engine, explicit DDL, atomic partition replacement.

DuckDB (default, a file) and PostgreSQL (production, BI) behave the same from outside:
``replace_partitions`` deletes the partition window of every table it is given and inserts the
new rows, all in ONE transaction — a crash leaves the previous rows, a rerun leaves the same
rows. Bulk paths per dialect (DuckDB: Arrow scan; PostgreSQL: COPY), never row by row.

A DuckDB file admits one process at a time, so the engine uses no pool (the file is released
when a connection closes) and nothing holds a connection between calls; writers in parallel runs
take turns (``locks.py``: a writer lock per DuckDB file, claims per day on PostgreSQL).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

from outcome_pipeline.warehouse.locks import CLAIMS_TABLE, claim_window, claims_ddl
from outcome_pipeline.warehouse.pg_copy import (
    COPY_HEADER,
    COPY_TRAILER,
    binary_chunks,
    binary_column_order,
)
from outcome_pipeline.warehouse.pg_read import libpq_uri, read_tables
from outcome_pipeline.warehouse.settings import warehouse_schema, warehouse_url
from outcome_pipeline.warehouse.tables import (
    ALL_TABLES,
    TableDef,
    check_identifier,
    current_state_views,
)

_KNOWN = {t.name: t for t in ALL_TABLES}
DEFAULT_URL = "duckdb:///data/warehouse.duckdb"
DEFAULT_SCHEMA = "outcome"
# Rows per Arrow batch read out of a DuckDB warehouse (read_batches).
_DUCKDB_BATCH_ROWS = 122_880
# What an insert takes: a whole table, or a stream of record batches consumed once (an
# outcome table read out of the engine session: only a few batches are held at a time).
Rows = pa.Table | pa.RecordBatchReader


@dataclass(frozen=True)
class PartitionWindow:
    """``table``'s rows with partition_column in [start, end) (and the ``match`` equalities)."""

    table: TableDef
    start: date
    end: date
    # Extra equality filter for tables shared by several writers (e.g. load_audit by feed).
    match: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PartitionWrite:
    """Replace ``table``'s rows with partition_column in [start, end) by ``rows``."""

    table: TableDef
    start: date
    end: date
    rows: Rows
    # Extra equality filter for tables shared by several writers (e.g. load_audit by feed).
    match: tuple[tuple[str, str], ...] = ()


def _refuse_overlaps(windows: Sequence[PartitionWindow]) -> None:
    # All deletes run before any insert: an overlapping second window of a table would have
    # deleted what the first one's rows replace, had they been written one after the other.
    by_table: dict[tuple[str, tuple[tuple[str, str], ...]], list[PartitionWindow]] = {}
    for w in windows:
        by_table.setdefault((w.table.name, w.match), []).append(w)
    for (name, _), group in by_table.items():
        group.sort(key=lambda w: w.start)
        for before, after in itertools.pairwise(group):
            if after.start < before.end:
                raise ValueError(
                    f"overlapping windows of {name}: [{before.start}, {before.end}) and "
                    f"[{after.start}, {after.end})"
                )


def sql_type(t: pa.DataType, dialect: str) -> str:
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR" if dialect == "duckdb" else "TEXT"
    if pa.types.is_int64(t):
        return "BIGINT"
    if pa.types.is_int32(t):
        return "INTEGER"
    if pa.types.is_floating(t):
        return "DOUBLE" if dialect == "duckdb" else "DOUBLE PRECISION"
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_date(t):
        return "DATE"
    if pa.types.is_timestamp(t):
        return "TIMESTAMPTZ" if t.tz else "TIMESTAMP"
    raise TypeError(f"no SQL type for Arrow type {t}")


def _q(identifier: str) -> str:
    return f'"{check_identifier(identifier)}"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def duckdb_file(url: str | sa.URL) -> Path | None:
    """The file of a ``duckdb:///path`` URL; None for another database or in-memory DuckDB."""
    u = sa.make_url(url)
    if u.get_backend_name() != "duckdb" or u.database in (None, "", ":memory:"):
        return None
    return Path(u.database)


class Warehouse:
    """Warehouse access for the pipeline (no Dagster here; the resource wraps this)."""

    def __init__(self, url: str = DEFAULT_URL, schema: str = DEFAULT_SCHEMA) -> None:
        self.url = warehouse_url(url)
        self.schema = warehouse_schema(schema)
        self.dialect = self.url.get_backend_name()
        self._engine: Engine | None = None
        # DuckDB tables' physical column order, read once per table (see _insert_duckdb).
        self._column_order: dict[str, list[str]] = {}

    # -- connections --------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            if self.dialect == "duckdb" and self.url.database not in (None, "", ":memory:"):
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            self._engine = sa.create_engine(self.url, poolclass=NullPool)
        return self._engine

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: commits on success, rolls back on any exception."""
        with self.engine.begin() as conn:
            yield conn

    @property
    def duckdb_path(self) -> Path | None:
        """The file of a DuckDB warehouse; None for PostgreSQL or an in-memory DuckDB."""
        return duckdb_file(self.url)

    def qualified(self, table: str) -> str:
        return f"{_q(self.schema)}.{_q(table)}"

    # -- DDL ----------------------------------------------------------------------------

    def create_tables(self, tables: Sequence[TableDef] = ALL_TABLES) -> None:
        """Create the schema, tables (if missing), comments and views. Idempotent.

        Every asset calls this at the start of every run; hundreds of COMMENT statements each
        time cost ~0.15 s per call on DuckDB. So the statements are hashed and the hash is
        recorded in ``_ddl_applied`` of the schema: when the same DDL was applied before, the
        call is one lookup. A change to any table, column, comment or view definition changes
        the hash and the DDL runs again (CREATE IF NOT EXISTS, COMMENT and CREATE OR REPLACE
        are all safe to repeat).
        """
        self._column_order.clear()
        statements = self.ddl(tables)
        if self.dialect == "postgresql":
            statements.append(claims_ddl(self.qualified(CLAIMS_TABLE)))
        digest = hashlib.sha256("\n".join(statements).encode()).hexdigest()
        marker = self.qualified("_ddl_applied")
        if self._ddl_recorded(digest):
            return
        with self.begin() as conn:
            if self.dialect == "postgresql":
                # Concurrent runs creating the same tables deadlock on COMMENT after CREATE
                # INDEX; one DDL transaction at a time.
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('outcome_ddl'))")
            for sql in statements:
                conn.exec_driver_sql(sql)
            conn.exec_driver_sql(
                f"CREATE TABLE IF NOT EXISTS {marker} (ddl_hash VARCHAR(64) PRIMARY KEY)"
            )
            conn.exec_driver_sql(f"INSERT INTO {marker} VALUES ('{digest}') ON CONFLICT DO NOTHING")

    def _ddl_recorded(self, digest: str) -> bool:
        with self.engine.connect() as conn:
            exists = conn.execute(
                sa.text(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = :s AND table_name = '_ddl_applied'"
                ),
                {"s": self.schema},
            ).scalar()
            if not exists:
                return False
            found = conn.exec_driver_sql(
                f"SELECT count(*) FROM {self.qualified('_ddl_applied')} WHERE ddl_hash = '{digest}'"
            ).scalar()
            return bool(found)

    def ddl(self, tables: Sequence[TableDef]) -> list[str]:
        """The statements creating ``tables`` (schema, tables, indexes, comments, views)."""
        out = [f"CREATE SCHEMA IF NOT EXISTS {_q(self.schema)}"]
        for t in tables:
            cols = ", ".join(f"{_q(c.name)} {sql_type(c.type, self.dialect)}" for c in t.columns)
            out.append(f"CREATE TABLE IF NOT EXISTS {self.qualified(t.name)} ({cols})")
            # A warehouse created by an earlier version gains the columns added since (NULL in
            # its existing rows until those days are run again); nothing is dropped or retyped.
            out.extend(
                f"ALTER TABLE {self.qualified(t.name)} ADD COLUMN IF NOT EXISTS {_q(c.name)} "
                f"{sql_type(c.type, self.dialect)}"
                for c in t.columns
            )
            if t.partition_column and self.dialect == "postgresql":
                # B-tree, not BRIN: with BRIN the planner scans whole tables to read a window
                # (benchmarks/PERFORMANCE.md, "partition index").
                out.append(
                    f"CREATE INDEX IF NOT EXISTS {_q(t.name + '_partition_idx')} "
                    f"ON {self.qualified(t.name)} ({_q(t.partition_column)})"
                )
            out.append(f"COMMENT ON TABLE {self.qualified(t.name)} IS {_literal(t.comment)}")
            for c in t.columns:
                out.append(
                    f"COMMENT ON COLUMN {self.qualified(t.name)}.{_q(c.name)} "
                    f"IS {_literal(c.comment)}"
                )
        names = {t.name for t in tables}
        for name, body in current_state_views().items():
            if name.removesuffix("_current") in names:
                sql = body.replace("{schema}", _q(self.schema))
                out.append(f"CREATE OR REPLACE VIEW {self.qualified(name)} AS {sql}")
        return out

    def create_view(self, name: str, select_sql: str) -> None:
        """(Re)create a view; ``{schema}`` in the SQL is replaced by the quoted schema."""
        sql = select_sql.replace("{schema}", _q(self.schema))
        with self.begin() as conn:
            if self.dialect == "postgresql":
                # Parallel runs replace the same view: one at a time, else "tuple concurrently
                # updated".
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('outcome_ddl'))")
            conn.exec_driver_sql(f"CREATE OR REPLACE VIEW {self.qualified(name)} AS {sql}")

    # -- writes -------------------------------------------------------------------------

    @contextmanager
    def replacing(
        self, windows: Sequence[PartitionWindow]
    ) -> Iterator[Callable[[TableDef, Rows], int]]:
        """The one way partitions are written: one transaction that deletes each window and
        yields ``insert(table, rows)`` for the rows replacing them, called as often as the
        caller streams rows (staging inserts day by day; ``rows`` a table or a
        RecordBatchReader, see :meth:`insert_rows`). Commits when the block ends; any
        exception rolls the deletes back (one raised by a stream being inserted too), so a
        failed run leaves every window as it was.
        """
        _refuse_overlaps(windows)
        with self.begin() as conn:
            for w in windows:
                self.delete_window(conn, w.table, w.start, w.end, w.match)
            targets = {w.table.name: w.table for w in windows}

            def insert(t: TableDef, rows: Rows) -> int:
                if t.name not in targets:
                    raise ValueError(f"{t.name}: no window of it is being replaced")
                return self.insert_rows(conn, t, rows)

            yield insert

    def replace_partitions(self, writes: Sequence[PartitionWrite]) -> None:
        """Replace each write's window by its rows, all in one transaction."""
        windows = [PartitionWindow(w.table, w.start, w.end, w.match) for w in writes]
        with self.replacing(windows) as insert:
            for w in writes:
                insert(w.table, w.rows)

    def analyze(self, tables: Sequence[TableDef]) -> None:
        """PostgreSQL: refresh the planner's statistics of ``tables`` (no-op on DuckDB).

        Called after a write commits: the pipeline cannot count on autovacuum (it may be off,
        or not yet have run after a bulk load), and without statistics the planner takes a
        freshly staged window for a few hundred rows and joins it by nested loop. Always, not
        above a share of rows written: ANALYZE reads a fixed sample per table, and a rule on
        the share would need the modifications accumulated since the last ANALYZE, or many
        small daily loads would never trigger it. After the write's commit, one transaction per
        table: inside the write's transaction ANALYZE's lock (one ANALYZE per table at a time)
        would be held until the commit. DuckDB keeps its statistics as it writes.
        """
        if self.dialect != "postgresql":
            return
        with self.engine.connect() as conn:
            for name in dict.fromkeys(t.name for t in tables):
                with conn.begin():
                    conn.exec_driver_sql(f"ANALYZE {self.qualified(name)}")

    def delete_window(
        self,
        conn: Connection,
        t: TableDef,
        start: date,
        end: date,
        match: tuple[tuple[str, str], ...] = (),
    ) -> None:
        """Delete rows with partition_column in [start, end) (and the ``match`` equalities)."""
        if t.partition_column is None:
            raise ValueError(f"{t.name} is not partitioned")
        if self.dialect == "postgresql":
            # Two runs replacing the same day at once would both delete, then both insert
            # (doubled rows): they take turns per day; disjoint windows do not wait (locks.py).
            claim_window(self.engine, conn, self.qualified(CLAIMS_TABLE), t.name, match, start, end)
        col = _q(t.partition_column)
        extra = "".join(f" AND {_q(name)} = :m{i}" for i, (name, _) in enumerate(match))
        params = {"start": start, "end": end, **{f"m{i}": v for i, (_, v) in enumerate(match)}}
        delete = sa.text(
            f"DELETE FROM {self.qualified(t.name)} WHERE {col} >= :start AND {col} < :end" + extra
        )
        conn.execute(delete, params)

    def insert_rows(self, conn: Connection, t: TableDef, rows: Rows) -> int:
        """Bulk-insert ``rows`` (cast to the table's schema) inside ``conn``'s transaction.

        A RecordBatchReader is consumed batch by batch into ONE insert (DuckDB scans the
        stream; PostgreSQL: one COPY fed a batch at a time), so memory follows the batch,
        not the table."""
        if isinstance(rows, pa.RecordBatchReader):
            return self._insert_stream(conn, t, rows)
        rows = rows.select(t.column_names).cast(t.arrow_schema)
        if rows.num_rows == 0:
            return 0
        if self.dialect == "duckdb":
            self._insert_duckdb(conn, t, rows)
        else:
            self._copy_postgres(conn, t, rows)
        return rows.num_rows

    def _insert_stream(self, conn: Connection, t: TableDef, rows: pa.RecordBatchReader) -> int:
        inserted = 0
        failed: list[Exception] = []

        def conformed() -> Iterator[pa.RecordBatch]:
            nonlocal inserted
            try:
                for batch in rows:
                    batch = batch.select(t.column_names).cast(t.arrow_schema)
                    inserted += batch.num_rows
                    yield batch
            except Exception as exc:
                failed.append(exc)
                raise

        stream = pa.RecordBatchReader.from_batches(t.arrow_schema, conformed())
        try:
            if self.dialect == "duckdb":
                self._insert_duckdb(conn, t, stream)
            else:
                self._copy_postgres(conn, t, stream)
        except Exception as exc:
            # DuckDB reports a failing source as its own "reading the Arrow source failed":
            # the source's exception is raised instead, so callers (the retry policy) see
            # what failed, e.g. the engine session, not the insert.
            if failed and failed[0] is not exc:
                raise failed[0] from exc
            raise
        return inserted

    def _insert_duckdb(self, conn: Connection, t: TableDef, rows: Rows) -> None:
        # The raw DuckDB connection is the one SQLAlchemy opened the transaction on, so the
        # Arrow scan below belongs to the same transaction as the DELETE before it.
        # A relation over the Arrow table, not a registered view: DuckDB (2.0) keeps a view
        # registered inside a transaction, and the Arrow buffers behind it, until the
        # transaction ends, even after unregister, so a multi-day write held every day's
        # Arrow at once (benchmarks/PERFORMANCE.md, "SQL choices").
        raw = conn.connection.driver_connection
        # insert_into is positional: follow the table's own column order, which differs from
        # the definition's where columns were added to an existing warehouse (ADD COLUMN).
        physical = self._duckdb_columns(raw, t.name)
        cols = ", ".join(_q(c) if c in rows.schema.names else "NULL" for c in physical)
        # A RecordBatchReader is scanned as a stream: DuckDB pulls a batch at a time and writes
        # full row groups to the file as they fill (measured: benchmarks/PERFORMANCE.md,
        # "Streaming the outcome tables").
        raw.from_arrow(rows).select(cols).insert_into(self.qualified(t.name))

    def _duckdb_columns(self, raw: Any, table: str) -> list[str]:
        if table not in self._column_order:
            found = raw.execute(
                "SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() "
                "AND schema_name = ? AND table_name = ? ORDER BY column_index",
                [self.schema, table],
            ).fetchall()
            self._column_order[table] = [r[0] for r in found]
        return self._column_order[table]

    def _copy_postgres(self, conn: Connection, t: TableDef, rows: Rows) -> None:
        # COPY (FORMAT binary): the server reads integers, dates and timestamps as they are
        # instead of parsing text (its CSV input functions were most of the load time).
        # Chunks are encoded while a writer thread streams the previous ones, so encoding
        # and the server's work overlap.
        raw = conn.connection.driver_connection
        order = binary_column_order(rows.schema)
        cols = ", ".join(_q(c) for c in order)
        parts: Iterator[pa.Table] = (
            iter([rows.select(order)])
            if isinstance(rows, pa.Table)
            else (pa.Table.from_batches([batch.select(order)]) for batch in rows)
        )
        with raw.cursor() as cur:
            if raw.info.encoding != "utf-8":
                # Text fields are sent as Arrow's UTF-8 bytes.
                cur.execute("SET LOCAL client_encoding TO 'UTF8'")
            sql = f"COPY {self.qualified(t.name)} ({cols}) FROM STDIN (FORMAT binary)"
            with cur.copy(sql, writer=QueuedLibpqWriter(cur)) as copy:
                copy.write(COPY_HEADER)
                for part in parts:
                    for chunk in binary_chunks(part):
                        copy.write(chunk)
                copy.write(COPY_TRAILER)

    # -- reads --------------------------------------------------------------------------

    def read_table(
        self, table: TableDef | str, where: str = "", params: dict | None = None
    ) -> pa.Table:
        """Read a table (or a filtered part) into Arrow in a total, stable order."""
        t = table if isinstance(table, TableDef) else _KNOWN.get(table)
        name = table.name if isinstance(table, TableDef) else table
        order = ""
        if t is not None:
            keys = [k for k in (t.partition_column, *t.order_by) if k]
            keys += [c for c in t.column_names if c not in keys]
            order = " ORDER BY " + ", ".join(_q(k) for k in keys)
        sql = f"SELECT * FROM {self.qualified(name)}{(' WHERE ' + where) if where else ''}{order}"
        return self.query(sql, params)

    def read_arrow(self, sql: str, schema: pa.Schema) -> pa.Table:
        """Run a trusted SELECT (no bind parameters) and return its rows as Arrow, in bulk
        (:meth:`read_batches` joined)."""
        return pa.concat_tables([schema.empty_table(), *self.read_batches(sql, schema)])

    def read_batches(self, sql: str, schema: pa.Schema) -> Iterator[pa.Table]:
        """The rows of a trusted SELECT (no bind parameters) as ``schema`` tables of a few MB
        each, streamed: a caller that consumes them as they come holds one at a time.

        DuckDB hands Arrow record batches over directly; PostgreSQL's rows come through the
        ADBC driver, a binary COPY decoded into Arrow in C++ (``pg_read.read_tables``) — no
        Python object per row on either path. A connection is held until the generator ends.
        """
        if self.dialect != "duckdb":
            yield from read_tables(libpq_uri(self.url), sql, schema)
            return
        with self.engine.connect() as conn:
            raw = conn.connection.driver_connection
            reader = raw.sql(sql).to_arrow_reader(_DUCKDB_BATCH_ROWS)
            for batch in reader:
                table = pa.Table.from_batches([batch])
                yield table.rename_columns(schema.names).cast(schema)

    def query(self, sql: str, params: dict | None = None) -> pa.Table:
        with self.engine.connect() as conn:
            result = conn.execute(sa.text(sql), params or {})
            names = list(result.keys())
            rows = result.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
        return pa.table({n: pa.array(list(col)) for n, col in zip(names, columns, strict=True)})

    def count_select(self, select_sql: str) -> int:
        """Rows a trusted SELECT returns (counted in the warehouse)."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.text(f"SELECT count(*) FROM ({select_sql}) AS s")).scalar_one()
            )

    def count(self, name: str, where: str = "", params: dict | None = None) -> int:
        sql = f"SELECT count(*) FROM {self.qualified(name)}{(' WHERE ' + where) if where else ''}"
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(sql), params or {}).scalar_one())
