"""``compute_outcomes``: staged feeds in, the six outcome tables out (pure, no Dagster).

Engine: an in-memory DuckDB session. The inputs are registered as Arrow tables (zero copy),
the steps in ``sql/`` run in file order (``00``-``07`` build session tables, ``out_*`` select
the tables), and each result is checked against its TableDef. Nothing reads the wall clock;
``as_of`` is the only "now", so the same inputs and as_of give identical rows.

Work is split in time zones, because a contact starts a journey iff its customer had no
contact starting in the W before it:

- *main zone*, from the first computed day (``scope_start``) to ``min(as_of, last day's end
  + H + W)`` (the journey horizon bounds what a computed row can depend on): legs are
  deduplicated, collapsed into contacts, identified, sequenced; journeys started on the
  computed days (and their contacts up to as_of) come from here.
- *margin*, the day before the main zone: read so that the legs of a contact begun the
  evening before find their root; only the chains that reach into the main zone are kept
  (their contacts give those legs a customer and segment), the rest of the day is dropped
  before any contact or identity work.
- *context zone*, the W before the main zone: only first legs, reduced to each customer's
  latest start (for customers seen in the main zone), to tell whether the main zone's first
  contact of a customer is a repeat.

Every per-day row depends only on that day's contacts, the W before them, the contacts after
them up to the main zone's end and the CRM/survey/subscription data, never on which other days are
computed in the same call; the spine depends only on the day's own legs and fixed lists. So
a range run equals day-by-day runs (tested).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts.feeds import CHANNELS, CONTRACTS, SEGMENTS
from outcome_pipeline.ingest.stage import staging_schema
from outcome_pipeline.leftovers import remove_dead_leftovers
from outcome_pipeline.outcomes.config import (
    ASYNC_CHANNELS,
    SYNC_CHANNELS,
    UNKNOWN,
    InputWindow,
    OutcomeConfig,
)
from outcome_pipeline.outcomes.distribution_tables import TTR_BUCKETS
from outcome_pipeline.outcomes.identity import SQL_DIR, register_identity
from outcome_pipeline.outcomes.tables import OUTCOME_TABLES
from outcome_pipeline.warehouse.tables import STAGING_TABLES, TableDef

# The engine session's share of the machine's memory when the caller names no limit. DuckDB
# defaults to 80 % of RAM for its buffer manager alone, beside the Arrow inputs held by
# Python: a large range could exhaust the machine instead of spilling.
DEFAULT_MEMORY_SHARE = 0.5
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$")
# A checkpoint threshold no session reaches (DuckDB's "WAL size" of the in-memory database).
_NO_AUTOMATIC_CHECKPOINT = "1TB"
_STEPS = ("01_crm", "02_legs", "03_contacts", "04_context", "05_journeys", "06_links", "07_daily")
_US = 1_000_000
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")
assert set(SYNC_CHANNELS) | set(ASYNC_CHANNELS) == set(CHANNELS)


@dataclass(frozen=True)
class OutcomeInputs:
    """Staging-shaped Arrow tables (``staging_schema`` of each contract), any partitions.

    customers and cases are change-set histories; the same id may appear in several
    partitions (re-deliveries): the latest ``updated_at`` wins.
    """

    interactions: pa.Table
    customers: pa.Table
    cases: pa.Table
    subscription_events: pa.Table
    survey_responses: pa.Table
    # The context zone already reduced (``context_sql``, CONTEXT_SCHEMA): then
    # ``interactions`` only needs the partitions from ``zones(...).margin_day`` on. None: the
    # context is reduced here from ``interactions``, which must then cover the whole window.
    context: pa.Table | None = None

    @classmethod
    def empty(cls) -> OutcomeInputs:
        return cls(**{name: staging_schema(CONTRACTS[name]).empty_table() for name in FEEDS})


FEEDS = ("interactions", "customers", "cases", "subscription_events", "survey_responses")
# The schema alias a DuckDB warehouse file is attached under in the engine session.
ATTACHED = "wh"
# Inputs copied into the session once instead of scanned in place at every reference, and
# the last step that reads each (the copy is dropped after it): 01_crm reads the customer
# history three times (a copy is cheaper than three scans; the interactions, read as views,
# gain nothing from a copy but its memory).
_MATERIALISED = {"customers": "01_crm"}


@dataclass(frozen=True)
class AttachedInputs:
    """The inputs read in place from a DuckDB warehouse file instead of handed over as Arrow.

    The file is attached read-only to the engine session as ``wh`` and each input is a view
    over ``selects[name]`` (:func:`input_selects` with tables qualified as ``wh."s"."t"``);
    the context zone is reduced there into a session table. Nothing is copied out of the
    warehouse: DuckDB scans its own compressed columns under the session's memory cap (and
    spills past it), so a large window costs no Python-held memory. The caller must not
    write to the file while the session runs (a DuckDB file admits one writer).
    """

    database: str
    selects: Mapping[str, str]


# What a later contact needs of the context zone: each identifier triple's latest first-leg
# start.
CONTEXT_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("customer_email", pa.string()),
        ("customer_phone", pa.string()),
        ("last_queued_at", pa.timestamp("us", tz="UTC")),
    ]
)


@dataclass(frozen=True)
class Zones:
    """Where the main zone starts (``scope_start``), the margin day before it
    (``margin_start``, and the first staged partition read, ``margin_day``) and the context
    zone (``context_start`` to ``scope_start``). ``zone_end``, when known (an as_of was
    given), is where the main zone stops: :func:`input_selects` then reads only the
    interactions queued in ``margin_start``..``zone_end``, so a chunk of a long range reads
    its own zone, not every contact up to as_of."""

    context_start: datetime
    margin_start: datetime
    margin_day: date
    scope_start: datetime
    zone_end: datetime | None = None


def zones(days: list[date], cfg: OutcomeConfig, as_of: datetime | None = None) -> Zones:
    """The zones of a run over ``days`` (see the module docstring); with ``as_of`` the
    main zone's end too (:func:`main_zone_end_us`)."""
    scope_start = _day_bounds(min(days), cfg.timezone)[0]
    margin = scope_start - 86_400 * _US
    context = scope_start - cfg.repeat_window_days * 86_400 * _US
    utc = ZoneInfo("UTC")
    zone_end = None
    if as_of is not None:
        end_us = main_zone_end_us(max(days), _epoch_us(as_of), cfg)
        zone_end = datetime(1970, 1, 1, tzinfo=utc) + timedelta(microseconds=end_us)
    return Zones(
        context_start=datetime.fromtimestamp(context / _US, utc),
        margin_start=datetime.fromtimestamp(margin / _US, utc),
        margin_day=datetime.fromtimestamp(margin / _US, ZoneInfo(cfg.timezone)).date(),
        scope_start=datetime.fromtimestamp(scope_start / _US, utc),
        zone_end=zone_end,
    )


