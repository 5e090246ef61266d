"""Feed contracts: the pipeline's own language for the three landing feeds.

One :class:`TableContract` per feed table says which files carry it, its columns with their
Arrow types, which columns are required, its natural key and its partition column. The
generator writes these contracts, the readers read with them, the warehouse DDL and the data
dictionary are generated from them: a column is defined once, here.

Landing layout::

    <landing root>/<feed>/<YYYY-MM-DD>/<table>[_<anything>].{csv,jsonl,parquet}

``<YYYY-MM-DD>`` is the business day (in the business timezone) the file was delivered for;
it is the Dagster partition the file's rows are staged under.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

CHANNELS = ("phone", "email", "chat", "social", "messaging", "web")
DIRECTIONS = ("inbound", "outbound")
DISPOSITIONS = ("resolved", "follow_up", "escalated", "unresolved")
SEGMENTS = ("consumer", "smb", "enterprise")
PLANS = ("basic", "standard", "premium")
CASE_STATUSES = ("open", "pending", "solved", "closed")
EVENT_TYPES = ("signup", "activated", "upgrade", "downgrade", "churn", "reactivate")
CHURN_TYPES = ("voluntary", "involuntary")
SURVEY_TYPES = ("csat", "nps", "ces")
# Inclusive score range per survey type (CSAT 1-5, NPS 0-10, CES 1-7).
SURVEY_SCORE_RANGES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7)}


@dataclass(frozen=True)
class Column:
    """One column of a feed table: name, Arrow type, whether a row may lack it, meaning."""

    name: str
    type: pa.DataType
    description: str
    required: bool = False
    pii: bool = False
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableContract:
    """A feed table: which files carry it and what a row looks like."""

    name: str
    feed: str
    description: str
    key: str
    columns: tuple[Column, ...]
    grain: str
    # Timestamp column that places a row in time; rows outside the delivery day are "late".
    # None for change sets whose first delivery is a full snapshot of older records.
    event_time: str | None
    # Columns that point at another feed table's key (column -> table): checked, as a
    # warning, against what is staged (a reference may arrive before what it points at).
    references: dict[str, str] = field(default_factory=dict)

    @property
    def staging_table(self) -> str:
        return f"stg_{self.name}"

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.type, nullable=not c.required) for c in self.columns])

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


def _updated_at() -> Column:
    return Column(
        "updated_at",
        TS,
        "When the source system last changed the record; of two deliveries of the same id the "
        "latest updated_at wins.",
        required=True,
    )


INTERACTIONS = TableContract(
    name="interactions",
    feed="interactions",
    description="Contact-center interactions from every channel; one row per contact leg.",
    key="interaction_id",
    grain="one row per delivered contact leg (a transfer makes a second leg)",
    event_time="queued_at",
    columns=(
        Column("interaction_id", pa.string(), "Id of the leg in the contact platform.", True),
        Column(
            "parent_interaction_id",
            pa.string(),
            "For a transfer leg, the id of the leg it was transferred from; empty on a first leg.",
        ),
        Column("channel", pa.string(), "Channel of the contact.", True, allowed=CHANNELS),
        Column("direction", pa.string(), "inbound or outbound.", True, allowed=DIRECTIONS),
        Column("customer_id", pa.string(), "CRM customer id when the platform knew it."),
        Column("customer_email", pa.string(), "Email the customer used (raw PII).", pii=True),
        Column(
            "customer_phone", pa.string(), "Phone number the customer used (raw PII).", pii=True
        ),
        Column("queue", pa.string(), "Queue the contact waited in."),
        Column("team", pa.string(), "Team of the agent who handled the leg."),
        Column("agent_id", pa.string(), "Agent who handled the leg; empty when abandoned."),
        Column("contact_reason", pa.string(), "Reason code chosen by the agent or the IVR."),
        Column("case_id", pa.string(), "CRM case the contact was logged against."),
        Column("queued_at", TS, "When the contact entered the queue (UTC).", True),
        Column("answered_at", TS, "When an agent answered (UTC); empty when abandoned."),
        Column(
            "first_response_at",
            TS,
            "Asynchronous channels (email, social, messaging): first agent reply (UTC).",
        ),
        Column("ended_at", TS, "When the leg ended (UTC).", True),
        Column("talk_seconds", pa.int64(), "Seconds the agent talked or typed with the customer."),
        Column("hold_seconds", pa.int64(), "Seconds the customer was on hold."),
        Column("acw_seconds", pa.int64(), "Seconds of after-contact work."),
        Column("abandoned", pa.bool_(), "The customer left before an agent answered.", True),
        Column(
            "disposition",
            pa.string(),
            "What the agent claimed at the end of the leg.",
            allowed=DISPOSITIONS,
        ),
        _updated_at(),
    ),
)

CUSTOMERS = TableContract(
    name="customers",
    feed="crm",
    description="CRM customers, delivered as daily change sets (every customer changed that day).",
    key="customer_id",
    grain="one row per customer per delivery day it changed (history); "
    "stg_customers_current keeps the latest row per customer",
    event_time=None,
    columns=(
        Column("customer_id", pa.string(), "CRM customer id.", True),
        Column("email", pa.string(), "Customer email (raw PII).", pii=True),
        Column("phone", pa.string(), "Customer phone number (raw PII).", pii=True),
        Column("segment", pa.string(), "Customer segment.", allowed=SEGMENTS),
        Column("plan", pa.string(), "Subscription plan.", allowed=PLANS),
        Column("region", pa.string(), "Sales region."),
        Column("created_at", TS, "When the customer record was created (UTC).", True),
        Column("mrr", pa.float64(), "Monthly recurring revenue at the time of the change."),
        _updated_at(),
    ),
)

CASES = TableContract(
    name="cases",
    feed="crm",
    description="CRM cases (tickets), delivered as daily change sets.",
    key="case_id",
    grain="one row per case per delivery day it changed (history); "
    "stg_cases_current keeps the latest row per case",
    event_time="updated_at",
    columns=(
        Column("case_id", pa.string(), "CRM case id.", True),
        Column("customer_id", pa.string(), "Customer the case belongs to.", True),
        Column("opened_at", TS, "When the case was opened (UTC).", True),
        Column("closed_at", TS, "When the case was closed (UTC); empty while open."),
        Column("status", pa.string(), "Case status.", True, allowed=CASE_STATUSES),
        Column("reason", pa.string(), "Case reason code."),
        _updated_at(),
    ),
)

SUBSCRIPTION_EVENTS = TableContract(
    name="subscription_events",
    feed="crm",
    description="Subscription lifecycle events (signup, activation, plan changes, churn).",
    key="event_id",
    grain="one row per subscription event",
    event_time="occurred_at",
    columns=(
        Column("event_id", pa.string(), "Id of the event.", True),
        Column("customer_id", pa.string(), "Customer the event belongs to.", True),
        Column("event_type", pa.string(), "Kind of event.", True, allowed=EVENT_TYPES),
        Column("occurred_at", TS, "When the event happened (UTC).", True),
        Column("mrr_before", pa.float64(), "MRR before the event."),
        Column("mrr_after", pa.float64(), "MRR after the event."),
        Column(
            "churn_type",
            pa.string(),
            "For churn events: voluntary or involuntary (e.g. failed payment).",
            allowed=CHURN_TYPES,
        ),
        _updated_at(),
    ),
)

SURVEY_RESPONSES = TableContract(
    name="survey_responses",
    feed="surveys",
    description="Survey responses: CSAT (1-5), NPS (0-10), CES (1-7).",
    key="response_id",
    grain="one row per survey response",
    references={"interaction_id": "interactions", "case_id": "cases"},
    event_time="responded_at",
    columns=(
        Column("response_id", pa.string(), "Id of the response.", True),
        Column("survey_type", pa.string(), "csat, nps or ces.", True, allowed=SURVEY_TYPES),
        Column("score", pa.int64(), "Score in the survey type's range.", True),
        Column("interaction_id", pa.string(), "Interaction the survey was sent after, if known."),
        Column("case_id", pa.string(), "Case the survey was sent about, if known."),
        Column("customer_id", pa.string(), "CRM customer id, if known."),
        Column("customer_email", pa.string(), "Respondent email (raw PII).", pii=True),
        Column("customer_phone", pa.string(), "Respondent phone (raw PII).", pii=True),
        Column("sent_at", TS, "When the survey was sent (UTC).", True),
        Column("responded_at", TS, "When the customer answered (UTC).", True),
        Column("resolved_self_reported", pa.bool_(), "The customer said the issue was resolved."),
        Column("comment", pa.string(), "Free-text comment (may hold PII).", pii=True),
        _updated_at(),
    ),
)

CONTRACTS: dict[str, TableContract] = {
    c.name: c for c in (INTERACTIONS, CUSTOMERS, CASES, SUBSCRIPTION_EVENTS, SURVEY_RESPONSES)
}
FEEDS: dict[str, tuple[str, ...]] = {
    "interactions": ("interactions",),
    "crm": ("customers", "cases", "subscription_events"),
    "surveys": ("survey_responses",),
}
FILE_FORMATS = ("csv", "jsonl", "parquet")
