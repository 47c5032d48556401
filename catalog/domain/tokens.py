"""API tokens: created once for a user, stored as a SHA-256 digest, sent as a bearer token.

``create_token(username)`` returns the token text; it is shown once and never stored.
A request proves it holds a token with ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone

from catalog.domain.models import APIToken

# Every token starts with this, so a leaked one is easy to recognise (and to grep for).
TOKEN_PREFIX = "mct_"
# Random bytes in a token (256 bits), encoded as URL-safe base64.
TOKEN_BYTES = 32
# How many leading characters are kept in clear to tell tokens apart.
SHOWN_CHARS = 12


class TokenError(Exception):
    """A token cannot be created (unknown or inactive user)."""


def digest(token: str) -> str:
    """Return the SHA-256 hex digest under which a token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(username: str, name: str = "") -> str:
    """Create a token for ``username`` and return its text (the only time it is visible)."""
    User = get_user_model()
    try:
        user = User.objects.get(**{User.USERNAME_FIELD: username})
    except User.DoesNotExist:
        raise TokenError(f"no user named {username!r}") from None
    if not user.is_active:
        raise TokenError(f"user {username!r} is inactive")
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    APIToken.objects.create(user=user, name=name, prefix=token[:SHOWN_CHARS], digest=digest(token))
    return token


def revoke_tokens(username: str) -> int:
    """Delete every token of ``username``; return how many there were."""
    User = get_user_model()
    deleted, _ = APIToken.objects.filter(**{f"user__{User.USERNAME_FIELD}": username}).delete()
    return deleted


def bearer_token(request: HttpRequest) -> str | None:
    """Return the token of an ``Authorization: Bearer`` header, or None without one."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def user_for_token(token: str) -> AbstractBaseUser | None:
    """Return the active user a token belongs to, or None for an unknown token."""
    row = APIToken.objects.select_related("user").filter(digest=digest(token)).first()
    if row is None or not row.user.is_active:
        return None
    # Record use at most once a minute: a busy client should not write on every request.
    now = timezone.now()
    if row.last_used is None or (now - row.last_used).total_seconds() > 60:
        APIToken.objects.filter(pk=row.pk).update(last_used=now)
    return row.user
