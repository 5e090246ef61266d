"""From simulated rows to day folders: late files, redeliveries, defects, file formats.

Each table arrives as Arrow tables of contract columns plus ``__day`` (business day the
row is delivered for, as days since 1970-01-01) and ``__file`` (the file stem it is exported
to): whole, or one per journey batch through a :class:`DayQueue` that writes each day as
soon as it is complete. Per day, with a random stream of its own:

1. late interactions move to the next day's ``interactions_late`` file;
2. a share of rows is delivered twice in the same folder (a redelivery file or a repeat at
   the end of the same file); the first copy is sometimes a stale version (earlier
   ``updated_at``, an interaction not yet marked resolved), the latest ``updated_at`` is true;
3. defects go onto rows of CSV / JSONL files that are not duplicated;
4. files are written and every count lands in the :class:`GenerationReport`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts.feeds import INTERACTIONS, TableContract
from outcome_pipeline.generator.config import GeneratorConfig, rng_for
from outcome_pipeline.generator.defects import choose_defects
from outcome_pipeline.generator.report import DayStats, FileRecord, GenerationReport
from outcome_pipeline.generator.timeutil import NA, BusinessClock, day_from_epoch, from_timestamp
from outcome_pipeline.generator.writers import Overrides, write_csv, write_jsonl, write_parquet

LATE = "interactions_late"
REDELIVERY = "interactions_redelivery"


@dataclass(frozen=True)
class FileSpec:
    fmt: str
    local_time: bool = False  # CSV timestamps in business local time with offset


FILES: dict[str, FileSpec] = {
    "interactions_telephony": FileSpec("csv", local_time=True),
    "interactions_chat": FileSpec("jsonl"),
    "interactions_digital": FileSpec("parquet"),
    REDELIVERY: FileSpec("jsonl"),
    "customers": FileSpec("csv"),
    "customers_signups": FileSpec("jsonl"),
    "cases": FileSpec("jsonl"),
    "cases_autoclose": FileSpec("parquet"),
    "subscription_events": FileSpec("parquet"),
    "subscription_events_billing": FileSpec("csv"),
    "survey_responses": FileSpec("jsonl"),
    "survey_responses_nps": FileSpec("csv"),
}


def file_spec(stem: str, day: int) -> FileSpec:
    """The late file alternates CSV / JSONL by day, as two different export jobs would."""
    if stem == LATE:
        return FileSpec("csv" if day % 2 == 0 else "jsonl")
    return FILES[stem]


def _set(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _stale(
    rng: np.random.Generator, contract: TableContract, table: pa.Table, rows: np.ndarray
) -> pa.Table:
    """An earlier version of ``rows``: exported before the record was final."""
    mask = np.zeros(table.num_rows, dtype=bool)
    mask[rows] = True
    updated = from_timestamp(table["updated_at"])
    if contract is INTERACTIONS:
        floor = from_timestamp(table["ended_at"])
        earlier = floor
        disp = table["disposition"]
        pending = pc.if_else(pc.equal(disp, "resolved"), "follow_up", disp)
        table = _set(table, "disposition", pc.if_else(pa.array(mask), pending, disp))
        acw = table["acw_seconds"]
        table = _set(
            table, "acw_seconds", pc.if_else(pa.array(mask), pa.scalar(None, pa.int64()), acw)
        )
    else:
        # Never before the record's own event time or creation.
        floor = updated - 3600
        if contract.event_time not in (None, "updated_at"):
            floor = from_timestamp(table[contract.event_time])
        if "created_at" in table.column_names:
            floor = np.maximum(floor, from_timestamp(table["created_at"]))
        earlier = updated - rng.integers(60, 3600, table.num_rows)
    stale = np.where(mask, np.maximum(np.minimum(earlier, updated), floor), updated)
    ts = pa.array(stale * 1_000_000, type=pa.timestamp("us", tz="UTC"))
    return _set(table, "updated_at", ts)


class DayQueue:
    """One table's rows waiting for their day folder; each day is written once complete.

    Tables arrive in simulation order (one per journey batch, or the whole table at once),
    each with rows of any days; ``deliver(d)`` writes day ``d`` as soon as nothing added
    later can hold rows of it, and frees them. Rows of later days are kept as compact
    copies, so only the days not yet delivered stay in memory. A day's rows, and their order
    in its files, are those of sorting the concatenation of everything added by (day, file,
    event time), ties keeping the order of arrival.
    """

    def __init__(
        self,
        cfg: GeneratorConfig,
        contract: TableContract,
        clock: BusinessClock,
        report: GenerationReport,
        start_day: int,
        end_day: int,
    ) -> None:
        self.cfg, self.contract, self.clock, self.report = cfg, contract, clock, report
        self.start_day, self.end_day = start_day, end_day
        self.next_day = start_day  # first day not delivered yet
        self.schema: pa.Schema | None = None
        self.pending: dict[int, list[pa.Table]] = {}
        self.late_in: pa.Table | None = None  # interactions moved here from the day before

    def add(self, table: pa.Table, copy: bool = True) -> None:
        """Queue ``table``'s rows by ``__day``; ``copy=False`` keeps zero-copy slices of it
        (right when the table is delivered whole soon after, wasteful otherwise)."""
        self.schema = self.schema or table.schema
        day = table["__day"].to_numpy()
        if len(day) and np.any(day[1:] < day[:-1]):  # group by day, keeping row order
            order = np.argsort(day, kind="stable")
            table, day = table.take(pa.array(order)), day[order]
        days = np.arange(self.next_day, self.end_day + 1)
        bounds = np.searchsorted(day, days)
        if bounds[0] > np.searchsorted(day, self.start_day):
            raise ValueError(f"{self.contract.name}: rows added for a day already delivered")
        for i, d in enumerate(days[:-1]):
            lo, hi = int(bounds[i]), int(bounds[i + 1])
            if hi > lo:
                part = table.slice(lo, hi - lo)
                if copy and d > self.next_day:
                    part = part.take(pa.array(np.arange(hi - lo)))
                self.pending.setdefault(int(d), []).append(part)

    def deliver(self, day: int) -> None:
        """Write day ``day``'s folder (days are delivered in order, each once)."""
        assert day == self.next_day, (day, self.next_day)
        assert self.schema is not None
        self.next_day += 1
        pieces = self.pending.pop(day, [])
        table = pa.concat_tables(pieces) if pieces else self.schema.empty_table()
        del pieces
        if self.contract is INTERACTIONS:
            table = self._make_late(table, day)
        # Files in name order, rows by event time (ties keep the order of arrival).
        encoded = pc.dictionary_encode(table["__file"]).combine_chunks()
        names = [*encoded.dictionary.to_pylist(), LATE, REDELIVERY]
        rank = np.argsort(np.argsort(names))
        code = encoded.indices.to_numpy()
        event = from_timestamp(table[self.contract.event_time or "updated_at"])
        order = np.lexsort((event, rank[code]))
        table = table.take(pa.array(order)).drop_columns(["__file"])
        _deliver_day(
            self.cfg, self.contract, table, code[order], names, self.clock, self.report, day
        )

    def _make_late(self, table: pa.Table, day: int) -> pa.Table:
        """Move ~late_share of the day's interactions to the next day's late file; the day
        keeps its own rows and those moved here from the day before."""
        rng = rng_for(self.cfg.seed, "late", day)
        late = rng.random(table.num_rows) < self.cfg.late_share
        late_in, self.late_in = self.late_in, None
        if day + 1 < self.end_day and late.any():
            moved = table.filter(pa.array(late))
            moved = _set(moved, "__day", pa.array(np.full(moved.num_rows, day + 1)))
            moved = _set(moved, "__file", pa.array([LATE] * moved.num_rows, pa.string()))
            self.late_in = moved
        kept = table.filter(pa.array(~late)) if late.any() else table
        return pa.concat_tables([kept, late_in]) if late_in is not None else kept


