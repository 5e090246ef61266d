"""Feed contracts (columns, types, keys) shared by the generator, the readers and the warehouse."""

from outcome_pipeline.contracts.feeds import (
    CONTRACTS,
    FEEDS,
    FILE_FORMATS,
    Column,
    TableContract,
)

__all__ = ["CONTRACTS", "FEEDS", "FILE_FORMATS", "Column", "TableContract"]
