"""Parameters of the outcome computation, and which staged days it must read.

Every number that changes a metric's value lives here, once, with the reason for its default.
Nothing reads the wall clock: "now" is always the caller's ``as_of``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from outcome_pipeline.calendar import business_day

PSEUDONYM_KEY_ENV = "OUTCOME_PSEUDONYM_KEY"
# Development default so a fresh clone runs; production sets OUTCOME_PSEUDONYM_KEY (a secret).
# Keys derived from it are stable only while the key is: rotating it re-keys every pseudonym.
DEV_PSEUDONYM_KEY = b"outcome-pipeline-dev-pseudonym-key-not-a-secret"

# Channels with a live queue (service level and ASA apply) and asynchronous channels (first
# response time applies instead); see the data dictionary, "first response time".
SYNC_CHANNELS = ("phone", "chat", "web")
ASYNC_CHANNELS = ("email", "social", "messaging")
# Feeds that are change-set histories or lifetime event logs: read every partition up to the
# window's end, because the version valid at a contact (or a signup years ago) can be old.
HISTORY_INPUTS = ("customers", "cases", "subscription_events")
EVENT_INPUTS = ("interactions", "survey_responses")
UNKNOWN = "unknown"  # segment of a customer the CRM does not know
UNASSIGNED = "unassigned"  # queue/team of a leg that has none (e.g. team of an abandoned call)
# Service-level formulas: answered within X s / offered, abandons within the short-abandon
# seconds excluded from both (Genesys/D365 style). The only one implemented.
SERVICE_LEVEL_VARIANTS = ("answered_excl_short_abandons",)
# Environment variable of each OutcomeConfig field (the README's settings table).
ENV_NAMES = {
    "repeat_window_days": "OUTCOME_REPEAT_WINDOW_DAYS",
    "max_journey_days": "OUTCOME_MAX_JOURNEY_DAYS",
    "timezone": "OUTCOME_TIMEZONE",
    "service_level_seconds": "OUTCOME_SERVICE_LEVEL_SECONDS",
    "service_level_variant": "OUTCOME_SERVICE_LEVEL_VARIANT",
    "short_abandon_seconds": "OUTCOME_SHORT_ABANDON_SECONDS",
    "survey_grace_days": "OUTCOME_SURVEY_GRACE_DAYS",
    "churn_short_days": "OUTCOME_CHURN_SHORT_DAYS",
    "churn_long_days": "OUTCOME_CHURN_LONG_DAYS",
    "csat_satisfied_min": "OUTCOME_CSAT_SATISFIED_MIN",
    "nps_promoter_min": "OUTCOME_NPS_PROMOTER_MIN",
    "nps_detractor_max": "OUTCOME_NPS_DETRACTOR_MAX",
    "ces_easy_min": "OUTCOME_CES_EASY_MIN",
    "lookback_margin_days": "OUTCOME_LOOKBACK_MARGIN_DAYS",
    "unassigned_label": "OUTCOME_UNASSIGNED_LABEL",
    "default_country_code": "OUTCOME_DEFAULT_COUNTRY_CODE",
}
_TEXT_FIELDS = {"timezone", "service_level_variant", "unassigned_label", "default_country_code"}


def pseudonym_key_from_env(environ: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key for customer pseudonyms: ``OUTCOME_PSEUDONYM_KEY`` (UTF-8) or the dev key."""
    value = (os.environ if environ is None else environ).get(PSEUDONYM_KEY_ENV, "")
    return value.encode() if value else DEV_PSEUDONYM_KEY


