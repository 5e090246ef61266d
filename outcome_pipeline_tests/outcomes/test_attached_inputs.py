"""Inputs read in place from a DuckDB warehouse file, or streamed out of PostgreSQL into the
engine session, give the tables the Arrow path gives.

The outcome asset attaches a DuckDB warehouse to the engine session (``AttachedInputs``) and
streams PostgreSQL's rows into session tables chunk by chunk (``StreamedInputs``) instead of
reading the staged window out as whole Arrow tables. Same staged rows, same SELECTs
(``input_selects``): every table must be equal row for row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.outcomes import (
    ATTACHED,
    CONTEXT_SCHEMA,
    AttachedInputs,
    OutcomeConfig,
    OutcomeInputs,
    StreamedInputs,
    compute_outcomes,
    input_schema,
    input_selects,
    input_window,
    zones,
)
from outcome_pipeline.outcomes.shared_reads import SharedReads
from outcome_pipeline.warehouse import Warehouse, pg_read
from outcome_pipeline.warehouse.tables import STAGING_TABLES

TZ = "Europe/London"
START = date(2024, 5, 1)
GENERATED_DAYS = 16
DAYS = [START + timedelta(days=i) for i in range(10, 13)]
AS_OF = datetime.combine(START + timedelta(days=14), time(), ZoneInfo(TZ))
CFG = OutcomeConfig(timezone=TZ)


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """Every generated day staged, per staging table (re-deliveries and defects included)."""
    root = Path(tmp_path_factory.mktemp("landing"))
    generate(GeneratorConfig(root, START, GENERATED_DAYS, 1500, seed=11, timezone=TZ))
    return {
        name: pa.concat_tables(
            stage_day(root, contract, START + timedelta(days=i), TZ).staged
            for i in range(GENERATED_DAYS)
        )
        for name, contract in CONTRACTS.items()
    }


def _load(url: str, schema: str, staged: dict[str, pa.Table]) -> Warehouse:
    wh = Warehouse(url, schema)
    wh.create_tables(list(STAGING_TABLES.values()))
    with wh.begin() as conn:
        for name, rows in staged.items():
            wh.insert_rows(conn, STAGING_TABLES[name], rows)
    return wh


def _read_out(wh: Warehouse) -> OutcomeInputs:
    selects = input_selects(wh.qualified, input_window(DAYS[0], DAYS[-1], AS_OF, CFG), _zones())
    tables = {name: wh.read_arrow(selects[name], input_schema(name)) for name in CONTRACTS}
    return OutcomeInputs(**tables, context=wh.read_arrow(selects["context"], CONTEXT_SCHEMA))


def _attached(wh: Warehouse) -> AttachedInputs:
    assert wh.duckdb_path is not None
    window = input_window(DAYS[0], DAYS[-1], AS_OF, CFG)
    qualify = lambda t: f"{ATTACHED}.{wh.qualified(t)}"  # noqa: E731
    return AttachedInputs(str(wh.duckdb_path), input_selects(qualify, window, _zones()))


def _zones():
    return zones(DAYS, CFG)


def _assert_same(got: dict[str, pa.Table], expected: dict[str, pa.Table]) -> None:
    assert got.keys() == expected.keys()
    for name, table in expected.items():
        assert table.num_rows > 0, name
        order = [(c, "ascending") for c in table.column_names]
        assert got[name].sort_by(order).equals(table.sort_by(order)), name


@pytest.fixture(scope="module")
def duck(staged: dict[str, pa.Table], tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    path = Path(tmp_path_factory.mktemp("wh")) / "warehouse.duckdb"
    wh = _load(f"duckdb:///{path}", "outcome", staged)
    wh.dispose()
    return wh


@pytest.fixture(scope="module")
def arrow_out(duck: Warehouse) -> dict[str, pa.Table]:
    inputs = _read_out(duck)
    duck.dispose()
    return compute_outcomes(inputs, DAYS, AS_OF, CFG)


def test_attached_duckdb_file_gives_the_arrow_tables(
    duck: Warehouse, arrow_out: dict[str, pa.Table]
) -> None:
    _assert_same(compute_outcomes(_attached(duck), DAYS, AS_OF, CFG), arrow_out)


def test_attached_reads_under_a_small_memory_cap(
    duck: Warehouse, arrow_out: dict[str, pa.Table]
) -> None:
    """The attached scans run under the session's cap like the rest of the steps."""
    got = compute_outcomes(_attached(duck), DAYS, AS_OF, CFG, memory_limit="96MB")
    _assert_same(got, arrow_out)


