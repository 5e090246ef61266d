"""``compute_outcomes``: staged feeds in, the six outcome tables out (pure, no Dagster).

Engine: an in-memory DuckDB session (``engine.py``). The inputs (``inputs.py``) are
registered as Arrow tables (zero copy), read in place from an attached warehouse file, or
streamed out of the warehouse into session tables (PostgreSQL), the
run's parameters are set as session variables, the intermediate relations are built in the
order ``relations.py`` declares (``steps.py``: ``sql/int_*.sql``, each dropped after its last
reader), the marts (``sql/mart_*.sql``) select the tables, and each result is checked against
its TableDef. Nothing reads the wall clock; ``as_of`` is the only
"now", so the same inputs and as_of give identical rows.

Work is split in time zones (``zoning.py``: main zone, margin, context zone). Every per-day
row depends only on that day's contacts, the W before them, the contacts after them up to
the main zone's end and the CRM/survey/subscription data, never on which other days are
computed in the same call; the spine depends only on the day's own legs and fixed lists. So
a range run equals day-by-day runs (tested).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime

import duckdb
import pyarrow as pa

from outcome_pipeline.calendar import US, day_bounds_us, epoch_us, fixed_offset_us
from outcome_pipeline.contracts.feeds import CHANNELS, SEGMENTS
from outcome_pipeline.outcomes.config import ASYNC_CHANNELS, SYNC_CHANNELS, UNKNOWN, OutcomeConfig
from outcome_pipeline.outcomes.distribution_tables import TTR_BUCKETS
from outcome_pipeline.outcomes.engine import engine_session
from outcome_pipeline.outcomes.identity import register_identity
from outcome_pipeline.outcomes.inputs import (
    ATTACHED,
    CONTEXT_SCHEMA,
    FEEDS,
    AttachedInputs,
    OutcomeInputs,
    StreamedInputs,
    conform_input,
    from_partition,
    input_schema,
)
from outcome_pipeline.outcomes.relations import MATERIALISED
from outcome_pipeline.outcomes.steps import (
    BATCH_ROWS,
    build_relations,
    rate_macros_sql,
    table_reader,
)
from outcome_pipeline.outcomes.tables import OUTCOME_TABLES
from outcome_pipeline.outcomes.warehouse_selects import context_sql
from outcome_pipeline.outcomes.zoning import Zones, main_zone_end_us, zones

_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")
assert set(SYNC_CHANNELS) | set(ASYNC_CHANNELS) == set(CHANNELS)


def _attach_inputs(con: duckdb.DuckDBPyConnection, inputs: AttachedInputs) -> None:
    """Attach the warehouse file read-only and define the ``in_*`` relations over it.

    Each relation must have exactly the columns and types the Arrow path would hand over
    (``input_schema``, ``CONTEXT_SCHEMA``): checked here, so a staging table whose types
    drifted fails loudly instead of computing something else.
    """
    path = str(inputs.database).replace("'", "''")
    con.execute(f"ATTACH '{path}' AS {ATTACHED} (READ_ONLY)")
    for name in FEEDS:
        kind = "TABLE" if name in MATERIALISED else "VIEW"
        con.execute(f"CREATE TEMP {kind} in_{name} AS {inputs.selects[name]}")
        _check_relation(con, f"in_{name}", input_schema(name))
    # The interactions select starts at the margin day already (input_selects).
    con.execute("CREATE TEMP VIEW in_interactions_main AS SELECT * FROM in_interactions")
    con.execute(f"CREATE TEMP TABLE in_context AS {inputs.selects['context']}")
    _check_relation(con, "in_context", CONTEXT_SCHEMA)


def _stream_inputs(con: duckdb.DuckDBPyConnection, inputs: StreamedInputs) -> None:
    """Fill the ``in_*`` session tables from the warehouse, chunk by chunk.

    Each chunk is inserted as it arrives and then dropped: Python holds one chunk, the
    session's buffer manager the rows (under the memory cap, spilling past it; DuckDB 2.0
    spills in-memory tables too). Checked like the attached relations.
    """
    for name in (*FEEDS, "context"):
        schema = CONTEXT_SCHEMA if name == "context" else input_schema(name)
        table = f"in_{name}"
        con.register("stream_empty", schema.empty_table())
        con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM stream_empty")
        con.unregister("stream_empty")
        chunks = (
            inputs.tables[name]()
            if name in inputs.tables
            else inputs.read(inputs.selects[name], schema)
        )
        for chunk in chunks:
            con.register("stream_chunk", chunk)
            con.execute(f"INSERT INTO {table} SELECT * FROM stream_chunk")
            con.unregister("stream_chunk")
        _check_relation(con, table, schema)
    # The interactions select starts at the margin day already (input_selects).
    con.execute("CREATE TEMP VIEW in_interactions_main AS SELECT * FROM in_interactions")


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


def _register_inputs(
    con: duckdb.DuckDBPyConnection,
    inputs: OutcomeInputs | AttachedInputs | StreamedInputs,
    z: Zones,
) -> None:
    """The ``in_*`` relations the steps read, the context zone reduced (``in_context``)."""
    if isinstance(inputs, AttachedInputs):
        _attach_inputs(con, inputs)
    elif isinstance(inputs, StreamedInputs):
        _stream_inputs(con, inputs)
    else:
        tables = {name: conform_input(name, getattr(inputs, name)) for name in FEEDS}
        for name, table in tables.items():
            con.register(f"in_{name}", table)
        main = from_partition(tables["interactions"], z.margin_day)
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


def prepare_session(
    con: duckdb.DuckDBPyConnection,
    inputs: OutcomeInputs | AttachedInputs | StreamedInputs,
    days: list[date],
    as_of: datetime,
    cfg: OutcomeConfig,
    bound_main_zone: bool = True,
) -> None:
    """Register inputs and fixed lists, set the run's parameters, define the macros (those of
    ``sql/macros.sql`` and the generated rate macros)."""
    if not _TZ_NAME.match(cfg.timezone):
        raise ValueError(f"unsafe timezone name {cfg.timezone!r}")
    con.execute(f"SET TimeZone = '{cfg.timezone}'")
    bounds = [day_bounds_us(d, cfg.timezone) for d in days]
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
    w_us = cfg.repeat_window_days * 86_400 * US
    scope_start = bounds[0][0]
    margin_start = scope_start - 86_400 * US
    as_of_us = epoch_us(as_of)
    h_us = cfg.max_journey_days * 86_400 * US
    zone_end_us = main_zone_end_us(days[-1], as_of_us, cfg) if bound_main_zone else as_of_us
    _register_inputs(con, inputs, zones(days, cfg))
    variables = {
        "as_of_us": as_of_us,
        "w_us": w_us,
        "h_us": h_us,
        "zone_end_us": zone_end_us,
        "scope_start_us": scope_start,
        "margin_start_us": margin_start,
        "grace_us": cfg.survey_grace_days * 86_400 * US,
        "sl_seconds": cfg.service_level_seconds,
        "churn_short_us": cfg.churn_short_days * 86_400 * US,
        "churn_long_us": cfg.churn_long_days * 86_400 * US,
        "csat_satisfied_min": cfg.csat_satisfied_min,
        "nps_promoter_min": cfg.nps_promoter_min,
        "nps_detractor_max": cfg.nps_detractor_max,
        "ces_easy_min": cfg.ces_easy_min,
        "short_abandon_seconds": cfg.short_abandon_seconds,
        "fixed_offset_us": fixed_offset_us(
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
    con.execute(rate_macros_sql())


class ComputedOutcomes:
    """The outcome tables of one engine session, read out table by table (see
    :func:`computed_outcomes`): as record batches (:meth:`reader`), or whole (:meth:`table`).

    One reader at a time: DuckDB closes a streaming result when its connection runs another
    statement, so a reader must be consumed before the next one is asked for."""

    def __init__(self, con: duckdb.DuckDBPyConnection | None) -> None:
        # None: no day to compute (every table empty, no session opened).
        self._con = con

    def reader(self, name: str, batch_rows: int = BATCH_ROWS) -> pa.RecordBatchReader:
        """Outcome table ``name``'s rows, in batches of at most ``batch_rows`` rows, with
        exactly the TableDef's columns and types."""
        table = OUTCOME_TABLES[name]
        if self._con is None:
            return pa.RecordBatchReader.from_batches(table.arrow_schema, [])
        return table_reader(self._con, table, batch_rows)

    def table(self, name: str) -> pa.Table:
        """Outcome table ``name`` whole, as one Arrow table."""
        return self.reader(name).read_all()


