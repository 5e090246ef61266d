"""Mappings run over real files with DuckDB: values, midnight rollover, zones, quarantine."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping, map_day
from outcome_pipeline_tests.ingest.mapping.fixtures import (
    ctr,
    write_bank_log,
    write_firehose,
    write_zendesk_tickets,
    zendesk_ticket,
)

DAY = date(2024, 1, 2)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def by_id(table) -> dict[str, dict]:
    return {r["interaction_id"]: r for r in table.to_pylist()}


@pytest.fixture
def bank(tmp_path: Path):
    write_bank_log(tmp_path / "bank_call_log" / DAY.isoformat(), "240102")
    m = compile_mapping(SHIPPED_DIR / "bank_call_log.toml", "Europe/London")
    return map_day(tmp_path, m, DAY)


def test_bank_log_values(bank) -> None:
    rows = by_id(bank.typed)
    first = rows["AA0101-44749"]
    # Israel is UTC+2 in January: 0:00:36 local is 22:00:36 UTC the day before.
    assert first["queued_at"] == utc("2024-01-01T22:00:36")
    assert first["answered_at"] == utc("2024-01-01T22:03:09")
    assert first["ended_at"] == utc("2024-01-01T22:06:49")  # answered + 220 s
    assert (first["talk_seconds"], first["abandoned"], first["agent_id"]) == (220, False, "MICHAL")
    assert (first["channel"], first["direction"], first["queue"]) == ("phone", "inbound", "PS")
    assert first["updated_at"] == first["ended_at"]
    assert (
        first["_source_line"] == 2 and first["_source_file"] == "bank_call_log/2024-01-02/calls.txt"
    )
    never_queued = rows["AA0101-44750"]
    assert never_queued["queued_at"] == utc("2024-01-01T22:34:12")  # the VRU arrival
    hang = rows["AA0101-44967"]
    assert hang["abandoned"] is True and hang["agent_id"] is None and hang["answered_at"] is None
    assert hang["ended_at"] == utc("2024-01-02T04:55:43")


def test_bank_log_midnight_rollover_and_unknown_customer(bank) -> None:
    late = by_id(bank.typed)["AA0102-44751"]
    assert late["queued_at"] == utc("2024-01-02T21:59:58")
    # 0:00:20 is after midnight: the next day, not 24 hours before the call.
    assert late["answered_at"] == utc("2024-01-02T22:00:20")
    assert late["ended_at"] == utc("2024-01-02T22:02:00")
    assert late["customer_id"] is None  # 0 = not identified


def test_call_id_is_unique_only_with_its_line(bank) -> None:
    ids = [r["interaction_id"] for r in bank.typed.to_pylist()]
    assert "AA0101-44749" in ids and "AA0104-44749" in ids


def test_bank_log_rejects_with_file_line_raw_and_reason(bank) -> None:
    rejects = {r["source_line"]: r for r in bank.rejects.to_pylist()}
    assert set(rejects) == {6, 7, 8}
    assert rejects[6]["reason_code"] == "unknown_value"
    assert "outcome='PHANTOM'" in rejects[6]["message"]
    assert json.loads(rejects[6]["raw_record"])["outcome"] == "PHANTOM"
    assert rejects[7]["reason_code"] == "bad_type" and "date='99XX01'" in rejects[7]["message"]
    assert rejects[8]["reason_code"] == "malformed_row" and rejects[8]["raw_record"].startswith(
        "AA0103"
    )
    assert all(r["source_file"] == "bank_call_log/2024-01-02/calls.txt" for r in rejects.values())
    # Every source row is accounted for: 8 rows = 5 typed + 3 rejected.
    (count,) = bank.files
    assert (count.rows_read, count.rows_quarantined, bank.typed.num_rows) == (8, 3, 5)


def test_connect_records_back_to_back(tmp_path: Path) -> None:
    folder = tmp_path / "amazon_connect" / DAY.isoformat()
    day = DAY.isoformat()
    records = [
        ctr("c1", day),
        ctr("c2", day, Agent=None),  # queued, no agent: abandoned
        ctr("c3", day, Channel="TASK"),  # not a customer contact: quarantined
        ctr("c4", day, InitiationTimestamp="soon", Queue=None),  # bad timestamp
        ctr("c5", day, InitiationMethod="OUTBOUND", Queue=None, PreviousContactId="c1"),
    ]
    write_firehose(folder, records, "connect-ctr-1-2024-01-02-10-00-00-x")
    (folder / "connect-ctr-2").write_text('{"ContactId": "c9", "Channel": ')  # truncated object
    m = compile_mapping(SHIPPED_DIR / "amazon_connect_ctr.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    rows = by_id(out.typed)
    assert set(rows) == {"c1", "c2", "c5"}
    c1 = rows["c1"]
    assert c1["queued_at"] == utc(f"{day}T10:00:10") and c1["answered_at"] == utc(f"{day}T10:01:00")
    assert (c1["talk_seconds"], c1["hold_seconds"], c1["acw_seconds"]) == (200, 20, 30)
    assert (c1["team"], c1["agent_id"], c1["customer_phone"]) == ("Team A", "ann", "+441234567890")
    assert c1["abandoned"] is False and rows["c2"]["abandoned"] is True
    c5 = rows["c5"]
    assert c5["direction"] == "outbound" and c5["parent_interaction_id"] == "c1"
    assert c5["queued_at"] == utc(f"{day}T10:00:00") and c5["abandoned"] is False
    rejects = {r["record_key"]: r for r in out.rejects.to_pylist()}
    assert rejects["c3"]["reason_code"] == "unknown_value" and rejects["c3"]["source_line"] == 3
    assert (
        rejects["c4"]["reason_code"] == "bad_type"
        and "InitiationTimestamp='soon'" in rejects["c4"]["message"]
    )
    # The truncated file is quarantined whole; the good file still maps.
    (bad_file,) = out.bad_files
    assert (
        bad_file[0] == "amazon_connect/2024-01-02/connect-ctr-2" and "Malformed JSON" in bad_file[1]
    )


def test_csv_lacking_a_mapped_field_is_quarantined_whole(tmp_path: Path) -> None:
    folder = tmp_path / "bank_call_log" / DAY.isoformat()
    path = write_bank_log(folder, "240102")
    path.write_text(path.read_text().replace("\tserver", "\tagent"))
    m = compile_mapping(SHIPPED_DIR / "bank_call_log.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    assert out.typed.num_rows == 0 and out.rejects.num_rows == 0
    (bad_file,) = out.bad_files
    assert "lacks field(s) server" in bad_file[1] and "bank_call_log.toml" in bad_file[1]


UNNEST = """\
[source]
name = "legs"
version = "2"
table = "interactions"
feed = "legs"
glob = "*.jsonl"
format = "jsonl"
timezone = "America/New_York"

