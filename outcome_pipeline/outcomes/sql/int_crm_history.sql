-- Grain: one row per version of a CRM customer that has more than one version.
-- The versions an as-of join must search (int_contact_facts); the rest take int_crm_first.
CREATE OR REPLACE TEMP TABLE int_crm_history AS
SELECT * FROM int_crm_versions
WHERE customer_id IN (SELECT customer_id FROM int_crm_first WHERE versions > 1);
