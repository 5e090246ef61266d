"""publish_postgres_bi without Dagster: ``<schema>_bi`` holds the BI tables and views, updated
partition by partition in one transaction, keeping its objects (and so their grants)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date

import pytest
import sqlalchemy as sa

from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.serving import bi_schema_name, bi_view_sql, create_bi_views
from outcome_pipeline.serving.pg_publish import publish_postgres_bi
from outcome_pipeline.serving.publish import BI_TABLES
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.tables import ALL_TABLES
from outcome_pipeline_tests.conftest import _drop_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
def wh(pg_url: str) -> Iterator[Warehouse]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    w = Warehouse(pg_url, schema)
    w.create_tables([*ALL_TABLES, *OUTCOME_TABLES.values()])
    with w.begin() as conn:
        for table in ("load_audit", "daily_outputs"):
            conn.exec_driver_sql(
                f'INSERT INTO "{schema}".{table} (partition_date) '
                "SELECT DATE '2024-01-01' + mod(i, 30) FROM generate_series(0, 299) AS i"
            )
        conn.exec_driver_sql(
            f'INSERT INTO "{schema}".stg_interactions (interaction_id, customer_email) '
            "VALUES ('ix-1', 'alice@example.com')"
        )
    try:
        yield w
    finally:
        w.dispose()
        _drop_schema(pg_url, schema)


def rows(w: Warehouse, schema: str) -> dict[str, list[tuple]]:
    with w.begin() as conn:
        return {
            t.name: conn.exec_driver_sql(
                f'SELECT * FROM "{schema}".{t.name} ORDER BY 1, 2, 3'
            ).fetchall()
            for t in BI_TABLES
        }


def relations(w: Warehouse, schema: str) -> set[str]:
    with w.begin() as conn:
        return {
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %(s)s",
                {"s": schema},
            )
        }


def test_the_bi_schema_holds_the_bi_tables_and_views_and_follows_changes(wh: Warehouse) -> None:
    bi = bi_schema_name(wh.schema)
    first = publish_postgres_bi(wh)
    assert first.schema == bi and set(first.rebuilt) == {t.name for t in BI_TABLES}
    assert first.partitions_copied["daily_outputs"] == 30
    # No staging, no quarantine (raw emails and phones): the BI tables and views only.
    assert relations(wh, bi) == {t.name for t in BI_TABLES} | set(bi_view_sql(bi))
    assert rows(wh, bi) == rows(wh, wh.schema)

    again = publish_postgres_bi(wh)
    assert again.rebuilt == () and set(again.partitions_copied.values()) == {0}
    assert again.views == ()  # unchanged views are not replaced (no exclusive lock)

    with wh.begin() as conn:
        conn.exec_driver_sql(
            f"DELETE FROM \"{wh.schema}\".daily_outputs WHERE partition_date = '2024-01-05'"
        )
        conn.exec_driver_sql(
            f"UPDATE \"{wh.schema}\".daily_outputs SET queue = 'q' "
            "WHERE partition_date = '2024-01-07'"
        )
    # Only the run's own days are replaced: a change elsewhere waits for a run over its day.
    assert publish_postgres_bi(wh).partitions_copied["daily_outputs"] == 0
    assert rows(wh, bi) != rows(wh, wh.schema)
    run = publish_postgres_bi(wh, refresh=[date(2024, 1, 7), date(2024, 3, 1)])
    assert run.partitions_copied["daily_outputs"] == 2
    assert run.rows_copied["daily_outputs"] == 10  # the 7th's rows; nothing on 1 March
    everything = publish_postgres_bi(wh, compare_all=True)  # finds the 5th by its fingerprint
    assert everything.partitions_copied["daily_outputs"] == 1
    assert everything.rows_copied["daily_outputs"] == 0  # the 5th is gone
    assert rows(wh, bi) == rows(wh, wh.schema)


def test_old_views_in_the_working_schema_are_dropped(wh: Warehouse) -> None:
    with wh.begin() as conn:
        create_bi_views(conn, wh.schema, "postgresql")  # where earlier versions put them
    published = publish_postgres_bi(wh)
    assert set(published.dropped_old_views) == set(bi_view_sql(wh.schema))
    assert not relations(wh, wh.schema) & set(bi_view_sql(wh.schema))
    assert publish_postgres_bi(wh).dropped_old_views == ()


def test_grants_survive_publishes_and_a_changed_layout_is_rebuilt(
    wh: Warehouse, pg_url: str
) -> None:
    bi = bi_schema_name(wh.schema)
    role = f"r_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(pg_url, poolclass=sa.pool.NullPool)

    def can_read() -> bool:
        with engine.begin() as conn:
            return all(
                conn.exec_driver_sql(
                    "SELECT has_table_privilege(%(r)s, %(t)s, 'SELECT')",
                    {"r": role, "t": f'"{bi}"."{name}"'},
                ).scalar()
                for name in [*(t.name for t in BI_TABLES), *bi_view_sql(bi)]
            )

    publish_postgres_bi(wh)
    with engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" NOLOGIN')
        conn.exec_driver_sql(f'GRANT USAGE ON SCHEMA "{bi}" TO "{role}"')
        conn.exec_driver_sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{bi}" TO "{role}"')
        conn.exec_driver_sql(
            f'ALTER DEFAULT PRIVILEGES IN SCHEMA "{bi}" GRANT SELECT ON TABLES TO "{role}"'
        )
    try:
        with wh.begin() as conn:
            conn.exec_driver_sql(
                f"DELETE FROM \"{wh.schema}\".load_audit WHERE partition_date = '2024-01-02'"
            )
        assert publish_postgres_bi(wh, refresh=[date(2024, 1, 2)]).rows_copied["load_audit"] == 0
        assert can_read()
        # A new version of the code changed a table: it is rebuilt, the views with it.
        with wh.begin() as conn:
            conn.exec_driver_sql(
                f"COMMENT ON COLUMN \"{wh.schema}\".daily_outcomes.team IS 'changed'"
            )
        changed = publish_postgres_bi(wh)
        assert changed.rebuilt == ("daily_outcomes",)
        assert set(changed.views) == {"bi_daily_outcomes", "bi_daily_summary"}  # its views
        assert rows(wh, bi) == rows(wh, wh.schema)
        assert can_read()  # through the default privileges
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f'DROP OWNED BY "{role}"')
            conn.exec_driver_sql(f'DROP ROLE "{role}"')
        engine.dispose()
