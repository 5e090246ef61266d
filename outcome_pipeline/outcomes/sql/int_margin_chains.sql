-- Grain: one row per root leg whose transfer chain reaches from before scope_start into it.
-- A contact begun the evening before whose transfer legs fall in the scope: its legs, whole,
-- give those legs their contact, customer and segment (int_legs).
CREATE OR REPLACE TEMP TABLE int_margin_chains AS
SELECT DISTINCT leg_root.root_id
FROM int_leg_roots AS leg_root
JOIN int_zone_legs AS leg ON leg.interaction_id = leg_root.leg_id
WHERE leg.queued_us >= getvariable('scope_start_us');
