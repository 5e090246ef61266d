-- Grain: one row per leg contacts are built from: every zone leg from scope_start on, and of
-- the margin day before it only the chains that reach into the scope (int_margin_chains).
-- The rest of the margin day is neither a computed contact nor context (the context zone runs
-- to scope_start), so it is dropped here, before the contact and identity work.
CREATE OR REPLACE TEMP VIEW int_legs AS
SELECT * FROM int_zone_legs
WHERE queued_us >= getvariable('scope_start_us')
    OR interaction_id IN (SELECT root_id FROM int_margin_chains)
    OR interaction_id IN (
        SELECT leg_id FROM int_leg_roots WHERE root_id IN (SELECT root_id FROM int_margin_chains)
    );