[[unnest]]
path = "participants"
as = "p"

[columns]
interaction_id = { concat = ["conversationId", "p.participantId"], sep = ":" }
parent_interaction_id = "conversationId"
channel = { map = "mediaType", values = { voice = "phone", email = "email" }, default = "chat" }
direction = { const = "inbound" }
queued_at = { timestamp = "start" }
answered_at = { plus_seconds = [{ column = "queued_at" }, "p.waitSeconds"] }
ended_at = { timestamp = "p.endMs", format = "epoch_ms" }
talk_seconds = { seconds_between = [{ column = "answered_at" }, { column = "ended_at" }] }
abandoned = { bool = "p.abandoned", true = ["Y"], false = ["N"] }
updated_at = { column = "ended_at" }
"""


def test_one_record_becomes_one_row_per_list_element(tmp_path: Path) -> None:
    (tmp_path / "legs.toml").write_text(UNNEST)
    m = compile_mapping(tmp_path / "legs.toml", "Europe/London")
    folder = tmp_path / "land" / "legs" / DAY.isoformat()
    folder.mkdir(parents=True)
    end = int(utc("2024-01-02T15:10:00").timestamp() * 1000)
    lines = [
        # Local time without an offset: New York (UTC-5), so 10:00 is 15:00 UTC.
        {
            "conversationId": "k1",
            "mediaType": "voice",
            "start": "2024-01-02T10:00:00",
            "participants": [
                {"participantId": "a", "waitSeconds": 30, "endMs": end, "abandoned": "N"},
                {"participantId": "b", "waitSeconds": 90.5, "endMs": end, "abandoned": "N"},
            ],
        },
        {
            "conversationId": "k2",
            "mediaType": "sms",
            "start": "2024-01-02T11:00:00+00:00",
            "participants": [],
        },
        {
            "conversationId": "k3",
            "mediaType": "voice",
            "start": "2024-01-02T10:00:00Z",
            "participants": [
                {"participantId": "c", "waitSeconds": 1, "endMs": end, "abandoned": "maybe"}
            ],
        },
    ]
    (folder / "x.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\nnot json\n")
    out = map_day(tmp_path / "land", m, DAY)
    rows = by_id(out.typed)
    assert set(rows) == {"k1:a", "k1:b"}
    assert rows["k1:a"]["queued_at"] == utc("2024-01-02T15:00:00")
    assert rows["k1:a"]["answered_at"] == utc("2024-01-02T15:00:30")
    assert rows["k1:b"]["answered_at"] == utc("2024-01-02T15:01:30.500000")
    assert rows["k1:a"]["talk_seconds"] == 570 and rows["k1:a"]["parent_interaction_id"] == "k1"
    assert rows["k1:a"]["_source_line"] == 1 == rows["k1:b"]["_source_line"]
    rejects = sorted(out.rejects.to_pylist(), key=lambda r: r["source_line"])
    assert [(r["source_line"], r["reason_code"]) for r in rejects] == [
        (2, "empty_list"),
        (3, "bad_type"),
        (4, "malformed_row"),
    ]
    assert rejects[1]["message"].startswith("record $.participants[0]: ")
    assert rejects[2]["raw_record"] == "not json"
    (count,) = out.files
    assert (count.rows_read, count.rows_quarantined) == (5, 3)


def test_zendesk_tickets_as_cases(tmp_path: Path) -> None:
    write_zendesk_tickets(
        tmp_path / "zendesk" / DAY.isoformat(),
        [
            zendesk_ticket(1, "open", "2024-01-01 09:00:00", "2024-01-02 10:00:00"),
            zendesk_ticket(2, "solved", "2024-01-01 09:00:00", "2024-01-02 11:30:00", "problem"),
            zendesk_ticket(3, "hold", "2024-01-02 08:00:00", "2024-01-02 09:00:00"),
            zendesk_ticket(4, "deleted", "2024-01-02 08:00:00", "2024-01-02 09:00:00"),
        ],
    )
    m = compile_mapping(SHIPPED_DIR / "zendesk_tickets.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    rows = {r["case_id"]: r for r in out.typed.to_pylist()}
    assert set(rows) == {"1", "2", "3"}
    assert rows["1"]["status"] == "open" and rows["1"]["closed_at"] is None
    assert rows["2"]["status"] == "solved" and rows["2"]["closed_at"] == utc("2024-01-02T11:30:00")
    assert rows["2"]["reason"] == "problem" and rows["2"]["customer_id"] == "9002"
    assert rows["3"]["status"] == "pending"
    assert rows["1"]["opened_at"] == utc("2024-01-01T09:00:00")  # Fivetran writes UTC
    (reject,) = out.rejects.to_pylist()
    assert reject["record_key"] == "4" and "status='deleted'" in reject["message"]


def test_salesforce_cases_from_data_loader(tmp_path: Path) -> None:
    folder = tmp_path / "salesforce" / DAY.isoformat()
    folder.mkdir(parents=True)
    header = (
        "Id,CaseNumber,AccountId,ContactId,Status,IsClosed,Origin,Reason,CreatedDate,"
        "ClosedDate,LastModifiedDate"
    )
    t1, t2 = "2024-01-01T09:00:00.000Z", "2024-01-02T11:00:00.000Z"
    rows = [
        f"5001,00001,0011,0031,Working,false,Phone,Billing,{t1},,2024-01-02T10:00:00.000Z",
        f"5002,00002,0012,0032,Closed,true,Email,Login,{t1},{t2},{t2}",
        f"5003,00003,0013,0033,On Hold,false,Web,,{t1},,2024-01-02T08:30:00.000Z",
        f"5004,00004,,0034,New,false,Web,,{t1},,2024-01-02T08:30:00.000Z",
    ]
    (folder / "Case_export.csv").write_text("\n".join([header, *rows]) + "\n")
    m = compile_mapping(SHIPPED_DIR / "salesforce_cases.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    got = {
        r["case_id"]: (r["status"], r["closed_at"], r["customer_id"]) for r in out.typed.to_pylist()
    }
    assert got == {
        "5001": ("open", None, "0011"),
        "5002": ("closed", utc("2024-01-02T11:00:00"), "0012"),
        "5003": ("pending", None, "0013"),
    }
    (reject,) = out.rejects.to_pylist()
    assert reject["record_key"] == "5004" and reject["reason_code"] == "missing_required"
    assert "customer_id is empty (from AccountId)" in reject["message"]


def test_messages_never_show_a_personal_value(tmp_path: Path) -> None:
    text = (SHIPPED_DIR / "bank_call_log.toml").read_text()
    text = text.replace(
        'queue = "type"',
        'queue = "type"\ncustomer_phone = { map = "priority", values = { "1" = "x" }, '
        'unmapped = "quarantine" }',
    )
    (tmp_path / "m.toml").write_text(text)
    write_bank_log(tmp_path / "bank_call_log" / DAY.isoformat(), "240102")
    out = map_day(tmp_path, compile_mapping(tmp_path / "m.toml", "Europe/London"), DAY)
    messages = [r["message"] for r in out.rejects.to_pylist() if "customer_phone" in r["message"]]
    assert messages and all("priority=<masked>" in m for m in messages)
    assert not any("priority='2'" in m for m in messages)


def test_same_id_from_two_sources_keeps_the_latest_delivery(tmp_path: Path) -> None:
    """Across sources the contract's rule holds: the latest updated_at wins, whoever sent it."""
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.ingest.stage import stage_day

    day = DAY.isoformat()
    write_firehose(
        tmp_path / "amazon_connect" / day,
        [ctr("c1", day, LastUpdateTimestamp=f"{day}T12:00:00Z"), ctr("c2", day)],
        "ctr-1",
    )
    native = tmp_path / "interactions" / day
    native.mkdir(parents=True)
    (native / "interactions.csv").write_text(
        "interaction_id,channel,direction,queued_at,ended_at,abandoned,updated_at,queue\n"
        f"c1,phone,inbound,{day}T10:00:10Z,{day}T10:05:00Z,false,{day}T11:00:00Z,native\n"
        f"c2,phone,inbound,{day}T10:00:10Z,{day}T10:05:00Z,false,{day}T13:00:00Z,native\n"
    )
    connect = compile_mapping(SHIPPED_DIR / "amazon_connect_ctr.toml", "Europe/London")
    staged = stage_day(
        tmp_path, CONTRACTS["interactions"], DAY, "Europe/London", mappings=[connect]
    )
    rows = {r["interaction_id"]: r for r in staged.staged.to_pylist()}
    assert staged.rows_read == 4 and staged.rows_duplicate == 2
    assert rows["c1"]["source_mapping"] == "amazon_connect_ctr@1"  # 12:00 beats 11:00
    assert rows["c2"]["source_mapping"] is None and rows["c2"]["queue"] == "native"  # 13:00
