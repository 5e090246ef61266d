"""The shipped Genesys Cloud mapping on hand-written conversation detail records.

Shapes the generator does not write: a transfer inside one conversation (two queues, two
agents), an outbound call to an ``external`` party, an abandoned chat, a social message, a
callback (a media type the contract has no channel for).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest

from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping, map_day

DAY = date(2024, 1, 2)


def t(hms: str) -> str:
    return f"2024-01-02T{hms}.000Z"


def utc(hms: str) -> datetime:
    return datetime.fromisoformat(f"2024-01-02T{hms}").replace(tzinfo=UTC)


def seg(start: str, end: str, kind: str, **more: str) -> dict:
    return {"segmentStart": t(start), "segmentEnd": t(end), "segmentType": kind, **more}


def session(media: str, segments: list, metrics: dict | None = None, **more: str) -> dict:
    out = {"mediaType": media, "segments": segments, **more}
    if metrics:
        out["metrics"] = [{"name": k, "value": v} for k, v in metrics.items()]
    return out


def party(purpose: str, *sessions: dict, **more: str) -> dict:
    return {"purpose": purpose, "sessions": list(sessions), **more}


def conversation(cid: str, start: str, end: str, direction: str, *participants: dict) -> dict:
    return {
        "conversationId": cid,
        "conversationStart": t(start),
        "conversationEnd": t(end),
        "originatingDirection": direction,
        "participants": list(participants),
    }


CONVERSATIONS = [
    # A blind transfer: billing's agent ann hands the call to tech's queue, where bob takes it.
    conversation(
        "transfer",
        "10:00:00",
        "10:20:00",
        "inbound",
        party(
            "customer", session("voice", [seg("10:00:00", "10:20:00", "interact")], ani="+44111")
        ),
        party("ivr", session("voice", [seg("10:00:00", "10:00:30", "ivr")])),
        party(
            "acd",
            session("voice", [seg("10:00:30", "10:01:00", "interact", queueId="billing")]),
            participantName="billing",
        ),
        party(
            "agent",
            session(
                "voice",
                [
                    seg("10:01:00", "10:06:00", "interact", queueId="billing"),
                    seg(
                        "10:06:00", "10:07:00", "wrapup", queueId="billing", wrapUpCode="escalated"
                    ),
                ],
                {"tTalkComplete": 300000, "tAcw": 60000},
            ),
            userId="ann",
            teamId="care",
        ),
        party(
            "acd",
            session("voice", [seg("10:06:00", "10:08:00", "interact", queueId="tech")]),
            participantName="tech",
        ),
        party(
            "agent",
            session(
                "voice",
                [
                    seg("10:08:00", "10:12:00", "interact", queueId="tech"),
                    seg("10:12:00", "10:13:30", "hold", queueId="tech"),
                    seg("10:13:30", "10:20:00", "interact", queueId="tech"),
                    seg("10:20:00", "10:22:00", "wrapup", queueId="tech", wrapUpCode="resolved"),
                ],
                {"tTalkComplete": 630000, "tHeldComplete": 90000, "tAcw": 120000},
            ),
            userId="bob",
            teamId="tech_experts",
        ),
    ),
    # An agent calls a customer: the remote party is "external", its number the dnis.
    conversation(
        "outbound",
        "11:00:00",
        "11:05:00",
        "outbound",
        party(
            "external",
            session("voice", [seg("11:00:10", "11:05:00", "interact")], dnis="+44222"),
        ),
        party(
            "agent",
            session(
                "voice",
                [
                    seg("11:00:00", "11:00:10", "dialing", queueId="sales"),
                    seg("11:00:10", "11:05:00", "interact", queueId="sales"),
                ],
                {"tTalkComplete": 290000},
            ),
            userId="cy",
        ),
    ),
    # A chat abandoned in the queue after 90 s.
    conversation(
        "abandoned",
        "12:00:00",
        "12:01:30",
        "inbound",
        party(
            "customer",
            session("chat", [seg("12:00:00", "12:01:30", "interact")], addressFrom="a@b.example"),
        ),
        party(
            "acd",
            session(
                "chat",
                [seg("12:00:00", "12:01:30", "interact", queueId="general", disconnectType="peer")],
                {"tAbandon": 90000},
            ),
        ),
    ),
    # A Facebook message answered by an agent.
    conversation(
        "social",
        "13:00:00",
        "13:30:00",
        "inbound",
        party(
            "customer",
            session("message", [seg("13:00:00", "13:30:00", "interact")], messageType="facebook"),
        ),
        party(
            "acd", session("message", [seg("13:00:00", "13:10:00", "interact", queueId="general")])
        ),
        party(
            "agent",
            session(
                "message",
                [seg("13:10:00", "13:30:00", "interact", queueId="general")],
                {"tTalkComplete": 200000},
            ),
            userId="dee",
        ),
    ),
    # A callback: no contract channel for it, quarantined on its own.
    conversation(
        "callback",
        "14:00:00",
        "14:05:00",
        "inbound",
        party("customer", session("callback", [seg("14:00:00", "14:05:00", "interact")])),
    ),
    # Still in progress when the job ran: no conversationEnd, and its agent session has no
    # talk metric yet. Skipped as not_yet_complete, not quarantined as a broken record.
    {
        "conversationId": "ongoing",
        "conversationStart": t("15:00:00"),
        "originatingDirection": "inbound",
        "participants": [
            party("customer", session("voice", [seg("15:00:00", "15:01:00", "interact")])),
            party("agent", session("voice", [seg("15:00:10", "15:01:00", "interact")])),
        ],
    },
]


@pytest.fixture(scope="module")
def mapped(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("land")
    folder = root / "genesys" / DAY.isoformat()
    folder.mkdir(parents=True)
    # Two result pages of one job, one page object per line.
    pages = [
        {"conversations": CONVERSATIONS[:2], "cursor": "abc"},
        {"conversations": CONVERSATIONS[2:]},
    ]
    (folder / "job-1.json").write_text("\n".join(json.dumps(p) for p in pages) + "\n")
    m = compile_mapping(SHIPPED_DIR / "genesys_conversations.toml", "Europe/London")
    return map_day(root, m, DAY)


def test_a_transfer_inside_one_conversation_is_one_row(mapped) -> None:
    row = {r["interaction_id"]: r for r in mapped.typed.to_pylist()}["transfer"]
    assert (row["channel"], row["direction"], row["customer_phone"]) == (
        "phone",
        "inbound",
        "+44111",
    )
    assert row["queued_at"] == utc("10:00:30")  # the first queue entry, after the IVR
    assert row["answered_at"] == utc("10:01:00")  # the first agent
    assert row["ended_at"] == utc("10:20:00")
    # Summed over both agents; the last agent, team and wrap-up code; the first queue.
    assert (row["talk_seconds"], row["hold_seconds"], row["acw_seconds"]) == (930, 90, 180)
    assert (row["agent_id"], row["team"], row["disposition"]) == ("bob", "tech_experts", "resolved")
    assert row["queue"] == "billing" and row["abandoned"] is False
    assert row["updated_at"] == utc("10:22:00")  # the end of the last wrap-up
    assert row["parent_interaction_id"] is None


def test_outbound_abandoned_and_social_conversations(mapped) -> None:
    rows = {r["interaction_id"]: r for r in mapped.typed.to_pylist()}
    out = rows["outbound"]
    assert (out["direction"], out["customer_phone"], out["queue"]) == (
        "outbound",
        "+44222",
        "sales",
    )
    assert out["queued_at"] == utc("11:00:00")  # never queued: from the conversation start
    assert out["answered_at"] == utc("11:00:10") and out["hold_seconds"] == 0
    gone = rows["abandoned"]
    assert (gone["channel"], gone["abandoned"], gone["customer_email"]) == (
        "chat",
        True,
        "a@b.example",
    )
    assert gone["agent_id"] is None and gone["answered_at"] is None and gone["talk_seconds"] is None
    assert gone["hold_seconds"] is None  # not a voice call: no hold measured, not 0
    social = rows["social"]
    assert (social["channel"], social["agent_id"], social["talk_seconds"]) == ("social", "dee", 200)


def test_a_callback_is_quarantined_with_its_own_record(mapped) -> None:
    rejects = {r["record_key"]: r for r in mapped.rejects.to_pylist()}
    reject = rejects["callback"]
    assert reject["reason_code"] == "unknown_value"
    assert "mediaType" in reject["message"] and "'callback' has no mapping" in reject["message"]
    assert reject["source_line"] == 2 and reject["message"].startswith("record $.conversations[2]")
    assert json.loads(reject["raw_record"])["conversationId"] == "callback"
    (count,) = mapped.files
    assert (count.rows_read, count.rows_quarantined) == (6, 2)


def test_a_conversation_still_in_progress_is_skipped_and_counted(mapped) -> None:
    assert "ongoing" not in {r["interaction_id"] for r in mapped.typed.to_pylist()}
    reject = {r["record_key"]: r for r in mapped.rejects.to_pylist()}["ongoing"]
    # Its own reason alone: not missing_required (ended_at), not bad_type.
    assert reject["reason_code"] == "not_yet_complete"
    assert reject["message"] == (
        "record $.conversations[3]: not_yet_complete: the conversation had not ended when "
        "the job ran (no conversationEnd)"
    )
    assert json.loads(reject["raw_record"])["conversationId"] == "ongoing"
    (count,) = mapped.files
    assert count.rows_read == mapped.typed.num_rows + mapped.rejects.num_rows
