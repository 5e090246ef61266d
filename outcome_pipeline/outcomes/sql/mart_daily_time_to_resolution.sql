-- Grain: one row per computed day x time-to-resolution bucket.
-- Resolved identified journeys by time-to-resolution bucket (ttr_buckets: registered from
-- distribution_tables.TTR_BUCKETS), on the day x bucket spine.
WITH resolved AS (
    SELECT partition_date AS day, time_to_resolution_hours
    FROM int_journeys
    WHERE is_resolved AND NOT is_anonymous
),
counted AS (
    SELECT resolved.day, bucket.bucket_order, count(*) AS resolved_journeys
    FROM resolved
    JOIN ttr_buckets AS bucket
        ON resolved.time_to_resolution_hours >= bucket.lower_hours
        AND (bucket.upper_hours IS NULL OR resolved.time_to_resolution_hours < bucket.upper_hours)
    GROUP BY ALL
)
SELECT
    computed_day.day AS partition_date,
    bucket.bucket,
    bucket.bucket_order,
    bucket.lower_hours,
    bucket.upper_hours,
    coalesce(counted.resolved_journeys, 0) AS resolved_journeys,
    day_status.is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM days AS computed_day
CROSS JOIN ttr_buckets AS bucket
JOIN int_day_status AS day_status ON day_status.day = computed_day.day
LEFT JOIN counted
    ON counted.day = computed_day.day AND counted.bucket_order = bucket.bucket_order
ORDER BY partition_date, bucket_order
