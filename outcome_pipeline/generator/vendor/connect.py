"""Amazon Connect contact records: the vendor export of the interactions."""

from __future__ import annotations

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
CTR_SQL = f"""
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
