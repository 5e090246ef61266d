-- Legs of the computed days aggregated (outputs), the day x dimension spine, day maturity.

-- The legs of the computed days (outputs), with what the daily tables read of each. A view:
-- the legs are read once, by leg_daily below. A materialised copy of every leg (~1M rows a
-- day) was the session's largest table and failed under a tight memory cap (DuckDB cannot
-- spill a table while it is being created).
CREATE OR REPLACE TEMP VIEW leg_facts AS
SELECT
    d.day,
    l.channel,
    l.direction,
    l.agent_id,
    l.abandoned,
    l.queued_us,
    l.answered_us,
    l.first_response_us,
    l.ended_us,
    coalesce(l.queue, getvariable('unassigned')) AS queue_d,
    coalesce(l.team, getvariable('unassigned')) AS team_d,
    coalesce(f.segment, 'unknown') AS segment,
    NOT l.abandoned AND l.answered_us IS NOT NULL AS handled,
    coalesce(l.talk_seconds, 0) + coalesce(l.hold_seconds, 0) + coalesce(l.acw_seconds, 0)
        AS handle_seconds,
    l.channel IN (SELECT channel FROM sync_channels) AS is_sync,
    l.interaction_id IN (SELECT parent_id FROM leg_links) AS transferred
FROM zone_legs_latest AS l  -- from scope_start on, where `legs` is every leg (02_legs)
JOIN days AS d ON local_day(l.queued_us) = d.day
LEFT JOIN leg_roots AS r ON r.leg_id = l.interaction_id
LEFT JOIN contact_facts AS f ON f.contact_id = coalesce(r.root_id, l.interaction_id)
WHERE l.queued_us >= getvariable('scope_start_us');

-- Every leg aggregate of the daily tables in one pass over the legs, at two grains:
-- by_queue (day x channel x queue x team x segment: daily_outputs and the spine) and
-- by_agent (day x team x agent: the handled side of daily_output_vs_outcome).
-- The join to contact_facts must build its hash table on contact_facts (two columns), as
-- written. DuckDB's build_side_probe_side optimizer flipped it to build on the legs with every
-- column the aggregates read, estimated smaller, and ran out of memory on long ranges
-- (benchmarks/PERFORMANCE.md, "SQL choices").
SET disabled_optimizers = 'build_side_probe_side';
CREATE OR REPLACE TEMP TABLE leg_daily AS
SELECT
    day, channel, queue_d AS queue, team_d AS team, segment, agent_id,
    grouping(channel) = 0 AS by_queue,
    count(*) FILTER (WHERE direction = 'inbound') AS offered,
    count(*) FILTER (WHERE handled) AS handled,
    count(*) FILTER (WHERE direction = 'inbound' AND abandoned) AS abandoned,
    count(*) FILTER (
        WHERE direction = 'inbound' AND is_sync AND handled
            AND answered_us - queued_us <= getvariable('sl_seconds') * 1000000
    ) AS sl_answered,
    count(*) FILTER (
        WHERE direction = 'inbound' AND is_sync
            AND NOT (abandoned AND ended_us - queued_us < getvariable('short_abandon_seconds') * 1000000)
    ) AS sl_offered,
    count(*) FILTER (WHERE direction = 'inbound' AND is_sync AND handled) AS asa_answered,
    -- Integer sums, divided once: a sum of DOUBLEs depends on the threads' order.
    sum(answered_us - queued_us)
        FILTER (WHERE direction = 'inbound' AND is_sync AND handled) / 1000000 AS asa_wait,
    sum(handle_seconds) FILTER (WHERE handled) AS handle_seconds_sum,
    count(*) FILTER (WHERE handled AND transferred) AS transferred,
    count(*) FILTER (
        WHERE direction = 'inbound' AND NOT is_sync AND first_response_us IS NOT NULL
    ) AS frt_responses,
    sum(first_response_us - queued_us) FILTER (
        WHERE direction = 'inbound' AND NOT is_sync AND first_response_us IS NOT NULL
    ) / 1000000 AS frt_sum,
    median((first_response_us - queued_us) / 1e6) FILTER (
        WHERE direction = 'inbound' AND NOT is_sync AND first_response_us IS NOT NULL
    ) AS frt_median
FROM leg_facts
GROUP BY GROUPING SETS ((day, channel, queue_d, team_d, segment), (day, team_d, agent_id));
RESET disabled_optimizers;

-- The spine depends only on the day's own legs and the fixed lists, so computing a range
-- of days gives the same rows as computing each day alone.
CREATE OR REPLACE TEMP TABLE spine AS
WITH pairs AS (
    SELECT DISTINCT day, queue, team FROM leg_daily WHERE by_queue
    UNION
    SELECT day, getvariable('unassigned'), getvariable('unassigned') FROM days
)
SELECT p.day, c.channel, p.queue, p.team, s.segment
FROM pairs AS p
CROSS JOIN dim_channels AS c
CROSS JOIN dim_segments AS s;

-- A day is final once every contact's window and every journey started that day has closed.
CREATE OR REPLACE TEMP TABLE day_status AS
SELECT
    d.day,
    getvariable('as_of_us') >= d.day_end_us AS day_over,
    getvariable('as_of_us') >= d.day_end_us + getvariable('w_us')
        AND coalesce(max(j.closes_us), 0) <= getvariable('as_of_us') AS is_final,
    coalesce(max(j.last_ended_us), d.day_end_us) AS last_end_us
FROM days AS d
LEFT JOIN journeys_out AS j ON j.partition_date = d.day
GROUP BY d.day, d.day_end_us;