def main_zone_end_us(last_day: date, as_of_us: int, cfg: OutcomeConfig) -> int:
    """The main zone's end (epoch us): min(as_of, ``last_day``'s end + H + W). No contact
    after it can change a row of a day up to ``last_day`` (docs/journey_horizon.md)."""
    h_us = cfg.max_journey_days * 86_400 * _US
    w_us = cfg.repeat_window_days * 86_400 * _US
    return min(as_of_us, _day_bounds(last_day, cfg.timezone)[1] + h_us + w_us)


def context_sql(source: str, z: Zones, partitions: tuple[date, date] | None = None) -> str:
    """SELECT reducing the context zone of staged interactions ``source`` to CONTEXT_SCHEMA.

    Portable (DuckDB and PostgreSQL), so the warehouse runs it where the rows are and only
    the reduced rows travel. Root legs only, by the rule 02_legs.sql applies in the main zone:
    no parent, itself as parent, or a parent not among the staged rows read (e.g.
    quarantined). A re-delivered leg has the same queued_at, so no dedupe is needed for a max.
    ``partitions`` (first, last) bounds both the rows and the parent lookup, as the window
    the caller would otherwise read.
    """

    def within(alias: str) -> str:
        if partitions is None:
            return ""
        first, last = partitions
        return (
            f"{alias}.partition_date BETWEEN DATE '{first.isoformat()}' "
            f"AND DATE '{last.isoformat()}' AND "
        )

    ctx = z.context_start.strftime("%Y-%m-%d %H:%M:%S+00")
    scope = z.scope_start.strftime("%Y-%m-%d %H:%M:%S+00")

    def in_zone(alias: str) -> str:
        return (
            f"{alias}.queued_at >= TIMESTAMPTZ '{ctx}' "
            f"AND {alias}.queued_at < TIMESTAMPTZ '{scope}'"
        )

    # The parent lookup's hash table holds only the staged ids that some zone leg names as its
    # parent (transfers: ~6 % of the legs), not every id of the window, which an anti-join
    # against the whole window built (about half the memory). A LEFT JOIN, not NOT IN:
    # PostgreSQL hashes a NOT IN subquery only when it fits in work_mem, else it rescans it
    # for every row.
    return f"""
WITH parents_staged AS (
    SELECT DISTINCT parent.interaction_id
    FROM {source} AS parent
    WHERE {within("parent")}parent.interaction_id IN (
        SELECT trim(child.parent_interaction_id)
        FROM {source} AS child
        WHERE {within("child")}{in_zone("child")}
            AND nullif(trim(child.parent_interaction_id), '') IS NOT NULL
    )
)
SELECT leg.customer_id, leg.customer_email, leg.customer_phone, max(leg.queued_at) AS last_queued_at
FROM {source} AS leg
LEFT JOIN parents_staged AS staged_parent
    ON staged_parent.interaction_id = trim(leg.parent_interaction_id)
WHERE {within("leg")}{in_zone("leg")}
    AND (
        nullif(trim(leg.parent_interaction_id), '') IS NULL
        OR trim(leg.parent_interaction_id) = leg.interaction_id
        OR staged_parent.interaction_id IS NULL
    )
GROUP BY leg.customer_id, leg.customer_email, leg.customer_phone"""


