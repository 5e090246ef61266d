"""The active source mappings: every ``*.toml`` file of the sources folder, checked together."""

from __future__ import annotations

from pathlib import Path

from outcome_pipeline.ingest.mapping.compile import CompiledMapping, compile_mapping
from outcome_pipeline.ingest.mapping.spec import MappingError

# Mappings shipped with the project (examples to copy into the sources folder).
SHIPPED_DIR = Path(__file__).resolve().parents[2] / "sources"


class SourcesError(ValueError):
    """One or more mappings cannot be used; the message lists each with file, key and line."""

    def __init__(self, errors: list[MappingError]) -> None:
        self.errors = errors
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(
            f"{len(errors)} source mapping error(s); fix the mapping file(s) or remove them "
            f"from the sources folder (OUTCOME_SOURCES_DIR):\n{lines}"
        )


def mapping_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def compile_all(
    files: list[Path], business_timezone: str
) -> tuple[list[CompiledMapping], list[MappingError]]:
    """Compile every file; collect every error instead of stopping at the first."""
    compiled: list[CompiledMapping] = []
    errors: list[MappingError] = []
    for path in files:
        try:
            compiled.append(compile_mapping(path, business_timezone))
        except MappingError as exc:
            errors.append(exc)
    seen: dict[str, Path] = {}
    claimed: dict[tuple[str, str], Path] = {}
    for m in compiled:
        if m.name in seen:
            errors.append(
                MappingError(
                    str(m.path), "source.name", f"name {m.name!r} is also used by {seen[m.name]}"
                )
            )
        seen.setdefault(m.name, m.path)
        where = (m.spec.source.feed, m.spec.source.glob)
        if where in claimed:
            errors.append(
                MappingError(
                    str(m.path),
                    "source.glob",
                    f"feed folder {where[0]!r} with glob {where[1]!r} is also read by "
                    f"{claimed[where]}",
                )
            )
        claimed.setdefault(where, m.path)
    return compiled, errors


def load_sources(folder: str | Path | None, business_timezone: str) -> list[CompiledMapping]:
    """The mappings of ``folder`` (none when it is empty or unset); raise on any mistake."""
    if not folder:
        return []
    path = Path(folder)
    if not path.is_dir():
        raise SourcesError(
            [MappingError(str(path), "", "the sources folder (OUTCOME_SOURCES_DIR) does not exist")]
        )
    compiled, errors = compile_all(mapping_files(path), business_timezone)
    if errors:
        raise SourcesError(errors)
    return compiled


def for_table(mappings: list[CompiledMapping], table: str) -> list[CompiledMapping]:
    return [m for m in mappings if m.contract.name == table]
