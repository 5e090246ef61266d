"""Materialise every asset for a range of business days, in this process, with progress."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

import dagster as dg

RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"


@dataclass
class AssetOutcome:
    asset: str
    ok: bool
    seconds: float
    metadata: dict[str, object] = field(default_factory=dict)
    error: str = ""


@dataclass
class RunSummary:
    start: date
    end: date
    assets: list[AssetOutcome]

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.assets)


def _instance() -> dg.DagsterInstance:
    # With DAGSTER_HOME set the runs land in that instance and show in the UI.
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def _value(v: object) -> object:
    return getattr(v, "value", v)


def run_range(
    start: date, end: date, out: TextIO = sys.stdout, log_level: str = "ERROR"
) -> RunSummary:
    """Run each asset, in dependency order, over [start, end] as one single-run range."""
    from outcome_pipeline.definitions import defs

    definitions = defs()
    # The nightly job: every asset and its checks, except the freshness checks (those judge
    # the wall clock against a deadline; their sensor evaluates them, not a run).
    job = definitions.resolve_job_def("nightly_outcomes")
    graph = definitions.resolve_asset_graph()
    # One step per assets definition (a multi-asset computes its tables together).
    steps: list[list[dg.AssetKey]] = []
    seen: set[int] = set()
    for key in graph.toposorted_asset_keys:
        node = graph.get(key)
        if not node.is_materializable or id(node.assets_def) in seen:
            continue
        seen.add(id(node.assets_def))
        steps.append(sorted(node.assets_def.keys))
    tags = {RANGE_START: start.isoformat(), RANGE_END: end.isoformat()}
    outcomes: list[AssetOutcome] = []
    with _instance() as instance:
        for i, keys in enumerate(steps, start=1):
            name = ", ".join(k.to_user_string() for k in keys)
            if len(name) > 28:
                name = f"{keys[0].to_user_string()} +{len(keys) - 1}"
            out.write(f"[{i}/{len(steps)}] {name:<28} ")
            out.flush()
            t0 = time.perf_counter()
            result = job.execute_in_process(
                instance=instance,
                tags=tags,
                asset_selection=keys,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
            )
            seconds = time.perf_counter() - t0
            metas: dict[str, dict[str, object]] = {}
            for m in result.get_asset_materialization_events():
                meta = metas.setdefault(m.asset_key.to_user_string(), {})
                meta.update({k: _value(v) for k, v in m.materialization.metadata.items()})
            if result.success:
                out.write(step_status(metas, seconds) + "\n")
                outcomes += [AssetOutcome(a, True, seconds, m) for a, m in sorted(metas.items())]
                continue
            error = _first_error(result)
            out.write(f"FAILED after {seconds:.1f}s\n    {error}\n")
            outcomes.append(AssetOutcome(name, False, seconds, {}, error))
            break
    summary = RunSummary(start, end, outcomes)
    out.write(format_summary(summary))
    return summary


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    failed_checks = [
        f"check {e.check_name} failed: {e.description or 'see the run log'}"
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    if failed_checks:
        return "\n    ".join(failed_checks)
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            err = event.step_failure_data.error
            return (err.cause.message if err.cause else err.message).strip()
    return "run failed (see the run log)"


def format_summary(summary: RunSummary) -> str:
    lines = [
        "",
        f"Summary {summary.start} .. {summary.end}: "
        + ("all assets materialised" if summary.ok else "STOPPED on a failure"),
        f"{'table':<28} {'rows':>10} {'quarantined':>12} {'duplicates':>11} {'seconds':>8}",
    ]
    for a in summary.assets:
        rows = a.metadata.get("dagster/row_count", "-")
        quarantined = a.metadata.get("rows_quarantined", "-")
        dups = a.metadata.get("rows_duplicate", "-")
        lines.append(
            f"{a.asset:<28} {rows!s:>10} {quarantined!s:>12} {dups!s:>11} {a.seconds:8.1f}"
        )
    return "\n".join(lines) + "\n"


def step_status(metas: dict[str, dict[str, object]], seconds: float) -> str:
    """A successful step's status: rows per table, never a sum over tables of other grains.

    A step that computes several tables (journeys beside daily aggregates) lists each on its
    own line; a step that writes no table rows (the BI file or views) says what it published.
    """
    counted = {
        a: m["dagster/row_count"] for a, m in sorted(metas.items()) if "dagster/row_count" in m
    }
    if len(metas) == 1 and counted:
        return f"ok   {int(next(iter(counted.values()))):>10} rows  {seconds:6.1f}s"
    if counted:
        lines = [f"ok   {len(counted):>10} tables{seconds:6.1f}s"]
        lines += [f"      {a:<28} {int(rows):>12} rows" for a, rows in counted.items()]
        return "\n".join(lines)
    meta = next(iter(metas.values()), {})
    if "path" in meta:
        size = f" ({int(meta['bytes']) / 1e6:.1f} MB)" if "bytes" in meta else ""
        return f"ok   published {meta['path']}{size}  {seconds:.1f}s"
    if "schema" in meta:
        return f"ok   views refreshed in schema {meta['schema']}  {seconds:.1f}s"
    return f"ok   {seconds:.1f}s"
