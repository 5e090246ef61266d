"""Standard output that a reader may close early (``outcome-pipeline run ... | head``).

A closed pipe must not stop a run half way (the steps after the reader left would not run) nor
print a traceback: once stdout is gone, what the command would still print is dropped, the
command goes on to its end and exits with its own code. The full log of a run is in its log
file whatever happens to stdout.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, TextIO


class ClosedPipeSafe:
    """A text stream that drops its writes once the reader has closed the pipe."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.closed_by_reader = False

    def write(self, text: str) -> int:
        if not self.closed_by_reader:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self.closed_by_reader = True
        return len(text)

    def flush(self) -> None:
        if not self.closed_by_reader:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self.closed_by_reader = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


@contextlib.contextmanager
def tolerate_closed_stdout() -> Iterator[ClosedPipeSafe]:
    """``sys.stdout`` as a :class:`ClosedPipeSafe` for the block. If the reader left, file
    descriptor 1 is pointed at /dev/null on the way out, so that the interpreter's own flush
    at exit (of what Python still buffers) does not print "Exception ignored ... BrokenPipeError".
    """
    original = sys.stdout
    safe = ClosedPipeSafe(original)
    sys.stdout = safe  # type: ignore[assignment]
    try:
        yield safe
    finally:
        sys.stdout = original
        safe.flush()
        if safe.closed_by_reader:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, original.fileno())
            os.close(devnull)
