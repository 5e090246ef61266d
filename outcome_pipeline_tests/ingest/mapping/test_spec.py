"""Mapping files: a mistake is reported with the file, the key and the line, before any run."""

from __future__ import annotations

from pathlib import Path

import pytest

from outcome_pipeline.ingest.mapping import SHIPPED_DIR, MappingError, compile_mapping
from outcome_pipeline.ingest.mapping.registry import SourcesError, load_sources

GOOD = """\
[source]
name = "demo"
version = "1"
table = "interactions"
feed = "demo"
glob = "*.csv"
format = "csv"

[columns]
interaction_id = "id"
channel = { const = "phone" }
direction = { const = "inbound" }
queued_at = { timestamp = "start", format = "%d/%m/%Y %H:%M" }
ended_at = { timestamp = "end", format = "%d/%m/%Y %H:%M" }
abandoned = { const = false }
updated_at = { column = "ended_at" }
"""


def write(tmp_path: Path, text: str, name: str = "demo.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str) -> MappingError:
    with pytest.raises(MappingError) as info:
        compile_mapping(write(tmp_path, text), "Europe/London")
    return info.value


def test_good_mapping_compiles(tmp_path: Path) -> None:
    m = compile_mapping(write(tmp_path, GOOD), "Europe/London")
    assert m.lineage == "demo@1"
    assert m.fields == {"id", "start", "end"}


def test_typo_in_an_expression_key_names_file_key_line_and_the_fix(tmp_path: Path) -> None:
    text = GOOD.replace('format = "%d/%m/%Y %H:%M" }\nended', 'fromat = "%d/%m/%Y %H:%M" }\nended')
    err = error_of(tmp_path, text)
    assert err.key == "columns.queued_at.fromat"
    assert err.line == 13
    assert "did you mean 'format'" in str(err) and "demo.toml" in str(err)


def test_typo_in_a_source_key(tmp_path: Path) -> None:
    err = error_of(tmp_path, GOOD.replace("glob =", "glb ="))
    assert err.key == "source.glb" and err.line == 6
    assert "did you mean 'glob'" in str(err)


def test_unknown_operator_and_unknown_contract_column(tmp_path: Path) -> None:
    err = error_of(tmp_path, GOOD.replace('{ const = "phone" }', '{ constant = "phone" }'))
    assert err.key == "columns.channel.constant" and err.line == 11
    assert "did you mean 'const'" in str(err)
    err = error_of(tmp_path, GOOD + 'queue_name = "q"\n')
    assert err.key == "columns.queue_name" and err.line == 17
    assert "neither a column of interactions" in str(err)


def test_required_column_unmapped_and_unknown_table(tmp_path: Path) -> None:
    err = error_of(tmp_path, GOOD.replace("abandoned = { const = false }\n", ""))
    assert "abandoned" in str(err) and err.key == "columns"
    err = error_of(tmp_path, GOOD.replace('table = "interactions"', 'table = "calls"'))
    assert err.key == "source.table" and err.line == 4


def test_reference_cycle_and_bad_toml(tmp_path: Path) -> None:
    text = GOOD.replace(
        'ended_at = { timestamp = "end", format = "%d/%m/%Y %H:%M" }',
        'ended_at = { column = "updated_at" }',
    )
    assert "cycle" in str(error_of(tmp_path, text))
    err = error_of(tmp_path, GOOD.replace('version = "1"', "version = "))
    assert err.line == 3 and "not valid TOML" in str(err)


def test_bad_timezone_and_format(tmp_path: Path) -> None:
    err = error_of(
        tmp_path, GOOD.replace('format = "csv"', 'format = "csv"\ntimezone = "Europe/Londn"')
    )
    assert err.key == "source.timezone" and "Europe/Londn" in str(err)
    err = error_of(tmp_path, GOOD.replace('format = "csv"', 'format = "xml"'))
    assert err.key == "source.format"


def test_folder_reports_every_broken_file_at_once(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD.replace("glob =", "glb ="), "b.toml")
    write(
        tmp_path,
        GOOD.replace('name = "demo"', 'name = "other"').replace("abandoned", "#"),
        "c.toml",
    )
    with pytest.raises(SourcesError) as info:
        load_sources(tmp_path, "Europe/London")
    files = sorted(Path(e.file).name for e in info.value.errors)
    assert files == ["b.toml", "c.toml"]


def test_two_mappings_reading_the_same_files_are_refused(tmp_path: Path) -> None:
    write(tmp_path, GOOD, "a.toml")
    write(tmp_path, GOOD.replace('name = "demo"', 'name = "demo2"'), "b.toml")
    with pytest.raises(SourcesError, match="also read by"):
        load_sources(tmp_path, "Europe/London")


def test_every_shipped_mapping_compiles() -> None:
    shipped = load_sources(SHIPPED_DIR, "Europe/London")
    assert {m.name for m in shipped} >= {"bank_call_log", "amazon_connect_ctr"}


def test_a_skip_rule_is_checked_like_a_column(tmp_path: Path) -> None:
    skip = '[[skip]]\nwhen = {when}\nreason = "{reason}"\n\n[columns]'
    ok = GOOD.replace("[columns]", skip.format(when='{ missing = "end" }', reason="draft"))
    m = compile_mapping(write(tmp_path, ok), "Europe/London")
    assert [r for _, r, _ in m.skips] == ["draft"]
    # A skip rule needs a boolean, its own reason code, and known keys.
    text = GOOD.replace("[columns]", skip.format(when='"end"', reason="draft"))
    err = error_of(tmp_path, text)
    assert err.key == "skip.0.when" and err.line == 10 and "boolean" in str(err)
    text = GOOD.replace("[columns]", skip.format(when='{ missing = "end" }', reason="bad_type"))
    err = error_of(tmp_path, text)
    assert err.key == "skip.0.reason" and "engine's own codes" in str(err)
    text = GOOD.replace("[columns]", skip.format(when='{ missing = "end" }', reason="Draft!"))
    assert error_of(tmp_path, text).key == "skip.0.reason"
    text = GOOD.replace("[columns]", '[[skip]]\nwhne = { missing = "end" }\n\n[columns]')
    err = error_of(tmp_path, text)
    assert err.key == "skip.0.whne" and "did you mean 'when'" in str(err)
