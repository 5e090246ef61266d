-- Grain: one row per customer key with contacts in the main zone and a context contact: the
-- latest start of its context contacts (root legs queued in the W before scope_start). All a
-- later contact needs of them is whether one exists, so only the latest start is kept (not
-- deduplicated: with an immutable queued_at a re-delivered leg changes no maximum).
CREATE OR REPLACE TEMP TABLE int_context_last AS
WITH context_roots AS (
    -- in_context: the zone's root legs reduced to each identifier triple's latest start
    -- (warehouse_selects.context_sql, run here or in the warehouse).
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
    FROM by_id WHERE cid_t IN (SELECT customer_id FROM int_crm_ids)
),
-- The rest (no id, or an id the CRM does not know) go through the full resolution.
rest AS (
    SELECT * FROM context_roots
    WHERE cid IS NULL
        OR trim(cid) IN (
            SELECT cid_t FROM by_id WHERE cid_t NOT IN (SELECT customer_id FROM int_crm_ids)
        )
),
resolved_rest AS (
    SELECT customer_key, max(queued_us) AS last_us FROM resolve_identity('rest') GROUP BY 1
)
SELECT customer_key, max(last_us) AS last_us
FROM (SELECT * FROM known UNION ALL SELECT * FROM resolved_rest)
WHERE customer_key IN (SELECT customer_key FROM int_contacts)
GROUP BY customer_key;
