-- One row per identified customer and day they started a journey; time to value from the
-- customer's lifetime subscription events known at as_of.
WITH events AS (
    SELECT customer_id, event_type, occurred_us
    FROM sub_events
    WHERE event_type IN ('signup', 'activated')
),
signup AS (
    SELECT customer_id, min(occurred_us) AS signup_us
    FROM events WHERE event_type = 'signup' GROUP BY customer_id
),
ttv AS (
    SELECT s.customer_id, s.signup_us, min(e.occurred_us) AS activated_us
    FROM signup AS s
    LEFT JOIN events AS e
        ON e.customer_id = s.customer_id
        AND e.event_type = 'activated'
        AND e.occurred_us >= s.signup_us
    GROUP BY s.customer_id, s.signup_us
),
per_day AS (
    SELECT
        partition_date,
        customer_key,
        arg_min(segment, first_us) AS segment,
        count(*) AS journeys_started,
        count(*) FILTER (WHERE is_ended) AS journeys_ended,
        count(*) FILTER (WHERE resolved) AS resolved_journeys,
        sum(contacts) AS contacts,
        arg_max(
            CASE WHEN NOT is_ended THEN 'open' WHEN resolved THEN 'resolved' ELSE 'unresolved' END,
            first_us
        ) AS last_outcome,
        arg_min(mrr_at_stake, first_us) AS mrr_at_stake,
        bool_or(churned_30d) AS churned_30d,
        bool_or(churned_90d) AS churned_90d,
        arg_min(churn_type, churned_us) AS churn_type,
        bool_and(is_ended) AS is_final,
        bool_and(churn_90d_final) AS churn_90d_final
    FROM journeys_out
    WHERE NOT is_anonymous
    GROUP BY partition_date, customer_key
)
SELECT
    p.partition_date,
    p.customer_key,
    p.segment,
    p.journeys_started,
    p.journeys_ended,
    p.resolved_journeys,
    ratio(p.resolved_journeys, p.journeys_ended) AS resolved_share,
    p.contacts,
    p.last_outcome,
    p.mrr_at_stake,
    p.churned_30d AS churned_within_30d,
    p.churned_90d AS churned_within_90d,
    p.churn_type,
    us_to_ts(t.signup_us) AS signup_at,
    us_to_ts(t.activated_us) AS activated_at,
    (t.activated_us - t.signup_us) / 86400e6 AS time_to_value_days,
    p.is_final,
    p.churn_90d_final AS churn_90d_is_final,
    us_to_ts(getvariable('as_of_us')) AS as_of
FROM per_day AS p
LEFT JOIN ttv AS t ON t.customer_id = p.customer_key
ORDER BY p.partition_date, p.customer_key
