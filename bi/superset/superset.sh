#!/usr/bin/env bash
# Runs Superset (or its Python) from its own venv with this folder's configuration.
#   bi/superset/superset.sh run -p 8088                      # the web UI
#   bi/superset/superset.sh fab create-admin                 # a login
#   bi/superset/superset.sh python bi/superset/import_bundle.py duckdb data/warehouse_bi.duckdb
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SUPERSET_VENV:-$HOME/.cache/outcome_pipeline/superset-venv}"
if [ ! -x "$venv/bin/superset" ]; then
  echo "no Superset venv at $venv: run bi/superset/setup.sh first" >&2
  exit 1
fi
export SUPERSET_CONFIG_PATH="$here/superset_config.py" FLASK_APP=superset
# The metadata database first (a copy of setup.sh's migrated template), whatever the command.
"$venv/bin/python" -c "import sys; sys.path.insert(0, sys.argv[1]); import import_bundle as i; \
i.ensure_metadata(i.metadata_database())" "$here"
if [ "${1:-}" = python ]; then
  shift
  exec "$venv/bin/python" "$@"
fi
exec "$venv/bin/superset" "$@"
