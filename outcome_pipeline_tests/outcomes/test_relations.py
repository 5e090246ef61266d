"""The SQL layers: one relation per file, its grain first, its reads declared in
``relations.py`` exactly as its SQL reads them, lifetimes derived from those reads."""

from __future__ import annotations

import re

import duckdb
import pytest

from outcome_pipeline.outcomes import OUTCOME_TABLES, RATES, OutcomeConfig
from outcome_pipeline.outcomes.compute import prepare_session
from outcome_pipeline.outcomes.engine import engine_session
from outcome_pipeline.outcomes.relations import (
    IDENTITY_LOOKUPS,
    MARTS,
    RELATIONS,
    SQL_DIR,
    expiring_after,
    mart_file,
)
from outcome_pipeline.outcomes.steps import rate_macro_name, rate_macros_sql, run_relation
from outcome_pipeline.warehouse.tables import LATEST_DELIVERY_ORDER
from outcome_pipeline_tests.outcomes import fixture as fx

# What prepare_session registers before any relation runs.
SESSION_INPUTS = (
    "in_customers",
    "in_interactions",
    "in_interactions_main",
    "in_survey_responses",
    "in_context",
    "in_cases",
    "in_subscription_events",
    "days",
    "dim_channels",
    "dim_segments",
    "sync_channels",
    "ttr_buckets",
)
KNOWN = (*SESSION_INPUTS, *(r.name for r in RELATIONS))


def _code(text: str) -> str:
    """SQL without its comments."""
    return re.sub(r"--[^\n]*", "", text)


def _reads_in_sql(text: str, itself: str = "") -> set[str]:
    code = _code(text)
    found = {name for name in KNOWN if name != itself and re.search(rf"\b{name}\b", code)}
    if "resolve_identity(" in code:
        found |= set(IDENTITY_LOOKUPS)
    return found


def test_every_sql_file_is_a_declared_relation_a_mart_or_the_macros() -> None:
    files = {p.name for p in SQL_DIR.glob("*.sql")}
    declared = {r.file.name for r in RELATIONS} | {mart_file(t).name for t in MARTS}
    assert files == declared | {"macros.sql"}
    assert set(MARTS) == set(OUTCOME_TABLES)
    assert all(r.name.startswith("int_") for r in RELATIONS)


@pytest.mark.parametrize("path", sorted(SQL_DIR.glob("*_*.sql")), ids=lambda p: p.name)
def test_each_file_states_its_grain_first(path) -> None:
    first = path.read_text().splitlines()[0]
    assert first.startswith("-- Grain: one row per "), first


@pytest.mark.parametrize("relation", RELATIONS, ids=lambda r: r.name)
def test_each_file_creates_its_relation_and_reads_what_it_declares(relation) -> None:
    code = _code(relation.file.read_text())
    kind = "VIEW" if relation.is_view else "TABLE"
    assert re.findall(r"CREATE OR REPLACE TEMP (?:TABLE|VIEW) (\w+)", code) == [relation.name]
    assert f"CREATE OR REPLACE TEMP {kind} {relation.name} AS" in code
    assert "DROP " not in code.upper(), "lifetimes are declared in relations.py, not dropped here"
    assert _reads_in_sql(code, relation.name) == set(relation.reads)


@pytest.mark.parametrize("table", sorted(MARTS))
def test_each_mart_reads_what_it_declares(table) -> None:
    assert _reads_in_sql(mart_file(table).read_text()) == set(MARTS[table])


def test_relations_are_built_after_what_they_read() -> None:
    built = set(SESSION_INPUTS)
    for relation in RELATIONS:
        assert set(relation.reads) <= built, relation.name
        built.add(relation.name)


