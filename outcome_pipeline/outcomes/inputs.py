"""What ``compute_outcomes`` reads: the staged feeds, as Arrow tables, in place in a DuckDB
warehouse file or streamed out of another warehouse (PostgreSQL), and only the staging columns
some step reads."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts.feeds import CONTRACTS
from outcome_pipeline.contracts.staging import staging_schema


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


@dataclass(frozen=True)
class StreamedInputs:
    """The inputs streamed out of a warehouse (PostgreSQL) into tables of the engine session.

    ``read(selects[name], schema)`` yields the rows of each SELECT (:func:`input_selects`,
    plus ``context``) as Arrow tables of a few MB (``Warehouse.read_batches``); each is
    inserted into the session table ``in_<name>`` as it comes, so Python holds one chunk at a
    time and the tables sit in the engine's buffer manager, under the session's memory cap
    (spilled to its temporary folder past it), as the attached DuckDB file's scans do.
    """

    selects: Mapping[str, str]
    read: Callable[[str, pa.Schema], Iterator[pa.Table]]
    # Inputs handed over by a callable instead of read by their select: the feeds a range
    # run's chunks share, read out once per run (:class:`.shared_reads.SharedReads`); each
    # yields the same rows as ``read(selects[name], ...)``.
    tables: Mapping[str, Callable[[], Iterator[pa.Table]]] = field(default_factory=dict)


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


def conform_input(name: str, table: pa.Table) -> pa.Table:
    """Select and cast the columns read; a missing column is an error, extras are ignored."""
    schema = input_schema(name)
    missing = [c for c in schema.names if c not in table.column_names]
    if missing:
        raise ValueError(f"{name}: missing staging columns {missing}")
    return table.select(schema.names).cast(schema)


def from_partition(table: pa.Table, first: date) -> pa.Table:
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
