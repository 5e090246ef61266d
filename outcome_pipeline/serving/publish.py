"""Publish a read-only DuckDB file for BI: the outcome tables and BI views, checked, renamed.

A DuckDB file admits one process at a time: a BI tool holding the working file open, even
read-only, makes the nightly run fail to open it (DuckDB locks the file). BI therefore
reads a published file, ``<warehouse>_bi.duckdb`` by default, holding only what BI is for
(``BI_TABLES``: the outcome tables and the load audit, with their column comments, and the BI
views). The staging and quarantine tables stay in the working file: they hold customers' raw
emails and phone numbers (outcome tables only carry the keyed hash), and they are most of the
file (84 % of a 3-day 1M-interaction warehouse), so a copy of the whole file would grow with
every staged day.

1. build a new file beside the target: a byte copy of the file published last time if it
   holds exactly these tables as this code creates them, else the tables' DDL (an older BI
   file that held the whole warehouse is rebuilt, never updated). The working file is
   attached read-only (a process writing it makes this fail with DuckDB's lock error, which
   the caller retries; while attached no other process can open it for writing) and, in one
   transaction, every partition whose fingerprint (rows, as_of range) differs between the two
   files, or that the run names (``refresh``), is replaced by ``INSERT ... SELECT``: the
   cost follows the days a run changed (~2 s for a 1M-interaction day's 0.9M outcome rows),
   not the size of the warehouse;
2. add the BI views, checkpoint and close it, and check that it opens read-only with the same
   fingerprints as the working file, partition by partition;
3. ``os.replace`` it over the target: one atomic rename. A reader that has the old copy open
   keeps reading the old file (its inode lives on until it closes); a reader that opens the
   path after the rename gets the new one. Nobody can see a half-written file.

A publish killed before step 3 leaves its new file (``.<target>.<pid>.<hex>.tmp``, with its
``.wal``) beside the target; the next publish removes those of processes that are gone.

The copy is made read-only (mode 0444) so a BI tool cannot write to it by mistake. The rename
needs POSIX semantics: on Windows a file that is open cannot be replaced.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import sqlalchemy as sa

from outcome_pipeline.leftovers import remove_dead_leftovers
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
    # Partitions copied from the warehouse per table (the rest came with the previous file).
    partitions_copied: dict[str, int] = field(default_factory=dict)
    rebuilt: bool = True


def _tmp_path(target: Path) -> Path:
    """The new file is built beside the target, named after it and this process (see
    :func:`remove_dead_tmp`)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def remove_dead_tmp(target: Path) -> list[Path]:
    """Remove what publishes of ``target`` by killed processes left beside it: the half-built
    file (``.<target>.<pid>.<hex>.tmp``), its ``.wal`` and DuckDB's ``.tmp`` spill folder."""
    pattern = re.compile(
        rf"\.{re.escape(target.name)}\.(?P<pid>[0-9]+)\.[0-9a-f]{{8}}\.tmp(\.wal|\.tmp)?"
    )
    return remove_dead_leftovers(target.parent, pattern)


def default_copy_path(warehouse_file: Path) -> Path:
    """``data/warehouse.duckdb`` -> ``data/warehouse_bi.duckdb``."""
    return warehouse_file.with_name(f"{warehouse_file.stem}_bi{warehouse_file.suffix}")


# Per partition of a table: (rows, min(as_of), max(as_of)), or (rows,) without as_of.
Fingerprints = dict[str, dict[date, tuple]]


def _fingerprints(
    con: duckdb.DuckDBPyConnection, schema: str, tables: Sequence[TableDef], catalog: str = ""
) -> Fingerprints:
    """What tells two copies of a partition apart without reading it: its row count and the
    as_of range of its rows (every outcome row carries the as_of it was computed for, and a
    computation is deterministic in its inputs and as_of)."""
    prefix = f'"{catalog}".' if catalog else ""
    out: Fingerprints = {}
    for t in tables:
        as_of = ", min(as_of), max(as_of)" if "as_of" in t.column_names else ""
        rows = con.execute(
            f'SELECT "{t.partition_column}", count(*){as_of} '
            f'FROM {prefix}"{schema}"."{t.name}" GROUP BY 1'
        ).fetchall()
        out[t.name] = {r[0]: tuple(r[1:]) for r in rows}
    return out


