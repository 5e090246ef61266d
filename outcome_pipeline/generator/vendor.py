"""Vendor export formats: the generated native feeds rewritten as a vendor would deliver them.

The simulation writes the native contracts; a vendor format is a rewrite of those files
(same contacts, same deliveries, redeliveries and late files, one vendor file per native
file), so that the same seed can be staged through the vendors' source mappings and through
the native reader and the two compared. Columns a vendor's export cannot carry are left out,
and rows the vendor cannot express (a channel it does not have) are not written.

Formats are chosen per feed (``crm=salesforce``, ``surveys=qualtrics``) and, for the
interactions, per channel: ``interactions=amazon-connect`` sends every channel Connect has to
Connect; ``interactions:email,chat=zendesk`` sends email and chat to Zendesk. A channel named
explicitly wins over the feed-wide choice; channels left to no vendor stay native files.

Each vendor is one :class:`VendorFormat` in :data:`VENDORS`; adding one is adding its entry
there, its writer and its mapping.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.contracts.feeds import CHANNELS, FEEDS, TableContract
from outcome_pipeline.generator.writers import write_csv, write_jsonl, write_parquet
from outcome_pipeline.ingest.conform import conform
from outcome_pipeline.ingest.landing import LandingFile, list_day_files
from outcome_pipeline.ingest.readers import read_raw

NATIVE = "native"

# ---------------------------------------------------------------------------------------------
# Amazon Connect contact records (the shipped amazon_connect_ctr mapping).
CONNECT_FEED = "amazon_connect"
CONNECT_CHANNELS = {"phone": "VOICE", "chat": "CHAT", "email": "EMAIL"}
# Contract columns the contact record carries (the others are contact attributes a center
# names itself, or not in the record at all).
CONNECT_CARRIES = (
    "interaction_id",
    "parent_interaction_id",
    "channel",
    "direction",
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
    "updated_at",
)

_ISO = "strftime({c}, '%Y-%m-%dT%H:%M:%S.%fZ')"
_CTR_SQL = f"""
SELECT interaction_id AS ContactId, parent_interaction_id AS PreviousContactId,
  CASE channel WHEN 'phone' THEN 'VOICE' WHEN 'chat' THEN 'CHAT' ELSE 'EMAIL' END AS Channel,
  CASE direction WHEN 'outbound' THEN 'OUTBOUND'
    ELSE CASE WHEN parent_interaction_id IS NULL THEN 'INBOUND' ELSE 'TRANSFER' END
  END AS InitiationMethod,
  {_ISO.format(c="queued_at")} AS InitiationTimestamp,
  {_ISO.format(c="ended_at")} AS DisconnectTimestamp,
  {_ISO.format(c="updated_at")} AS LastUpdateTimestamp,
  CASE WHEN customer_phone IS NULL THEN NULL
    ELSE {{'Address': customer_phone, 'Type': 'TELEPHONE_NUMBER'}} END AS CustomerEndpoint,
  {{'Name': queue, 'EnqueueTimestamp': {_ISO.format(c="queued_at")}}} AS Queue,
  CASE WHEN answered_at IS NULL THEN NULL ELSE {{'Username': agent_id,
    'ConnectedToAgentTimestamp': {_ISO.format(c="answered_at")},
    'AgentInteractionDuration': talk_seconds, 'CustomerHoldDuration': hold_seconds,
    'AfterContactWorkDuration': acw_seconds,
    'HierarchyGroups': {{'Level1': {{'GroupName': team}}}}}} END AS Agent
