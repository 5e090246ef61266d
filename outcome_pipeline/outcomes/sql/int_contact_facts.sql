-- Grain: one row per contact (int_contacts), with its repeat, journey, claim and CRM facts.
CREATE OR REPLACE TEMP TABLE int_contact_facts AS
WITH closed_case_contacts AS (
    SELECT DISTINCT contact.rowid AS contact_no
    FROM int_contacts AS contact
    JOIN int_case_closures AS closure
        ON closure.case_id = contact.case_id
        AND closure.closed_us BETWEEN contact.started_us AND contact.started_us + getvariable('w_us')
    WHERE contact.case_id IS NOT NULL
),
-- The CRM version valid at the contact's start (customers with one version: int_crm_first).
with_history AS MATERIALIZED (
    SELECT rowid AS contact_no, customer_key, started_us
    FROM int_contacts
    WHERE customer_key IN (SELECT customer_id FROM int_crm_history)
),
crm_at_start AS (
    SELECT contact.contact_no, crm_version.segment, crm_version.mrr
    FROM with_history AS contact
    ASOF JOIN int_crm_history AS crm_version
        ON crm_version.customer_id = contact.customer_key
        AND contact.started_us >= crm_version.updated_us
)
SELECT
    contact.*,
    contact.rowid AS contact_no,
    local_day(contact.started_us) AS start_day,
    contact.customer_key IS NULL AS is_anonymous,
    coalesce(seq.is_repeat, false) AS is_repeat,
    seq.is_followed_within_window,
    coalesce(seq.is_channel_switch, false) AS is_channel_switch,
    -- Anonymous contacts are one-contact journeys that join nothing.
    CASE
        WHEN contact.customer_key IS NULL THEN contact.contact_id
        WHEN contact.started_us <= journey.journey_started_us + getvariable('h_us')
            THEN journey.journey_id
    END AS journey_id,
    CASE
        WHEN contact.customer_key IS NULL THEN contact.started_us
        WHEN contact.started_us <= journey.journey_started_us + getvariable('h_us')
            THEN journey.journey_started_us
    END AS journey_started_us,
    contact.started_us + getvariable('w_us') <= getvariable('as_of_us') AS is_window_closed,
    -- The claim is known when the contact carries a disposition or a case; a feed without
    -- either carries no claim (unknown, never a failure: METRICS "resolved journey").
    contact.disposition IS NOT NULL OR contact.case_id IS NOT NULL AS is_claim_known,
    coalesce(contact.disposition = 'resolved', false) AS is_claimed_resolved,
    closed.contact_no IS NOT NULL AS is_case_closed_in_window,
    -- Judged by what the customer did, never by the agent's claim (operational FCR): a
    -- contact an agent handled (answered or replied) with no repeat within W.
    CASE
        WHEN contact.customer_key IS NULL THEN NULL
        WHEN seq.is_followed_within_window OR NOT contact.is_handled THEN false
        WHEN contact.started_us + getvariable('w_us') > getvariable('as_of_us') THEN NULL
        ELSE true
    END AS is_really_resolved,
    CASE
        WHEN contact.match_rule NOT IN ('crm_id', 'crm_email', 'crm_phone') THEN 'unknown'
        ELSE coalesce(crm_at_start.segment, crm_first.segment, 'unknown')
    END AS segment,
    CASE WHEN contact.match_rule IN ('crm_id', 'crm_email', 'crm_phone') THEN
        CASE
            WHEN crm_at_start.contact_no IS NOT NULL THEN crm_at_start.mrr
            ELSE crm_first.mrr
        END
    END AS mrr
FROM int_contacts AS contact
LEFT JOIN int_contact_sequence AS seq ON seq.contact_no = contact.rowid
LEFT JOIN int_contact_journey AS journey ON journey.contact_no = contact.rowid
LEFT JOIN closed_case_contacts AS closed ON closed.contact_no = contact.rowid
LEFT JOIN crm_at_start ON crm_at_start.contact_no = contact.rowid
LEFT JOIN int_crm_first AS crm_first ON crm_first.customer_id = contact.customer_key;
