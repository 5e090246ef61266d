"""`outcome-pipeline data-docs`: serve the Data Docs folder where a browser can open it."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "data-docs",
        help="serve the Data Docs (the links in the Dagster UI) on http://127.0.0.1",
    )
    p.add_argument(
        "--port", type=int, default=None, help="default: the port of $OUTCOME_DATA_DOCS_URL"
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")


def serve(args: argparse.Namespace) -> int:
    from outcome_pipeline.settings import Settings
    from outcome_pipeline.validation.docs_server import make_server, port_of

    s = Settings.from_env()
    folder = Path(s.data_docs_dir)
    if not folder.is_dir():
        print(
            f"error: no Data Docs folder at {folder} (OUTCOME_DATA_DOCS_DIR). The staging "
            "assets write it when they run: run `outcome-pipeline run` or `demo` first, or "
            "set OUTCOME_DATA_DOCS_DIR to the folder they wrote."
        )
        return 1
    port = port_of(s.data_docs_url) if args.port is None else args.port
    try:
        server = make_server(folder, args.host, port)
    except OSError as e:
        print(
            f"error: cannot listen on {args.host}:{port} ({e.strerror or e}). Pick another "
            "port with --port, and set OUTCOME_DATA_DOCS_URL to match so the UI's links "
            "point there."
        )
        return 1
    host, bound = server.server_address[:2]
    root = f"http://{host}:{bound}"
    tables = sorted(p.parent.name for p in folder.glob("*/index.html"))
    print(f"serving the Data Docs in {folder.resolve()} at {root}/ (Ctrl-C to stop)", flush=True)
    for table in tables:
        print(f"  {root}/{table}/index.html", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
