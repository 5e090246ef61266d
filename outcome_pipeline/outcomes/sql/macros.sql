-- Macros shared by the relations and marts: identifier normalisation, pseudonyms, safe ratios,
-- the latest-delivery rule. Not relations: defined once per session (identity.py), before any
-- relation runs. Identifier rules are defined here once; identity.py documents and tests them.

-- Values that identify nobody: blank, "anonymous", "unknown", "n/a", ... They never join
-- two contacts. Argument: the value trimmed and lower-cased. (A regular expression, not an
-- IN list: DuckDB plans long IN lists as joins over every row, even inside a CASE branch.)
CREATE OR REPLACE TEMP MACRO placeholder_pattern() AS
    '|-+|\.|\?|anonymous|anon|unknown|unknown caller|none|null|nil|n/a|na|guest|withheld'
    || '|private|restricted|unavailable|not provided|not available|noreply|no-reply'
    || '|donotreply|do-not-reply|test|nobody|noemail|no-email|no email|customer';

CREATE OR REPLACE TEMP MACRO is_placeholder_lc(value_lc) AS regexp_full_match(value_lc, placeholder_pattern());

CREATE OR REPLACE TEMP MACRO is_placeholder(value) AS value IS NULL OR is_placeholder_lc(lower(trim(value)));

-- A CRM id (argument: trimmed): placeholders, all-zero ids and emails typed into the id
-- field are not ids.
CREATE OR REPLACE TEMP MACRO customer_id_ok(id_trimmed) AS
    NOT is_placeholder_lc(lower(id_trimmed))
    AND NOT regexp_full_match(id_trimmed, '[-0_. ]+|-1')
    AND NOT contains(id_trimmed, '@');

