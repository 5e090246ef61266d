-- Grain: one row per CRM customer x distinct (email, phone) it has had, normalised (when
-- pruning, only values that can be asked); shared ones match nobody (int_crm_by_email/phone).
-- When pruning, a CRM row is kept when its lower-cased email is a candidate's or its last 7
-- phone digits are a candidate's: E.164 normalisation keeps the trailing digits, so no phone
-- that could match is dropped, and every CRM row sharing an asked value is kept (the "shared"
-- count is the same). email_ok / valid_e164 still decide on each value.
CREATE OR REPLACE TEMP TABLE int_crm_identifiers AS
WITH crm_identifiers AS (
    SELECT customer_id, lower(trim(email)) AS email_l, phone, phone_digits(phone) AS phone_d
    FROM (SELECT DISTINCT customer_id, email, phone FROM int_crm_versions)
    WHERE customer_id_ok(customer_id)
),
crm_askable AS (
    SELECT customer_id,
        CASE
            WHEN NOT getvariable('prune_crm')
                OR email_l IN (SELECT email_l FROM int_identity_candidates)
            THEN email_l
        END AS email_l,
        CASE
            WHEN NOT getvariable('prune_crm')
                OR right(phone_d, 7) IN (SELECT phone_tail FROM int_identity_candidates)
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