FROM rows ORDER BY __order
"""

# ---------------------------------------------------------------------------------------------
# Zendesk Support tickets as Fivetran lands the TICKET table (zendesk_ticket_contacts mapping):
# one ticket per email or chat contact. Header exactly as the dbt_zendesk_source
# integration-test seed ticket_data.csv.
ZENDESK_CONTACTS_FEED = "zendesk_contacts"
ZENDESK_TICKET_COLUMNS = [
    "id",
    "_fivetran_synced",
    "allow_channelback",
    "assignee_id",
    "brand_id",
    "created_at",
    "description",
    "due_at",
    "external_id",
    "forum_topic_id",
    "group_id",
    "has_incidents",
    "is_public",
    "organization_id",
    "priority",
    "problem_id",
    "recipient",
    "requester_id",
    "status",
    "subject",
    "submitter_id",
    "system_client",
    "ticket_form_id",
    "type",
    "updated_at",
    "url",
    "via_channel",
    "via_source_from_id",
    "via_source_from_title",
    "via_source_rel",
    "via_source_to_address",
    "via_source_to_name",
    "merged_ticket_ids",
    "via_source_from_address",
    "followup_ids",
    "via_followup_source_id",
]
ZENDESK_CHANNELS = {"email": "email", "chat": "chat"}
ZENDESK_CARRIES = (
    "interaction_id",
    "channel",
    "direction",
    "customer_email",  # email tickets only: the sender's address (via.source.from.address)
    "agent_id",
    "queued_at",
    "abandoned",
    "updated_at",
)
_FIVETRAN_TS = "strftime({c}, '%Y-%m-%d %H:%M:%S')"
_ZENDESK_VALUES = {
    "id": "interaction_id",
    "_fivetran_synced": _FIVETRAN_TS.format(c="updated_at"),
    "allow_channelback": "'false'",
    "assignee_id": "agent_id",
    "created_at": _FIVETRAN_TS.format(c="queued_at"),
    "has_incidents": "'false'",
    "is_public": "'true'",
    # A contact no agent took is closed by automation; an answered one is solved.
    "status": "CASE WHEN abandoned THEN 'closed' ELSE 'solved' END",
    "updated_at": _FIVETRAN_TS.format(c="updated_at"),
    "via_channel": "channel",
    "merged_ticket_ids": "'[]'",
    "via_source_from_address": "CASE WHEN channel = 'email' THEN customer_email END",
}
_ZENDESK_SQL = (
    "SELECT "
    + ", ".join(
        f"{_ZENDESK_VALUES.get(c, 'CAST(NULL AS VARCHAR)')} AS {c}" for c in ZENDESK_TICKET_COLUMNS
    )
    + " FROM rows ORDER BY __order"
)

# ---------------------------------------------------------------------------------------------
# Salesforce Data Loader CSV exports (salesforce_cases, salesforce_contacts mappings).
SALESFORCE_FEED = "salesforce"
_SF_TS = "strftime({c}, '%Y-%m-%dT%H:%M:%S.000Z')"
# Contract status -> (Status picklist value, IsClosed). Salesforce has one closed state per
# org picklist entry; solved and closed both are "Closed".
_CASE_STATUS = {
    "open": "New",
    "pending": "On Hold",
    "solved": "Closed",
    "closed": "Closed",
}
_CASE_SQL = f"""
SELECT case_id AS Id, customer_id AS AccountId,
  CASE status {" ".join(f"WHEN '{k}' THEN '{v}'" for k, v in _CASE_STATUS.items())} END AS Status,
  CASE WHEN status IN ('solved', 'closed') THEN 'true' ELSE 'false' END AS IsClosed,
  reason AS Reason, {_SF_TS.format(c="opened_at")} AS CreatedDate,
  {_SF_TS.format(c="closed_at")} AS ClosedDate,
  {_SF_TS.format(c="updated_at")} AS LastModifiedDate
FROM rows ORDER BY __order
"""
SALESFORCE_CASE_CARRIES = (
    "case_id",
    "customer_id",
    "opened_at",
    "closed_at",
    "reason",
    "updated_at",
)
# One contact per account (the customer's primary contact): its Id is derived from the account.
_CONTACT_SQL = f"""
SELECT 'contact-' || customer_id AS Id, customer_id AS AccountId, email AS Email,
  phone AS Phone, region AS MailingState, {_SF_TS.format(c="created_at")} AS CreatedDate,
  {_SF_TS.format(c="updated_at")} AS LastModifiedDate
