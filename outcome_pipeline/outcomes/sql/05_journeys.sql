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
WITH s AS (
    SELECT
        c.rowid AS contact_no, c.customer_key, c.started_us, c.contact_id,
        coalesce(lag(c.started_us) OVER w, x.last_us) AS prev_us,
        lead(c.started_us) OVER w AS next_us,
        c.channel <> lag(c.channel) OVER w AS switched
    FROM contacts AS c
    LEFT JOIN context_last AS x USING (customer_key)
    WHERE c.customer_key IS NOT NULL AND c.started_us >= getvariable('scope_start_us')
    WINDOW w AS (PARTITION BY c.customer_key ORDER BY c.started_us, c.contact_id)
)
SELECT
    contact_no, customer_key, started_us, contact_id,
    coalesce(started_us - prev_us <= getvariable('w_us'), false) AS is_repeat,
    coalesce(next_us - started_us <= getvariable('w_us'), false) AS followed,
    coalesce(started_us - prev_us <= getvariable('w_us') AND switched, false) AS channel_switch
FROM s;

-- Journey of each identified contact from scope_start on: the latest non-repeat contact at
-- or before it. A contact whose journey began before scope_start finds none (NULL): only
-- repeats lie between it and that start.
CREATE OR REPLACE TEMP TABLE contact_journey AS
SELECT
    contact_no,
    last_value(CASE WHEN NOT is_repeat THEN contact_id END IGNORE NULLS) OVER j AS journey_id,
    last_value(CASE WHEN NOT is_repeat THEN started_us END IGNORE NULLS) OVER j
        AS journey_started_us
FROM contact_seq
WHERE started_us >= getvariable('scope_start_us')
WINDOW j AS (
    PARTITION BY customer_key ORDER BY started_us, contact_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
);

CREATE OR REPLACE TEMP TABLE contact_facts AS
WITH closed AS (
    SELECT DISTINCT c.rowid AS contact_no
    FROM contacts AS c
    JOIN case_closures AS k
        ON k.case_id = c.case_id
        AND k.closed_us BETWEEN c.started_us AND c.started_us + getvariable('w_us')
    WHERE c.case_id IS NOT NULL
),
-- The CRM version valid at the contact's start (customers with one version: crm_first).
with_history AS MATERIALIZED (
    SELECT rowid AS contact_no, customer_key, started_us
    FROM contacts
    WHERE customer_key IN (SELECT customer_id FROM crm_history)
),
crm AS (
    SELECT c.contact_no, v.segment, v.mrr
    FROM with_history AS c
    ASOF JOIN crm_history AS v
        ON v.customer_id = c.customer_key AND c.started_us >= v.updated_us
)
SELECT
    c.*,
    c.rowid AS contact_no,
    local_day(c.started_us) AS start_day,
    c.customer_key IS NULL AS is_anonymous,
    coalesce(s.is_repeat, false) AS is_repeat,
    s.followed,
    coalesce(s.channel_switch, false) AS channel_switch,
    -- Anonymous contacts are one-contact journeys that join nothing.
    CASE
        WHEN c.customer_key IS NULL THEN c.contact_id
        WHEN c.started_us <= j.journey_started_us + getvariable('h_us') THEN j.journey_id
    END AS journey_id,
    CASE
        WHEN c.customer_key IS NULL THEN c.started_us
        WHEN c.started_us <= j.journey_started_us + getvariable('h_us') THEN j.journey_started_us
    END AS journey_started_us,
    c.started_us + getvariable('w_us') <= getvariable('as_of_us') AS window_closed,
    -- The claim is known when the contact carries a disposition or a case; a feed without
    -- either carries no claim (unknown, never a failure: METRICS "resolved journey").
    c.disposition IS NOT NULL OR c.case_id IS NOT NULL AS claim_known,
    coalesce(c.disposition = 'resolved', false) AS claimed,
    d.contact_no IS NOT NULL AS case_closed,
    -- Judged by what the customer did, never by the agent's claim (operational FCR): a
    -- contact an agent handled (answered or replied) with no repeat within W.
    CASE
        WHEN c.customer_key IS NULL THEN NULL
        WHEN s.followed OR NOT c.handled THEN false
        WHEN c.started_us + getvariable('w_us') > getvariable('as_of_us') THEN NULL
        ELSE true
    END AS really_resolved,
    CASE
        WHEN c.match_rule NOT IN ('crm_id', 'crm_email', 'crm_phone') THEN 'unknown'
        ELSE coalesce(m.segment, f.segment, 'unknown')
    END AS segment,
    CASE WHEN c.match_rule IN ('crm_id', 'crm_email', 'crm_phone') THEN
        CASE WHEN m.contact_no IS NOT NULL THEN m.mrr ELSE f.mrr END
    END AS mrr
FROM contacts AS c
LEFT JOIN contact_seq AS s ON s.contact_no = c.rowid
LEFT JOIN contact_journey AS j ON j.contact_no = c.rowid
LEFT JOIN closed AS d ON d.contact_no = c.rowid
LEFT JOIN crm AS m ON m.contact_no = c.rowid
LEFT JOIN crm_first AS f ON f.customer_id = c.customer_key;

-- Journeys started from scope_start on (every one that can be computed), with outcomes.
CREATE OR REPLACE TEMP TABLE journey_facts AS
WITH a AS (
    SELECT
        journey_id,
        any_value(customer_key) AS customer_key,
        bool_or(is_anonymous) AS is_anonymous,
        min(started_us) AS first_us,
        max(started_us) AS last_us,
        max(ended_us) AS last_ended_us,
        count(*) AS contacts,
        count(DISTINCT channel) AS channels,
        count(*) FILTER (WHERE channel_switch) AS channel_switches,
        arg_max(disposition, (started_us, contact_id)) AS last_disposition,
        arg_max(case_closed, (started_us, contact_id)) AS last_case_closed,
        arg_max(claim_known, (started_us, contact_id)) AS last_claim_known,
        arg_max(handled, (started_us, contact_id)) AS last_handled,
        -- The last in-span contact was followed within W: by a contact after H.
        arg_max(coalesce(followed, false), (started_us, contact_id)) AS capped,
        count(*) FILTER (WHERE claimed AND followed) AS false_resolution_claims
    FROM contact_facts
    WHERE journey_started_us >= getvariable('scope_start_us')
    GROUP BY journey_id
),
j AS (
    SELECT
        a.*,
        f.start_day AS partition_date,
        f.segment, f.mrr AS mrr_at_stake,
        f.channel AS first_channel, f.queue AS first_queue, f.team AS first_team,
        a.last_us + getvariable('w_us') AS closes_us,
        a.last_us + getvariable('w_us') <= getvariable('as_of_us') AS is_ended
    FROM a
    JOIN contact_facts AS f ON f.contact_id = a.journey_id
)
-- Resolved: ended, not capped, the last contact handled by an agent, and its claim resolved
-- (disposition resolved or case closed within W) or unknown (no disposition, no case).
-- resolution_basis says which evidence the verdict rests on.
, r AS (
    SELECT
        j.*,
        CASE WHEN is_ended AND NOT is_anonymous THEN
            NOT capped AND last_handled AND (
                NOT last_claim_known
                OR coalesce(last_disposition = 'resolved', false)
                OR last_case_closed
            )
        END AS resolved
    FROM j
)
SELECT
    r.*,
    CASE WHEN resolved THEN
        CASE WHEN last_claim_known THEN 'claimed_and_confirmed' ELSE 'confirmed_only' END
    END AS resolution_basis
FROM r;

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
