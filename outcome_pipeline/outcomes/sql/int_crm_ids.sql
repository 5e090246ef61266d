-- Grain: one row per CRM customer id that can identify a contact.
-- A CRM id that looks like a placeholder cannot.
CREATE OR REPLACE TEMP TABLE int_crm_ids AS
SELECT customer_id FROM int_crm_first WHERE customer_id_ok(customer_id);
