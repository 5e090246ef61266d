-- Legs of the computed days aggregated (outputs), the day x dimension spine, day maturity.

-- The legs of the computed days (outputs), with what the daily tables read of each. A view:
-- the legs are read once, by leg_daily below. A materialised copy of every leg (~1M rows a
-- day) was the session's largest table and failed under a tight memory cap (DuckDB cannot
-- spill a table while it is being created).
CREATE OR REPLACE TEMP VIEW leg_facts AS
SELECT
    computed_day.day,
    leg.channel,
    leg.direction,
    leg.agent_id,
    leg.abandoned,
    leg.queued_us,
    leg.answered_us,
    leg.first_response_us,
    leg.ended_us,
    coalesce(leg.queue, getvariable('unassigned')) AS queue_or_unassigned,
    coalesce(leg.team, getvariable('unassigned')) AS team_or_unassigned,
    coalesce(contact.segment, 'unknown') AS segment,
    NOT leg.abandoned AND leg.answered_us IS NOT NULL AS is_handled,
    coalesce(leg.talk_seconds, 0) + coalesce(leg.hold_seconds, 0) + coalesce(leg.acw_seconds, 0)
        AS handle_seconds,
    leg.channel IN (SELECT channel FROM sync_channels) AS is_sync,
    leg.interaction_id IN (SELECT parent_id FROM leg_links) AS is_transferred
FROM zone_legs_latest AS leg  -- from scope_start on, where `legs` is every leg (02_legs)
JOIN days AS computed_day ON local_day(leg.queued_us) = computed_day.day
LEFT JOIN leg_roots AS leg_root ON leg_root.leg_id = leg.interaction_id
LEFT JOIN contact_facts AS contact
    ON contact.contact_id = coalesce(leg_root.root_id, leg.interaction_id)
WHERE leg.queued_us >= getvariable('scope_start_us');

-- Every leg aggregate of the daily tables in one pass over the legs, at two grains:
-- is_queue_grain (day x channel x queue x team x segment: daily_outputs and the spine), else
-- day x team x agent (the handled side of daily_agent_output_vs_outcome).
-- The join to contact_facts must build its hash table on contact_facts (two columns), as
-- written. DuckDB's build_side_probe_side optimizer flipped it to build on the legs with every
-- column the aggregates read, estimated smaller, and ran out of memory on long ranges
-- (benchmarks/PERFORMANCE.md, "SQL choices").
SET disabled_optimizers = 'build_side_probe_side';
CREATE OR REPLACE TEMP TABLE leg_daily AS
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
FROM leg_facts
GROUP BY GROUPING SETS (
    (day, channel, queue_or_unassigned, team_or_unassigned, segment),
    (day, team_or_unassigned, agent_id)
);
RESET disabled_optimizers;

-- The spine depends only on the day's own legs and the fixed lists, so computing a range
-- of days gives the same rows as computing each day alone.
CREATE OR REPLACE TEMP TABLE spine AS
WITH queue_team_pairs AS (
    SELECT DISTINCT day, queue, team FROM leg_daily WHERE is_queue_grain
    UNION
    SELECT day, getvariable('unassigned'), getvariable('unassigned') FROM days
)
SELECT queue_team.day, dim_channels.channel, queue_team.queue, queue_team.team,
    dim_segments.segment
FROM queue_team_pairs AS queue_team
CROSS JOIN dim_channels
CROSS JOIN dim_segments;

-- A day is final once every contact's window and every journey started that day has closed.
CREATE OR REPLACE TEMP TABLE day_status AS
SELECT
    computed_day.day,
    getvariable('as_of_us') >= computed_day.day_end_us AS is_day_over,
    getvariable('as_of_us') >= computed_day.day_end_us + getvariable('w_us')
        AND coalesce(max(journey.window_closes_us), 0) <= getvariable('as_of_us') AS is_final,
    coalesce(max(journey.last_contact_ended_us), computed_day.day_end_us)
        AS last_contact_ended_us
FROM days AS computed_day
LEFT JOIN journeys_out AS journey ON journey.partition_date = computed_day.day
GROUP BY computed_day.day, computed_day.day_end_us;
