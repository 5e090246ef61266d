"""Make a GX Data Docs site open offline: its CDN assets replaced by copies shipped with us.

GX's templates load Bootstrap, bootstrap-table, a date picker, jQuery, Popper and Font
Awesome from public CDNs (and Vega, a dark theme and a logo). A person reading the docs on a
closed network, or a browser refusing third-party requests, then sees an empty index: its
tables are filled by bootstrap-table's JavaScript. The files the pages need are shipped in
``docs_assets/`` (versions and licences in its ``SOURCES.md``); this module copies them into
the site's ``static/vendor/`` and rewrites every page to load them by a relative path, so the
site works served over HTTP (``outcome-pipeline data-docs``) or opened from disk. What the
pages do not need is removed, so no page asks the network for anything.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS = Path(__file__).with_name("docs_assets")
VENDOR = "static/vendor"

# The URLs in GX 1.x's templates -> the shipped copy (path under docs_assets/).
CDN_COPIES: dict[str, str] = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery-3.7.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "js/popper-1.12.9.min.js"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "js/bootstrap-4.3.1.min.js"
    ),
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "css/bootstrap-4.3.1.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "js/bootstrap-table-1.19.1.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "css/bootstrap-table-1.19.1.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": "js/bootstrap-table-filter-control-1.19.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": "css/bootstrap-table-filter-control-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": "css/bootstrap-table-filter-control-1.19.1.min.css",
    # bootstrap-table's filter-control extension calls the date picker when it initialises.
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/"
    "bootstrap-datepicker.min.js": "js/bootstrap-datepicker-1.9.0.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/"
    "bootstrap-datepicker.min.css": "css/bootstrap-datepicker-1.9.0.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "css/fontawesome-6.6.0-solid.min.css"
    ),
}

_SCRIPT = re.compile(r'<script\s+src="(https?://[^"]+)"[^>]*>\s*</script>')
_LINK = re.compile(r'<link\s[^>]*href="(https?://[^"]+)"[^>]*>')
_GX_IMAGE = re.compile(r'src="https://great-expectations-web-assets[^"/]*/([\w.-]+?)(?:\?[^"]*)?"')
_CSS_REMOTE_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)")


def rewrite_page(html: str, to_root: str) -> str:
    """``html`` with CDN assets pointing at the shipped copies and other remote loads removed.

    ``to_root`` is the relative path from the page's folder to the site's root ("" or
    "../../"). Plain links (``<a href>``) are left alone: they load nothing by themselves.
    """

    def local(url: str) -> str | None:
        copy = CDN_COPIES.get(url)
        return None if copy is None else f"{to_root}{VENDOR}/{copy}"

    def script(m: re.Match[str]) -> str:
        path = local(m.group(1))
        return "" if path is None else f'<script src="{path}"></script>'

    def link(m: re.Match[str]) -> str:
        path = local(m.group(1))
        return "" if path is None else f'<link rel="stylesheet" href="{path}">'

    html = _SCRIPT.sub(script, html)
    html = _LINK.sub(link, html)
    # GX ships its logo in static/images/ too; its templates link the S3 copy.
    html = _GX_IMAGE.sub(lambda m: f'src="{to_root}static/images/{m.group(1)}"', html)
    # The inline dark-theme style's logo lives on S3 only: no image rather than a request.
    return _CSS_REMOTE_URL.sub("none", html)


def make_offline(folder: Path) -> None:
    """Ship the assets into ``folder``'s site and rewrite its pages and stylesheets."""
    folder = Path(folder)
    vendor = folder / VENDOR
    if vendor.exists():
        shutil.rmtree(vendor)
    for sub in ("css", "js", "webfonts"):
        shutil.copytree(ASSETS / sub, vendor / sub)
    for page in folder.rglob("*.html"):
        to_root = os.path.relpath(folder, page.parent)
        prefix = "" if to_root == "." else to_root.replace(os.sep, "/") + "/"
        page.write_text(rewrite_page(page.read_text(), prefix))
    for sheet in (folder / "static" / "styles").glob("*.css"):
        sheet.write_text(_CSS_REMOTE_URL.sub("none", sheet.read_text()))
