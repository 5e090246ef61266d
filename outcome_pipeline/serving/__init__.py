"""Serving the warehouse to BI tools (pure: no Dagster).

- DuckDB (default): :func:`publish_duckdb_copy` publishes a checked read-only copy of the
  warehouse file by atomic rename, so BI never holds the file the pipeline writes.
- PostgreSQL: :func:`create_bi_views` keeps BI views in the warehouse schema; the tables
  under them are replaced one transaction per run, so readers never see half a partition.
"""

from outcome_pipeline.serving.publish import (
    PublishedCopy,
    default_copy_path,
    publish_duckdb_copy,
)
from outcome_pipeline.serving.views import bi_view_sql, create_bi_views, views_version
from outcome_pipeline.warehouse.warehouse import duckdb_file

__all__ = [
    "PublishedCopy",
    "bi_view_sql",
    "create_bi_views",
    "default_copy_path",
    "duckdb_file",
    "publish_duckdb_copy",
    "views_version",
]
