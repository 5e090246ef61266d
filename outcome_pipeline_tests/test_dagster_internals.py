"""Upgrading Dagster fails here first, by name, when a private name the project uses moved."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import dagster as dg

from outcome_pipeline import dagster_internals

ROOT = Path(__file__).resolve().parents[1]
HOLDERS = {
    "outcome_pipeline/dagster_internals.py",
    "outcome_pipeline_tests/dagster_internals.py",
}


def test_installed_dagster_is_the_one_the_private_names_were_checked_with() -> None:
    assert dg.__version__ == dagster_internals.CHECKED_WITH_DAGSTER, (
        f"Dagster is {dg.__version__}, the private names in outcome_pipeline/dagster_internals.py "
        f"and outcome_pipeline_tests/dagster_internals.py were checked with "
        f"{dagster_internals.CHECKED_WITH_DAGSTER}: check each still exists and behaves the "
        "same (or has a public replacement), then update CHECKED_WITH_DAGSTER."
    )


def test_every_private_name_still_imports() -> None:
    for module in (
        "outcome_pipeline.dagster_internals",
        "outcome_pipeline_tests.dagster_internals",
    ):
        loaded = importlib.import_module(module)
        for name in loaded.__all__:
            assert getattr(loaded, name) is not None, f"{module}.{name}"


def test_no_private_dagster_import_outside_the_two_holders() -> None:
    offenders = []
    for folder in ("outcome_pipeline", "outcome_pipeline_tests", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel in HOLDERS:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                offenders += [
                    f"{rel}:{node.lineno} {n}" for n in names if n.startswith("dagster._")
                ]
    assert not offenders, "import these through a dagster_internals module:\n" + "\n".join(
        offenders
    )
