"""A range run of the outcome asset in chunks: the same tables as one unchunked run.

Twelve days of skewed generated data (heavy customers keep journeys open past H), chunks of
five days, H = W = 7 days: the first chunk's main zone stops at its end + 1 + H + W, before
as_of, so it reads fewer contacts than the unchunked run; the tables must still be equal
row for row, on DuckDB and PostgreSQL. A failure in a later chunk keeps the chunks written
before it and names them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pyarrow as pa
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes import assets as outcome_assets
from outcome_pipeline.defs.outcomes.assets import AS_OF_TAG, outcome_tables
from outcome_pipeline.defs.resources import LandingResource, ValidationResource, WarehouseResource
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.generator.config import SKEWED
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.outcomes import OUTCOME_TABLES
from outcome_pipeline.warehouse import LOAD_AUDIT, Warehouse
from outcome_pipeline.warehouse.tables import STAGING_TABLES
from outcome_pipeline_tests.conftest import _drop_schema

pytestmark = pytest.mark.slow
TZ = "Europe/London"
START = date(2024, 3, 20)  # the range crosses the change to summer time (31 March)
GENERATED_DAYS = 24
FIRST, LAST = date(2024, 3, 22), date(2024, 4, 2)  # 12 outcome days: chunks of 5, 5, 2
AS_OF_DAY = date(2024, 4, 12)  # after the first chunk's zone end (27 March + 14 days)
OUTCOMES = [dg.AssetKey(n) for n in OUTCOME_TABLES]


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    root = Path(tmp_path_factory.mktemp("landing"))
    generate(GeneratorConfig(root, START, GENERATED_DAYS, 400, seed=21, timezone=TZ, **SKEWED))
    return {
        name: pa.concat_tables(
            stage_day(root, contract, START + timedelta(days=i), TZ).staged
            for i in range(GENERATED_DAYS)
        )
        for name, contract in CONTRACTS.items()
    }


@pytest.fixture
def horizon(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OUTCOME_MAX_JOURNEY_DAYS", "7")  # H = W (the default 7): the smallest


def _warehouse(url: str, schema: str, staged: dict[str, pa.Table]) -> None:
    wh = Warehouse(url, schema)
    try:
        wh.create_tables(list(STAGING_TABLES.values()))
        with wh.begin() as conn:
            for name, rows in staged.items():
                wh.insert_rows(conn, STAGING_TABLES[name], rows)
    finally:
        wh.dispose()


def _run(url: str, schema: str, tmp: Path, chunk_days: int | None, mp: pytest.MonkeyPatch):
    """The outcome asset over FIRST..LAST at AS_OF_DAY, chunks of ``chunk_days`` (None: C
    from OUTCOME_CHUNK_ROWS)."""
    if chunk_days is None:
        mp.delenv("OUTCOME_CHUNK_DAYS", raising=False)
    else:
        mp.setenv("OUTCOME_CHUNK_DAYS", str(chunk_days))
    return dg.materialize(
        [*staging_assets, outcome_tables],
        selection=OUTCOMES,
        tags={
            "dagster/asset_partition_range_start": FIRST.isoformat(),
            "dagster/asset_partition_range_end": LAST.isoformat(),
            AS_OF_TAG: AS_OF_DAY.isoformat(),
        },
        resources={
            "warehouse": WarehouseResource(url=url, schema_name=schema),
            "landing": LandingResource(root=str(tmp / "landing"), timezone=TZ),
            "validation": ValidationResource(data_docs_dir=str(tmp / "docs")),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _rows(url: str, schema: str) -> dict[str, list[dict]]:
    wh = Warehouse(url, schema)
    try:  # read_table orders the rows totally
        return {name: wh.read_table(table).to_pylist() for name, table in OUTCOME_TABLES.items()}
    finally:
        wh.dispose()


def _days(rows: list[dict]) -> set[date]:
    return {r["partition_date"] for r in rows}


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def targets(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, list[str]]]:
    """(url, two fresh schemas) of a DuckDB file or the PostgreSQL server."""
    schemas = [f"t_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/w.duckdb", schemas
        return
    url = request.getfixturevalue("pg_url")
    try:
        yield url, schemas
    finally:
        for schema in schemas:
            _drop_schema(url, schema)


def test_chunked_range_equals_one_unchunked_run(
    staged, targets, horizon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, (whole_schema, chunked_schema) = targets
    for schema in (whole_schema, chunked_schema):
        _warehouse(url, schema, staged)
    assert _run(url, whole_schema, tmp_path, 1000, monkeypatch).success
    assert _run(url, chunked_schema, tmp_path, 5, monkeypatch).success
    whole, chunked = _rows(url, whole_schema), _rows(url, chunked_schema)
    n_days = (LAST - FIRST).days + 1
    assert _days(whole["daily_outcomes"]) == {FIRST + timedelta(days=i) for i in range(n_days)}
    assert len(whole["journeys"]) > 1000
    # The skewed data's heavy customers keep journeys going past the first chunk's zone end.
    assert any(r["is_capped"] for r in whole["journeys"])
    for name in OUTCOME_TABLES:
        assert chunked[name] == whole[name], name


def test_a_failed_chunk_keeps_the_chunks_before_it_and_names_them(
    staged, horizon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"duckdb:///{tmp_path}/w.duckdb"
    _warehouse(url, "outcome", staged)
    compute = outcome_assets.computed_outcomes
    calls: list[list[date]] = []

    @contextmanager
    def second_chunk_fails(inputs, days, *args, **kwargs):
        calls.append(days)
        if len(calls) == 2:
            raise ValueError("engine broke")
        with compute(inputs, days, *args, **kwargs) as computed:
            yield computed

    monkeypatch.setattr(outcome_assets, "computed_outcomes", second_chunk_fails)
    result = _run(url, "outcome", tmp_path, 5, monkeypatch)
    assert not result.success
    assert [(c[0], c[-1]) for c in calls] == [
        (FIRST, date(2024, 3, 26)),
        (date(2024, 3, 27), date(2024, 3, 31)),
    ]
    written = _rows(url, "outcome")
    first_chunk = {FIRST + timedelta(days=i) for i in range(5)}
    for name in OUTCOME_TABLES:
        assert _days(written[name]) <= first_chunk, name
    assert _days(written["daily_outcomes"]) == first_chunk
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.to_string()
    assert "outcome chunk 2024-03-27..2024-03-31 failed" in message
    assert "chunks written and kept: 2024-03-22..2024-03-26" in message
    assert "not computed: 2024-04-01..2024-04-02" in message
    assert "engine broke" in message


def test_without_chunk_days_the_chunks_are_sized_from_the_staged_rows(
    staged, horizon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No OUTCOME_CHUNK_DAYS: C = OUTCOME_CHUNK_ROWS / (interactions/day in load_audit) -
    (1 + H + W). A budget of 26 days' rows gives C = 26 - 15 = 11: chunks of 11 and 1 day."""
    url = f"duckdb:///{tmp_path}/w.duckdb"
    _warehouse(url, "outcome", staged)
    per_day = pa.TableGroupBy(staged["interactions"], "partition_date").aggregate(
        [("partition_date", "count")]
    )
    counts = dict(
        zip(
            per_day["partition_date"].to_pylist(),
            per_day["partition_date_count"].to_pylist(),
            strict=True,
        )
    )
    wh = Warehouse(url, "outcome")
    try:
        wh.create_tables([LOAD_AUDIT])  # as the asset does
        assert outcome_assets.staged_rows_per_day(wh, START, LAST) is None
        audit = {c.name: [0] * len(counts) for c in LOAD_AUDIT.columns}
        audit |= {
            "partition_date": list(counts),
            "feed": ["interactions"] * len(counts),
            "files": [1] * len(counts),
            "rows_staged": list(counts.values()),
        }
        with wh.begin() as conn:
            wh.insert_rows(conn, LOAD_AUDIT, pa.table(audit))
        # The window the asset reads: the margin day to the last zone's end (here as_of).
        window = [d for d in counts if FIRST - timedelta(days=1) <= d <= AS_OF_DAY]
        mean = sum(counts[d] for d in window) / len(window)
        assert outcome_assets.staged_rows_per_day(
            wh, FIRST - timedelta(days=1), AS_OF_DAY
        ) == pytest.approx(mean)
    finally:
        wh.dispose()
    monkeypatch.setenv("OUTCOME_CHUNK_ROWS", str(int(mean * 26.5)))
    compute = outcome_assets.computed_outcomes
    calls: list[list[date]] = []

    @contextmanager
    def recorded(inputs, days, *args, **kwargs):
        calls.append(days)
        with compute(inputs, days, *args, **kwargs) as computed:
            yield computed

    monkeypatch.setattr(outcome_assets, "computed_outcomes", recorded)
    result = _run(url, "outcome", tmp_path, None, monkeypatch)
    assert result.success
    assert [(c[0], c[-1]) for c in calls] == [(FIRST, date(2024, 4, 1)), (LAST, LAST)]


def test_a_chunk_past_the_engine_memory_cap_fails_once_naming_the_settings(
    staged, horizon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB stops at its cap where an operator cannot spill ("Out of Memory Error"): a real
    one here (a cap far below what the chunk needs). The run fails once, not retried (the
    same cap fails again), with a paragraph naming the settings that decide it."""
    url = f"duckdb:///{tmp_path}/w.duckdb"
    _warehouse(url, "outcome", staged)
    monkeypatch.setenv("OUTCOME_COMPUTE_MEMORY_LIMIT", "2MB")
    result = _run(url, "outcome", tmp_path, 1000, monkeypatch)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    message = failure.step_failure_data.error.to_string()
    assert "ran out of its memory cap (OUTCOME_COMPUTE_MEMORY_LIMIT=2MB: 2MB)" in message
    assert "computing 12 day(s) from" in message
    assert "OUTCOME_CHUNK_ROWS" in message
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert _rows(url, "outcome")["daily_outcomes"] == []
