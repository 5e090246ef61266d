-- Grain: one row per identified contact started from scope_start on.
-- Journeys: a customer's contacts ordered by start; a contact is a repeat iff the
-- customer's previous contact (in the main zone, else the latest context contact) started
-- within W before it, and every contact that is not a repeat starts a journey. Contacts
-- before scope_start only make later contacts repeats: their journeys are not computed.
-- Ties in start time are broken by contact_id, so the order is total and reproducible.
-- Journey horizon H (h_us): a journey's outcome is evaluated over its contacts that start
-- within H of its first contact ("in span"); later contacts stay repeats at contact level
-- and belong to no reported journey. A journey whose last in-span contact is followed within
-- W (necessarily by a contact after H) is capped: never resolved.
-- Repeats: over the identified contacts from scope_start on (narrow rows; int_contacts.rowid is
-- the integer key that joins the results back). Every contact before scope_start is in the
-- context (int_context_last); the margin's contacts kept for their legs are not sequenced.
CREATE OR REPLACE TEMP TABLE int_contact_sequence AS
WITH ordered AS (
    SELECT
        contact.rowid AS contact_no, contact.customer_key, contact.started_us, contact.contact_id,
        coalesce(lag(contact.started_us) OVER by_customer, context_contact.last_us) AS prev_us,
        lead(contact.started_us) OVER by_customer AS next_us,
        contact.channel <> lag(contact.channel) OVER by_customer AS switched
    FROM int_contacts AS contact
    LEFT JOIN int_context_last AS context_contact USING (customer_key)
    WHERE contact.customer_key IS NOT NULL AND contact.started_us >= getvariable('scope_start_us')
    WINDOW by_customer AS (
        PARTITION BY contact.customer_key ORDER BY contact.started_us, contact.contact_id
    )
)
SELECT
    contact_no, customer_key, started_us, contact_id,
    coalesce(started_us - prev_us <= getvariable('w_us'), false) AS is_repeat,
    coalesce(next_us - started_us <= getvariable('w_us'), false) AS is_followed_within_window,
    coalesce(started_us - prev_us <= getvariable('w_us') AND switched, false) AS is_channel_switch
FROM ordered;
