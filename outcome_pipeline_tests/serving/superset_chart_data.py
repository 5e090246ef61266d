"""Import both bundles into a fresh Superset and run every chart's data query through its API.

For test_superset_bundle.py beside it; runs inside Superset's venv (never imported by the
pipeline's) with SUPERSET_CONFIG_PATH=bi/superset/superset_config.py and OUTCOME_SUPERSET_HOME a new
folder. Prints one JSON document: per backend, per chart key, the column names and rows
Superset's ``GET /api/v1/chart/<id>/data/`` returned, and the charts of each dashboard.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

# bi/superset/import_bundle.py: the import a user runs, not a copy of it.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bi" / "superset"))
from import_bundle import (
    BUNDLES,
    bundle_contents,
    ensure_metadata,
    import_contents,
    metadata_database,
)

USER, PASSWORD = "outcome_test_admin", "not-a-secret-test-only"


def chart_keys(backend: str) -> dict[str, str]:
    """{chart uuid: chart key (its file name)} of a bundle."""
    return {
        yaml.safe_load(p.read_text())["uuid"]: p.stem
        for p in sorted((BUNDLES / backend / "charts").glob("*.yaml"))
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", action="append", nargs=2, metavar=("BACKEND", "URI"))
    parser.add_argument("--schema", help="the warehouse schema")
    args = parser.parse_args()
    ensure_metadata(metadata_database())
    from superset.app import create_app

    app = create_app()
    ids: dict = {}
    with app.app_context():
        from superset import db, security_manager
        from superset.models.dashboard import Dashboard
        from superset.models.slice import Slice

        if not security_manager.find_user(username=USER):
            security_manager.add_user(
                USER,
                "Outcome",
                "Test",
                "test@example.invalid",
                security_manager.find_role("Admin"),
                password=PASSWORD,
            )
            db.session.commit()
        for i, (backend, uri) in enumerate(args.target):
            if i == 0:
                # First with the default schema (datasets on tables that do not exist
                # there), then as a user imports it again with the real one: the second
                # import must update the datasets and charts, or no chart query below reaches
                # the data. (Superset connects to the database while importing it.) Once is
                # enough to show it: an import costs ~2 s of CPU.
                import_contents(bundle_contents(backend, uri, None), USER)
            import_contents(bundle_contents(backend, uri, args.schema), USER)
        db.session.commit()
        for backend, _ in args.target:
            keys = chart_keys(backend)
            slices = db.session.query(Slice).filter(Slice.uuid.in_(list(keys))).all()
            ids[backend] = {
                "charts": {keys[str(c.uuid)]: c.id for c in slices},
                "dashboards": {
                    d.dashboard_title: d.id
                    for d in db.session.query(Dashboard).all()
                    if any(str(c.uuid) in keys for c in d.slices)
                },
            }
    # Requests outside the import's app context: each pushes its own, as in a real server.
    client = app.test_client()
    login = client.post(
        "/api/v1/security/login",
        json={"username": USER, "password": PASSWORD, "provider": "db", "refresh": False},
    )
    assert login.status_code == 200, login.data
    headers = {"Authorization": f"Bearer {login.json['access_token']}"}
    out: dict = {}
    for backend, found in ids.items():
        charts = {}
        for key, chart_id in found["charts"].items():
            r = client.get(f"/api/v1/chart/{chart_id}/data/?format=json&type=full", headers=headers)
            body = r.get_json()
            if r.status_code != 200:
                charts[key] = {"status": r.status_code, "error": body}
                continue
            result = body["result"][0]
            charts[key] = {
                "status": r.status_code,
                "colnames": result["colnames"],
                "data": result["data"],
                "query": result.get("query"),
            }
        dashboards = {}
        for title, dashboard_id in found["dashboards"].items():
            r = client.get(f"/api/v1/dashboard/{dashboard_id}/charts", headers=headers)
            body = r.get_json()
            dashboards[title] = (
                sorted(c["slice_name"] for c in body["result"])
                if r.status_code == 200
                else {"status": r.status_code, "error": body}
            )
        out[backend] = {"charts": charts, "dashboards": dashboards}
    print(json.dumps(out, default=str))


if __name__ == "__main__":
    main()
