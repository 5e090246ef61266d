"""The shipped mappings the generator does not write, on small exports written by hand.

Headers are the vendors' own: the Fivetran TICKET table (dbt_zendesk_source seed
``ticket_data.csv``), the Zendesk Satisfaction Ratings API object, Salesforce Data Loader
exports of Account and Contact (API field names).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping, map_day
from outcome_pipeline_tests.ingest.mapping.fixtures import ZENDESK_TICKET_HEADER

DAY = date(2024, 1, 2)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _ticket(ticket_id: int, channel: str, assignee: str, sender: str = "") -> str:
    values = dict.fromkeys(ZENDESK_TICKET_HEADER.split(","), "")
    values.update(
        id=str(ticket_id),
        created_at="2024-01-02 09:00:00",
        updated_at="2024-01-02 11:30:00",
        status="solved",
        assignee_id=assignee,
        via_channel=channel,
        via_source_from_address=sender,
    )
    return ",".join(values.values())


def test_zendesk_tickets_as_contacts(tmp_path: Path) -> None:
    folder = tmp_path / "zendesk_contacts" / DAY.isoformat()
    folder.mkdir(parents=True)
    rows = [
        _ticket(11, "email", "401", "ann@example.com"),  # line 2: an answered email
        _ticket(12, "chat", ""),  # line 3: a chat no agent took: abandoned
        _ticket(13, "web", "402"),  # line 4: a web form: no contract channel here
    ]
    (folder / "ticket.csv").write_text("\n".join([ZENDESK_TICKET_HEADER, *rows]) + "\n")
    m = compile_mapping(SHIPPED_DIR / "zendesk_ticket_contacts.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    got = {r["interaction_id"]: r for r in out.typed.to_pylist()}
    assert set(got) == {"11", "12"}
    email, chat = got["11"], got["12"]
    assert (email["channel"], email["customer_email"], email["agent_id"]) == (
        "email",
        "ann@example.com",
        "401",
    )
    assert email["abandoned"] is False and chat["abandoned"] is True
    assert email["queued_at"] == utc("2024-01-02T09:00:00")
    # No answer or first-reply time on the ticket row: unknown, not the creation time.
    assert email["answered_at"] is None and email["first_response_at"] is None
    assert email["ended_at"] == email["updated_at"] == utc("2024-01-02T11:30:00")
    (reject,) = out.rejects.to_pylist()
    assert (reject["source_line"], reject["reason_code"]) == (4, "unknown_value")
    assert "via_channel" in reject["message"]


def test_zendesk_satisfaction_ratings_as_csat(tmp_path: Path) -> None:
    folder = tmp_path / "zendesk" / DAY.isoformat()
    folder.mkdir(parents=True)

    def rating(rid: int, score: str, comment: str | None = None) -> dict:
        return {
            "id": rid,
            "url": f"https://example.zendesk.com/api/v2/satisfaction_ratings/{rid}.json",
            "assignee_id": 401,
            "group_id": 9,
            "requester_id": 77,
            "ticket_id": 1000 + rid,
            "score": score,
            "created_at": "2024-01-02T08:00:00Z",
            "updated_at": "2024-01-02T10:15:00Z",
            "comment": comment,
        }

    records = [rating(1, "good", "quick, thanks"), rating(2, "bad"), rating(3, "offered")]
    (folder / "satisfaction_ratings.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in records)
    )
    m = compile_mapping(SHIPPED_DIR / "zendesk_satisfaction_ratings.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    got = {r["response_id"]: r for r in out.typed.to_pylist()}
    assert {k: (v["score"], v["case_id"]) for k, v in got.items()} == {
        "1": (5, "1001"),
        "2": (1, "1002"),
    }
    assert got["1"]["comment"] == "quick, thanks" and got["1"]["survey_type"] == "csat"
    assert got["1"]["sent_at"] == utc("2024-01-02T08:00:00")
    assert got["1"]["responded_at"] == utc("2024-01-02T10:15:00")
    # Offered and not answered: no response, quarantined and counted.
    (reject,) = out.rejects.to_pylist()
    assert reject["record_key"] == "3" and reject["reason_code"] == "unknown_value"


def test_salesforce_accounts_and_contacts_as_customers(tmp_path: Path) -> None:
    folder = tmp_path / "salesforce" / DAY.isoformat()
    folder.mkdir(parents=True)
    created, modified = "2023-05-01T09:00:00.000Z", "2024-01-02T10:00:00.000Z"
    (folder / "Account_export.csv").write_text(
        "Id,Name,Type,Phone,BillingState,BillingCountry,CreatedDate,LastModifiedDate\n"
        f"0011,Acme,Customer - Direct,+441000,London,UK,{created},{modified}\n"
        f"0012,Globex,Prospect,,,UK,{created},\n"
    )
    (folder / "Contact_export.csv").write_text(
        "Id,AccountId,FirstName,LastName,Email,Phone,MailingState,CreatedDate,LastModifiedDate\n"
        f"0031,0011,Ann,Lee,ann@acme.example,+442000,London,{created},{modified}\n"
        f"0032,,Bob,Roe,bob@example.com,,,{created},{modified}\n"
    )
    accounts = compile_mapping(SHIPPED_DIR / "salesforce_accounts.toml", "Europe/London")
    a = map_day(tmp_path, accounts, DAY)
    (acme,) = a.typed.to_pylist()
    assert (acme["customer_id"], acme["phone"], acme["region"], acme["email"]) == (
        "0011",
        "+441000",
        "London",
        None,
    )
    assert acme["created_at"] == utc("2023-05-01T09:00:00")
    (reject,) = a.rejects.to_pylist()  # no LastModifiedDate: the change cannot be ordered
    assert reject["record_key"] == "0012" and reject["reason_code"] == "missing_required"

    contacts = compile_mapping(SHIPPED_DIR / "salesforce_contacts.toml", "Europe/London")
    c = map_day(tmp_path, contacts, DAY)
    (ann,) = c.typed.to_pylist()
    assert (ann["customer_id"], ann["email"], ann["phone"]) == (
        "0011",
        "ann@acme.example",
        "+442000",
    )
    assert ann["segment"] is None and ann["plan"] is None and ann["mrr"] is None
    (private,) = c.rejects.to_pylist()  # a contact without an account is no customer
    assert private["source_line"] == 3 and private["reason_code"] == "missing_key"
