-- Grain: one row per leg (interaction_id) queued in the zone, in its latest delivery.
-- latest_delivery's rule, with the ranked re-deliveries read from int_leg_redeliveries.
-- queued_at is taken as immutable: versions of an id are compared within this zone.
CREATE OR REPLACE TEMP VIEW int_zone_legs AS
SELECT * EXCLUDE (updated_at, partition_date, source_file, source_line)
FROM int_zone_leg_deliveries
WHERE interaction_id NOT IN (SELECT interaction_id FROM int_leg_redeliveries)
UNION ALL
SELECT * FROM int_leg_redeliveries;
