-- Grain: one row per normalised email that exactly one CRM customer has had.
-- min = max is "exactly one distinct customer" (customer_id is never NULL here:
-- customer_id_ok), without count(DISTINCT)'s per-group sets.
CREATE OR REPLACE TEMP TABLE int_crm_by_email AS
SELECT email_n, min(customer_id) AS customer_id
FROM int_crm_identifiers WHERE email_n IS NOT NULL
GROUP BY email_n HAVING min(customer_id) = max(customer_id);
