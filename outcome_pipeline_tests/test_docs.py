"""The committed docs are what the code generates (a stale dictionary fails here)."""

from pathlib import Path

from outcome_pipeline.docs_gen import render_data_dictionary, render_feed_contracts

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_committed_docs_match_the_code() -> None:
    assert (DOCS / "feed_contracts.md").read_text() == render_feed_contracts(), (
        "docs/feed_contracts.md is stale: run `outcome-pipeline docs`"
    )
    assert (DOCS / "data_dictionary.md").read_text() == render_data_dictionary(), (
        "docs/data_dictionary.md is stale: run `outcome-pipeline docs`"
    )


def test_every_column_has_a_definition() -> None:
    text = render_data_dictionary()
    assert "| `partition_date` | date |" in text
    for line in text.splitlines():
        if line.startswith("| `"):
            assert not line.rstrip().endswith("|  |"), line
