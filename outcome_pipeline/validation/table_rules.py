r"""The table-specific row rules (durations, timestamp orders, minimums, score ranges), as
data: :func:`outcome_pipeline.validation.rules.rules_for` turns each into :class:`Rule`\ s."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from outcome_pipeline.contracts.feeds import SURVEY_SCORE_RANGES

MAX_DURATION_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Duration:
    column: str
    max_seconds: int = MAX_DURATION_SECONDS


@dataclass(frozen=True)
class Order:
    later: str
    earlier: str


@dataclass(frozen=True)
class Minimum:
    column: str
    min_value: float


@dataclass(frozen=True)
class TableExtras:
    durations: tuple[Duration, ...] = ()
    orders: tuple[Order, ...] = ()
    minimums: tuple[Minimum, ...] = ()
    score_ranges: tuple[str, str, Mapping[str, tuple[int, int]]] | None = None


# Table-specific row rules. Only orders that are true by definition are listed: an email
# contact can legitimately stay open for days, so ``ended_at - queued_at`` is not bounded.
EXTRA: dict[str, TableExtras] = {
    "interactions": TableExtras(
        durations=(Duration("talk_seconds"), Duration("hold_seconds"), Duration("acw_seconds")),
        orders=(
            Order("answered_at", "queued_at"),
            Order("ended_at", "answered_at"),
            Order("ended_at", "queued_at"),
            Order("first_response_at", "queued_at"),
        ),
    ),
    "customers": TableExtras(minimums=(Minimum("mrr", 0.0),)),
    "cases": TableExtras(orders=(Order("closed_at", "opened_at"),)),
    "subscription_events": TableExtras(
        minimums=(Minimum("mrr_before", 0.0), Minimum("mrr_after", 0.0))
    ),
    "survey_responses": TableExtras(
        orders=(Order("responded_at", "sent_at"),),
        score_ranges=("score", "survey_type", SURVEY_SCORE_RANGES),
    ),
}


def order_pairs(table: str) -> tuple[tuple[str, str], ...]:
    """(later, earlier) timestamp columns of ``table``'s order rules, in rule order."""
    return tuple((o.later, o.earlier) for o in EXTRA.get(table, TableExtras()).orders)
