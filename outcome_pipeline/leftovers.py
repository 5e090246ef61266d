"""Leftovers of killed runs: temporary files and folders the pipeline named, removed later.

A run killed with SIGKILL (or a machine that lost power) never reaches its ``finally``: the
half-written BI file next to the published one and the DuckDB engine's spill folder in
``$TMPDIR`` stay behind, the first ~12 MB at least, the second up to the memory cap. So every
temporary path the pipeline creates carries its creator's process id, in a pattern no other
program uses, and the next run removes those of processes that are gone. A path whose process
still runs is never touched (another run in progress); a path this project did not name is
never touched either.

A process id can be reused: a leftover whose id now belongs to an unrelated live process waits
for a later run; nothing is removed early. Processes of another PID namespace (a container
sharing the folder) look gone from here: give each container its own ``$TMPDIR`` and BI folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists (signal 0 checks without sending anything)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def remove_dead_leftovers(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    """Remove the entries of ``folder`` whose name matches ``pattern`` (its group ``pid`` is
    the creating process) and whose process is gone; return what was removed."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None or process_alive(int(match["pid"])):
            continue
        path = Path(entry.path)
        # Another run may be removing the same leftover at the same moment.
        with contextlib.suppress(FileNotFoundError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed
