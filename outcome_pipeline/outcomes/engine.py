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

    Automatic checkpoints are off (``checkpoint_threshold``). Since DuckDB 1.4 an in-memory
    database checkpoints once enough has been written, and the statement that crosses the
    threshold waits for it. Here that was ~1 s of a 1M-interaction night: one checkpoint,
    charged to ``journey_facts``, of tables the session drops seconds later. It compresses
    nothing (in-memory compression is off by default). Measured on a 1M day with W = 7 of
    lookback, alternating runs: 11.9 -> 11.0 s at the default cap, 18.1 -> 14.2 s under
    600 MB, 19.0 -> 16.0 s under 400 MB, the same peak RSS each time, identical tables."""
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
