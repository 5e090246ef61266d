"""Serve the Data Docs folder over HTTP on the loopback, and the links that point there.

Browsers refuse ``file://`` links from a web page (the Dagster UI), so a materialization links
its Data Docs by an ``http://`` URL under ``OUTCOME_DATA_DOCS_URL``, and
``outcome-pipeline data-docs`` serves the folder there with the standard library's static
file server. It binds 127.0.0.1 by default: the pages are static and value-free, but a
validation summary is still nobody else's business.
"""

from __future__ import annotations

import functools
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

DEFAULT_PORT = 8765
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def docs_url(base: str, table: str) -> str:
    """The URL of ``table``'s Data Docs index under the served folder's ``base`` URL."""
    return f"{base.rstrip('/')}/{table}/index.html"


def port_of(base: str) -> int:
    """The port ``base`` names, so the server listens where the links point."""
    parts = urlsplit(base)
    return parts.port or (443 if parts.scheme == "https" else 80)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """One line per request is noise for a person reading a static site."""


def make_server(folder: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server of ``folder``'s files (not yet serving: call ``serve_forever``)."""
    handler = functools.partial(_QuietHandler, directory=str(Path(folder).resolve()))
    return ThreadingHTTPServer((host, port), handler)
