-- Journeys: a customer's contacts ordered by start; a contact is a repeat iff the
-- customer's previous contact (in the main zone, else the latest context contact) started
-- within W before it, and every contact that is not a repeat starts a journey. Contacts
-- before scope_start only make later contacts repeats: their journeys are not computed.
-- Ties in start time are broken by contact_id, so the order is total and reproducible.
-- Journey horizon H (h_us): a journey's outcome is evaluated over its contacts that start
-- within H of its first contact ("in span"); later contacts stay repeats at contact level
-- and belong to no reported journey. A journey whose last in-span contact is followed within
-- W (necessarily by a contact after H) is capped: never resolved.

-- A contact's case counts as closed when a known version shows it solved/closed with
-- closed_at between the contact's start and W later (later closures cannot change a
-- journey whose window has closed). The contacts' case ids are made distinct first: with
-- the bare column, DuckDB built the semi-join's hash table on the case versions (the larger
-- side; benchmarks/PERFORMANCE.md, "SQL choices").
CREATE OR REPLACE TEMP TABLE case_closures AS
SELECT DISTINCT case_id, epoch_us(closed_at) AS closed_us
FROM in_cases
WHERE updated_at <= getvariable('as_of_ts')
    AND status IN ('solved', 'closed')
    AND closed_at IS NOT NULL
    AND case_id IN (SELECT DISTINCT case_id FROM contacts WHERE case_id IS NOT NULL);

-- Repeats: over the identified contacts from scope_start on (narrow rows; contacts.rowid is
-- the integer key that joins the results back). Every contact before scope_start is in the
-- context (context_last); the margin's contacts kept for their legs are not sequenced.
CREATE OR REPLACE TEMP TABLE contact_seq AS
WITH ordered AS (
    SELECT
        contact.rowid AS contact_no, contact.customer_key, contact.started_us, contact.contact_id,
        coalesce(lag(contact.started_us) OVER by_customer, context_contact.last_us) AS prev_us,
        lead(contact.started_us) OVER by_customer AS next_us,
        contact.channel <> lag(contact.channel) OVER by_customer AS switched
    FROM contacts AS contact
    LEFT JOIN context_last AS context_contact USING (customer_key)
    WHERE contact.customer_key IS NOT NULL AND contact.started_us >= getvariable('scope_start_us')
    WINDOW by_customer AS (
        PARTITION BY contact.customer_key ORDER BY contact.started_us, contact.contact_id
    )
)
SELECT
    contact_no, customer_key, started_us, contact_id,
    coalesce(started_us - prev_us <= getvariable('w_us'), false) AS is_repeat,
    coalesce(next_us - started_us <= getvariable('w_us'), false) AS is_followed_within_window,
    coalesce(started_us - prev_us <= getvariable('w_us') AND switched, false) AS is_channel_switch
FROM ordered;

-- Journey of each identified contact from scope_start on: the latest non-repeat contact at
-- or before it. A contact whose journey began before scope_start finds none (NULL): only
-- repeats lie between it and that start.
CREATE OR REPLACE TEMP TABLE contact_journey AS
SELECT
    contact_no,
    last_value(CASE WHEN NOT is_repeat THEN contact_id END IGNORE NULLS) OVER by_customer
        AS journey_id,
    last_value(CASE WHEN NOT is_repeat THEN started_us END IGNORE NULLS) OVER by_customer
        AS journey_started_us
FROM contact_seq
WHERE started_us >= getvariable('scope_start_us')
WINDOW by_customer AS (
    PARTITION BY customer_key ORDER BY started_us, contact_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
);

