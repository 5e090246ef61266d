"""Materialise every asset for a range of business days, in this process, with progress.

The user sees one line per step, the lines of a retry (what it waits for, next try in s) and,
on a failure, one paragraph saying what to do; the full Dagster log, stack traces included,
goes to a file (:func:`log_file`) whose path is printed.
"""

from __future__ import annotations

import logging
import sys
import textwrap
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TextIO

import dagster as dg

from outcome_pipeline.defs.tags import RANGE_END, RANGE_START
from outcome_pipeline.errors import ConfigError, Problem, permanent_problem
from outcome_pipeline.settings import Settings


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
    # "configuration" when the failure was a setting's (exit code 2), else "" (exit code 1).
    error_kind: str = ""
    log_path: Path | None = None

    @property
    def ok(self) -> bool:
        return all(a.ok for a in self.assets)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 2 if self.error_kind == "configuration" else 1


# The newest this many logs of the command line are kept in OUTCOME_LOG_DIR.
KEEP_LOGS = 30


def log_file(settings: Settings, now: datetime | None = None) -> Path:
    """A new file for this invocation's full log, in OUTCOME_LOG_DIR (older ones pruned)."""
    folder = Path(settings.log_dir)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            Problem(
                f"The log folder {folder} cannot be created ({exc.strerror})",
                "OUTCOME_LOG_DIR",
                "Point OUTCOME_LOG_DIR at a folder this user may write.",
            )
        ) from None
    for old in sorted(folder.glob("run-*.log"))[: -KEEP_LOGS + 1 or None]:
        old.unlink(missing_ok=True)
    return folder / f"run-{stamp}.log"


def check_range(start: date, end: date) -> None:
    """Refuse, before anything runs, days outside the daily partitions (a ConfigError)."""
    from outcome_pipeline.defs.partitions import daily_partitions

    first = date.fromisoformat(daily_partitions.get_first_partition_key())
    last_key = daily_partitions.get_last_partition_key()
    problems = []
    if end < start:
        problems.append(Problem(f"--end {end} is before --start {start}", "--end", "Swap them."))
    if start < first:
        problems.append(
            Problem(
                f"--start {start} is before the first daily partition, {first}",
                "OUTCOME_START_DATE",
                f"Start on or after {first}, or set OUTCOME_START_DATE to an earlier day "
                "(in the environment of every Dagster process) if data of earlier days lands.",
            )
        )
    if last_key is None or end > date.fromisoformat(last_key):
        problems.append(
            Problem(
                f"--end {end} is after the last daily partition, {last_key or 'none yet'} "
                "(a business day is run once it is over)",
                "--end",
                f"End on or before {last_key}."
                if last_key
                else "Wait until the first business day is over.",
            )
        )
    if problems:
        raise ConfigError(*problems)


def preflight(settings: Settings) -> None:
    """Connect to the warehouse once: a configuration mistake (wrong password, database or host
    that does not exist, a DuckDB file that cannot be created) is a ConfigError before any step
    runs. A transient error is left to the run, which retries it and says so."""
    from outcome_pipeline.warehouse import Warehouse

    wh = Warehouse(settings.warehouse_url, settings.warehouse_schema)
    try:
        with wh.engine.connect():
            pass
    except Exception as exc:
        problem = permanent_problem(exc, settings.warehouse_url)
        if problem is not None:
            raise ConfigError(problem) from exc
    finally:
        wh.dispose()


