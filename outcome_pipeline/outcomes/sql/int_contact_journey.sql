-- Grain: one row per identified contact started from scope_start on.
-- Journey of each identified contact from scope_start on: the latest non-repeat contact at
-- or before it. A contact whose journey began before scope_start finds none (NULL): only
-- repeats lie between it and that start.
CREATE OR REPLACE TEMP TABLE int_contact_journey AS
SELECT
    contact_no,
    last_value(CASE WHEN NOT is_repeat THEN contact_id END IGNORE NULLS) OVER by_customer
        AS journey_id,
    last_value(CASE WHEN NOT is_repeat THEN started_us END IGNORE NULLS) OVER by_customer
        AS journey_started_us
FROM int_contact_sequence
WHERE started_us >= getvariable('scope_start_us')
WINDOW by_customer AS (
    PARTITION BY customer_key ORDER BY started_us, contact_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
);
