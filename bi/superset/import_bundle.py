"""Import the outcome dashboard bundle into Superset, pointed at your warehouse.

Runs inside Superset's venv (bi/superset/superset.sh python ...), not the pipeline's:

    bi/superset/superset.sh python bi/superset/import_bundle.py duckdb data/warehouse_bi.duckdb
    bi/superset/superset.sh python bi/superset/import_bundle.py postgresql \\
        postgresql+psycopg2://bi_reader@db.example:5432/warehouse --schema outcome

The bundle (bundles/<backend>/, generated from the table definitions) names a placeholder
address; this script puts yours in, and the schema when the warehouse schema is not
``outcome``. Importing again updates the same database, datasets, charts and dashboard.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
BUNDLES = HERE / "bundles"


def sqlalchemy_uri(backend: str, target: str) -> str:
    """A DuckDB BI file path (opened read-only: it is published with mode 0444 and may be
    replaced under Superset at any time) or a PostgreSQL URL as given."""
    if backend == "duckdb" and not target.startswith("duckdb:"):
        return f"duckdb:///{Path(target).resolve()}?access_mode=read_only"
    return target


def bundle_contents(backend: str, uri: str | None, schema: str | None = None) -> dict[str, str]:
    """{path: YAML text} of the bundle with ``uri`` as its database (None: the bundle's
    placeholder) and, when given, the warehouse ``schema`` (the PostgreSQL datasets read
    ``<schema>_bi``)."""
    root = BUNDLES / backend
    if not root.is_dir():
        raise SystemExit(f"no bundle {root}")
    contents = {}
    for path in sorted(root.rglob("*.yaml")):
        name = str(path.relative_to(root))
        doc = yaml.safe_load(path.read_text())
        if name.startswith("databases/") and uri:
            doc["sqlalchemy_uri"] = uri
        if name.startswith("datasets/") and schema:
            old, doc["schema"] = (
                doc["schema"],
                f"{schema}_bi" if backend == "postgresql" else schema,
            )
            if doc.get("sql"):  # a virtual dataset names its schema in its SELECT
                doc["sql"] = doc["sql"].replace(f'"{old}".', f'"{doc["schema"]}".')
        contents[name] = yaml.safe_dump(doc, sort_keys=False)
    return contents


def ensure_metadata(database: Path) -> None:
    """Create Superset's SQLite metadata database when missing: from the template that
    setup.sh migrated once (seconds), else by running the migrations (a minute)."""
    if not database.exists():
        template = Path(sys.prefix) / "outcome-metadata-template.db"
        if template.exists():
            shutil.copyfile(template, database)
        else:
            superset = Path(sys.prefix) / "bin" / "superset"
            subprocess.run([str(superset), "db", "upgrade"], check=True)
            subprocess.run([str(superset), "init"], check=True)
    drop_stale_table_name_unique(database)


_STALE_UNIQUE = ", \n\tUNIQUE (table_name)"


def drop_stale_table_name_unique(database: Path) -> bool:
    """Let two databases hold a table of the same name (``daily_outcomes`` on PostgreSQL and
    in the DuckDB file): on SQLite, Superset's migrations leave the first schema's
    ``UNIQUE (table_name)`` on its ``tables`` (other metadata databases drop it), and importing
    the second bundle fails on it. SQLite cannot drop a constraint: the table is rebuilt
    (https://www.sqlite.org/lang_altertable.html#otheralter). Returns whether it was."""
    con = sqlite3.connect(database)
    try:
        (sql,) = con.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'tables'"
        ).fetchone()
        if _STALE_UNIQUE not in sql:
            return False
        con.execute("PRAGMA foreign_keys = OFF")
        with con:
            con.execute(
                sql.replace(_STALE_UNIQUE, "").replace(
                    'CREATE TABLE "tables"', "CREATE TABLE tables_new", 1
                )
            )
            con.execute("INSERT INTO tables_new SELECT * FROM tables")
            con.execute("DROP TABLE tables")
            con.execute("ALTER TABLE tables_new RENAME TO tables")
        return True
    finally:
        con.close()


def import_contents(contents: dict[str, str], username: str) -> None:
    """Import the bundle with Superset's own import commands, as ``username`` (the owner of
    what they create).

    One command per kind, each told to overwrite: Superset's dashboard import overwrites only
    the dashboard and keeps an existing database, dataset or chart of the same UUID as it was,
    so a second import would keep the old connection address and the old charts.
    """
    from flask import g
    from superset import security_manager
    from superset.commands.chart.importers.v1 import ImportChartsCommand
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.commands.database.importers.v1 import ImportDatabasesCommand
    from superset.commands.dataset.importers.v1 import ImportDatasetsCommand

    g.user = security_manager.find_user(username=username)
    if g.user is None:
        raise SystemExit(
            f"no Superset user {username!r}: create one first "
            "(bi/superset/superset.sh fab create-admin)"
        )
    steps = (
        (ImportDatabasesCommand, "Database", ("databases/",)),
        (ImportDatasetsCommand, "SqlaTable", ("databases/", "datasets/")),
        (ImportChartsCommand, "Slice", ("databases/", "datasets/", "charts/")),
        (
            ImportDashboardsCommand,
            "Dashboard",
            ("databases/", "datasets/", "charts/", "dashboards/"),
        ),
    )
    metadata = yaml.safe_load(contents["metadata.yaml"])
    for command, kind, prefixes in steps:
        part = {name: text for name, text in contents.items() if name.startswith(prefixes)}
        part["metadata.yaml"] = yaml.safe_dump({**metadata, "type": kind})
        command(part, overwrite=True).run()


def metadata_database() -> Path:
    """The SQLite file of superset_config.py (SUPERSET_CONFIG_PATH), read without starting
    Superset: it must exist before Superset opens it."""
    import importlib.util
    import os

    spec = importlib.util.spec_from_file_location("cfg", os.environ["SUPERSET_CONFIG_PATH"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    uri = module.SQLALCHEMY_DATABASE_URI
    if not uri.startswith("sqlite:///"):
        raise SystemExit(f"expected a SQLite metadata database, got {uri}")
    return Path(uri.removeprefix("sqlite:///"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("backend", choices=["postgresql", "duckdb"])
    parser.add_argument("target", help="the DuckDB BI file, or a PostgreSQL SQLAlchemy URL")
    parser.add_argument("--schema", help="the warehouse schema (default: outcome)")
    parser.add_argument("--username", default="admin", help="owner of the imported objects")
    args = parser.parse_args(argv)
    ensure_metadata(metadata_database())
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        uri = sqlalchemy_uri(args.backend, args.target)
        import_contents(bundle_contents(args.backend, uri, args.schema), args.username)
    print(f"imported the {args.backend} dashboard; open Superset and look for 'Customer outcomes'")


if __name__ == "__main__":
    main()
