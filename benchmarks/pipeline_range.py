"""Range runs for the range benchmarks (chunk_bench, range_profile, scale): staged days
without the validator, a range of assets materialised as one in-process Dagster run, and a
fingerprint of the outcome tables to compare runs by.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import pipeline_stages as ps

# -- range runs of the outcome asset (benchmarks/chunk_bench.py) ------------------------------


def stage_days_unvalidated(landing: Path, url: str, schema: str, days: list[date]) -> None:
    """Stage and write whole days without the row validator (the input of range runs), then
    ANALYZE them on PostgreSQL as the staging asset does after its writes (without statistics
    the outcome run's context query is a nested loop that grows with the square of a window)."""
    from outcome_pipeline.warehouse import LOAD_AUDIT, Warehouse
    from outcome_pipeline.warehouse.tables import STAGING_TABLES

    for day in days:
        ps.write_staged(url, schema, ps.stage_tables(landing, day, None), day)
    wh = Warehouse(url, schema)
    try:
        wh.analyze([*STAGING_TABLES.values(), LOAD_AUDIT])
    finally:
        wh.dispose()


def outcome_range(
    landing: Path, url: str, schema: str, workdir: Path, first: date, last: date, as_of: date
) -> tuple[bool, str]:
    """The outcome asset alone over [first, last] as ONE in-process run at as_of (the run
    tag), as a single-run range backfill runs it; chunking from ``OUTCOME_CHUNK_DAYS``."""
    return materialize_range("outcomes", landing, url, schema, workdir, first, last, as_of)


def materialize_range(
    what: str,
    landing: Path,
    url: str,
    schema: str,
    workdir: Path,
    first: date,
    last: date,
    as_of: date | None = None,
) -> tuple[bool, str]:
    """One in-process Dagster run over the partition range [first, last], as one run of a
    range backfill executes it: ``what`` = "staging" (the five staging assets, validated per
    range) or "outcomes" (the outcome asset, chunked by ``OUTCOME_CHUNK_DAYS``, at ``as_of``
    when given, else the latest staged day as the asset decides)."""
    import dagster as dg

    from outcome_pipeline.cli.run import RANGE_END, RANGE_START, _first_error
    from outcome_pipeline.defs.ingest.assets import staging_assets
    from outcome_pipeline.defs.outcomes.assets import AS_OF_TAG, outcome_tables
    from outcome_pipeline.defs.resources import (
        LandingResource,
        ValidationResource,
        WarehouseResource,
    )

    selected = {"staging": staging_assets, "outcomes": [outcome_tables]}[what]
    tags = {RANGE_START: first.isoformat(), RANGE_END: last.isoformat()}
    if as_of is not None:
        tags[AS_OF_TAG] = as_of.isoformat()
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [*staging_assets, outcome_tables],
            selection=[dg.AssetKey(k.path) for a in selected for k in a.keys],
            tags=tags,
            resources={
                "warehouse": WarehouseResource(url=url, schema_name=schema),
                "landing": LandingResource(root=str(landing), timezone=ps.TIMEZONE),
                "validation": ValidationResource(data_docs_dir=str(workdir / "docs")),
            },
            instance=instance,
            raise_on_error=False,
        )
        return result.success, "" if result.success else _first_error(result)


def profile_fields(profile: str) -> dict[str, Any]:
    """The generator fields of a named profile (``generator.config.PROFILES``)."""
    from outcome_pipeline.generator.config import PROFILES

    return dict(PROFILES[profile])


def table_fingerprint(
    url: str, schema: str, columns: dict[str, list[str]]
) -> dict[str, dict[str, object]]:
    """Per table (name -> the columns to hash): row count and an order-independent hash of
    those columns over every row, computed in the warehouse (a year of journeys is not read
    out). Two warehouses holding the same rows give the same fingerprint; compare within one
    dialect only (text forms differ)."""
    from outcome_pipeline.warehouse import Warehouse

    wh = Warehouse(url, schema)
    out: dict[str, dict[str, object]] = {}
    try:
        for name, names in columns.items():
            cols = ", ".join(f'"{c}"' for c in names)
            if wh.dialect == "duckdb":
                digest = f"sum(hash({cols})::HUGEINT)::VARCHAR"
            else:
                digest = f"sum(hashtextextended(ROW({cols})::text, 0))::text"
            row = wh.query(
                f"SELECT count(*) AS n, {digest} AS h FROM {wh.qualified(name)}"
            ).to_pylist()[0]
            out[name] = {"rows": int(row["n"]), "hash": row["h"]}
    finally:
        wh.dispose()
    return out


def outcome_fingerprint(url: str, schema: str) -> dict[str, dict[str, object]]:
    """``table_fingerprint`` of every outcome table, all columns."""
    from outcome_pipeline.outcomes import OUTCOME_TABLES

    columns = {name: [c.name for c in t.columns] for name, t in OUTCOME_TABLES.items()}
    return table_fingerprint(url, schema, columns)
