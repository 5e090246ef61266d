-- Grain: one row per computed day x journey outcome (resolved, unresolved).
-- Churn and revenue of the ended identified journeys, resolved versus unresolved.
WITH ended AS (
    SELECT
        partition_date AS day,
        CASE WHEN is_resolved THEN 'resolved' ELSE 'unresolved' END AS journey_outcome,
        is_churned_within_30d,
        is_churned_within_90d,
        mrr_at_stake
    FROM int_journeys
    WHERE is_ended AND NOT is_anonymous
),
by_outcome AS (
    SELECT
        day,
        journey_outcome,
        count(*) AS journeys_ended,
        count(*) FILTER (WHERE is_churned_within_30d) AS churned_30d,
        count(*) FILTER (WHERE is_churned_within_90d) AS churned_90d,
        -- DECIMAL sums, as in daily_outcomes: a DOUBLE sum depends on the threads' order.
        sum(mrr_at_stake::DECIMAL(18, 4))::DOUBLE AS mrr_at_stake,
        sum(mrr_at_stake::DECIMAL(18, 4)) FILTER (WHERE is_churned_within_90d)::DOUBLE
            AS mrr_churned_90d
    FROM ended
    GROUP BY ALL
),
outcome_spine AS (
    SELECT computed_day.day, outcome.journey_outcome
    FROM days AS computed_day
    CROSS JOIN (VALUES ('resolved'), ('unresolved')) AS outcome (journey_outcome)
),
cells AS (
    SELECT
        outcome_spine.day AS partition_date,
        outcome_spine.journey_outcome,
        coalesce(by_outcome.journeys_ended, 0) AS journeys_ended,
        coalesce(by_outcome.churned_30d, 0) AS churned_30d,
        coalesce(by_outcome.churned_90d, 0) AS churned_90d,
        coalesce(by_outcome.mrr_at_stake, 0) AS mrr_at_stake,
        coalesce(by_outcome.mrr_churned_90d, 0) AS mrr_churned_90d,
        day_status.is_churn_30d_final,
        day_status.is_churn_90d_final,
        us_to_ts(getvariable('as_of_us')) AS as_of
    FROM outcome_spine
    JOIN int_day_status AS day_status USING (day)
    LEFT JOIN by_outcome USING (day, journey_outcome)
)
-- The rates: ratio(numerator, denominator) of the cells' columns, generated from RATES.
SELECT * FROM daily_churn_by_outcome_with_rates('cells')
ORDER BY partition_date, journey_outcome
