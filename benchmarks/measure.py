"""Wall time and peak RSS of named stages, in this process or of a child process.

Peak RSS of a stage: the kernel's high-water mark (``VmHWM``), reset at the start of the
stage through ``/proc/self/clear_refs`` where the kernel allows it; otherwise (and always,
as a cross-check) the maximum ``VmRSS`` seen by a sampler thread every 5 ms. Both are the
whole process's resident memory, so a stage's peak includes what earlier stages still hold;
``rss_start_mib`` says what that was.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field

_STATUS = "/proc/self/status"


def _status_kib(key: str, path: str = _STATUS) -> int | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def rss_mib() -> float:
    kib = _status_kib("VmRSS")
    return (kib or 0) / 1024


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0: write 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class RssSampler:
    """A daemon thread recording the maximum VmRSS since the last ``reset``."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self._peak = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            value = rss_mib()
            with self._lock:
                self._peak = max(self._peak, value)
            time.sleep(self.interval)

    def reset(self) -> float:
        now = rss_mib()
        with self._lock:
            self._peak = now
        return now

    def peak(self) -> float:
        now = rss_mib()
        with self._lock:
            self._peak = max(self._peak, now)
            return self._peak


@dataclass
class Stage:
    name: str
    engine: str  # pipeline / limit / peer
    seconds: float
    rows: int
    peak_rss_mib: float
    rss_start_mib: float
    note: str = ""
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds > 0 else None

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["rows_per_s"] = self.rows_per_s
        return out


class Recorder:
    """Collects :class:`Stage` records; ``stage()`` times a block and measures its peak RSS."""

    def __init__(self, sampler: RssSampler) -> None:
        self.sampler = sampler
        self.stages: list[Stage] = []

    @contextmanager
    def stage(self, name: str, engine: str, rows: int = 0, note: str = "") -> Iterator[Stage]:
        """Time the block; the block may set ``.rows``/``.note``/``.extra`` on the record."""
        record = Stage(name, engine, 0.0, rows, 0.0, 0.0, note)
        hwm_ok = _reset_peak()
        record.rss_start_mib = self.sampler.reset()
        t0 = time.perf_counter()
        yield record
        record.seconds = time.perf_counter() - t0
        peak = self.sampler.peak()
        if hwm_ok:
            peak = max(peak, (_status_kib("VmHWM") or 0) / 1024)
        record.peak_rss_mib = peak
        self.stages.append(record)

    def add(self, record: Stage) -> None:
        self.stages.append(record)

    def get(self, name: str, engine: str) -> Stage | None:
        found = [s for s in self.stages if s.name == name and s.engine == engine]
        return found[-1] if found else None


@dataclass
class ChildRun:
    seconds: float
    returncode: int
    peak_rss_mib: float
    output: str
    # user + system CPU of the process and its threads (wait4): on a shared machine a steadier
    # measure of work than wall time. A PostgreSQL server's own CPU is not in it.
    cpu_seconds: float = 0.0


def run_child(argv: list[str], env: dict[str, str], cwd: str | None = None) -> ChildRun:
    """Run a command to completion: wall time from launch, its own peak RSS and CPU (wait4)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    # ru_maxrss is in KiB on Linux.
    cpu = usage.ru_utime + usage.ru_stime
    return ChildRun(seconds, proc.returncode, usage.ru_maxrss / 1024, output, cpu)


def scale_label(n: int) -> str:
    """10_000_000 -> '10m', 2_000 -> '2k', other counts as they are (report file names)."""
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}m"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)