def test_lifetimes_keep_what_is_read_later_and_drop_the_rest() -> None:
    """Simulated: at every relation, what it reads (and what the views it reads read) still
    exists; at the end exactly what the marts need is left."""
    views = {r.name: r for r in RELATIONS if r.is_view}

    def needs(reads: tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        for name in reads:
            out |= {name} | (needs(views[name].reads) if name in views else set())
        return out

    alive = set(SESSION_INPUTS)
    for relation in RELATIONS:
        assert needs(relation.reads) <= alive, relation.name
        alive.add(relation.name)
        alive -= set(expiring_after()[relation.name])
    for table, reads in MARTS.items():
        assert needs(reads) <= alive, table
    left = {r.name for r in RELATIONS} & alive
    assert left == {r.name for r in RELATIONS} & set().union(*map(needs, MARTS.values()))
    # The customers copy of the warehouse path goes with its only reader.
    assert "in_customers" in expiring_after()["int_crm_versions"]


def test_the_runner_drops_each_intermediate_after_its_last_reader() -> None:
    """In a real session: after the build, the session holds the relations the marts read
    and no other intermediate (a relation dropped too early fails the build)."""
    with engine_session() as con:
        prepare_session(con, fx.inputs(), fx.DAYS, fx.lt("06-25 00:00"), OutcomeConfig())
        for relation in RELATIONS:
            run_relation(con, relation, fx.inputs())
        left = {
            row[0]
            for row in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE temporary "
                "UNION SELECT view_name FROM duckdb_views() WHERE temporary"
            ).fetchall()
        }
    intermediates = {r.name for r in RELATIONS}
    read_by_marts = {n for reads in MARTS.values() for n in reads} & intermediates
    assert left & intermediates == read_by_marts
    assert "in_customers" in left  # an Arrow input is no copy: only a warehouse copy is dropped


def test_latest_delivery_ranks_as_the_warehouse_views() -> None:
    macros = (SQL_DIR / "macros.sql").read_text()
    assert f"ORDER BY {LATEST_DELIVERY_ORDER}" in " ".join(macros.split())


def test_latest_delivery_keeps_each_keys_latest_delivery() -> None:
    con = duckdb.connect()
    con.execute("SET VARIABLE hmac_ipad = ''::BLOB")
    con.execute((SQL_DIR / "macros.sql").read_text())
    con.execute(
        "CREATE TABLE deliveries AS SELECT * FROM (VALUES "
        "('a', 1, DATE '2024-01-01', 'f1', 1, 'old'), ('a', 2, DATE '2024-01-01', 'f1', 2, 'new'), "
        "('b', 1, DATE '2024-01-01', 'f1', 3, 'first'), ('b', 1, DATE '2024-01-02', 'f2', 1, "
        "'redelivered'), ('c', 5, DATE '2024-01-01', 'f1', 4, 'only')) "
        "AS t(id, updated_at, partition_date, source_file, source_line, value)"
    )
    rows = con.execute(
        "SELECT id, value FROM latest_delivery('deliveries', id) ORDER BY id"
    ).fetchall()
    assert rows == [("a", "new"), ("b", "redelivered"), ("c", "only")]
    versions = con.execute(
        "SELECT id, updated_at, value FROM latest_delivery('deliveries', (id, updated_at)) "
        "ORDER BY id, updated_at"
    ).fetchall()
    assert versions == [("a", 1, "old"), ("a", 2, "new"), ("b", 1, "redelivered"), ("c", 5, "only")]


def test_every_macro_is_used_by_production_sql() -> None:
    """No macro only tests call: each is called by a relation, a mart, the generated rate
    macros or another macro."""
    macros = _code((SQL_DIR / "macros.sql").read_text())
    production = macros + "".join(_code(p.read_text()) for p in SQL_DIR.glob("*_*.sql"))
    production += rate_macros_sql()
    for name in re.findall(r"CREATE OR REPLACE TEMP MACRO (\w+)", macros):
        calls = len(re.findall(rf"\b{name}\(", production)) - 1  # less its definition
        assert calls > 0, f"macro {name} is called by no production SQL"


def test_rates_are_generated_from_their_declarations() -> None:
    """Each table with rates selects through its generated macro, which has one
    ratio(numerator, denominator) per RateColumn; the marts spell no rate."""
    generated = rate_macros_sql()
    for table, rates in RATES.items():
        mart = _code(mart_file(table).read_text())
        if not rates:
            assert rate_macro_name(table) not in generated
            continue
        assert f"{rate_macro_name(table)}('" in mart, table
        for rate, (numerator, denominator) in rates.items():
            assert f"ratio({numerator}, {denominator}) AS {rate}" in generated
            assert not re.search(rf"\bAS {rate}\b", mart), f"{table}.{rate} spelled in the mart"
