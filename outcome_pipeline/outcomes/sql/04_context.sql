-- Context: first legs (roots) queued in the W before scope_start. All a later contact needs of
-- them is whether one exists, so only each customer's latest start is kept, for customers
-- with contacts in the main zone. (Not deduplicated: with an immutable queued_at a
-- re-delivered leg changes no maximum.)
CREATE OR REPLACE TEMP TABLE context_last AS
WITH context_roots AS (
    -- in_context: the zone's root legs reduced to each identifier triple's latest start
    -- (compute.context_sql, run here or in the warehouse).
    SELECT epoch_us(last_queued_at) AS queued_us,
        customer_id AS cid, customer_email AS email, customer_phone AS phone
    FROM in_context
),
-- Most rows carry a CRM id: reduce them to one row per id before any lookup.
by_id AS (
    SELECT trim(cid) AS cid_t, max(queued_us) AS last_us
    FROM context_roots WHERE cid IS NOT NULL GROUP BY 1
),
known AS (
    SELECT cid_t AS customer_key, last_us
    FROM by_id WHERE cid_t IN (SELECT customer_id FROM crm_ids)
),
-- The rest (no id, or an id the CRM does not know) go through the full resolution.
rest AS (
    SELECT * FROM context_roots
    WHERE cid IS NULL
        OR trim(cid) IN (
            SELECT cid_t FROM by_id WHERE cid_t NOT IN (SELECT customer_id FROM crm_ids)
        )
),
resolved_rest AS (
    SELECT customer_key, max(queued_us) AS last_us FROM resolve_identity('rest') GROUP BY 1
)
SELECT customer_key, max(last_us) AS last_us
FROM (SELECT * FROM known UNION ALL SELECT * FROM resolved_rest)
WHERE customer_key IN (SELECT customer_key FROM contacts)
GROUP BY customer_key;

-- Survey responses known at as_of (latest delivery of each id), with their customer key.
-- Only ids delivered more than once are ranked (as crm_redelivered in 01_crm): ranking every
-- response is slower for the same rows (benchmarks/PERFORMANCE.md, "SQL choices").
CREATE OR REPLACE TEMP TABLE surveys AS
WITH redelivered AS (
    SELECT response_id FROM in_survey_responses GROUP BY response_id HAVING count(*) > 1
),
delivered AS (
    SELECT * FROM in_survey_responses
    WHERE response_id NOT IN (SELECT response_id FROM redelivered)
    UNION ALL
    SELECT * FROM in_survey_responses
    WHERE response_id IN (SELECT response_id FROM redelivered)
    QUALIFY row_number() OVER (
        PARTITION BY response_id
        ORDER BY updated_at DESC, partition_date DESC, source_file DESC, source_line DESC
    ) = 1
),
latest AS (
    SELECT
        response_id, survey_type, score,
        nullif(trim(interaction_id), '') AS interaction_id,
        nullif(trim(case_id), '') AS case_id,
        customer_id AS cid, customer_email AS email, customer_phone AS phone,
        epoch_us(sent_at) AS sent_us,
        epoch_us(responded_at) AS responded_us
    FROM delivered
    WHERE responded_at <= getvariable('as_of_ts')
)
SELECT * EXCLUDE (cid, email, phone, match_rule) FROM resolve_identity('latest');
