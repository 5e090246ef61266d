"""Read one table-day: every landing file and source mapping, typed, deduplicated and
repaired — the steps of staging before row-level validation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.ingest.conform import EXTRA, LINE
from outcome_pipeline.ingest.landing import discover_day
from outcome_pipeline.ingest.mapping import CompiledMapping, MappedDay, map_day
from outcome_pipeline.ingest.native import MAPPING as VIA_MAPPING
from outcome_pipeline.ingest.native import native_ingest_mode
from outcome_pipeline.ingest.raw_file import FILE, LandingFileError
from outcome_pipeline.ingest.stage_file import MAPPING, FileReport, read_landing_file
from outcome_pipeline.validation.repair import repair_clock_skew


@dataclass
class ReadDay:
    """One table-day read, typed, deduplicated and repaired: the rows to validate
    (``latest``), and what staging needs afterwards."""

    contract: TableContract
    day: date
    timezone: str
    run_id: str
    latest: pa.Table
    reject_parts: list[pa.Table]
    reports: list[FileReport]
    bad_files: list[dict[str, object]]
    # Older deliveries of an id delivered again the same day (typed rows, with lineage).
    superseded: pa.Table
    repaired: int


def read_day(
    root: Path,
    contract: TableContract,
    day: date,
    timezone: str,
    run_id: str = "",
    clock_skew_seconds: int = 0,
    mappings: Sequence[CompiledMapping] = (),
    native_ingest: str | None = None,
) -> ReadDay:
    """The steps of :func:`stage_day` before validation."""
    via_mapping = native_ingest_mode(native_ingest) == VIA_MAPPING
    typed_parts, reject_parts, reports, bad_files = [], [], [], []
    listing = discover_day(root, contract.feed, day).for_table(contract.name)

    def lost(relative: str, error: str) -> None:
        bad_files.append(
            {
                "partition_date": day,
                "feed": contract.name,
                "source_file": relative,
                "error": error,
                "run_id": run_id,
            }
        )

    mapped = [map_day(root, m, day) for m in mappings]
    # A file a mapping reads is not the native reader's (nor a stray of its folder).
    claimed = {f for md in mapped for f in md.relative_files}
    for md in mapped:
        _add_mapped(md, day, contract, run_id, typed_parts, reject_parts, reports, bad_files)
    for skipped in listing.skipped:
        if skipped.relative not in claimed:
            lost(skipped.relative, skipped.error)
    for lf in listing.files:
        if lf.relative in claimed:
            continue
        try:
            typed, rejects, report = read_landing_file(lf, contract, timezone, via_mapping)
        except LandingFileError as exc:
            lost(lf.relative, f"{exc.reason}: " + str(exc).replace(str(lf.path), lf.relative))
            continue
        typed_parts.append(typed)
        reject_parts.append(rejects)
        reports.append(report)
    typed_all = pa.concat_tables(typed_parts) if typed_parts else _empty_typed(contract)
    latest, superseded = _dedupe(typed_all, contract)
    latest, repaired = repair_clock_skew(latest, contract.name, clock_skew_seconds)
    return ReadDay(
        contract,
        day,
        timezone,
        run_id,
        latest,
        reject_parts,
        reports,
        bad_files,
        superseded,
        repaired,
    )


def _add_mapped(
    md: MappedDay,
    day: date,
    contract: TableContract,
    run_id: str,
    typed_parts: list[pa.Table],
    reject_parts: list[pa.Table],
    reports: list[FileReport],
    bad_files: list[dict[str, object]],
) -> None:
    lineage = pa.array([md.mapping.lineage] * md.typed.num_rows, pa.string())
    typed_parts.append(md.typed.append_column(MAPPING, lineage))
    reject_parts.append(md.rejects)
    fmt = f"{md.mapping.fmt} via {md.mapping.lineage}"
    reports.extend(FileReport(f.file, fmt, f.rows_read, f.rows_quarantined) for f in md.files)
    bad_files.extend(
        {
            "partition_date": day,
            "feed": contract.name,
            "source_file": file,
            "error": error,
            "run_id": run_id,
        }
        for file, error in md.bad_files
    )


def _empty_typed(contract: TableContract) -> pa.Table:
    schema = pa.schema(
        [(c.name, c.type) for c in contract.columns]
        + [(LINE, pa.int64()), (EXTRA, pa.string()), (FILE, pa.string()), (MAPPING, pa.string())]
    )
    return schema.empty_table()


def _dedupe(table: pa.Table, contract: TableContract) -> tuple[pa.Table, pa.Table]:
    """Keep the latest delivery of each id (updated_at, then file and line break ties):
    (kept rows, superseded rows).

    Only the few rows whose id occurs more than once are sorted; the day keeps file order.
    """
    if table.num_rows == 0:
        return table, table
    keys = table[contract.key]
    counts = pa.table({"k": keys}).group_by("k").aggregate([("k", "count")])
    repeated = counts.filter(pc.greater(counts["k_count"], 1))["k"]
    if len(repeated) == 0:
        return table, table.schema.empty_table()
    in_repeated = pc.is_in(keys, value_set=repeated.combine_chunks())
    positions = pc.indices_nonzero(in_repeated)
    subset = table.select([contract.key, "updated_at", FILE, LINE]).take(positions)
    subset = subset.append_column("_pos", positions)
    ordered = subset.sort_by(
        [
            (contract.key, "ascending"),
            ("updated_at", "ascending"),
            (FILE, "ascending"),
            (LINE, "ascending"),
        ]
    )
    sorted_keys = ordered[contract.key].combine_chunks()
    next_differs = pc.not_equal(sorted_keys[1:], sorted_keys[:-1]).to_numpy(zero_copy_only=False)
    superseded = ~np.append(next_differs, True)  # every copy but the last of its id
    drop = ordered["_pos"].combine_chunks().to_numpy()[superseded]
    keep = np.ones(table.num_rows, dtype=bool)
    keep[drop] = False
    return table.filter(pa.array(keep)), table.filter(pa.array(~keep))
