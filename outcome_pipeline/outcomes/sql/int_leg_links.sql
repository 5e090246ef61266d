-- Grain: one row per transfer leg whose parent leg is in the zone.
-- A leg whose parent is missing is a root.
CREATE OR REPLACE TEMP TABLE int_leg_links AS
SELECT interaction_id AS leg_id, parent_id
FROM int_zone_legs
WHERE parent_id IS NOT NULL
    AND parent_id <> interaction_id
    AND parent_id IN (SELECT interaction_id FROM int_zone_leg_deliveries);
