WITH queue_grain AS (SELECT * FROM int_leg_daily WHERE is_queue_grain)
SELECT
    spine.day AS partition_date,
    spine.channel,
    spine.queue,
    spine.team,
    spine.segment,
    coalesce(legs.legs_offered, 0) AS legs_offered,
    coalesce(legs.legs_handled, 0) AS legs_handled,
    coalesce(legs.legs_abandoned, 0) AS legs_abandoned,
    ratio(coalesce(legs.legs_abandoned, 0), coalesce(legs.legs_offered, 0)) AS abandon_rate,
    getvariable('sl_seconds') AS sl_threshold_seconds,
    coalesce(legs.sl_legs_answered_within_threshold, 0) AS sl_legs_answered_within_threshold,
    coalesce(legs.sl_legs_offered_excl_short_abandons, 0) AS sl_legs_offered_excl_short_abandons,
    ratio(
        coalesce(legs.sl_legs_answered_within_threshold, 0),
        coalesce(legs.sl_legs_offered_excl_short_abandons, 0)
    ) AS service_level_answered_excl_short_abandons,
    coalesce(legs.asa_legs_answered, 0) AS asa_legs_answered,
    coalesce(legs.asa_wait_seconds_sum, 0) AS asa_wait_seconds_sum,
    ratio(coalesce(legs.asa_wait_seconds_sum, 0), coalesce(legs.asa_legs_answered, 0)) AS asa_seconds,
    coalesce(legs.handle_seconds_sum, 0) AS handle_seconds_sum,
    ratio(coalesce(legs.handle_seconds_sum, 0), coalesce(legs.legs_handled, 0)) AS aht_seconds,
    coalesce(legs.legs_transferred, 0) AS legs_transferred,
    ratio(coalesce(legs.legs_transferred, 0), coalesce(legs.legs_handled, 0)) AS transfer_rate,
    coalesce(legs.frt_legs_responded, 0) AS frt_legs_responded,
    coalesce(legs.frt_seconds_sum, 0) AS frt_seconds_sum,
    ratio(coalesce(legs.frt_seconds_sum, 0), coalesce(legs.frt_legs_responded, 0)) AS frt_mean_seconds,
    legs.frt_median_seconds,
    day_status.is_day_over AS is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM int_daily_spine AS spine
JOIN int_day_status AS day_status USING (day)
LEFT JOIN queue_grain AS legs USING (day, channel, queue, team, segment)
ORDER BY partition_date, channel, queue, team, segment
