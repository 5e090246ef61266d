"""Retries for transient warehouse errors, and only for those.

A step that writes the warehouse can fail for reasons that go away by themselves: the DuckDB
file is held by another process ("Could not set lock on file"), a PostgreSQL server restarts or
drops the connection, two transactions deadlock. Rerunning such a step is safe: every write
replaces its partitions in one transaction, so a failed attempt left nothing behind.

Other failures (a bug, a bad SQL statement, a blocking check) would fail the same way again, so
:func:`warehouse_errors` turns them into a ``dg.Failure(allow_retries=False)``: the policy is
bypassed and the run fails at once with the original message. Blocking asset checks are not
retried by Dagster in any case (verified on 1.13.27).
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from outcome_pipeline.settings import Settings

_settings = Settings.from_env()
MAX_RETRIES = _settings.retry_max
# 10 s, 20 s, 40 s (+-jitter): long enough for a BI session or another run to let go of a
# DuckDB file, or for a PostgreSQL failover; short enough that a night does not slip.
BASE_DELAY_SECONDS = _settings.retry_delay_seconds

# SQLSTATE classes/codes that are worth a retry: connection exceptions (08), serialization
# failure and deadlock (40001, 40P01), lock not available (55P03), insufficient resources
# (53), operator intervention such as admin shutdown or a standby in recovery (57P01-57P03).
_TRANSIENT_SQLSTATE_PREFIXES = ("08", "53")
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "57P01", "57P02", "57P03"}
_TRANSIENT_MESSAGES = (
    "could not set lock on file",  # DuckDB: another process holds the file
    "conflicting lock is held",
    "server closed the connection unexpectedly",
    "connection refused",
    "could not connect to server",
    "connection timed out",
    "terminating connection due to administrator command",
    "the database system is starting up",
    "the database system is shutting down",
    "too many clients already",
    "remaining connection slots are reserved",
)
_TRANSIENT_ERRNOS = {errno.EAGAIN, errno.EBUSY, errno.ETIMEDOUT, errno.ECONNRESET, errno.ESTALE}


def warehouse_retry_policy(
    max_retries: int = MAX_RETRIES, delay: float = BASE_DELAY_SECONDS
) -> dg.RetryPolicy:
    """Exponential backoff with jitter, so retrying runs do not collide again in lock step."""
    return dg.RetryPolicy(
        max_retries=max_retries,
        delay=delay,
        backoff=dg.Backoff.EXPONENTIAL,
        jitter=dg.Jitter.PLUS_MINUS,
    )


WAREHOUSE_RETRY_POLICY = warehouse_retry_policy()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, its SQLAlchemy ``orig`` and its causes/contexts (each once)."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        todo += [getattr(e, "orig", None), e.__cause__, e.__context__]


def transient_reason(exc: BaseException) -> str | None:
    """Why ``exc`` is worth a retry (a short operator-facing phrase), or None if it is not.

    Decided on what the drivers report (SQLSTATE, errno, the message of a DuckDB lock), not
    on exception classes alone: ``OperationalError`` also covers errors that never heal.
    """
    for e in _chain(exc):
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(state, str) and (
            state in _TRANSIENT_SQLSTATES or state.startswith(_TRANSIENT_SQLSTATE_PREFIXES)
        ):
            return f"PostgreSQL SQLSTATE {state}"
        text = str(e).lower()
        for needle in _TRANSIENT_MESSAGES:
            if needle in text:
                if "lock" in needle:
                    return "the DuckDB warehouse file is held by another process"
                return f"the database reported '{needle}'"
        if isinstance(e, OSError) and e.errno in _TRANSIENT_ERRNOS:
            return f"I/O error {errno.errorcode.get(e.errno, e.errno)}"
    return None


def operator_message(reason: str, exc: BaseException, attempt: int) -> str:
    """One line for the run log: what happened, what Dagster does next, what to check.

    ``attempt`` is the step's retry number (0 on the first attempt). Whether a retry is left
    is the step's policy's to say: Dagster logs "failed and has requested a retry" or the
    step failure right after this line.
    """
    first = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
    action = f"attempt {attempt + 1} failed; the step's retry policy retries it with backoff"
    hint = (
        " Close BI tools and notebooks that hold the warehouse file (they should read the "
        "published BI copy), or wait for the other run to finish."
        if "DuckDB" in reason
        else " Check that the warehouse is reachable and accepting connections."
    )
    return f"Transient warehouse error: {reason}: {first} — {action}.{hint}"


@contextmanager
def warehouse_errors(context: dg.OpExecutionContext | None = None) -> Iterator[None]:
    """Classify an error raised inside the block: log and re-raise a transient one (the step's
    ``RetryPolicy`` retries it), turn any other into a Failure that bypasses the policy.

    Meant for ``WarehouseResource.open()`` (one line there covers every asset); with no
    context given, the current step's context is used when there is one.
    """
    try:
        yield
    except (dg.Failure, dg.RetryRequested):
        raise
    except Exception as exc:
        ctx = context or _current_context()
        reason = transient_reason(exc)
        if reason is not None:
            if ctx is not None:
                ctx.log.warning(operator_message(reason, exc, ctx.retry_number))
            raise
        raise dg.Failure(
            description=f"Warehouse step failed (not retried: not a transient error): "
            f"{type(exc).__name__}: {exc}",
            allow_retries=False,
        ) from exc


def _current_context() -> dg.OpExecutionContext | None:
    try:
        return dg.OpExecutionContext.get()
    except Exception:
        return None
