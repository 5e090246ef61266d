"""What the identity path does without a query, or on a shared database, gives what the
query on a fresh connection gave."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.duck import cursor
from outcome_pipeline.ingest.mapping import map_files
from outcome_pipeline.ingest.native_identity import identity_mapping


def test_an_identity_mapping_reads_parquet_as_its_query_would(tmp_path: Path) -> None:
    path = tmp_path / "survey_responses.parquet"
    us = [1711843200_000000, 1711846800_000123]
    pq.write_table(
        pa.table(
            {
                "response_id": pa.array(["p1", "p2"]).dictionary_encode(),
                "survey_type": pa.array(["csat", None], pa.large_string()),
                "score": pa.array([9, None], pa.int32()),
                # Nanoseconds, naive (business-local) and with a zone, as exports write them.
                "sent_at": pa.array([u * 1000 + 7 for u in us], pa.timestamp("ns")),
                "responded_at": pa.array(
                    [u // 1000 for u in us], pa.timestamp("ms", tz="Europe/Paris")
                ),
                "updated_at": pa.array(us, pa.timestamp("us", tz="UTC")),
                "vendor": [1.5, None],
            }
        ),
        path,
    )
    schema = pq.read_schema(path)
    fields = tuple(schema.names)
    types = tuple(schema.field(f).type for f in fields)
    mapping = identity_mapping(CONTRACTS["survey_responses"], "parquet", fields, "UTC", 0, types)
    assert mapping.identity
    direct = map_files(mapping, [(path, "a.parquet")])
    queried = map_files(dataclasses.replace(mapping, identity=False), [(path, "a.parquet")])
    assert direct.typed.schema == queried.typed.schema
    assert direct.typed.to_pylist() == queried.typed.to_pylist()
    assert direct.rejects.num_rows == queried.rejects.num_rows == 0
    assert [(f.file, f.rows_read) for f in direct.files] == [("a.parquet", 2)]
    # The sample of `sources check` takes the first rows only, as the query's LIMIT.
    assert map_files(mapping, [(path, "a.parquet")], limit=1).typed.num_rows == 1


def test_cursors_of_the_shared_database_keep_their_own_tables() -> None:
    """A CSV scan's rejects tables are temporary: one file's query never sees another's."""
    with cursor() as one:
        one.execute("CREATE TEMP TABLE __rejects AS SELECT 1 AS line")
        with cursor() as other:
            assert (
                other.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0]
                == 0
            )
            assert other.sql("SELECT current_setting('TimeZone')").fetchall()[0][0] == "UTC"
    with cursor() as again:
        assert (
            again.sql("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchall()[0][0] == 0
        )


def test_a_large_read_gets_a_database_of_its_own() -> None:
    """Its memory goes back when it closes, rather than staying with the shared database."""
    from outcome_pipeline.ingest.duck import OWN_DATABASE_BYTES

    with cursor() as shared:
        shared.execute("CREATE TABLE t_shared AS SELECT 1 AS x")
        try:
            with cursor(OWN_DATABASE_BYTES + 1) as own:
                tables = own.sql("SELECT count(*) FROM duckdb_tables()").fetchall()[0][0]
                assert tables == 0
                assert own.sql("SELECT current_setting('TimeZone')").fetchall()[0][0] == "UTC"
        finally:
            shared.execute("DROP TABLE t_shared")