@contextmanager
def computed_outcomes(
    inputs: OutcomeInputs | AttachedInputs | StreamedInputs,
    days: list[date],
    as_of: datetime,
    cfg: OutcomeConfig | None = None,
    memory_limit: str | None = None,
    *,
    bound_main_zone: bool = True,
) -> Iterator[ComputedOutcomes]:
    """Compute the outcome tables of the business ``days`` as known at ``as_of`` in an engine
    session, and hand them over while the session is open, table by table, streamed: a
    writer holds a batch at a time, the rows stay under the session's memory cap until read.
    The session closes when the block ends. Arguments: :func:`compute_outcomes`.

    Attached inputs (a DuckDB warehouse file) are detached before anything is read out: the
    marts read only the session's own tables, and the caller may then write the same file
    (through its own connection) while it reads, without a read-only copy of the file open
    beside the writer in the same process.
    """
    cfg = cfg or OutcomeConfig()
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    days = sorted(set(days))
    if not days:
        yield ComputedOutcomes(None)
        return
    with engine_session(memory_limit) as con:
        prepare_session(con, inputs, days, as_of, cfg, bound_main_zone)
        build_relations(con, inputs)
        if isinstance(inputs, AttachedInputs):
            _detach_inputs(con)
        yield ComputedOutcomes(con)


def _detach_inputs(con: duckdb.DuckDBPyConnection) -> None:
    # The in_* views over the attached file would fail once it is detached: dropped first
    # (the marts read none of them, relations.py).
    views = con.execute(
        "SELECT view_name FROM duckdb_views() WHERE temporary AND starts_with(view_name, 'in_')"
    ).fetchall()
    for (name,) in views:
        con.execute(f'DROP VIEW "{name}"')
    con.execute(f"DETACH {ATTACHED}")


def compute_outcomes(
    inputs: OutcomeInputs | AttachedInputs | StreamedInputs,
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
    (:class:`OutcomeInputs`), the staged tables of a DuckDB warehouse file read in place
    (:class:`AttachedInputs`), or the warehouse's rows streamed into the session
    (:class:`StreamedInputs`); all give the same rows.
    ``memory_limit``: the engine's memory cap (:func:`engine_memory_limit`).
    ``bound_main_zone``: stop the main zone at the last day's end + H + W (the default; False
    reads contacts up to as_of, which gives the same rows: for the equivalence test).

    Every table is held whole: for tests and small ranges. The pipeline streams them into
    the warehouse instead (:func:`computed_outcomes`, ``outcomes/write.py``).
    """
    with computed_outcomes(
        inputs, days, as_of, cfg, memory_limit, bound_main_zone=bound_main_zone
    ) as computed:
        return {name: computed.table(name) for name in OUTCOME_TABLES}
