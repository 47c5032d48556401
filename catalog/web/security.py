"""Security headers with a content security policy, and the production-settings check.

``SecurityHeadersMiddleware`` (after Django's SecurityMiddleware in MIDDLEWARE) gives
every response its Content-Security-Policy. The other headers come from Django's own
middleware with its defaults: SecurityMiddleware sends ``HEADERS`` (X-Content-Type-Options,
Referrer-Policy, Cross-Origin-Opener-Policy), XFrameOptionsMiddleware sends
X-Frame-Options: DENY (SAMEORIGIN for Netron's view, ``xframe_options_sameorigin``); the
infer fast path, which bypasses the middleware, sends the same values itself.
Pages load scripts, styles and images from this origin only;
the one relaxation is ``style-src-attr 'unsafe-inline'`` (style="" attributes, e.g. the
probability bars; no inline <style> or <script>). Netron's viewer under /netron/ keeps
script-src 'self' (it needs no eval: its own index.html declares the same policy) but has
an inline <style> block, exports images as data:/blob: URLs and runs a module worker,
so its policy adds exactly those, and only there; it may be framed by our own pages
(SAMEORIGIN), nothing else may be framed at all.

``check_production_settings()`` refuses DEBUG on, a missing or development secret key and
a wildcard ALLOWED_HOSTS. Call it from settings when CATALOG_PRODUCTION=1, and
``register_checks()`` from the app's ``ready()`` so ``manage.py check --deploy`` (and
every check run when CATALOG_PRODUCTION=1) reports the same problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

# Where Netron's viewer is served (catalog.shell.urls: "netron/").
NETRON_PREFIX = "/netron/"

_COMMON = [
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "connect-src 'self'",
    "font-src 'self'",
]
# The catalog's own pages: nothing inline but style attributes; frames only from here.
PAGE_CSP = "; ".join(
    [
        *_COMMON,
        "script-src 'self'",
        "style-src 'self'",
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "frame-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Netron's viewer: its inline <style>, data:/blob: images for export, a same-origin worker.
NETRON_CSP = "; ".join(
    [
        *_COMMON,
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "worker-src 'self'",
        "frame-src 'none'",
        "form-action 'none'",
        "frame-ancestors 'self'",
    ]
)
# What Django's SecurityMiddleware sends with its default settings (the fast path's copy).
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Add the content security policy to every response that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            netron = request.path.startswith(NETRON_PREFIX)
            response["Content-Security-Policy"] = NETRON_CSP if netron else PAGE_CSP
        return response


# -- production settings --------------------------------------------------------------------

# Markers of the development key settings.py falls back to while DEBUG is on.
DEV_KEY_MARKERS = ("dev-only", "insecure")
# Shortest secret key accepted in production, in characters (Django's own check: 50).
MIN_SECRET_KEY_CHARS = 32


def production_problems(values: Mapping[str, Any] | Any) -> list[str]:
    """Return what makes these settings unfit for production (empty when they are fine).

    ``values`` is a mapping (settings.py's ``globals()``) or a settings object.
    """

    def get(name: str) -> Any:
        if isinstance(values, Mapping):
            return values.get(name)
        return getattr(values, name, None)

    problems = []
    if get("DEBUG"):
        problems.append("DEBUG is on: set DEBUG=0")
    key = get("SECRET_KEY") or ""
    if not key:
        problems.append("SECRET_KEY is not set")
    elif any(marker in key for marker in DEV_KEY_MARKERS):
        problems.append("SECRET_KEY is the development key: set SECRET_KEY")
    elif len(key) < MIN_SECRET_KEY_CHARS:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_CHARS} characters")
    if "*" in (get("ALLOWED_HOSTS") or []):
        problems.append("ALLOWED_HOSTS contains '*': list the host names served")
    return problems


def check_production_settings(values: Mapping[str, Any] | Any = None) -> None:
    """Raise ImproperlyConfigured unless the settings are fit for production."""
    if values is None:
        from django.conf import settings

        values = settings
    problems = production_problems(values)
    if problems:
        raise ImproperlyConfigured("refusing to start in production: " + "; ".join(problems))


def production_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Django system check: one Error per production problem of the current settings."""
    from django.conf import settings

    return [
        checks.Error(problem, id=f"catalog.E{100 + i:03d}", obj="settings")
        for i, problem in enumerate(production_problems(settings))
    ]


def in_production() -> bool:
    """Return the CATALOG_PRODUCTION setting (settings.py reads it from the environment)."""
    from django.conf import settings

    return bool(settings.CATALOG_PRODUCTION)


def register_checks() -> None:
    """Register ``production_check``: with --deploy always, on every check in production."""
    checks.register(production_check, checks.Tags.security, deploy=not in_production())
