-- Grain: one row per CRM customer.
-- A customer first delivered after the moment we look at takes its first version; most
-- customers have only that one (versions > 1 says the history must be searched).
CREATE OR REPLACE TEMP TABLE int_crm_first AS
SELECT customer_id, arg_min(segment, updated_us) AS segment, arg_min(mrr, updated_us) AS mrr,
    count(*) AS versions
FROM int_crm_versions
GROUP BY customer_id;
