-- Grain: one row per computed day.
-- A day is final once every contact's window and every journey started that day has closed;
-- its churn flags are final once, in addition, the churn window after the day's latest
-- contact end has passed (the rule outcomes/maturity.py plans restatements by).
CREATE OR REPLACE TEMP TABLE int_day_status AS
WITH day_facts AS (
    SELECT
        computed_day.day,
        getvariable('as_of_us') >= computed_day.day_end_us AS is_day_over,
        getvariable('as_of_us') >= computed_day.day_end_us + getvariable('w_us')
            AND coalesce(max(journey.window_closes_us), 0) <= getvariable('as_of_us') AS is_final,
        coalesce(max(journey.last_contact_ended_us), computed_day.day_end_us)
            AS last_contact_ended_us
    FROM days AS computed_day
    LEFT JOIN int_journeys AS journey ON journey.partition_date = computed_day.day
    GROUP BY computed_day.day, computed_day.day_end_us
)
SELECT
    *,
    is_final AND getvariable('as_of_us') >= last_contact_ended_us + getvariable('churn_short_us')
        AS is_churn_30d_final,
    is_final AND getvariable('as_of_us') >= last_contact_ended_us + getvariable('churn_long_us')
        AS is_churn_90d_final
FROM day_facts;
