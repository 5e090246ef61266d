"""The one configuration of every number that changes a metric, as recorded with each run.

The values live in two dataclasses, each read from the environment once:
:class:`~outcome_pipeline.outcomes.config.OutcomeConfig` (how journeys are cut and outcomes
measured) and :class:`~outcome_pipeline.validation.config.ValidationConfig` (what is staged:
clock-skew tolerance, plausibility floor and ceiling). :func:`metric_settings` joins them into
one flat record and :func:`settings_hash` names it, so a figure can be traced to the settings
that made it (the outcome assets' materialization metadata carries both).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

from outcome_pipeline.outcomes.config import OutcomeConfig
from outcome_pipeline.validation.config import ValidationConfig


def metric_settings(outcome: OutcomeConfig, validation: ValidationConfig) -> dict[str, object]:
    """Every metric-changing value, JSON-ready, keys sorted (no secret: no pseudonym key)."""
    values: dict[str, object] = dict(outcome.metric_values())
    values.update(
        clock_skew_seconds=validation.clock_skew_seconds,
        plausible_from=validation.plausible_from,
        follow_up_days=validation.follow_up_days,
    )
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in sorted(values.items())}


def settings_hash(values: dict[str, object]) -> str:
    """16 hex digits of the SHA-256 of the values' canonical JSON: equal iff equal settings."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
