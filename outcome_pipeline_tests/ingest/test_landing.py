"""Every file under a feed's landing folder is read or quarantined with a reason, on one day.

Each case is staged through ``stage_day``: read files show in staging lineage, the others in
``rejected_files`` (what ``quarantine_files`` receives and what fails ``load_ok``).
"""

from __future__ import annotations

import gzip
import json
import os
from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS, FEEDS
from outcome_pipeline.defs.automation.landing_watch import scan_landing
from outcome_pipeline.ingest.landing import discover_day, landing_days, nearest_day
from outcome_pipeline.ingest.lines import MAX_RAW_CHARS
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.ingest.stage_finish import StagedDay
from outcome_pipeline_tests.ingest.test_readers import RECORDS, write_jsonl
from outcome_pipeline_tests.ingest.test_readers import write_csv as _write_csv

SURVEYS = CONTRACTS["survey_responses"]
DAY = date(2024, 3, 31)


def rows(prefix: str, n: int = 2) -> list[dict]:
    return [dict(RECORDS[i % 2], response_id=f"{prefix}{i}") for i in range(n)]


def write_csv(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_csv(path, records)


def day_folder(root: Path, day: date = DAY, feed: str = "surveys") -> Path:
    folder = root / feed / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def lost(day: StagedDay) -> dict[str, str]:
    """source_file -> reason code of every file quarantined as a file."""
    return {r["source_file"]: r["error"].split(":", 1)[0] for r in day.rejected_files.to_pylist()}


def staged_files(day: StagedDay) -> set[str]:
    return set(day.staged["source_file"].to_pylist())


def test_name_variants_are_read_or_quarantined_never_ignored(tmp_path: Path) -> None:
    f = day_folder(tmp_path)
    write_csv(f / "survey_responses_upper.CSV", rows("upper"))
    write_csv(f / "SURVEY_RESPONSES_shout.Csv", rows("shout"))
    write_csv(f / "survey_responses-hyphen.csv", rows("hyphen"))
    write_csv(f / "survey_responses copy.csv", rows("space"))
    write_csv(f / "survey_responses_o'brien.csv", rows("quote"))
    write_jsonl(f / "survey_responses_lines.ndjson", rows("nd"))
    csv_text = write_csv(tmp_path / "gz.csv", rows("gz")).read_bytes()
    (f / "survey_responses_gz.csv.gz").write_bytes(gzip.compress(csv_text))
    jsonl_text = write_jsonl(tmp_path / "gz.jsonl", rows("jgz")).read_bytes()
    (f / "survey_responses_jgz.JSONL.GZ").write_bytes(gzip.compress(jsonl_text))
    write_jsonl(f / "survey_responses.json", rows("json"))
    (f / "survey_responses.csv.zip").write_bytes(b"PK\x03\x04")
    (f / "survey_responses.csv.bz2").write_bytes(b"BZh9")
    (f / "survey_responses.parquet.gz").write_bytes(gzip.compress(b"PAR1"))
    write_csv(f / "survey_responses[1].csv", rows("glob"))
    (f / "notes.txt").write_text("a note")
    (f / ".DS_Store").write_bytes(b"\0")

    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")

    prefix = "surveys/2024-03-31/"
    assert staged_files(day) == {
        prefix + n
        for n in (
            "survey_responses_upper.CSV",
            "SURVEY_RESPONSES_shout.Csv",
            "survey_responses-hyphen.csv",
            "survey_responses copy.csv",
            "survey_responses_o'brien.csv",
            "survey_responses_lines.ndjson",
            "survey_responses_gz.csv.gz",
            "survey_responses_jgz.JSONL.GZ",
        )
    }
    assert day.rows_staged == 16 and day.rows_read == 16
    assert lost(day) == {
        prefix + "survey_responses.json": "unknown_name",
        prefix + "survey_responses.csv.zip": "unsupported_compression",
        prefix + "survey_responses.csv.bz2": "unsupported_compression",
        prefix + "survey_responses.parquet.gz": "unsupported_compression",
        prefix + "survey_responses[1].csv": "unknown_name",
        prefix + "notes.txt": "unknown_name",
        prefix + ".DS_Store": "unknown_name",
    }
    assert day.files_quarantined == 7


def test_files_in_a_subfolder_are_quarantined(tmp_path: Path) -> None:
    f = day_folder(tmp_path)
    write_csv(f / "survey_responses.csv", rows("top"))
    write_csv(f / "resent" / "survey_responses.csv", rows("sub"))
    write_csv(f / "resent" / "deeper" / "x.csv", rows("deep"))
    (f / "empty").mkdir()
    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")
    assert staged_files(day) == {"surveys/2024-03-31/survey_responses.csv"}
    assert lost(day) == {
        "surveys/2024-03-31/resent/survey_responses.csv": "subfolder",
        "surveys/2024-03-31/resent/deeper/x.csv": "subfolder",
    }


def test_bad_day_folders_are_reported_on_the_day_they_mean_or_the_newest(
    tmp_path: Path,
) -> None:
    feed = tmp_path / "surveys"
    write_csv(day_folder(tmp_path, date(2024, 1, 4)) / "survey_responses.csv", rows("a"))
    write_csv(day_folder(tmp_path, date(2024, 3, 1)) / "survey_responses.csv", rows("b"))
    write_csv(feed / "2024-1-5" / "survey_responses.csv", rows("loose"))
    write_csv(feed / "2024-02-30" / "survey_responses.csv", rows("feb30"))
    write_csv(feed / "tmp" / "survey_responses.csv", rows("tmp"))
    (feed / "README.txt").write_text("where files go")

    def on(day: date) -> dict[str, str]:
        return lost(stage_day(tmp_path, SURVEYS, day, "UTC"))

    assert on(date(2024, 1, 5)) == {"surveys/2024-1-5/survey_responses.csv": "bad_day_folder"}
    assert on(date(2024, 2, 29)) == {"surveys/2024-02-30/survey_responses.csv": "bad_day_folder"}
    # Undatable strays go with the newest day folder: the day the nightly run loads.
    assert on(date(2024, 3, 1)) == {
        "surveys/README.txt": "misplaced",
        "surveys/tmp/survey_responses.csv": "bad_day_folder",
    }
    assert on(date(2024, 1, 4)) == {}
    message = stage_day(tmp_path, SURVEYS, date(2024, 1, 5), "UTC").rejected_files["error"][0]
    assert "rename it to 2024-01-05" in message.as_py()
    assert landing_days(tmp_path, "surveys") == [
        date(2024, 1, 4),
        date(2024, 1, 5),
        date(2024, 2, 29),
        date(2024, 3, 1),
    ]
    assert nearest_day("20240105") == date(2024, 1, 5) and nearest_day("tmp") is None


def test_a_link_out_of_the_root_is_quarantined_and_the_rest_staged(tmp_path: Path) -> None:
    outside = write_csv(tmp_path / "secret.csv", rows("secret"))
    root = tmp_path / "landing"
    f = day_folder(root)
    write_csv(f / "survey_responses.csv", rows("ok"))
    os.symlink(outside, f / "survey_responses_link.csv")
    os.symlink(tmp_path / "gone.csv", f / "survey_responses_broken.csv")
    day = stage_day(root, SURVEYS, DAY, "UTC")  # before: LandingPathError for the feed
    assert day.rows_staged == 2 and staged_files(day) == {"surveys/2024-03-31/survey_responses.csv"}
    assert lost(day) == {
        "surveys/2024-03-31/survey_responses_link.csv": "outside_root",
        "surveys/2024-03-31/survey_responses_broken.csv": "outside_root",
    }
    assert "secret" not in json.dumps(day.rejected_files.to_pylist(), default=str)


def test_a_folder_linked_out_of_the_root_is_quarantined_unlisted(tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    write_csv(outside / "survey_responses.csv", rows("x"))
    root = tmp_path / "landing"
    write_csv(day_folder(root, date(2024, 3, 30)) / "survey_responses.csv", rows("ok"))
    os.symlink(outside, root / "surveys" / DAY.isoformat())
    assert lost(stage_day(root, SURVEYS, DAY, "UTC")) == {"surveys/2024-03-31": "outside_root"}
    assert stage_day(root, SURVEYS, date(2024, 3, 30), "UTC").rows_staged == 2


def test_a_link_inside_the_root_is_read_once(tmp_path: Path) -> None:
    f = day_folder(tmp_path)
    write_csv(f / "survey_responses.csv", rows("a"))
    os.symlink(f / "survey_responses.csv", f / "survey_responses_again.csv")
    other = day_folder(tmp_path, date(2024, 3, 30))
    write_csv(other / "survey_responses.csv", rows("b", 3))
    os.symlink(other / "survey_responses.csv", f / "survey_responses_yesterday.csv")
    archive = tmp_path / "archive"
    write_csv(archive / "resend.csv", rows("c"))
    os.symlink(archive / "resend.csv", f / "survey_responses_resend.csv")
    os.symlink(archive / "resend.csv", f / "survey_responses_resend2.csv")

    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")

    assert day.rows_read == 4 and day.rows_duplicate == 0  # before: 2 + 2 + 3 + 2 + 2 read
    assert staged_files(day) == {
        "surveys/2024-03-31/survey_responses.csv",
        "surveys/2024-03-31/survey_responses_resend.csv",
    }
    assert lost(day) == {
        "surveys/2024-03-31/survey_responses_again.csv": "duplicate_link",
        "surveys/2024-03-31/survey_responses_yesterday.csv": "duplicate_link",
        "surveys/2024-03-31/survey_responses_resend2.csv": "duplicate_link",
    }


def test_an_oversized_jsonl_line_is_quarantined_as_a_line(tmp_path: Path) -> None:
    f = day_folder(tmp_path)
    long_ok = dict(rows("long", 1)[0], comment="z" * (17 << 20))  # valid JSON, 17 MiB
    path = f / "survey_responses.jsonl"
    with path.open("w") as out:
        for r in [*rows("a", 3)[:2], long_ok, *rows("b", 1)]:
            out.write(json.dumps(r) + "\n")
        out.write('{"response_id": "huge", "comment": "' + "y" * (40 << 20) + "\n")  # not JSON
        out.write(json.dumps(rows("c", 1)[0]) + "\n")

    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")

    assert day.files_quarantined == 0  # before: the whole file, 4 valid rows with it
    assert sorted(day.staged["response_id"].to_pylist()) == ["a0", "a1", "b0", "c0"]
    q = day.quarantined.to_pylist()
    assert [(r["source_line"], r["reason_code"]) for r in q] == [
        (3, "oversized_line"),
        (5, "oversized_line"),
    ]
    assert all(len(r["raw_record"]) < MAX_RAW_CHARS + 100 for r in q)
    assert q[0]["raw_record"].startswith('{"response_id": "long0"')
    assert "truncated: " in q[1]["raw_record"] and "bytes, over the" in q[1]["message"]
    assert day.rows_read == day.rows_staged + day.rows_quarantined + day.rows_duplicate == 6


def test_a_csv_row_over_arrow_block_is_read_and_one_over_the_limit_is_named(
    tmp_path: Path,
) -> None:
    f = day_folder(tmp_path)
    long_row = dict(rows("long", 1)[0], comment="q" * (2 << 20))  # Arrow's CSV block: 1 MiB
    write_csv(f / "survey_responses.csv", [*rows("a"), long_row])
    huge_row = dict(rows("huge", 1)[0], comment="q" * (17 << 20))
    write_csv(f / "survey_responses_huge.csv", [*rows("b"), huge_row])
    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")
    assert day.rows_staged == 3  # before: the file quarantined as "straddling object"
    assert lost(day) == {"surveys/2024-03-31/survey_responses_huge.csv": "oversized_line"}
    assert "longer than 16777216 bytes" in day.rejected_files["error"][0].as_py()


def test_gzipped_jsonl_with_a_bad_line_takes_the_line_path(tmp_path: Path) -> None:
    f = day_folder(tmp_path)
    text = "".join(json.dumps(r) + "\n" for r in rows("g", 3)) + "not json\n"
    (f / "survey_responses.jsonl.gz").write_bytes(gzip.compress(text.encode()))
    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")
    assert day.rows_staged == 3 and day.quarantined["source_line"].to_pylist() == [4]


def test_a_duplicated_csv_column_quarantines_the_file_with_a_message(tmp_path: Path) -> None:
    f = day_folder(tmp_path)
    records = rows("d")
    columns = [*SURVEYS.column_names, "score"]
    lines = [",".join(columns)]
    for r in records:
        cells = ["" if r.get(c) is None else str(r.get(c)) for c in SURVEYS.column_names]
        lines.append(",".join(['"' + c.replace('"', '""') + '"' for c in cells] + ["1"]))
    (f / "survey_responses_dup.csv").write_text("\n".join(lines) + "\n")
    write_csv(f / "survey_responses.csv", rows("ok"))
    day = stage_day(tmp_path, SURVEYS, DAY, "UTC")
    assert lost(day) == {"surveys/2024-03-31/survey_responses_dup.csv": "duplicate_column"}
    error = day.rejected_files["error"][0].as_py()
    assert "'score' in columns 3, 14" in error  # before: the second copy silently dropped
    assert day.rows_staged == 2


def _every_file(feed_dir: Path) -> set[str]:
    root = feed_dir.parent
    out = set()
    for parent, dirs, names in os.walk(feed_dir):
        for name in names + [d for d in dirs if (Path(parent) / d).is_symlink()]:
            out.add((Path(parent) / name).relative_to(root).as_posix())
    return out


def messy_crm_tree(root: Path) -> None:
    for d in (date(2024, 5, 1), date(2024, 5, 2)):
        f = day_folder(root, d, "crm")
        for t in FEEDS["crm"]:
            (f / f"{t}.csv").write_text(f"{CONTRACTS[t].key}\n")
        (f / "cases.json").write_text("{}")
        (f / "Customers_extra.CSV").write_text("customer_id\n")
        (f / "unknown.csv").write_text("x\n")
        (f / "sub").mkdir()
        (f / "sub" / "cases.csv").write_text("case_id\n")
    feed = root / "crm"
    (feed / "2024-5-3").mkdir()
    (feed / "2024-5-3" / "customers.csv").write_text("customer_id\n")
    (feed / "loose.csv").write_text("x\n")
    os.symlink(root / "crm" / "2024-05-01" / "cases.csv", feed / "2024-05-02" / "cases_b.csv")
    os.symlink("/etc/hostname", feed / "2024-05-02" / "customers_out.csv")


def test_every_file_under_a_feed_is_read_or_quarantined_exactly_once(tmp_path: Path) -> None:
    messy_crm_tree(tmp_path)
    accounted: list[str] = []
    for day in landing_days(tmp_path, "crm"):
        for table in FEEDS["crm"]:
            staged = stage_day(tmp_path, CONTRACTS[table], day, "UTC")
            accounted += [f.file for f in staged.files]
            accounted += staged.rejected_files["source_file"].to_pylist()
    every = _every_file(tmp_path / "crm")
    assert sorted(accounted) == sorted(every)  # each once: no file on two days or tables
    # The sensor watches the same files, on the same days.
    watched = scan_landing(tmp_path, [CONTRACTS[t] for t in FEEDS["crm"]])
    assert sorted(w.relative for w in watched) == sorted(every)


def test_discovery_is_one_listing_per_feed_and_day(tmp_path: Path) -> None:
    messy_crm_tree(tmp_path)
    listing = discover_day(tmp_path, "crm", date(2024, 5, 1))
    assert {(f.relative, f.table) for f in listing.files} == {
        ("crm/2024-05-01/customers.csv", "customers"),
        ("crm/2024-05-01/cases.csv", "cases"),
        ("crm/2024-05-01/subscription_events.csv", "subscription_events"),
        ("crm/2024-05-01/Customers_extra.CSV", "customers"),
    }
    assert {(s.relative, s.table, s.reason) for s in listing.skipped} == {
        ("crm/2024-05-01/cases.json", "cases", "unknown_name"),
        ("crm/2024-05-01/unknown.csv", "customers", "unknown_name"),  # the feed's first table
        ("crm/2024-05-01/sub/cases.csv", "cases", "subfolder"),
    }
