-- Grain: one row per computed day.
-- A day is final once every contact's window and every journey started that day has closed.
CREATE OR REPLACE TEMP TABLE int_day_status AS
SELECT
    computed_day.day,
    getvariable('as_of_us') >= computed_day.day_end_us AS is_day_over,
    getvariable('as_of_us') >= computed_day.day_end_us + getvariable('w_us')
        AND coalesce(max(journey.window_closes_us), 0) <= getvariable('as_of_us') AS is_final,
    coalesce(max(journey.last_contact_ended_us), computed_day.day_end_us)
        AS last_contact_ended_us
FROM days AS computed_day
LEFT JOIN int_journeys AS journey ON journey.partition_date = computed_day.day
GROUP BY computed_day.day, computed_day.day_end_us;
