"""Resources, declared once: the warehouse and the landing store, configured from the env."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import dagster as dg

from outcome_pipeline.settings import Settings
from outcome_pipeline.validation.config import (
    DEFAULT_CLOCK_SKEW_SECONDS,
    DEFAULT_FOLLOW_UP_DAYS,
    DEFAULT_PLAUSIBLE_FROM,
    ValidationConfig,
)
from outcome_pipeline.validation.docs_server import DEFAULT_URL as DEFAULT_DATA_DOCS_URL
from outcome_pipeline.validation.docs_server import docs_url
from outcome_pipeline.warehouse import Warehouse
from outcome_pipeline.warehouse.locks import duckdb_writer_lock


class WarehouseResource(dg.ConfigurableResource):
    """The SQL warehouse (DuckDB file by default, PostgreSQL in production).

    A connection is opened per write and closed right after: a DuckDB file admits one
    process at a time, so nothing may hold it between steps. A step holds the DuckDB file's
    writer lock while it is open, so steps of parallel runs take turns (``warehouse/locks.py``).
    """

    url: str
    schema_name: str = "outcome"

    @contextmanager
    def open(self) -> Iterator[Warehouse]:
        from outcome_pipeline.defs.automation.retries import warehouse_errors

        # Built inside the classifier: a malformed URL or schema is a configuration error
        # (failed at once, never retried), like a connection the server refuses for good.
        with warehouse_errors(url=self.url):
            warehouse = Warehouse(self.url, self.schema_name)
            with duckdb_writer_lock(warehouse.duckdb_path, dg.get_dagster_logger().info):
                try:
                    yield warehouse
                finally:
                    warehouse.dispose()


class LandingResource(dg.ConfigurableResource):
    """Where the feeds land: <root>/<feed>/<YYYY-MM-DD>/<table>*.{csv,jsonl,parquet}."""

    root: str
    timezone: str = "Europe/London"
    # Folder of source mapping files (vendor exports onto the contracts); empty: none.
    sources_dir: str = ""

    @property
    def path(self) -> Path:
        return Path(self.root)


class ValidationResource(dg.ConfigurableResource):
    """How feeds are validated (Great Expectations suites of record, see validation/)."""

    # A day quarantining more than this share of its rows fails the blocking check.
    max_quarantine_share: float = 0.05
    # Where the static Data Docs site of the latest validation of each feed table is written.
    data_docs_dir: str = "data/data_docs"
    # Where `outcome-pipeline data-docs` serves that folder: the base of the UI's links.
    data_docs_url: str = DEFAULT_DATA_DOCS_URL
    # auto: vectorised pre-checks decide, GX confirms (and overrules on disagreement).
    engine: str = "auto"
    # Metric-changing validation settings (validation/config.py; OUTCOME_CLOCK_SKEW_SECONDS,
    # OUTCOME_PLAUSIBLE_FROM, OUTCOME_FOLLOW_UP_DAYS).
    clock_skew_seconds: int = DEFAULT_CLOCK_SKEW_SECONDS
    plausible_from: str = DEFAULT_PLAUSIBLE_FROM.isoformat()
    follow_up_days: int = DEFAULT_FOLLOW_UP_DAYS

    def config(self) -> ValidationConfig:
        return ValidationConfig(
            clock_skew_seconds=self.clock_skew_seconds,
            plausible_from=date.fromisoformat(self.plausible_from),
            follow_up_days=self.follow_up_days,
        )

    def docs_folder(self, table: str) -> Path:
        return Path(self.data_docs_dir) / table

    def docs_link(self, table: str) -> str:
        return docs_url(self.data_docs_url, table)


def build_resources(settings: Settings | None = None) -> dict[str, dg.ConfigurableResource]:
    """Resources from the environment. The URL is an EnvVar when set (it may hold a secret)."""
    s = settings or Settings.from_env()
    v = ValidationConfig.from_env()
    url = (
        dg.EnvVar("OUTCOME_WAREHOUSE_URL")
        if "OUTCOME_WAREHOUSE_URL" in os.environ
        else s.warehouse_url
    )
    return {
        "warehouse": WarehouseResource(url=url, schema_name=s.warehouse_schema),
        "landing": LandingResource(
            root=s.landing_dir, timezone=s.timezone, sources_dir=s.sources_dir
        ),
        "validation": ValidationResource(
            max_quarantine_share=s.max_quarantine_share,
            data_docs_dir=s.data_docs_dir,
            clock_skew_seconds=v.clock_skew_seconds,
            plausible_from=v.plausible_from.isoformat(),
            follow_up_days=v.follow_up_days,
            data_docs_url=s.data_docs_url,
        ),
    }


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources=build_resources())
