"""Serving the warehouse to BI tools (pure: no Dagster).

- DuckDB (default): :func:`publish_duckdb_copy` publishes a checked read-only copy of the
  warehouse file by atomic rename, so BI never holds the file the pipeline writes.
- PostgreSQL: :func:`publish_postgres_bi` brings the schema ``<schema>_bi`` (the BI tables
  and views) up to date in one transaction per run, so readers never see two runs at once.
"""

from outcome_pipeline.serving.pg_publish import (
    PublishedSchema,
    bi_schema_name,
    publish_postgres_bi,
)
from outcome_pipeline.serving.publish import (
    PublishedCopy,
    default_copy_path,
    publish_duckdb_copy,
)
from outcome_pipeline.serving.views import bi_view_sql, create_bi_views, views_version
from outcome_pipeline.warehouse.warehouse import duckdb_file

__all__ = [
    "PublishedCopy",
    "PublishedSchema",
    "bi_schema_name",
    "bi_view_sql",
    "create_bi_views",
    "default_copy_path",
    "duckdb_file",
    "publish_duckdb_copy",
    "publish_postgres_bi",
    "views_version",
]
