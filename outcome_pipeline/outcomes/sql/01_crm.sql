-- CRM history known at as_of, and the lookups identity resolution needs.

-- Change-set history: one row per (customer, updated_at); a re-delivered version counts once.
-- (Only pairs delivered more than once are ranked: sorting the whole history for the rare
-- re-delivery cost more than the rest of this file.)
CREATE OR REPLACE TEMP TABLE crm_redelivered AS
SELECT customer_id, updated_at
FROM in_customers
WHERE updated_at <= getvariable('as_of_ts')
GROUP BY customer_id, updated_at
HAVING count(*) > 1;

CREATE OR REPLACE TEMP TABLE crm_versions AS
SELECT customer_id, email, phone, segment, mrr, epoch_us(updated_at) AS updated_us
FROM in_customers
WHERE updated_at <= getvariable('as_of_ts')
    AND (customer_id, updated_at) NOT IN (SELECT (customer_id, updated_at) FROM crm_redelivered)
UNION ALL
SELECT customer_id, email, phone, segment, mrr, epoch_us(updated_at) AS updated_us
FROM in_customers
WHERE updated_at <= getvariable('as_of_ts')
    AND (customer_id, updated_at) IN (SELECT (customer_id, updated_at) FROM crm_redelivered)
QUALIFY row_number() OVER (
    PARTITION BY customer_id, updated_at
    ORDER BY partition_date DESC, source_file DESC, source_line DESC
) = 1;

-- A customer first delivered after the moment we look at takes its first version; most
-- customers have only that one (versions > 1 says the history must be searched).
CREATE OR REPLACE TEMP TABLE crm_first AS
SELECT customer_id, arg_min(segment, updated_us) AS segment, arg_min(mrr, updated_us) AS mrr,
    count(*) AS versions
FROM crm_versions
GROUP BY customer_id;

CREATE OR REPLACE TEMP TABLE crm_history AS
SELECT * FROM crm_versions
WHERE customer_id IN (SELECT customer_id FROM crm_first WHERE versions > 1);

-- CRM ids that can identify a contact (a CRM id that looks like a placeholder cannot).
CREATE OR REPLACE TEMP TABLE crm_ids AS
SELECT customer_id FROM crm_first WHERE customer_id_ok(customer_id);

-- Whether to prune the CRM to the identifiers that can be asked (identity_candidates) before
-- normalising it (crm_norm). Either way every value that can be asked gets the same lookup;
-- pruning only saves the email/phone rules on CRM values nobody asks, and finding the
-- candidates costs about as much per asking row as normalising costs per CRM row. So it is
-- done only when the CRM history outnumbers the asking rows (measured: benchmarks/
-- PERFORMANCE.md, "SQL choices"). `crm_prune_override` (tests) forces one way.
SET VARIABLE prune_crm = coalesce(
    getvariable('crm_prune_override'),
    (SELECT count(*) FROM crm_versions) > (SELECT count(*) FROM in_interactions)
        + (SELECT count(*) FROM in_survey_responses) + (SELECT count(*) FROM in_context)
);

-- Identifiers that may need a CRM lookup: those of interaction and survey rows without a
-- CRM id the CRM knows (resolve_identity looks nothing up for the others). When pruning, only
-- CRM rows that can equal one of them are normalised below: the same lookups for the values
-- that can be asked. Empty when not pruning.
CREATE OR REPLACE TEMP TABLE identity_candidates AS
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
    AND coalesce(trim(cid) NOT IN (SELECT customer_id FROM crm_ids), true);

-- Every normalised email and phone a customer has had (when pruning, of those that can be
-- asked); shared ones match nobody. When pruning, a CRM row is kept when its lower-cased email
-- is a candidate's or its last 7 phone digits are a candidate's: E.164 normalisation keeps
-- the trailing digits, so no phone that could match is dropped, and every CRM row sharing an
-- asked value is kept (the "shared" count is the same). email_ok / valid_e164 still decide
-- on each value.
CREATE OR REPLACE TEMP TABLE crm_norm AS
WITH crm_identifiers AS (
    SELECT customer_id, lower(trim(email)) AS email_l, phone, phone_digits(phone) AS phone_d
    FROM (SELECT DISTINCT customer_id, email, phone FROM crm_versions)
    WHERE customer_id_ok(customer_id)
),
crm_askable AS (
    SELECT customer_id,
        CASE
            WHEN NOT getvariable('prune_crm')
                OR email_l IN (SELECT email_l FROM identity_candidates)
            THEN email_l
        END AS email_l,
        CASE
            WHEN NOT getvariable('prune_crm')
                OR right(phone_d, 7) IN (SELECT phone_tail FROM identity_candidates)
            THEN phone
        END AS phone,
        phone_d
    FROM crm_identifiers
),
crm_e164 AS (
    SELECT customer_id,
        CASE WHEN email_ok(email_l) THEN email_l END AS email_n,
        CASE WHEN phone IS NOT NULL THEN e164_digits(phone, phone_d, getvariable('cc')) END
            AS phone_p
    FROM crm_askable
    WHERE email_l IS NOT NULL OR phone IS NOT NULL
)
SELECT customer_id, email_n,
    CASE WHEN valid_e164(phone_p, getvariable('cc')) THEN '+' || phone_p END AS phone_n
FROM crm_e164;

-- One owner each: min = max is "exactly one distinct customer" (customer_id is never NULL
-- here: customer_id_ok), without count(DISTINCT)'s per-group sets.
CREATE OR REPLACE TEMP TABLE crm_by_email AS
SELECT email_n, min(customer_id) AS customer_id
FROM crm_norm WHERE email_n IS NOT NULL
GROUP BY email_n HAVING min(customer_id) = max(customer_id);

CREATE OR REPLACE TEMP TABLE crm_by_phone AS
SELECT phone_n, min(customer_id) AS customer_id
FROM crm_norm WHERE phone_n IS NOT NULL
GROUP BY phone_n HAVING min(customer_id) = max(customer_id);

-- Intermediates no later step reads: freed now, not at the end of the run (peak memory).
DROP TABLE crm_redelivered;
DROP TABLE crm_versions;
DROP TABLE identity_candidates;
DROP TABLE crm_norm;
