"""The step runner: the SQL files of ``sql/`` run in order in the engine session, then the
``out_*`` selects read each outcome table, checked against its TableDef."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from outcome_pipeline.outcomes.identity import SQL_DIR
from outcome_pipeline.outcomes.inputs import AttachedInputs, OutcomeInputs
from outcome_pipeline.warehouse.tables import TableDef

# The SQL files building the session tables, in the order they run (``sql/<step>.sql``).
STEPS = ("01_crm", "02_legs", "03_contacts", "04_context", "05_journeys", "06_links", "07_daily")
# Inputs copied into the session once instead of scanned in place at every reference, and
# the last step that reads each (the copy is dropped after it): 01_crm reads the customer
# history three times (a copy is cheaper than three scans; the interactions, read as views,
# gain nothing from a copy but its memory).
MATERIALISED = {"customers": "01_crm"}


def run_step(
    con: duckdb.DuckDBPyConnection, step: str, inputs: OutcomeInputs | AttachedInputs
) -> None:
    """Run ``sql/<step>.sql``; drop the input copies no later step reads."""
    con.execute((SQL_DIR / f"{step}.sql").read_text())
    if isinstance(inputs, AttachedInputs):
        for name, last_reader in MATERIALISED.items():
            if step == last_reader:
                con.execute(f"DROP TABLE in_{name}")


def select_table(con: duckdb.DuckDBPyConnection, table: TableDef) -> pa.Table:
    """Outcome table ``table`` as ``sql/out_<name>.sql`` selects it, in its TableDef's types."""
    result = con.sql((SQL_DIR / f"out_{table.name}.sql").read_text()).to_arrow_table()
    if result.column_names != table.column_names:
        raise AssertionError(
            f"{table.name}: SQL columns {result.column_names} != TableDef {table.column_names}"
        )
    return result.cast(table.arrow_schema)
