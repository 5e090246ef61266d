"""Data Docs: GX's own static site of the latest validation of each feed table, without PII.

GX's Data Docs render whatever a validation result holds, and a COMPLETE (or even SUMMARY)
result holds raw failing values: ``partial_unexpected_list``, ``unexpected_list``,
``unexpected_index_list``. On these feeds that means emails, phone numbers and free-text
comments in a static site. So the site is *not* built from GX's raw results. Each result is
rebuilt from the value-free :class:`ExpectationOutcome` of :func:`validate_day`
(success, counts, shape facts) with the suite's own expectation configurations, stored in
an ephemeral context's validation store, and rendered by GX's ``SiteBuilder`` into a
filesystem site under ``folder``. Nothing that was never in an outcome can reach the HTML;
the tests grep the site for every email and phone of the input anyway.

Known-id value sets (``known_ids``) are replaced by an empty set plus a note: they can hold a
million identifiers.

A fresh ephemeral context per call means the index lists exactly this call's results: the
site shows the latest validation of each table. Pages of earlier calls are removed first.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outcome_pipeline.validation.docs_offline import make_offline
from outcome_pipeline.validation.suites import build_suite, expectation_for

if TYPE_CHECKING:  # pragma: no cover - typing only
    from outcome_pipeline.validation.validate import DayValidation

SITE_NAME = "outcome_pipeline"
# What GX's SiteBuilder writes under its base directory (removed before a rebuild).
_SITE_ENTRIES = ("index.html", "validations", "expectations", "static")


# Compiled GX templates, shared by every Jinja environment GX creates (see below).
_TEMPLATE_CACHE: dict[str, bytes] = {}


def share_template_cache() -> bool:
    """Make GX's Jinja views share one compiled-template cache; True once installed.

    GX creates a new Jinja ``Environment`` for every view it renders (hundreds per site), so
    each build recompiled the same templates: about two thirds of a site build. Jinja's
    documented ``bytecode_cache`` hook (read at template load) gives every environment the
    same compiled templates; keys include a checksum of the template source, so a changed
    template is compiled again. Tested: a GX upgrade that renames the view class fails it.
    """
    import jinja2
    from great_expectations.render.view.view import DefaultJinjaView

    if getattr(DefaultJinjaView, "_outcome_pipeline_cache", False):
        return True

    class SharedCache(jinja2.BytecodeCache):
        def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            if bucket.key in _TEMPLATE_CACHE:
                bucket.bytecode_from_string(_TEMPLATE_CACHE[bucket.key])

        def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
            _TEMPLATE_CACHE[bucket.key] = bucket.bytecode_to_string()

    original = DefaultJinjaView.__init__
    cache = SharedCache()

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    DefaultJinjaView.__init__ = __init__  # type: ignore[method-assign]
    DefaultJinjaView._outcome_pipeline_cache = True  # type: ignore[attr-defined]
    return True


def write_data_docs(v_by_table: Mapping[str, DayValidation], folder: Path, day: date) -> Path:
    """Write the Data Docs site for ``day`` into ``folder``; return the ``index.html`` path."""
    from great_expectations.core import (
        ExpectationSuiteValidationResult,
        ExpectationValidationResult,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    from outcome_pipeline.validation import gx_run

    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for entry in _SITE_ENTRIES:
        path = folder / entry
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()

    gx = gx_run.gx_module()
    share_template_cache()
    ctx = gx_run.new_context()
    ctx.add_data_docs_site(
        site_name=SITE_NAME,
        site_config={
            "class_name": "SiteBuilder",
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(folder),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "show_how_to_buttons": False,
        },
    )
    run_time = datetime.now(UTC)
    run_id = RunIdentifier(run_name=f"{day.isoformat()}", run_time=run_time)
    for table, v in sorted(v_by_table.items()):
        suite_name = table
        ctx.suites.add(build_suite(suite_name, v.rules, values_placeholder=True))
        by_name = {r.name: r for r in v.rules}
        results = []
        for outcome in v.expectations:
            rule = by_name[outcome.name]
            config = expectation_for(rule, values_placeholder=True).configuration
            results.append(
                ExpectationValidationResult(
                    success=outcome.success,
                    expectation_config=config,
                    result=_result_dict(outcome),
                    meta={"engine": outcome.engine, "level": outcome.level},
                )
            )
        evaluated = len(results)
        successful = sum(1 for r in results if r.success)
        suite_result = ExpectationSuiteValidationResult(
            success=v.success,
            results=results,
            suite_name=suite_name,
            statistics={
                "evaluated_expectations": evaluated,
                "successful_expectations": successful,
                "unsuccessful_expectations": evaluated - successful,
                "success_percent": 100.0 * successful / evaluated if evaluated else None,
            },
            meta={
                "great_expectations_version": gx.__version__,
                "run_id": run_id.to_json_dict(),
                "validation_time": run_time.strftime("%Y%m%dT%H%M%S.%fZ"),
                "active_batch_definition": {
                    "datasource_name": "outcome_pipeline_validation",
                    "data_connector_name": "fluent",
                    "data_asset_name": table,
                    "batch_identifiers": {"partition_date": v.day.isoformat()},
                },
                "batch_markers": {},
                "batch_spec": {"data_asset_name": table},
                "partition_date": v.day.isoformat(),
                "timezone": v.timezone,
                "engine": v.engine,
                "rows": v.num_rows,
                "rows_quarantined": v.rows_failed,
            },
        )
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=suite_name),
            run_id=run_id,
            batch_identifier=f"{table}-{v.day.isoformat()}",
        )
        ctx.validation_results_store.set(key, suite_result)
    ctx.build_data_docs(site_names=[SITE_NAME])
    make_offline(folder)
    return folder / "index.html"


def _result_dict(outcome: Any) -> dict[str, Any]:
    """The value-free part of a GX result: counts, percentages, shape facts."""
    if outcome.level == "dataset" and outcome.type in (
        "expect_table_columns_to_match_set",
        "expect_column_values_to_be_of_type",
    ):
        return {"observed_value": outcome.observed or ("ok" if outcome.success else "failed")}
    n = outcome.element_count
    u = outcome.unexpected_count
    pct = 100.0 * u / n if n else 0.0
    return {
        "element_count": n,
        "unexpected_count": u,
        "unexpected_percent": pct,
        "unexpected_percent_total": pct,
        "unexpected_percent_nonmissing": pct,
        "missing_count": 0,
        "missing_percent": 0.0,
        "partial_unexpected_list": [],
    }