class _Progress:
    """The step lines on ``out``; a retry's WARNING interrupts the open line."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.head = ""
        self.interrupted = False

    def start(self, head: str) -> None:
        self.head, self.interrupted = head, False
        self.out.write(head)
        self.out.flush()

    def note(self, message: str) -> None:
        if not self.interrupted:
            self.out.write("\n")
        self.interrupted = True
        self.out.write(_indent(message) + "\n")
        self.out.flush()

    def finish(self, status: str) -> None:
        self.out.write((self.head if self.interrupted else "") + status + "\n")
        self.out.flush()


def _indent(text: str) -> str:
    # Paths and URLs stay whole on one line, so that they can be copied.
    return textwrap.fill(
        text,
        96,
        initial_indent="    ",
        subsequent_indent="    ",
        break_on_hyphens=False,
        break_long_words=False,
    )


class _NoteHandler(logging.Handler):
    def __init__(self, progress: _Progress) -> None:
        super().__init__(logging.WARNING)
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        from outcome_pipeline.defs.automation.retries import WAITING

        meta = getattr(record, "dagster_meta", None) or {}
        message = str(meta.get("orig_message", ""))
        if message.startswith(WAITING):
            self.progress.note(message)


def _cli_logger(path: Path, level: str, progress: _Progress) -> dg.LoggerDefinition:
    @dg.logger(description="The full log to a file; retry waits to the terminal.")
    def cli(_init: dg.InitLoggerContext) -> logging.Logger:
        log = logging.Logger("outcome_pipeline.cli", logging.DEBUG)
        to_file = logging.FileHandler(path, encoding="utf-8")
        to_file.setLevel(level)
        to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        log.addHandler(to_file)
        log.addHandler(_NoteHandler(progress))
        return log

    return cli


def _instance(out: TextIO, ephemeral: bool = False) -> dg.DagsterInstance:
    # The instance `dagster dev` shows (DAGSTER_HOME, else the project's dagster_home/), so the
    # UI knows what the CLI materialised; in memory only when asked.
    from outcome_pipeline.cli.project import open_instance

    return open_instance(out, ephemeral)


# Per-partition counts (a range run records one materialization per day): summed per table.
SUMMED = ("dagster/row_count", "rows_quarantined", "rows_duplicate")


def _collect(metas: dict[str, dict[str, object]], m: dg.AssetMaterialization) -> None:
    meta = metas.setdefault(m.asset_key.to_user_string(), {})
    for k, v in m.metadata.items():
        value = _value(v)
        if k in SUMMED and isinstance(value, int):
            meta[k] = int(str(meta.get(k, 0))) + value
        elif k not in SUMMED:
            meta[k] = value


def _value(v: object) -> object:
    return getattr(v, "value", v)


def run_range(
    start: date,
    end: date,
    out: TextIO | None = None,
    log_level: str = "DEBUG",
    log_path: Path | None = None,
    ephemeral_instance: bool = False,
    tags: Mapping[str, str] | None = None,
) -> RunSummary:
    """Run each asset, in dependency order, over [start, end] as one single-run range.

    ``log_path``: the file receiving the full Dagster log at ``log_level`` (default: a new file
    from :func:`log_file`).
    """
    from outcome_pipeline.definitions import defs

    out = out or sys.stdout  # resolved per call: a caller may have redirected stdout
    path = log_path or log_file(Settings.from_env())
    progress = _Progress(out)
    definitions = defs()
    # The nightly job: every asset and its checks, except the freshness checks (those judge
    # the wall clock against a deadline; their sensor evaluates them, not a run).
    job = definitions.resolve_job_def("nightly_outcomes").with_logger_defs(
        {"cli": _cli_logger(path, log_level, progress)}
    )
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
    tags = {**(tags or {}), RANGE_START: start.isoformat(), RANGE_END: end.isoformat()}
    outcomes: list[AssetOutcome] = []
    kind = ""
    with _instance(out, ephemeral_instance) as instance:
        for i, keys in enumerate(steps, start=1):
            name = ", ".join(k.to_user_string() for k in keys)
            if len(name) > 28:
                name = f"{keys[0].to_user_string()} +{len(keys) - 1}"
            progress.start(f"[{i}/{len(steps)}] {name:<28} ")
            t0 = time.perf_counter()
            result = job.execute_in_process(
                instance=instance,
                tags=tags,
                asset_selection=keys,
                raise_on_error=False,
                run_config={"loggers": {"cli": {}}},
            )
            seconds = time.perf_counter() - t0
            metas: dict[str, dict[str, object]] = {}
            for m in result.get_asset_materialization_events():
                _collect(metas, m.materialization)
            if result.success:
                progress.finish(step_status(metas, seconds))
                for warning in check_warnings(result):
                    out.write(_indent(warning) + "\n")
                outcomes += [AssetOutcome(a, True, seconds, m) for a, m in sorted(metas.items())]
                continue
            error, kind = failure_paragraph(result)
            progress.finish(f"FAILED after {seconds:.1f}s")
            out.write(_indent(error) + "\n")
            outcomes.append(AssetOutcome(name, False, seconds, {}, error))
            break
    summary = RunSummary(start, end, outcomes, kind, path)
    out.write(format_summary(summary))
    out.write(f"Full log: {path}\n")
    return summary


def check_warnings(result: dg.ExecuteInProcessResult) -> list[str]:
    """Warning-level checks that did not pass, in words: a warning never stops a run, so
    without this line a person at the command line would only find it in the UI."""
    return [
        f"Warning: check {e.check_name} of {e.asset_key.to_user_string()}: "
        + (e.description or "see the full log").strip()
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.WARN
    ]


def _first_error(result: dg.ExecuteInProcessResult) -> str:
    return failure_paragraph(result)[0]


def failure_paragraph(result: dg.ExecuteInProcessResult) -> tuple[str, str]:
    """What failed and what to do, in words (never a stack trace), and the failure's kind."""
    from outcome_pipeline.defs.automation.retries import ERROR_KIND

    failed_checks = [
        f"Check {e.check_name} of {e.asset_key.to_user_string()} failed: "
        + (e.description or "see the full log").strip().rstrip(".")
        + "."
        for e in result.get_asset_check_evaluations()
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
    if failed_checks:
        return (
            " ".join(failed_checks) + " The steps after it did not run. Fix or remove the "
            "landing files named (the check's details are in the full log and the Dagster UI), "
            "then run the same days again.",
            "",
        )
    for event in result.all_events:
        if not (event.is_step_failure and event.step_failure_data.error):
            continue
        data = event.step_failure_data
        user = data.user_failure_data
        if user is not None and user.description:
            kind = _value(user.metadata.get(ERROR_KIND, "")) if user.metadata else ""
            return user.description.strip(), str(kind or "")
        err = data.error
        while err.cause is not None and "max_retries" in err.message:
            err = err.cause
        cause = err.cause or err
        first = (cause.message.strip().splitlines() or [""])[0]
        return (
            f"Step {event.step_key} failed: {first} This is not a configuration or connection "
            "problem the pipeline recognises; the stack trace is in the full log.",
            "",
        )
    return "The run failed; see the full log.", ""


def unexpected_error(exc: BaseException, path: Path) -> str:
    """The paragraph for an error outside any step (its trace appended to the full log)."""
    import traceback

    with path.open("a", encoding="utf-8") as log:
        log.write("".join(traceback.format_exception(exc)))
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return (
        f"The run stopped on an unexpected error: {type(exc).__name__}: {first}. The stack "
        f"trace is in the full log, {path}."
    )


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
