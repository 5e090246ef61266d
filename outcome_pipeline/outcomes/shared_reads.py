"""Inputs the chunks of one range run read alike, read out of the warehouse once per run.

Every chunk of a range run reads the CRM histories (customers, subscription events) up to
its window's end, and survey responses from its window's start to that end
(:class:`~outcome_pipeline.outcomes.config.InputWindow`); the end is the business day of
as_of for every chunk, and the starts grow chunk by chunk, so a later chunk's rows of these
feeds are a subset of the first chunk's. Streamed out of the warehouse again by each chunk,
they cost each chunk as much as the first. :class:`SharedReads` streams a feed out once,
handing its batches to the chunk that asked while keeping them in an Arrow IPC file in a
private folder, and gives each later chunk the file's rows of its own partitions: the same
rows a SELECT of those partitions returns (in another order; no step depends on the order
of its inputs). A request the file does not cover (an earlier start, a later end) reads the
feed out again.

The folder is ``outcome_reads_<pid>_<random>`` in ``$TMPDIR``, removed by :meth:`close` (or
when the object is collected); a killed run's is removed by the next run (``leftovers.py``).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import weakref
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.leftovers import remove_dead_leftovers
from outcome_pipeline.outcomes.config import InputWindow
from outcome_pipeline.outcomes.inputs import StreamedInputs, input_schema
from outcome_pipeline.outcomes.warehouse_selects import partitions_select

# The feeds whose select is a plain range of partitions the chunks of a run share (cases are
# selected by the case ids of each chunk's contacts, interactions by its own zone).
SHARED_INPUTS = ("customers", "subscription_events", "survey_responses")
READS_PREFIX = "outcome_reads_"
_READS_FOLDER = re.compile(rf"{READS_PREFIX}(?P<pid>[0-9]+)_[A-Za-z0-9_]+")
# Kept files are compressed: they hold up to a year of a feed; LZ4 decodes faster than the
# warehouse can send the rows.
_IPC_OPTIONS = pa.ipc.IpcWriteOptions(compression="lz4")


@dataclass(frozen=True)
class _Kept:
    path: Path
    first: date | None
    last: date

    def covers(self, first: date | None, last: date) -> bool:
        return (self.first is None or (first is not None and self.first <= first)) and (
            self.last >= last
        )


class SharedReads:
    """The SHARED_INPUTS of a run's chunks, each streamed out of the warehouse once.

    ``read(sql, schema)`` streams a SELECT out (``Warehouse.read_batches``); ``qualify``
    names a staging table in SQL (``Warehouse.qualified``). Not thread-safe: one run, chunks
    one after another.
    """

    def __init__(
        self,
        read: Callable[[str, pa.Schema], Iterator[pa.Table]],
        qualify: Callable[[str], str],
        folder: Path | None = None,
    ) -> None:
        self._read = read
        self._qualify = qualify
        parent = folder or Path(tempfile.gettempdir())
        remove_dead_leftovers(parent, _READS_FOLDER)
        self.folder = Path(tempfile.mkdtemp(prefix=f"{READS_PREFIX}{os.getpid()}_", dir=parent))
        self._kept: dict[str, _Kept] = {}
        self._remove = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        # Rows streamed out of the warehouse / handed over from the kept files (for tests and
        # the benchmark's log).
        self.rows_read = 0
        self.rows_reused = 0

    def close(self) -> None:
        """Remove the kept files (the object is of no further use)."""
        self._remove()

    def tables(self, name: str, first: date | None, last: date) -> Iterator[pa.Table]:
        """The rows of staged feed ``name`` with ``first <= partition_date <= last`` (first
        None: from the first partition), as ``input_schema(name)`` tables."""
        if name not in SHARED_INPUTS:
            raise ValueError(f"{name} is not read once per run (SHARED_INPUTS)")
        kept = self._kept.get(name)
        if kept is not None and kept.covers(first, last):
            yield from self._from_file(kept, first, last)
        else:
            yield from self._stream_and_keep(name, first, last)

    def streamed_inputs(self, selects: Mapping[str, str], window: InputWindow) -> StreamedInputs:
        """A chunk's :class:`StreamedInputs` (``selects``: :func:`input_selects` of its
        ``window``) whose SHARED_INPUTS come from here."""
        return StreamedInputs(
            selects,
            self._read,
            {name: partial(self.tables, name, *window.for_input(name)) for name in SHARED_INPUTS},
        )

    def _stream_and_keep(self, name: str, first: date | None, last: date) -> Iterator[pa.Table]:
        schema = input_schema(name)
        self._kept.pop(name, None)
        path = self.folder / f"{name}.arrow"
        sql = partitions_select(self._qualify, name, first, last)
        with (
            pa.OSFile(str(path), "wb") as sink,
            pa.ipc.new_file(sink, schema, options=_IPC_OPTIONS) as out,
        ):
            for table in self._read(sql, schema):
                out.write_table(table)
                self.rows_read += table.num_rows
                yield table
        # Only a complete read is kept (a consumer that stopped early left the file short).
        self._kept[name] = _Kept(path, first, last)

    def _from_file(self, kept: _Kept, first: date | None, last: date) -> Iterator[pa.Table]:
        with pa.memory_map(str(kept.path)) as source:
            reader = pa.ipc.open_file(source)
            for i in range(reader.num_record_batches):
                batch = reader.get_batch(i)
                days = batch.column("partition_date")
                keep = pc.less_equal(days, pa.scalar(last, pa.date32()))
                if first is not None:
                    keep = pc.and_(keep, pc.greater_equal(days, pa.scalar(first, pa.date32())))
                batch = batch.filter(keep)
                if batch.num_rows:
                    self.rows_reused += batch.num_rows
                    yield pa.Table.from_batches([batch])
