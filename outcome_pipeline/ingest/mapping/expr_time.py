"""Time expressions of mappings: timestamps in any format and zone, day + time of day with
midnight rollover, arithmetic on times and durations."""

from __future__ import annotations

from typing import Any

from outcome_pipeline.ingest.mapping.expr import (
    _OFFSET,
    FLOAT,
    INT,
    TEXT,
    TIMESTAMP,
    Compiled,
    Context,
    ExprError,
    _merge,
    _parsed,
    _parts,
    compile_expr,
    lit,
    value,
)

# The days whose UTC offsets are looked up instead of asked of ICU per row (see zoned).
_FIRST_DAY, _DAYS = "2000-01-01", 25_000  # to 2068-06


def zoned(local: str, day: str, tz: str, ctx: Context) -> str:
    """``timezone(tz, local)`` for a local TIMESTAMP on the DATE ``day`` (or at its end).

    ICU's conversion costs ~0.2 µs a value, and a call log has five times of day per row.
    Offsets change only on a zone's transition days: the offset of each day's midnight is
    looked up in a list computed once per query (ICU itself, so the same zone data), and
    where a day's midnight and the next one's agree, no transition falls inside that day
    (no zone has two within one day) and the local time less that offset is ICU's answer.
    Transition days and days outside the list are converted by ICU as before.
    """
    # Inline, not a value: a list carried as a column through the steps is copied.
    offsets = (
        f"(SELECT list(epoch_us(d) - epoch_us(timezone({lit(tz)}, d)) ORDER BY d) "
        f"FROM (SELECT CAST(DATE '{_FIRST_DAY}' + CAST(i AS INTEGER) AS TIMESTAMP) AS d "
        f"FROM range({_DAYS + 1}) r(i)))"
    )
    # 1-based; a negative index would count from the list's end, so days before are NULL.
    i = value(f"(CAST({day} AS DATE) - DATE '{_FIRST_DAY}')", ctx)
    start = value(f"CASE WHEN {i} >= 0 THEN {offsets}[{i} + 1] END", ctx)
    end = value(f"CASE WHEN {i} >= 0 THEN {offsets}[{i} + 2] END", ctx)
    return value(
        f"CASE WHEN {start} = {end} THEN make_timestamptz(epoch_us({local}) - {start}) "
        f"ELSE timezone({lit(tz)}, {local}) END",
        ctx,
    )


def _zone(v: dict, key: tuple[str, ...], ctx: Context) -> str:
    tz = v.get("timezone", ctx.timezone)
    if not isinstance(tz, str):
        raise ExprError((*key, "timezone"), "timezone is an IANA name")
    return tz


def _c_timestamp(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    raw = compile_expr(v["timestamp"], (*key, "timestamp"), ctx)
    return to_timestamp(raw, v.get("format", "iso8601"), _zone(v, key, ctx), key, ctx)


def to_timestamp(raw: Compiled, fmt: Any, tz: str, key: tuple[str, ...], ctx: Context) -> Compiled:
    if raw.kind == TIMESTAMP:
        return raw
    x = f"CAST({raw.sql} AS VARCHAR)"
    if fmt == "iso8601":
        # With an offset the text says its instant; without one it is the source's local time.
        # A trailing Z (UTC, what most exports write) is tested first: a suffix test is
        # cheaper than the offset pattern, which then runs only on the other values.
        sql = (
            f"CASE WHEN suffix({x}, 'Z') OR regexp_matches({x}, '{_OFFSET}') "
            f"THEN try_cast({x} AS TIMESTAMPTZ) "
            f"ELSE timezone({lit(tz)}, try_cast({x} AS TIMESTAMP)) END"
        )
        what = "an ISO 8601 timestamp"
    elif fmt in ("epoch_ms", "epoch_s"):
        scale = "1000.0" if fmt == "epoch_ms" else "1.0"
        sql = f"to_timestamp(try_cast({x} AS DOUBLE) / {scale})"
        what = f"a timestamp ({fmt})"
    elif isinstance(fmt, str) and "%" in fmt:
        local = value(f"try_strptime({x}, {lit(fmt)})", ctx)
        sql = zoned(local, local, tz, ctx)
        what = f"a timestamp in format {fmt}"
    else:
        raise ExprError(
            (*key, "format"),
            f"format is iso8601, epoch_ms, epoch_s or a strptime pattern: {fmt!r}",
        )
    return _parsed(raw, sql, TIMESTAMP, what, ctx)


def _c_date(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    """A day and a time of day read apart, joined in the source's zone.

    ``not_before``: when the joined time is earlier than that timestamp the clock passed
    midnight between the two events, so the next day is meant.
    """
    if "time" not in v:
        raise ExprError(key, "date needs time (the time of day to join it with)")
    day = compile_expr(v["date"], (*key, "date"), ctx)
    tod = compile_expr(v["time"], (*key, "time"), ctx)
    dfmt, tfmt = v.get("date_format", "%Y-%m-%d"), v.get("time_format", "%H:%M:%S")
    if not (isinstance(dfmt, str) and isinstance(tfmt, str)):
        raise ExprError(key, "date_format and time_format are strptime patterns")
    d = _parsed(
        day,
        f"CAST(try_strptime({day.sql}, {lit(dfmt)}) AS DATE)",
        "date",
        f"a date in format {dfmt}",
        ctx,
    )
    t = _parsed(
        tod,
        f"CAST(try_strptime({tod.sql}, {lit(tfmt)}) AS TIME)",
        "time",
        f"a time in format {tfmt}",
        ctx,
    )
    local = value(f"({d.sql} + {t.sql})", ctx)
    tz = _zone(v, key, ctx)
    sql = zoned(local, d.sql, tz, ctx)
    checks, fields = d.checks + t.checks, d.fields + t.fields
    if "not_before" in v:
        ref = compile_expr(v["not_before"], (*key, "not_before"), ctx)
        ref = to_timestamp(ref, "iso8601", tz, key, ctx)
        sql = (
            f"CASE WHEN {sql} < {ref.sql} THEN timezone({lit(tz)}, {local} + INTERVAL 1 DAY) "
            f"ELSE {sql} END"
        )
        checks += ref.checks
    return Compiled(sql, TIMESTAMP, checks, fields)


def _seconds(p: Compiled, key: tuple[str, ...], ctx: Context) -> Compiled:
    if p.kind in (INT, FLOAT):
        return p
    if p.kind != TEXT:
        raise ExprError(key, f"expected a number of seconds, found a {p.kind}")
    return _parsed(p, f"try_cast({p.sql} AS DOUBLE)", FLOAT, "a number of seconds", ctx)


def _c_plus_seconds(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    k = (*key, "plus_seconds")
    start, secs = _parts(v["plus_seconds"], k, ctx, 2)
    start = to_timestamp(start, "iso8601", ctx.timezone, k, ctx)
    secs = _seconds(secs, k, ctx)
    sql = f"({start.sql} + to_microseconds(CAST(round({secs.sql} * 1000000) AS BIGINT)))"
    return Compiled(sql, TIMESTAMP, *_merge([start, secs]))


def _c_seconds_between(v: dict, key: tuple[str, ...], ctx: Context) -> Compiled:
    k = (*key, "seconds_between")
    a, b = (
        to_timestamp(p, "iso8601", ctx.timezone, k, ctx)
        for p in _parts(v["seconds_between"], k, ctx, 2)
    )
    sql = f"CAST(round(epoch({b.sql}) - epoch({a.sql})) AS BIGINT)"
    return Compiled(sql, INT, *_merge([a, b]))
