-- CRM history known at as_of, and the lookups identity resolution needs.

-- Change-set history: one row per (customer, updated_at); a re-delivered version counts once.
CREATE OR REPLACE TEMP TABLE crm_versions AS
SELECT customer_id, email, phone, segment, mrr, epoch_us(updated_at) AS updated_us
FROM in_customers
WHERE updated_at <= getvariable('as_of_ts')
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

-- Every normalised email and phone a customer has had; shared ones match nobody.
CREATE OR REPLACE TEMP TABLE crm_norm AS
WITH d AS (
    SELECT customer_id, lower(trim(email)) AS email_l, phone, phone_digits(phone) AS phone_d
    FROM crm_versions
    WHERE customer_id_ok(customer_id)
),
p AS (
    SELECT customer_id,
        CASE WHEN email_ok(email_l) THEN email_l END AS email_n,
        e164_digits(phone, phone_d, getvariable('cc')) AS phone_p
    FROM d
)
SELECT customer_id, email_n,
    CASE WHEN valid_e164(phone_p, getvariable('cc')) THEN '+' || phone_p END AS phone_n
FROM p;

CREATE OR REPLACE TEMP TABLE crm_by_email AS
SELECT email_n, min(customer_id) AS customer_id
FROM crm_norm WHERE email_n IS NOT NULL
GROUP BY email_n HAVING count(DISTINCT customer_id) = 1;

CREATE OR REPLACE TEMP TABLE crm_by_phone AS
SELECT phone_n, min(customer_id) AS customer_id
FROM crm_norm WHERE phone_n IS NOT NULL
GROUP BY phone_n HAVING count(DISTINCT customer_id) = 1;
