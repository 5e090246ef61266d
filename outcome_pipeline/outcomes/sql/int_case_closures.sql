-- Grain: one row per (case, closed_at) of a contact's case, solved or closed in a version
-- known at as_of.
-- A contact's case counts as closed when a known version shows it solved/closed with
-- closed_at between the contact's start and W later (later closures cannot change a
-- journey whose window has closed). The contacts' case ids are made distinct first: with
-- the bare column, DuckDB built the semi-join's hash table on the case versions (the larger
-- side; benchmarks/PERFORMANCE.md, "SQL choices").
CREATE OR REPLACE TEMP TABLE int_case_closures AS
SELECT DISTINCT case_id, epoch_us(closed_at) AS closed_us
FROM in_cases
WHERE updated_at <= getvariable('as_of_ts')
    AND status IN ('solved', 'closed')
    AND closed_at IS NOT NULL
    AND case_id IN (SELECT DISTINCT case_id FROM int_contacts WHERE case_id IS NOT NULL);
