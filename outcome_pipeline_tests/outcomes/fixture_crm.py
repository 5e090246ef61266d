"""The CRM, case, subscription and survey rows of the hand-made fixture (the story is told in
``fixture.py``)."""

from __future__ import annotations

import pyarrow as pa

from outcome_pipeline_tests.outcomes.fixture_builders import lt, staged


def customers() -> pa.Table:
    base = lt("2024-01-01 00:00")

    def cust(cid: str, email: str | None, phone: str | None, seg: str, mrr: float, **kw):
        return {
            "customer_id": cid,
            "email": email,
            "phone": phone,
            "segment": seg,
            "plan": "basic",
            "region": "london",
            "created_at": base,
            "mrr": mrr,
            "updated_at": base,
            **kw,
        }

    rows = [
        cust("C1", "alice@example.com", "+447700900001", "consumer", 20.0),
        cust(
            "C1",
            "alice@example.com",
            "+447700900001",
            "consumer",
            40.0,
            updated_at=lt("06-11 12:00"),
        ),
        cust("C2", "bob@example.com", "07700 900002", "smb", 100.0),
        cust("C3", "carol@example.com", None, "enterprise", 500.0),
        cust("C4", "dan@example.com", "+447700900004", "consumer", 30.0),
        cust("C5", "eve@example.com", "+447700900005", "consumer", 25.0),
        cust("C6", "fay@example.com", None, "consumer", 10.0),
        cust("C7", "gus@example.com", None, "smb", 50.0),
        cust("C8", "hal@example.com", None, "consumer", 15.0),
        cust("C9", "ivy@example.com", None, "consumer", 60.0),
    ]
    return staged("customers", rows, "updated_at")


def cases() -> pa.Table:
    rows = [
        {
            "case_id": "K2",
            "customer_id": "C2",
            "opened_at": lt("06-10 23:55"),
            "status": "open",
            "updated_at": lt("06-10 23:55"),
        },
        {
            "case_id": "K2",
            "customer_id": "C2",
            "opened_at": lt("06-10 23:55"),
            "closed_at": lt("06-12 10:00"),
            "status": "solved",
            "updated_at": lt("06-12 10:00"),
        },
        {
            "case_id": "K5",
            "customer_id": "C5",
            "opened_at": lt("06-12 09:00"),
            "status": "open",
            "updated_at": lt("06-12 09:00"),
        },
    ]
    return staged("cases", rows, "updated_at")


def subscription_events() -> pa.Table:
    rows = [
        {
            "event_id": "ev1",
            "customer_id": "C5",
            "event_type": "churn",
            "occurred_at": lt("06-20 10:00"),
            "mrr_before": 25.0,
            "mrr_after": 0.0,
            "churn_type": "voluntary",
        },
        {
            "event_id": "ev2",
            "customer_id": "C2",
            "event_type": "churn",
            "occurred_at": lt("06-20 11:00"),
            "mrr_before": 100.0,
            "mrr_after": 0.0,
            "churn_type": "involuntary",
        },
        {
            "event_id": "ev3",
            "customer_id": "C3",
            "event_type": "signup",
            "occurred_at": lt("05-01 10:00"),
        },
        {
            "event_id": "ev4",
            "customer_id": "C3",
            "event_type": "activated",
            "occurred_at": lt("05-04 10:00"),
        },
    ]
    return staged("subscription_events", rows, "occurred_at")


def survey_responses() -> pa.Table:
    def s(rid: str, kind: str, score: int, sent: str, responded: str, **ids: str) -> dict:
        return {
            "response_id": rid,
            "survey_type": kind,
            "score": score,
            "sent_at": lt(sent),
            "responded_at": lt(responded),
            "comment": "call me on 07700 900002 or bob@example.com",
            **ids,
        }

    rows = [
        s("S1", "csat", 5, "06-12 11:00", "06-12 12:00", interaction_id="ix-a2"),
        s("S2", "nps", 3, "06-12 10:30", "06-13 09:00", case_id="K2", customer_id="C2"),
        s("S3", "ces", 6, "06-11 15:00", "06-11 16:00", customer_email="carol@example.com"),
        s("S4", "csat", 2, "06-14 17:00", "06-15 08:00", customer_id="C5"),
        s(
            "S5",
            "nps",
            10,
            "06-12 12:00",
            "06-12 13:00",
            interaction_id="ix-unknown",
            customer_id="C1",
        ),
        s("S6", "ces", 3, "06-11 19:00", "06-11 20:00", customer_phone="+447700900999"),
        s("S7", "csat", 1, "06-19 09:00", "06-20 09:00", interaction_id="ix-p1"),
        s("S8", "nps", 9, "06-11 15:00", "06-11 15:30", interaction_id="ix-c2"),
    ]
    return staged("survey_responses", rows, "responded_at")
