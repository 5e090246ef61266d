"""read_ahead: the staging loop's reader thread hands over every day, in order, within its
budget, and raises a day's error when the loop reaches that day."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pytest

from outcome_pipeline.ingest.read_ahead import read_ahead


def test_every_item_in_order_from_another_thread() -> None:
    caller = threading.get_ident()
    got = list(read_ahead(lambda i: (i, threading.get_ident()), range(20), budget=3))
    assert [i for i, _ in got] == list(range(20))
    assert {t for _, t in got} != {caller}


def test_budget_zero_computes_in_the_caller_when_asked() -> None:
    calls: list[int] = []
    it = read_ahead(lambda i: calls.append(i) or threading.get_ident(), range(3), budget=0)
    assert calls == []
    assert next(it) == threading.get_ident() and calls == [0]
    assert list(it) == [threading.get_ident()] * 2


def test_the_reader_stops_at_the_budget() -> None:
    """A read starts only while the results not taken are worth less than the budget."""
    taken = 0
    most_ahead = 0

    def fn(i: int) -> int:
        nonlocal most_ahead
        most_ahead = max(most_ahead, i - taken)  # results computed and not taken
        return i

    it = read_ahead(fn, range(30), budget=4, weight=lambda _: 2)  # two items fill it
    for i in it:
        time.sleep(0.002)  # the reader gets as far as the budget lets it
        assert i == taken
        taken += 1
    assert taken == 30
    # One result (worth 2 < 4) at most when a read starts; the loop's own count of what it
    # took lags the iterator's by one at most.
    assert 1 <= most_ahead <= 2


def test_an_error_is_raised_when_the_loop_reaches_its_item() -> None:
    calls: list[int] = []

    def fn(i: int) -> int:
        calls.append(i)
        if i == 3:
            raise PermissionError("day 3 unreadable")
        return i

    it = read_ahead(fn, range(10), budget=100)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    with pytest.raises(PermissionError, match="day 3"):
        next(it)
    assert calls == [0, 1, 2, 3]  # the reader stopped at the failing day
    with pytest.raises(StopIteration):
        next(it)


def test_closing_early_stops_the_reader() -> None:
    started = threading.Event()
    calls: list[int] = []

    def fn(i: int) -> int:
        calls.append(i)
        started.set()
        return i

    with closing(read_ahead(fn, range(1000), budget=2)) as it:
        assert next(it) == 0
        started.wait()
    n = len(calls)
    time.sleep(0.05)
    assert len(calls) == n <= 4  # nothing read after the close
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError, match="budget"):
        read_ahead(lambda i: i, [1], budget=-1)