@pytest.mark.postgres
def test_postgresql_arrow_read_gives_the_same_tables(
    staged: dict[str, pa.Table], arrow_out: dict[str, pa.Table], pg_url: str
) -> None:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    wh = _load(pg_url, schema, staged)
    try:
        _assert_same(compute_outcomes(_read_out(wh), DAYS, AS_OF, CFG), arrow_out)
    finally:
        with wh.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        wh.dispose()


@pytest.mark.postgres
def test_postgresql_streamed_in_chunks_gives_the_same_tables(
    staged: dict[str, pa.Table],
    arrow_out: dict[str, pa.Table],
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the asset does on PostgreSQL: every input streamed into session tables, here in
    chunks of ~64 KB (many per input) and under a small memory cap."""
    monkeypatch.setattr(pg_read, "BATCH_BYTES", 64 << 10)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    wh = _load(pg_url, schema, staged)
    try:
        window = input_window(DAYS[0], DAYS[-1], AS_OF, CFG)
        inputs = StreamedInputs(input_selects(wh.qualified, window, _zones()), wh.read_batches)
        _assert_same(compute_outcomes(inputs, DAYS, AS_OF, CFG, memory_limit="96MB"), arrow_out)
    finally:
        with wh.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        wh.dispose()


def test_a_staging_column_of_another_type_fails_loudly(
    staged: dict[str, pa.Table], tmp_path: Path
) -> None:
    """A staging table whose type drifted is named, not computed into other numbers."""
    wh = _load(f"duckdb:///{tmp_path / 'w.duckdb'}", "outcome", staged)
    with wh.begin() as conn:
        conn.exec_driver_sql(
            'ALTER TABLE outcome."stg_interactions" ALTER talk_seconds TYPE DOUBLE'
        )
    wh.dispose()
    with pytest.raises(ValueError, match="in_interactions: the warehouse gives"):
        compute_outcomes(_attached(wh), DAYS, AS_OF, CFG)


def test_the_file_is_not_attached_while_another_connection_holds_it(
    duck: Warehouse,
) -> None:
    """DuckDB refuses a second open of the file in the process (no silent double open): the
    asset computes with no warehouse connection open and writes after the session closed."""
    with duck.engine.connect(), pytest.raises(duckdb.Error, match=r"already attached|conflict"):
        compute_outcomes(_attached(duck), DAYS, AS_OF, CFG)
    duck.dispose()


def test_shared_reads_of_an_earlier_chunk_give_the_same_tables(
    duck: Warehouse, arrow_out: dict[str, pa.Table], tmp_path: Path
) -> None:
    """What the asset does on PostgreSQL for a range of several chunks (here over the DuckDB
    file's ``read_batches``): an earlier chunk streams the CRM histories and surveys out and
    keeps them; this chunk gets them from the kept files, filtered to its own window."""
    shared = SharedReads(duck.read_batches, duck.qualified, tmp_path)
    try:
        earlier = [d - timedelta(days=3) for d in DAYS]
        window = input_window(earlier[0], earlier[-1], AS_OF, CFG)
        selects = input_selects(duck.qualified, window, zones(earlier, CFG))
        compute_outcomes(shared.streamed_inputs(selects, window), earlier, AS_OF, CFG)
        read = shared.rows_read
        assert read > 0 and shared.rows_reused == 0

        window = input_window(DAYS[0], DAYS[-1], AS_OF, CFG)
        inputs = shared.streamed_inputs(input_selects(duck.qualified, window, _zones()), window)
        _assert_same(compute_outcomes(inputs, DAYS, AS_OF, CFG), arrow_out)
        assert shared.rows_read == read and shared.rows_reused > 0
    finally:
        shared.close()
        duck.dispose()
