"""The pure layers stay below the ones that use them: the contracts, the warehouse and the
outcome core import neither the ingest nor Dagster, so each can be read, tested and reused
alone (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Package folder -> module prefixes nothing in it may import.
FORBIDDEN = {
    "outcome_pipeline/contracts": (
        "outcome_pipeline.ingest",
        "outcome_pipeline.warehouse",
        "outcome_pipeline.outcomes",
        "outcome_pipeline.defs",
        "dagster",
    ),
    "outcome_pipeline/warehouse": ("outcome_pipeline.ingest", "outcome_pipeline.defs", "dagster"),
    "outcome_pipeline/outcomes": ("outcome_pipeline.ingest", "outcome_pipeline.defs", "dagster"),
}


def imported_modules(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path`` (a file under ``root``),
    relative ones resolved."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else ()
            module = ".".join([*base, *([node.module] if node.module else [])])
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
    return found


def _is_under(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


@pytest.mark.parametrize("folder", sorted(FORBIDDEN))
def test_layer_imports_nothing_above_it(folder: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT).as_posix()}:{line} {module}"
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, module in imported_modules(path)
        if any(_is_under(module, prefix) for prefix in FORBIDDEN[folder])
    ]
    assert not offenders, f"{folder} must not import {FORBIDDEN[folder]}:\n" + "\n".join(offenders)


def test_the_scan_sees_absolute_relative_and_lazy_imports(tmp_path: Path) -> None:
    probe = tmp_path / "outcome_pipeline" / "outcomes" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "import dagster as dg\n"
        "from ..ingest import stage\n"
        "from . import config\n"
        "def f():\n"
        "    from outcome_pipeline.ingest.readers import read_raw\n",
        encoding="utf-8",
    )
    assert imported_modules(probe, tmp_path) == [
        (1, "dagster"),
        (2, "outcome_pipeline.ingest.stage"),
        (3, "outcome_pipeline.outcomes.config"),
        (5, "outcome_pipeline.ingest.readers.read_raw"),
    ]
