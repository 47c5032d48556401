"""Where a catalog's documents live: its collections, and the key of each version."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.store.indexes import COLLECTIONS


@dataclass(frozen=True)
class Collections:
    """The keyspaces of one catalog (bucket.scope.collection names)."""

    bucket: str = "ml"
    scope: str = "catalog"

    def __getattr__(self, name: str) -> str:
        if name in COLLECTIONS:
            return f"{self.bucket}.{self.scope}.{name}"
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
