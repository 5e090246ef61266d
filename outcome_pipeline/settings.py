"""Settings read from the environment, in one place, with the defaults a fresh clone runs on.

- ``OUTCOME_LANDING_DIR`` (``data/landing``): landing root, ``<feed>/<YYYY-MM-DD>/<table>*``.
- ``OUTCOME_WAREHOUSE_URL`` (``duckdb:///data/warehouse.duckdb``): SQLAlchemy URL of the
  warehouse; a secret when it holds a password.
- ``OUTCOME_WAREHOUSE_SCHEMA`` (``outcome``): schema holding every table.
- ``OUTCOME_TIMEZONE`` (``Europe/London``): business timezone; a partition is a business day.
- ``OUTCOME_START_DATE`` (``2024-01-01``): first daily partition.
- ``OUTCOME_MAX_QUARANTINE_SHARE`` (``0.05``): share of a day's rows that may be quarantined
  before the blocking check stops the downstream assets.
- ``OUTCOME_DATA_DOCS_DIR`` (``data/data_docs``): static Data Docs of the latest validations.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from outcome_pipeline.warehouse import DEFAULT_SCHEMA, DEFAULT_URL

DEFAULT_LANDING_DIR = "data/landing"
DEFAULT_TIMEZONE = "Europe/London"
DEFAULT_START_DATE = "2024-01-01"


@dataclass(frozen=True)
class Settings:
    landing_dir: str
    warehouse_url: str
    warehouse_schema: str
    timezone: str
    start_date: str
    max_quarantine_share: float = 0.05
    data_docs_dir: str = "data/data_docs"

    @classmethod
    def from_env(cls) -> Settings:
        s = cls(
            landing_dir=os.environ.get("OUTCOME_LANDING_DIR", DEFAULT_LANDING_DIR),
            warehouse_url=os.environ.get("OUTCOME_WAREHOUSE_URL", DEFAULT_URL),
            warehouse_schema=os.environ.get("OUTCOME_WAREHOUSE_SCHEMA", DEFAULT_SCHEMA),
            timezone=os.environ.get("OUTCOME_TIMEZONE", DEFAULT_TIMEZONE),
            start_date=os.environ.get("OUTCOME_START_DATE", DEFAULT_START_DATE),
            max_quarantine_share=float(os.environ.get("OUTCOME_MAX_QUARANTINE_SHARE", "0.05")),
            data_docs_dir=os.environ.get("OUTCOME_DATA_DOCS_DIR", "data/data_docs"),
        )
        ZoneInfo(s.timezone)  # fail at load time, with the name, on a typo
        date.fromisoformat(s.start_date)
        return s
