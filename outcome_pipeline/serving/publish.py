"""Publish a read-only DuckDB file for BI: the outcome tables and BI views, checked, renamed.

A DuckDB file admits one process at a time: a BI tool holding the working file open, even
read-only, makes the nightly run fail to open it (research/reliability.md §3.2). BI therefore
reads a published file, ``<warehouse>_bi.duckdb`` by default, holding only what BI is for
(``BI_TABLES``: the outcome tables and the load audit, with their column comments, and the BI
views). The staging and quarantine tables stay in the working file: they hold customers' raw
emails and phone numbers (outcome tables only carry the keyed hash), and they are most of the
file (84 % of a 3-day 1M-interaction warehouse), so a copy of the whole file would grow with
every staged day.

1. build a new file beside the target: the tables' DDL, then the working file is attached
   read-only (a process writing it makes this fail with DuckDB's lock error, which the caller
   retries; while attached no other process can open it for writing) and each table is copied
   by ``INSERT ... SELECT`` in one transaction, with its row count read in the same snapshot;
2. add the BI views, checkpoint and close it, and check it opens read-only with those counts;
3. ``os.replace`` it over the target: one atomic rename. A reader that has the old copy open
   keeps reading the old file (its inode lives on until it closes); a reader that opens the
   path after the rename gets the new one. Nobody can see a half-written file.

The copy is made read-only (mode 0444) so a BI tool cannot write to it by mistake. The rename
needs POSIX semantics: on Windows a file that is open cannot be replaced.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlalchemy as sa

from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.serving.views import create_bi_views
from outcome_pipeline.warehouse.tables import LOAD_AUDIT, TableDef, check_identifier
from outcome_pipeline.warehouse.warehouse import Warehouse

# What the BI file holds: tables without customers' raw identifiers.
BI_TABLES: tuple[TableDef, ...] = (*OUTCOME_TABLES.values(), LOAD_AUDIT)
# The schema alias the working file is attached under while it is copied.
_SOURCE = "src"


@dataclass(frozen=True)
class PublishedCopy:
    path: Path
    bytes: int
    seconds: float
    row_counts: dict[str, int] = field(default_factory=dict)
    views: tuple[str, ...] = ()


def default_copy_path(warehouse_file: Path) -> Path:
    """``data/warehouse.duckdb`` -> ``data/warehouse_bi.duckdb``."""
    return warehouse_file.with_name(f"{warehouse_file.stem}_bi{warehouse_file.suffix}")


def _row_counts(
    con: duckdb.DuckDBPyConnection, schema: str, tables: Sequence[TableDef], catalog: str = ""
) -> dict[str, int]:
    prefix = f'"{catalog}".' if catalog else ""
    return {
        t.name: con.execute(f'SELECT count(*) FROM {prefix}"{schema}"."{t.name}"').fetchall()[0][0]
        for t in tables
    }


def _copy_tables(
    source: Path, tmp: Path, schema: str, tables: Sequence[TableDef]
) -> dict[str, int]:
    """Create ``tables`` in the new file ``tmp`` and fill them from ``source``; their counts."""
    con = duckdb.connect(str(tmp))
    try:
        for sql in Warehouse(f"duckdb:///{tmp}", schema).ddl(tables):
            con.execute(sql)
        path = str(source).replace("'", "''")
        con.execute(f"ATTACH '{path}' AS {_SOURCE} (READ_ONLY)")
        found = {
            name
            for (name,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_catalog = ? AND table_schema = ?",
                [_SOURCE, schema],
            ).fetchall()
        }
        missing = [t.name for t in tables if t.name not in found]
        if missing:
            raise ValueError(f"{source}: schema {schema} has no table {', '.join(missing)}")
        con.execute("BEGIN")
        for t in tables:
            cols = ", ".join(f'"{c}"' for c in t.column_names)
            con.execute(
                f'INSERT INTO "{schema}"."{t.name}" ({cols}) '
                f'SELECT {cols} FROM {_SOURCE}."{schema}"."{t.name}"'
            )
        expected = _row_counts(con, schema, tables, _SOURCE)
        con.execute("COMMIT")
        con.execute(f"DETACH {_SOURCE}")
        con.execute("CHECKPOINT")
        return expected
    finally:
        con.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_duckdb_copy(
    source: Path,
    target: Path,
    schema: str,
    with_views: bool = True,
    tables: Sequence[TableDef] = BI_TABLES,
) -> PublishedCopy:
    """Replace ``target`` by a checked DuckDB file holding ``tables`` of the DuckDB file
    ``source`` (and the BI views over them).

    Raises the DuckDB lock error when another process holds ``source`` (a transient error:
    the caller retries); on any failure ``target`` is left as it was.
    """
    t0 = time.perf_counter()
    schema = check_identifier(schema)
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ValueError("the BI copy must not be the warehouse file itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        expected = _copy_tables(source, tmp, schema, tables)
        views: list[str] = []
        if with_views:
            engine = sa.create_engine(f"duckdb:///{tmp}", poolclass=sa.pool.NullPool)
            try:
                with engine.begin() as conn:
                    views = create_bi_views(conn, schema, "duckdb")
                with engine.connect() as conn:
                    conn.exec_driver_sql("CHECKPOINT")
            finally:
                engine.dispose()
        if Path(f"{tmp}.wal").exists():
            raise RuntimeError(f"{tmp}.wal left behind: the copy would not be self-contained")
        check = duckdb.connect(str(tmp), read_only=True)
        try:
            got = _row_counts(check, schema, tables)
        finally:
            check.close()
        if got != expected:
            raise RuntimeError(f"BI copy does not match the warehouse: {got} != {expected}")
        _fsync(tmp)
        tmp.chmod(0o444)
        os.replace(tmp, target)
        _fsync(target.parent)
        return PublishedCopy(
            target, target.stat().st_size, time.perf_counter() - t0, got, tuple(views)
        )
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