def input_selects(qualify: Callable[[str], str], window: InputWindow, z: Zones) -> dict[str, str]:
    """The SELECTs of the staged rows ``compute_outcomes`` needs for ``window``, and no more
    (one per feed in FEEDS, plus ``context``); ``qualify`` names a staging table in SQL.

    Portable (DuckDB and PostgreSQL): the caller runs them in the warehouse (reading Arrow
    out) or in the engine session over the attached file (:class:`AttachedInputs`).

    - interactions: full rows of the main zone only (partitions from ``z.margin_day``); the
      context zone before it (W days) is reduced to each identifier triple's latest start
      (``context``, :func:`context_sql`), so a night reads ~2 days of rows, not W + 2; with
      ``z.zone_end`` only the legs queued in ``z.margin_start``..``z.zone_end`` (what
      02_legs.sql keeps; such selects give the bounded main zone only, not
      ``bound_main_zone=False``);
    - survey responses: the window's partitions;
    - customers, subscription events: every partition up to the window's end (histories);
    - cases: only versions of cases the main zone's interactions refer to (a year of case
      history is not read every night; with ``z.zone_end``, the legs of the zone's queued_at
      bound).
    """
    stg_interactions = qualify(STAGING_TABLES["interactions"].name)
    main = f"DATE '{z.margin_day.isoformat()}' AND DATE '{window.end.isoformat()}'"
    # The rows 02_legs.sql keeps (queued in margin_start..zone_end), selected where they are:
    # a late delivery can sit in any partition up to as_of, so the partitions stay as they
    # were; the bound keeps an early chunk of a long range from reading the range's contacts.
    in_zone = ""
    if z.zone_end is not None:
        in_zone = (
            f" AND queued_at BETWEEN TIMESTAMPTZ '{_literal(z.margin_start)}'"
            f" AND TIMESTAMPTZ '{_literal(z.zone_end)}'"
        )
    out: dict[str, str] = {}
    for name in FEEDS:
        first, last = window.for_input(name)
        if name == "interactions":
            first = z.margin_day
        cols = ", ".join(f'"{c}"' for c in input_schema(name).names)
        where = f"partition_date <= DATE '{last.isoformat()}'"
        if first is not None:
            where += f" AND partition_date >= DATE '{first.isoformat()}'"
        if name == "interactions":
            where += in_zone
        if name == "cases":
            where += (
                f" AND case_id IN (SELECT trim(case_id) FROM {stg_interactions}"
                f" WHERE partition_date BETWEEN {main}{in_zone} AND case_id IS NOT NULL)"
            )
        out[name] = f"SELECT {cols} FROM {qualify(STAGING_TABLES[name].name)} WHERE {where}"
    out["context"] = context_sql(stg_interactions, z, (window.start, window.end))
    return out


