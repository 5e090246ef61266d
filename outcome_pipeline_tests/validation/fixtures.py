"""Hand-built typed rows per feed table: one clean row each, and one row per broken rule.

The partition day is 2024-03-31 in Europe/London, the spring DST change: the business day
runs 2024-03-31T00:00Z .. 2024-03-31T23:00Z (23 hours).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS, TableContract

DAY = date(2024, 3, 31)
TZ = "Europe/London"


def ts(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


CLEAN: dict[str, dict[str, Any]] = {
    "interactions": {
        "interaction_id": "i-clean",
        "channel": "phone",
        "direction": "inbound",
        "customer_id": "C1",
        "customer_email": "olivia.smith@example.com",
        "customer_phone": "+447700900001",
        "queue": "billing",
        "team": "express",
        "agent_id": "A1",
        "contact_reason": "invoice_query",
        "queued_at": ts(2024, 3, 31, 10, 0),
        "answered_at": ts(2024, 3, 31, 10, 1),
        "ended_at": ts(2024, 3, 31, 10, 10),
        "talk_seconds": 500,
        "hold_seconds": 10,
        "acw_seconds": 30,
        "abandoned": False,
        "disposition": "resolved",
        "updated_at": ts(2024, 3, 31, 10, 11),
    },
    "customers": {
        "customer_id": "c-clean",
        "email": "noah.jones@example.org",
        "phone": "+447700900002",
        "segment": "consumer",
        "plan": "basic",
        "region": "london",
        "created_at": ts(2023, 1, 5, 12, 0),
        "mrr": 19.0,
        "updated_at": ts(2024, 3, 31, 9, 0),
    },
    "cases": {
        "case_id": "k-clean",
        "customer_id": "C1",
        "opened_at": ts(2024, 3, 30, 8, 0),
        "closed_at": ts(2024, 3, 31, 8, 0),
        "status": "closed",
        "reason": "outage",
        "updated_at": ts(2024, 3, 31, 8, 0),
    },
    "subscription_events": {
        "event_id": "e-clean",
        "customer_id": "C1",
        "event_type": "upgrade",
        "occurred_at": ts(2024, 3, 31, 9, 0),
        "mrr_before": 19.0,
        "mrr_after": 39.0,
        "updated_at": ts(2024, 3, 31, 9, 0),
    },
    "survey_responses": {
        "response_id": "r-clean",
        "survey_type": "csat",
        "score": 4,
        "interaction_id": "i-clean",
        "customer_id": "C1",
        "customer_email": "ava.patel@example.net",
        "customer_phone": "+447700900003",
        "sent_at": ts(2024, 3, 31, 11, 0),
        "responded_at": ts(2024, 3, 31, 12, 0),
        "resolved_self_reported": True,
        "comment": "great, call me back on +447700900099 or mail ava.patel@example.net",
        "updated_at": ts(2024, 3, 31, 12, 0),
    },
}


@dataclass(frozen=True)
class Breaker:
    """A row that breaks exactly one rule (``rule``) with reason ``code``."""

    table: str
    rule: str
    code: str
    changes: dict[str, Any]
    message: str  # substring the failure message must contain

    @property
    def id(self) -> str:
        return f"{self.table}:{self.rule}"


BREAKERS: tuple[Breaker, ...] = (
    # unknown_value
    Breaker(
        "interactions",
        "channel_allowed",
        "unknown_value",
        {"channel": "fax"},
        "channel 'fax' is not one of phone, email, chat",
    ),
    Breaker(
        "interactions",
        "direction_allowed",
        "unknown_value",
        {"direction": "sideways"},
        "direction 'sideways' is not one of inbound, outbound",
    ),
    Breaker(
        "interactions",
        "disposition_allowed",
        "unknown_value",
        {"disposition": "Resolved"},
        "disposition 'Resolved' is not one of",
    ),
    Breaker("customers", "segment_allowed", "unknown_value", {"segment": "vip"}, "segment 'vip'"),
    Breaker("customers", "plan_allowed", "unknown_value", {"plan": "gold"}, "plan 'gold'"),
    Breaker(
        "cases", "status_allowed", "unknown_value", {"status": "reopened"}, "status 'reopened'"
    ),
    Breaker(
        "subscription_events",
        "event_type_allowed",
        "unknown_value",
        {"event_type": "pause"},
        "event_type 'pause'",
    ),
    Breaker(
        "subscription_events",
        "churn_type_allowed",
        "unknown_value",
        {"event_type": "churn", "churn_type": "moved"},
        "churn_type 'moved'",
    ),
    Breaker(
        "survey_responses",
        "survey_type_allowed",
        "unknown_value",
        {"survey_type": "ces2"},
        "survey_type 'ces2' is not one of csat, nps, ces",
    ),
    # out_of_range
    Breaker(
        "survey_responses",
        "score_range_csat",
        "out_of_range",
        {"score": 6},
        "score 6 is outside 1..5 for survey_type csat",
    ),
    Breaker(
        "survey_responses",
        "score_range_nps",
        "out_of_range",
        {"survey_type": "nps", "score": 11},
        "score 11 is outside 0..10 for survey_type nps",
    ),
    Breaker(
        "survey_responses",
        "score_range_ces",
        "out_of_range",
        {"survey_type": "ces", "score": 0},
        "score 0 is outside 1..7 for survey_type ces",
    ),
    Breaker(
        "interactions",
        "talk_seconds_range",
        "out_of_range",
        {"talk_seconds": -5},
        "talk_seconds -5 is outside 0..86400",
    ),
    Breaker(
        "interactions",
        "hold_seconds_range",
        "out_of_range",
        {"hold_seconds": 86_401},
        "hold_seconds 86401 is outside 0..86400",
    ),
    Breaker(
        "interactions",
        "acw_seconds_range",
        "out_of_range",
        {"acw_seconds": -1},
        "acw_seconds -1 is outside",
    ),
    Breaker("customers", "mrr_non_negative", "out_of_range", {"mrr": -19.0}, "mrr -19 is below 0"),
    Breaker(
        "subscription_events",
        "mrr_after_non_negative",
        "out_of_range",
        {"mrr_after": -1.5},
        "mrr_after -1.5 is below 0",
    ),
    # impossible_timestamp: order
    Breaker(
        "interactions",
        "ended_at_not_before_answered_at",
        "impossible_timestamp",
        {"ended_at": ts(2024, 3, 31, 10, 0, 30)},
        "ended_at is before answered_at",
    ),
    Breaker(
        "interactions",
        "answered_at_not_before_queued_at",
        "impossible_timestamp",
        {"answered_at": ts(2024, 3, 31, 9, 59)},
        "answered_at is before queued_at",
    ),
    Breaker(
        "interactions",
        "first_response_at_not_before_queued_at",
        "impossible_timestamp",
        {"channel": "email", "answered_at": None, "first_response_at": ts(2024, 3, 31, 9)},
        "first_response_at is before queued_at",
    ),
    Breaker(
        "cases",
        "closed_at_not_before_opened_at",
        "impossible_timestamp",
        {"closed_at": ts(2024, 3, 30, 7, 0)},
        "closed_at is before opened_at",
    ),
    Breaker(
        "survey_responses",
        "responded_at_not_before_sent_at",
        "impossible_timestamp",
        {"responded_at": ts(2024, 3, 31, 10, 0)},
        "responded_at is before sent_at",
    ),
    # impossible_timestamp: implausible dates
    Breaker(
        "customers",
        "created_at_plausible",
        "impossible_timestamp",
        {"created_at": ts(1999, 12, 31, 23, 59)},
        "created_at 1999-12-31T23:59:00Z is implausible: before 2000-01-01",
    ),
    Breaker(
        "subscription_events",
        "occurred_at_plausible",
        "impossible_timestamp",
        {"occurred_at": ts(2024, 4, 1, 23, 0), "updated_at": ts(2024, 4, 1, 22, 0)},
        "occurred_at 2024-04-01T23:00:00Z is implausible: later than the end of the "
        "business day after the partition day",
    ),
    Breaker(
        "cases",
        "updated_at_plausible",
        "impossible_timestamp",
        {"updated_at": ts(2099, 1, 1)},
        "updated_at 2099-01-01T00:00:00Z is implausible",
    ),
    Breaker(
        "interactions",
        "acw_seconds_range",
        "out_of_range",
        {"acw_seconds": 10**9},
        "acw_seconds 1000000000 is outside 0..86400",
    ),
)


def rows_table(contract: TableContract, records: list[dict[str, Any]]) -> pa.Table:
    """Typed rows (contract types) plus ``_source_file`` / ``_source_line``."""
    columns = {
        c.name: pa.array([r.get(c.name) for r in records], type=c.type) for c in contract.columns
    }
    columns["_source_file"] = pa.array([f"{contract.feed}/{DAY}/x.csv"] * len(records))
    columns["_source_line"] = pa.array(range(2, len(records) + 2), pa.int64())
    return pa.table(columns)


def clean(table: str, key: str | None = None, **changes: Any) -> dict[str, Any]:
    contract = CONTRACTS[table]
    row = dict(CLEAN[table], **changes)
    if key is not None:
        row[contract.key] = key
    return row


def broken(b: Breaker, n: int = 0) -> dict[str, Any]:
    return clean(b.table, key=f"{b.rule}-{n}", **b.changes)


def every_defect(table: str) -> tuple[pa.Table, dict[int, set[str]]]:
    """Clean rows interleaved with one row per breaker of ``table``; expected codes by row."""
    records: list[dict[str, Any]] = []
    expected: dict[int, set[str]] = {}
    for n, b in enumerate(x for x in BREAKERS if x.table == table):
        records.append(clean(table, key=f"ok-{n}"))
        expected[len(records)] = {b.code}
        records.append(broken(b, n))
    records.append(clean(table, key="ok-last"))
    return rows_table(CONTRACTS[table], records), expected
