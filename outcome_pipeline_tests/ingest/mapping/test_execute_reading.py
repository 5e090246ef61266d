"""How a mapping reads its files: several files of a day, extra header lines, skip rules, CSV
read without the sniffer."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from outcome_pipeline.ingest.mapping import SHIPPED_DIR, compile_mapping, map_day
from outcome_pipeline_tests.ingest.mapping.fixtures import (
    write_bank_log,
)

DAY = date(2024, 1, 2)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_several_files_of_a_day_keep_their_own_line_numbers(tmp_path: Path) -> None:
    folder = tmp_path / "bank_call_log" / DAY.isoformat()
    write_bank_log(folder, "240102", "a.txt")
    write_bank_log(folder, "240102", "b.txt")
    m = compile_mapping(SHIPPED_DIR / "bank_call_log.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    lines = {(r["_source_file"][-5:], r["_source_line"]) for r in out.typed.to_pylist()}
    assert lines == {(f, n) for f in ("a.txt", "b.txt") for n in (2, 3, 4, 5, 9)}
    assert [(c.rows_read, c.rows_quarantined) for c in out.files] == [(8, 3), (8, 3)]


def test_qualtrics_export_skips_its_two_extra_header_lines(tmp_path: Path) -> None:
    folder = tmp_path / "qualtrics" / DAY.isoformat()
    folder.mkdir(parents=True)
    fields = (
        "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,RecordedDate,"
        "ResponseId,RecipientLastName,RecipientFirstName,RecipientEmail,ExternalReference,"
        "LocationLatitude,LocationLongitude,DistributionChannel,UserLanguage,Q1,Q2,Q3"
    )
    texts = ",".join(f'"{f} text"' for f in fields.split(","))
    ids = ",".join('"{""ImportId"":""x""}"' for _ in fields.split(","))
    answer = "0,,100,60,True,{rec},{rid},L,F,a@example.com,{ref},,,email,EN,{q1},{q2},{q3}"
    lines = [
        fields,
        texts,
        ids,
        "2024-01-02 08:00:00,2024-01-02 08:01:00,"
        + answer.format(rec="2024-01-02 08:01:01", rid="R_1", ref="ix-1", q1=4, q2=1, q3="quick"),
        "2024-01-02 09:00:00,2024-01-02 09:02:00,"
        + answer.format(rec="2024-01-02 09:02:01", rid="R_2", ref="ix-2", q1="", q2=2, q3=""),
    ]
    (folder / "Post contact CSAT.csv").write_text("\n".join(lines) + "\n")
    m = compile_mapping(SHIPPED_DIR / "qualtrics_csat.toml", "Europe/London")
    out = map_day(tmp_path, m, DAY)
    _assert_one_csat_export(out)
    # A second export the same day: each file skips its own two lines after the header and
    # numbers its own lines (the set is read by one query, numbered per file afterwards).
    (folder / "Post contact CSAT (2).csv").write_text("\n".join(lines[:3] + lines[4:]) + "\n")
    out = map_day(tmp_path, m, DAY)
    assert out.typed.num_rows == 1
    rejects = sorted(
        (Path(r["source_file"]).name, r["source_line"]) for r in out.rejects.to_pylist()
    )
    assert rejects == [("Post contact CSAT (2).csv", 4), ("Post contact CSAT.csv", 5)]
    assert [(c.rows_read, c.rows_quarantined) for c in out.files] == [(1, 1), (2, 1)]


def _assert_one_csat_export(out) -> None:
    (row,) = out.typed.to_pylist()
    assert (row["response_id"], row["score"], row["interaction_id"]) == ("R_1", 4, "ix-1")
    assert row["resolved_self_reported"] is True and row["comment"] == "quick"
    assert row["sent_at"] == utc("2024-01-02T15:00:00")  # Denver is UTC-7 in January
    assert row["_source_line"] == 4
    (reject,) = out.rejects.to_pylist()
    assert reject["source_line"] == 5 and reject["reason_code"] == "missing_required"
    (count,) = out.files
    assert (count.rows_read, count.rows_quarantined) == (2, 1)


def test_a_skip_rule_sets_records_aside_under_its_own_reason(tmp_path: Path) -> None:
    # The bank log with a rule that PHANTOM calls are not contacts: line 6 is set aside as
    # not_a_contact (its reason alone, not unknown_value), still counted with its raw line.
    text = (SHIPPED_DIR / "bank_call_log.toml").read_text()
    text = text.replace(
        "[columns]",
        '[[skip]]\nwhen = { map = "outcome", values = { PHANTOM = true }, default = false }\n'
        'reason = "not_a_contact"\nnote = "a PHANTOM call reached no one"\n\n[columns]',
        1,
    )
    (tmp_path / "bank.toml").write_text(text)
    write_bank_log(tmp_path / "bank_call_log" / DAY.isoformat(), "240102")
    day = map_day(tmp_path, compile_mapping(tmp_path / "bank.toml", "Europe/London"), DAY)
    rejects = {r["source_line"]: r for r in day.rejects.to_pylist()}
    assert set(rejects) == {6, 7, 8}
    assert rejects[6]["reason_code"] == "not_a_contact"
    assert rejects[6]["message"] == "not_a_contact: a PHANTOM call reached no one"
    assert json.loads(rejects[6]["raw_record"])["outcome"] == "PHANTOM"
    # The other rejects keep their reasons; a row the rule does not hold for is mapped.
    assert rejects[7]["reason_code"] == "bad_type" and rejects[8]["reason_code"] == "malformed_row"
    (count,) = day.files
    assert (count.rows_read, count.rows_quarantined, day.typed.num_rows) == (8, 3, 5)


@pytest.mark.parametrize(
    ("extra", "sniffed"),
    [
        ("Notes,Subject", False),  # names as written: the header is passed, no sniffer
        ("Notes,notes", True),  # DuckDB renames a repeated name (any case): the sniffer names
        ("Notes,", True),  # and an empty one
    ],
)
def test_a_csv_whose_header_is_known_is_read_without_the_sniffer_unless_duckdb_renames_it(
    tmp_path: Path, extra: str, sniffed: bool
) -> None:
    folder = tmp_path / "salesforce" / DAY.isoformat()
    folder.mkdir(parents=True)
    header = (
        "Id,CaseNumber,AccountId,ContactId,Status,IsClosed,Origin,Reason,CreatedDate,"
        f"ClosedDate,LastModifiedDate,{extra}"
    )
    t1 = "2024-01-01T09:00:00.000Z"
    rows = [
        f'5001,00001,0011,0031,Working,false,Phone,Billing,{t1},,{t1},"a, b",c',
        f"5002,00002,0012,0032,New,false,Web,,{t1},,{t1},d",  # a field short: malformed
    ]
    path = folder / "Case_export.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    m = compile_mapping(SHIPPED_DIR / "salesforce_cases.toml", "Europe/London")
    names = [h.strip() for h in header.split(",")]
    assert ("auto_detect = false" not in m.query([str(path)], names)) is sniffed
    out = map_day(tmp_path, m, DAY)
    if sniffed:
        # A renamed column has no name of its own to keep in the raw record: refused whole,
        # as before the sniffer was skipped.
        assert out.typed.num_rows == 0 and [f for f, _ in out.bad_files] == [
            "salesforce/2024-01-02/Case_export.csv"
        ]
        return
    assert [r["case_id"] for r in out.typed.to_pylist()] == ["5001"]
    (reject,) = out.rejects.to_pylist()
    assert (reject["source_line"], reject["reason_code"]) == (3, "malformed_row")


@pytest.mark.slow
def test_records_of_a_large_csv_read_in_parallel_keep_their_line_numbers(tmp_path: Path) -> None:
    """The scan runs on several threads and records are numbered by their position in the
    result: each row's number must still be its line (ids here are the line numbers), past
    lines DuckDB could not split and a quoted newline."""
    folder = tmp_path / "crm" / DAY.isoformat()
    folder.mkdir(parents=True)
    times = "2024-01-01T00:00:00Z,2024-01-02T00:00:00Z"
    lines = ["id,region,created_at,updated_at"]
    short = {1_000, 250_001, 599_999}
    for n in range(2, 700_002):
        if n in short:
            lines.append(f"c{n},cut short")
        elif n == 400_000:
            lines.append(f'c{n},"two\nlines",{times}')  # one record over lines 400000-400001
        elif n != 400_001:
            lines.append(f"c{n},EU,{times}")
    (folder / "c.csv").write_text("\n".join(lines) + "\n")
    mapping = tmp_path / "crm.toml"
    mapping.write_text(
        '[source]\nname = "crm_csv"\nversion = "1"\ntable = "customers"\nfeed = "crm"\n'
        'glob = "*.csv"\nformat = "csv"\n[columns]\ncustomer_id = "id"\nregion = "region"\n'
        'created_at = "created_at"\nupdated_at = "updated_at"\n'
    )
    out = map_day(tmp_path, compile_mapping(mapping, "UTC"), DAY)
    ids = out.typed["customer_id"].to_pylist()
    numbers = out.typed["_source_line"].to_pylist()
    after_newline = [(i, n) for i, n in zip(ids, numbers, strict=True) if int(i[1:]) > 400_001]
    assert all(int(i[1:]) == n for i, n in zip(ids, numbers, strict=True) if int(i[1:]) <= 400_000)
    # Past the quoted newline a record's number counts records, not lines (as before).
    assert all(int(i[1:]) == n + 1 for i, n in after_newline)
    assert numbers == sorted(numbers) and len(ids) == 700_000 - 1 - len(short)
    # DuckDB numbers the lines it could not split the same way.
    assert out.rejects["source_line"].to_pylist() == [1_000, 250_001, 599_998]
