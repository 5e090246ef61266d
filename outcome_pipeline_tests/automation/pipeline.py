"""A small real pipeline for the automation and serving tests: generated feeds, the real
assets and jobs, a DuckDB or PostgreSQL warehouse, and one Dagster instance shared by runs and
sensor evaluations (so the sensors see the runs' materializations)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg

from outcome_pipeline.defs.automation.freshness import DAILY_FRESHNESS_CHECKS
from outcome_pipeline.defs.automation.jobs import late_files_job, nightly_job, restate_job
from outcome_pipeline.defs.ingest.assets import staging_assets
from outcome_pipeline.defs.outcomes.assets import outcome_tables
from outcome_pipeline.defs.resources import (
    LandingResource,
    ValidationResource,
    WarehouseResource,
)
from outcome_pipeline.defs.serving.assets import BiServingResource, bi_views
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.warehouse import Warehouse

TZ = "Europe/London"


def generate_days(root: Path, start: date, days: int, per_day: int = 120, seed: int = 5) -> None:
    generate(
        GeneratorConfig(
            out_dir=root, start=start, days=days, interactions_per_day=per_day, seed=seed
        )
    )


@dataclass
class Pipeline:
    landing: Path
    url: str
    schema: str
    bi_copy: Path
    instance: dg.DagsterInstance
    warehouse_resource: type[WarehouseResource] = WarehouseResource

    @property
    def resources(self) -> dict[str, dg.ConfigurableResource]:
        return {
            "warehouse": self.warehouse_resource(url=self.url, schema_name=self.schema),
            "landing": LandingResource(root=str(self.landing), timezone=TZ),
            # Pre-checks only: GX is not what these tests are about, and costs seconds a day.
            "validation": ValidationResource(
                data_docs_dir=str(self.landing.parent / "docs"),
                max_quarantine_share=0.5,
                engine="precheck",
            ),
            "bi": BiServingResource(copy_path=str(self.bi_copy)),
        }

    def definitions(self, retry_policy: dg.RetryPolicy | None = None) -> dg.Definitions:
        jobs = [nightly_job, restate_job, late_files_job]
        if retry_policy is not None:
            jobs = [
                dg.define_asset_job(
                    j.name,
                    selection=j.selection,
                    partitions_def=j.partitions_def,
                    run_tags=j.run_tags,
                    op_retry_policy=retry_policy,
                )
                for j in jobs
            ]
        return dg.Definitions(
            assets=[*staging_assets, outcome_tables, bi_views],
            asset_checks=DAILY_FRESHNESS_CHECKS,  # the jobs leave them out by name
            jobs=jobs,
            resources=self.resources,
            executor=dg.in_process_executor,
        )

    def run(
        self,
        job_name: str,
        request: dg.RunRequest | None = None,
        tags: dict[str, str] | None = None,
        retry_policy: dg.RetryPolicy | None = None,
    ) -> dg.ExecuteInProcessResult:
        """Execute a job as the daemon would for ``request`` (or for plain ``tags``)."""
        job = self.definitions(retry_policy).resolve_job_def(job_name)
        tags = dict(tags or {})
        kwargs: dict = {}
        if request is not None:
            tags.update(request.tags)
            if request.partition_key:
                kwargs["partition_key"] = request.partition_key
            if request.asset_selection:
                kwargs["asset_selection"] = list(request.asset_selection)
        return job.execute_in_process(instance=self.instance, tags=tags, **kwargs)

    def warehouse(self) -> Warehouse:
        return Warehouse(self.url, self.schema)

    def counts_by_day(self, table: str, source: str | None = None) -> dict[date, int]:
        """Rows per partition_date of ``table`` (in the warehouse or another DuckDB file)."""
        url = f"duckdb:///{source}" if source else self.url
        wh = Warehouse(url, self.schema)
        try:
            rows = wh.query(
                f"SELECT partition_date AS d, count(*) AS n FROM {wh.qualified(table)} "
                "GROUP BY 1 ORDER BY 1"
            ).to_pylist()
        finally:
            wh.dispose()
        return {r["d"]: r["n"] for r in rows}


def add_late_interactions(landing: Path, day: date, n: int, name: str) -> list[str]:
    """Write ``n`` new contacts for ``day`` (copies of that day's chat contacts with new ids,
    so they belong to known customers and become repeats) as a new landing file."""
    source = landing / "interactions" / day.isoformat() / "interactions_chat.jsonl"
    rows = [json.loads(line) for line in source.read_text().splitlines()]
    rows = [r for r in rows if r["parent_interaction_id"] is None][:n]
    for i, r in enumerate(rows):
        r["interaction_id"] = f"ix-late-{day:%m%d}-{i:04d}"
    target = source.with_name(name)
    target.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return [r["interaction_id"] for r in rows]
