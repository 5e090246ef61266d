"""Outcome tables through Dagster: range = day by day, restatement, DuckDB = PostgreSQL."""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes.assets import AS_OF_TAG, outcome_tables
from outcome_pipeline.defs.resources import (
    LandingResource,
    ValidationResource,
    WarehouseResource,
)
from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline_tests.conftest import PG_URL, _drop_schema, _pg_available

pytestmark = pytest.mark.slow
OUTCOMES = [dg.AssetKey(n) for n in OUTCOME_TABLES]


def run(root: Path, url: str, schema: str, selection, tags: dict[str, str]) -> None:
    result = dg.materialize(
        [*staging_assets, outcome_tables],
        selection=selection,
        tags=tags,
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(root), timezone="Europe/London"),
            "validation": ValidationResource(
                data_docs_dir=str(root.parent / "docs"), max_quarantine_share=0.5
            ),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success


def days(first: str, last: str, as_of: str | None = None) -> dict[str, str]:
    tags = {RANGE_START: first, RANGE_END: last}
    return {**tags, AS_OF_TAG: as_of} if as_of else tags


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple]]:
    """Ten generated days, staged once into DuckDB and (when reachable) PostgreSQL."""
    root = tmp_path_factory.mktemp("landing")
    generate(
        GeneratorConfig(
            out_dir=root, start=date(2024, 1, 1), days=10, interactions_per_day=600, seed=21
        )
    )
    schema = f"t_{uuid.uuid4().hex[:12]}"
    targets = {"duckdb": f"duckdb:///{tmp_path_factory.mktemp('wh')}/w.duckdb"}
    if _pg_available() is None:
        targets["postgres"] = PG_URL
    stage = [a.key for a in staging_assets]
    for url in targets.values():
        run(root, url, schema, stage, days("2024-01-01", "2024-01-10"))
    yield {name: (root, url, schema) for name, url in targets.items()}
    if "postgres" in targets:
        _drop_schema(PG_URL, schema)


def outcome_rows(url: str, schema: str, first: date, last: date) -> dict[str, list[dict]]:
    wh = Warehouse(url, schema)
    try:
        window = "partition_date >= :a AND partition_date <= :b"
        return {
            name: wh.read_table(table, window, {"a": first, "b": last}).to_pylist()
            for name, table in OUTCOME_TABLES.items()
        }
    finally:
        wh.dispose()


