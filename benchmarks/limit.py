"""The limit: the same figures by raw DuckDB SQL over the same landed files, into a DuckDB file.

The work is the minimum the comparable figures need, written the way the engine likes it:
read the day's interaction and CRM customer files with pyarrow's readers (explicit types; DuckDB
scans the Arrow table in place), dedupe (latest ``updated_at`` per id; only repeated ids are
sorted), append to staging tables in a DuckDB file; then over
the staged window (W + 2 days back, like the pipeline): dedupe legs across deliveries,
contacts = legs with no transfer parent in the window, customer key by the pipeline's
identity rules (CRM id, CRM email/phone, pseudonym of email/phone, unverified id: a known
CRM id is checked once per distinct id and needs nothing else; only the distinct identifier
tuples without one are normalised, and only the CRM rows that can match them are read; the
context zone is reduced to the latest start per tuple before any identity work), one
``lag``/``lead`` sort over (customer, start) with the 7-day window and the context zone, the
daily aggregates, and persisting contacts + daily rows. It skips what the figures do not need:
transfer-chain walking (a leg's contact is its root; generated legs carry their contact's
identifiers), surveys, cases, churn, outputs, data quality rules.

Pseudonyms use one SHA-256 of ``kind:value`` (the pipeline: HMAC-SHA256, two hashes); only
equality matters for the figures.

Definitions (as docs/journey_horizon.md and the data dictionary state them): a contact is a
repeat iff the customer's previous contact started within W; every other identified contact
starts a journey. A journey's outcome is evaluated over its contacts within the journey
horizon H (30 days) of its first contact; a multi-contact journey is one whose first contact
is followed within W, which (W <= H) is always in span, so none of these figures depends on
H: the journey's later contacts, capping and resolution are not among them. Contact-level
figures count every contact, including those after H (they stay repeats).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from benchmarks.limit_read import FEEDS, read_arrow

# Identifier rules, as in outcome_pipeline/outcomes/sql/macros.sql (kept in step by the
# harness's equality check).
PLACEHOLDER = (
    r"|-+|\.|\?|anonymous|anon|unknown|unknown caller|none|null|nil|n/a|na|guest|withheld"
    r"|private|restricted|unavailable|not provided|not available|noreply|no-reply"
    r"|donotreply|do-not-reply|test|nobody|noemail|no-email|no email|customer"
)
EMAIL_RE = r"[^@\s]+@[^@\s]+\.[^@\s]+"
EMAIL_BAD_RE = r"(0+|" + PLACEHOLDER + r")@.*"
CID_BAD_RE = r"[-0_. ]+|-1"
CC = "44"

MACROS = f"""
CREATE OR REPLACE TEMP MACRO is_ph(v) AS regexp_full_match(v, '{PLACEHOLDER}');
CREATE OR REPLACE TEMP MACRO cid_ok(t) AS
    NOT is_ph(lower(t)) AND NOT regexp_full_match(t, '{CID_BAD_RE}') AND NOT contains(t, '@');
CREATE OR REPLACE TEMP MACRO email_n(v) AS CASE
    WHEN regexp_full_match(lower(trim(v)), '{EMAIL_RE}')
        AND NOT regexp_full_match(lower(trim(v)), '{EMAIL_BAD_RE}') THEN lower(trim(v)) END;
CREATE OR REPLACE TEMP MACRO e164(raw, d) AS CASE
    WHEN starts_with(ltrim(raw), '+') THEN d
    WHEN starts_with(d, '00') THEN d[3:]
    WHEN starts_with(d, '0') THEN '{CC}' || d[2:]
    WHEN length(d) >= 11 THEN d
    ELSE '{CC}' || d END;
CREATE OR REPLACE TEMP MACRO nat(p) AS CASE WHEN starts_with(p, '{CC}') THEN p[3:] ELSE p END;
CREATE OR REPLACE TEMP MACRO phone_e(p) AS CASE
    WHEN length(p) BETWEEN 8 AND 15 AND replace(nat(p), nat(p)[1:1], '') <> '' THEN '+' || p END;
CREATE OR REPLACE TEMP MACRO phone_n(v) AS
    phone_e(e164(v, regexp_replace(replace(v, '(0)', ''), '[^0-9]', '', 'g')));