def _literal(instant: datetime) -> str:
    """A timestamptz literal both dialects read, to the microsecond."""
    return instant.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S.%f+00")


# Staging columns no step reads: callers need not read them (memory and I/O: ~40 MB of a
# 1M-interaction day's inputs). A step that starts using one fails loudly (binder error)
# until it is removed from here.
UNUSED_COLUMNS: dict[str, tuple[str, ...]] = {
    "interactions": ("contact_reason", "extra_fields", "source_mapping"),
    "customers": ("plan", "region", "created_at", "extra_fields", "source_mapping"),
    "cases": ("opened_at", "reason", "extra_fields", "source_mapping"),
    "subscription_events": ("mrr_before", "mrr_after", "extra_fields", "source_mapping"),
    "survey_responses": ("resolved_self_reported", "comment", "extra_fields", "source_mapping"),
}


def input_schema(name: str) -> pa.Schema:
    """The staging columns of feed table ``name`` that the computation reads."""
    schema = staging_schema(CONTRACTS[name])
    for column in UNUSED_COLUMNS[name]:
        schema = schema.remove(schema.get_field_index(column))
    return schema


def _conform(name: str, table: pa.Table) -> pa.Table:
    """Select and cast the columns read; a missing column is an error, extras are ignored."""
    schema = input_schema(name)
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise ValueError(f"{name}: missing staging columns {missing}")
    return table.select(schema.names).cast(schema)


def _from_partition(table: pa.Table, first: date) -> pa.Table:
    """The record batches holding a partition_date >= ``first`` (zero copy).

    A row is delivered on or after the day it happened, so rows queued from ``first`` on sit
    in these batches; the SQL filters the rows exactly. Staged partitions arrive as separate
    batches, so this skips whole days without reading them.
    """
    batches = [
        b
        for b in table.to_batches()
        if b.num_rows and pc.max(b.column("partition_date")).as_py() >= first
    ]
    return pa.Table.from_batches(batches, schema=table.schema)


def _attach_inputs(con: duckdb.DuckDBPyConnection, inputs: AttachedInputs) -> None:
    """Attach the warehouse file read-only and define the ``in_*`` relations over it.

    Each relation must have exactly the columns and types the Arrow path would hand over
    (``input_schema``, ``CONTEXT_SCHEMA``): checked here, so a staging table whose types
    drifted fails loudly instead of computing something else.
    """
    path = str(inputs.database).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS {ATTACHED} (READ_ONLY)")
    for name in FEEDS:
        kind = "TABLE" if name in _MATERIALISED else "VIEW"
        con.execute(f"CREATE TEMP {kind} in_{name} AS {inputs.selects[name]}")
        _check_relation(con, f"in_{name}", input_schema(name))
    # The interactions select starts at the margin day already (input_selects).
    con.execute("CREATE TEMP VIEW in_interactions_main AS SELECT * FROM in_interactions")
    con.execute(f"CREATE TEMP TABLE in_context AS {inputs.selects['context']}")
    _check_relation(con, "in_context", CONTEXT_SCHEMA)


