"""Zendesk tickets as Fivetran lands them: the vendor export of email and chat contacts."""

from __future__ import annotations

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
ZENDESK_SQL = (
    "SELECT "
    + ", ".join(
        f"{_ZENDESK_VALUES.get(c, 'CAST(NULL AS VARCHAR)')} AS {c}" for c in ZENDESK_TICKET_COLUMNS
    )
    + " FROM rows ORDER BY __order"
)
