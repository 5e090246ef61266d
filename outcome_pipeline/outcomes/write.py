"""Writing a chunk's outcome tables straight from the engine session into the warehouse, and
what a run's metadata needs of them (pure core, no Dagster).

The tables leave the session as record batches and go into one insert per table in one
transaction (``Warehouse.replacing``): memory is the session's cap plus a few batches, not
the chunk's tables held as Arrow. What the run reports of the rows (rows per day, the
``daily_outcomes`` summary, when provisional days become final) is gathered from the batches
as they pass (:class:`ChunkSummary`), so nothing needs the whole tables afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa

from outcome_pipeline.outcomes.compute import ComputedOutcomes
from outcome_pipeline.outcomes.day_summary import rows_per_day
from outcome_pipeline.outcomes.maturity import open_journey_count
from outcome_pipeline.outcomes.steps import BATCH_ROWS
from outcome_pipeline.outcomes.tables import OUTCOME_TABLES
from outcome_pipeline.warehouse.warehouse import PartitionWindow, PartitionWrite, Warehouse

# The journeys' columns the maturity rules read (maturity.final_on_days, churn_final_on):
# only their latest value per day matters, so a chunk keeps one row per day of them.
JOURNEY_MAXIMA = ("window_closes_at", "last_contact_ended_at")


def _journey_maxima(rows: pa.Table) -> pa.Table:
    """One row per partition_date: the latest non-null of each JOURNEY_MAXIMA column (null
    when a day has none), under the columns' own names."""
    grouped = rows.group_by("partition_date").aggregate([(c, "max") for c in JOURNEY_MAXIMA])
    return grouped.select(["partition_date", *(f"{c}_max" for c in JOURNEY_MAXIMA)]).rename_columns(
        ["partition_date", *JOURNEY_MAXIMA]
    )


@dataclass
class ChunkSummary:
    """What the run's metadata needs of a chunk's outcome tables, gathered from their batches
    (:meth:`observe`) instead of the whole tables."""

    # {table: {partition_date: rows}}
    rows_per_day: dict[str, dict[date, int]] = field(
        default_factory=lambda: {name: {} for name in OUTCOME_TABLES}
    )
    # Journeys not ended at as_of (maturity.open_journey_count).
    open_journeys: int = 0
    # daily_outcomes is small (one row per day × segment × channel): kept whole.
    _daily: list[pa.RecordBatch] = field(default_factory=list)
    _maxima: list[pa.Table] = field(default_factory=list)

    def observe(self, name: str, reader: pa.RecordBatchReader) -> pa.RecordBatchReader:
        """``reader``'s batches unchanged, tallied as they pass."""

        def tallied() -> Iterator[pa.RecordBatch]:
            counts = self.rows_per_day[name]
            for batch in reader:
                rows = pa.Table.from_batches([batch])
                for day, n in rows_per_day(rows).items():
                    counts[day] = counts.get(day, 0) + n
                if name == "daily_outcomes":
                    self._daily.append(batch)
                elif name == "journeys":
                    self.open_journeys += open_journey_count(rows)
                    self._maxima.append(_journey_maxima(rows))
                yield batch

        return pa.RecordBatchReader.from_batches(reader.schema, tallied())

    @property
    def daily_outcomes(self) -> pa.Table:
        """The chunk's daily_outcomes rows."""
        schema = OUTCOME_TABLES["daily_outcomes"].arrow_schema
        return pa.Table.from_batches(self._daily, schema)

    @property
    def journey_days(self) -> pa.Table:
        """Per partition_date the latest ``window_closes_at`` and ``last_contact_ended_at``
        of its journeys: what ``final_on_days`` and ``churn_final_on`` read of the journeys
        (the latest per day of the latest per batch is the latest per day)."""
        schema = OUTCOME_TABLES["journeys"].arrow_schema
        empty = _journey_maxima(schema.empty_table())
        return _journey_maxima(pa.concat_tables([empty, *self._maxima]))


def write_outcomes(
    wh: Warehouse,
    computed: ComputedOutcomes,
    start: date,
    end: date,
    also: Sequence[PartitionWrite] = (),
    batch_rows: int = BATCH_ROWS,
) -> ChunkSummary:
    """Replace the partitions [start, end) of every outcome table by ``computed``'s rows,
    streamed table by table, and the ``also`` writes, in ONE transaction: a failure at any
    point (computing, reading out, inserting) rolls it all back and leaves the previous
    rows. Returns what the metadata needs of the rows written. ``batch_rows``: rows per
    batch read out of the session."""
    summary = ChunkSummary()
    windows = [
        *(PartitionWindow(table, start, end) for table in OUTCOME_TABLES.values()),
        *(PartitionWindow(w.table, w.start, w.end, w.match) for w in also),
    ]
    with wh.replacing(windows) as insert:
        # One reader at a time (ComputedOutcomes): each is consumed by its insert.
        for name, table in OUTCOME_TABLES.items():
            insert(table, summary.observe(name, computed.reader(name, batch_rows)))
        for w in also:
            insert(w.table, w.rows)
    return summary
