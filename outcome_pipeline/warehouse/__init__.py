"""Warehouse layer: table definitions, DDL, atomic partition writes per dialect."""

from outcome_pipeline.warehouse.tables import ALL_TABLES, LOAD_AUDIT, TableDef
from outcome_pipeline.warehouse.warehouse import (
    DEFAULT_SCHEMA,
    DEFAULT_URL,
    PartitionWindow,
    PartitionWrite,
    Warehouse,
)

__all__ = [
    "ALL_TABLES",
    "DEFAULT_SCHEMA",
    "DEFAULT_URL",
    "LOAD_AUDIT",
    "PartitionWindow",
    "PartitionWrite",
    "TableDef",
    "Warehouse",
]
