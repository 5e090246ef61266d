"""Time on integer seconds: business-timezone conversions and fast ISO-8601 rendering.

The simulation keeps every instant as int64 seconds since the Unix epoch (UTC), with ``NA``
for "no value". Timezone work is delegated to Arrow's vectorised kernels; rendering builds
fixed-width byte rows from lookup tables, because ``strftime`` on a million timestamps costs
over a second per column and the generator renders several columns per row.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NA = -1  # "no value" in int64 time and duration arrays (all real values are >= 0)
DAY = 86_400
HOUR = 3_600
EPOCH = date(1970, 1, 1)

_TIME_TABLE = np.frombuffer(
    "".join(
        f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)
    ).encode(),
    dtype=np.uint8,
).reshape(DAY, 8)
# UTC offsets in 15-minute steps from -14:00 to +14:00.
_OFFSET_STEP = 900
_OFFSET_MIN = -14 * HOUR
_OFFSET_TABLE = np.frombuffer(
    "".join(
        f"{'-' if o < 0 else '+'}{abs(o) // HOUR:02d}:{abs(o) // 60 % 60:02d}"
        for o in range(_OFFSET_MIN, -_OFFSET_MIN + 1, _OFFSET_STEP)
    ).encode(),
    dtype=np.uint8,
).reshape(-1, 6)


def epoch_day(d: date) -> int:
    return (d - EPOCH).days


def day_from_epoch(n: int) -> date:
    return EPOCH + timedelta(days=n)


class BusinessClock:
    """Conversions between UTC seconds and the business timezone's wall clock.

    UTC offsets are looked up in a 15-minute grid built with Arrow's tz database over the
    span asked for (every real transition of the modern tz database falls on a quarter
    hour), so the millions of lookups the simulation makes are one gather each.
    """

    _STEP = 900
    _MAX_SPAN = 200 * 366 * DAY

    def __init__(self, timezone: str) -> None:
        self.timezone = timezone
        self._lo = 0
        self._grid = np.zeros(0, dtype=np.int64)

    def local_to_utc(self, local_seconds: np.ndarray) -> np.ndarray:
        """Wall-clock seconds (as if UTC) → real UTC seconds.

        Two offset lookups: exact outside DST changes; a wall time inside a spring-forward
        gap lands just after it, one inside a fall-back overlap on one of its two instants.
        """
        local = np.asarray(local_seconds, dtype=np.int64)
        return local - self.offset(local - self.offset(local))

    def _arrow_offset(self, utc_seconds: np.ndarray) -> np.ndarray:
        aware = pa.array(utc_seconds, type=pa.timestamp("s", tz=self.timezone))
        local = pc.local_timestamp(aware).cast(pa.int64()).to_numpy()
        return local - utc_seconds

    def offset(self, utc_seconds: np.ndarray) -> np.ndarray:
        """UTC offset (seconds) in effect at each instant."""
        t = np.asarray(utc_seconds, dtype=np.int64)
        if not len(t):
            return np.zeros(0, dtype=np.int64)
        lo, hi = int(t.min()), int(t.max())
        if hi - lo > self._MAX_SPAN:
            return self._arrow_offset(t)
        if lo < self._lo or hi >= self._lo + len(self._grid) * self._STEP:
            start = min(lo, self._lo if len(self._grid) else lo) // self._STEP * self._STEP
            end = max(hi, self._lo + len(self._grid) * self._STEP) + 30 * DAY
            start -= 30 * DAY
            self._lo = start
            self._grid = self._arrow_offset(np.arange(start, end, self._STEP, dtype=np.int64))
        return self._grid[(t - self._lo) // self._STEP]

    def local_day(self, utc_seconds: np.ndarray) -> np.ndarray:
        """Business day (days since 1970-01-01, local) of each instant."""
        return (utc_seconds + self.offset(utc_seconds)) // DAY

    def local_hour(self, utc_seconds: np.ndarray) -> np.ndarray:
        local = utc_seconds + self.offset(utc_seconds)
        return (local % DAY) // HOUR

    def weekday(self, utc_seconds: np.ndarray) -> np.ndarray:
        """Local weekday, Monday = 0 (1970-01-01 was a Thursday)."""
        return (self.local_day(utc_seconds) + 3) % 7


def iso_strings(seconds: np.ndarray, offsets: np.ndarray | None = None) -> pa.StringArray:
    """ISO-8601 strings: ``2024-03-31T02:30:00Z`` or, with offsets, local time + ``+01:00``.

    Null where ``seconds == NA``.
    """
    seconds = np.asarray(seconds, dtype=np.int64)
    n = len(seconds)
    valid = seconds != NA
    local = seconds if offsets is None else seconds + offsets
    days, sod = np.divmod(local, DAY)
    d0 = int(days[valid].min()) if valid.any() else 0
    d1 = int(days[valid].max()) if valid.any() else 0
    days = np.where(valid, days, d0)
    sod = np.where(valid, sod, 0)
    calendar = np.datetime_as_string(np.arange(d0, d1 + 1).astype("datetime64[D]"))
    date_table = np.empty((d1 - d0 + 1, 11), dtype=np.uint8)
    date_table[:, :10] = calendar.astype("S10").view(np.uint8).reshape(-1, 10)
    date_table[:, 10] = ord("T")
    width = 20 if offsets is None else 25
    buf = np.empty((n, width), dtype=np.uint8)
    buf[:, 0:11] = date_table[days - d0]
    buf[:, 11:19] = _TIME_TABLE[sod]
    if offsets is None:
        buf[:, 19] = ord("Z")
    else:
        buf[:, 19:25] = _OFFSET_TABLE[(offsets - _OFFSET_MIN) // _OFFSET_STEP]
    value_offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    validity = None
    if not valid.all():
        validity = pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(value_offsets), pa.py_buffer(buf.reshape(-1)), validity
    )


def to_timestamp(seconds: np.ndarray) -> pa.Array:
    """int64 seconds (``NA`` = null) → ``timestamp[us, tz=UTC]``."""
    seconds = np.asarray(seconds, dtype=np.int64)
    mask = seconds == NA
    return pa.array(seconds * 1_000_000, type=pa.timestamp("us", tz="UTC"), mask=mask)


def from_timestamp(array: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """``timestamp`` column → int64 seconds with ``NA`` for null."""
    us = pc.cast(array, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return pc.fill_null(us, NA * 1_000_000).to_numpy() // 1_000_000