@pytest.mark.parametrize(
    "dialect", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_range_run_equals_day_by_day(staged, dialect: str, request) -> None:
    if dialect not in staged:
        request.getfixturevalue("pg_url")  # skips, or fails under CI
    root, url, schema = staged[dialect]
    for day in ("2024-01-07", "2024-01-08", "2024-01-09"):
        run(root, url, schema, OUTCOMES, days(day, day))
    one_by_one = outcome_rows(url, schema, date(2024, 1, 7), date(2024, 1, 9))
    run(root, url, schema, OUTCOMES, days("2024-01-07", "2024-01-09"))
    assert outcome_rows(url, schema, date(2024, 1, 7), date(2024, 1, 9)) == one_by_one
    assert len(one_by_one["journeys"]) > 300
    wh = Warehouse(url, schema)
    try:  # the lifetime view (portable SQL) has one row per customer seen
        lifetime = wh.query(f"SELECT count(*) AS n FROM {wh.qualified('customer_lifetime')}")
        keys = wh.query(
            f"SELECT count(DISTINCT customer_key) AS n FROM {wh.qualified('customer_outcomes')}"
        )
        assert lifetime.to_pylist() == keys.to_pylist()
    finally:
        wh.dispose()
    assert {r["partition_date"] for r in one_by_one["daily_outcomes"]} == {
        date(2024, 1, 7),
        date(2024, 1, 8),
        date(2024, 1, 9),
    }


def test_restatement_flips_is_final(staged) -> None:
    root, url, schema = staged["duckdb"]
    day = date(2024, 1, 2)
    run(root, url, schema, OUTCOMES, days("2024-01-02", "2024-01-02", as_of="2024-01-03"))
    early = outcome_rows(url, schema, day, day)
    run(root, url, schema, OUTCOMES, days("2024-01-02", "2024-01-02", as_of="2024-01-10"))
    late = outcome_rows(url, schema, day, day)
    assert {r["is_final"] for r in early["daily_outcomes"]} == {False}
    assert {r["is_ended"] for r in early["journeys"]} == {False}
    # Eight days on, the window of day 2 has closed: most of its journeys are final (those a
    # repeat contact keeps open stay provisional, and so does the day's row then).
    final = [r["is_ended"] for r in late["journeys"]]
    assert sum(final) > 0.5 * len(final)
    # Same journeys; only what the later data tells changes.
    assert {r["journey_id"] for r in early["journeys"]} == {
        r["journey_id"] for r in late["journeys"]
    }


@pytest.mark.postgres
def test_duckdb_and_postgres_give_the_same_numbers(staged, pg_url) -> None:
    tables = {}
    for dialect in ("duckdb", "postgres"):
        root, url, schema = staged[dialect]
        run(root, url, schema, OUTCOMES, days("2024-01-05", "2024-01-06", as_of="2024-01-10"))
        tables[dialect] = outcome_rows(url, schema, date(2024, 1, 5), date(2024, 1, 6))
    for name in OUTCOME_TABLES:
        a, b = tables["duckdb"][name], tables["postgres"][name]
        assert len(a) == len(b) > 0, name
        for ra, rb in zip(a, b, strict=True):
            for col, va in ra.items():
                vb = rb[col]
                if isinstance(va, float) and isinstance(vb, float):
                    assert math.isclose(va, vb, rel_tol=1e-12), (name, col)
                else:
                    assert va == vb, (name, col, va, vb)


def test_days_after_the_latest_staged_day_are_skipped_not_computed(staged) -> None:
    """A UI backfill fans outcomes out past the staged days: those are left alone, and as_of
    stays at the latest staged day, so nothing is flagged final on data not yet loaded."""
    root, url, schema = staged["duckdb"]
    run(root, url, schema, OUTCOMES, days("2024-01-09", "2024-01-10"))
    expected = outcome_rows(url, schema, date(2024, 1, 9), date(2024, 1, 14))
    result = dg.materialize(
        [*staging_assets, outcome_tables],
        selection=OUTCOMES,
        tags=days("2024-01-09", "2024-01-14"),  # staged: 01-01..01-10
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(root), timezone="Europe/London"),
            "validation": ValidationResource(data_docs_dir=str(root.parent / "docs")),
        },
        instance=dg.DagsterInstance.ephemeral(),
    )
    assert result.success
    assert outcome_rows(url, schema, date(2024, 1, 9), date(2024, 1, 14)) == expected
    assert {r["partition_date"] for r in expected["daily_outcomes"]} == {
        date(2024, 1, 9),
        date(2024, 1, 10),
    }
    meta = {
        m.asset_key.to_user_string(): m.metadata
        for m in result.get_asset_materialization_events()
        for m in [m.materialization]
    }["daily_outcomes"]
    assert meta["as_of"].value == "2024-01-10"
    assert meta["computed_days"].value == "2024-01-09..2024-01-10"
    assert meta["skipped_days"].value.startswith("2024-01-11..2024-01-14")
    pending = meta["pending_final_on"].value
    assert pending["computed"] == ["2024-01-09", "2024-01-10"]
    # Nothing of 01-09/10 can be final at as_of 01-10; each waits at least for day + W.
    assert set(pending["pending"]) == {"2024-01-09", "2024-01-10"}
    assert pending["pending"]["2024-01-10"] >= "2024-01-17"
    # And the nights their 30- and 90-day churn windows close (after they are final).
    churn = meta["churn_final_on"].value
    assert churn["computed"] == ["2024-01-09", "2024-01-10"]
    short, long = churn["pending"]["2024-01-10"]
    assert "2024-02-09" <= short < long and long >= "2024-04-09"
    # The metric settings the figures were computed with, and their hash.
    settings = meta["metric_settings"].value
    assert (settings["repeat_window_days"], settings["max_journey_days"]) == (7, 30)
    assert settings["clock_skew_seconds"] == 120 and "pseudonym_key" not in settings
    assert len(meta["metric_settings_hash"].value) == 16
