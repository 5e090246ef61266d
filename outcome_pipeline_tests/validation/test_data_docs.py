"""Data Docs: GX's static site of the latest validation per table, with no raw PII in it."""

from __future__ import annotations

import re
from pathlib import Path

import pyarrow as pa
import pytest

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.validation import validate_day, write_data_docs
from outcome_pipeline_tests.validation.fixtures import DAY, TZ, clean, every_defect, rows_table
from outcome_pipeline_tests.validation.synth import interactions_day, surveys_day

# Malformed contact details: they fail the format expectations, so GX's raw results would
# list them as unexpected values. They must not reach the site.
BAD_EMAIL = "harry.ward@@example.com"
BAD_PHONE = "07700-900-12x"

pytestmark = pytest.mark.usefixtures("gx_imported")


def _site_text(folder: Path) -> str:
    """Every page GX rendered (``static/`` holds GX's own CSS/JS: no data reaches it)."""
    pages = [p for p in folder.rglob("*") if p.is_file() and "static" not in p.parts]
    assert pages and all(p.suffix == ".html" for p in pages)
    return "\n".join(p.read_text() for p in pages)


def _validations() -> dict[str, object]:
    inter = interactions_day(2_000, DAY, TZ, defect_rate=0.03, seed=1)
    surveys = surveys_day(1_000, DAY, TZ, defect_rate=0.05, seed=2)
    extra = rows_table(
        CONTRACTS["survey_responses"],
        [clean("survey_responses", "pii-1", customer_email=BAD_EMAIL, customer_phone=BAD_PHONE)],
    )
    surveys_rows = pa.concat_tables([surveys.table, extra])
    customers, _ = every_defect("customers")
    runs = {
        "interactions": validate_day(inter.table, inter.contract, DAY, TZ, engine="auto"),
        "survey_responses": validate_day(surveys_rows, surveys.contract, DAY, TZ, engine="gx"),
        "customers": validate_day(customers, CONTRACTS["customers"], DAY, TZ, engine="precheck"),
    }
    pii = set(inter.emails + inter.phones + surveys.emails + surveys.phones)
    pii |= {BAD_EMAIL, BAD_PHONE}
    pii |= {str(c) for c in surveys.table["comment"].to_pylist()}
    pii |= {r["email"] for r in customers.to_pylist()} | {r["phone"] for r in customers.to_pylist()}
    return {"runs": runs, "pii": pii}


def test_data_docs_show_the_latest_results_per_table_without_pii(tmp_path: Path) -> None:
    data = _validations()
    runs, pii = data["runs"], data["pii"]
    assert any(
        f.message == "customer_email is not a valid email"
        for fs in runs["survey_responses"].row_warnings.values()
        for f in fs
    )
    folder = tmp_path / "docs"
    index = write_data_docs(runs, folder, DAY)
    assert index == folder.resolve() / "index.html" and index.is_file()
    pages = sorted(
        p.relative_to(folder.resolve()).parts[1] for p in folder.rglob("validations/**/*.html")
    )
    assert pages == ["customers", "interactions", "survey_responses"]

    text = _site_text(folder)
    tokens = set(re.split(r"[\s<>\"'=,;()&]+", text))
    comment_parts = {w for v in pii for w in v.split() if "@" in w or any(c.isdigit() for c in w)}
    assert sorted((pii | comment_parts) & tokens) == []
    assert [v for v in (BAD_EMAIL, BAD_PHONE, "call me on") if v in text] == []
    # Also no phone-like digit runs or email-like tokens anywhere in the site.
    assert re.findall(r"\+44\d{6,}|07700\d{6}", text) == []
    assert re.findall(r"[\w.]+@[\w-]+\.(?:com|org|net|co\.uk)", text) == []

    page = next(folder.rglob("validations/interactions/**/*.html")).read_text()
    channel = next(e for e in runs["interactions"].expectations if e.name == "channel_allowed")
    assert channel.unexpected_count > 0
    assert f"{channel.unexpected_count} unexpected values found" in page


def test_data_docs_keep_only_the_latest_run(tmp_path: Path) -> None:
    contract = CONTRACTS["cases"]
    first = validate_day(
        rows_table(contract, [clean("cases", "k1")]), contract, DAY, TZ, engine="precheck"
    )
    write_data_docs({"cases": first}, tmp_path, DAY)
    later = DAY.replace(day=30)
    second = validate_day(
        rows_table(contract, [clean("cases", "k2")]), contract, later, TZ, engine="precheck"
    )
    write_data_docs({"cases": second}, tmp_path, later)
    pages = list(tmp_path.rglob("validations/**/*.html"))
    assert len(pages) == 1 and later.isoformat() in str(pages[0])
    assert DAY.isoformat() not in (tmp_path / "index.html").read_text()


def test_gx_views_share_one_compiled_template_cache() -> None:
    """The Jinja bytecode cache hook (validation/docs.py) is installed on GX's view class;
    a GX upgrade that renames or moves it fails here, not silently slows every run."""
    from great_expectations.render.view.view import DefaultJinjaView

    from outcome_pipeline.validation.docs import _TEMPLATE_CACHE, share_template_cache

    assert share_template_cache()
    view = DefaultJinjaView()
    assert view.env.bytecode_cache is not None
    view.env.get_template("page.j2")
    assert _TEMPLATE_CACHE  # compiled once, kept for every later view
