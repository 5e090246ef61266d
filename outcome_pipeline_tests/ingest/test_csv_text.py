"""CSV text the readers must agree on: values that look like null markers, and a quote that
is never closed."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping, map_day
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline_tests.ingest.mapping.fixtures import BANK_HEADER, BANK_ROWS

DAY = date(2024, 3, 31)
TIMES = "2024-01-01T00:00:00Z,2024-03-31T00:00:00Z"
MARKERS = ["NA", "N/A", "NULL", "null", "nan", "NaN", "#N/A", "None"]


@pytest.mark.parametrize("native_ingest", ["reader", "mapping"])
def test_null_markers_are_values_and_only_an_empty_field_is_missing(
    tmp_path: Path, native_ingest: str
) -> None:
    """A queue or agent named "NA", a region NA (North America): both native paths and the
    vendor mappings keep the text; an empty field is missing. (The Arrow reader used to
    read Arrow's default null markers as NULL, the mapping engine kept them.)"""
    f = tmp_path / "crm" / DAY.isoformat()
    f.mkdir(parents=True)
    rows = [f"c{i},{m},{TIMES}" for i, m in enumerate(MARKERS)] + [f"cx,,{TIMES}"]
    (f / "customers.csv").write_text("customer_id,region,created_at,updated_at\n" + "\n".join(rows))
    day = stage_day(tmp_path, CONTRACTS["customers"], DAY, "UTC", native_ingest=native_ingest)
    ids, regions = day.staged["customer_id"].to_pylist(), day.staged["region"].to_pylist()
    staged = dict(zip(ids, regions, strict=True))
    assert staged == {**{f"c{i}": m for i, m in enumerate(MARKERS)}, "cx": None}
    assert day.quarantined.num_rows == 0


def test_a_vendor_mapping_keeps_an_agent_and_a_queue_named_na(tmp_path: Path) -> None:
    folder = tmp_path / "bank_call_log" / DAY.isoformat()
    folder.mkdir(parents=True)
    row = BANK_ROWS[0].format(d="240331").replace("\tPS\t", "\tNA\t").replace("MICHAL", "NA")
    (folder / "calls.txt").write_text(f"{BANK_HEADER}\n{row}\n")
    m = compile_mapping(SHIPPED_DIR / "bank_call_log.toml", "UTC")
    out = map_day(tmp_path, m, DAY)
    assert out.typed.select(["queue", "agent_id"]).to_pylist() == [
        {"queue": "NA", "agent_id": "NA"}
    ]


@pytest.mark.parametrize("native_ingest", ["reader", "mapping", "vendor"])
def test_an_unclosed_quote_is_named_with_its_file_and_line(
    tmp_path: Path, native_ingest: str
) -> None:
    """A quote opened in the last field of line 3 and never closed swallows the rest of the
    file. DuckDB's reason was "Value with unterminated quote found." (vendor mappings) and,
    re-counted as fields, "expected 4 fields, found 4" (the identity path); Arrow's reader
    closed the value at the end of the file, so a text column would have staged the record
    with the next lines inside it. Now every path names the file, the line and the lines
    lost."""
    f = tmp_path / "crm" / DAY.isoformat()
    f.mkdir(parents=True)
    (f / "customers.csv").write_text(
        "customer_id,region,created_at,updated_at\n"
        f"c1,EU,{TIMES}\n"
        'c2,EU,2024-01-01T00:00:00Z,"2024-03-31T00:00:00Z\n'
        f"c3,US,{TIMES}\nc4,US,{TIMES}\n"
    )
    if native_ingest == "vendor":
        mapping = tmp_path / "crm.toml"
        mapping.write_text(
            '[source]\nname = "crm_csv"\nversion = "1"\ntable = "customers"\nfeed = "crm"\n'
            'glob = "*.csv"\nformat = "csv"\n[columns]\ncustomer_id = "customer_id"\n'
            'region = "region"\ncreated_at = "created_at"\nupdated_at = "updated_at"\n'
        )
        out = map_day(tmp_path, compile_mapping(mapping, "UTC"), DAY)
        staged, rejects = out.typed, out.rejects
    else:
        day = stage_day(tmp_path, CONTRACTS["customers"], DAY, "UTC", native_ingest=native_ingest)
        staged, rejects = day.staged, day.quarantined
    assert staged["customer_id"].to_pylist() == ["c1"]
    (reject,) = rejects.to_pylist()
    assert (reject["source_line"], reject["reason_code"]) == (3, "malformed_row")
    assert reject["message"] == (
        "crm/2024-03-31/customers.csv, line 3: a quoted value opens in this record and is "
        "never closed, so the 3 line(s) from here to the end of the file are not read as "
        "records; fix the quoting and land the file again"
    )


@pytest.mark.parametrize("native_ingest", ["reader", "mapping"])
def test_an_unclosed_quote_in_a_text_column_stages_nothing_after_it(
    tmp_path: Path, native_ingest: str
) -> None:
    """The quote opens in ``region`` (text, the last column): Arrow's reader staged c2 with
    region = the rest of the file, and c3, c4 were in no table at all. A quoted value that
    spans lines, properly closed, is a value (c1)."""
    f = tmp_path / "crm" / DAY.isoformat()
    f.mkdir(parents=True)
    (f / "customers.csv").write_text(
        "created_at,updated_at,customer_id,region\n"
        f'{TIMES},c1,"North\nAmerica"\n'
        f'{TIMES},c2,"EU\n{TIMES},c3,US\n{TIMES},c4,US\n'
    )
    day = stage_day(tmp_path, CONTRACTS["customers"], DAY, "UTC", native_ingest=native_ingest)
    assert day.staged.select(["customer_id", "region"]).to_pylist() == [
        {"customer_id": "c1", "region": "North\nAmerica"}
    ]
    (reject,) = day.quarantined.to_pylist()
    assert reject["reason_code"] == "malformed_row"
    assert "never closed, so the 3 line(s) from here" in reject["message"]
    assert reject["raw_record"].startswith(f'{TIMES},c2,"EU\n')


@pytest.mark.parametrize("native_ingest", ["reader", "mapping"])
def test_an_unclosed_quote_before_a_non_utf8_byte_keeps_the_records_before_it(
    tmp_path: Path, native_ingest: str
) -> None:
    """The swallowed lines hold a byte that is not UTF-8: Arrow could not hand the too-short
    record to its invalid-row handler and failed the whole file ("Expected 4 columns"), so
    the reader quarantined every record. Now the records before the quote are staged.
    (Found by landing such a file in the demo's landing folder.)"""
    f = tmp_path / "crm" / DAY.isoformat()
    f.mkdir(parents=True)
    (f / "customers.csv").write_bytes(
        f"customer_id,region,created_at,updated_at\nc1,EU,{TIMES}\n".encode()
        + f'c2,"EU,{TIMES}\nc3,\xff\xfe,{TIMES}\nc4,US,{TIMES}\n'.encode("latin-1")
    )
    day = stage_day(tmp_path, CONTRACTS["customers"], DAY, "UTC", native_ingest=native_ingest)
    assert day.staged["customer_id"].to_pylist() == ["c1"]
    (reject,) = day.quarantined.to_pylist()
    assert (reject["source_line"], reject["reason_code"]) == (3, "malformed_row")
    assert "never closed, so the 3 line(s) from here" in reject["message"]


def test_a_refused_row_that_is_not_utf8_prints_nothing_on_stderr(tmp_path: Path) -> None:
    """pyarrow printed "Exception ignored in ... on_invalid" and a traceback for such a row
    (a user running the CLI saw it in the middle of the progress lines); the file's fate is
    in its quarantine reason. A process of its own: pytest replaces the unraisable hook."""
    f = tmp_path / "crm" / DAY.isoformat()
    f.mkdir(parents=True)
    (f / "customers.csv").write_bytes(
        f"customer_id,region,created_at,updated_at\nc1,EU,{TIMES}\n".encode() + b"c2,\xff\xfe\n"
    )
    script = (
        "import sys; from datetime import date; from pathlib import Path\n"
        "from outcome_pipeline.contracts import CONTRACTS\n"
        "from outcome_pipeline.ingest.stage import stage_day\n"
        f"day = stage_day(Path({str(tmp_path)!r}), CONTRACTS['customers'], "
        f"date.fromisoformat({DAY.isoformat()!r}), 'UTC')\n"
        "print(day.rejected_files.to_pylist()[0]['error'])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stderr == ""
    assert "customers.csv: cannot be read as csv: CSV parse error" in done.stdout
