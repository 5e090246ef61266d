"""The committed docs are what the code generates (a stale dictionary fails here)."""

from pathlib import Path

from outcome_pipeline.docs_gen import render_data_dictionary, render_feed_contracts
from outcome_pipeline.docs_gen.metrics import metrics, render_metrics

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_committed_docs_match_the_code() -> None:
    assert (DOCS / "feed_contracts.md").read_text() == render_feed_contracts(), (
        "docs/feed_contracts.md is stale: run `outcome-pipeline docs`"
    )
    assert (DOCS / "data_dictionary.md").read_text() == render_data_dictionary(), (
        "docs/data_dictionary.md is stale: run `outcome-pipeline docs`"
    )
    assert (DOCS / "metrics.md").read_text() == render_metrics(), (
        "docs/metrics.md is stale (a definition, a SQL line or a test moved): run "
        "`outcome-pipeline docs`"
    )


def test_every_rate_leads_to_its_sql_and_a_test() -> None:
    """The metrics page's promise: from a rate, its SQL line, what that line reads, and a test
    asserting the rate (or its numerator) are one click away."""
    from outcome_pipeline.outcomes.columns import RateColumn

    found = {(m.table, m.column.name): m for m in metrics()}
    rates = [m for m in found.values() if isinstance(m.column, RateColumn)]
    assert len(rates) >= 20
    for m in rates:
        assert len(m.computed_at) == 1, f"{m.table}.{m.column.name}: no single SQL line"
        assert m.column.name in m.computed_at[0].text
        numerator = found[(m.table, m.column.numerator)]  # type: ignore[attr-defined]
        assert m.tests or numerator.tests, f"{m.table}.{m.column.name}: no test names it"
    # The trace goes one step up: fcr_rate's numerator is the CTE's count of FCR journeys.
    fcr = found[("daily_outcomes", "fcr_journeys")]
    assert any("is_first_contact_resolved" in s.text for s in fcr.inputs_at)


def test_every_column_has_a_definition() -> None:
    text = render_data_dictionary()
    assert "| `partition_date` | date |" in text
    for line in text.splitlines():
        if line.startswith("| `"):
            assert not line.rstrip().endswith("|  |"), line


def test_every_view_and_its_columns_are_in_the_dictionary(tmp_path: Path) -> None:
    """The views as a real warehouse creates them, read back from the engine's catalog."""
    from outcome_pipeline.outcomes import LIFETIME_VIEW_SQL, OUTCOME_TABLES
    from outcome_pipeline.serving import create_bi_views
    from outcome_pipeline.warehouse import ALL_TABLES, Warehouse

    wh = Warehouse(f"duckdb:///{tmp_path}/w.duckdb", "outcome")
    try:
        wh.create_tables([*ALL_TABLES, *OUTCOME_TABLES.values()])
        wh.create_view("customer_lifetime", LIFETIME_VIEW_SQL)
        with wh.begin() as conn:
            create_bi_views(conn, wh.schema, wh.dialect)
        rows = wh.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'outcome' AND table_name IN (SELECT view_name FROM "
            "duckdb_views() WHERE schema_name = 'outcome') ORDER BY table_name, ordinal_position"
        ).to_pylist()
    finally:
        wh.dispose()
    views: dict[str, list[str]] = {}
    for r in rows:
        views.setdefault(r["table_name"], []).append(r["column_name"])
    assert {"customer_lifetime", "bi_daily_summary", "stg_cases_current"} <= set(views)
    text = render_data_dictionary()
    for view, columns in views.items():
        section = text.split(f"\n## `{view}`\n", 1)[1].split("\n## ", 1)[0]
        listed = [line.split("`")[1] for line in section.splitlines() if line.startswith("| `")]
        assert listed == columns, view


def test_the_readme_query_reads_the_bi_file_and_runs_there(tmp_path: Path) -> None:
    """The README's first look at the results opens the BI file (the working file must never
    be held open), and its SQL runs on the tables that file holds."""
    import re

    import duckdb

    from outcome_pipeline.serving.publish import BI_TABLES, default_copy_path
    from outcome_pipeline.warehouse import DEFAULT_URL, Warehouse

    readme = (DOCS.parent / "README.md").read_text()
    opened = re.findall(r"duckdb\.connect\('([^']+)'", readme)
    bi_file = default_copy_path(Path(DEFAULT_URL.removeprefix("duckdb:///"))).as_posix()
    assert opened and set(opened) == {bi_file}
    query = re.search(r"read_only=True\)\.sql\('([^']+)'\)", readme).group(1)
    wh = Warehouse(f"duckdb:///{tmp_path}/bi.duckdb", "outcome")
    try:
        wh.create_tables(list(BI_TABLES))
    finally:
        wh.dispose()
    with duckdb.connect(str(tmp_path / "bi.duckdb"), read_only=True) as con:
        con.sql(query).fetchall()
