"""Publish a read-only copy of the DuckDB warehouse for BI: copy, check, atomic rename.

A DuckDB file admits one process at a time: a BI tool holding the working file open, even
read-only, makes the nightly run fail to open it (research/reliability.md §3.2). BI therefore
reads a published copy, ``<warehouse>_bi.duckdb`` by default:

1. open the working file read-write (this takes its lock: no other process writes while we
   copy) and ``CHECKPOINT`` it, so the file alone holds every committed row (no WAL);
2. copy the bytes to a temporary file beside the target, add the BI views, checkpoint and
   close it, and check it opens read-only with the expected row counts;
3. ``os.replace`` it over the target: one atomic rename. A reader that has the old copy open
   keeps reading the old file (its inode lives on until it closes); a reader that opens the
   path after the rename gets the new one. Nobody can see a half-written file.

The copy is made read-only (mode 0444) so a BI tool cannot write to it by mistake. The rename
needs POSIX semantics: on Windows a file that is open cannot be replaced.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import sqlalchemy as sa

from outcome_pipeline.serving.views import create_bi_views
from outcome_pipeline.warehouse.tables import check_identifier


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


def _row_counts(con: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    tables = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1",
        [schema],
    ).fetchall()
    return {
        t: con.execute(f'SELECT count(*) FROM "{schema}"."{check_identifier(t)}"').fetchall()[0][0]
        for (t,) in tables
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish_duckdb_copy(
    source: Path, target: Path, schema: str, with_views: bool = True
) -> PublishedCopy:
    """Replace ``target`` by a consistent, checked copy of the DuckDB file ``source``.

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
        src = duckdb.connect(str(source))
        try:
            src.execute("CHECKPOINT")
            expected = _row_counts(src, schema)
            # Copied while the connection (and so the file lock) is held: no writer can
            # change the file under the copy.
            shutil.copyfile(source, tmp)
        finally:
            src.close()
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
            got = _row_counts(check, schema)
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
