-- Grain: one row per distinct (lower-cased email, last 7 phone digits) of the interaction,
-- survey and context rows without a CRM id the CRM knows; empty when the CRM is not pruned.

-- Whether to prune the CRM to the identifiers that can be asked before normalising it
-- (int_crm_identifiers). Either way every value that can be asked gets the same lookup;
-- pruning only saves the email/phone rules on CRM values nobody asks, and finding the
-- candidates costs about as much per asking row as normalising costs per CRM row. So it is
-- done only when the CRM history outnumbers the asking rows (measured: benchmarks/
-- PERFORMANCE.md, "SQL choices"). `crm_prune_override` (tests) forces one way.
SET VARIABLE prune_crm = coalesce(
    getvariable('crm_prune_override'),
    (SELECT count(*) FROM int_crm_versions) > (SELECT count(*) FROM in_interactions)
        + (SELECT count(*) FROM in_survey_responses) + (SELECT count(*) FROM in_context)
);

-- Identifiers that may need a CRM lookup (resolve_identity looks nothing up for a known CRM
-- id). When pruning, only CRM rows that can equal one of them are normalised.
CREATE OR REPLACE TEMP TABLE int_identity_candidates AS
WITH asking_rows AS (
    SELECT customer_id AS cid, customer_email AS email, customer_phone AS phone
    FROM in_interactions
    UNION ALL
    SELECT customer_id, customer_email, customer_phone FROM in_survey_responses
    UNION ALL
    SELECT customer_id, customer_email, customer_phone FROM in_context
)
SELECT DISTINCT lower(trim(email)) AS email_l, right(phone_digits(phone), 7) AS phone_tail
FROM asking_rows
WHERE getvariable('prune_crm')
    AND (email IS NOT NULL OR phone IS NOT NULL)
    AND coalesce(trim(cid) NOT IN (SELECT customer_id FROM int_crm_ids), true);
