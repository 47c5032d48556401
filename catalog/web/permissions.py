"""Who may read and who may write.

Reads are public unless ``CATALOG_PUBLIC_READS`` is off; then they need a logged-in user
or an API token. Writes (publish, alias moves, delete) need a user who is staff or holds
the ``catalog.publish`` permission: through a session on pages (with Django's CSRF check)
or through ``Authorization: Bearer <token>`` on the API (no cookies, so no CSRF).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from catalog.domain import limits
from catalog.domain.tokens import bearer_token, user_for_token
from catalog.web.responses import error_response, wants_json

View = Callable[..., HttpResponse]
PUBLISH_PERMISSION = "catalog.publish"


def public_reads() -> bool:
    """Return True when anonymous visitors may read the catalog."""
    return limits.public_reads()


def can_write(user: Any) -> bool:
    """Return True if ``user`` may publish, move aliases and delete versions."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_staff or user.has_perm(PUBLISH_PERMISSION))


def _use_token(request: HttpRequest) -> HttpResponse | None:
    """Authenticate a bearer token if the request carries one; return an error if invalid."""
    token = bearer_token(request)
    if token is None:
        return None
    user = user_for_token(token)
    if user is None:
        response = error_response(request, 401, "Unknown or revoked API token.", force_json=True)
        response["WWW-Authenticate"] = 'Bearer realm="catalog", error="invalid_token"'
        return response
    request.user = user
    return None


def _login_needed(request: HttpRequest, message: str) -> HttpResponse:
    if wants_json(request) or request.method not in ("GET", "HEAD"):
        response = error_response(request, 401, message)
        response["WWW-Authenticate"] = 'Bearer realm="catalog"'
        return response
    return redirect_to_login(request.get_full_path())


def read_access(view: View) -> View:
    """Let the request through if reads are public, or it is logged in or holds a token."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        failed = _use_token(request)
        if failed is not None:
            return failed
        if not public_reads() and not request.user.is_authenticated:
            return _login_needed(request, "Log in or send an API token to read the catalog.")
        return view(request, *args, **kwargs)

    return wrapper


def write_access(view: View) -> View:
    """Require a logged-in user allowed to write (pages: session + CSRF middleware)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return _login_needed(request, "Log in to change the catalog.")
        if not can_write(request.user):
            return error_response(
                request, 403, "Your account may read the catalog but not change it."
            )
        return view(request, *args, **kwargs)

    return wrapper


def api_write(view: View) -> View:
    """Require a writer from a bearer token, or from a session that passes the CSRF check."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if bearer_token(request) is not None:
            failed = _use_token(request)
            if failed is not None:
                return failed
        elif request.user.is_authenticated:
            # Cookies ride along with cross-site requests: a session needs the CSRF token.
            rejected = CsrfViewMiddleware(lambda r: HttpResponse()).process_view(
                request, None, (), {}
            )
            if rejected is not None:
                return error_response(
                    request,
                    403,
                    "CSRF check failed: send the csrftoken or use an API token.",
                    force_json=True,
                )
        else:
            return _login_needed(request, "Send an API token (Authorization: Bearer ...).")
        if not can_write(request.user):
            return error_response(
                request,
                403,
                "This account may read the catalog but not change it.",
                force_json=True,
            )
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapper)
