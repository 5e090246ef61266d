"""Settings of the feed validation that change what is staged: one place, from the environment.

- ``clock_skew_seconds`` (``OUTCOME_CLOCK_SKEW_SECONDS``, default 120): two systems' clocks
  disagree (an agent platform a second or two behind the queue's). A timestamp order rule
  (``answered_at`` not before ``queued_at``, ...) broken by at most this much is a skew, not
  an impossible row: the row is staged with the later time repaired to the earlier one
  (:mod:`.repair`) and counted in ``load_audit.rows_repaired``. Beyond it the row is
  quarantined (``impossible_timestamp``). 0 repairs nothing.
- ``plausible_from`` (``OUTCOME_PLAUSIBLE_FROM``, default ``2000-01-01``): the plausibility
  floor; a timestamp before it (UTC) is implausible.
- ``follow_up_days`` (``OUTCOME_FOLLOW_UP_DAYS``, default 30): the plausibility ceiling of
  the timestamps that follow the event (``ended_at``, ``closed_at``, ...): that many days
  after the partition day. (The event time itself may be at most one business day ahead.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

DEFAULT_CLOCK_SKEW_SECONDS = 120
DEFAULT_PLAUSIBLE_FROM = date(2000, 1, 1)
DEFAULT_FOLLOW_UP_DAYS = 30


@dataclass(frozen=True)
class ValidationConfig:
    clock_skew_seconds: int = DEFAULT_CLOCK_SKEW_SECONDS
    plausible_from: date = DEFAULT_PLAUSIBLE_FROM
    follow_up_days: int = DEFAULT_FOLLOW_UP_DAYS

    def __post_init__(self) -> None:
        if not 0 <= self.clock_skew_seconds <= 3600:
            raise ValueError(
                f"clock_skew_seconds must be in 0..3600, got {self.clock_skew_seconds}"
            )
        if not 1 <= self.follow_up_days <= 366:
            raise ValueError(f"follow_up_days must be in 1..366, got {self.follow_up_days}")

    @property
    def floor(self) -> datetime:
        """The plausibility floor as a UTC instant."""
        return datetime.combine(self.plausible_from, datetime.min.time(), tzinfo=UTC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ValidationConfig:
        """From ``OUTCOME_CLOCK_SKEW_SECONDS``, ``OUTCOME_PLAUSIBLE_FROM`` and
        ``OUTCOME_FOLLOW_UP_DAYS``; a malformed value raises ValueError naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, field, parse in (
            ("OUTCOME_CLOCK_SKEW_SECONDS", "clock_skew_seconds", int),
            ("OUTCOME_PLAUSIBLE_FROM", "plausible_from", date.fromisoformat),
            ("OUTCOME_FOLLOW_UP_DAYS", "follow_up_days", int),
        ):
            raw = env.get(name, "").strip()
            if not raw:
                continue
            try:
                values[field] = parse(raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r} is not valid: {exc}") from exc
        try:
            return cls(**values)  # type: ignore[arg-type]
        except ValueError as exc:
            raise ValueError(f"validation settings: {exc}") from exc
