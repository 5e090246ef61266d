"""Shared fixtures: real DuckDB files and the real local PostgreSQL (never mocks).

PostgreSQL: 127.0.0.1:5432, database ``test`` (override with OUTCOME_TEST_PG_URL). Each test
gets its own schema, dropped afterwards. Without a server the PostgreSQL tests are skipped —
except under CI (``CI`` set), where a missing server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from outcome_pipeline.warehouse import Warehouse

PG_URL = os.environ.get("OUTCOME_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = sa.create_engine(PG_URL, poolclass=sa.pool.NullPool)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "no server"
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def pg_url() -> str:
    problem = _pg_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but PostgreSQL at {PG_URL} is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {problem}")
    return PG_URL


def _drop_schema(url: str, schema: str) -> None:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        # With the BI schema that ``bi_views`` publishes beside it (serving/pg_publish.py).
        for name in (schema, f"{schema}_bi"):
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    engine.dispose()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[str, str]]:
    """(url, schema) of an empty warehouse: a DuckDB file, then a PostgreSQL schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/warehouse.duckdb", schema
        return
    url = request.getfixturevalue("pg_url")
    try:
        yield url, schema
    finally:
        _drop_schema(url, schema)


@pytest.fixture
def warehouse(warehouse_url: tuple[str, str]) -> Iterator[Warehouse]:
    url, schema = warehouse_url
    wh = Warehouse(url, schema)
    try:
        yield wh
    finally:
        wh.dispose()


CHROMIUM = os.environ.get("OUTCOME_TEST_CHROMIUM", "/usr/bin/chromium")
# Flags for a headless Chromium on a closed network: without the background-networking ones it
# keeps trying (and failing) to reach Google's hosts.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    """Path of the system Chromium the browser tests drive through Playwright.

    Without it the browser tests are skipped, except under CI (``CI`` set), where they fail.
    """
    if os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    message = f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {message}")
    pytest.skip(message)
