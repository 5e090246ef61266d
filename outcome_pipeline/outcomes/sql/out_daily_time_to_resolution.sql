-- Resolved identified journeys by time-to-resolution bucket (ttr_buckets: registered from
-- distribution_tables.TTR_BUCKETS), on the day x bucket spine.
WITH resolved AS (
    SELECT partition_date AS day, ttr_hours
    FROM journeys_out
    WHERE resolved AND NOT is_anonymous
),
counted AS (
    SELECT r.day, b.bucket_order, count(*) AS resolved_journeys
    FROM resolved AS r
    JOIN ttr_buckets AS b
        ON r.ttr_hours >= b.lower_hours AND (b.upper_hours IS NULL OR r.ttr_hours < b.upper_hours)
    GROUP BY ALL
)
SELECT
    d.day AS partition_date,
    b.bucket,
    b.bucket_order,
    b.lower_hours,
    b.upper_hours,
    coalesce(c.resolved_journeys, 0) AS resolved_journeys,
    t.is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM days AS d
CROSS JOIN ttr_buckets AS b
JOIN day_status AS t ON t.day = d.day
LEFT JOIN counted AS c ON c.day = d.day AND c.bucket_order = b.bucket_order
ORDER BY partition_date, bucket_order
