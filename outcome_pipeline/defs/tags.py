"""Run tag names Dagster reads for a single-run range (one definition; no side effects, so the
CLI can import it before any configuration is checked)."""

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
