"""A BI reader in its own process: ``python -m outcome_pipeline_tests.serving.reader MODE ...``.

Modes:
- ``duckdb-loop PATH SCHEMA STOP OUT``: open the published copy read-only, count rows per
  business day in ``bi_daily_outcomes`` and ``load_audit`` (one query), close; again and again
  until the file STOP exists.
- ``pg-loop URL SCHEMA STOP OUT``: the same against the PostgreSQL BI schema.
- ``pg-tables URL SCHEMA STOP OUT``: the same against the tables of a working schema
  (``daily_outcomes`` instead of the view), what a reader of the working schema sees.
- ``duckdb-hold PATH STOP OUT``: open the copy once and keep it open until STOP (a BI tool
  left running all night), querying it now and then.

Every read and every error goes to OUT (JSON), for the test to judge.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

# One statement, so one snapshot of the database: {"outcomes:<day>": rows, "audit:<day>": rows}.
QUERY = (
    "SELECT 'outcomes:' || CAST({day} AS VARCHAR), count(*) "
    'FROM "{schema}".{outcomes} GROUP BY 1 '
    "UNION ALL SELECT 'audit:' || CAST(partition_date AS VARCHAR), count(*) "
    'FROM "{schema}".load_audit GROUP BY 1'
)
VIEW = {"day": "business_day", "outcomes": "bi_daily_outcomes"}
TABLES = {"day": "partition_date", "outcomes": "daily_outcomes"}


def _loop(read, stop: Path, out: Path) -> None:
    reads: list[dict[str, int]] = []
    errors: list[str] = []
    while not stop.exists():
        try:
            reads.append(read())
        except Exception as exc:  # every failure is a finding, reported to the test
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.005)
    out.write_text(json.dumps({"reads": reads, "errors": errors}))


def duckdb_loop(path: str, schema: str, stop: str, out: str) -> None:
    import duckdb

    def read() -> dict[str, int]:
        con = duckdb.connect(path, read_only=True)
        try:
            return dict(con.execute(QUERY.format(schema=schema, **VIEW)).fetchall())
        finally:
            con.close()

    _loop(read, Path(stop), Path(out))


def pg_loop(url: str, schema: str, stop: str, out: str, names: dict = VIEW) -> None:
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as con:

        def read() -> dict[str, int]:
            return dict(con.execute(QUERY.format(schema=schema, **names)).fetchall())

        _loop(read, Path(stop), Path(out))


def duckdb_hold(path: str, stop: str, out: str) -> None:
    import duckdb

    con = duckdb.connect(path, read_only=True)
    errors: list[str] = []
    reads = 0
    Path(f"{out}.ready").write_text("open")
    while not Path(stop).exists():
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
            reads += 1
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        time.sleep(0.05)
    con.close()
    Path(out).write_text(json.dumps({"reads": reads, "errors": errors}))


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    modes = {
        "duckdb-loop": duckdb_loop,
        "pg-loop": pg_loop,
        "pg-tables": lambda *a: pg_loop(*a, names=TABLES),
        "duckdb-hold": duckdb_hold,
    }
    modes[mode](*args)
