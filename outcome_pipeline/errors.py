"""Errors a person can act on: what went wrong, which setting or file, what to do.

A :class:`ConfigError` is permanent: the same settings fail the same way on every attempt, so
it is never retried; the command line prints each :class:`Problem` as one paragraph and exits 2.
:func:`permanent_problem` recognises the driver errors that are configuration mistakes in
disguise (a wrong password, a database or host that does not exist, a DuckDB file that cannot
be created); :mod:`outcome_pipeline.defs.automation.retries` decides on everything else.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from dataclasses import dataclass

URL_SETTING = "OUTCOME_WAREHOUSE_URL"
SCHEMA_SETTING = "OUTCOME_WAREHOUSE_SCHEMA"


@dataclass(frozen=True)
class Problem:
    """One mistake: ``what`` happened, ``where`` (a setting, option or file), what to ``do``."""

    what: str
    where: str
    do: str

    def paragraph(self) -> str:
        where = "" if self.where in self.what else f" ({self.where})"
        return f"{self.what}{where}. {self.do}"


class ConfigError(ValueError):
    """Settings or options that cannot work; never retried. Holds one or more problems."""

    def __init__(self, *problems: Problem) -> None:
        self.problems = problems
        super().__init__("\n\n".join(p.paragraph() for p in problems))


def redact_url(url: object) -> str:
    """A URL safe to print: any password replaced by ``***`` (also in URLs that do not parse)."""
    return re.sub(r"(://[^:/@\s]*:)[^@/\s]*@", r"\1***@", str(url))


def describe_target(url: object) -> str:
    """Which warehouse, in words: ``the DuckDB file <path>`` or ``PostgreSQL at host:port/db``."""
    import sqlalchemy as sa

    try:
        u = sa.make_url(str(url))
    except Exception:
        return f"the warehouse {redact_url(url)}"
    if u.get_backend_name() == "duckdb":
        return f"the DuckDB file {u.database or ':memory:'}"
    return f"PostgreSQL at {u.host or 'localhost'}:{u.port or 5432}/{u.database or ''}"


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
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


# (pattern in the driver's message, what it means, what to do). Connection-phase errors of
# psycopg carry no SQLSTATE, so the server's FATAL message is what there is to go on.
_PERMANENT = (
    (
        r'database "([^"]+)" does not exist',
        "the database {0!r} does not exist on {target}",
        "Create it (CREATE DATABASE) or correct the database name in the URL.",
    ),
    (
        r'role "([^"]+)" does not exist',
        "the user {0!r} does not exist on {target}",
        "Correct the user name in the URL, or create the role on the server.",
    ),
    (
        r"password authentication failed|no pg_hba\.conf entry|authentication failed",
        "{target} refused the login",
        "Check the user and password in the URL (and the server's pg_hba.conf).",
    ),
    (
        r"failed to resolve host|could not translate host name|name or service not known",
        "the host of {target} is unknown",
        "Correct the host name in the URL.",
    ),
    (
        r'cannot open file "[^"]*": permission denied',
        "{target} cannot be opened: permission denied",
        "Give this user access to it, or point the URL somewhere it may write.",
    ),
    (
        r'cannot open file "[^"]*": no such file or directory|not a directory',
        "{target} cannot be created: its folder cannot be made",
        "Point the URL at a file in a folder this user can create and write.",
    ),
    (
        r"not a valid duckdb database file|the file is not a valid",
        "{target} is not a DuckDB database file",
        "Point the URL at the warehouse file (or a new path), not another kind of file.",
    ),
)
_PERMANENT_SQLSTATES = {
    "28000": ("{target} refused the login", _PERMANENT[2][2]),
    "28P01": ("{target} refused the login", _PERMANENT[2][2]),
    "3D000": ("the database does not exist on {target}", _PERMANENT[0][2]),
    "42501": (
        "the warehouse user lacks a privilege on {target}",
        "Grant the user CREATE and USAGE on the schema (or the database), or use another user.",
    ),
}


_FILE_ERRNOS = {
    errno.EACCES,
    errno.EPERM,
    errno.EROFS,
    errno.ENOENT,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
}


def _sentence(text: str) -> str:
    return text[0].upper() + text[1:]


def permanent_problem(exc: BaseException, url: object) -> Problem | None:
    """The configuration mistake behind ``exc`` when it is one, else None.

    ``url`` is the warehouse URL the failing code used (named in the message, password hidden).
    """
    target = describe_target(url) if url is not None else "the warehouse"
    for e in exception_chain(exc):
        if isinstance(e, ConfigError):
            return e.problems[0]
        state = getattr(e, "sqlstate", None) or getattr(e, "pgcode", None)
        if isinstance(state, str) and state in _PERMANENT_SQLSTATES:
            what, do = _PERMANENT_SQLSTATES[state]
            return Problem(_sentence(what.format(target=target)), URL_SETTING, do)
        if isinstance(e, OSError) and e.filename and e.errno in _FILE_ERRNOS:
            return Problem(
                f"The file or folder {e.filename} cannot be used: {e.strerror}",
                str(e.filename),
                "Fix its permissions or path (a warehouse path is set by "
                f"{URL_SETTING}), then run again.",
            )
        text = str(e)
        for pattern, what, do in _PERMANENT:
            m = re.search(pattern, text, re.IGNORECASE)
            if m:
                return Problem(_sentence(what.format(*m.groups(), target=target)), URL_SETTING, do)
    return None
