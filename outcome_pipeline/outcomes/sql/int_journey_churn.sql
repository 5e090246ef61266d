-- Grain: one row per ended identified journey followed by a churn event within the long
-- churn window.
-- Churn: the first 'churn' event of the customer after the journey's first contact and
-- within the long churn window (churn_long_us, default 90 days) after its last contact ended;
-- the *_30d columns use the short window (churn_short_us, default 30 days).
CREATE OR REPLACE TEMP TABLE int_journey_churn AS
WITH churns AS (SELECT * FROM int_subscription_events WHERE event_type = 'churn')
SELECT
    journey.journey_id,
    min(churn.occurred_us) AS churned_us,
    arg_min(churn.churn_type, (churn.occurred_us, churn.event_id)) AS churn_type
FROM int_journey_facts AS journey
JOIN churns AS churn
    ON churn.customer_id = journey.customer_key
    AND churn.occurred_us > journey.first_contact_us
    AND churn.occurred_us <= journey.last_contact_ended_us + getvariable('churn_long_us')
WHERE journey.is_ended AND NOT journey.is_anonymous
GROUP BY journey.journey_id;