def deliver_table(
    cfg: GeneratorConfig,
    contract: TableContract,
    table: pa.Table,
    clock: BusinessClock,
    report: GenerationReport,
    start_day: int,
    end_day: int,
) -> None:
    """Write every day folder of ``contract``'s whole table and record what was written."""
    queue = DayQueue(cfg, contract, clock, report, start_day, end_day)
    queue.add(table, copy=False)
    del table
    for day in range(start_day, end_day):
        queue.deliver(day)


def _deliver_day(
    cfg: GeneratorConfig,
    contract: TableContract,
    part: pa.Table,
    stems: np.ndarray,
    names: list[str],
    clock: BusinessClock,
    report: GenerationReport,
    day: int,
) -> None:
    """One day folder of one table; ``stems`` are codes into ``names`` (file stems)."""
    rng = rng_for(cfg.seed, "deliver", contract.name, day)
    n = part.num_rows
    late_code, redelivery_code = names.index(LATE), names.index(REDELIVERY)
    # 1. duplicates (never of late rows: those are already a redelivery of sorts)
    dup = (stems != late_code) & (rng.random(n) < cfg.duplicate_share)
    dup_rows = np.flatnonzero(dup)
    stale = dup_rows[rng.random(len(dup_rows)) < 0.4]
    copies = part.take(pa.array(dup_rows))
    copy_stems = stems[dup_rows]
    if contract is INTERACTIONS:
        moved = rng.random(len(dup_rows)) < 0.7
        copy_stems = np.where(moved, redelivery_code, copy_stems)
    # Late = the row a correct pipeline stages (latest version, not defective) has its
    # event time on another business day than the folder's.
    late = np.zeros(n, dtype=bool)
    if contract.event_time is not None:
        late = _event_day(clock, contract, part) != day
    if len(stale):
        part = _stale(rng, contract, part, stale)

    # 2. defects on rows of text files whose id is delivered once
    fmt = np.array([file_spec(name, day).fmt for name in names])[stems]
    candidate = ~dup & (fmt != "parquet")
    defects = choose_defects(rng, contract, part, candidate, fmt == "csv", cfg.defect_rate)
    defect_rows = np.array([d.row for d in defects], dtype=np.int64)

    # 3. files: the day's rows of each stem in order, then the copies that go to that stem
    day_name = day_from_epoch(day).isoformat()
    folder = cfg.out_dir / contract.feed / day_name
    folder.mkdir(parents=True, exist_ok=True)
    stats = report.stats(contract.name, day_name)
    late[defect_rows] = False
    for code in sorted(np.unique(np.concatenate([stems, copy_stems])), key=names.__getitem__):
        stem = names[code]
        spec = file_spec(stem, day)
        rows = np.flatnonzero(stems == code)
        extra = np.flatnonzero(copy_stems == code)
        # rows are sorted by file, so a file's own rows are one contiguous slice
        own = part.slice(int(rows[0]), len(rows)) if len(rows) else part.slice(0, 0)
        assert len(rows) == 0 or rows[-1] - rows[0] + 1 == len(rows)
        body = pa.concat_tables(
            [own.drop_columns(["__day"]), copies.take(pa.array(extra)).drop_columns(["__day"])]
        )
        mine = [d for d in defects if stems[d.row] == code]
        position = np.searchsorted(rows, [d.row for d in mine]).astype(np.int64)
        overrides: Overrides = {}
        for d, pos in zip(mine, position, strict=True):
            at, values = overrides.get(d.column, (np.array([], dtype=np.int64), []))
            overrides[d.column] = (np.append(at, pos), [*values, d.value])
        path = folder / f"{stem}.{spec.fmt}"
        if spec.fmt == "csv":
            clock_or_utc = clock if spec.local_time else None
            write_csv(
                body,
                path,
                contract,
                clock=clock_or_utc,
                overrides=overrides,
                chunk=cfg.render_chunk_rows,
            )
        elif spec.fmt == "jsonl":
            write_jsonl(body, path, contract, overrides=overrides, chunk=cfg.render_chunk_rows)
        else:
            write_parquet(body, path, contract)
        rel = path.relative_to(cfg.out_dir).as_posix()
        size = path.stat().st_size
        report.files.append(
            FileRecord(rel, contract.feed, contract.name, day_name, spec.fmt, body.num_rows, size)
        )
        first_line = 2 if spec.fmt == "csv" else 1
        for d, pos in zip(mine, position, strict=True):
            report.defects.append(
                {
                    "table": contract.name,
                    "day": day_name,
                    "file": rel,
                    "line": int(pos) + first_line,
                    "kind": d.kind,
                    "key": d.key,
                    "column": d.column,
                    "detail": d.detail,
                }
            )
        stats.add(DayStats(body.num_rows, len(extra), len(mine), int(late[rows].sum())))


def _event_day(clock: BusinessClock, contract: TableContract, table: pa.Table) -> np.ndarray:
    assert contract.event_time is not None
    seconds = from_timestamp(table[contract.event_time])
    return clock.local_day(np.where(seconds == NA, 0, seconds))
