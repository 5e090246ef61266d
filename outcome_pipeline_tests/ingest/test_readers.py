"""Reading landing files: three formats, types, timezones, bad rows, drift, unreadable files."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.conform import conform
from outcome_pipeline.ingest.raw_file import LandingFileError
from outcome_pipeline.ingest.readers import read_landing_file, read_raw

SURVEYS = CONTRACTS["survey_responses"]
COLS = SURVEYS.column_names

RECORDS = [
    {
        "response_id": "r1",
        "survey_type": "csat",
        "score": 5,
        "interaction_id": "i1",
        "case_id": None,
        "customer_id": "c1",
        "customer_email": "A@x.org",
        "customer_phone": None,
        "sent_at": "2024-03-31T00:30:00+00:00",
        "responded_at": "2024-03-31T03:30:00+01:00",
        "resolved_self_reported": True,
        "comment": 'great, "fast"',
        "updated_at": "2024-03-31T02:30:00Z",
    },
    {
        "response_id": "r2",
        "survey_type": "nps",
        "score": 0,
        "interaction_id": None,
        "case_id": "k9",
        "customer_id": None,
        "customer_email": None,
        "customer_phone": "+447700900123",
        "sent_at": "2024-03-30T23:00:00Z",
        "responded_at": "2024-03-31T01:00:00Z",
        "resolved_self_reported": False,
        "comment": None,
        "updated_at": "2024-03-31T01:00:00Z",
    },
]


def write_csv(path: Path, records: list[dict], columns: list[str] = COLS) -> Path:
    def cell(v: object) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        text = str(v)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text

    lines = [",".join(columns)] + [",".join(cell(r.get(c)) for c in columns) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_parquet(path: Path, records: list[dict]) -> Path:
    typed = read_landing_file(write_jsonl(path.with_suffix(".tmp.jsonl"), records), SURVEYS)
    pq.write_table(typed.select(COLS), path)
    return path


def typed_rows(path: Path) -> list[dict]:
    t = read_landing_file(path, SURVEYS, "Europe/London")
    return t.drop_columns([c for c in t.column_names if c.startswith("_")]).to_pylist()


def test_three_formats_read_to_the_same_typed_rows(tmp_path: Path) -> None:
    csv = typed_rows(write_csv(tmp_path / "a.csv", RECORDS))
    jsonl = typed_rows(write_jsonl(tmp_path / "a.jsonl", RECORDS))
    parquet = typed_rows(write_parquet(tmp_path / "a.parquet", RECORDS))
    assert csv == jsonl == parquet
    assert csv[0]["score"] == 5 and csv[0]["resolved_self_reported"] is True
    assert csv[0]["comment"] == 'great, "fast"'


def test_timestamps_are_normalised_to_utc(tmp_path: Path) -> None:
    records = [
        dict(RECORDS[0], response_id=f"r{i}", responded_at=ts)
        for i, ts in enumerate(
            [
                "2024-03-31T03:30:00+01:00",  # BST offset
                "2024-03-31T02:30:00Z",
                "2024-03-31 02:30:00.000+00:00",
                "2024-07-01T10:00:00",  # no offset: business local time (BST in July) -> 09:00 UTC
            ]
        )
    ]
    rows = typed_rows(write_csv(tmp_path / "t.csv", records))
    got = [r["responded_at"] for r in rows]
    want = datetime(2024, 3, 31, 2, 30, tzinfo=UTC)
    assert got[:3] == [want, want, want]
    assert got[3] == datetime(2024, 7, 1, 9, 0, tzinfo=UTC)


def test_a_bad_value_costs_one_row_with_a_reason_and_its_line(tmp_path: Path) -> None:
    bad = dict(RECORDS[1], response_id="r3", score="five")
    path = write_csv(tmp_path / "b.csv", [RECORDS[0], bad, RECORDS[1]])
    raw = read_raw(path, SURVEYS)
    result = conform(raw.table, SURVEYS, "UTC")
    assert result.table["response_id"].to_pylist() == ["r1", "r2"]
    assert result.table["_source_line"].to_pylist() == [2, 4]
    assert result.rejects["_source_line"].to_pylist() == [3]
    assert result.rejects["reason_code"].to_pylist() == ["bad_type"]
    assert "score='five'" in result.rejects["message"][0].as_py()
    assert json.loads(result.rejects["raw_record"][0].as_py())["response_id"] == "r3"


def test_missing_required_value_is_rejected(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "m.jsonl", [RECORDS[0], dict(RECORDS[1], response_id=None)])
    result = conform(read_raw(path, SURVEYS).table, SURVEYS, "UTC")
    assert result.table.num_rows == 1
    assert result.rejects["reason_code"].to_pylist() == ["missing_key"]


def test_malformed_lines_and_bad_encoding_are_reported_not_fatal(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "e.csv", RECORDS)
    with path.open("ab") as fh:
        fh.write(
            b"r9,csat,4,i9,,c9,\xff\xfe@x.org,,2024-03-31T00:30:00Z,2024-03-31T00:30:00Z,true,,2024-03-31T00:30:00Z\n"
        )
        fh.write(b"r10,csat,4\n")
    raw = read_raw(path, SURVEYS)
    assert raw.table.num_rows == 2
    assert [(m.line, "UTF-8" in m.error) for m in raw.malformed] == [(4, True), (5, False)]
    jpath = tmp_path / "e.jsonl"
    jpath.write_text(json.dumps(RECORDS[0]) + "\n{not json\n" + json.dumps(RECORDS[1]) + "\n")
    raw = read_raw(jpath, SURVEYS)
    assert raw.table["_source_line"].to_pylist() == [1, 3]
    assert [m.line for m in raw.malformed] == [2]


def test_missing_required_column_fails_the_file_naming_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "survey_responses.csv", RECORDS, [c for c in COLS if c != "score"])
    with pytest.raises(LandingFileError, match=r"survey_responses\.csv.*score"):
        read_raw(path, SURVEYS)


def test_extra_and_missing_optional_columns_are_reported(tmp_path: Path) -> None:
    cols = [c for c in COLS if c != "comment"] + ["channel_hint"]
    path = write_csv(tmp_path / "x.csv", [dict(r, channel_hint="web") for r in RECORDS], cols)
    raw = read_raw(path, SURVEYS)
    assert raw.extra_columns == ["channel_hint"]
    assert raw.missing_columns == ["comment"]
    assert read_landing_file(path, SURVEYS)["comment"].null_count == 2


def test_empty_files_are_zero_rows_and_garbage_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert read_landing_file(tmp_path / "empty.csv", SURVEYS).num_rows == 0
    assert read_landing_file(tmp_path / "empty.jsonl", SURVEYS).num_rows == 0
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(LandingFileError, match=r"broken\.parquet: cannot be read as parquet"):
        read_raw(tmp_path / "broken.parquet", SURVEYS)


def test_parquet_types_are_cast_to_the_contract(tmp_path: Path) -> None:
    table = pa.table(
        {
            "response_id": ["r1"],
            "survey_type": ["ces"],
            "score": pa.array([6], pa.int32()),
            "sent_at": pa.array([datetime(2024, 1, 1, 12)], pa.timestamp("ms")),  # naive: local
            "responded_at": pa.array(
                [datetime(2024, 1, 1, 13, tzinfo=UTC)], pa.timestamp("ns", "UTC")
            ),
            "updated_at": pa.array(
                [datetime(2024, 1, 1, 13, tzinfo=UTC)], pa.timestamp("us", "UTC")
            ),
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    got = read_landing_file(tmp_path / "p.parquet", SURVEYS, "America/New_York")
    assert got.schema.field("score").type == pa.int64()
    assert got["sent_at"][0].as_py() == datetime(2024, 1, 1, 17, tzinfo=UTC)