def _check_relation(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema) -> None:
    got = con.sql(f"SELECT * FROM {name} LIMIT 0").to_arrow_table().schema
    # DuckDB labels TIMESTAMPTZ with the session's TimeZone: the same instants, any label.
    got = pa.schema(
        pa.field(f.name, pa.timestamp(f.type.unit, "UTC"), f.nullable)
        if pa.types.is_timestamp(f.type) and f.type.tz is not None
        else f
        for f in got
    )
    if not got.equals(schema):
        raise ValueError(f"{name}: the warehouse gives {got}, expected {schema}")


def _day_bounds(day: date, timezone: str) -> tuple[int, int]:
    """[start, end) of a business day in epoch microseconds (exact across DST changes)."""
    tz = ZoneInfo(timezone)
    start = datetime.combine(day, time(), tz)
    end = datetime.combine(day + timedelta(days=1), time(), tz)
    return int(start.timestamp()) * _US, int(end.timestamp()) * _US


def _epoch_us(instant: datetime) -> int:
    delta = instant - datetime(1970, 1, 1, tzinfo=ZoneInfo("UTC"))
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _fixed_offset_us(start_us: int, end_us: int, timezone: str) -> int | None:
    """The UTC offset (us) if it is the same from start to end (hourly check), else None."""
    tz = ZoneInfo(timezone)
    step = 3_600 * _US
    offsets = {
        datetime.fromtimestamp(t / _US, tz).utcoffset()
        for t in range(start_us - step, end_us + 2 * step, step)
    }
    if len(offsets) != 1:
        return None
    offset = offsets.pop()
    return None if offset is None else int(offset.total_seconds()) * _US


def _register_inputs(
    con: duckdb.DuckDBPyConnection, inputs: OutcomeInputs | AttachedInputs, z: Zones
) -> None:
    """The ``in_*`` relations the steps read, the context zone reduced (``in_context``)."""
    if isinstance(inputs, AttachedInputs):
        _attach_inputs(con, inputs)
    else:
        tables = {name: _conform(name, getattr(inputs, name)) for name in FEEDS}
        for name, table in tables.items():
            con.register(f"in_{name}", table)
        main = _from_partition(tables["interactions"], z.margin_day)
        con.register("in_interactions_main", main)
        if inputs.context is None:
            con.execute(f"CREATE TEMP TABLE in_context AS {context_sql('in_interactions', z)}")
        else:
            context = inputs.context.select(CONTEXT_SCHEMA.names).cast(CONTEXT_SCHEMA)
            con.register("in_context", context)
    con.register("dim_channels", pa.table({"channel": list(CHANNELS)}))
    con.register("dim_segments", pa.table({"segment": [*SEGMENTS, UNKNOWN]}))
    con.register("sync_channels", pa.table({"channel": list(SYNC_CHANNELS)}))
    con.register(
        "ttr_buckets",
        pa.table(
            {
                "bucket": [b[0] for b in TTR_BUCKETS],
                "bucket_order": pa.array(range(1, len(TTR_BUCKETS) + 1), pa.int64()),
                "lower_hours": pa.array([b[1] for b in TTR_BUCKETS], pa.float64()),
                "upper_hours": pa.array([b[2] for b in TTR_BUCKETS], pa.float64()),
            }
        ),
    )


