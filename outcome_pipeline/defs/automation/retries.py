"""Retries for transient warehouse errors, and only for those.

A step that writes the warehouse can fail for reasons that go away by themselves: the DuckDB
file is held by another process ("Could not set lock on file"), a PostgreSQL server restarts or
drops the connection, two transactions deadlock. Rerunning such a step is safe: every write
replaces its partitions in one transaction, so a failed attempt left nothing behind.

Other failures (a bug, a bad SQL statement, a blocking check) would fail the same way again, so
:func:`warehouse_errors` turns them into a ``dg.Failure(allow_retries=False)``: the policy is
bypassed and the run fails at once. Configuration mistakes (a malformed setting, a wrong
password, a database that does not exist: :func:`outcome_pipeline.errors.permanent_problem`)
fail that way with a paragraph naming the setting. Blocking asset checks are not retried by
Dagster in any case (verified on 1.13.27).

A transient error is retried by raising ``dg.RetryRequested`` with the wait the step's policy
gives, after logging what the step waits for, which attempt failed and when the next starts
(a WARNING starting with :data:`WAITING`; the command line shows those lines). On the last
attempt it becomes a Failure that says what was waited for and what to do.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from outcome_pipeline.errors import (
    URL_SETTING,
    describe_target,
    exception_chain,
    permanent_problem,
)
from outcome_pipeline.settings import Settings

_settings = Settings.from_env()
MAX_RETRIES = _settings.retry_max
# Dagster's exponential backoff waits 1, 3, 7 x this (+- this, as jitter): long enough for a
# BI session or another run to let go of a DuckDB file, or for a PostgreSQL failover; short
# enough that a night does not slip.
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
# Metadata key of a step Failure: "configuration" (a setting is wrong: the CLI exits 2) or
# "transient" (retries ran out).
ERROR_KIND = "error_kind"
# Every retry's log line starts with this (the command line shows these lines to the user).
WAITING = "Waiting for "
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


def transient_reason(exc: BaseException) -> str | None:
    """Why ``exc`` is worth a retry (a short operator-facing phrase), or None if it is not.

    Decided on what the drivers report (SQLSTATE, errno, the message of a DuckDB lock), not
    on exception classes alone: ``OperationalError`` also covers errors that never heal.
    """
    for e in exception_chain(exc):
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


def _first_line(exc: BaseException) -> str:
    """The driver's message in short (for a DuckDB lock: which process holds the file)."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    holder = re.search(r"lock is held in (\S+) \(PID (\d+)\)", text)
    if holder:
        return f"held by PID {holder.group(2)}, {holder.group(1)}"
    return text.splitlines()[0][:300] if text else type(exc).__name__


def _hint(reason: str) -> str:
    if "DuckDB" in reason:
        return (
            "Close BI tools and notebooks that hold the warehouse file (they should read the "
            "published BI copy), or wait for the other run to finish."
        )
    return (
        f"Check that the server is running and accepting connections, and that {URL_SETTING} "
        "names the right host and port."
    )


def waiting_message(
    reason: str, exc: BaseException, target: str, attempt: int, attempts: int, wait: float
) -> str:
    """The log line of a retry: what the step waits for, which attempt failed, when the next.

    ``attempt`` counts from 1; ``attempts`` is the first attempt plus the retries.
    """
    seconds = f"{wait:.1f}" if wait < 10 else f"{wait:.0f}"
    hint = f" {_hint(reason)}" if attempt == 1 else ""
    return (
        f"{WAITING}{target}: {reason} ({_first_line(exc)}). Attempt {attempt} of {attempts} "
        f"failed; next try in {seconds} s.{hint}"
    )


def gave_up_message(reason: str, exc: BaseException, target: str, attempts: int) -> str:
    """The failure paragraph once the retries are spent."""
    tries = f"after {attempts} attempts" if attempts > 1 else "(retries are off)"
    return (
        f"Gave up on {target} {tries}: {reason} ({_first_line(exc)}). {_hint(reason)} Then run "
        "the same command again: the failed step left the warehouse as it was."
    )


def config_failure(problem_text: str) -> dg.Failure:
    return dg.Failure(
        description=problem_text, allow_retries=False, metadata={ERROR_KIND: "configuration"}
    )


@contextmanager
def warehouse_errors(
    context: dg.OpExecutionContext | None = None, url: object = None
) -> Iterator[None]:
    """Classify an error raised inside the block and act on it:

    - a configuration mistake: a Failure naming the setting, not retried;
    - a transient error: a WARNING saying what the step waits for, then a ``RetryRequested``
      with the step policy's delay (re-raised as it is outside a step); once the policy's
      retries are spent, a Failure saying what to do;
    - anything else: a Failure that bypasses the policy.

    ``url`` is the warehouse's URL (named in messages, password hidden). Meant for
    ``WarehouseResource.open()``; with no context given, the current step's context is used.
    """
    try:
        yield
    except (dg.Failure, dg.RetryRequested):
        raise
    except Exception as exc:
        problem = permanent_problem(exc, url)
        if problem is not None:
            raise config_failure(problem.paragraph()) from exc
        reason = transient_reason(exc)
        if reason is None:
            raise dg.Failure(
                description=f"Warehouse step failed (not retried: not a transient error): "
                f"{type(exc).__name__}: {exc}",
                allow_retries=False,
            ) from exc
        ctx = context or _current_context()
        if ctx is None:
            raise
        target = describe_target(url) if url is not None else "the warehouse"
        policy = _step_retry_policy(ctx)
        retries = policy.max_retries if policy else 0
        attempt = ctx.retry_number + 1
        if attempt > retries:
            raise dg.Failure(
                description=gave_up_message(reason, exc, target, attempt),
                allow_retries=False,
                metadata={ERROR_KIND: "transient"},
            ) from exc
        wait = max(0.0, float(policy.calculate_delay(attempt)))
        ctx.log.warning(waiting_message(reason, exc, target, attempt, retries + 1, wait))
        raise dg.RetryRequested(max_retries=retries, seconds_to_wait=wait) from exc


def _step_retry_policy(ctx: dg.OpExecutionContext) -> dg.RetryPolicy | None:
    """The retry policy Dagster applies to the current step (the op's, else the job's).

    Read from the step context (not public API), so that the wait announced is the wait the
    policy gives and a job's own policy (tests lower it) is honoured.
    """
    op_ctx = getattr(ctx, "op_execution_context", ctx)
    step = getattr(op_ctx, "_step_execution_context", None)
    return getattr(step, "op_retry_policy", None) if step is not None else WAREHOUSE_RETRY_POLICY


def _current_context() -> dg.OpExecutionContext | None:
    try:
        return dg.OpExecutionContext.get()
    except Exception:
        return None
