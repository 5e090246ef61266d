"""The read-only BI role of docs/bi.md, on the real PostgreSQL: with exactly the documented
grants it reads every BI view and table, and nothing else; it cannot write or create; and it
still reads after a publish recreates a table (the default privileges)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from outcome_pipeline.serving import bi_schema_name, bi_view_sql
from outcome_pipeline.serving.pg_publish import publish_postgres_bi
from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.tables import ALL_TABLES
from outcome_pipeline_tests.conftest import _drop_schema

pytestmark = pytest.mark.postgres

DOC = Path(__file__).resolve().parents[2] / "docs" / "bi.md"


def documented_grants() -> str:
    """The SQL block of docs/bi.md between the grants markers."""
    text = DOC.read_text()
    block = re.search(
        r"<!-- grants:begin.*?-->\s*```sql\n(.*?)```\s*<!-- grants:end -->", text, re.S
    )
    assert block, "docs/bi.md lost its grants block"
    return block.group(1)


def statements(sql: str, names: dict[str, str]) -> list[str]:
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    for placeholder, name in names.items():
        body = re.sub(rf"\b{placeholder}\b", name, body)
    return [s.strip() for s in body.split(";") if s.strip()]


@pytest.fixture
def wh(pg_url: str) -> Iterator[Warehouse]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    w = Warehouse(pg_url, schema)
    w.create_tables([*ALL_TABLES, *BI_TABLES])
    with w.begin() as conn:
        conn.exec_driver_sql(
            f'INSERT INTO "{schema}".load_audit (partition_date, feed, rows_staged) '
            "VALUES (DATE '2024-01-01', 'interactions', 3)"
        )
        conn.exec_driver_sql(
            f'INSERT INTO "{schema}".stg_interactions (interaction_id, customer_email) '
            "VALUES ('ix-1', 'alice@example.com')"
        )
    publish_postgres_bi(w)
    try:
        yield w
    finally:
        w.dispose()
        _drop_schema(pg_url, schema)


@pytest.fixture
def reader(wh: Warehouse, pg_url: str) -> Iterator[sa.Engine]:
    """A login with exactly the grants of docs/bi.md, and an engine logged in as it."""
    role = f"bi_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        database, owner = conn.exec_driver_sql("SELECT current_database(), current_user").one()
    names = {
        "bi_reader": f'"{role}"',
        "outcome_bi": f'"{bi_schema_name(wh.schema)}"',
        "warehouse": f'"{database}"',
        "outcome_pipeline": f'"{owner}"',
    }
    sql = statements(documented_grants(), names)
    assert len(sql) >= 6
    with admin.begin() as conn:
        for statement in sql:
            conn.exec_driver_sql(statement)
    engine = sa.create_engine(
        sa.make_url(pg_url).set(username=role, password="change-me"), poolclass=sa.pool.NullPool
    )
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        admin.dispose()


def bi_relations(wh: Warehouse) -> list[str]:
    bi = bi_schema_name(wh.schema)
    return [f'"{bi}"."{name}"' for name in [*(t.name for t in BI_TABLES), *bi_view_sql(bi)]]


def reads_everything(engine: sa.Engine, wh: Warehouse) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"SELECT count(*) FROM {name}").scalar()
            for name in bi_relations(wh)
        }


def refused(engine: sa.Engine, sql: str, read_write: bool = True) -> str:
    """The error PostgreSQL gives the role for ``sql`` (fails the test when it succeeds)."""
    with engine.connect() as conn:
        if read_write:
            # default_transaction_read_only is a default the role may change itself: the
            # grants, not it, must stop a write.
            conn.exec_driver_sql("SET default_transaction_read_only = off")
            conn.commit()  # the next transaction starts read-write
        with pytest.raises(DBAPIError) as err:
            conn.exec_driver_sql(sql)
        conn.rollback()
    return str(err.value.orig)


def test_the_documented_bi_role_reads_the_bi_schema_and_nothing_else(
    wh: Warehouse, reader: sa.Engine
) -> None:
    counts = reads_everything(reader, wh)
    bi = bi_schema_name(wh.schema)
    assert counts[f'"{bi}"."load_audit"'] == 1
    assert counts[f'"{bi}"."bi_daily_summary"'] == 0

    # The working schema (staging holds raw emails) is out of reach.
    working = f'"{wh.schema}"'
    assert "permission denied" in refused(reader, f"SELECT * FROM {working}.stg_interactions")
    assert "permission denied" in refused(reader, f"SELECT * FROM {working}.load_audit")
    # No writes, no new objects, even with the read-only default switched off.
    assert "permission denied" in refused(
        reader, f"INSERT INTO \"{bi}\".load_audit (feed) VALUES ('x')"
    )
    assert "permission denied" in refused(reader, f'DELETE FROM "{bi}".load_audit')
    assert "permission denied" in refused(reader, f'CREATE TABLE "{bi}".mine (x int)')
    assert "permission denied" in refused(reader, "CREATE TABLE public.mine (x int)")
    # And by default its sessions are read-only.
    assert "read-only transaction" in refused(
        reader, f'DELETE FROM "{bi}".load_audit', read_write=False
    )


def test_the_bi_role_still_reads_after_a_publish_recreates_a_table(
    wh: Warehouse, reader: sa.Engine
) -> None:
    bi = bi_schema_name(wh.schema)
    # A new version of the code changes a table's layout: the publish drops and recreates it
    # (and, by CASCADE, the views on it), as a new object the old grants do not cover.
    with wh.begin() as conn:
        conn.exec_driver_sql(f"COMMENT ON COLUMN \"{bi}\".daily_outcomes.team IS 'changed'")
    published = publish_postgres_bi(wh)
    assert "daily_outcomes" in published.rebuilt and published.views
    assert reads_everything(reader, wh)[f'"{bi}"."load_audit"'] == 1
