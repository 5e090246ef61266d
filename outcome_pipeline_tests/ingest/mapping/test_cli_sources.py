"""`outcome-pipeline sources check|preview`, and a broken mapping refused when the code loads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from outcome_pipeline.cli.main import main
from outcome_pipeline.ingest.mapping import SHIPPED_DIR
from outcome_pipeline.ingest.mapping.registry import SourcesError
from outcome_pipeline_tests.ingest.mapping.fixtures import write_bank_log


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    sources, landing = tmp_path / "sources", tmp_path / "landing"
    sources.mkdir()
    (sources / "bank_call_log.toml").write_text((SHIPPED_DIR / "bank_call_log.toml").read_text())
    write_bank_log(landing / "bank_call_log" / "2024-01-02", "240102")
    monkeypatch.setenv("OUTCOME_SOURCES_DIR", str(sources))
    monkeypatch.setenv("OUTCOME_LANDING_DIR", str(landing))
    return sources, landing


def test_check_passes_and_tries_the_latest_landed_day(env, capsys) -> None:
    assert main(["sources", "check"]) == 0
    out = capsys.readouterr().out
    assert "bank_call_log@1 -> interactions" in out and "tried on 2024-01-02" in out
    assert "5 rows mapped, 3 rejected" in out


def test_check_names_file_key_and_line_of_a_typo(env, capsys) -> None:
    sources, _ = env
    path = sources / "bank_call_log.toml"
    path.write_text(
        path.read_text().replace(
            'talk_seconds = { int = "ser_time" }', 'talk_seconds = { integer = "ser_time" }'
        )
    )
    assert main(["sources", "check"]) == 1
    out = capsys.readouterr().out
    assert "bank_call_log.toml, line" in out and "key columns.talk_seconds.integer" in out
    assert "did you mean 'int'" in out and "Traceback" not in out


def test_check_names_the_source_field_a_landed_file_lacks(env, capsys) -> None:
    _, landing = env
    path = landing / "bank_call_log" / "2024-01-02" / "calls.txt"
    path.write_text(path.read_text().replace("\tserver", "\tagent_name"))
    assert main(["sources", "check"]) == 1
    assert "lacks field(s) server" in capsys.readouterr().out


def test_preview_shows_rows_and_every_reject_with_its_reason(env, capsys) -> None:
    assert main(["sources", "preview", "bank_call_log", "--day", "2024-01-02", "--rows", "2"]) == 0
    out = capsys.readouterr().out
    assert "8 rows read, 5 mapped, 3 rejected" in out
    assert "AA0101-44749" in out and "AA0102-44751" not in out  # only the first 2 rows
    assert "calls.txt:6 [unknown_value]" in out and "outcome='PHANTOM'" in out
    assert "calls.txt:8 [malformed_row]" in out


def test_preview_of_an_unknown_source_and_without_a_folder(env, capsys, monkeypatch) -> None:
    assert main(["sources", "preview", "genesys", "--day", "2024-01-02"]) == 2
    assert "no usable source mapping named 'genesys'" in capsys.readouterr().out
    monkeypatch.delenv("OUTCOME_SOURCES_DIR")
    assert main(["sources", "check"]) == 2
    assert "OUTCOME_SOURCES_DIR" in capsys.readouterr().out


def test_a_broken_mapping_stops_the_code_location_loading(env) -> None:
    from outcome_pipeline.defs.ingest.assets import ingest

    sources, _ = env
    (sources / "broken.toml").write_text('[source]\nname = "x"\n')
    with pytest.raises(SourcesError, match=r"broken.toml.*source"):
        ingest()


def test_generate_writes_interactions_as_connect_records(tmp_path: Path, capsys) -> None:
    out = tmp_path / "land"
    args = ["generate", "--out", str(out), "--start", "2024-01-01", "--days", "1"]
    assert (
        main([*args, "--interactions-per-day", "50", "--format", "interactions=amazon-connect"])
        == 0
    )
    assert "Amazon Connect contact records" in capsys.readouterr().out
    assert list((out / "amazon_connect" / "2024-01-01").iterdir())
    assert not (out / "interactions").exists()
    assert main([*args, "--format", "interactions=five9"]) == 2
    assert "available: interactions=native|amazon-connect|genesys" in capsys.readouterr().out
    assert main([*args, "--format", "interactions=amazon-connect", "--defect-rate", "0.1"]) == 2


def test_generate_writes_interactions_as_genesys_conversation_details(tmp_path, capsys) -> None:
    out = tmp_path / "land"
    args = ["generate", "--out", str(out), "--start", "2024-01-01", "--days", "1"]
    assert main([*args, "--interactions-per-day", "50", "--format", "interactions=genesys"]) == 0
    said = capsys.readouterr().out
    assert "Genesys Cloud conversation details" in said and "genesys_conversations" in said
    pages = sorted((out / "genesys" / "2024-01-01").glob("details-*.json"))
    assert pages
    first = json.loads(pages[0].read_text(encoding="utf-8").splitlines()[0])
    assert first["conversations"][0]["participants"][0]["purpose"] in ("customer", "external")
    # Genesys has no "web" channel: those contacts stay out, said so.
    assert "left out" in said


def test_generate_splits_interactions_by_channel_across_vendors(tmp_path: Path, capsys) -> None:
    out = tmp_path / "land"
    args = ["generate", "--out", str(out), "--start", "2024-01-01", "--days", "1"]
    formats = [
        "--format",
        "interactions:phone=amazon-connect",
        "--format",
        "interactions:email,chat=zendesk",
        "--format",
        "crm=salesforce",
        "--format",
        "surveys=qualtrics",
    ]
    assert main([*args, "--interactions-per-day", "80", *formats]) == 0
    said = capsys.readouterr().out
    assert "Zendesk tickets" in said and "kept as native files" in said
    day = "2024-01-01"
    assert list((out / "amazon_connect" / day).iterdir())
    assert list((out / "zendesk_contacts" / day).glob("ticket-*.csv"))
    assert list((out / "salesforce" / day).glob("Case-*.csv"))
    assert list((out / "salesforce" / day).glob("Contact-*.csv"))
    # One Qualtrics export per survey type answered that day (CSAT, NPS, CES).
    assert list((out / "qualtrics" / day).glob("*-[CN][SEP]*.csv"))
    # social, messaging and web went to no vendor: they stay native; so do subscriptions.
    assert list((out / "interactions" / day).iterdir())
    assert list((out / "crm" / day).glob("subscription_events*"))
    assert not list((out / "crm" / day).glob("cases*"))
    # A vendor without the channel, a channel that does not exist, a split of a CRM feed.
    for bad, why in [
        ("interactions:phone=zendesk", "zendesk has no phone channel"),
        ("interactions:fax=zendesk", "no channel 'fax'"),
        ("crm:email=salesforce", "only the interactions feed is split by channel"),
        ("surveys=salesforce", "available: interactions=native|amazon-connect|genesys|zendesk"),
    ]:
        assert main([*args, "--format", bad]) == 2
        assert why in capsys.readouterr().out


def test_check_names_a_landed_file_no_mapping_reads(env, capsys) -> None:
    _, landing = env
    (landing / "bank_call_log" / "2024-01-02" / "calls.csv").write_text("a,b\n1,2\n")
    assert main(["sources", "check"]) == 1
    out = capsys.readouterr().out
    assert "bank_call_log/2024-01-02/calls.csv is read by no mapping" in out and "*.txt" in out


def test_preview_of_a_day_without_files_says_so(env, capsys) -> None:
    assert main(["sources", "preview", "bank_call_log", "--day", "2024-01-03"]) == 1
    assert "no files matching '*.txt' under" in capsys.readouterr().out


def test_check_lists_the_native_identity_mappings(env, capsys, monkeypatch) -> None:
    """The native contracts are mappings too: generated, and compiled by the same code."""
    from outcome_pipeline.contracts import CONTRACTS
    from outcome_pipeline.ingest import native_identity
    from outcome_pipeline.ingest.native_identity import identity_lineage

    assert main(["sources", "check"]) == 0
    out = capsys.readouterr().out
    for table, contract in CONTRACTS.items():
        line = f"ok    native {table}: {identity_lineage(contract)} -> {table} "
        assert line + f"({len(contract.columns)} columns; csv, jsonl, parquet)" in out
    # A generated mapping the compiler refuses is an error like any mapping file's.
    real = native_identity.identity_toml
    monkeypatch.setattr(
        native_identity,
        "identity_toml",
        lambda c, fmt: real(c, fmt).replace('format = "jsonl"', 'format = "xml"'),
    )
    assert main(["sources", "check"]) == 1
    out = capsys.readouterr().out
    assert "error: <native interactions.jsonl>" in out and "error native interactions:" in out
