-- Grain: one row per subscription event known at as_of (its latest delivery).
CREATE OR REPLACE TEMP TABLE int_subscription_events AS
SELECT customer_id, event_type, epoch_us(occurred_at) AS occurred_us, churn_type, event_id
FROM latest_delivery('in_subscription_events', event_id)
WHERE epoch_us(occurred_at) <= getvariable('as_of_us');
