"""The one error this package raises on purpose."""

from __future__ import annotations


class DocumentError(ValueError):
    """A document (or model) that cannot be converted; the message names the field path."""
