"""Settings read from the environment, in one place, with the defaults a fresh clone runs on.

Data and warehouse:

- ``OUTCOME_LANDING_DIR`` (``data/landing``): landing root, ``<feed>/<YYYY-MM-DD>/<table>*``.
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
- ``OUTCOME_COMPUTE_MEMORY_LIMIT`` (empty: 50 % of physical memory): memory cap of the DuckDB
  session computing the outcome tables (``6GB``, ``512MiB`` or ``40%``); past it the engine
  spills to a temporary directory instead of exhausting the machine.
- ``OUTCOME_PSEUDONYM_KEY``: HMAC key of the customer pseudonyms (read by
  :func:`outcome_pipeline.outcomes.pseudonym_key_from_env`, never stored here).

Operations:

- ``OUTCOME_NIGHTLY_CRON`` (5-field cron, business timezone), else ``OUTCOME_NIGHTLY_HOUR`` /
  ``OUTCOME_NIGHTLY_MINUTE`` (``2`` / ``30``): when the nightly schedule ticks.
- ``OUTCOME_RESTATE_HORIZON_DAYS`` (``35``): how far back the nightly tick looks for days whose
  journeys were still open at their last computation and have closed since.
- ``OUTCOME_LATE_FILE_HORIZON_DAYS`` (``35``): how many days back the late-file sensor watches.
- ``OUTCOME_RETRY_MAX`` (``3``) / ``OUTCOME_RETRY_DELAY_SECONDS`` (``10``): retries of a step
  that failed on a transient warehouse error (exponential backoff with jitter).
- ``OUTCOME_FRESHNESS_DEADLINE_CRON`` (``0 6 * * *``): by when, business time, yesterday's
  outcome tables and the BI copy must be there.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from outcome_pipeline.validation.docs_server import DEFAULT_URL as DEFAULT_DATA_DOCS_URL
from outcome_pipeline.warehouse import DEFAULT_SCHEMA, DEFAULT_URL

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_START_DATE = "2024-01-01"
DEFAULT_NIGHTLY_HOUR = 2
DEFAULT_NIGHTLY_MINUTE = 30
DEFAULT_HORIZON_DAYS = 35

_CRON_FIELD = re.compile(r"^[0-9*/,\-]+$")


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


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    value = int(environ.get(name, default))
    if value < 0:
        raise ValueError(f"{name} must not be negative: {value}")
    return value


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

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        s = cls(
            landing_dir=env.get("OUTCOME_LANDING_DIR", DEFAULT_LANDING_DIR),
            warehouse_url=env.get("OUTCOME_WAREHOUSE_URL", DEFAULT_URL),
            warehouse_schema=env.get("OUTCOME_WAREHOUSE_SCHEMA", DEFAULT_SCHEMA),
            timezone=env.get("OUTCOME_TIMEZONE", DEFAULT_TIMEZONE),
            start_date=env.get("OUTCOME_START_DATE", DEFAULT_START_DATE),
            max_quarantine_share=float(env.get("OUTCOME_MAX_QUARANTINE_SHARE", "0.05")),
            data_docs_dir=env.get("OUTCOME_DATA_DOCS_DIR", "data/data_docs"),
            data_docs_url=env.get("OUTCOME_DATA_DOCS_URL", DEFAULT_DATA_DOCS_URL),
            bi_copy_path=env.get("OUTCOME_BI_COPY_PATH", ""),
            nightly_cron=nightly_cron(env),
            restate_horizon_days=_positive_int(
                env, "OUTCOME_RESTATE_HORIZON_DAYS", DEFAULT_HORIZON_DAYS
            ),
            late_file_horizon_days=_positive_int(
                env, "OUTCOME_LATE_FILE_HORIZON_DAYS", DEFAULT_HORIZON_DAYS
            ),
            retry_max=_positive_int(env, "OUTCOME_RETRY_MAX", 3),
            retry_delay_seconds=float(env.get("OUTCOME_RETRY_DELAY_SECONDS", "10")),
            freshness_deadline_cron=_cron(
                env.get("OUTCOME_FRESHNESS_DEADLINE_CRON", "0 6 * * *"),
                "OUTCOME_FRESHNESS_DEADLINE_CRON",
            ),
            compute_memory_limit=env.get("OUTCOME_COMPUTE_MEMORY_LIMIT", "").strip(),
        )
        from outcome_pipeline.outcomes.compute import engine_memory_limit

        engine_memory_limit(s.compute_memory_limit)  # a malformed size fails here, by name
        ZoneInfo(s.timezone)  # fail at load time, with the name, on a typo
        date.fromisoformat(s.start_date)
        return s
