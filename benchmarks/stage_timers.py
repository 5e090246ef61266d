"""Wall and CPU seconds of named pipeline functions, without a profiler.

cProfile slows Python-heavy code (GX, Dagster) several times more than Arrow/DuckDB calls,
and its timer is either wall (which a shared machine's load inflates) or CPU. Here each
function is wrapped once: ``perf_counter`` and ``process_time`` (every thread of the process:
DuckDB's workers, the COPY writer) around each call, summed per label. Nested functions
overlap: read the tree, not the sum.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any


@dataclass
class Timing:
    wall: float = 0.0
    cpu: float = 0.0
    calls: int = 0


def module_of(suffix: str) -> str:
    """``ingest/stage_read.py`` -> ``outcome_pipeline.ingest.stage_read``."""
    return "outcome_pipeline." + suffix.removesuffix(".py").replace("/", ".")


def _owner(module: Any, name: str) -> Any:
    """The module, or the class of ``module``, that defines ``name``."""
    if name in vars(module):
        return module
    for _, cls in inspect.getmembers(module, inspect.isclass):
        if cls.__module__ == module.__name__ and name in vars(cls):
            return cls
    raise AttributeError(f"{module.__name__} defines no {name}")


def _wrapped(fn: Callable[..., Any], timing: Timing) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            timing.wall += time.perf_counter() - wall
            timing.cpu += time.process_time() - cpu
            timing.calls += 1

    return timed


@contextmanager
def timers(stages: Sequence[tuple[str, str, str]]) -> Iterator[dict[str, Timing]]:
    """Time each (label, file suffix, function) of ``stages`` while the block runs; every
    module holding the function (``from x import f``) gets the wrapper, and the original
    comes back afterwards."""
    out: dict[str, Timing] = {}
    undo: list[tuple[Any, str, Any]] = []
    try:
        for label, suffix, name in stages:
            try:
                module = importlib.import_module(module_of(suffix))
                owner = _owner(module, name)
            except (ImportError, AttributeError):
                continue  # a stage of another version of the pipeline
            original = vars(owner)[name]
            timing = out.setdefault(label, Timing())
            wrapper = _wrapped(original, timing)
            holders = [owner] + [
                m
                for m in list(sys.modules.values())
                if m is not owner and getattr(m, name, None) is original
            ]
            for holder in holders:
                undo.append((holder, name, original))
                setattr(holder, name, wrapper)
        yield out
    finally:
        for holder, name, original in reversed(undo):
            setattr(holder, name, original)
