"""The outcome tables streamed from the engine session into the warehouse (``write.py``):
the same rows as the whole tables, the same metadata, and one transaction.

The pipeline no longer holds a chunk's tables as Arrow: ``computed_outcomes`` hands them
over as record batches and ``write_outcomes`` inserts them batch by batch, gathering what
the run's metadata needs as they pass. On DuckDB the session reads the very file it then
writes (attached inputs, detached before the write).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pyarrow as pa
import pytest

from outcome_pipeline.outcomes import (
    OUTCOME_TABLES,
    AttachedInputs,
    ComputedOutcomes,
    StreamedInputs,
    compute_outcomes,
    computed_outcomes,
    input_selects,
    input_window,
)
from outcome_pipeline.outcomes.audit import OUTCOME_AUDIT
from outcome_pipeline.outcomes.day_summary import rows_per_day
from outcome_pipeline.outcomes.maturity import churn_final_on, final_on_days, open_journey_count
from outcome_pipeline.outcomes.write import write_outcomes
from outcome_pipeline.warehouse import PartitionWrite, Warehouse
from outcome_pipeline_tests.outcomes.test_attached_inputs import (
    AS_OF,
    CFG,
    DAYS,
    _attached,
    _load,
    _zones,
    staged,  # noqa: F401 (the module-scoped fixture)
)

START, END = DAYS[0], DAYS[-1] + timedelta(days=1)
W = CFG.repeat_window_days


@pytest.fixture
def loaded(warehouse_url: tuple[str, str], staged: dict[str, pa.Table]) -> Iterator[Warehouse]:  # noqa: F811
    """A warehouse (DuckDB file or PostgreSQL schema) with the staged rows and empty outcome
    tables."""
    wh = _load(*warehouse_url, staged)
    wh.create_tables(list(OUTCOME_TABLES.values()))
    yield wh
    wh.dispose()


def _inputs(wh: Warehouse) -> AttachedInputs | StreamedInputs:
    # As the outcome asset reads them: the DuckDB file in place, PostgreSQL streamed.
    if wh.duckdb_path is not None:
        return _attached(wh)
    window = input_window(DAYS[0], DAYS[-1], AS_OF, CFG)
    return StreamedInputs(input_selects(wh.qualified, window, _zones()), wh.read_batches)


def _rows(table: pa.Table) -> list[dict]:
    # Row dicts in a total order: the warehouse labels UTC timestamps its own way.
    return table.sort_by([(c, "ascending") for c in table.column_names]).to_pylist()


def test_streamed_tables_are_the_whole_tables(loaded: Warehouse) -> None:
    """Read out in small batches, every table is the table ``compute_outcomes`` returns."""
    whole = compute_outcomes(_inputs(loaded), DAYS, AS_OF, CFG)
    with computed_outcomes(_inputs(loaded), DAYS, AS_OF, CFG) as computed:
        for name, table in OUTCOME_TABLES.items():
            reader = computed.reader(name, batch_rows=50)
            assert reader.schema.equals(table.arrow_schema), name
            batches = list(reader)
            assert all(b.num_rows <= 50 for b in batches), name
            got = pa.Table.from_batches(batches, table.arrow_schema)
            assert got.num_rows > 0, name
            assert _rows(got) == _rows(whole[name]), name


def test_write_outcomes_writes_the_tables_and_gathers_the_metadata(loaded: Warehouse) -> None:
    """The warehouse holds exactly the computed rows; the summary equals what the metadata
    took from the whole tables before (rows per day, daily_outcomes, the maturity dates,
    open journeys)."""
    whole = compute_outcomes(_inputs(loaded), DAYS, AS_OF, CFG)
    with computed_outcomes(_inputs(loaded), DAYS, AS_OF, CFG) as computed:
        summary = write_outcomes(loaded, computed, START, END, batch_rows=64)
    for name in OUTCOME_TABLES:
        assert _rows(loaded.read_table(name)) == _rows(whole[name]), name
        assert summary.rows_per_day[name] == rows_per_day(whole[name]), name
    assert summary.daily_outcomes.equals(whole["daily_outcomes"])
    journeys = whole["journeys"]
    as_of_day = DAYS[-1]
    assert final_on_days(DAYS, summary.journey_days, as_of_day, W, CFG.timezone) == (
        final_on_days(DAYS, journeys, as_of_day, W, CFG.timezone)
    )
    assert churn_final_on(DAYS, summary.journey_days, CFG) == churn_final_on(DAYS, journeys, CFG)
    assert summary.open_journeys == open_journey_count(journeys)


class _Breaking(ComputedOutcomes):
    """The session failing while ``daily_outputs`` is read out, after its first batch."""

    def __init__(self, inner: ComputedOutcomes) -> None:
        self.inner = inner

    def reader(self, name: str, batch_rows: int = 122_880) -> pa.RecordBatchReader:
        source = self.inner.reader(name, batch_rows)
        if name != "daily_outputs":
            return source

        def batches() -> Iterator[pa.RecordBatch]:
            yield source.read_next_batch()
            raise MemoryError("engine session out of memory")

        return pa.RecordBatchReader.from_batches(source.schema, batches())


def test_a_failure_while_streaming_leaves_the_previous_partitions(loaded: Warehouse) -> None:
    """Written once, then a second write fails midway through a table (earlier tables
    inserted, batches of this one too): every table keeps the first write's rows, and the
    session's own exception is what the caller sees."""
    with computed_outcomes(_inputs(loaded), DAYS, AS_OF, CFG) as computed:
        write_outcomes(loaded, computed, START, END)
    before = {name: _rows(loaded.read_table(name)) for name in OUTCOME_TABLES}
    assert all(before.values())
    loaded.create_tables([OUTCOME_AUDIT])
    audit = PartitionWrite(OUTCOME_AUDIT, START, END, OUTCOME_AUDIT.arrow_schema.empty_table())
    with (
        pytest.raises(MemoryError, match="out of memory"),
        computed_outcomes(_inputs(loaded), DAYS, AS_OF, CFG) as computed,
    ):
        write_outcomes(loaded, _Breaking(computed), START, END, [audit], batch_rows=16)
    assert {name: _rows(loaded.read_table(name)) for name in OUTCOME_TABLES} == before
