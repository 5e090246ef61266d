"""Validation of every feed table, per business day, before anything downstream reads it.

Great Expectations 1.x suites (built in :mod:`.suites` from the rules in :mod:`.rules`) are
the suite of record; :mod:`.precheck` evaluates the same rules as Arrow masks to keep a
1M-row day fast (see :mod:`.validate` for the engines and measured timings). Data Docs
(:mod:`.docs`) are rendered from value-free outcomes, so they hold no PII.

No Dagster imports here, and GX is imported lazily: importing this package is cheap.
"""

from outcome_pipeline.validation.docs import write_data_docs
from outcome_pipeline.validation.rules import REASON_CODES, Rule, day_bounds, rules_for
from outcome_pipeline.validation.validate import (
    DayValidation,
    ExpectationOutcome,
    RowFailure,
    validate_day,
)

__all__ = [
    "REASON_CODES",
    "DayValidation",
    "ExpectationOutcome",
    "RowFailure",
    "Rule",
    "day_bounds",
    "rules_for",
    "validate_day",
    "write_data_docs",
]