-- Email (argument: trimmed and lower-cased) must look like local@domain.tld; placeholder or
-- all-zero local parts ("unknown@...", "noreply@...", "000@...") are rejected. Exact match
-- only: no dot or +tag folding (Salesforce's EXACT_NORMALIZED).
CREATE OR REPLACE TEMP MACRO email_ok(email_lc) AS
    regexp_full_match(email_lc, '[^@\s]+@[^@\s]+\.[^@\s]+')
    AND NOT regexp_full_match(email_lc, '(0+|' || placeholder_pattern() || ')@.*');

-- Phone to E.164 digits (without "+"): a leading "+" keeps the digits as they are; a
-- leading "00" is the international prefix (dropped); a leading "0" is a national trunk
-- prefix (replaced by the default country code cc); other numbers of 11+ digits already
-- carry their country code, shorter ones get cc. So "07700 900123", "+44 7700 900123",
-- "0044 7700 900123" and "447700900123" are all +447700900123. Callers compute
-- digits = phone_digits(raw) once per row and pass it in.
CREATE OR REPLACE TEMP MACRO phone_digits(raw) AS
    regexp_replace(replace(raw, '(0)', ''), '[^0-9]', '', 'g');  -- "+44 (0)20 ...": drop the (0)
CREATE OR REPLACE TEMP MACRO e164_digits(raw, digits, cc) AS
    CASE
        WHEN starts_with(ltrim(raw), '+') THEN digits
        WHEN starts_with(digits, '00') THEN digits[3:]
        WHEN starts_with(digits, '0') THEN cc || digits[2:]
        WHEN length(digits) >= 11 THEN digits
        ELSE cc || digits
    END;

-- A valid number has 8..15 digits (E.164 allows at most 15) and a national part that is not
-- one digit repeated ("0000000000", "+44 7777 777777" are placeholders).
CREATE OR REPLACE TEMP MACRO valid_e164(e164, cc) AS
    length(e164) BETWEEN 8 AND 15
    AND replace(
        CASE WHEN starts_with(e164, cc) THEN e164[length(cc) + 1:] ELSE e164 END,
        CASE
            WHEN starts_with(e164, cc) THEN e164[length(cc) + 1:length(cc) + 1]
            ELSE e164[1:1]
        END,
        ''
    ) <> '';

-- HMAC-SHA256 (RFC 2104) from DuckDB's sha256: H((K xor opad) || H((K xor ipad) || m)).
-- The padded keys are session variables set by identity.py; tests check it equals Python's
-- hmac module.
CREATE OR REPLACE TEMP MACRO hmac_sha256_hex(msg) AS
    sha256(getvariable('hmac_opad') || unhex(sha256(getvariable('hmac_ipad') || encode(msg))));

-- Pseudonymous customer key of an identifier: "pk_" + 32 hex digits (128 bits) of its HMAC.
-- The kind ("email"/"phone") is hashed in so an email and a phone never collide.
CREATE OR REPLACE TEMP MACRO pseudonym(kind, value) AS
    'pk_' || left(hmac_sha256_hex(kind || ':' || value), 32);

-- numerator / denominator; 0/0 (or an unknown denominator) is NULL, never 0.
CREATE OR REPLACE TEMP MACRO ratio(numerator, denominator) AS
    CASE WHEN denominator IS NULL OR denominator = 0 THEN NULL ELSE numerator::DOUBLE / denominator END;

CREATE OR REPLACE TEMP MACRO us_to_ts(us) AS make_timestamptz(us);

-- Customer key of every row of relation `src` (columns cid, email, phone; others pass
-- through). Rank: a CRM id the CRM knows > normalised email of exactly one CRM customer >
-- normalised phone of exactly one CRM customer > pseudonym of the email > pseudonym of the
-- phone > an id the CRM does not know (kept as delivered) > anonymous (NULL). Identifiers
-- shared by several CRM customers match none of them (no super-clusters): they are hashed.
-- Rows with a known CRM id skip the email/phone work; each step is computed once per row.
-- Reads int_crm_ids, int_crm_by_email and int_crm_by_phone (relations.py declares it).
CREATE OR REPLACE TEMP MACRO resolve_identity(src) AS TABLE
WITH trimmed AS (
    SELECT source_row.*, trim(source_row.cid) AS cid_t FROM query_table(src) AS source_row
),
checked AS MATERIALIZED (
    SELECT *, coalesce(cid_t IN (SELECT customer_id FROM int_crm_ids), false) AS known_cid
    FROM trimmed
),
unknown AS (
    SELECT * EXCLUDE (known_cid),
        lower(trim(email)) AS email_l,
        phone_digits(phone) AS phone_d
    FROM checked
    WHERE NOT known_cid
),
steps AS (
    SELECT * EXCLUDE (email_l, phone_d),
        CASE WHEN cid_t IS NOT NULL AND customer_id_ok(cid_t) THEN cid_t END AS cid_n,
        CASE WHEN email_ok(email_l) THEN email_l END AS email_n,
        e164_digits(phone, phone_d, getvariable('cc')) AS phone_p
    FROM unknown
),
normalised AS (
    SELECT * EXCLUDE (phone_p),
        CASE WHEN valid_e164(phone_p, getvariable('cc')) THEN '+' || phone_p END AS phone_n
    FROM steps
)
SELECT * EXCLUDE (cid_t, known_cid), cid_t AS customer_key, 'crm_id' AS match_rule
FROM checked
WHERE known_cid
UNION ALL
SELECT
    normalised.* EXCLUDE (cid_t, cid_n, email_n, phone_n),
    CASE
        WHEN email_owner.customer_id IS NOT NULL THEN email_owner.customer_id
        WHEN phone_owner.customer_id IS NOT NULL THEN phone_owner.customer_id
        WHEN normalised.email_n IS NOT NULL THEN pseudonym('email', normalised.email_n)
        WHEN normalised.phone_n IS NOT NULL THEN pseudonym('phone', normalised.phone_n)
        ELSE normalised.cid_n
    END AS customer_key,
    CASE
        WHEN email_owner.customer_id IS NOT NULL THEN 'crm_email'
        WHEN phone_owner.customer_id IS NOT NULL THEN 'crm_phone'
        WHEN normalised.email_n IS NOT NULL THEN 'hashed_email'
        WHEN normalised.phone_n IS NOT NULL THEN 'hashed_phone'
        WHEN normalised.cid_n IS NOT NULL THEN 'unverified_id'
        ELSE 'anonymous'
    END AS match_rule
FROM normalised
LEFT JOIN int_crm_by_email AS email_owner ON email_owner.email_n = normalised.email_n
LEFT JOIN int_crm_by_phone AS phone_owner ON phone_owner.phone_n = normalised.phone_n;

-- Business day of an epoch-microsecond instant: plain arithmetic when the UTC offset is the
-- same over the whole run (zoning.fixed_offset_us decides), the ICU time zone conversion otherwise.
CREATE OR REPLACE TEMP MACRO local_day(us) AS
    CASE
        WHEN getvariable('fixed_offset_us') IS NOT NULL
            THEN DATE '1970-01-01' + ((us + getvariable('fixed_offset_us')) // 86400000000)::INTEGER
        ELSE make_timestamptz(us)::DATE
    END;

-- At-least-once delivery: of the rows of relation `src` sharing `delivery_key` (a column, or
-- a row of columns) the latest delivery wins: the latest updated_at, then the latest
-- partition, file and line (the warehouse's stg_*_current views rank by the same order:
-- warehouse/tables.py LATEST_DELIVERY_ORDER). Keys are unique in almost every row, so only
-- the keys delivered more than once are ranked (sorting every row cost more for the same
-- rows: benchmarks/PERFORMANCE.md, "SQL choices"); the rest stream through.
-- redelivered_latest: the latest delivery of each key delivered more than once.
CREATE OR REPLACE TEMP MACRO redelivered_latest(src, delivery_key) AS TABLE
SELECT * FROM query_table(src)
WHERE delivery_key IN (SELECT delivery_key FROM query_table(src) GROUP BY ALL HAVING count(*) > 1)
QUALIFY row_number() OVER (
    PARTITION BY delivery_key
    ORDER BY updated_at DESC, partition_date DESC, source_file DESC, source_line DESC
) = 1;

-- latest_delivery: every key of `src` once, in its latest delivery.
CREATE OR REPLACE TEMP MACRO latest_delivery(src, delivery_key) AS TABLE
WITH redelivered AS MATERIALIZED (SELECT * FROM redelivered_latest(src, delivery_key))
SELECT * FROM query_table(src)
WHERE delivery_key NOT IN (SELECT delivery_key FROM redelivered)
UNION ALL
SELECT * FROM redelivered;