"""


class Limit:
    """A DuckDB file holding the limit's staging and outputs."""

    def __init__(self, path: Path, landing: Path, timezone: str, window_days: int = 7) -> None:
        self.path, self.landing, self.timezone = path, landing, timezone
        self.w_us = window_days * 86_400 * 1_000_000
        self.con = duckdb.connect(str(path))
        self.con.execute(f"SET TimeZone = '{timezone}'")
        for name, (_, _, types, _) in FEEDS.items():
            cols = ", ".join(f"{c} {t}" for c, t in types.items())
            self.con.execute(
                f"CREATE TABLE IF NOT EXISTS stg_{name} "
                f"(partition_date DATE, {cols}, filename VARCHAR)"
            )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS contacts_out (partition_date DATE, contact_id VARCHAR, "
            "customer_key VARCHAR, channel VARCHAR, started_at TIMESTAMPTZ, is_repeat BOOLEAN, "
            "is_followed_within_window BOOLEAN)"
        )
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS daily_out (partition_date DATE, channel VARCHAR, "
            "contacts BIGINT, anonymous_contacts BIGINT, repeat_contacts BIGINT, "
            "journeys_started BIGINT, multi_contact_journeys BIGINT)"
        )
        self.con.execute(MACROS)

    def close(self) -> None:
        self.con.close()

    def load_day(self, day: date) -> int:
        """Read + type + dedupe the day's interaction and customer files into staging."""
        staged = 0
        for name, (_, _, _, key) in FEEDS.items():
            self.con.register("landed", read_arrow(self.landing, name, day))
            self.con.execute(f"DELETE FROM stg_{name} WHERE partition_date = ?", [day])
            # Ids are unique in almost every row: only the repeated ones are sorted.
            n = self.con.execute(
                f"""
                INSERT INTO stg_{name}
                WITH dup AS (SELECT {key} FROM landed GROUP BY 1 HAVING count(*) > 1)
                SELECT DATE '{day.isoformat()}', * FROM landed
                WHERE {key} NOT IN (SELECT {key} FROM dup)
                UNION ALL
                SELECT DATE '{day.isoformat()}', * FROM landed
                WHERE {key} IN (SELECT {key} FROM dup)
                QUALIFY row_number() OVER (
                    PARTITION BY {key} ORDER BY updated_at DESC, filename DESC
                ) = 1
                """
            ).fetchall()[0][0]
            self.con.unregister("landed")
            if name == "interactions":
                staged = n
        return staged

    def transform(self, day: date, day_start_us: int, day_end_us: int) -> None:
        """Identity + journeys (temp table ``seq``) for the contacts around ``day``."""
        margin_us = day_start_us - 86_400 * 1_000_000
        ctx_us = day_start_us - self.w_us
        first_partition = day - timedelta(days=9)
        margin_day = day - timedelta(days=1)
        as_of = f"make_timestamptz({day_end_us}::BIGINT)"
        self.con.execute(
            f"""
            -- Legs queued in the zone (the day before D, and D); of an id delivered more
            -- than once the latest version wins (only the repeated ids are sorted).
            CREATE OR REPLACE TEMP TABLE zone AS
            SELECT interaction_id, nullif(trim(parent_interaction_id), '') AS parent_id,
                channel, trim(customer_id) AS cid_t, customer_email AS email,
                customer_phone AS phone, epoch_us(queued_at) AS started_us,
                updated_at, partition_date, filename
            FROM stg_interactions
            WHERE partition_date >= DATE '{margin_day.isoformat()}'
                AND queued_at BETWEEN make_timestamptz({margin_us}::BIGINT) AND {as_of};
            CREATE OR REPLACE TEMP TABLE legs AS
            WITH dup AS (SELECT interaction_id FROM zone GROUP BY 1 HAVING count(*) > 1)
            SELECT * EXCLUDE (updated_at, partition_date, filename) FROM zone
            WHERE interaction_id NOT IN (SELECT interaction_id FROM dup)
            UNION ALL
            SELECT * EXCLUDE (updated_at, partition_date, filename) FROM zone
            WHERE interaction_id IN (SELECT interaction_id FROM dup)
            QUALIFY row_number() OVER (
                PARTITION BY interaction_id
                ORDER BY updated_at DESC, partition_date DESC, filename DESC
            ) = 1;

            -- Contacts: root legs (no parent in the zone). Context: root legs of the W
            -- before the zone, reduced to the latest start per raw identifier tuple.
            CREATE OR REPLACE TEMP TABLE roots AS
            SELECT interaction_id AS contact_id, channel, started_us, cid_t, email, phone
            FROM legs AS l
            WHERE parent_id IS NULL OR parent_id = interaction_id
                OR NOT EXISTS (SELECT 1 FROM legs AS p WHERE p.interaction_id = l.parent_id);
            -- Roots by the zone's rule: no parent, itself, or a parent not staged in the
            -- partitions read (e.g. begun before the first staged day). The lookup's hash
            -- table holds only the staged ids some context leg names as its parent.
            CREATE OR REPLACE TEMP TABLE ctx_raw AS
            WITH parents_staged AS (
                SELECT DISTINCT p.interaction_id
                FROM stg_interactions AS p
                WHERE p.partition_date >= DATE '{first_partition.isoformat()}'
                    AND p.interaction_id IN (
                        SELECT trim(k.parent_interaction_id)
                        FROM stg_interactions AS k
                        WHERE k.partition_date >= DATE '{first_partition.isoformat()}'
                            AND k.queued_at >= make_timestamptz({ctx_us}::BIGINT)
                            AND k.queued_at < make_timestamptz({margin_us}::BIGINT)
                            AND nullif(trim(k.parent_interaction_id), '') IS NOT NULL
                    )
            )
            SELECT trim(i.customer_id) AS cid_t, i.customer_email AS email,
                i.customer_phone AS phone, max(epoch_us(i.queued_at)) AS last_us
            FROM stg_interactions AS i
            LEFT JOIN parents_staged AS f ON f.interaction_id = trim(i.parent_interaction_id)
            WHERE i.partition_date >= DATE '{first_partition.isoformat()}'
                AND i.queued_at >= make_timestamptz({ctx_us}::BIGINT)
                AND i.queued_at < make_timestamptz({margin_us}::BIGINT)
                AND (
                    nullif(trim(i.parent_interaction_id), '') IS NULL
                    OR trim(i.parent_interaction_id) = i.interaction_id
                    OR f.interaction_id IS NULL
                )
            GROUP BY ALL;

            -- Identity. A CRM id the CRM knows is the key: distinct ids are checked once;
            -- only the other tuples (distinct) are normalised, and only the CRM rows that can
            -- match them (canonical CRM phones skip the digit extraction).
            CREATE OR REPLACE TEMP TABLE known AS
            WITH ids AS (
                SELECT cid_t FROM roots WHERE cid_t IS NOT NULL
                UNION SELECT cid_t FROM ctx_raw WHERE cid_t IS NOT NULL
            )
            SELECT cid_t FROM ids
            WHERE cid_t IN (SELECT customer_id FROM stg_customers WHERE updated_at <= {as_of})
                AND cid_ok(cid_t);
            CREATE OR REPLACE TEMP TABLE unk AS
            WITH t AS (
                SELECT cid_t, email, phone FROM roots
                WHERE cid_t IS NULL OR cid_t NOT IN (SELECT cid_t FROM known)
                UNION SELECT cid_t, email, phone FROM ctx_raw
                WHERE cid_t IS NULL OR cid_t NOT IN (SELECT cid_t FROM known)
            )
            SELECT cid_t, email, phone, email_n(email) AS en, phone_n(phone) AS pn FROM t;
            CREATE OR REPLACE TEMP TABLE crm_e AS
            SELECT lower(trim(email)) AS e, min(customer_id) AS customer_id
            FROM stg_customers
            WHERE updated_at <= {as_of}
                AND lower(trim(email)) IN (SELECT en FROM unk WHERE en IS NOT NULL)
                AND cid_ok(customer_id)
            GROUP BY 1 HAVING min(customer_id) = max(customer_id);
            CREATE OR REPLACE TEMP TABLE crm_p AS
            WITH c AS (
                SELECT customer_id,
                    CASE WHEN regexp_full_match(phone, '\\+[0-9]+') THEN phone
                        ELSE phone_n(phone) END AS p
                FROM stg_customers
                WHERE updated_at <= {as_of} AND (
                    phone IN (SELECT pn FROM unk WHERE pn IS NOT NULL)
                    OR NOT regexp_full_match(phone, '\\+[0-9]+')
                )
            )
            SELECT p, min(customer_id) AS customer_id FROM c
            WHERE p IN (SELECT pn FROM unk WHERE pn IS NOT NULL) AND cid_ok(customer_id)
            GROUP BY p HAVING min(customer_id) = max(customer_id);
            CREATE OR REPLACE TEMP TABLE unk_k AS
            SELECT u.cid_t, u.email, u.phone,
                CASE
                    WHEN e.customer_id IS NOT NULL THEN e.customer_id
                    WHEN p.customer_id IS NOT NULL THEN p.customer_id
                    WHEN u.en IS NOT NULL THEN 'pk_' || left(sha256('email:' || u.en), 32)
                    WHEN u.pn IS NOT NULL THEN 'pk_' || left(sha256('phone:' || u.pn), 32)
                    WHEN u.cid_t IS NOT NULL AND cid_ok(u.cid_t) THEN u.cid_t
                END AS customer_key
            FROM unk AS u
            LEFT JOIN crm_e AS e ON e.e = u.en
            LEFT JOIN crm_p AS p ON p.p = u.pn;
            CREATE OR REPLACE TEMP MACRO keyed(src) AS TABLE
            SELECT s.* EXCLUDE (cid_t, email, phone), s.cid_t AS customer_key
            FROM query_table(src) AS s WHERE s.cid_t IN (SELECT cid_t FROM known)
            UNION ALL
            SELECT s.* EXCLUDE (cid_t, email, phone), k.customer_key
            FROM query_table(src) AS s
            JOIN unk_k AS k ON k.cid_t IS NOT DISTINCT FROM s.cid_t
                AND k.email IS NOT DISTINCT FROM s.email
                AND k.phone IS NOT DISTINCT FROM s.phone
            WHERE s.cid_t IS NULL OR s.cid_t NOT IN (SELECT cid_t FROM known);
            CREATE OR REPLACE TEMP TABLE contacts AS SELECT * FROM keyed('roots');
            CREATE OR REPLACE TEMP TABLE ctx AS
            SELECT customer_key, max(last_us) AS last_us FROM keyed('ctx_raw')
            WHERE customer_key IS NOT NULL GROUP BY customer_key;

            -- Sessionise: one sort of the zone's identified contacts.
            CREATE OR REPLACE TEMP TABLE seq AS
            WITH s AS (
                SELECT c.*,
                    coalesce(lag(c.started_us) OVER w, x.last_us) AS prev_us,
                    lead(c.started_us) OVER w AS next_us
                FROM contacts AS c
                LEFT JOIN ctx AS x USING (customer_key)
                WHERE c.customer_key IS NOT NULL
                WINDOW w AS (PARTITION BY c.customer_key ORDER BY c.started_us, c.contact_id)
            )
            SELECT contact_id, channel, started_us, customer_key,
                coalesce(started_us - prev_us <= {self.w_us}, false) AS is_repeat,
                coalesce(next_us - started_us <= {self.w_us}, false) AS is_followed_within_window
            FROM s
            WHERE started_us >= {day_start_us} AND started_us < {day_end_us}
            UNION ALL
            SELECT contact_id, channel, started_us, NULL, false, false
            FROM contacts
            WHERE customer_key IS NULL
                AND started_us >= {day_start_us} AND started_us < {day_end_us};
            """
        )

    def daily(self, day: date) -> None:
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE daily AS
            SELECT DATE '{day.isoformat()}' AS partition_date, channel,
                count(*) FILTER (WHERE customer_key IS NOT NULL) AS contacts,
                count(*) FILTER (WHERE customer_key IS NULL) AS anonymous_contacts,
                count(*) FILTER (WHERE is_repeat) AS repeat_contacts,
                count(*) FILTER (WHERE customer_key IS NOT NULL AND NOT is_repeat)
                    AS journeys_started,
                count(*) FILTER (
                    WHERE customer_key IS NOT NULL AND NOT is_repeat AND is_followed_within_window
                ) AS multi_contact_journeys
            FROM seq GROUP BY channel
            """
        )

    def persist(self, day: date) -> int:
        d = day.isoformat()
        self.con.execute("BEGIN")
        self.con.execute(f"DELETE FROM contacts_out WHERE partition_date = DATE '{d}'")
        self.con.execute(f"DELETE FROM daily_out WHERE partition_date = DATE '{d}'")
        n = self.con.execute(
            f"INSERT INTO contacts_out SELECT DATE '{d}', contact_id, customer_key, channel, "
            "make_timestamptz(started_us), is_repeat, is_followed_within_window FROM seq"
        ).fetchall()[0][0]
        self.con.execute("INSERT INTO daily_out SELECT * FROM daily")
        self.con.execute("COMMIT")
        self.con.execute("CHECKPOINT")
        return int(n)

    def figures(self, day: date) -> dict[str, int]:
        row = self.con.execute(
            "SELECT sum(contacts), sum(anonymous_contacts), sum(repeat_contacts), "
            "sum(journeys_started), sum(multi_contact_journeys) FROM daily_out "
            "WHERE partition_date = ?",
            [day],
        ).fetchall()[0]
        staged = self.con.execute(
            "SELECT count(*) FROM stg_interactions WHERE partition_date = ?", [day]
        ).fetchall()[0][0]
        names = (
            "contacts",
            "anonymous_contacts",
            "repeat_contacts",
            "journeys_started",
            "multi_contact_journeys",
        )
        return {"interactions_staged": int(staged)} | {
            n: int(v or 0) for n, v in zip(names, row, strict=True)
        }
