"""The limit: the same figures by raw DuckDB SQL over the same landed files, into a DuckDB file.

The work is the minimum the comparable figures need, written the way the engine likes it:
read the day's interaction and CRM customer files with DuckDB's readers (explicit types),
dedupe (latest ``updated_at`` per id), append to staging tables in a DuckDB file; then over
the staged window (W + 2 days back, like the pipeline): dedupe legs across deliveries,
contacts = legs with no transfer parent in the window, customer key by the pipeline's
identity rules (CRM id, CRM email/phone, pseudonym of email/phone, unverified id),
``lag``/``lead`` over (customer, start) with the 7-day window and the context zone, the daily
aggregates, and persisting contacts + daily rows. It skips what the figures do not need:
transfer-chain walking (a leg's contact is its root; generated legs carry their contact's
identifiers), surveys, cases, churn, outputs, data quality rules.

Pseudonyms use one SHA-256 of ``kind:value`` (the pipeline: HMAC-SHA256, two hashes); only
equality matters for the figures.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

# Identifier rules, as in outcome_pipeline/outcomes/sql/00_macros.sql (kept in step by the
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

INTERACTION_TYPES = {
    "interaction_id": "VARCHAR",
    "parent_interaction_id": "VARCHAR",
    "channel": "VARCHAR",
    "direction": "VARCHAR",
    "customer_id": "VARCHAR",
    "customer_email": "VARCHAR",
    "customer_phone": "VARCHAR",
    "queue": "VARCHAR",
    "team": "VARCHAR",
    "agent_id": "VARCHAR",
    "contact_reason": "VARCHAR",
    "case_id": "VARCHAR",
    "queued_at": "TIMESTAMPTZ",
    "answered_at": "TIMESTAMPTZ",
    "first_response_at": "TIMESTAMPTZ",
    "ended_at": "TIMESTAMPTZ",
    "talk_seconds": "BIGINT",
    "hold_seconds": "BIGINT",
    "acw_seconds": "BIGINT",
    "abandoned": "BOOLEAN",
    "disposition": "VARCHAR",
    "updated_at": "TIMESTAMPTZ",
}
CUSTOMER_TYPES = {
    "customer_id": "VARCHAR",
    "email": "VARCHAR",
    "phone": "VARCHAR",
    "segment": "VARCHAR",
    "plan": "VARCHAR",
    "region": "VARCHAR",
    "created_at": "TIMESTAMPTZ",
    "mrr": "DOUBLE",
    "updated_at": "TIMESTAMPTZ",
}
FEEDS = {"interactions": ("interactions", "interactions", INTERACTION_TYPES, "interaction_id")}
FEEDS["customers"] = ("crm", "customers", CUSTOMER_TYPES, "customer_id")

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


def _files(landing: Path, feed: str, table: str, day: date) -> dict[str, list[str]]:
    folder = landing / feed / day.isoformat()
    out: dict[str, list[str]] = {"csv": [], "jsonl": [], "parquet": []}
    if folder.is_dir():
        for p in sorted(folder.iterdir()):
            stem, _, ext = p.name.rpartition(".")
            if (stem == table or stem.startswith(table + "_")) and ext in out:
                out[ext].append(str(p))
    return out


def _read_sql(landing: Path, name: str, day: date) -> str:
    feed, table, types, _ = FEEDS[name]
    files = _files(landing, feed, table, day)
    cols = "{" + ", ".join(f"'{c}': '{t}'" for c, t in types.items()) + "}"
    names = ", ".join(types)
    parts = []
    if files["csv"]:
        parts.append(
            f"SELECT {names}, filename FROM read_csv({files['csv']}, header = true, "
            f"columns = {cols}, filename = true, auto_detect = false)"
        )
    if files["jsonl"]:
        parts.append(
            f"SELECT {names}, filename FROM read_json({files['jsonl']}, "
            f"format = 'newline_delimited', columns = {cols}, filename = true)"
        )
    if files["parquet"]:
        casts = ", ".join(f"CAST({c} AS {t}) AS {c}" for c, t in types.items())
        parts.append(
            f"SELECT {casts}, filename FROM read_parquet({files['parquet']}, filename = true)"
        )
    if not parts:
        return f"SELECT {names}, NULL::VARCHAR AS filename FROM (SELECT 1) WHERE false"
    return " UNION ALL ".join(parts)


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
            "followed BOOLEAN)"
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
            self.con.execute(f"DELETE FROM stg_{name} WHERE partition_date = ?", [day])
            n = self.con.execute(
                f"INSERT INTO stg_{name} SELECT DATE '{day.isoformat()}', * FROM "
                f"({_read_sql(self.landing, name, day)}) "
                f"QUALIFY row_number() OVER (PARTITION BY {key} "
                "ORDER BY updated_at DESC, filename DESC) = 1"
            ).fetchall()[0][0]
            if name == "interactions":
                staged = n
        return staged

    def transform(self, day: date, day_start_us: int, day_end_us: int) -> None:
        """Identity + journeys (temp table ``seq``) for the contacts around ``day``."""
        margin_us = day_start_us - 86_400 * 1_000_000
        ctx_us = day_start_us - self.w_us
        first_partition = day - timedelta(days=9)
        margin_day = day - timedelta(days=1)
        self.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE crm_keys AS
            SELECT DISTINCT customer_id, email_n(email) AS e, phone_n(phone) AS p
            FROM stg_customers
            WHERE updated_at <= make_timestamptz({day_end_us}::BIGINT)
                AND cid_ok(customer_id);
            CREATE OR REPLACE TEMP TABLE crm_ids AS SELECT DISTINCT customer_id FROM crm_keys;
            CREATE OR REPLACE TEMP TABLE crm_e AS SELECT e, min(customer_id) AS customer_id
                FROM crm_keys WHERE e IS NOT NULL GROUP BY e HAVING count(DISTINCT customer_id) = 1;
            CREATE OR REPLACE TEMP TABLE crm_p AS SELECT p, min(customer_id) AS customer_id
                FROM crm_keys WHERE p IS NOT NULL GROUP BY p HAVING count(DISTINCT customer_id) = 1;

            CREATE OR REPLACE TEMP MACRO keyed(src) AS TABLE
            WITH t AS (
                SELECT s.*, trim(customer_id) AS cid_t FROM query_table(src) AS s
            ),
            k AS (
                SELECT t.*, i.customer_id IS NOT NULL AS known FROM t
                LEFT JOIN crm_ids AS i ON i.customer_id = t.cid_t
            ),
            u AS (
                SELECT k.*, email_n(customer_email) AS en, phone_n(customer_phone) AS pn
                FROM k WHERE NOT known
            )
            SELECT * EXCLUDE (cid_t, known), cid_t AS customer_key FROM k WHERE known
            UNION ALL
            SELECT u.* EXCLUDE (cid_t, known, en, pn),
                CASE
                    WHEN e.customer_id IS NOT NULL THEN e.customer_id
                    WHEN p.customer_id IS NOT NULL THEN p.customer_id
                    WHEN en IS NOT NULL THEN 'pk_' || left(sha256('email:' || en), 32)
                    WHEN pn IS NOT NULL THEN 'pk_' || left(sha256('phone:' || pn), 32)
                    WHEN cid_t IS NOT NULL AND cid_ok(cid_t) THEN cid_t
                END AS customer_key
            FROM u
            LEFT JOIN crm_e AS e ON e.e = u.en
            LEFT JOIN crm_p AS p ON p.p = u.pn;

            CREATE OR REPLACE TEMP TABLE legs AS
            SELECT interaction_id, nullif(trim(parent_interaction_id), '') AS parent_id,
                channel, customer_id, customer_email, customer_phone,
                epoch_us(queued_at) AS started_us
            FROM stg_interactions
            WHERE partition_date >= DATE '{margin_day.isoformat()}'
                AND queued_at BETWEEN make_timestamptz({margin_us}::BIGINT)
                    AND make_timestamptz({day_end_us}::BIGINT)
            QUALIFY row_number() OVER (
                PARTITION BY interaction_id
                ORDER BY updated_at DESC, partition_date DESC, filename DESC
            ) = 1;

            CREATE OR REPLACE TEMP VIEW root_legs AS
            SELECT l.* FROM legs AS l
            WHERE l.parent_id IS NULL OR l.parent_id = l.interaction_id
                OR l.parent_id NOT IN (SELECT interaction_id FROM legs);
            CREATE OR REPLACE TEMP TABLE contacts AS
            SELECT interaction_id AS contact_id, channel, started_us, customer_key
            FROM keyed('root_legs');

            CREATE OR REPLACE TEMP VIEW ctx_legs AS
            SELECT customer_id, customer_email, customer_phone, queued_at
            FROM stg_interactions
            WHERE partition_date >= DATE '{first_partition.isoformat()}'
                AND queued_at >= make_timestamptz({ctx_us}::BIGINT)
                AND queued_at < make_timestamptz({margin_us}::BIGINT)
                AND nullif(trim(parent_interaction_id), '') IS NULL;
            CREATE OR REPLACE TEMP TABLE ctx AS
            SELECT customer_key, max(epoch_us(queued_at)) AS last_us
            FROM keyed('ctx_legs')
            WHERE customer_key IS NOT NULL
            GROUP BY customer_key;

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
                coalesce(next_us - started_us <= {self.w_us}, false) AS followed
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
                count(*) FILTER (WHERE customer_key IS NOT NULL AND NOT is_repeat AND followed)
                    AS multi_contact_journeys
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
            "make_timestamptz(started_us), is_repeat, followed FROM seq"
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
