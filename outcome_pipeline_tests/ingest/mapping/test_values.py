"""Values a mapping computes once per row, and the zone conversion by looked-up offsets:
both must give exactly what the inlined expressions and ICU gave."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping, map_day
from outcome_pipeline.ingest.mapping.expr import Context
from outcome_pipeline.ingest.mapping.expr_time import zoned

# Zones with the awkward transitions: DST at 02:00 (Jerusalem, New York), at midnight
# (Santiago, Havana), by 30 minutes (Lord Howe), a skipped day (Apia, 2011-12-30), a
# southern-hemisphere year, a zone without DST and UTC.
ZONES = [
    "Asia/Jerusalem",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
    "UTC",
]


@pytest.mark.parametrize("tz", ZONES)
def test_zoned_is_icu_on_every_day_and_every_quarter_hour_of_transition_days(tz: str) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    ctx = Context(lambda f: f, lambda n, k: None, tz)  # type: ignore[arg-type,return-value]
    # Every day 1999-12-31 .. 2069-01-01 (past both ends of the offset list) at five times;
    # from the day before a transition to the day after, every quarter hour.
    con.execute(
        f"""CREATE TABLE t AS
        WITH days AS (SELECT CAST(DATE '1999-12-31' + CAST(i AS INTEGER) AS DATE) AS d
                      FROM range(25_300) r(i)),
        changes AS (SELECT d FROM days WHERE
            epoch_us(timezone('{tz}', CAST(d AS TIMESTAMP))) - epoch_us(CAST(d AS TIMESTAMP))
            <> epoch_us(timezone('{tz}', CAST(d + 1 AS TIMESTAMP)))
               - epoch_us(CAST(d + 1 AS TIMESTAMP)))
        SELECT d, d + t AS l FROM days, (VALUES (TIME '00:00:00'), (TIME '01:30:00'),
            (TIME '02:30:00'), (TIME '12:00:00'), (TIME '23:59:59.999999')) v(t)
        UNION ALL
        SELECT c.d, c.d + to_minutes(15 * q) FROM changes c, range(-96, 193) r(q)"""
    )
    changed = con.execute(
        f"SELECT count(*) FROM t WHERE {zoned('l', 'd', tz, ctx)} "
        f"IS DISTINCT FROM timezone('{tz}', l)"
    ).fetchall()
    assert changed == [(0,)]
    assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] > 125_000


def test_a_value_read_in_many_places_is_computed_once() -> None:
    """bank_call_log reads its day in six times and the VRU arrival (a let) in four
    columns: each is one value of the query, not repeated text."""
    m = compile_mapping(SHIPPED_DIR / "bank_call_log.toml", "Europe/London")
    sql = m.query(["/x/calls.txt"], [])
    assert sql.count('try_strptime("__v') == 6  # the day and five times of day, once each
    assert sql.count('CAST("date" AS VARCHAR) AS') == 1  # read once


def test_a_field_is_trimmed_of_spaces_only_and_empty_is_missing(tmp_path: Path) -> None:
    """The trim is skipped when a value neither starts nor ends with a space: the same text."""
    texts = ["  a b ", "a ", " a", "a", "", "   ", "\ta\t", " long value of more than 12 bytes "]
    folder = tmp_path / "crm" / "2024-01-02"
    folder.mkdir(parents=True)
    times = "2024-01-01T00:00:00Z,2024-01-02T00:00:00Z"
    rows = [f'c{i},"{t}",{times}' for i, t in enumerate(texts)]
    (folder / "c.csv").write_text("id,region,created_at,updated_at\n" + "\n".join(rows) + "\n")
    mapping = tmp_path / "crm.toml"
    mapping.write_text(
        '[source]\nname = "crm_csv"\nversion = "1"\ntable = "customers"\nfeed = "crm"\n'
        'glob = "*.csv"\nformat = "csv"\n[columns]\ncustomer_id = "id"\nregion = "region"\n'
        'created_at = "created_at"\nupdated_at = "updated_at"\n'
    )
    out = map_day(tmp_path, compile_mapping(mapping, "UTC"), date(2024, 1, 2))
    assert out.typed["region"].to_pylist() == [t.strip(" ") or None for t in texts]
