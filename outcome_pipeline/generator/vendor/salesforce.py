"""Salesforce Data Loader CSV exports: the vendor export of cases and customers."""

from __future__ import annotations

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
CASE_SQL = f"""
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
CONTACT_SQL = f"""
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
