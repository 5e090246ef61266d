-- Grain: one row per normalised phone (E.164) that exactly one CRM customer has had.
-- As int_crm_by_email.
CREATE OR REPLACE TEMP TABLE int_crm_by_phone AS
SELECT phone_n, min(customer_id) AS customer_id
FROM int_crm_identifiers WHERE phone_n IS NOT NULL
GROUP BY phone_n HAVING min(customer_id) = max(customer_id);
