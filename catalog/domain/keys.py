"""Where a catalog's documents live: its collections, and the key of each version."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.domain import validation
from catalog.domain.errors import InvalidName
from catalog.store.base import MAX_KEY_BYTES
from catalog.store.indexes import COLLECTIONS

# Versions are appended as "::<version>"; keep room for 12 digits within the key limit.
MAX_NAME_BYTES = MAX_KEY_BYTES - 14


@dataclass(frozen=True)
class Collections:
    """The keyspaces of one catalog (bucket.scope.collection names)."""

    bucket: str = "ml"
    scope: str = "catalog"

    def __getattr__(self, name: str) -> str:
        if name in COLLECTIONS:
            value = f"{self.bucket}.{self.scope}.{name}"
            object.__setattr__(self, name, value)  # asked on every request: found next time
            return value
        raise AttributeError(name)

    @property
    def query_context(self) -> str:
        return f"{self.bucket}.{self.scope}"

    def all(self) -> list[str]:
        return [getattr(self, n) for n in COLLECTIONS]


@dataclass(frozen=True)
class VersionRef:
    """A published version: its name, number and document key."""

    name: str
    version: int

    @property
    def key(self) -> str:
        return version_key(self.name, self.version)


def version_key(name: str, version: int) -> str:
    """Return the document key of a model version."""
    return f"{name}::{version}"


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid model name, else raise InvalidName."""
    if not validation.is_model_name(name):
        raise InvalidName(
            f"invalid model name {name!r}: use letters, digits, '.', '_' and '-',"
            " starting with a letter or digit"
        )
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise InvalidName(f"model name is longer than {MAX_NAME_BYTES} bytes")
    return name


def check_alias(alias: str) -> str:
    """Return ``alias`` if it is a valid alias name, else raise InvalidName."""
    if not validation.is_alias_name(alias):
        raise InvalidName(
            f"invalid alias {alias!r}: a letter, then letters, digits, '_' or '-' (at most 64)"
        )
    return alias
