"""File encodings: every table in several formats, and the three writers agree with the reader."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from outcome_pipeline.contracts.feeds import CONTRACTS, INTERACTIONS
from outcome_pipeline.generator import GenerationReport
from outcome_pipeline.generator.timeutil import BusinessClock, iso_strings
from outcome_pipeline.generator.writers import write_csv, write_jsonl, write_parquet
from outcome_pipeline.ingest.readers import read_landing_file

Run = tuple[Path, GenerationReport]


def test_every_table_is_written_in_at_least_two_formats(clean_run: Run) -> None:
    _, report = clean_run
    formats = defaultdict(set)
    for f in report.files:
        formats[f.table].add(f.format)
    assert set(formats) == set(CONTRACTS)
    for table, seen in formats.items():
        assert len(seen) >= 2, (table, seen)
    assert set().union(*formats.values()) == {"csv", "jsonl", "parquet"}


def test_csv_headers_nulls_booleans_and_offsets(clean_run: Run) -> None:
    out, report = clean_run
    offsets = set()
    for f in report.files:
        if f.format != "csv":
            continue
        lines = (out / f.path).read_text().splitlines()
        assert lines[0] == ",".join(CONTRACTS[f.table].column_names)
        if f.path.endswith("interactions_telephony.csv"):
            # phone exports are in business local time with the offset of that instant
            offsets |= {line.split(",")[12][-6:] for line in lines[1:]}
            assert all(line.split(",")[19] in ("true", "false") for line in lines[1:])
    assert offsets == {"+00:00", "+01:00"}  # the run spans the spring-forward change


def test_jsonl_uses_json_types(clean_run: Run) -> None:
    out, report = clean_run
    path = next(out / f.path for f in report.files if f.path.endswith("interactions_chat.jsonl"))
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(list(r) == INTERACTIONS.column_names for r in rows)
    assert {type(r["abandoned"]) for r in rows} == {bool}
    assert {type(r["talk_seconds"]) for r in rows} == {int, type(None)}
    assert any(r["answered_at"] is None for r in rows)
    assert all(r["queued_at"].endswith("+00:00") for r in rows)


def _interaction_slice(out: Path, report: GenerationReport) -> pa.Table:
    """Generated interactions with nulls, transfers, abandons, local-time and UTC stamps."""
    path = next(
        out / f.path for f in report.files if f.path.endswith("interactions_digital.parquet")
    )
    table = pq.read_table(path).slice(0, 300)
    # a few awkward strings the writers must quote or escape
    awkward = pa.array(
        ["a,b", 'say "hi"', " padded ", "Zoë\\path", "tab\there", None] * 50, pa.string()
    )
    return table.set_column(
        table.schema.get_field_index("contact_reason"), "contact_reason", awkward
    )


@pytest.mark.parametrize("fmt", ["csv", "csv_local", "jsonl", "parquet"])
def test_three_formats_read_back_to_the_same_rows(clean_run: Run, tmp_path: Path, fmt: str) -> None:
    out, report = clean_run
    table = _interaction_slice(out, report)
    path = tmp_path / f"interactions.{fmt.split('_')[0]}"
    if fmt == "csv":
        write_csv(table, path, INTERACTIONS)
    elif fmt == "csv_local":
        write_csv(table, path, INTERACTIONS, clock=BusinessClock("Europe/London"))
    elif fmt == "jsonl":
        write_jsonl(table, path, INTERACTIONS)
    else:
        write_parquet(table, path, INTERACTIONS)
    back = read_landing_file(path, INTERACTIONS)
    back = back.drop_columns([c for c in back.column_names if c.startswith("_")])
    assert [(f.name, f.type) for f in back.schema] == [
        (c.name, c.type) for c in INTERACTIONS.columns
    ]
    assert back.num_rows == table.num_rows
    expected = table.cast(back.schema)
    for name in INTERACTIONS.column_names:
        assert back[name].equals(expected[name]), name


def test_iso_strings_match_arrow_and_parse_back() -> None:
    rng = np.random.default_rng(3)
    seconds = rng.integers(0, 4_000_000_000, 5_000)
    seconds[::17] = -1  # nulls
    ts = pa.array(np.where(seconds < 0, 0, seconds) * 1_000_000, pa.timestamp("us", tz="UTC"))
    ts = pc.if_else(pa.array(seconds >= 0), ts, pa.scalar(None, ts.type))
    utc = iso_strings(seconds)
    assert pc.cast(utc, pa.timestamp("us", tz="UTC")).equals(ts)
    clock = BusinessClock("America/St_Johns")  # -03:30 / -02:30
    local = iso_strings(seconds, clock.offset(np.where(seconds < 0, 0, seconds)))
    assert pc.cast(local, pa.timestamp("us", tz="UTC")).equals(ts)
    expected = pc.strftime(
        pc.cast(ts, pa.timestamp("us", tz="America/St_Johns")), format="%Y-%m-%dT%H:%M:%S"
    )
    assert pc.utf8_slice_codeunits(local, 0, 19).equals(pc.utf8_slice_codeunits(expected, 0, 19))


def test_local_to_utc_round_trips_outside_dst_gaps() -> None:
    clock = BusinessClock("Europe/London")
    day = (date(2024, 3, 31) - date(1970, 1, 1)).days
    local = day * 86_400 + np.arange(0, 86_400, 600)
    utc = clock.local_to_utc(local)
    back = utc + clock.offset(utc)
    in_gap = (local % 86_400 >= 3_600) & (local % 86_400 < 7_200)
    assert (back[~in_gap] == local[~in_gap]).all()
    assert (back[in_gap] == local[in_gap] + 3_600).all()  # 01:xx does not exist that day
