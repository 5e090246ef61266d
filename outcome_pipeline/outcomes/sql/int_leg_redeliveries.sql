-- Grain: one row per leg id delivered more than once in the zone: its latest delivery.
-- Materialised (few rows), so the int_zone_legs view ranks nothing at each read.
CREATE OR REPLACE TEMP TABLE int_leg_redeliveries AS
SELECT * EXCLUDE (updated_at, partition_date, source_file, source_line)
FROM redelivered_latest('int_zone_leg_deliveries', interaction_id);
