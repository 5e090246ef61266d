"""Helpers that turn table definitions into Dagster metadata shown in the UI."""

from __future__ import annotations

import dagster as dg

from outcome_pipeline.warehouse import TableDef
from outcome_pipeline.warehouse.warehouse import sql_type


def column_schema(table: TableDef) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn(c.name, sql_type(c.type, "postgresql").lower(), description=c.comment)
            for c in table.columns
        ]
    )
