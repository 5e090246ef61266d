"""Stage one table for one business day: read every file, type, dedupe, account for each row.

Pure: files in, Arrow tables out. The Dagster asset writes what this returns.
Every row of a readable file ends in exactly one of: staged, quarantined (with a reason), or
counted as an older delivery of a staged id — ``rows_read = rows_staged + rows_quarantined +
rows_duplicate``. A file that cannot be read at all is quarantined as a file, with its error;
so is every file under the feed's folder that discovery does not read (an unknown name, a
subfolder, a link out of the landing root, ...): ``quarantine_files.error`` starts with a
reason code, and every such file fails the blocking ``load_ok`` check.

Order of the steps, and why: type (a value that is not of its type cannot be compared), then
dedupe (the latest delivery of an id is the truth, so it is the one that is validated), then
validate (rows failing a row-level rule go to quarantine with every failed rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.mapping import CompiledMapping
from outcome_pipeline.ingest.stage_finish import StagedDay, finish_day
from outcome_pipeline.ingest.stage_read import read_day

# A row-level validator: typed, deduplicated rows in; per failing row index, its reasons out
# as (reason_code, message) pairs. The validation layer provides it (Great Expectations).
RowValidator = Callable[[pa.Table, TableContract, date], dict[int, list[tuple[str, str]]]]


def stage_day(
    root: Path,
    contract: TableContract,
    day: date,
    timezone: str,
    run_id: str = "",
    validator: RowValidator | None = None,
    clock_skew_seconds: int = 0,
    first_day: date | None = None,
    mappings: Sequence[CompiledMapping] = (),
    native_ingest: str | None = None,
) -> StagedDay:
    """Read, type, dedupe and validate every file of ``contract`` delivered for ``day``.

    Before validation, timestamps out of order by at most ``clock_skew_seconds`` are put in
    order (:func:`~outcome_pipeline.validation.repair.repair_clock_skew`); those rows are
    staged and counted in ``rows_repaired``. ``first_day``: the first partition; staged rows
    whose event time is on an earlier business day are counted in ``rows_before_start``.

    ``mappings`` are source mappings onto this contract: their files are read by their own
    query and join the native rows before the dedupe, so one rule applies to both.
    ``native_ingest``: which reader reads the native contract files (``reader`` or
    ``mapping``: their identity mappings through the mapping engine); default the
    ``OUTCOME_NATIVE_INGEST`` setting (:mod:`outcome_pipeline.ingest.native`).

    The same as :func:`~outcome_pipeline.ingest.stage_read.read_day` then
    :func:`~outcome_pipeline.ingest.stage_finish.finish_day` (a range validates its days' rows
    together between the two).
    """
    read = read_day(
        root, contract, day, timezone, run_id, clock_skew_seconds, mappings, native_ingest
    )
    failures = None
    if validator is not None and read.latest.num_rows:
        failures = validator(read.latest, contract, day)
    return finish_day(read, failures, first_day)
