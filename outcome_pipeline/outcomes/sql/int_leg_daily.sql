-- Grain: one row per day x channel x queue x team x segment (is_queue_grain), and one per
-- day x team x agent (not is_queue_grain).
-- Every leg aggregate of the daily tables in one pass over the legs, at two grains:
-- is_queue_grain (day x channel x queue x team x segment: daily_outputs and the spine), else
-- day x team x agent (the handled side of daily_agent_output_vs_outcome).
-- The join to int_contact_facts must build its hash table on int_contact_facts (two columns), as
-- written. DuckDB's build_side_probe_side optimizer flipped it to build on the legs with every
-- column the aggregates read, estimated smaller, and ran out of memory on long ranges
-- (benchmarks/PERFORMANCE.md, "SQL choices").
SET disabled_optimizers = 'build_side_probe_side';
CREATE OR REPLACE TEMP TABLE int_leg_daily AS
SELECT
    day, channel, queue_or_unassigned AS queue, team_or_unassigned AS team, segment, agent_id,
    grouping(channel) = 0 AS is_queue_grain,
    count(*) FILTER (WHERE direction = 'inbound') AS legs_offered,
    count(*) FILTER (WHERE is_handled) AS legs_handled,
    count(*) FILTER (WHERE direction = 'inbound' AND abandoned) AS legs_abandoned,
    count(*) FILTER (
        WHERE direction = 'inbound' AND is_sync AND is_handled
            AND answered_us - queued_us <= getvariable('sl_seconds') * 1000000
    ) AS sl_legs_answered_within_threshold,
    count(*) FILTER (
        WHERE direction = 'inbound' AND is_sync
            AND NOT (abandoned AND ended_us - queued_us < getvariable('short_abandon_seconds') * 1000000)
    ) AS sl_legs_offered_excl_short_abandons,
    count(*) FILTER (WHERE direction = 'inbound' AND is_sync AND is_handled) AS asa_legs_answered,
    -- Integer sums, divided once: a sum of DOUBLEs depends on the threads' order.
    sum(answered_us - queued_us)
        FILTER (WHERE direction = 'inbound' AND is_sync AND is_handled) / 1000000
        AS asa_wait_seconds_sum,
    sum(handle_seconds) FILTER (WHERE is_handled) AS handle_seconds_sum,
    count(*) FILTER (WHERE is_handled AND is_transferred) AS legs_transferred,
    count(*) FILTER (
        WHERE direction = 'inbound' AND NOT is_sync AND first_response_us IS NOT NULL
    ) AS frt_legs_responded,
    sum(first_response_us - queued_us) FILTER (
        WHERE direction = 'inbound' AND NOT is_sync AND first_response_us IS NOT NULL
    ) / 1000000 AS frt_seconds_sum,
    median((first_response_us - queued_us) / 1e6) FILTER (
        WHERE direction = 'inbound' AND NOT is_sync AND first_response_us IS NOT NULL
    ) AS frt_median_seconds
FROM int_leg_facts
GROUP BY GROUPING SETS (
    (day, channel, queue_or_unassigned, team_or_unassigned, segment),
    (day, team_or_unassigned, agent_id)
);
RESET disabled_optimizers;
