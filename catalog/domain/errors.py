"""What a domain operation can refuse; the web maps each to an HTTP status in one place."""

from __future__ import annotations


class RegistryError(Exception):
    """A registry operation the caller asked for cannot be done (maps to HTTP 4xx)."""


class InvalidName(RegistryError):
    """A model or alias name the catalog does not accept."""


class InvalidModel(RegistryError):
    """The model failed validation; nothing was stored."""


class ModelTooLarge(InvalidModel):
    """The model is over a size limit (nodes); refused before validation (HTTP 413)."""

    status = 413


class ModelNotFound(RegistryError):
    """No such model, version or alias."""


class AliasInUse(RegistryError):
    """A version cannot be deleted while an alias points at it (unless forced)."""
