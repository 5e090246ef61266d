-- Grain: one row per transfer leg (leg_id), with the root leg of its chain.
-- Chains are 2-3 legs; the walk's depth is capped at 16 against cycles.
CREATE OR REPLACE TEMP TABLE int_leg_roots AS
WITH RECURSIVE walk(leg_id, ancestor, depth) AS (
    SELECT leg_id, parent_id, 1 FROM int_leg_links
    UNION ALL
    SELECT walk.leg_id, link.parent_id, walk.depth + 1
    FROM walk
    JOIN int_leg_links AS link ON link.leg_id = walk.ancestor
    WHERE walk.depth < 16
)
SELECT leg_id, arg_max(ancestor, depth) AS root_id
FROM walk
GROUP BY leg_id;
