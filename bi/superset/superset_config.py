"""Superset configuration for the outcome dashboard: metadata in SQLite, nothing else to run.

Loaded by Superset through SUPERSET_CONFIG_PATH (bi/superset/superset.sh sets it). The
metadata database (users, dashboards, saved connections) is a SQLite file under
OUTCOME_SUPERSET_HOME (default ~/.cache/outcome_pipeline/superset).
"""

import os
import secrets
from pathlib import Path

_home = Path(
    os.environ.get("OUTCOME_SUPERSET_HOME", "~/.cache/outcome_pipeline/superset")
).expanduser()
_home.mkdir(parents=True, exist_ok=True)

SQLALCHEMY_DATABASE_URI = f"sqlite:///{_home / 'superset.db'}"

# Superset refuses to start with its default key; one random key per metadata folder, kept so
# sessions and encrypted connection passwords survive a restart.
_key_file = _home / "secret_key"
if "SUPERSET_SECRET_KEY" in os.environ:
    SECRET_KEY = os.environ["SUPERSET_SECRET_KEY"]
else:
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(42))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()

# No Celery, no Redis: queries run in the web process, results are not cached.
CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
# Local use only; behind a proxy or for many users, see Superset's production docs.
TALISMAN_ENABLED = False
