"""Serve Netron's web viewer from the ``netron`` package installed with pip.

Nothing of Netron is copied into this repository: the files are read from the package
folder. ``index.html`` is adjusted for an offline, self-hosted viewer: the version meta
becomes 0.0.0 (Netron sends telemetry only from "packaged" builds), the build date
becomes today (Netron refuses to run when its date is 180 days old) and a ``consent``
cookie is set (otherwise it asks ipinfo.io where the visitor is).
"""

from __future__ import annotations

import functools
import importlib.util
import mimetypes
import re
from datetime import UTC, datetime
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

# The files Netron's browser build loads: flat names with these extensions, nothing else.
_FILE = re.compile(r"^[A-Za-z0-9_.-]+\.(html|js|css|json|png|ico)$")
_TYPES = {".js": "text/javascript", ".json": "application/json", ".css": "text/css"}
# Seconds a browser may cache a viewer file (they change only with the pip package).
CACHE_SECONDS = 3600


@functools.cache
def netron_dir() -> Path | None:
    """Return the folder of the installed netron package, or None if it is not installed."""
    spec = importlib.util.find_spec("netron")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations)))
    return folder if (folder / "index.html").is_file() else None


def available() -> bool:
    """Return True if Netron's viewer can be served."""
    return netron_dir() is not None


def _index_html(folder: Path) -> str:
    html = (folder / "index.html").read_text(encoding="utf-8")
    html = re.sub(
        r'<meta name="version" content="[^"]*">', '<meta name="version" content="0.0.0">', html
    )
    today = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return re.sub(
        r'<meta name="date" content="[^"]*">', f'<meta name="date" content="{today}">', html
    )


@require_safe
@xframe_options_sameorigin
@cache_control(max_age=CACHE_SECONDS)
def serve(request: HttpRequest, path: str = "index.html") -> HttpResponse:
    """Return one file of Netron's viewer (index.html adjusted, see the module docstring)."""
    folder = netron_dir()
    if folder is None:
        raise Http404("Netron is not installed (pip install netron)")
    path = path or "index.html"
    if not _FILE.match(path) or not (folder / path).is_file():
        raise Http404(f"no Netron file {path!r}")
    if path == "index.html":
        response = HttpResponse(_index_html(folder), content_type="text/html; charset=utf-8")
        response.set_cookie(
            "consent", "1", max_age=365 * 24 * 3600, path="/netron/", samesite="Lax"
        )
        return response
    suffix = Path(path).suffix
    content_type = _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return FileResponse((folder / path).open("rb"), content_type=content_type)
