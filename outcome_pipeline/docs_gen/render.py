"""Render the feed contracts and the data dictionary as Markdown (committed under docs/).

The texts come from the contracts and table definitions, so a column is described once; a
test fails when the committed files fall behind the code (`outcome-pipeline docs` rewrites).
"""

from __future__ import annotations

from pathlib import Path

from outcome_pipeline.contracts import CONTRACTS, FEEDS
from outcome_pipeline.docs_gen.metrics import render_metrics
from outcome_pipeline.ingest.native_identity import identity_lineage
from outcome_pipeline.warehouse import ALL_TABLES
from outcome_pipeline.warehouse.warehouse import sql_type


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_feed_contracts() -> str:
    out = [
        "# Feed contracts",
        "",
        "Generated from `outcome_pipeline/contracts/feeds.py` by `outcome-pipeline docs`; do not",
        "edit by hand.",
        "",
        "Files land under `<landing root>/<feed>/<YYYY-MM-DD>/<table>[_<suffix>].<ext>` where",
        "`<YYYY-MM-DD>` is the business day the file is delivered for (the Dagster partition) and",
        "`<ext>` is `csv` (header row, UTF-8, empty field = null), `jsonl` (one JSON object per",
        "line) or `parquet`. Timestamps carry an offset (`Z`, `+01:00`); text timestamps",
        "without one are read as business-timezone local time. The same id delivered twice in a",
        "day: the latest `updated_at` wins. Columns beyond the contract are kept in",
        "`extra_fields` (JSON) and reported; a missing required column quarantines the file.",
        "",
        "Each contract is also a source mapping: its **identity mapping** (every column from",
        "the field of the same name), generated from the contract, named",
        "`native:<table>@<version>` (the version changes with the columns, their types and",
        "which are required). With `OUTCOME_NATIVE_INGEST=mapping` the native files are read",
        "through it by the source mapping engine, the path vendor exports take; see",
        "[sources/README.md](sources/README.md#native-contracts-are-identity-mappings).",
        "",
    ]
    for feed, tables in FEEDS.items():
        out.append(f"## Feed `{feed}`")
        out.append("")
        for name in tables:
            c = CONTRACTS[name]
            out += [
                f"### `{name}` → `{c.staging_table}`",
                "",
                f"{c.description} Grain: {c.grain}. Natural key: `{c.key}`. "
                + (f"Event time: `{c.event_time}`. " if c.event_time else "")
                + f"Identity mapping: `{identity_lineage(c)}`.",
                "",
                "| column | type | required | meaning |",
                "|---|---|---|---|",
            ]
            for col in c.columns:
                meaning = col.description
                if col.allowed:
                    meaning += " Allowed: " + ", ".join(f"`{v}`" for v in col.allowed) + "."
                if col.pii:
                    meaning += " **PII**."
                out.append(
                    f"| `{col.name}` | {col.type} | {'yes' if col.required else ''} | "
                    f"{_cell(meaning)} |"
                )
            out.append("")
    return "\n".join(out)


def render_data_dictionary() -> str:
    out = [
        "# Data dictionary",
        "",
        "Every warehouse table and column, generated from the code by `outcome-pipeline docs`",
        "(the same texts are the column comments in DuckDB and PostgreSQL). Do not edit by hand.",
        "",
    ]
    from outcome_pipeline.outcomes import OUTCOME_TABLES
    from outcome_pipeline.outcomes.audit import OUTCOME_AUDIT

    for t in (*ALL_TABLES, *OUTCOME_TABLES.values(), OUTCOME_AUDIT):
        out += [
            f"## `{t.name}`",
            "",
            _cell(t.comment),
            "",
            f"Partitioned by `{t.partition_column}` (delete + insert per partition window)."
            if t.partition_column
            else "Not partitioned.",
            "",
            "| column | type | definition |",
            "|---|---|---|",
        ]
        out += [
            f"| `{c.name}` | {sql_type(c.type, 'postgresql').lower()} | {_cell(c.comment)} |"
            for c in t.columns
        ]
        out.append("")
    out += _views_section()
    return "\n".join(out)


def _views_section() -> list[str]:
    from outcome_pipeline.docs_gen.views import view_docs

    out = [
        "# Views",
        "",
        "Views hold no rows of their own: they read the tables above when queried. Column "
        "types are the engine's; a column passed through from a table keeps its definition.",
        "",
    ]
    for v in view_docs():
        out += [
            f"## `{v.name}`",
            "",
            f"{_cell(v.description)} In: {v.where}.",
            "",
            "| column | type | definition |",
            "|---|---|---|",
        ]
        out += [f"| `{c}` | {t} | {_cell(d)} |" for c, t, d in v.columns]
        out.append("")
    return out


def write_docs(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (
        ("feed_contracts.md", render_feed_contracts()),
        ("data_dictionary.md", render_data_dictionary()),
        ("metrics.md", render_metrics()),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
