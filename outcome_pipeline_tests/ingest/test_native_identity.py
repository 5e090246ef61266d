"""The native contracts as identity mappings (``OUTCOME_NATIVE_INGEST=mapping``).

The identity mappings are generated from the contracts, are valid mapping files a user
could drop in the sources folder, and stage a landed day exactly as the Arrow reader does:
the same staged rows, quarantined rows (reason codes, messages, raw records), rejected
files and load_audit row — over every native name, format and compression, optional and
extra columns, whitespace, bad values, malformed lines and unreadable files.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import tomllib
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.mapping import compile_mapping
from outcome_pipeline.ingest.mapping.spec import MappingFile
from outcome_pipeline.ingest.native import SETTING, NativeIngestSettingError, native_ingest_mode
from outcome_pipeline.ingest.native_identity import (
    contract_version,
    identity_lineage,
    identity_spec,
    identity_toml,
)
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.ingest.stage_finish import StagedDay, audit_row

SURVEYS = CONTRACTS["survey_responses"]
DAY = date(2024, 3, 31)
HEADER = "response_id,survey_type,score,sent_at,responded_at,updated_at"
TIMES = "2024-03-31T00:30:00Z,2024-03-31T03:30:00+01:00,2024-03-31T02:30:00Z"


@pytest.mark.parametrize("table", sorted(CONTRACTS))
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_identity_mappings_are_generated_from_the_contracts(
    tmp_path: Path, table: str, fmt: str
) -> None:
    contract = CONTRACTS[table]
    text = identity_toml(contract, fmt)
    spec = MappingFile.model_validate(tomllib.loads(text))
    assert (
        spec.model_dump() == MappingFile.model_validate(identity_spec(contract, fmt)).model_dump()
    )
    assert spec.source.table == table and spec.source.format == fmt
    assert spec.columns == {c: {"field": c} for c in contract.column_names}
    # A mapping file like any vendor's: it compiles, every required column mapped.
    path = tmp_path / f"native_{table}.toml"
    path.write_text(text)
    compiled = compile_mapping(path, "UTC")
    assert list(compiled.columns) == contract.column_names
    assert identity_lineage(contract) == f"native:{table}@{spec.source.version}"


def test_the_contract_version_follows_the_columns_not_the_descriptions() -> None:
    c = SURVEYS
    reworded = dataclasses.replace(c, description="other words")
    assert contract_version(reworded) == contract_version(c)
    score = c.column("score")
    retyped = dataclasses.replace(
        c,
        columns=tuple(
            dataclasses.replace(col, type=pa.float64()) if col is score else col
            for col in c.columns
        ),
    )
    assert contract_version(retyped) != contract_version(c)


def test_the_setting_names_the_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SETTING, raising=False)
    assert native_ingest_mode() == "reader"
    monkeypatch.setenv(SETTING, " Mapping ")
    assert native_ingest_mode() == "mapping"
    assert native_ingest_mode("reader") == "reader"
    monkeypatch.setenv(SETTING, "duckdb")
    with pytest.raises(NativeIngestSettingError, match="OUTCOME_NATIVE_INGEST='duckdb'"):
        native_ingest_mode()


def _land(root: Path) -> None:
    f = root / "surveys" / DAY.isoformat()
    f.mkdir(parents=True)
    # Extra column, optional columns missing, spaces kept in text and trimmed in typed
    # columns, a bad value, an empty required value, a row with too few fields, quotes.
    (f / "survey_responses.csv").write_text(
        f"{HEADER},comment,vendor_field\n"
        f"a1,csat,5,{TIMES}, spaced comment ,x\n"
        f' a2 ,nps, 7 ,{TIMES},"quoted, comma",y\n'
        f"a3,csat,abc,{TIMES},,z\n"
        f"a4,csat,,{TIMES},c,w\n"
        "a5,csat\n"
        f'a6,ces,3,{TIMES},"",""\n'
        f"a7,csat,4,not a time,{TIMES[21:]},,\n"
    )
    # Upper-case name and extension, gzip, a line that is not JSON, a bad type.
    good = {
        "response_id": "g1",
        "survey_type": "csat",
        "score": 4,
        "sent_at": "2024-03-31T00:30:00Z",
        "responded_at": "2024-03-31T01:30:00Z",
        "updated_at": "2024-03-31T01:30:00Z",
        "resolved_self_reported": True,
    }
    lines = [json.dumps(good), "not json", json.dumps(dict(good, response_id="g2", score="x"))]
    (f / "SURVEY_RESPONSES_gz.JSONL.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    # zstd, CSV and JSON lines, each with a line that is not a record.
    with pa.output_stream(str(f / "survey_responses_z.csv.zst"), compression="zstd") as out:
        out.write(f"{HEADER},extra\nz1,csat,5,{TIMES},e\nz2,csat\n".encode())
    with pa.output_stream(str(f / "survey_responses_zj.jsonl.zst"), compression="zstd") as out:
        out.write((json.dumps(dict(good, response_id="zj")) + "\nnot json\n").encode())
    # ndjson, clean (no extra keys), with an id delivered again later the same day.
    nd = [dict(good, response_id="n1"), dict(good, response_id="a1", score=2)]
    (f / "survey_responses_b.ndjson").write_text("".join(json.dumps(r) + "\n" for r in nd))
    # Parquet with typed columns and naive timestamps (business-local time), one of them
    # in the hour the clocks skip (01:00 on 2024-03-31 in London): typed, not text.
    pq.write_table(
        pa.table(
            {
                "response_id": ["p1", "p2"],
                "survey_type": ["nps", "ces"],
                "score": pa.array([9, 8], pa.int64()),
                "sent_at": pa.array([1711843200_000000, 1711846800_000000], pa.timestamp("us")),
                "responded_at": pa.array(
                    [1711846800_000000, 1711850400_000000], pa.timestamp("us", tz="UTC")
                ),
                "updated_at": pa.array(
                    [1711846800_000000, 1711850400_000000], pa.timestamp("us", tz="UTC")
                ),
                "resolved_self_reported": [True, None],
            }
        ),
        f / "survey_responses_c.parquet",
    )
    # Files the reader refuses whole: empty (zero rows, not refused), a required column
    # missing, a column named twice, a compression it cannot open.
    (f / "survey_responses_empty.csv").write_text("")
    (f / "survey_responses_norequired.csv").write_text("response_id,score\nz1,3\n")
    (f / "survey_responses_twice.csv").write_text(f"{HEADER},score\nt1,csat,1,{TIMES},2\n")
    (f / "survey_responses_old.csv.bz2").write_bytes(b"BZh9")


def _same(a: StagedDay, b: StagedDay) -> None:
    assert a.staged.to_pylist() == b.staged.to_pylist()
    assert a.quarantined.to_pylist() == b.quarantined.to_pylist()
    assert a.rejected_files.to_pylist() == b.rejected_files.to_pylist()
    assert a.not_counted.to_pylist() == b.not_counted.to_pylist()
    assert audit_row(a) == audit_row(b)
    assert [(f.file, f.rows_read, f.rows_quarantined) for f in a.files] == [
        (f.file, f.rows_read, f.rows_quarantined) for f in b.files
    ]
    assert [(f.missing_columns, f.extra_columns) for f in a.files] == [
        (f.missing_columns, f.extra_columns) for f in b.files
    ]


def test_identity_mappings_stage_a_day_exactly_as_the_reader(tmp_path: Path) -> None:
    _land(tmp_path)
    reader = stage_day(tmp_path, SURVEYS, DAY, "Europe/London", native_ingest="reader")
    mapped = stage_day(tmp_path, SURVEYS, DAY, "Europe/London", native_ingest="mapping")
    _same(reader, mapped)
    # The day is not trivial: rows of each kind are there to compare.
    codes = {r["reason_code"] for r in mapped.quarantined.to_pylist()}
    assert {"bad_type", "missing_required", "malformed_row"} <= codes
    errors = {r["error"].split(":", 1)[0] for r in mapped.rejected_files.to_pylist()}
    assert errors == {"missing_column", "duplicate_column", "unsupported_compression"}
    assert mapped.rows_duplicate == 1 and mapped.rows_staged == 9
    assert mapped.rows_read == mapped.rows_staged + mapped.rows_quarantined + mapped.rows_duplicate
    staged = {r["response_id"]: r for r in mapped.staged.to_pylist()}
    assert staged[" a2 "]["score"] == 7 and staged[" a2 "]["comment"] == "quoted, comma"
    assert json.loads(staged["a6"]["extra_fields"]) == {"vendor_field": ""}  # quoted: text
    # Native rows keep a NULL source_mapping whichever reader read them.
    assert set(mapped.staged["source_mapping"].to_pylist()) == {None}
    assert {f.fmt for f in mapped.files} >= {f"csv via {identity_lineage(SURVEYS)}"}


def test_json_lines_extra_keys_are_kept_as_text_whichever_path_the_file_takes(
    tmp_path: Path,
) -> None:
    """The reader keeps a JSON lines file's extra keys only on its fast path (typed), and
    drops them when one bad line sends the file down its line-by-line path; the identity
    mapping keeps them on every row as text, as for CSV."""
    f = tmp_path / "surveys" / DAY.isoformat()
    f.mkdir(parents=True)
    rec = {
        "response_id": "e1",
        "survey_type": "csat",
        "score": 4,
        "sent_at": "2024-03-31T00:30:00Z",
        "responded_at": "2024-03-31T01:30:00Z",
        "updated_at": "2024-03-31T01:30:00Z",
        "vendor_score": 7,
    }
    (f / "survey_responses.jsonl").write_text(json.dumps(rec) + "\nnot json\n")
    reader = stage_day(tmp_path, SURVEYS, DAY, "UTC", native_ingest="reader")
    mapped = stage_day(tmp_path, SURVEYS, DAY, "UTC", native_ingest="mapping")
    assert reader.staged["extra_fields"].to_pylist() == [None]
    assert mapped.staged["extra_fields"].to_pylist() == ['{"vendor_score":"7"}']
    assert audit_row(reader) == audit_row(mapped)
    assert reader.quarantined.to_pylist() == mapped.quarantined.to_pylist()


def test_bad_bytes_and_odd_lines_are_quarantined_in_the_readers_words(tmp_path: Path) -> None:
    f = tmp_path / "surveys" / DAY.isoformat()
    f.mkdir(parents=True)
    (f / "survey_responses.csv").write_bytes(
        f"{HEADER},comment\nu1,csat,5,{TIMES},ok\n".encode()
        + f"u2,csat,4,{TIMES},caf".encode()
        + b"\xe9\n"
        + f'u3,csat,3,{TIMES},"multi\nline"\nu4,csat,2,{TIMES},x,extra\n'.encode()
    )
    j2 = {
        "response_id": "j2",
        "survey_type": "csat",
        "score": 1,
        "sent_at": "2024-03-31T00:30:00Z",
        "responded_at": "2024-03-31T00:30:00Z",
        "updated_at": "2024-03-31T00:30:00Z",
    }
    (f / "survey_responses_b.jsonl").write_bytes(
        b'{"response_id":"j\xff1"}\n\n' + json.dumps(j2).encode() + b"\n[1,2]\n"
    )
    reader = stage_day(tmp_path, SURVEYS, DAY, "UTC", native_ingest="reader")
    mapped = stage_day(tmp_path, SURVEYS, DAY, "UTC", native_ingest="mapping")
    _same(reader, mapped)
    q = {(r["source_file"][-5:], r["reason_code"]) for r in mapped.quarantined.to_pylist()}
    assert q == {
        ("s.csv", "bad_encoding"),
        ("s.csv", "malformed_row"),
        ("jsonl", "bad_encoding"),
        ("jsonl", "missing_key,missing_required"),
    }
    assert "column comment: invalid UTF-8" in mapped.quarantined["message"][0].as_py()


def test_the_identity_path_keeps_text_that_looks_like_a_null_marker(tmp_path: Path) -> None:
    """A region `NA` (North America) is a value: the identity mapping stages it (so does
    the Arrow reader since it reads only an empty field as NULL: test_csv_text.py)."""
    f = tmp_path / "crm" / DAY.isoformat()
    f.mkdir(parents=True)
    times = "2024-01-01T00:00:00Z,2024-03-31T00:00:00Z"
    (f / "customers.csv").write_text(
        f"customer_id,region,created_at,updated_at\nc1,NA,{times}\nc2,,{times}\n"
    )
    day = stage_day(tmp_path, CONTRACTS["customers"], DAY, "UTC", native_ingest="mapping")
    assert day.staged["region"].to_pylist() == ["NA", None]


def test_a_misspelt_setting_stops_the_settings_with_its_name() -> None:
    from outcome_pipeline.errors import ConfigError
    from outcome_pipeline.settings import Settings

    assert Settings.from_env({}).native_ingest == "reader"
    assert Settings.from_env({SETTING: "mapping"}).native_ingest == "mapping"
    with pytest.raises(ConfigError, match="OUTCOME_NATIVE_INGEST is set to 'mappings'"):
        Settings.from_env({SETTING: "mappings"})
