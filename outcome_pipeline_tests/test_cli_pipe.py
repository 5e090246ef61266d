"""A reader that closes the command's stdout early (``outcome-pipeline ... | head``)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from outcome_pipeline.cli.pipe import ClosedPipeSafe


class _Closed(io.StringIO):
    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


def test_writes_after_the_reader_left_are_dropped_not_raised() -> None:
    out = ClosedPipeSafe(_Closed())
    assert out.write("one\n") == 4
    out.flush()
    assert out.closed_by_reader
    assert out.write("two\n") == 4


def test_a_working_stream_gets_every_write() -> None:
    buffer = io.StringIO()
    out = ClosedPipeSafe(buffer)
    out.write("one\n")
    out.write("two\n")
    assert buffer.getvalue() == "one\ntwo\n" and not out.closed_by_reader


def test_the_command_finishes_its_work_when_stdout_is_closed(tmp_path: Path) -> None:
    # `docs` prints a line per page written: before, the first line raised BrokenPipeError
    # (traceback, exit 1) and the other pages were never written.
    out = tmp_path / "docs"
    done = subprocess.Popen(
        [sys.executable, "-m", "outcome_pipeline.cli.main", "docs", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert done.stdout is not None and done.stderr is not None
    done.stdout.close()
    stderr = done.stderr.read()
    assert done.wait(timeout=120) == 0, stderr
    assert stderr == ""
    assert sorted(p.name for p in out.iterdir()) == [
        "data_dictionary.md",
        "feed_contracts.md",
        "metrics.md",
    ]
