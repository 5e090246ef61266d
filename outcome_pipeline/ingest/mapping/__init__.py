"""Source mappings: vendor exports onto the feed contracts by configuration, not code.

Pure (no Dagster): :mod:`spec` reads and checks a mapping file, :mod:`expr` (with
:mod:`expr_time`) and :mod:`compile` turn it into one DuckDB query, :mod:`execute` runs it
over a day's files, :mod:`registry` loads the sources folder.
"""

from outcome_pipeline.ingest.mapping.compile import (
    CompiledMapping,
    compile_mapping,
    compile_verbatim,
)
from outcome_pipeline.ingest.mapping.execute import MappedDay, day_files, map_day, map_files
from outcome_pipeline.ingest.mapping.registry import (
    SHIPPED_DIR,
    SourcesError,
    for_table,
    load_sources,
)
from outcome_pipeline.ingest.mapping.spec import MappingError

__all__ = [
    "SHIPPED_DIR",
    "CompiledMapping",
    "MappedDay",
    "MappingError",
    "SourcesError",
    "compile_mapping",
    "compile_verbatim",
    "day_files",
    "for_table",
    "load_sources",
    "map_day",
    "map_files",
]
