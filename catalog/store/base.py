"""The document store protocol shared by the embedded and Couchbase backends.

A keyspace is ``bucket`` or ``bucket.scope.collection`` (a bare bucket means its
``_default._default`` collection), optionally prefixed by the ``default:`` namespace.
Values are JSON-able objects, or ``bytes`` for binary documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

# The search package owns its result types; the store protocol names them too.
from catalog.search.results import (  # noqa: F401
    FacetResult,
    SearchError,
    SearchHit,
    SearchLimitExceeded,
    SearchResult,
)

# Couchbase refuses keys longer than 250 bytes, and 246 in named collections
# (the collection id takes the rest); we apply the stricter limit everywhere.
MAX_KEY_BYTES = 246
# Couchbase's hard limit for one document value.
MAX_VALUE_BYTES = 20 * 1024 * 1024

_NAME = re.compile(r"^[A-Za-z0-9_%][A-Za-z0-9_%\-]{0,250}$")


class StoreError(Exception):
    """Base of every error a store raises on purpose."""


class NotFound(StoreError):
    """The document (or keyspace) does not exist."""


class Conflict(StoreError):
    """The document exists already (insert) or its CAS has changed (replace, remove)."""


class InvalidArgument(StoreError, ValueError):
    """A key, keyspace or value the store cannot accept."""


class ValueTooLarge(InvalidArgument):
    """A value over the 20 MB document limit."""


class QueryError(StoreError):
    """A SQL++ statement failed to parse, plan or run."""


class QueryLimitExceeded(QueryError):
    """A SQL++ statement went over its time limit or memory quota (``limit``: "time"|"memory")."""

    def __init__(self, message: str, limit: str) -> None:
        super().__init__(message)
        self.limit = limit


class StoreUnavailable(StoreError):
    """The store could not be reached or stayed busy past the time limit."""


@dataclass(frozen=True)
class Keyspace:
    """A parsed keyspace path."""

    bucket: str
    scope: str = "_default"
    collection: str = "_default"

    @classmethod
    def parse(cls, text: str) -> Keyspace:
        """Return the keyspace named by ``text`` (``b``, ``b.s.c``, with optional ``default:``)."""
        if not isinstance(text, str):
            raise InvalidArgument(f"keyspace must be a string, not {type(text).__name__}")
        body = text.split(":", 1)[1] if text.startswith("default:") else text
        parts = [p.strip("`") for p in body.split(".")]
        if len(parts) not in (1, 3) or not all(_NAME.match(p) for p in parts):
            raise InvalidArgument(
                f"invalid keyspace {text!r}: expected 'bucket' or 'bucket.scope.collection'"
            )
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.bucket}.{self.scope}.{self.collection}"


def check_key(key: str) -> str:
    """Return ``key`` if the store can hold it, else raise InvalidArgument."""
    if not isinstance(key, str) or not key:
        raise InvalidArgument("document key must be a non-empty string")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidArgument(f"document key is longer than {MAX_KEY_BYTES} bytes")
    return key


@runtime_checkable
class DocumentStore(Protocol):
    """What the catalog needs from a store (fixed names: see docs/design.md)."""

    url: str

    def change_token(self) -> Any | None:
        """A value that differs whenever a document may have changed since it was read
        (None: the store cannot tell cheaply, so callers must not remember reads)."""
        ...

    def get(self, keyspace: str, key: str) -> tuple[Any, int]: ...

    def get_many(self, keyspace: str, keys: list[str]) -> dict[str, tuple[Any, int]]: ...

    def exists(self, keyspace: str, key: str) -> bool: ...

    def insert(
        self, keyspace: str, key: str, value: Any, *, expiry: float | None = None
    ) -> int: ...

    def replace(
        self,
        keyspace: str,
        key: str,
        value: Any,
        *,
        cas: int | None = None,
        expiry: float | None = None,
    ) -> int: ...

    def upsert(
        self, keyspace: str, key: str, value: Any, *, expiry: float | None = None
    ) -> int: ...

    def upsert_many(self, keyspace: str, items: Mapping[str, Any]) -> None: ...

    def remove(self, keyspace: str, key: str, *, cas: int | None = None) -> None: ...

    def remove_many(self, keyspace: str, keys: list[str]) -> None: ...

    def scan(self, keyspace: str, prefix: str = "") -> Iterator[tuple[str, Any, int]]: ...

    def ensure_keyspace(self, keyspace: str) -> None: ...

    def keyspaces(self) -> list[str]: ...

    def query(
        self,
        statement: str,
        params: dict | list | None = None,
        query_context: str | None = None,
        *,
        read_only: bool = False,
        timeout: float | None = None,
        memory_mb: float | None = None,
    ) -> list[Any]:
        """Run a SQL++ statement; ``timeout`` in seconds, ``memory_mb`` the statement's memory
        quota (Couchbase's ``memory_quota``). Over either: QueryLimitExceeded."""
        ...

    def create_index(
        self,
        statement: str,
        query_context: str | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Create an index from a CREATE INDEX statement; ``progress(done, total)`` while it is
        built from the documents (embedded store)."""
        ...

    def drop_index(self, keyspace: str, name: str) -> None: ...

    def list_indexes(self) -> list[dict[str, Any]]: ...

    def has_index(self, keyspace: str, name: str) -> bool: ...

    def check_indexes(self) -> list[str]: ...

    def close(self) -> None: ...
