"""The warehouse's two settings, checked without connecting: a mistake is a ConfigError."""

from __future__ import annotations

import sqlalchemy as sa

from outcome_pipeline.errors import SCHEMA_SETTING, URL_SETTING, ConfigError, Problem, redact_url
from outcome_pipeline.warehouse.tables import check_identifier

_URL_FORMS = (
    "Use duckdb:///path/to/warehouse.duckdb or postgresql://user:password@host:5432/database."
)


def warehouse_url(url: str | sa.URL) -> sa.URL:
    """The SQLAlchemy URL of a warehouse, checked without connecting: it parses, names DuckDB or
    PostgreSQL, and its driver is installed. Anything else is a :class:`ConfigError`."""
    try:
        u = sa.make_url(url)
        u.port  # noqa: B018 - a non-numeric port fails only when read
    except Exception:
        raise ConfigError(
            Problem(
                f"The warehouse URL {redact_url(url)!r} does not parse", URL_SETTING, _URL_FORMS
            )
        ) from None
    dialect = u.get_backend_name()
    if dialect not in ("duckdb", "postgresql"):
        raise ConfigError(
            Problem(
                f"The warehouse URL names {dialect!r}, which this pipeline does not support",
                URL_SETTING,
                _URL_FORMS,
            )
        )
    if dialect == "postgresql" and u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    try:
        u.get_dialect().import_dbapi()
    except Exception:
        raise ConfigError(
            Problem(
                f"The warehouse URL's driver {u.drivername!r} is not installed",
                URL_SETTING,
                "Use postgresql:// (psycopg 3, installed with the project) or duckdb:///.",
            )
        ) from None
    return u


def warehouse_schema(schema: str) -> str:
    """``schema`` if it is a plain identifier (it is quoted into DDL), else a ConfigError."""
    try:
        return check_identifier(schema)
    except ValueError:
        raise ConfigError(
            Problem(
                f"The warehouse schema {schema!r} is not a plain SQL name",
                SCHEMA_SETTING,
                "Use lower-case letters, digits and underscores, starting with a letter or "
                "underscore (the default is outcome).",
            )
        ) from None
