-- Grain: one row per computed day x channel x queue x team x segment (int_daily_spine).
WITH queue_grain AS (SELECT * FROM int_leg_daily WHERE is_queue_grain),
cells AS (
    SELECT
        spine.day AS partition_date,
        spine.channel,
        spine.queue,
        spine.team,
        spine.segment,
        coalesce(legs.legs_offered, 0) AS legs_offered,
        coalesce(legs.legs_handled, 0) AS legs_handled,
        coalesce(legs.legs_abandoned, 0) AS legs_abandoned,
        getvariable('sl_seconds') AS sl_threshold_seconds,
        coalesce(legs.sl_legs_answered_within_threshold, 0) AS sl_legs_answered_within_threshold,
        coalesce(legs.sl_legs_offered_excl_short_abandons, 0) AS sl_legs_offered_excl_short_abandons,
        coalesce(legs.asa_legs_answered, 0) AS asa_legs_answered,
        coalesce(legs.asa_wait_seconds_sum, 0) AS asa_wait_seconds_sum,
        coalesce(legs.handle_seconds_sum, 0) AS handle_seconds_sum,
        coalesce(legs.legs_transferred, 0) AS legs_transferred,
        coalesce(legs.frt_legs_responded, 0) AS frt_legs_responded,
        coalesce(legs.frt_seconds_sum, 0) AS frt_seconds_sum,
        legs.frt_median_seconds,
        day_status.is_day_over AS is_final,
        us_to_ts(getvariable('as_of_us')) AS as_of
    FROM int_daily_spine AS spine
    JOIN int_day_status AS day_status USING (day)
    LEFT JOIN queue_grain AS legs USING (day, channel, queue, team, segment)
)
-- The rates: ratio(numerator, denominator) of the cells' columns, generated from RATES.
SELECT * FROM daily_outputs_with_rates('cells')
ORDER BY partition_date, channel, queue, team, segment
