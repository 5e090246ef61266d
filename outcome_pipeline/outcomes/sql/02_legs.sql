-- Legs queued from margin_start (one day before the first computed day) to zone_end =
-- min(as_of, last computed day's end + H + W): in-span contacts of a computed day's journeys
-- start by its end + H, and whether the last one is followed is known W later, so no later
-- contact can change a computed row (journey horizon, METRICS "Building blocks"). At-least-
-- once delivery: of an id delivered more than once the latest updated_at wins (then the
-- latest partition, file and line, like the stg_*_current views). Ids are unique in almost
-- every row, so only the repeated ones are sorted; the rest stream from the Arrow input.
-- queued_at is taken as immutable: versions of an id are compared within this zone.
CREATE OR REPLACE TEMP MACRO zone_legs() AS TABLE
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

CREATE OR REPLACE TEMP TABLE leg_redelivered AS
SELECT * EXCLUDE (updated_at, partition_date, source_file, source_line)
FROM zone_legs()
WHERE interaction_id IN (
    SELECT interaction_id FROM zone_legs() GROUP BY interaction_id HAVING count(*) > 1
)
QUALIFY row_number() OVER (
    PARTITION BY interaction_id
    ORDER BY updated_at DESC, partition_date DESC, source_file DESC, source_line DESC
) = 1;

CREATE OR REPLACE TEMP VIEW zone_legs_latest AS
SELECT * EXCLUDE (updated_at, partition_date, source_file, source_line)
FROM zone_legs()
WHERE interaction_id NOT IN (SELECT interaction_id FROM leg_redelivered)
UNION ALL
SELECT * FROM leg_redelivered;

-- Transfer links whose parent leg is present; a leg whose parent is missing is a root.
CREATE OR REPLACE TEMP TABLE leg_links AS
SELECT interaction_id AS leg_id, parent_id
FROM zone_legs_latest
WHERE parent_id IS NOT NULL
    AND parent_id <> interaction_id
    AND parent_id IN (SELECT interaction_id FROM zone_legs());

-- Walk each chain to its root (chains are 2-3 legs; depth capped at 16 against cycles).
CREATE OR REPLACE TEMP TABLE leg_roots AS
WITH RECURSIVE walk(leg_id, ancestor, depth) AS (
    SELECT leg_id, parent_id, 1 FROM leg_links
    UNION ALL
    SELECT walk.leg_id, link.parent_id, walk.depth + 1
    FROM walk
    JOIN leg_links AS link ON link.leg_id = walk.ancestor
    WHERE walk.depth < 16
)
SELECT leg_id, arg_max(ancestor, depth) AS root_id
FROM walk
GROUP BY leg_id;

-- The legs contacts are built from: every leg from scope_start on, and of the margin day
-- before it only the chains that reach into the scope (a contact begun the evening before
-- whose transfer legs fall in the scope: its legs, whole, give those legs their contact,
-- customer and segment). The rest of the margin day is neither a computed contact nor
-- context (the context zone runs to scope_start), so it is dropped here, before the contact
-- and identity work.
CREATE OR REPLACE TEMP TABLE margin_chains AS
SELECT DISTINCT leg_root.root_id
FROM leg_roots AS leg_root
JOIN zone_legs_latest AS leg ON leg.interaction_id = leg_root.leg_id
WHERE leg.queued_us >= getvariable('scope_start_us');

CREATE OR REPLACE TEMP VIEW legs AS
SELECT * FROM zone_legs_latest
WHERE queued_us >= getvariable('scope_start_us')
    OR interaction_id IN (SELECT root_id FROM margin_chains)
    OR interaction_id IN (
        SELECT leg_id FROM leg_roots WHERE root_id IN (SELECT root_id FROM margin_chains)
    );
