-- Grain: one row per delivery of a leg queued from margin_start to zone_end.
-- margin_start is one day before the first computed day; zone_end = min(as_of, last computed
-- day's end + H + W): in-span contacts of a computed day's journeys start by its end + H, and
-- whether the last one is followed is known W later, so no later contact can change a
-- computed row (journey horizon, docs/journey_horizon.md). A view: the legs stream from the
-- input at each read.
CREATE OR REPLACE TEMP VIEW int_zone_leg_deliveries AS
SELECT
    interaction_id,
    nullif(trim(parent_interaction_id), '') AS parent_id,
    channel, direction, customer_id, customer_email, customer_phone,
    queue, team, agent_id,
    nullif(trim(case_id), '') AS case_id,
    disposition, abandoned, talk_seconds, hold_seconds, acw_seconds,
    epoch_us(queued_at) AS queued_us,
    epoch_us(answered_at) AS answered_us,
    epoch_us(first_response_at) AS first_response_us,
    epoch_us(ended_at) AS ended_us,
    updated_at, partition_date, source_file, source_line
FROM in_interactions_main
WHERE queued_at BETWEEN getvariable('margin_ts') AND getvariable('zone_end_ts');
