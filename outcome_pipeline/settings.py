"""Settings read from the environment, in one place, with the defaults a fresh clone runs on.

Data and warehouse:

- ``OUTCOME_LANDING_DIR`` (``data/landing``): landing root, ``<feed>/<YYYY-MM-DD>/<table>*``.
- ``OUTCOME_SOURCES_DIR`` (empty: none): folder of source mapping files (``*.toml``), each
  mapping a vendor export onto a feed contract (see ``docs/sources/``).
- ``OUTCOME_NATIVE_INGEST`` (``reader``): what reads the native contract files. ``reader``:
  the Arrow reader; ``mapping``: the contracts' identity mappings through the source mapping
  engine, one ingest path for native and vendor files (same rows, reasons and messages;
  still about 10–25 % slower on a staging run, mostly the JSON lines keys pass, see
  ``benchmarks/PERFORMANCE.md``). Read by staging when it runs.
- ``OUTCOME_WAREHOUSE_URL`` (``duckdb:///data/warehouse.duckdb``): SQLAlchemy URL of the
  warehouse; a secret when it holds a password (passed to Dagster as an ``EnvVar``).
- ``OUTCOME_WAREHOUSE_SCHEMA`` (``outcome``): schema holding every table.
- ``OUTCOME_TIMEZONE`` (``Europe/London``): business timezone; a partition is a business day.
- ``OUTCOME_START_DATE`` (``2024-01-01``): first daily partition.
- ``OUTCOME_MAX_QUARANTINE_SHARE`` (``0.05``): share of a day's rows that may be quarantined
  before the blocking check stops the downstream assets.
- ``OUTCOME_DATA_DOCS_DIR`` (``data/data_docs``): static Data Docs of the latest validations.
- ``OUTCOME_DATA_DOCS_URL`` (``http://127.0.0.1:8765``): where ``outcome-pipeline data-docs``
  serves that folder; the base of the Data Docs links in the Dagster UI.
- ``OUTCOME_BI_COPY_PATH`` (empty: ``<warehouse file>_bi.duckdb``): the read-only DuckDB copy
  published for BI tools.
- ``OUTCOME_REPORT_DIR`` (``data/report``) / ``OUTCOME_REPORT_DAYS`` (``28``): where the
  ``outcome_report`` asset writes the outcome report (``index.html`` and a PNG per chart) and
  how many business days, ending at the latest day computed, it shows.
- ``OUTCOME_COMPUTE_MEMORY_LIMIT`` (empty: 50 % of physical memory): memory cap of the DuckDB
  session computing the outcome tables (``6GB``, ``512MiB`` or ``40%``); past it the engine
  spills to a temporary directory instead of exhausting the machine.
- ``OUTCOME_CHUNK_ROWS`` (``7000000``) / ``OUTCOME_CHUNK_DAYS`` (empty: from the rows): a
  range run of the outcome tables is computed and written in chunks of C days, each in its
  own engine session and transaction, so its peak memory does not grow with the range (the
  tables are the same). A chunk reads C + 1 + H + W days of contacts, so C is sized from a
  row budget for them: C = OUTCOME_CHUNK_ROWS / staged interactions per day (``load_audit``,
  around the range) - (1 + H + W), at least (1 + H + W) / 1.5 (the work stays within 2.5x
  one run's), at most the range (``outcomes/chunks.py``, ``chunk_size``). At 100k/day and
  the defaults that is 32 days (a 31-day backfill run is one chunk). ``OUTCOME_CHUNK_DAYS``
  sets C outright.
- ``OUTCOME_PSEUDONYM_KEY``: HMAC key of the customer pseudonyms (read by
  :func:`outcome_pipeline.outcomes.pseudonym_key_from_env`, never stored here).

Operations:

- ``OUTCOME_NIGHTLY_CRON`` (5-field cron, business timezone), else ``OUTCOME_NIGHTLY_HOUR`` /
  ``OUTCOME_NIGHTLY_MINUTE`` (``2`` / ``30``): when the nightly schedule ticks.
- ``OUTCOME_RESTATE_HORIZON_DAYS`` (``35``): how far back the nightly tick looks for days whose
  journeys were still open at their last computation and have closed since.
- ``OUTCOME_LATE_FILE_HORIZON_DAYS`` (``35``): how many days back the late-file sensor watches;
  also how many days after its day a late CRM file restates (the outcome asset's CRM lineage).
- ``OUTCOME_RETRY_MAX`` (``3``) / ``OUTCOME_RETRY_DELAY_SECONDS`` (``10``): retries of a step
  that failed on a transient warehouse error (exponential backoff with jitter).
- ``OUTCOME_FRESHNESS_DEADLINE_CRON`` (``0 6 * * *``): by when, business time, yesterday's
  outcome tables and the BI copy must be there.
- ``OUTCOME_BACKFILL_DAYS_PER_RUN`` (``31``): a backfill launched from the UI becomes runs of at
  most this many days each (staging and outcome assets), which the run queue executes side by
  side within its limits.
- ``OUTCOME_LOG_DIR`` (``data/logs``): where ``outcome-pipeline run`` / ``demo`` write the full
  Dagster log of each invocation (``run-<UTC time>.log``; the newest 30 are kept).

Every value is checked once, when the settings are read: a malformed one raises a
:class:`~outcome_pipeline.errors.ConfigError` naming its variable (all of them at once).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TypeVar
from zoneinfo import ZoneInfo

from outcome_pipeline.errors import ConfigError, Problem
from outcome_pipeline.ingest.native import native_ingest_mode
from outcome_pipeline.validation.docs_server import DEFAULT_URL as DEFAULT_DATA_DOCS_URL
from outcome_pipeline.warehouse import DEFAULT_SCHEMA, DEFAULT_URL
from outcome_pipeline.warehouse.settings import warehouse_schema, warehouse_url

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_START_DATE = "2024-01-01"
DEFAULT_NIGHTLY_HOUR = 2
DEFAULT_NIGHTLY_MINUTE = 30
DEFAULT_HORIZON_DAYS = 35
DEFAULT_LOG_DIR = "data/logs"
# Interactions a chunk's main zone may hold (C + 1 + H + W days of them). Peak RSS of an
# outcome run measured ~1 GiB per million zone rows (DuckDB, 20k and 100k/day): 7M keeps it
# where the former fixed C = 30 had it at 100k/day (~6.6 GiB) with C = 32 there, and larger
# chunks (less repeated work) below that volume. benchmarks/PERFORMANCE.md, "Chunk size".
DEFAULT_CHUNK_ROWS = 7_000_000
DEFAULT_REPORT_DIR = "data/report"
DEFAULT_REPORT_DAYS = 28
# A month per backfill run: long enough that per-run costs (process start, the outcome input's
# W + 2 lookback days read again) stay small, short enough that a year is 12 parallel runs.
DEFAULT_BACKFILL_DAYS_PER_RUN = 31

_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")
T = TypeVar("T")


def _cron(value: str, name: str) -> str:
    fields = value.split()
    if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
        raise ValueError(f"{name} is not a 5-field cron: {value!r}")
    return " ".join(fields)


def nightly_cron(environ: Mapping[str, str]) -> str:
    """The nightly cron: ``OUTCOME_NIGHTLY_CRON``, else ``OUTCOME_NIGHTLY_HOUR``/``_MINUTE``.

    The cron is read in the business timezone (the schedule's execution timezone). The default,
    02:30, leaves the feeds of the day before time to land and ends before the working day.
    """
    cron = environ.get("OUTCOME_NIGHTLY_CRON", "").strip()
    if cron:
        return _cron(cron, "OUTCOME_NIGHTLY_CRON")
    hour = int(environ.get("OUTCOME_NIGHTLY_HOUR", DEFAULT_NIGHTLY_HOUR))
    minute = int(environ.get("OUTCOME_NIGHTLY_MINUTE", DEFAULT_NIGHTLY_MINUTE))
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"nightly time out of range: {hour:02d}:{minute:02d}")
    return f"{minute} {hour} * * *"


def _url(text: str) -> str:
    warehouse_url(text)
    return text


def _timezone(text: str) -> str:
    ZoneInfo(text)
    return text


def _start_date(text: str) -> str:
    date.fromisoformat(text)
    return text


def _memory_limit(text: str) -> str:
    from outcome_pipeline.outcomes.engine import engine_memory_limit

    engine_memory_limit(text)  # raises on a malformed size
    return text


def _non_negative(parse: Callable[[str], T]) -> Callable[[str], T]:
    def check(text: str) -> T:
        value = parse(text)
        if value < 0:  # type: ignore[operator]
            raise ValueError(value)
        return value

    return check


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(value)
    return value


def _share(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError(value)
    return value


class _Reader:
    """Reads variables, collecting one Problem per malformed one (reported all at once)."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[Problem] = []

    def get(self, name: str, default: str, parse: Callable[[str], T], expected: str) -> T:
        text = self.env.get(name, default)
        try:
            return parse(text)
        except ConfigError as exc:
            self.problems += exc.problems
        except Exception:
            self.problems.append(
                Problem(
                    f"{name} is set to {text!r}, which is not {expected}",
                    name,
                    "Correct or unset it" + (f" (the default is {default!r})." if default else "."),
                )
            )
        return parse(default)

    def nightly(self) -> str:
        try:
            return nightly_cron(self.env)
        except ValueError:
            names = (
                "OUTCOME_NIGHTLY_CRON"
                if self.env.get("OUTCOME_NIGHTLY_CRON", "").strip()
                else "OUTCOME_NIGHTLY_HOUR / OUTCOME_NIGHTLY_MINUTE"
            )
            self.problems.append(
                Problem(
                    f"{names} do not give a nightly time",
                    names,
                    "Set OUTCOME_NIGHTLY_CRON to a 5-field cron (e.g. '30 2 * * *'), or "
                    "OUTCOME_NIGHTLY_HOUR to 0-23 and OUTCOME_NIGHTLY_MINUTE to 0-59.",
                )
            )
            return nightly_cron({})


@dataclass(frozen=True)
class Settings:
    landing_dir: str = DEFAULT_LANDING_DIR
    warehouse_url: str = DEFAULT_URL
    warehouse_schema: str = DEFAULT_SCHEMA
    timezone: str = DEFAULT_TIMEZONE
    start_date: str = DEFAULT_START_DATE
    max_quarantine_share: float = 0.05
    data_docs_dir: str = "data/data_docs"
    data_docs_url: str = DEFAULT_DATA_DOCS_URL
    bi_copy_path: str = ""
    nightly_cron: str = f"{DEFAULT_NIGHTLY_MINUTE} {DEFAULT_NIGHTLY_HOUR} * * *"
    restate_horizon_days: int = DEFAULT_HORIZON_DAYS
    late_file_horizon_days: int = DEFAULT_HORIZON_DAYS
    retry_max: int = 3
    retry_delay_seconds: float = 10.0
    freshness_deadline_cron: str = "0 6 * * *"
    compute_memory_limit: str = ""
    chunk_days: int | None = None  # None: sized from chunk_rows (outcomes/chunks.py)
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    sources_dir: str = ""
    log_dir: str = DEFAULT_LOG_DIR
    report_dir: str = DEFAULT_REPORT_DIR
    report_days: int = DEFAULT_REPORT_DAYS
    backfill_days_per_run: int = DEFAULT_BACKFILL_DAYS_PER_RUN
    native_ingest: str = "reader"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings, every value checked; a ConfigError lists each malformed variable."""
        env = os.environ if environ is None else environ
        r = _Reader(env)
        count = "a whole number of 0 or more"
        s = cls(
            landing_dir=env.get("OUTCOME_LANDING_DIR", DEFAULT_LANDING_DIR),
            warehouse_url=r.get("OUTCOME_WAREHOUSE_URL", DEFAULT_URL, _url, "a warehouse URL"),
            warehouse_schema=r.get(
                "OUTCOME_WAREHOUSE_SCHEMA", DEFAULT_SCHEMA, warehouse_schema, ""
            ),
            timezone=r.get(
                "OUTCOME_TIMEZONE", DEFAULT_TIMEZONE, _timezone, "an IANA timezone (Area/City)"
            ),
            start_date=r.get(
                "OUTCOME_START_DATE", DEFAULT_START_DATE, _start_date, "a date (YYYY-MM-DD)"
            ),
            max_quarantine_share=r.get(
                "OUTCOME_MAX_QUARANTINE_SHARE", "0.05", _share, "a share between 0 and 1"
            ),
            data_docs_dir=env.get("OUTCOME_DATA_DOCS_DIR", "data/data_docs"),
            data_docs_url=env.get("OUTCOME_DATA_DOCS_URL", DEFAULT_DATA_DOCS_URL),
            bi_copy_path=env.get("OUTCOME_BI_COPY_PATH", ""),
            nightly_cron=r.nightly(),
            restate_horizon_days=r.get(
                "OUTCOME_RESTATE_HORIZON_DAYS", str(DEFAULT_HORIZON_DAYS), _non_negative(int), count
            ),
            late_file_horizon_days=r.get(
                "OUTCOME_LATE_FILE_HORIZON_DAYS",
                str(DEFAULT_HORIZON_DAYS),
                _non_negative(int),
                count,
            ),
            retry_max=r.get("OUTCOME_RETRY_MAX", "3", _non_negative(int), count),
            retry_delay_seconds=r.get(
                "OUTCOME_RETRY_DELAY_SECONDS", "10", _non_negative(float), "seconds (0 or more)"
            ),
            freshness_deadline_cron=r.get(
                "OUTCOME_FRESHNESS_DEADLINE_CRON",
                "0 6 * * *",
                lambda t: _cron(t, "OUTCOME_FRESHNESS_DEADLINE_CRON"),
                "a 5-field cron",
            ),
            compute_memory_limit=r.get(
                "OUTCOME_COMPUTE_MEMORY_LIMIT",
                "",
                lambda t: _memory_limit(t.strip()),
                "a size such as 6GB or 512MiB, or a share such as 40%",
            ),
            chunk_days=r.get(
                "OUTCOME_CHUNK_DAYS",
                "",
                lambda t: _at_least_one(t) if t.strip() else None,
                "a whole number of 1 or more, or empty (sized from OUTCOME_CHUNK_ROWS)",
            ),
            chunk_rows=r.get(
                "OUTCOME_CHUNK_ROWS",
                str(DEFAULT_CHUNK_ROWS),
                _at_least_one,
                "a whole number of 1 or more",
            ),
            log_dir=env.get("OUTCOME_LOG_DIR", DEFAULT_LOG_DIR),
            sources_dir=env.get("OUTCOME_SOURCES_DIR", "").strip(),
            report_dir=env.get("OUTCOME_REPORT_DIR", DEFAULT_REPORT_DIR),
            report_days=r.get(
                "OUTCOME_REPORT_DAYS",
                str(DEFAULT_REPORT_DAYS),
                _at_least_one,
                "a whole number of days, 1 or more",
            ),
            backfill_days_per_run=r.get(
                "OUTCOME_BACKFILL_DAYS_PER_RUN",
                str(DEFAULT_BACKFILL_DAYS_PER_RUN),
                _at_least_one,
                "a whole number of 1 or more",
            ),
            native_ingest=r.get(
                "OUTCOME_NATIVE_INGEST", "reader", native_ingest_mode, "reader or mapping"
            ),
        )
        if r.problems:
            raise ConfigError(*r.problems)
        return s