def _prepare(
    con: duckdb.DuckDBPyConnection,
    inputs: OutcomeInputs | AttachedInputs,
    days: list[date],
    as_of: datetime,
    cfg: OutcomeConfig,
    bound_main_zone: bool = True,
) -> None:
    """Register inputs and fixed lists, set the run's parameters, define the macros."""
    if not _TZ_NAME.match(cfg.timezone):
        raise ValueError(f"unsafe timezone name {cfg.timezone!r}")
    con.execute(f"SET TimeZone = '{cfg.timezone}'")
    bounds = [_day_bounds(d, cfg.timezone) for d in days]
    con.register(
        "days",
        pa.table(
            {
                "day": pa.array(days, pa.date32()),
                "day_start_us": pa.array([b[0] for b in bounds], pa.int64()),
                "day_end_us": pa.array([b[1] for b in bounds], pa.int64()),
            }
        ),
    )
    w_us = cfg.repeat_window_days * 86_400 * _US
    scope_start = bounds[0][0]
    margin_start = scope_start - 86_400 * _US
    as_of_us = _epoch_us(as_of)
    h_us = cfg.max_journey_days * 86_400 * _US
    zone_end_us = main_zone_end_us(days[-1], as_of_us, cfg) if bound_main_zone else as_of_us
    _register_inputs(con, inputs, zones(days, cfg))
    variables = {
        "as_of_us": as_of_us,
        "w_us": w_us,
        "h_us": h_us,
        "zone_end_us": zone_end_us,
        "scope_start_us": scope_start,
        "margin_start_us": margin_start,
        "grace_us": cfg.survey_grace_days * 86_400 * _US,
        "sl_seconds": cfg.service_level_seconds,
        "churn_short_us": cfg.churn_short_days * 86_400 * _US,
        "churn_long_us": cfg.churn_long_days * 86_400 * _US,
        "csat_satisfied_min": cfg.csat_satisfied_min,
        "nps_promoter_min": cfg.nps_promoter_min,
        "nps_detractor_max": cfg.nps_detractor_max,
        "ces_easy_min": cfg.ces_easy_min,
        "short_abandon_seconds": cfg.short_abandon_seconds,
        "fixed_offset_us": _fixed_offset_us(
            margin_start, max(as_of_us, bounds[-1][1]), cfg.timezone
        ),
    }
    for name, value in variables.items():
        con.execute(f"SET VARIABLE {name} = ?::BIGINT", [value])
    # The same instants as TIMESTAMPTZ, to compare with the inputs' timestamp columns.
    for name, us in (
        ("as_of_ts", as_of_us),
        ("zone_end_ts", zone_end_us),
        ("margin_ts", margin_start),
        ("ctx_ts", scope_start - w_us),
    ):
        con.execute(f"SET VARIABLE {name} = make_timestamptz(?::BIGINT)", [us])
    con.execute("SET VARIABLE unassigned = ?::VARCHAR", [cfg.unassigned_label])
    register_identity(con, cfg)


def _select(con: duckdb.DuckDBPyConnection, table: TableDef) -> pa.Table:
    result = con.sql((SQL_DIR / f"out_{table.name}.sql").read_text()).to_arrow_table()
    if result.column_names != table.column_names:
        raise AssertionError(
            f"{table.name}: SQL columns {result.column_names} != TableDef {table.column_names}"
        )
    return result.cast(table.arrow_schema)


def _run_step(
    con: duckdb.DuckDBPyConnection, step: str, inputs: OutcomeInputs | AttachedInputs
) -> None:
    con.execute((SQL_DIR / f"{step}.sql").read_text())
    if isinstance(inputs, AttachedInputs):
        for name, last_reader in _MATERIALISED.items():
            if step == last_reader:
                con.execute(f"DROP TABLE in_{name}")


