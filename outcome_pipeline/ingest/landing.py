"""Where a day's files are: discovery under the landing root, with paths kept inside it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from outcome_pipeline.contracts import FILE_FORMATS, TableContract


class LandingPathError(ValueError):
    """A landing path that would leave the landing root (symlink or '..')."""


@dataclass(frozen=True)
class LandingFile:
    """One file delivered for one table and one business day."""

    path: Path
    relative: str  # path relative to the landing root: what lineage columns and logs show
    table: str
    day: date
    fmt: str


def _table_pattern(table: str) -> re.Pattern[str]:
    # A file belongs to a table when its name is the table name, optionally followed by
    # `_<suffix>`, then one of the known extensions. `survey_responses` contains an
    # underscore, so the match is on the exact name, not on the first word.
    exts = "|".join(FILE_FORMATS)
    return re.compile(rf"^{re.escape(table)}(?:_[A-Za-z0-9_.-]*)?\.({exts})$")


def day_folder(root: Path, feed: str, day: date) -> Path:
    """The folder of one feed and one business day, checked to lie inside the landing root."""
    root = root.resolve()
    folder = (root / feed / day.isoformat()).resolve()
    if not folder.is_relative_to(root):
        raise LandingPathError(f"{folder} is outside the landing root {root}")
    return folder


def list_day_files(root: Path, contract: TableContract, day: date) -> list[LandingFile]:
    """Files of ``contract``'s table delivered for ``day``, in a stable (name) order.

    Files whose real path leaves the landing root (e.g. a symlink to /etc) are refused.
    """
    root = root.resolve()
    folder = day_folder(root, contract.feed, day)
    if not folder.is_dir():
        return []
    pattern = _table_pattern(contract.name)
    found: list[LandingFile] = []
    for path in sorted(folder.iterdir()):
        m = pattern.match(path.name)
        if not m or not path.is_file():
            continue
        real = path.resolve()
        if not real.is_relative_to(root):
            raise LandingPathError(f"{path} points outside the landing root {root}")
        found.append(
            LandingFile(
                path=real,
                relative=path.relative_to(root).as_posix(),
                table=contract.name,
                day=day,
                fmt=m.group(1),
            )
        )
    return found
