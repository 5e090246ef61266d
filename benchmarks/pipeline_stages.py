"""With ``pipeline_dagster.py`` (the Dagster path), the one place the harness calls into
``outcome_pipeline``: every import of the package is in these two modules.

When the internals change (e.g. ``compute_outcomes`` is split or staging is restructured),
adapt these modules only; the rest of the harness speaks in stages and figures.

Stages of one business day, mirroring what the Dagster assets do for a one-day run:

- ``read + type + dedupe``: ``stage_day`` of each feed table (3 feeds: interactions, CRM =
  customers/cases/subscription events, surveys), minus the validator's own time;
- ``validation``: the row validator ``stage_day`` calls (``DayValidations``, engine ``auto``:
  vectorised pre-checks, GX confirming), timed by wrapping it;
- ``warehouse write (staging)``: delete + insert of the day's staging, quarantine and audit
  rows, one transaction (as ``defs/ingest/assets.py``);
- ``warehouse read (inputs)``: what the outcome asset reads before computing
  (``outcome_inputs``): from a DuckDB warehouse nothing is copied out (the engine session
  attaches the file and scans it in place, inside ``identity + journeys``); from PostgreSQL
  nothing either: the engine session streams the rows into its tables (``StreamedInputs``,
  also inside ``identity + journeys``);
- ``identity + journeys`` and ``daily tables``: ``compute_outcomes`` in two halves (CRM/legs/
  contacts/journeys/links steps and the journey-grain selects; then the daily step and the
  daily selects). If the step runner (``outcomes/steps.py``) changes, the split falls back to
  timing ``compute_outcomes`` whole (reported under ``identity + journeys``, with a note);
- ``warehouse write (outcomes)``: delete + insert of the six outcome tables, one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

TIMEZONE = "Europe/London"
REPEAT_WINDOW_DAYS = 7
# The outcome asset reads interactions from W + 2 days before the first computed day.
LOOKBACK_DAYS = REPEAT_WINDOW_DAYS + 2
FEEDS = {
    "interactions": ("interactions",),
    "crm": ("customers", "cases", "subscription_events"),
    "surveys": ("survey_responses",),
}


def day_bounds_us(day: date) -> tuple[int, int]:
    """[start, end) of a business day in epoch microseconds (the limit's and the peer's
    transform bounds)."""
    from outcome_pipeline.calendar import day_bounds_us as bounds

    return bounds(day, TIMEZONE)


# -- generation -----------------------------------------------------------------------------


def generate_feeds(
    out: Path, start: date, days: int, per_day: int, seed: int, skewed: bool, **overrides: Any
) -> dict[str, Any]:
    """Write the landing feeds; returns the manifest's config and per-table row counts.
    ``overrides``: further ``GeneratorConfig`` fields (e.g. ``warmup_days``)."""
    from outcome_pipeline.generator import GeneratorConfig, generate
    from outcome_pipeline.generator.config import SKEWED

    cfg = GeneratorConfig(
        out_dir=out,
        start=start,
        days=days,
        interactions_per_day=per_day,
        seed=seed,
        **(SKEWED if skewed else {}),
        **overrides,
    )
    report = generate(cfg)
    return {"config": report.config, "skew": SKEWED if skewed else "default"}


# -- one day, stage by stage ----------------------------------------------------------------

Measure = Callable[..., Any]  # Recorder.stage(name, engine, rows=..., note=...)
# The note of the "identity + journeys" stage when the step runner could not be split (the
# report then has no "daily tables" stage; the harness test fails on it).
WHOLE_NOTE = "compute_outcomes whole (no split)"
# The first relation of the daily half: the split times the relations before it, then the rest.
DAILY_STEP = "int_leg_facts"


@dataclass
class DayResult:
    figures: dict[str, int]
    rows: dict[str, int]
    # The validator runs inside stage_day: its time, rows and peak RSS, measured by a wrapper.
    validation_seconds: float
    validation_rows: int
    validation_peak_rss_mib: float
    # Seconds of each relation of the engine session and of each mart's select, in run order.
    relation_seconds: dict[str, float] = field(default_factory=dict)


class _TimedValidator:
    """Wraps the production row validator; accumulates its time and peak RSS."""

    def __init__(self, inner: Any, peak: Callable[[], float], reset: Callable[[], float]):
        self.inner, self._peak, self._reset = inner, peak, reset
        self.seconds = 0.0
        self.peak_rss = 0.0
        self.rows = 0

    def __call__(self, rows: pa.Table, contract: Any, day: date) -> Any:
        self._reset()
        t0 = time.perf_counter()
        try:
            return self.inner(rows, contract, day)
        finally:
            self.seconds += time.perf_counter() - t0
            self.rows += rows.num_rows
            self.peak_rss = max(self.peak_rss, self._peak())


def stage_tables(landing: Path, day: date, validator: Any) -> list[Any]:
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.ingest.stage import stage_day

    return [
        stage_day(landing, CONTRACTS[name], day, TIMEZONE, run_id="bench", validator=validator)
        for names in FEEDS.values()
        for name in names
    ]


def write_staged(url: str, schema: str, staged: list[Any], day: date) -> int:
    """The staging asset's write: every table of the day in one transaction."""
    from outcome_pipeline.ingest.stage_finish import audit_row
    from outcome_pipeline.warehouse import LOAD_AUDIT, PartitionWrite, Warehouse
    from outcome_pipeline.warehouse.tables import (
        QUARANTINE_FILES,
        QUARANTINE_TABLES,
        STAGING_TABLES,
    )

    wh = Warehouse(url, schema)
    rows = 0
    try:
        wh.create_tables(
            [
                *STAGING_TABLES.values(),
                *QUARANTINE_TABLES.values(),
                QUARANTINE_FILES,
                LOAD_AUDIT,
            ]
        )
        start, end = day, day + timedelta(days=1)
        writes: list[PartitionWrite] = []
        for result in staged:
            feed = (("feed", result.table),)
            writes += [
                PartitionWrite(STAGING_TABLES[result.table], start, end, result.staged),
                PartitionWrite(QUARANTINE_TABLES[result.table], start, end, result.quarantined),
                PartitionWrite(QUARANTINE_FILES, start, end, result.rejected_files, feed),
                PartitionWrite(
                    LOAD_AUDIT, start, end, pa.Table.from_pylist([audit_row(result)]), feed
                ),
            ]
            rows += result.staged.num_rows
        wh.replace_partitions(writes)
    finally:
        wh.dispose()
    return rows


def stage_days(landing: Path, url: str, schema: str, days: list[date]) -> None:
    """Stage (validated) and write whole days, untimed: the history a measured day needs."""
    from outcome_pipeline.validation.collector import DayValidations

    for day in days:
        write_staged(url, schema, stage_tables(landing, day, DayValidations(TIMEZONE)), day)


def _compute_split(
    inputs: Any,
    days: list[date],
    as_of: Any,
    cfg: Any,
    measure: Measure,
    rows: int,
    by_relation: dict[str, float],
) -> dict[str, pa.Table]:
    """compute_outcomes in two timed halves (same SQL, same order), or whole as a fallback.

    Each relation (``int_*``, with the drops that follow it) and each mart's select is also
    timed on its own into ``by_relation``.
    """
    from outcome_pipeline.outcomes import OUTCOME_TABLES, compute_outcomes
    from outcome_pipeline.settings import Settings

    limit = Settings.from_env().compute_memory_limit
    try:
        from outcome_pipeline.outcomes.compute import prepare_session as prepare
        from outcome_pipeline.outcomes.engine import engine_session as session
        from outcome_pipeline.outcomes.relations import RELATIONS as relations
        from outcome_pipeline.outcomes.steps import run_relation
        from outcome_pipeline.outcomes.steps import select_table as select

        # The daily half: the legs of the computed days and what is built from them.
        first_daily = DAILY_STEP
        if first_daily not in [r.name for r in relations]:
            raise AttributeError(first_daily)
    except (ImportError, AttributeError):
        with measure("identity + journeys", "pipeline", rows=rows, note=WHOLE_NOTE):
            return compute_outcomes(inputs, days, as_of, cfg, memory_limit=limit)
    names = [r.name for r in relations]
    journey_half = relations[: names.index(first_daily)]
    daily_half = relations[names.index(first_daily) :]
    journey_tables = ("journeys", "journey_contacts", "customer_outcomes")

    def timed(name: str, call: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return call()
        finally:
            by_relation[name] = time.perf_counter() - t0

    # The session compute_outcomes opens, with the memory cap the asset passes it.
    with session(limit) as con:
        out: dict[str, pa.Table] = {}
        with measure("identity + journeys", "pipeline", rows=rows):
            timed("prepare_session", lambda: prepare(con, inputs, days, as_of, cfg))
            for relation in journey_half:
                timed(relation.name, lambda r=relation: run_relation(con, r, inputs))
            for name in journey_tables:
                out[name] = timed(f"mart_{name}", lambda n=name: select(con, OUTCOME_TABLES[n]))
        with measure("daily tables", "pipeline", rows=rows):
            for relation in daily_half:
                timed(relation.name, lambda r=relation: run_relation(con, r, inputs))
            for name, table in OUTCOME_TABLES.items():
                if name not in out:
                    out[name] = timed(f"mart_{name}", lambda t=table: select(con, t))
        return {name: out[name] for name in OUTCOME_TABLES}


def relation_lines(seconds: dict[str, float]) -> list[str]:
    """Markdown: the engine session's time by relation (and mart select), in run order."""
    if not seconds:
        return []
    lines = [
        "",
        "Engine session by relation (pipeline; each `int_*` with the drops after it, each "
        "`mart_*` its select into Arrow):",
        "",
        "| relation | seconds |",
        "|---|---:|",
    ]
    lines += [f"| {name} | {value:.3f} |" for name, value in seconds.items()]
    return [*lines, f"| **total** | **{sum(seconds.values()):.3f}** |"]


_INPUTS = ("interactions", "customers", "cases", "subscription_events", "survey_responses")


def run_day(
    landing: Path,
    url: str,
    schema: str,
    day: date,
    measure: Measure,
    rss_peak: Callable[[], float],
    rss_reset: Callable[[], float],
) -> DayResult:
    """One business day through the pipeline's functions, each stage under ``measure``."""
    from outcome_pipeline.calendar import day_end
    from outcome_pipeline.defs.outcomes.assets import latest_staged_day, outcome_inputs
    from outcome_pipeline.outcomes import (
        OUTCOME_TABLES,
        AttachedInputs,
        OutcomeConfig,
        input_selects,
        input_window,
        zones,
    )
    from outcome_pipeline.validation.collector import DayValidations
    from outcome_pipeline.warehouse import PartitionWrite, Warehouse

    validator = _TimedValidator(DayValidations(TIMEZONE), rss_peak, rss_reset)
    with measure("read + type + dedupe", "pipeline") as read:
        staged = stage_tables(landing, day, validator)
    read.seconds -= validator.seconds
    read.rows = sum(s.rows_read for s in staged)
    read.note = "peak RSS includes validation (interleaved per table)"
    read.extra = {t.table: t.rows_read for t in staged}
    rows = {"staged": sum(s.rows_staged for s in staged)}
    by_relation: dict[str, float] = {}
    staged_by_table = {s.table: s for s in staged}
    rows["interactions_staged"] = staged_by_table["interactions"].rows_staged
    rows["quarantined"] = sum(s.rows_quarantined for s in staged)

    with measure("warehouse write (staging)", "pipeline", rows=rows["staged"]):
        write_staged(url, schema, staged, day)
    del staged

    cfg = OutcomeConfig.from_env(timezone=TIMEZONE, repeat_window_days=REPEAT_WINDOW_DAYS)
    wh = Warehouse(url, schema)
    try:
        with measure("warehouse read (inputs)", "pipeline") as rd:
            wh.create_tables(list(OUTCOME_TABLES.values()))  # as the asset does, every run
            latest = latest_staged_day(wh) or day
            as_of = day_end(max(latest, day), TIMEZONE)
            window, z = input_window(day, day, as_of, cfg), zones([day], cfg)
            inputs = outcome_inputs(wh, window, z)
        # Rows of the window (untimed): counted in the warehouse (neither input kind copies
        # them out before the engine session reads them).
        counts = {
            name: wh.count_select(sql)
            for name, sql in input_selects(wh.qualified, window, z).items()
            if name in _INPUTS
        }
        rd.rows = sum(counts.values())
        if isinstance(inputs, AttachedInputs):
            rd.note = "DuckDB file attached to the engine session: scanned in place, not copied"
        else:
            rd.note = "streamed into the engine session (inside identity + journeys), not here"
        rows["window_interactions"] = counts["interactions"]
        tables = _compute_split(
            inputs, [day], as_of, cfg, measure, rows["window_interactions"], by_relation
        )
        out_rows = sum(t.num_rows for t in tables.values())
        with measure("warehouse write (outcomes)", "pipeline", rows=out_rows):
            end = day + timedelta(days=1)
            wh.replace_partitions(
                [PartitionWrite(t, day, end, tables[name]) for name, t in OUTCOME_TABLES.items()]
            )
    finally:
        wh.dispose()
    return DayResult(
        pipeline_figures(tables, day),
        rows,
        validator.seconds,
        validator.rows,
        validator.peak_rss,
        by_relation,
    )


def staged_interactions(url: str, schema: str, day: date) -> int:
    from outcome_pipeline.warehouse import Warehouse

    wh = Warehouse(url, schema)
    try:
        return wh.count("stg_interactions", "partition_date = :d", {"d": day})
    finally:
        wh.dispose()


def pipeline_figures(tables: dict[str, pa.Table], day: date) -> dict[str, int]:
    """The comparable figures of ``day`` from the pipeline's own output tables."""
    import pyarrow.compute as pc

    daily = tables["daily_outcomes"]
    daily = daily.filter(pc.equal(daily["partition_date"], pa.scalar(day, pa.date32())))
    journeys = tables["journeys"]
    journeys = journeys.filter(
        pc.and_(
            pc.equal(journeys["partition_date"], pa.scalar(day, pa.date32())),
            pc.invert(journeys["is_anonymous"]),
        )
    )

    def total(column: str) -> int:
        return int(pc.sum(daily[column]).as_py() or 0)

    return {
        "contacts": total("contacts"),
        "anonymous_contacts": total("anonymous_contacts"),
        "repeat_contacts": total("repeat_contacts"),
        "journeys_started": total("journeys_started"),
        "multi_contact_journeys": int(pc.sum(pc.greater(journeys["contacts"], 1)).as_py() or 0),
    }
