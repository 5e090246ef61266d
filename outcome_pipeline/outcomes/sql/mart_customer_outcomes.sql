-- Grain: one row per identified customer x day they started a journey.
-- Time to value from the customer's lifetime subscription events known at as_of.
WITH events AS (
    SELECT customer_id, event_type, occurred_us
    FROM int_subscription_events
    WHERE event_type IN ('signup', 'activated')
),
signup AS (
    SELECT customer_id, min(occurred_us) AS signup_us
    FROM events WHERE event_type = 'signup' GROUP BY customer_id
),
time_to_value AS (
    SELECT signup.customer_id, signup.signup_us, min(activation.occurred_us) AS activated_us
    FROM signup
    LEFT JOIN events AS activation
        ON activation.customer_id = signup.customer_id
        AND activation.event_type = 'activated'
        AND activation.occurred_us >= signup.signup_us
    GROUP BY signup.customer_id, signup.signup_us
),
per_day AS (
    SELECT
        partition_date,
        customer_key,
        arg_min(segment, first_contact_us) AS segment,
        count(*) AS journeys_started,
        count(*) FILTER (WHERE is_ended) AS journeys_ended,
        count(*) FILTER (WHERE is_resolved) AS resolved_journeys,
        sum(contacts) AS contacts,
        arg_max(
            CASE WHEN NOT is_ended THEN 'open' WHEN is_resolved THEN 'resolved' ELSE 'unresolved' END,
            first_contact_us
        ) AS last_outcome,
        arg_min(mrr_at_stake, first_contact_us) AS mrr_at_stake,
        bool_or(is_churned_within_30d) AS is_churned_within_30d,
        bool_or(is_churned_within_90d) AS is_churned_within_90d,
        arg_min(churn_type, churned_us) AS churn_type,
        bool_and(is_ended) AS is_final,
        bool_and(is_churn_90d_final) AS is_churn_90d_final
    FROM int_journeys
    WHERE NOT is_anonymous
    GROUP BY partition_date, customer_key
),
cells AS (
    SELECT
        per_day.partition_date,
        per_day.customer_key,
        per_day.segment,
        per_day.journeys_started,
        per_day.journeys_ended,
        per_day.resolved_journeys,
        per_day.contacts,
        per_day.last_outcome,
        per_day.mrr_at_stake,
        per_day.is_churned_within_30d,
        per_day.is_churned_within_90d,
        per_day.churn_type,
        us_to_ts(time_to_value.signup_us) AS signup_at,
        us_to_ts(time_to_value.activated_us) AS activated_at,
        (time_to_value.activated_us - time_to_value.signup_us) / 86400e6 AS time_to_value_days,
        per_day.is_final,
        per_day.is_churn_90d_final,
        us_to_ts(getvariable('as_of_us')) AS as_of
    FROM per_day
    LEFT JOIN time_to_value ON time_to_value.customer_id = per_day.customer_key
)
-- The rates: ratio(numerator, denominator) of the cells' columns, generated from RATES.
SELECT * FROM customer_outcomes_with_rates('cells')
ORDER BY partition_date, customer_key
