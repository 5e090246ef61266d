"""A hand-made contact center week, small enough to compute every outcome by hand.

Business timezone Europe/London (BST, UTC+1 in June 2024); W = 7 days. Days computed:
D1 = Mon 2024-06-10, D2 = Tue 06-11, D3 = Wed 06-12. Times below are local.

Customers (CRM): C1 Alice (consumer, MRR 20 -> 40 from 06-11 12:00), C2 Bob (smb, 100),
C3 Carol (enterprise, 500), C4 Dan (consumer, 30), C5 Eve (consumer, 25). A prospect
unknown to the CRM calls from +44 7700 900999.

Contacts (leg ids; wait = queued -> answered):
- A1 ix-a1  D1 09:00 phone billing/express X1, wait 10 s, handle 280+20+30, "resolved"
            (delivered twice: the later delivery says resolved, the earlier follow_up)
- B1 ix-b1  D1 23:50 phone billing/express X2, wait 5 s, handle 800+40+10, transferred to
     ix-b1t D2 00:04:10 phone tech/care_plus Z1, wait 30 s, handle 900+60+60, "follow_up";
            Bob gave only his phone as "07700 900002"; case K2 solved 06-12 10:00
- D0 ix-d0  06-07 10:00 Dan phone (context, before D1) "resolved"
- D1 ix-d1  D1 11:00 phone general/express X2, wait 25 s, handle 560+40+30, "unresolved"
- N1 ix-n1  D1 15:00 phone general/express X2, phone "withheld", wait 4 s, handle 170+0+10
- N2 ix-n2  D1 15:30 chat general, email "unknown", phone "0000000000", abandoned after 3 s
- C1 ix-c1  D2 14:00 chat tech, Carol as "  Carol@Example.COM ", abandoned after 180 s
- C2 ix-c2  D2 14:20 chat tech/express X1, wait 15 s, handle 550+0+20, "resolved"
- P1 ix-p1  D2 09:00 web general/express X1 "+44 7700 900999", wait 20 s, 450+30+20, "resolved"
- P2 ix-p2  D2 18:00 messaging general/care_plus Z1 "07700900999", reply after 300 s,
            handle 700+0+40, "resolved"
- A2 ix-a2  D3 10:00 chat billing/care_plus Z1, wait 30 s, handle 1100+0+100, "resolved"
- E1 ix-e1  D3 09:00 email billing/care_plus Z1, reply after 4 h, 600+0+120, "escalated", K5
- E2 ix-e2  06-14 16:00 phone billing/express X1, wait 8 s, 590+10+15, "unresolved", K5
- B2 ix-b2  06-19 12:00 email general/care_plus Z1 "bob@example.com" (8.5 days after B1)

Surveys: S1 CSAT 5 on ix-a2; S2 NPS 3 on case K2; S3 CES 6 by Carol's email; S4 CSAT 2 by
C5; S5 NPS 10 on an interaction nobody knows (never linked); S6 CES 3 by the prospect's
phone; S7 CSAT 1 on ix-p1 answered 06-20, after the journey's window closed (ignored); S8
NPS 9 (promoter) on ix-c2.
Day D4 = Thu 06-13 (computed only with ``D4_DAYS``, at a later as_of: the capped journey
needs 35 days; the D1-D3 figures above do not change) tells what real logs lack. No contact of
D4 has a disposition or a case:
- F1 ix-f1  D4 10:00 phone billing/express X1, Fay (C6), wait 12 s, handle 300+0+20; she
            never comes back: resolved by confirmation only (operational FCR)
- G1 ix-g1  D4 11:00 chat general, Gus (C7), abandoned after 60 s, never back: not resolved
- H1 ix-h1  D4 12:00 phone general/express, Hal (C8), answered after 3 s by nobody the log
            names (no agent), handle 120+0+0: counted under agent 'unassigned'; resolved
- I1..I7    Ivy (C9) phones billing/express X1 every 6 days from D4 09:00 (06-13, 06-19,
            06-25, 07-01, 07-07), then 07-13 08:00 (the last within H = 30 days of her first
            contact) and 07-18 10:00 (35 days on, within W of 07-13): each time X1 says
            "resolved" (these do carry a claim). Her journey is capped: 6 contacts in span,
            6 false claims, not resolved; 07-18 is a repeat in no journey.

Subscription events: C5 churns (voluntary) 06-20 10:00; C2 churns (involuntary) 06-20
11:00; C3 signed up 05-01 10:00 and activated 05-04 10:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pyarrow as pa

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.contracts.staging import staging_schema
from outcome_pipeline.outcomes import OutcomeInputs

TZ = ZoneInfo("Europe/London")
D1, D2, D3 = date(2024, 6, 10), date(2024, 6, 11), date(2024, 6, 12)
DAYS = [D1, D2, D3]
D4 = date(2024, 6, 13)
D4_DAYS = [D1, D2, D3, D4]
IVY_CONTACTS = ("06-13 09:00", "06-19 09:00", "06-25 09:00", "07-01 09:00", "07-07 09:00")
IVY_CONTACTS += ("07-13 08:00", "07-18 10:00")


def lt(text: str) -> datetime:
    """Local time ``MM-DD HH:MM[:SS]`` in June 2024 (or a full ISO date)."""
    if len(text) <= 14:
        text = "2024-" + text
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


def staged(name: str, rows: list[dict], time_column: str) -> pa.Table:
    """Staging-shaped table; partition_date = local day of ``time_column`` unless given."""
    schema = staging_schema(CONTRACTS[name])
    full = []
    for i, row in enumerate(rows):
        r = dict.fromkeys(schema.names)
        r.update(row)
        if r["partition_date"] is None:
            r["partition_date"] = r[time_column].astimezone(TZ).date()
        r["updated_at"] = r["updated_at"] or r[time_column] + timedelta(minutes=30)
        r["source_file"] = f"fixture/{name}.csv"
        r["source_line"] = i + 2
        full.append(r)
    return pa.Table.from_pylist(full, schema=schema)


def leg(
    iid: str,
    channel: str,
    queue: str,
    team: str | None,
    agent: str | None,
    queued: str,
    *,
    wait: int | None = None,
    talk: int = 0,
    hold: int | None = None,
    acw: int = 0,
    disposition: str | None = None,
    abandoned_after: int | None = None,
    **extra: object,
) -> dict:
    """One interaction leg: answered ``wait`` s after queuing and ended after talk + hold,
    or abandoned ``abandoned_after`` s after queuing."""
    q = lt(queued)
    asynchronous = channel in ("email", "social", "messaging")
    row: dict = {
        "interaction_id": iid,
        "channel": channel,
        "direction": "inbound",
        "queue": queue,
        "team": team,
        "agent_id": agent,
        "queued_at": q,
        "disposition": disposition,
        **extra,
    }
    if abandoned_after is not None:
        row.update(abandoned=True, ended_at=q + timedelta(seconds=abandoned_after))
        return row
    answered = q + timedelta(seconds=wait or 0)
    row.update(
        abandoned=False,
        answered_at=answered,
        first_response_at=answered if asynchronous else None,
        ended_at=answered + timedelta(seconds=talk + (hold or 0)),
        talk_seconds=talk,
        hold_seconds=hold,
        acw_seconds=acw,
    )
    return row


def interactions() -> pa.Table:
    bob = {"customer_phone": "07700 900002", "case_id": "K2"}
    prospect = "+44 7700 900999"
    rows = [
        leg(
            "ix-a1",
            "phone",
            "billing",
            "express",
            "X1",
            "06-10 09:00",
            wait=10,
            talk=280,
            hold=20,
            acw=30,
            disposition="resolved",
            customer_id="C1",
            updated_at=lt("06-11 08:00"),
            partition_date=D2,
        ),
        leg(
            "ix-a1",
            "phone",
            "billing",
            "express",
            "X1",
            "06-10 09:00",
            wait=10,
            talk=280,
            hold=20,
            acw=30,
            disposition="follow_up",
            customer_id="C1",
            updated_at=lt("06-10 09:06"),
        ),
        leg(
            "ix-b1",
            "phone",
            "billing",
            "express",
            "X2",
            "06-10 23:50",
            wait=5,
            talk=800,
            hold=40,
            acw=10,
            **bob,
        ),
        leg(
            "ix-b1t",
            "phone",
            "tech",
            "care_plus",
            "Z1",
            "06-11 00:04:10",
            wait=30,
            talk=900,
            hold=60,
            acw=60,
            disposition="follow_up",
            parent_interaction_id="ix-b1",
            **bob,
        ),
        leg(
            "ix-d0",
            "phone",
            "general",
            "express",
            "X2",
            "06-07 10:00",
            wait=5,
            talk=300,
            acw=10,
            disposition="resolved",
            customer_id="C4",
        ),
        leg(
            "ix-d1",
            "phone",
            "general",
            "express",
            "X2",
            "06-10 11:00",
            wait=25,
            talk=560,
            hold=40,
            acw=30,
            disposition="unresolved",
            customer_id="C4",
        ),
        leg(
            "ix-n1",
            "phone",
            "general",
            "express",
            "X2",
            "06-10 15:00",
            wait=4,
            talk=170,
            acw=10,
            disposition="resolved",
            customer_phone="withheld",
        ),
        leg(
            "ix-n2",
            "chat",
            "general",
            None,
            None,
            "06-10 15:30",
            abandoned_after=3,
            customer_email="unknown",
            customer_phone="0000000000",
        ),
        leg(
            "ix-c1",
            "chat",
            "tech",
            None,
            None,
            "06-11 14:00",
            abandoned_after=180,
            customer_email="  Carol@Example.COM ",
        ),
        leg(
            "ix-c2",
            "chat",
            "tech",
            "express",
            "X1",
            "06-11 14:20",
            wait=15,
            talk=550,
            acw=20,
            disposition="resolved",
            customer_email="carol@example.com",
        ),
        leg(
            "ix-p1",
            "web",
            "general",
            "express",
            "X1",
            "06-11 09:00",
            wait=20,
            talk=450,
            hold=30,
            acw=20,
            disposition="resolved",
            customer_phone=prospect,
        ),
        leg(
            "ix-p2",
            "messaging",
            "general",
            "care_plus",
            "Z1",
            "06-11 18:00",
            wait=300,
            talk=700,
            acw=40,
            disposition="resolved",
            customer_phone="07700900999",
        ),
        leg(
            "ix-a2",
            "chat",
            "billing",
            "care_plus",
            "Z1",
            "06-12 10:00",
            wait=30,
            talk=1100,
            acw=100,
            disposition="resolved",
            customer_id="C1",
        ),
        leg(
            "ix-e1",
            "email",
            "billing",
            "care_plus",
            "Z1",
            "06-12 09:00",
            wait=4 * 3600,
            talk=600,
            acw=120,
            disposition="escalated",
            customer_id="C5",
            case_id="K5",
        ),
        leg(
            "ix-e2",
            "phone",
            "billing",
            "express",
            "X1",
            "06-14 16:00",
            wait=8,
            talk=590,
            hold=10,
            acw=15,
            disposition="unresolved",
            customer_id="C5",
            case_id="K5",
        ),
        leg(
            "ix-b2",
            "email",
            "general",
            "care_plus",
            "Z1",
            "06-19 12:00",
            wait=7200,
            talk=300,
            acw=60,
            disposition="resolved",
            customer_email="bob@example.com",
        ),
    ]
    return staged("interactions", rows + d4_legs(), "queued_at")


def d4_legs() -> list[dict]:
    """D4's contacts: no dispositions, no cases (but Ivy's), one handled without an agent."""
    rows = [
        leg(
            "ix-f1",
            "phone",
            "billing",
            "express",
            "X1",
            "06-13 10:00",
            wait=12,
            talk=300,
            acw=20,
            customer_id="C6",
        ),
        leg(
            "ix-g1",
            "chat",
            "general",
            None,
            None,
            "06-13 11:00",
            abandoned_after=60,
            customer_id="C7",
        ),
        leg(
            "ix-h1",
            "phone",
            "general",
            "express",
            None,
            "06-13 12:00",
            wait=3,
            talk=120,
            customer_id="C8",
        ),
    ]
    for i, queued in enumerate(IVY_CONTACTS, start=1):
        rows.append(
            leg(
                f"ix-i{i}",
                "phone",
                "billing",
                "express",
                "X1",
                queued,
                wait=10,
                talk=200,
                acw=10,
                disposition="resolved",
                customer_id="C9",
            )
        )
    return rows


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


def inputs() -> OutcomeInputs:
    return OutcomeInputs(
        interactions=interactions(),
        customers=customers(),
        cases=cases(),
        subscription_events=subscription_events(),
        survey_responses=survey_responses(),
    )


# Raw identifiers of the fixture that must never reach an output table.
RAW_IDENTIFIERS = (
    "07700 900002",
    "+44 7700 900999",
    "07700900999",
    "Carol@Example.COM",
    "carol@example.com",
    "bob@example.com",
    "alice@example.com",
    "+447700900999",
    "447700900999",
    "+447700900002",
    "447700900002",
    "withheld",
    "0000000000",
)
