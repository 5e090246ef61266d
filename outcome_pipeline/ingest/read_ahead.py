"""Read the next days of a range while the days already read are validated and written.

Reading a table-day (Arrow's CSV/JSON readers, Arrow compute, each its own in-memory DuckDB)
spends its time in C++ with the GIL released; validating (GX on pandas) holds the GIL, and
the warehouse insert runs in DuckDB or in the PostgreSQL server. Read in turns, the two
leave a core idle most of the time; a reader thread keeps reading while the staging loop
validates and writes. Staging validates its days in passes of up to ``ROWS_PER_GX_PASS``
rows, so the reader must get that far ahead for the next pass to be read while this one is
validated: it reads on while the rows read and not yet taken are under a budget.

What is read does not change: each day is read by the same function from the same files
and handed over in day order; a day's error is raised when the loop reaches that day.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class _Failed:
    error: BaseException


class _End:
    """The items are exhausted."""


@dataclass(frozen=True)
class _Entry(Generic[R]):
    value: R | _Failed | _End
    weight: int


def read_ahead(
    fn: Callable[[T], R],
    items: Iterable[T],
    budget: int,
    weight: Callable[[R], int] = lambda _: 1,
) -> Iterator[R]:
    """``fn(item)`` for each item, in order, computed by one reader thread that keeps going
    while the ``weight`` of the results computed and not yet taken is under ``budget``
    (``budget=0``: no thread, each item computed when it is asked for).

    Memory: what the caller keeps, plus results not taken worth less than ``budget`` and the
    one being computed. An exception of ``fn`` (or of ``items``) is raised by the ``next()``
    that reaches it; the reader stops there. Closing the iterator early (the caller failed)
    stops the reader after the item it is computing, and waits for it.
    """
    if budget < 0:
        raise ValueError(f"budget must be >= 0, got {budget}")
    if budget == 0:
        return (fn(item) for item in items)
    return _read_ahead(fn, iter(items), budget, weight)


def _read_ahead(
    fn: Callable[[T], R], it: Iterator[T], budget: int, weight: Callable[[R], int]
) -> Iterator[R]:
    cond = threading.Condition()
    ready: deque[_Entry[R]] = deque()
    held = 0
    stop = False

    def room() -> bool:  # stop reading while the results not taken are worth the budget
        return stop or held < budget

    def produce() -> None:
        nonlocal held
        last: _Entry[R] = _Entry(_End(), 0)
        try:
            for item in it:
                with cond:
                    cond.wait_for(room)
                    if stop:
                        return
                result = fn(item)
                entry = _Entry(result, weight(result))
                with cond:
                    ready.append(entry)
                    held += entry.weight
                    cond.notify_all()
        except BaseException as exc:  # handed to the caller, raised there
            last = _Entry(_Failed(exc), 0)
        finally:
            with cond:
                ready.append(last)
                cond.notify_all()

    reader = threading.Thread(target=produce, name="read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            with cond:
                cond.wait_for(lambda: bool(ready))
                entry = ready.popleft()
                held -= entry.weight
                cond.notify_all()
            if isinstance(entry.value, _End):
                return
            if isinstance(entry.value, _Failed):
                raise entry.value.error
            yield entry.value
    finally:
        with cond:
            stop = True
            cond.notify_all()
        reader.join()
