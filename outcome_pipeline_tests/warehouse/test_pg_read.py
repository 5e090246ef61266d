"""The pieces of the PostgreSQL reader that need no server: the libpq URI of a SQLAlchemy URL
and the read-ahead thread (order, errors, a consumer that stops)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from outcome_pipeline.warehouse.pg_read import libpq_uri, read_ahead


@pytest.mark.parametrize(
    ("url", "uri"),
    [
        (
            "postgresql+psycopg://postgres@127.0.0.1:5432/test",
            "postgresql://postgres@127.0.0.1:5432/test",
        ),
        (
            "postgresql+psycopg://u:p%40ss@db.example:6432/wh?sslmode=require",
            "postgresql://u:p%40ss@db.example:6432/wh?sslmode=require",
        ),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
    ],
)
def test_libpq_uri_drops_the_driver_and_keeps_the_rest(url: str, uri: str) -> None:
    assert libpq_uri(url) == uri


def test_read_ahead_yields_in_order() -> None:
    def produce(put: Callable[[object], None]) -> None:
        for i in range(10):
            put(i)

    assert list(read_ahead(produce, "t")) == list(range(10))


def test_read_ahead_raises_the_producers_error_after_its_items() -> None:
    def produce(put: Callable[[object], None]) -> None:
        put(1)
        raise ValueError("server gone")

    got = []
    with pytest.raises(ValueError, match="server gone"):
        for item in read_ahead(produce, "t"):
            got.append(item)
    assert got == [1]


def test_a_consumer_that_stops_ends_the_producer() -> None:
    left = threading.Event()

    def produce(put: Callable[[object], None]) -> None:
        try:
            for i in range(1_000_000):
                put(i)
        finally:
            left.set()

    stream = read_ahead(produce, "t")
    assert next(stream) == 0
    stream.close()  # joins the thread
    assert left.is_set()
    assert not any(t.name == "t" for t in threading.enumerate())
