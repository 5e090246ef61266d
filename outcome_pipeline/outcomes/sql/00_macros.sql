-- Macros shared by every step: identifier normalisation, pseudonyms, safe ratios.
-- Identifier rules are defined here once; identity.py documents them and tests them.

-- Values that identify nobody: blank, "anonymous", "unknown", "n/a", ... They never join
-- two contacts. Argument: the value trimmed and lower-cased. (A regular expression, not an
-- IN list: DuckDB plans long IN lists as joins over every row, even inside a CASE branch.)
CREATE OR REPLACE TEMP MACRO placeholder_pattern() AS
    '|-+|\.|\?|anonymous|anon|unknown|unknown caller|none|null|nil|n/a|na|guest|withheld'
    || '|private|restricted|unavailable|not provided|not available|noreply|no-reply'
    || '|donotreply|do-not-reply|test|nobody|noemail|no-email|no email|customer';

CREATE OR REPLACE TEMP MACRO is_placeholder_lc(v) AS regexp_full_match(v, placeholder_pattern());

CREATE OR REPLACE TEMP MACRO is_placeholder(v) AS v IS NULL OR is_placeholder_lc(lower(trim(v)));

-- A CRM id (argument: trimmed): placeholders, all-zero ids and emails typed into the id
-- field are not ids.
CREATE OR REPLACE TEMP MACRO customer_id_ok(t) AS
    NOT is_placeholder_lc(lower(t))
    AND NOT regexp_full_match(t, '[-0_. ]+|-1')
    AND NOT contains(t, '@');

-- Email (argument: trimmed and lower-cased) must look like local@domain.tld; placeholder or
-- all-zero local parts ("unknown@...", "noreply@...", "000@...") are rejected. Exact match
-- only: no dot or +tag folding (Salesforce's EXACT_NORMALIZED).
CREATE OR REPLACE TEMP MACRO email_ok(e) AS
    regexp_full_match(e, '[^@\s]+@[^@\s]+\.[^@\s]+')
    AND NOT regexp_full_match(e, '(0+|' || placeholder_pattern() || ')@.*');

-- For tests and ad-hoc use: the full rules on raw values.
CREATE OR REPLACE TEMP MACRO norm_customer_id(v) AS
    CASE WHEN v IS NOT NULL AND customer_id_ok(trim(v)) THEN trim(v) END;
CREATE OR REPLACE TEMP MACRO norm_email(v) AS
    CASE WHEN v IS NOT NULL AND email_ok(lower(trim(v))) THEN lower(trim(v)) END;

-- Phone to E.164 digits (without "+"): a leading "+" keeps the digits as they are; a
-- leading "00" is the international prefix (dropped); a leading "0" is a national trunk
-- prefix (replaced by the default country code cc); other numbers of 11+ digits already
-- carry their country code, shorter ones get cc. So "07700 900123", "+44 7700 900123",
-- "0044 7700 900123" and "447700900123" are all +447700900123. Callers compute
-- d = phone_digits(raw) once per row and pass it in.
CREATE OR REPLACE TEMP MACRO phone_digits(v) AS
    regexp_replace(replace(v, '(0)', ''), '[^0-9]', '', 'g');  -- "+44 (0)20 ...": drop the (0)
CREATE OR REPLACE TEMP MACRO e164_digits(raw, d, cc) AS
    CASE
        WHEN starts_with(ltrim(raw), '+') THEN d
        WHEN starts_with(d, '00') THEN d[3:]
        WHEN starts_with(d, '0') THEN cc || d[2:]
        WHEN length(d) >= 11 THEN d
        ELSE cc || d
    END;

-- A valid number has 8..15 digits (E.164 allows at most 15) and a national part that is not
-- one digit repeated ("0000000000", "+44 7777 777777" are placeholders).
CREATE OR REPLACE TEMP MACRO valid_e164(p, cc) AS
    length(p) BETWEEN 8 AND 15
    AND replace(
        CASE WHEN starts_with(p, cc) THEN p[length(cc) + 1:] ELSE p END,
        CASE WHEN starts_with(p, cc) THEN p[length(cc) + 1:length(cc) + 1] ELSE p[1:1] END,
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
CREATE OR REPLACE TEMP MACRO ratio(n, d) AS
    CASE WHEN d IS NULL OR d = 0 THEN NULL ELSE n::DOUBLE / d END;

CREATE OR REPLACE TEMP MACRO us_to_ts(us) AS make_timestamptz(us);

-- Customer key of every row of relation `src` (columns cid, email, phone; others pass
-- through). Rank: a CRM id the CRM knows > normalised email of exactly one CRM customer >
-- normalised phone of exactly one CRM customer > pseudonym of the email > pseudonym of the
-- phone > an id the CRM does not know (kept as delivered) > anonymous (NULL). Identifiers
-- shared by several CRM customers match none of them (no super-clusters): they are hashed.
-- Rows with a known CRM id skip the email/phone work; each step is computed once per row.
-- Needs crm_ids, crm_by_email and crm_by_phone (01_crm.sql).
CREATE OR REPLACE TEMP MACRO resolve_identity(src) AS TABLE
WITH trimmed AS (
    SELECT s.*, trim(s.cid) AS cid_t FROM query_table(src) AS s
),
checked AS MATERIALIZED (
    SELECT *, coalesce(cid_t IN (SELECT customer_id FROM crm_ids), false) AS known_cid
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
    n.* EXCLUDE (cid_t, cid_n, email_n, phone_n),
    CASE
        WHEN e.customer_id IS NOT NULL THEN e.customer_id
        WHEN p.customer_id IS NOT NULL THEN p.customer_id
        WHEN n.email_n IS NOT NULL THEN pseudonym('email', n.email_n)
        WHEN n.phone_n IS NOT NULL THEN pseudonym('phone', n.phone_n)
        ELSE n.cid_n
    END AS customer_key,
    CASE
        WHEN e.customer_id IS NOT NULL THEN 'crm_email'
        WHEN p.customer_id IS NOT NULL THEN 'crm_phone'
        WHEN n.email_n IS NOT NULL THEN 'hashed_email'
        WHEN n.phone_n IS NOT NULL THEN 'hashed_phone'
        WHEN n.cid_n IS NOT NULL THEN 'unverified_id'
        ELSE 'anonymous'
    END AS match_rule
FROM normalised AS n
LEFT JOIN crm_by_email AS e ON e.email_n = n.email_n
LEFT JOIN crm_by_phone AS p ON p.phone_n = n.phone_n;

-- Business day of an epoch-microsecond instant: plain arithmetic when the UTC offset is the
-- same over the whole run (compute.py checks), the ICU time zone conversion otherwise.
CREATE OR REPLACE TEMP MACRO local_day(us) AS
    CASE
        WHEN getvariable('fixed_offset_us') IS NOT NULL
            THEN DATE '1970-01-01' + ((us + getvariable('fixed_offset_us')) // 86400000000)::INTEGER
        ELSE make_timestamptz(us)::DATE
    END;
