-- Churn and revenue of the ended identified journeys, resolved versus unresolved.
WITH ended AS (
    SELECT
        partition_date AS day,
        CASE WHEN resolved THEN 'resolved' ELSE 'unresolved' END AS journey_outcome,
        churned_30d,
        churned_90d,
        mrr_at_stake
    FROM journeys_out
    WHERE is_ended AND NOT is_anonymous
),
by_outcome AS (
    SELECT
        day,
        journey_outcome,
        count(*) AS journeys_ended,
        count(*) FILTER (WHERE churned_30d) AS churned_30d,
        count(*) FILTER (WHERE churned_90d) AS churned_90d,
        -- DECIMAL sums, as in daily_outcomes: a DOUBLE sum depends on the threads' order.
        sum(mrr_at_stake::DECIMAL(18, 4))::DOUBLE AS mrr_at_stake,
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE churned_90d)::DOUBLE AS mrr_churned_90d
    FROM ended
    GROUP BY ALL
),
outcome_spine AS (
    SELECT d.day, o.journey_outcome
    FROM days AS d
    CROSS JOIN (VALUES ('resolved'), ('unresolved')) AS o (journey_outcome)
)
SELECT
    s.day AS partition_date,
    s.journey_outcome,
    coalesce(b.journeys_ended, 0) AS journeys_ended,
    coalesce(b.churned_30d, 0) AS churned_30d,
    ratio(coalesce(b.churned_30d, 0), coalesce(b.journeys_ended, 0)) AS churn_30d_rate,
    coalesce(b.churned_90d, 0) AS churned_90d,
    ratio(coalesce(b.churned_90d, 0), coalesce(b.journeys_ended, 0)) AS churn_90d_rate,
    coalesce(b.mrr_at_stake, 0) AS mrr_at_stake,
    coalesce(b.mrr_churned_90d, 0) AS mrr_churned_90d,
    t.is_final AND getvariable('as_of_us') >= t.last_end_us + getvariable('churn_short_us')
        AS churn_30d_is_final,
    t.is_final AND getvariable('as_of_us') >= t.last_end_us + getvariable('churn_long_us')
        AS churn_90d_is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM outcome_spine AS s
JOIN day_status AS t USING (day)
LEFT JOIN by_outcome AS b USING (day, journey_outcome)
ORDER BY partition_date, journey_outcome
