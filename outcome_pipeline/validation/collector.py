"""Adapter between staging and validation: validate the staged days, keep the results.

Staging asks for each day's failing rows: of one day (the row validator ``stage_day`` calls,
:func:`validate_day`) or of several days at once (:meth:`DayValidations.validate_days`,
:func:`validate_range`: one GX pass for them, the same rows failed). Every
:class:`DayValidation` is kept; the blocking check and the Data Docs read them.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow as pa

from outcome_pipeline.contracts import TableContract
from outcome_pipeline.validation.config import ValidationConfig
from outcome_pipeline.validation.range import validate_range
from outcome_pipeline.validation.validate import DayValidation, validate_day

# A range's days are validated together up to this many rows (GX's pandas frame holds them
# all): small days share one GX pass, a day of 1M rows or more is validated alone as before.
ROWS_PER_GX_PASS = 1_000_000

Failures = dict[int, list[tuple[str, str]]]


class DayValidations:
    """A row validator for ``stage_day`` that remembers each day's validation."""

    def __init__(
        self, timezone: str, engine: str = "auto", cfg: ValidationConfig | None = None
    ) -> None:
        self.timezone = timezone
        self.engine = engine
        self.cfg = cfg
        self.by_day: dict[date, DayValidation] = {}

    def __call__(self, rows: pa.Table, contract: TableContract, day: date) -> Failures:
        v = validate_day(rows, contract, day, self.timezone, engine=self.engine, cfg=self.cfg)
        self.by_day[day] = v
        return _failures(v)

    def validate_days(
        self, rows_by_day: dict[date, pa.Table], contract: TableContract
    ) -> dict[date, Failures]:
        """Each day's failing rows, as ``__call__`` gives them day by day (days without rows
        are not validated, as ``stage_day`` skips them)."""
        rows = {d: t for d, t in rows_by_day.items() if t.num_rows}
        if not rows:
            return {}
        done = validate_range(rows, contract, self.timezone, self.engine, cfg=self.cfg)
        self.by_day.update(done)
        return {d: _failures(v) for d, v in done.items()}

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


def _failures(v: DayValidation) -> Failures:
    return {i: [(f.code, f.message) for f in fails] for i, fails in v.row_failures.items()}