FROM rows ORDER BY __order
"""
SALESFORCE_CONTACT_CARRIES = (
    "customer_id",
    "email",
    "phone",
    "region",
    "created_at",
    "updated_at",
)

# ---------------------------------------------------------------------------------------------
# Qualtrics survey response CSV exports, one survey (file) per survey type (qualtrics_csat,
# qualtrics_nps, qualtrics_ces mappings). Times in the account's zone, as the export writes.
QUALTRICS_FEED = "qualtrics"
QUALTRICS_TIMEZONE = "America/Denver"
QUALTRICS_FIELDS = [
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
    "Q1",
    "Q2",
    "Q3",
]
_QUALTRICS_Q1 = {
    "csat": "How satisfied were you with the help you got?",
    "nps": "How likely are you to recommend us to a friend or colleague?",
    "ces": "How easy was it to get your issue handled?",
}
_QUALTRICS_QUESTIONS = {
    "Q2": "Was your issue resolved?",
    "Q3": "Anything else you would like to tell us?",
}
_Q_TS = f"strftime(timezone('{QUALTRICS_TIMEZONE}', {{c}}), '%Y-%m-%d %H:%M:%S')"
_QUALTRICS_SQL = f"""
SELECT {_Q_TS.format(c="sent_at")} AS StartDate, {_Q_TS.format(c="responded_at")} AS EndDate,
  '0' AS Status, NULL AS IPAddress, '100' AS Progress,
  CAST(epoch(responded_at) - epoch(sent_at) AS BIGINT) AS "Duration (in seconds)",
  '1' AS Finished, {_Q_TS.format(c="updated_at")} AS RecordedDate, response_id AS ResponseId,
  NULL AS RecipientLastName, NULL AS RecipientFirstName, customer_email AS RecipientEmail,
  interaction_id AS ExternalReference, NULL AS LocationLatitude, NULL AS LocationLongitude,
  'email' AS DistributionChannel, 'EN' AS UserLanguage, score AS Q1,
  CASE resolved_self_reported WHEN TRUE THEN '1' WHEN FALSE THEN '2' END AS Q2,
  comment AS Q3