CREATE OR REPLACE TEMP TABLE contact_facts AS
WITH closed_case_contacts AS (
    SELECT DISTINCT contact.rowid AS contact_no
    FROM contacts AS contact
    JOIN case_closures AS closure
        ON closure.case_id = contact.case_id
        AND closure.closed_us BETWEEN contact.started_us AND contact.started_us + getvariable('w_us')
    WHERE contact.case_id IS NOT NULL
),
-- The CRM version valid at the contact's start (customers with one version: crm_first).
with_history AS MATERIALIZED (
    SELECT rowid AS contact_no, customer_key, started_us
    FROM contacts
    WHERE customer_key IN (SELECT customer_id FROM crm_history)
),
crm_at_start AS (
    SELECT contact.contact_no, crm_version.segment, crm_version.mrr
    FROM with_history AS contact
    ASOF JOIN crm_history AS crm_version
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
FROM contacts AS contact
LEFT JOIN contact_seq AS seq ON seq.contact_no = contact.rowid
LEFT JOIN contact_journey AS journey ON journey.contact_no = contact.rowid
LEFT JOIN closed_case_contacts AS closed ON closed.contact_no = contact.rowid
LEFT JOIN crm_at_start ON crm_at_start.contact_no = contact.rowid
LEFT JOIN crm_first ON crm_first.customer_id = contact.customer_key;

-- Journeys started from scope_start on (every one that can be computed), with outcomes.
CREATE OR REPLACE TEMP TABLE journey_facts AS
WITH journey_contacts_agg AS (
    SELECT
        journey_id,
        any_value(customer_key) AS customer_key,
        bool_or(is_anonymous) AS is_anonymous,
        min(started_us) AS first_contact_us,
        max(started_us) AS last_contact_us,
        max(ended_us) AS last_contact_ended_us,
        count(*) AS contacts,
        count(DISTINCT channel) AS channels,
        count(*) FILTER (WHERE is_channel_switch) AS channel_switches,
        arg_max(disposition, (started_us, contact_id)) AS last_disposition,
        arg_max(is_case_closed_in_window, (started_us, contact_id)) AS is_last_case_closed,
        arg_max(is_claim_known, (started_us, contact_id)) AS is_last_claim_known,
        arg_max(is_handled, (started_us, contact_id)) AS is_last_handled,
        -- The last in-span contact was followed within W: by a contact after H.
        arg_max(coalesce(is_followed_within_window, false), (started_us, contact_id)) AS is_capped,
        count(*) FILTER (WHERE is_claimed_resolved AND is_followed_within_window)
            AS false_resolution_claims
    FROM contact_facts
    WHERE journey_started_us >= getvariable('scope_start_us')
    GROUP BY journey_id
),
with_first_contact AS (
    SELECT
        journey.*,
        first_contact.start_day AS partition_date,
        first_contact.segment, first_contact.mrr AS mrr_at_stake,
        first_contact.channel AS first_channel,
        first_contact.queue AS first_queue,
        first_contact.team AS first_team,
        journey.last_contact_us + getvariable('w_us') AS window_closes_us,
        journey.last_contact_us + getvariable('w_us') <= getvariable('as_of_us') AS is_ended
    FROM journey_contacts_agg AS journey
    JOIN contact_facts AS first_contact ON first_contact.contact_id = journey.journey_id
)
-- Resolved: ended, not capped, the last contact handled by an agent, and its claim resolved
-- (disposition resolved or case closed within W) or unknown (no disposition, no case).
-- resolution_basis says which evidence the verdict rests on.
, with_resolution AS (
    SELECT
        *,
        CASE WHEN is_ended AND NOT is_anonymous THEN
            NOT is_capped AND is_last_handled AND (
                NOT is_last_claim_known
                OR coalesce(last_disposition = 'resolved', false)
                OR is_last_case_closed
            )
        END AS is_resolved
    FROM with_first_contact
)
SELECT
    *,
    CASE WHEN is_resolved THEN
        CASE WHEN is_last_claim_known THEN 'claimed_and_confirmed' ELSE 'confirmed_only' END
    END AS resolution_basis
FROM with_resolution;

-- Intermediates no later step reads: freed now, not at the end of the run (peak memory).
DROP TABLE contact_seq;
DROP TABLE contact_journey;
DROP TABLE case_closures;
DROP TABLE contacts;  -- contact_facts carries every column of it
-- The CRM lookups and the context are read by no step after this one (identity is resolved
-- in 03/04, CRM versions attached above).
DROP TABLE crm_first;
DROP TABLE crm_history;
DROP TABLE crm_ids;
DROP TABLE crm_by_email;
DROP TABLE crm_by_phone;
DROP TABLE context_last;
