"""The in-memory DuckDB session the outcome steps run in: its memory cap, and its spill
folder, removed with the session (or, after a killed run, by the next session)."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from outcome_pipeline.leftovers import remove_dead_leftovers

# The engine session's share of the machine's memory when the caller names no limit. DuckDB
# defaults to 80 % of RAM for its buffer manager alone, beside the Arrow inputs held by
# Python: a large range could exhaust the machine instead of spilling.
DEFAULT_MEMORY_SHARE = 0.5
_MEMORY_LIMIT = re.compile(r"^\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)$")
# A checkpoint threshold no session reaches (DuckDB's "WAL size" of the in-memory database).
_NO_AUTOMATIC_CHECKPOINT = "1TB"

# Spill folders are named ``outcome_spill_<pid>_<random>`` in $TMPDIR: a killed run's folder
# is recognisably this project's, and its process can be checked before it is removed.
SPILL_PREFIX = "outcome_spill_"
_SPILL_FOLDER = re.compile(rf"{SPILL_PREFIX}(?P<pid>[0-9]+)_[A-Za-z0-9_]+")


def remove_dead_spill_folders(folder: Path | None = None) -> list[Path]:
    """Remove the spill folders of engine sessions whose process is gone (killed runs never
    reach the removal at the end of :func:`engine_session`)."""
    return remove_dead_leftovers(folder or Path(tempfile.gettempdir()), _SPILL_FOLDER)


@contextmanager
def engine_session(memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """The in-memory DuckDB session the steps run in: capped at :func:`engine_memory_limit`,
    spilling to a private temporary folder that is removed with the session.

    Automatic checkpoints are off (``checkpoint_threshold``): an in-memory database would
    otherwise checkpoint, and make the statement crossing the threshold wait for it, tables
    the session drops seconds later, compressing nothing (figures: benchmarks/PERFORMANCE.md,
    "Steady state")."""
    limit = engine_memory_limit(memory_limit)
    remove_dead_spill_folders()
    with tempfile.TemporaryDirectory(prefix=f"{SPILL_PREFIX}{os.getpid()}_") as spill:
        con = duckdb.connect(
            config={
                "memory_limit": limit,
                "temp_directory": spill,
                "checkpoint_threshold": _NO_AUTOMATIC_CHECKPOINT,
            }
        )
        try:
            yield con
        finally:
            con.close()


def engine_memory_limit(limit: str | None = None) -> str:
    """The DuckDB ``memory_limit`` of the outcome session: ``limit`` as DuckDB writes sizes
    (``"6GB"``, ``"512MiB"``), or ``"<n>%"`` of physical memory; None: DEFAULT_MEMORY_SHARE.

    Past the limit DuckDB spills its sorts, joins and temp tables to a private temporary
    directory (removed after the call) instead of exhausting the machine; results do not
    depend on it.
    """
    text = (limit or "").strip()
    if text.endswith("%"):
        try:
            share = float(text[:-1]) / 100
        except ValueError:
            share = -1.0
        if not 0 < share <= 1:
            raise ValueError(f"memory limit {limit!r}: a share must be in (0, 100]%")
    elif text:
        if not _MEMORY_LIMIT.match(text):
            raise ValueError(f"memory limit {limit!r}: expected e.g. '6GB', '512MiB' or '50%'")
        return text
    else:
        share = DEFAULT_MEMORY_SHARE
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(int(total * share) >> 20, 256)}MiB"


def out_of_memory_message(limit: str | None, chunk_days: int, contact_days: int) -> str:
    """What to do when the engine session stopped at its memory cap (DuckDB's "Out of Memory
    Error": some operators cannot spill all their state, so a cap too close to what a chunk
    needs fails instead of spilling). Names the settings that decide it."""
    setting = f"OUTCOME_COMPUTE_MEMORY_LIMIT={limit}" if limit else "OUTCOME_COMPUTE_MEMORY_LIMIT"
    cap = engine_memory_limit(limit)
    return (
        f"the outcome engine ran out of its memory cap ({setting}: {cap}) computing "
        f"{chunk_days} day(s) from {contact_days} day(s) of contacts. Raise "
        "OUTCOME_COMPUTE_MEMORY_LIMIT, or make each chunk read fewer contacts (a smaller "
        "OUTCOME_CHUNK_ROWS, or OUTCOME_CHUNK_DAYS), and rerun"
    )


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the engine session stopping at its cap."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, duckdb.OutOfMemoryException):
            return True
        seen = seen.__cause__
    return False