def _layout(con: duckdb.DuckDBPyConnection, schema: str) -> set[tuple]:
    """Every table and column of ``schema`` with its type and comment."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() "
        "WHERE schema_name = ? AND table_name IN "
        "(SELECT table_name FROM duckdb_tables() WHERE schema_name = ?)",
        [schema, schema],
    ).fetchall()
    return set(rows)


def _reusable(previous: Path, schema: str, tables: Sequence[TableDef], ddl: list[str]) -> bool:
    """Whether the published file holds exactly ``tables`` as this code creates them (and so
    can be updated partition by partition): a file published by another version, or holding
    any other table (older copies held the whole warehouse), is rebuilt instead. ``ddl``
    creates ``tables``: run in an empty database, it gives the expected layout."""
    if not previous.exists():
        return False
    fresh = duckdb.connect()
    try:
        for sql in ddl:
            fresh.execute(sql)
        expected = _layout(fresh, schema)
    finally:
        fresh.close()
    try:
        con = duckdb.connect(str(previous), read_only=True)
    except duckdb.Error:
        return False
    try:
        others = con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name <> ? OR table_name NOT IN "
            "(SELECT unnest(?::VARCHAR[]))",
            [schema, [t.name for t in tables]],
        ).fetchall()[0][0]
        return others == 0 and _layout(con, schema) == expected
    finally:
        con.close()


def _copy_tables(
    source: Path,
    tmp: Path,
    schema: str,
    tables: Sequence[TableDef],
    previous: Path,
    refresh: Sequence[date],
) -> tuple[Fingerprints, dict[str, int], bool]:
    """Fill the new file ``tmp`` with ``tables`` of ``source``: from a copy of the
    ``previous`` published file when it is reusable, replacing only the partitions whose
    fingerprint differs plus the ``refresh`` days (the run's own: a rerun at the same as_of
    after a code change has the same fingerprint), else from empty tables.

    Returns the source's fingerprints (read in the snapshot copied), the partitions copied
    per table and whether the file was rebuilt."""
    ddl = Warehouse(f"duckdb:///{tmp}", schema).ddl(tables)
    rebuilt = not _reusable(previous, schema, tables, ddl)
    if not rebuilt:
        shutil.copyfile(previous, tmp)
        tmp.chmod(0o644)
    con = duckdb.connect(str(tmp))
    try:
        if rebuilt:
            for sql in ddl:
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
        expected = _fingerprints(con, schema, tables, _SOURCE)
        held = _fingerprints(con, schema, tables)
        copied: dict[str, int] = {}
        for t in tables:
            want, have = expected[t.name], held[t.name]
            stale = {d for d in want.keys() | have.keys() if want.get(d) != have.get(d)}
            stale |= {d for d in refresh if d in want or d in have}
            copied[t.name] = len(stale)
            if not stale:
                continue
            days = ", ".join(f"DATE '{d.isoformat()}'" for d in sorted(stale))
            where = f'WHERE "{t.partition_column}" IN ({days})'
            cols = ", ".join(f'"{c}"' for c in t.column_names)
            con.execute(f'DELETE FROM "{schema}"."{t.name}" {where}')
            con.execute(
                f'INSERT INTO "{schema}"."{t.name}" ({cols}) '
                f'SELECT {cols} FROM {_SOURCE}."{schema}"."{t.name}" {where}'
            )
        con.execute("COMMIT")
        con.execute(f"DETACH {_SOURCE}")
        con.execute("CHECKPOINT")
        return expected, copied, rebuilt
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
    refresh: Sequence[date] = (),
) -> PublishedCopy:
    """Replace ``target`` by a checked DuckDB file holding ``tables`` of the DuckDB file
    ``source`` (and the BI views over them).

    The new file starts from a copy of ``target`` when that was published with the same
    tables, and only partitions that differ (or are in ``refresh``) are copied from
    ``source``: the nightly cost follows the days a run changed, not the warehouse's size.
    Raises the DuckDB lock error when another process holds ``source`` (a transient error:
    the caller retries); on any failure ``target`` is left as it was.
    """
    t0 = time.perf_counter()
    schema = check_identifier(schema)
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ValueError("the BI copy must not be the warehouse file itself")
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_tmp(target)
    tmp = _tmp_path(target)
    try:
        expected, copied, rebuilt = _copy_tables(source, tmp, schema, tables, target, refresh)
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
            got = _fingerprints(check, schema, tables)
        finally:
            check.close()
        if got != expected:
            differ = [name for name in expected if got[name] != expected[name]]
            raise RuntimeError(f"BI copy does not match the warehouse in {differ}")
        _fsync(tmp)
        tmp.chmod(0o444)
        os.replace(tmp, target)
        _fsync(target.parent)
        counts = {name: sum(f[0] for f in parts.values()) for name, parts in got.items()}
        return PublishedCopy(
            target,
            target.stat().st_size,
            time.perf_counter() - t0,
            counts,
            tuple(views),
            copied,
            rebuilt,
        )
    finally:
        for leftover in (tmp, Path(f"{tmp}.wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        shutil.rmtree(f"{tmp}.tmp", ignore_errors=True)
