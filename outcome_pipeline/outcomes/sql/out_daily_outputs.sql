WITH agg AS (SELECT * FROM leg_daily WHERE by_queue)
SELECT
    s.day AS partition_date,
    s.channel,
    s.queue,
    s.team,
    s.segment,
    coalesce(a.offered, 0) AS offered,
    coalesce(a.handled, 0) AS handled,
    coalesce(a.abandoned, 0) AS abandoned,
    ratio(coalesce(a.abandoned, 0), coalesce(a.offered, 0)) AS abandon_rate,
    getvariable('sl_seconds') AS sl_threshold_seconds,
    coalesce(a.sl_answered, 0) AS sl_answered_within_threshold,
    coalesce(a.sl_offered, 0) AS sl_offered_excl_short_abandons,
    ratio(coalesce(a.sl_answered, 0), coalesce(a.sl_offered, 0))
        AS service_level_answered_excl_short_abandons,
    coalesce(a.asa_answered, 0) AS asa_answered,
    coalesce(a.asa_wait, 0) AS asa_wait_seconds_sum,
    ratio(coalesce(a.asa_wait, 0), coalesce(a.asa_answered, 0)) AS asa_seconds,
    coalesce(a.handle_seconds_sum, 0) AS handle_seconds_sum,
    ratio(coalesce(a.handle_seconds_sum, 0), coalesce(a.handled, 0)) AS aht_seconds,
    coalesce(a.transferred, 0) AS transferred,
    ratio(coalesce(a.transferred, 0), coalesce(a.handled, 0)) AS transfer_rate,
    coalesce(a.frt_responses, 0) AS frt_responses,
    coalesce(a.frt_sum, 0) AS frt_seconds_sum,
    ratio(coalesce(a.frt_sum, 0), coalesce(a.frt_responses, 0)) AS frt_mean_seconds,
    a.frt_median AS frt_median_seconds,
    t.day_over AS is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM spine AS s
JOIN day_status AS t USING (day)
LEFT JOIN agg AS a USING (day, channel, queue, team, segment)
ORDER BY partition_date, channel, queue, team, segment