FROM rows WHERE survey_type = ? ORDER BY __order
"""
QUALTRICS_CARRIES = (
    "response_id",
    "survey_type",
    "score",
    "interaction_id",
    "customer_email",
    "sent_at",
    "responded_at",
    "resolved_self_reported",
    "comment",
    "updated_at",
)


# ---------------------------------------------------------------------------------------------
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


def _write_genesys(con: duckdb.DuckDBPyConnection, folder: Path, stem: str) -> list[Path]:
    """One results page object per line, pages streamed in batches (bounded memory)."""
    path = folder / f"details-{stem}.json"
    cur = con.execute(f"SELECT {_G_NO_NULLS} FROM ({_GENESYS_SQL})")
    with path.open("w", encoding="utf-8") as out:
        while batch := cur.fetchmany(64):
            out.writelines(page + "\n" for (page,) in batch)
    return [path]


# ---------------------------------------------------------------------------------------------
Writer = Callable[[duckdb.DuckDBPyConnection, Path, str], list[Path]]


@dataclass(frozen=True)
class VendorFormat:
    """One vendor export of one contract table.

    ``write(con, folder, stem)`` writes the rows registered as ``rows`` (contract columns +
    ``__order``) into the day ``folder`` as the vendor files of native file ``stem``, and
    returns the files written. ``channels``: the interaction channels the vendor has (None for
    tables without channels). ``carries``: the contract columns that survive the round trip
    through the vendor's mapping.
    """

    name: str
    title: str
    table: str
    feed: str
    mappings: tuple[str, ...]
    carries: tuple[str, ...]
    write: Writer
    channels: tuple[str, ...] | None = None


def _copy(sql: str, target: Path, options: str, params: list | None = None) -> Writer:
    def write(con: duckdb.DuckDBPyConnection, folder: Path, stem: str) -> list[Path]:
        path = folder / target.name.format(stem=stem)
        con.execute(f"COPY ({sql}) TO '{path}' ({options})", params or [])
        return [path]

    return write


def _write_qualtrics(con: duckdb.DuckDBPyConnection, folder: Path, stem: str) -> list[Path]:
    """One export per survey: the field names, the question texts, the import ids, answers."""
    written = []
    for kind in ("csat", "nps", "ces"):
        ((count,),) = con.execute(
            "SELECT count(*) FROM rows WHERE survey_type = ?", [kind]
        ).fetchall()
        if not count:
            continue
        path = folder / f"{stem}-{kind.upper()}.csv"
        con.execute(f"COPY ({_QUALTRICS_SQL}) TO '{path}' (FORMAT csv, HEADER)", [kind])
        header, _, body = path.read_text(encoding="utf-8").partition("\n")
        questions = {**_QUALTRICS_QUESTIONS, "Q1": _QUALTRICS_Q1[kind]}
        texts = ",".join('"' + questions.get(f, f) + '"' for f in QUALTRICS_FIELDS)
        ids = ",".join(
            '"{""ImportId"":""' + f + '"",""timeZone"":""' + QUALTRICS_TIMEZONE + '""}"'
            for f in QUALTRICS_FIELDS
        )
        path.write_text("\n".join([header, texts, ids, body]), encoding="utf-8")
        written.append(path)
    return written


VENDORS: dict[str, dict[str, VendorFormat]] = {
    "interactions": {
        "amazon-connect": VendorFormat(
            "amazon-connect",
            "Amazon Connect contact records",
            "interactions",
            CONNECT_FEED,
            ("amazon_connect_ctr",),
            CONNECT_CARRIES,
            _copy(_CTR_SQL, Path("ctr-{stem}"), "FORMAT json"),
            tuple(CONNECT_CHANNELS),
        ),
        "genesys": VendorFormat(
            "genesys",
            "Genesys Cloud conversation details (analytics job pages)",
            "interactions",
            GENESYS_FEED,
            ("genesys_conversations",),
            GENESYS_CARRIES,
            _write_genesys,
            tuple(GENESYS_CHANNELS),
        ),
        "zendesk": VendorFormat(
            "zendesk",
            "Zendesk tickets (Fivetran TICKET table)",
            "interactions",
            ZENDESK_CONTACTS_FEED,
            ("zendesk_ticket_contacts",),
            ZENDESK_CARRIES,
            _copy(_ZENDESK_SQL, Path("ticket-{stem}.csv"), "FORMAT csv, HEADER"),
            tuple(ZENDESK_CHANNELS),
        ),
    },
    "cases": {
        "salesforce": VendorFormat(
            "salesforce",
            "Salesforce Case (Data Loader CSV)",
            "cases",
            SALESFORCE_FEED,
            ("salesforce_cases",),
            SALESFORCE_CASE_CARRIES,
            _copy(_CASE_SQL, Path("Case-{stem}.csv"), "FORMAT csv, HEADER"),
        ),
    },
    "customers": {
        "salesforce": VendorFormat(
            "salesforce",
            "Salesforce Contact (Data Loader CSV)",
            "customers",
            SALESFORCE_FEED,
            ("salesforce_contacts",),
            SALESFORCE_CONTACT_CARRIES,
            _copy(_CONTACT_SQL, Path("Contact-{stem}.csv"), "FORMAT csv, HEADER"),
        ),
    },
    "survey_responses": {
        "qualtrics": VendorFormat(
            "qualtrics",
            "Qualtrics response exports (CSV)",
            "survey_responses",
            QUALTRICS_FEED,
            ("qualtrics_csat", "qualtrics_nps", "qualtrics_ces"),
            QUALTRICS_CARRIES,
            _write_qualtrics,
        ),
    },
}


def feed_formats() -> dict[str, tuple[str, ...]]:
    """``--format`` targets: each native feed and the vendor formats of its tables."""
    out: dict[str, tuple[str, ...]] = {}
    for feed, tables in FEEDS.items():
        names = [n for t in tables for n in VENDORS.get(t, {})]
        out[feed] = (NATIVE, *dict.fromkeys(names))
    return out


# Kept for callers of the first version: the interactions feed's formats.
FORMATS = feed_formats()


@dataclass(frozen=True)
class Formats:
    """What ``--format`` chose: a format per feed, and per interaction channel."""

    feeds: dict[str, str] = field(default_factory=dict)
    channels: dict[str, str] = field(default_factory=dict)

    def get(self, feed: str, default: str | None = None) -> str | None:
        return self.feeds.get(feed, default)

    def values(self) -> list[str]:
        return [*self.feeds.values(), *self.channels.values()]

    def channel_format(self, channel: str) -> str:
        return self.channels.get(channel, self.feeds.get("interactions", NATIVE))


def parse_formats(values: list[str]) -> Formats:
    """``["interactions=amazon-connect", "interactions:email,chat=zendesk", "crm=salesforce"]``.

    ``FEED=FORMAT`` writes the whole feed in ``FORMAT`` (interaction channels the vendor does
    not have are left out); ``interactions:CH1,CH2=FORMAT`` sends only those channels there
    (a channel named this way wins over the feed-wide choice; channels no vendor takes stay
    native). Raises ValueError with what is available.
    """
    known = feed_formats()
    feeds: dict[str, str] = {}
    channels: dict[str, str] = {}

    def fail(value: str, why: str) -> ValueError:
        listing = "; ".join(f"{f}={'|'.join(v)}" for f, v in known.items())
        return ValueError(
            f"unknown --format {value!r}{why}; available: {listing}; interaction channels "
            f"can be split: interactions:email,chat=zendesk"
        )

    for value in values:
        target, _, fmt = value.partition("=")
        feed, _, channel_list = target.partition(":")
        if feed not in known or fmt not in known[feed]:
            raise fail(value, "")
        if not channel_list:
            feeds[feed] = fmt
            continue
        if feed != "interactions":
            raise fail(value, " (only the interactions feed is split by channel)")
        for channel in channel_list.split(","):
            if channel not in CHANNELS:
                raise fail(value, f" (no channel {channel!r}; channels: {', '.join(CHANNELS)})")
            vendor = VENDORS["interactions"].get(fmt)
            if vendor is not None and channel not in (vendor.channels or ()):
                has = ", ".join(vendor.channels or ())
                raise fail(value, f" ({fmt} has no {channel} channel; it has {has})")
            channels[channel] = fmt
    return Formats(feeds, channels)


@dataclass
class VendorRewrite:
    files_written: list[str] = field(default_factory=list)
    rows_written: int = 0
    rows_not_expressible: int = 0  # rows of a channel the vendor does not have
    rows_kept_native: int = 0


def _write_native(rows: pa.Table, lf: LandingFile, contract: TableContract) -> None:
    if lf.fmt == "csv":
        write_csv(rows, lf.path, contract)
    elif lf.fmt == "jsonl":
        write_jsonl(rows, lf.path, contract)
    else:
        write_parquet(rows, lf.path, contract)


def rewrite_table(
    root: Path,
    days: list,
    contract: TableContract,
    timezone: str,
    route: Callable[[pa.Table], pa.Array],
) -> dict[str, VendorRewrite]:
    """Rewrite ``contract``'s native files of ``days`` by ``route`` (typed rows → the format
    name of each row; null: the row cannot be expressed and is left out).

    Rows routed to ``native`` stay in their native file (rewritten with only them); the file
    goes when none do. Returns what was written per format.
    """
    done: dict[str, VendorRewrite] = {}
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone = 'UTC'")
        for day in days:
            for lf in list_day_files(root, contract, day):
                typed = conform(read_raw(lf.path, contract, lf.fmt).table, contract, timezone)
                rows = typed.table.select(contract.column_names)
                rows = rows.append_column("__order", pa.array(range(rows.num_rows), pa.int64()))
                formats = route(rows)
                kept = 0
                for fmt in pc.unique(formats.drop_null()).to_pylist():
                    part = rows.filter(pc.equal(formats, fmt))
                    out = done.setdefault(fmt, VendorRewrite())
                    out.rows_written += part.num_rows
                    if fmt == NATIVE:
                        kept = part.num_rows
                        out.rows_kept_native += kept
                        continue
                    vendor = VENDORS[contract.name][fmt]
                    folder = root / vendor.feed / day.isoformat()
                    folder.mkdir(parents=True, exist_ok=True)
                    con.register("rows", part)
                    for path in vendor.write(con, folder, Path(lf.relative).stem):
                        out.files_written.append(path.relative_to(root).as_posix())
                    con.unregister("rows")
                lost = formats.null_count
                if lost:
                    done.setdefault("", VendorRewrite()).rows_not_expressible += lost
                if kept == 0:
                    lf.path.unlink()
                elif kept < rows.num_rows:
                    native = rows.filter(pc.equal(formats, NATIVE)).drop_columns(["__order"])
                    _write_native(native, lf, contract)
    finally:
        con.close()
    native_dir = root / contract.feed
    if native_dir.is_dir() and not any(p.is_file() for p in native_dir.rglob("*")):
        shutil.rmtree(native_dir)
    return done


def _interaction_route(formats: Formats) -> Callable[[pa.Table], pa.Array]:
    by_channel: dict[str, str | None] = {}
    for channel in CHANNELS:
        fmt = formats.channel_format(channel)
        vendor = VENDORS["interactions"].get(fmt)
        # A feed-wide vendor without the channel: the rows are left out (not expressible).
        ok = fmt == NATIVE or (vendor is not None and channel in (vendor.channels or ()))
        by_channel[channel] = fmt if ok else None
    keys = pa.array(list(by_channel))
    values = pa.array(list(by_channel.values()), pa.string())

    def route(rows: pa.Table) -> pa.Array:
        chosen = values.take(pc.index_in(rows["channel"], keys))
        if formats.channel_format("email") == "zendesk":
            # Zendesk has no outbound ticket from a contact: an agent's outbound email is not
            # a ticket the TICKET table tells apart. Leave those out.
            outbound = pc.and_(pc.equal(rows["direction"], "outbound"), pc.equal(chosen, "zendesk"))
            chosen = pc.if_else(outbound, pa.scalar(None, pa.string()), chosen)
        return chosen

    return route


def _whole(fmt: str) -> Callable[[pa.Table], pa.Array]:
    return lambda rows: pa.array([fmt] * rows.num_rows, pa.string())


def rewrite_interactions_as_connect(root: Path, days: list, timezone: str) -> VendorRewrite:
    """Replace the native interactions feed under ``root`` by Connect contact records."""
    done = rewrite_table(
        root,
        days,
        CONTRACTS["interactions"],
        timezone,
        _interaction_route(Formats({"interactions": "amazon-connect"})),
    )
    out = done.get("amazon-connect", VendorRewrite())
    out.rows_not_expressible = done.get("", VendorRewrite()).rows_not_expressible
    return out


def apply_formats(
    root: Path, days: list, formats: Formats | dict[str, str], timezone: str
) -> list[str]:
    """Rewrite the generated feeds into the requested vendor formats; say what was done."""
    if not isinstance(formats, Formats):
        formats = Formats(dict(formats))
    notes = []
    plans: list[tuple[str, Callable[[pa.Table], pa.Array]]] = []
    if any(f != NATIVE for f in [formats.get("interactions", NATIVE), *formats.channels.values()]):
        plans.append(("interactions", _interaction_route(formats)))
    for feed, tables in FEEDS.items():
        fmt = formats.get(feed, NATIVE)
        if feed == "interactions" or fmt == NATIVE:
            continue
        # Tables of the feed the vendor has no export for stay native (Salesforce has no
        # standard subscription object).
        plans += [(t, _whole(fmt)) for t in tables if fmt in VENDORS.get(t, {})]
    for table, route in plans:
        done = rewrite_table(root, days, CONTRACTS[table], timezone, route)
        for fmt, part in sorted(done.items()):
            if fmt in ("", NATIVE):
                continue
            vendor = VENDORS[table][fmt]
            notes.append(
                f"{table} written as {vendor.title} (mappings {', '.join(vendor.mappings)}): "
                f"{part.rows_written} rows in {len(part.files_written)} files under "
                f"{root / vendor.feed}"
            )
        if NATIVE in done:
            notes.append(f"{table}: {done[NATIVE].rows_kept_native} rows kept as native files")
        if "" in done:
            notes.append(
                f"{table}: {done[''].rows_not_expressible} rows left out (a channel or direction "
                f"the chosen vendor does not have)"
            )
    return notes