def compute_outcomes(
    inputs: OutcomeInputs | AttachedInputs,
    days: list[date],
    as_of: datetime,
    cfg: OutcomeConfig | None = None,
    memory_limit: str | None = None,
    *,
    bound_main_zone: bool = True,
) -> dict[str, pa.Table]:
    """The outcome tables for the business ``days``, as known at ``as_of`` (tz-aware).

    Returns one Arrow table per name in ``OUTCOME_TABLES``, with exactly the TableDef's
    columns and types and only rows whose ``partition_date`` is in ``days``. Inputs must
    cover :func:`~outcome_pipeline.outcomes.config.input_window` of the days: Arrow tables
    (:class:`OutcomeInputs`), or the staged tables of a DuckDB warehouse file read in place
    (:class:`AttachedInputs`); both give the same rows.
    ``memory_limit``: the engine's memory cap (:func:`engine_memory_limit`).
    ``bound_main_zone``: stop the main zone at the last day's end + H + W (the default; False
    reads contacts up to as_of, which gives the same rows: for the equivalence test).
    """
    cfg = cfg or OutcomeConfig()
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    days = sorted(set(days))
    if not days:
        return {name: t.arrow_schema.empty_table() for name, t in OUTCOME_TABLES.items()}
    with engine_session(memory_limit) as con:
        _prepare(con, inputs, days, as_of, cfg, bound_main_zone)
        for step in _STEPS:
            _run_step(con, step, inputs)
        return {name: _select(con, table) for name, table in OUTCOME_TABLES.items()}


# Spill folders are named ``outcome_spill_<pid>_<random>`` in $TMPDIR: a killed run's folder
# is recognisably this project's, and its process can be checked before it is removed.
SPILL_PREFIX = "outcome_spill_"
_SPILL_FOLDER = re.compile(rf"{SPILL_PREFIX}(?P<pid>[0-9]+)_[A-Za-z0-9_]+")


def remove_dead_spill_folders(folder: Path | None = None) -> list[Path]:
    """Remove the spill folders of engine sessions whose process is gone (killed runs never
    reach the removal at the end of :func:`engine_session`)."""
    return remove_dead_leftovers(folder or Path(tempfile.gettempdir()), _SPILL_FOLDER)


@contextmanager
def engine_session(memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The in-memory DuckDB session the steps run in: capped at :func:`engine_memory_limit`,
    spilling to a private temporary folder that is removed with the session.

    Automatic checkpoints are off (``checkpoint_threshold``). Since DuckDB 1.4 an in-memory
    database checkpoints once enough has been written, and the statement that crosses the
    threshold waits for it. Here that was ~1 s of a 1M-interaction night: one checkpoint,
    charged to ``journey_facts``, of tables the session drops seconds later. It compresses
    nothing (in-memory compression is off by default). Measured on a 1M day with W = 7 of
    lookback, alternating runs: 11.9 -> 11.0 s at the default cap, 18.1 -> 14.2 s under
    600 MB, 19.0 -> 16.0 s under 400 MB, the same peak RSS each time, identical tables."""
    limit = engine_memory_limit(memory_limit)
    remove_dead_spill_folders()
    with tempfile.TemporaryDirectory(prefix=f"{SPILL_PREFIX}{os.getpid()}_") as spill:
        con = duckdb.connect(
            config={
                "memory_limit": limit,
                "temp_directory": spill,
                "checkpoint_threshold": _NO_AUTOMATIC_CHECKPOINT,
            }
        )
        try:
            yield con
        finally:
            con.close()


def engine_memory_limit(limit: str | None = None) -> str:
    """The DuckDB ``memory_limit`` of the outcome session: ``limit`` as DuckDB writes sizes
    (``"6GB"``, ``"512MiB"``), or ``"<n>%"`` of physical memory; None: DEFAULT_MEMORY_SHARE.

    Past the limit DuckDB spills its sorts, joins and temp tables to a private temporary
    directory (removed after the call) instead of exhausting the machine; results do not
    depend on it.
    """
    text = (limit or "").strip()
    if text.endswith("%"):
        try:
            share = float(text[:-1]) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            raise ValueError(f"memory limit {limit!r}: a share must be in (0, 100]%")
    elif text:
        if not _MEMORY_LIMIT.match(text):
            raise ValueError(f"memory limit {limit!r}: expected e.g. '6GB', '512MiB' or '50%'")
        return text
    else:
        share = DEFAULT_MEMORY_SHARE
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(int(total * share) >> 20, 256)}MiB"
