-- Grain: one row per CRM customer version (customer_id, updated_at) known at as_of.
-- The change-set history of the CRM; a re-delivered version counts once (latest_delivery).
CREATE OR REPLACE TEMP TABLE int_crm_versions AS
WITH known_versions AS (
    SELECT * FROM in_customers WHERE updated_at <= getvariable('as_of_ts')
)
SELECT customer_id, email, phone, segment, mrr, epoch_us(updated_at) AS updated_us
FROM latest_delivery('known_versions', (customer_id, updated_at));
