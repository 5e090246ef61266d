"""Genesys Cloud conversation details: the vendor export of the interactions."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Genesys Cloud analytics conversation details job results (genesys_conversations mapping):
# each native leg is one conversation (customer, an IVR on inbound calls, the queue (acd) it
# waited in, the agent who answered), pages of GENESYS_PAGE conversations, one page object
# per line as a job's result pages are saved one after another.
GENESYS_FEED = "genesys"
GENESYS_PAGE = 1000
# Contract channel -> (session mediaType, messageType).
GENESYS_CHANNELS = {
    "phone": ("voice", None),
    "chat": ("chat", None),
    "email": ("email", None),
    "messaging": ("message", "sms"),
    "social": ("message", "facebook"),
}
# Seconds an inbound call spends in the IVR before it queues (the conversation starts there).
GENESYS_IVR_SECONDS = 20
GENESYS_CARRIES = (
    "interaction_id",
    "channel",
    "direction",
    "customer_email",
    "customer_phone",
    "queue",
    "team",
    "agent_id",
    "queued_at",
    "answered_at",
    "ended_at",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "abandoned",
    "disposition",
    "updated_at",  # coarsened: the end of the last segment (see docs/sources/genesys.md)
)

_G_ISO = "strftime({c}, '%Y-%m-%dT%H:%M:%S.%gZ')"
_NULL = "CAST(NULL AS VARCHAR)"


def _g_struct(**fields: str) -> str:
    return "{" + ", ".join(f"'{k}': {v}" for k, v in fields.items()) + "}"


def _g_segment(start: str, end: str, kind: str, queue: str = _NULL, **more: str) -> str:
    return _g_struct(
        segmentStart=_G_ISO.format(c=start),
        segmentEnd=_G_ISO.format(c=end),
        segmentType=f"'{kind}'",
        queueId=queue,
        disconnectType=more.get("disconnect", _NULL),
        wrapUpCode=more.get("wrapup", _NULL),
    )


def _g_metric(name: str, ms: str) -> str:
    return _g_struct(name=f"'{name}'", value=f"CAST({ms} AS BIGINT)")


def _g_some(*items: tuple[str, str]) -> str:
    """A list of the items whose condition holds (SQL), in order."""
    listed = ", ".join(f"CASE WHEN {cond} THEN {item} END" for cond, item in items)
    return f"list_filter([{listed}], lambda x: x IS NOT NULL)"


def _g_participant(pid: str, purpose: str, segments: str, metrics: str, **more: str) -> str:
    session = _g_struct(
        sessionId=f"interaction_id || '-{pid}-s'",
        mediaType="media_type",
        messageType="message_type",
        direction="direction",
        ani=more.get("ani", _NULL),
        dnis=more.get("dnis", _NULL),
        addressFrom=more.get("address_from", _NULL),
        addressTo=more.get("address_to", _NULL),
        segments=segments,
        metrics=metrics,
    )
    return _g_struct(
        participantId=f"interaction_id || '-{pid}'",
        participantName=more.get("name", _NULL),
        purpose=purpose,
        userId=more.get("user", _NULL),
        teamId=more.get("team", _NULL),
        sessions=f"[{session}]",
    )


_G_INBOUND = "direction = 'inbound'"
_G_SPLIT = "(answered_at + to_seconds((epoch(ended_at) - epoch(answered_at) - h) // 2))"
_G_PARTICIPANTS = _g_some(
    (
        "TRUE",
        _g_participant(
            "c",
            f"CASE WHEN {_G_INBOUND} THEN 'customer' ELSE 'external' END",
            f"[{_g_segment('conv_start', 'ended_at', 'interact')}]",
            "[]",
            ani=f"CASE WHEN {_G_INBOUND} THEN customer_phone END",
            dnis=f"CASE WHEN NOT {_G_INBOUND} THEN customer_phone END",
            address_from=f"CASE WHEN {_G_INBOUND} THEN customer_email END",
            address_to=f"CASE WHEN NOT {_G_INBOUND} THEN customer_email END",
        ),
    ),
    (
        "conv_start < queued_at",
        _g_participant(
            "i", "'ivr'", f"[{_g_segment('conv_start', 'queued_at', 'ivr')}]", "[]", name="'IVR'"
        ),
    ),
    (
        _G_INBOUND,
        _g_participant(
            "q",
            "'acd'",
            "["
            + _g_segment(
                "queued_at",
                "coalesce(answered_at, ended_at)",
                "interact",
                "queue",
                disconnect="CASE WHEN abandoned THEN 'peer' ELSE 'transfer' END",
            )
            + "]",
            _g_some(
                (
                    "abandoned",
                    _g_metric("tAbandon", "(epoch_ms(ended_at) - epoch_ms(queued_at))"),
                ),
                (
                    "answered_at IS NOT NULL",
                    _g_metric("tAcd", "(epoch_ms(answered_at) - epoch_ms(queued_at))"),
                ),
            ),
            name="queue",
        ),
    ),
    (
        "answered_at IS NOT NULL",
        _g_participant(
            "a",
            "'agent'",
            _g_some(
                (
                    f"NOT {_G_INBOUND} AND media_type = 'voice'",
                    _g_segment("queued_at", "answered_at", "dialing", "queue"),
                ),
                ("TRUE", _g_segment("answered_at", _G_SPLIT, "interact", "queue")),
                ("h > 0", _g_segment(_G_SPLIT, f"{_G_SPLIT} + to_seconds(h)", "hold", "queue")),
                (
                    "h > 0",
                    _g_segment(f"{_G_SPLIT} + to_seconds(h)", "ended_at", "interact", "queue"),
                ),
                (
                    "acw_seconds IS NOT NULL",
                    _g_segment(
                        "ended_at",
                        "ended_at + to_seconds(acw_seconds)",
                        "wrapup",
                        "queue",
                        wrapup="disposition",
                    ),
                ),
            ),
            _g_some(
                ("talk_seconds IS NOT NULL", _g_metric("tTalkComplete", "talk_seconds * 1000")),
                ("h > 0", _g_metric("tHeldComplete", "h * 1000")),
                ("acw_seconds IS NOT NULL", _g_metric("tAcw", "acw_seconds * 1000")),
            ),
            user="agent_id",
            team="team",
        ),
    ),
)
_GENESYS_SQL = f"""
WITH legs AS (
  SELECT *, coalesce(hold_seconds, 0) AS h,
    CASE WHEN direction = 'inbound' AND channel = 'phone'
      THEN queued_at - to_seconds({GENESYS_IVR_SECONDS}) ELSE queued_at END AS conv_start,
    CASE channel {" ".join(f"WHEN '{k}' THEN '{m}'" for k, (m, _) in GENESYS_CHANNELS.items())}
      END AS media_type,
    CASE channel {" ".join(f"WHEN '{k}' THEN '{t}'" for k, (_, t) in GENESYS_CHANNELS.items() if t)}
      END AS message_type
  FROM rows
), conversations AS (
  SELECT __order, {
    _g_struct(
        conversationId="interaction_id",
        conversationStart=_G_ISO.format(c="conv_start"),
        conversationEnd=_G_ISO.format(c="ended_at"),
        originatingDirection="direction",
        participants=_G_PARTICIPANTS,
    )
} AS c
  FROM legs
)
SELECT {_g_struct(conversations="list(c ORDER BY __order)")}::JSON::VARCHAR AS page
FROM conversations GROUP BY __order // {GENESYS_PAGE} ORDER BY __order // {GENESYS_PAGE}
"""
# The API leaves out fields it has no value for; DuckDB writes them as null. Keys are plain
# names and no value holds the text `"key":null`, so the nulls are cut from the JSON text.
_G_NO_NULLS = (
    "regexp_replace(regexp_replace(page, ',\"[A-Za-z]+\":null', '', 'g'), "
    "'\"[A-Za-z]+\":null,?', '', 'g')"
)


def write_genesys(con: duckdb.DuckDBPyConnection, folder: Path, stem: str) -> list[Path]:
    """One results page object per line, pages streamed in batches (bounded memory)."""
    path = folder / f"details-{stem}.json"
    cur = con.execute(f"SELECT {_G_NO_NULLS} FROM ({_GENESYS_SQL})")
    with path.open("w", encoding="utf-8") as out:
        while batch := cur.fetchmany(64):
            out.writelines(page + "\n" for (page,) in batch)
    return [path]
