"""Django models of the web app: API tokens (users and sessions are Django's own)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class APIToken(models.Model):
    """A bearer token for API writes; only its SHA-256 digest is stored."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="catalog_tokens"
    )
    name = models.CharField(max_length=100, blank=True)
    # The first characters of the token, so people can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        # has_perm("catalog.publish"): publish versions, move aliases, delete versions.
        permissions = [("publish", "Can publish models, move aliases and delete versions")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
