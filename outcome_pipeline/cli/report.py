"""`outcome-pipeline report`: write the outcome report for a range of days from the warehouse."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from outcome_pipeline.errors import redact_url
from outcome_pipeline.settings import Settings


def write_report(start: date, end: date, out: Path | None, settings: Settings) -> int:
    """Build the report (exit 0), or say why not in a sentence (1: the warehouse, 2: usage)."""
    from outcome_pipeline.report import build_report
    from outcome_pipeline.warehouse import Warehouse

    if end < start:
        print(f"error: --end {end} is before --start {start}", file=sys.stderr)
        return 2
    folder = out or Path(settings.report_dir)
    wh = Warehouse(settings.warehouse_url, settings.warehouse_schema)
    try:
        report = build_report(wh, start, end, folder)
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0].rstrip(".")
        print(
            f"error: could not read the daily tables in {redact_url(settings.warehouse_url)} "
            f"(schema {settings.warehouse_schema}): {reason}. Run the pipeline for these days "
            "first (outcome-pipeline run --start ... --end ...).",
            file=sys.stderr,
        )
        return 1
    finally:
        wh.dispose()
    print(
        f"report {start}..{end}: {report.path.resolve()} ({len(report.charts)} charts; read "
        f"{report.read_seconds:.1f}s, drawn {report.draw_seconds:.1f}s)"
    )
    return 0