@dataclass(frozen=True)
class OutcomeConfig:
    """How journeys are cut and outcomes measured.

    - ``repeat_window_days`` (W, default 7): a contact within W of the customer's previous
      contact is a repeat and continues the journey; QueueMetrics 168 h, Capturi and Call
      Centre Helper 7 d. Measured between contact start times. At
      least 1 day, so a customer starts at most one journey per business day.
    - ``timezone``: business timezone; a business day is a local calendar day.
    - ``pseudonym_key``: HMAC-SHA256 key for customers known only by email or phone.
    - ``service_level_seconds`` (X, default 20): service level = answered within X s /
      offered excluding abandons within ``short_abandon_seconds`` (5 s, Genesys/D365 style).
    - ``survey_grace_days`` (3): a survey tied to neither a contact nor a case of the journey
      links by customer if sent between the journey's first contact and its last contact's
      end + this many days.
    - ``default_country_code`` ("44"): country code given to national phone numbers
      (leading trunk ``0``) when normalising to E.164.
    - ``max_journey_days`` (H, default 30): the journey horizon. A journey's outcome is
      evaluated over its contacts starting within H of its first contact; one still
      contacting after H is capped (not resolved). Bounds every day's finality to day + 1 +
      H + W (METRICS "Journey horizon", decided 2026-12).
    - ``unassigned_label`` ("unassigned"): queue, team and agent of a leg that has none.
    - ``service_level_variant``: which service-level formula ``daily_outputs`` uses; one is
      implemented, ``answered_excl_short_abandons`` (recorded with every run).
    - ``churn_short_days`` / ``churn_long_days`` (30 / 90): the churn windows after a
      journey's last contact (the ``*_30d`` / ``*_90d`` columns).
    - survey thresholds: CSAT satisfied >= ``csat_satisfied_min`` (4 of 5), NPS promoter >=
      ``nps_promoter_min`` (9), detractor <= ``nps_detractor_max`` (6), CES easy >=
      ``ces_easy_min`` (5 of 7).
    - ``lookback_margin_days`` (2): staged days read before the first computed day beyond W
      (a DST shift and the transfer legs of a contact begun the evening before).

    Every field but the pseudonym key is settable from the environment (:meth:`from_env`,
    ``ENV_NAMES``) and recorded with each materialization (``outcome_pipeline.metric_settings``).
    """

    repeat_window_days: int = 7
    timezone: str = "Europe/London"
    pseudonym_key: bytes = DEV_PSEUDONYM_KEY
    service_level_seconds: int = 20
    short_abandon_seconds: int = 5
    survey_grace_days: int = 3
    default_country_code: str = "44"
    max_journey_days: int = 30
    unassigned_label: str = UNASSIGNED
    service_level_variant: str = SERVICE_LEVEL_VARIANTS[0]
    churn_short_days: int = 30
    churn_long_days: int = 90
    csat_satisfied_min: int = 4
    nps_promoter_min: int = 9
    nps_detractor_max: int = 6
    ces_easy_min: int = 5
    lookback_margin_days: int = 2

    def __post_init__(self) -> None:
        if not 1 <= self.repeat_window_days <= 90:
            raise ValueError(f"repeat_window_days must be in 1..90, got {self.repeat_window_days}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {self.timezone!r}") from exc
        if not self.pseudonym_key:
            raise ValueError("pseudonym_key must not be empty")
        if self.service_level_seconds < 1 or self.short_abandon_seconds < 0:
            raise ValueError("service level thresholds must be positive")
        if not 0 <= self.survey_grace_days <= self.repeat_window_days:
            raise ValueError("survey_grace_days must be in 0..repeat_window_days")
        if not self.default_country_code.isdigit():
            raise ValueError("default_country_code must be digits, e.g. '44'")
        if not self.repeat_window_days <= self.max_journey_days <= 366:
            raise ValueError(
                f"max_journey_days must be in repeat_window_days..366, got {self.max_journey_days}"
            )
        if not self.unassigned_label.strip():
            raise ValueError("unassigned_label must not be blank")
        if self.service_level_variant not in SERVICE_LEVEL_VARIANTS:
            raise ValueError(
                f"service_level_variant must be one of {SERVICE_LEVEL_VARIANTS}, "
                f"got {self.service_level_variant!r}"
            )
        if not 1 <= self.churn_short_days <= self.churn_long_days <= 730:
            raise ValueError("churn windows must satisfy 1 <= short <= long <= 730 days")
        if not (1 <= self.csat_satisfied_min <= 5 and 1 <= self.ces_easy_min <= 7):
            raise ValueError("csat_satisfied_min must be in 1..5 and ces_easy_min in 1..7")
        if not 0 <= self.nps_detractor_max < self.nps_promoter_min <= 10:
            raise ValueError("NPS thresholds must satisfy 0 <= detractor max < promoter min <= 10")
        if not 1 <= self.lookback_margin_days <= 7:
            raise ValueError("lookback_margin_days must be in 1..7")

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, **overrides: object
    ) -> OutcomeConfig:
        """Config from the environment (``ENV_NAMES``; the pseudonym key from
        ``OUTCOME_PSEUDONYM_KEY``); ``overrides`` win. A malformed or out-of-range value raises
        ValueError naming the variable."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for field, name in ENV_NAMES.items():
            raw = env.get(name, "").strip()
            if not raw or field in overrides:
                continue
            if field in _TEXT_FIELDS:
                values[field] = raw
                continue
            try:
                values[field] = int(raw)
            except ValueError as exc:
                raise ValueError(f"{name}={raw!r} is not a whole number") from exc
        values.update(overrides)
        try:
            return cls(pseudonym_key=pseudonym_key_from_env(environ), **values)  # type: ignore[arg-type]
        except ValueError as exc:
            names = ", ".join(f"{ENV_NAMES[f]}={values[f]!r}" for f in values if f in ENV_NAMES)
            raise ValueError(f"outcome settings ({names or 'defaults'}): {exc}") from exc

    def metric_values(self) -> dict[str, object]:
        """Every field that changes a metric's value (the pseudonym key excluded: a secret,
        and it changes keys, not figures)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "pseudonym_key"}

    @property
    def window(self) -> timedelta:
        return timedelta(days=self.repeat_window_days)


class InputWindow(NamedTuple):
    """Staged partition days to read: ``start``..``end`` inclusive.

    ``start`` applies to the event feeds (interactions, survey_responses); the history feeds
    (customers, cases, subscription_events) are read from their first partition up to ``end``.
    """

    start: date
    end: date

    def for_input(self, name: str) -> tuple[date | None, date]:
        """(first partition or None = from the beginning, last partition) for one input."""
        if name in HISTORY_INPUTS:
            return None, self.end
        if name in EVENT_INPUTS:
            return self.start, self.end
        raise KeyError(f"unknown input {name!r}")


def input_window(
    first_day: date, last_day: date, as_of: datetime, cfg: OutcomeConfig
) -> InputWindow:
    """Which staged days computing journeys started in ``first_day..last_day`` needs.

    A contact starts a journey iff its customer had no contact in the W before it, so the
    first day needs contacts from W before its local midnight (a row is delivered on or after
    the day it happened). One more day covers a DST shift, a second one the transfer legs
    of a contact begun the evening before the context window. Contacts up to ``as_of``
    decide how journeys end, so the window ends on the business day of ``as_of`` (never
    before ``last_day``). History inputs are read from their first partition
    (:meth:`InputWindow.for_input`).
    """
    if last_day < first_day:
        raise ValueError("last_day before first_day")
    start = first_day - timedelta(days=cfg.repeat_window_days + cfg.lookback_margin_days)
    return InputWindow(start, max(last_day, business_day(as_of, cfg.timezone)))
