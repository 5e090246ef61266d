#!/usr/bin/env bash
# Creates Apache Superset's own virtual environment (not a dependency of the pipeline).
#   bi/superset/setup.sh            # -> ~/.cache/outcome_pipeline/superset-venv
#   SUPERSET_VENV=/path bi/superset/setup.sh
# Idempotent: an existing venv with the pinned Superset is left as it is.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SUPERSET_VENV:-$HOME/.cache/outcome_pipeline/superset-venv}"
# Superset 5.0 supports Python 3.10-3.12.
python="${SUPERSET_PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.11 python3.12 python3.10 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python="$(command -v "$candidate")"; break; fi
  done
fi
want="$(sed -n 's/^apache-superset==//p' "$here/requirements.txt")"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "
import importlib.metadata as m, sys
sys.exit(m.version('apache-superset') != '$want')" 2>/dev/null \
  && [ -s "$venv/outcome-metadata-template.db" ]; then
  echo "superset venv ready: $venv (apache-superset $want)"
  exit 0
fi
echo "creating $venv with $python"
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
constraints=()
if [ -s "$here/constraints.txt" ]; then constraints=(-c "$here/constraints.txt"); fi
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" "${constraints[@]}"
"$venv/bin/python" -c "import superset, duckdb_engine, psycopg2"
# A migrated, initialised metadata database to copy: migrating one takes ~30 s, a copy none.
tmp="$(mktemp -d)"
OUTCOME_SUPERSET_HOME="$tmp" SUPERSET_CONFIG_PATH="$here/superset_config.py" FLASK_APP=superset \
  "$venv/bin/superset" db upgrade >"$tmp/upgrade.log" 2>&1 || { cat "$tmp/upgrade.log"; exit 1; }
OUTCOME_SUPERSET_HOME="$tmp" SUPERSET_CONFIG_PATH="$here/superset_config.py" FLASK_APP=superset \
  "$venv/bin/superset" init >"$tmp/init.log" 2>&1 || { cat "$tmp/init.log"; exit 1; }
mv "$tmp/superset.db" "$venv/outcome-metadata-template.db"
rm -rf "$tmp"
echo "superset venv ready: $venv (apache-superset $want)"
