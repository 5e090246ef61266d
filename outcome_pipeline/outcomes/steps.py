"""The step runner: the relations of ``relations.RELATIONS`` built in order in the engine
session, each dropped once nothing later reads it; then each mart selects its outcome table,
checked against its TableDef.

The rate columns are generated from ``RATES`` (the tables' RateColumn declarations): for
each table with rates, a table macro ``<table>_with_rates(src)`` adds
``ratio(numerator, denominator) AS <rate>`` to the rows of ``src``, and the mart selects
through it. Adding a rate is one declaration in the table's definition.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import pyarrow as pa

from outcome_pipeline.outcomes.inputs import AttachedInputs, OutcomeInputs, StreamedInputs
from outcome_pipeline.outcomes.relations import (
    MATERIALISED,
    RELATIONS,
    Relation,
    expiring_after,
    mart_file,
)
from outcome_pipeline.outcomes.tables import RATES
from outcome_pipeline.warehouse.tables import TableDef

_BY_NAME = {r.name: r for r in RELATIONS}


def rate_macro_name(table: str) -> str:
    return f"{table}_with_rates"


def rate_macros_sql() -> str:
    """``CREATE MACRO <table>_with_rates(src)`` for every table with rates (from RATES)."""
    statements = []
    for table, rates in RATES.items():
        if rates:
            columns = ",\n    ".join(
                f"ratio({numerator}, {denominator}) AS {rate}"
                for rate, (numerator, denominator) in rates.items()
            )
            statements.append(
                f"CREATE OR REPLACE TEMP MACRO {rate_macro_name(table)}(src) AS TABLE\n"
                f"SELECT *,\n    {columns}\nFROM query_table(src);"
            )
    return "\n".join(statements)


def run_relation(
    con: duckdb.DuckDBPyConnection,
    relation: Relation | str,
    inputs: OutcomeInputs | AttachedInputs | StreamedInputs,
) -> None:
    """Build ``relation`` (``sql/<name>.sql``), then drop what no later relation or mart reads."""
    if isinstance(relation, str):
        relation = _BY_NAME[relation]
    con.execute(relation.file.read_text())
    for name in expiring_after()[relation.name]:
        if name in _BY_NAME:
            con.execute(f"DROP {'VIEW' if _BY_NAME[name].is_view else 'TABLE'} {name}")
        elif not isinstance(inputs, OutcomeInputs) and name.removeprefix("in_") in MATERIALISED:
            # A session table (attached or streamed inputs), not a registered Arrow table.
            con.execute(f"DROP TABLE {name}")


def build_relations(
    con: duckdb.DuckDBPyConnection, inputs: OutcomeInputs | AttachedInputs | StreamedInputs
) -> None:
    """Every relation of RELATIONS, in order."""
    for relation in RELATIONS:
        run_relation(con, relation, inputs)


# Rows per Arrow batch an outcome table leaves the session in (table_reader): a few MB to a
# few tens of MB of the widest table, so a writer holds a few batches, never a whole table.
BATCH_ROWS = 122_880


def table_reader(
    con: duckdb.DuckDBPyConnection, table: TableDef, batch_rows: int = BATCH_ROWS
) -> pa.RecordBatchReader:
    """Outcome table ``table`` as ``sql/mart_<name>.sql`` selects it, streamed in record
    batches of at most ``batch_rows`` rows, in its TableDef's column order and types
    (generated rate columns come last in the SQL).

    The rows are produced as the reader is consumed: DuckDB keeps at most a batch or so
    outside its buffer manager. The reader is valid until the next statement on ``con``
    (DuckDB closes a streaming result when the connection runs another query)."""
    source = con.sql(mart_file(table.name).read_text()).to_arrow_reader(batch_rows)
    names = source.schema.names
    if sorted(names) != sorted(table.column_names) or len(set(names)) != len(names):
        raise AssertionError(f"{table.name}: SQL columns {names} != TableDef {table.column_names}")
    schema = table.arrow_schema

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in source:
            yield batch.select(table.column_names).cast(schema)

    return pa.RecordBatchReader.from_batches(schema, batches())


def select_table(con: duckdb.DuckDBPyConnection, table: TableDef) -> pa.Table:
    """Outcome table ``table`` whole (:func:`table_reader` read to the end)."""
    return table_reader(con, table).read_all()
