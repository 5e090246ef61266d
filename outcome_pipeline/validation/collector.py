"""Adapter between staging and validation: validate each staged day, keep the results.

Staging asks a row validator for each day's failing rows; this one runs :func:`validate_day`
and keeps every :class:`DayValidation`, which the blocking check and the Data Docs then read.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow as pa

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline.validation.validate import DayValidation, validate_day


class DayValidations:
    """A row validator for ``stage_day`` that remembers each day's validation."""

    def __init__(
        self, timezone: str, engine: str = "auto", cfg: ValidationConfig | None = None
    ) -> None:
        self.timezone = timezone
        self.engine = engine
        self.cfg = cfg
        self.by_day: dict[date, DayValidation] = {}

    def __call__(
        self, rows: pa.Table, contract: TableContract, day: date
    ) -> dict[int, list[tuple[str, str]]]:
        v = validate_day(rows, contract, day, self.timezone, engine=self.engine, cfg=self.cfg)
        self.by_day[day] = v
        return {i: [(f.code, f.message) for f in fails] for i, fails in v.row_failures.items()}

    def failed_dataset_expectations(self) -> list[str]:
        """Error-severity dataset-level failures and row-level failures no row explains, as
        'day: message' lines (they block)."""
        return [
            f"{day}: {e.name} failed ({e.message})"
            for day, v in sorted(self.by_day.items())
            for e in v.expectations
            if e.level == "dataset" and e.severity == "error" and not e.success
        ] + [f"{day}: {u}" for day, v in sorted(self.by_day.items()) for u in v.unexplained]

    def failed_counts(self, severity: str) -> dict[str, int]:
        """Unexpected rows per failed expectation of ``severity`` over all days."""
        counts: Counter[str] = Counter()
        for v in self.by_day.values():
            for e in v.expectations:
                if e.severity == severity and not e.success:
                    counts[e.name] += max(e.unexpected_count, 1)
        return dict(sorted(counts.items()))

    def warning_rows(self) -> dict[str, int]:
        """Rows flagged by warning-only row rules (e.g. a malformed email), by reason code."""
        counts: Counter[str] = Counter()
        for v in self.by_day.values():
            for fails in v.row_warnings.values():
                counts.update({f.code for f in fails})
        return dict(sorted(counts.items()))

    def seconds(self) -> dict[str, float]:
        return {
            "gx": round(sum(v.gx_seconds for v in self.by_day.values()), 3),
            "precheck": round(sum(v.precheck_seconds for v in self.by_day.values()), 3),
        }
