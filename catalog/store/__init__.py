"""Document stores: one protocol (base.py), an embedded and a Couchbase backend.

``open_store(url)`` chooses the backend by the URL's scheme; ``get_store()`` returns
the process-wide store named by the ``CATALOG_STORE`` setting.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings

from catalog.store.base import (
    Conflict,
    DocumentStore,
    InvalidArgument,
    Keyspace,
    NotFound,
    QueryError,
    QueryLimitExceeded,
    SearchError,
    StoreError,
    StoreUnavailable,
    ValueTooLarge,
)

__all__ = [
    "Conflict",
    "DocumentStore",
    "InvalidArgument",
    "Keyspace",
    "NotFound",
    "QueryError",
    "QueryLimitExceeded",
    "SearchError",
    "StoreError",
    "StoreUnavailable",
    "ValueTooLarge",
    "forget_store",
    "get_store",
    "open_store",
]


def _open_embedded(url: str) -> DocumentStore:
    from catalog.store.embedded import EmbeddedStore

    path = url.split("://", 1)[1]
    if not path:
        raise InvalidArgument("embedded:// URL needs a file path, e.g. embedded:///tmp/c.sqlite3")
    return EmbeddedStore(path)


def _open_couchbase(url: str) -> DocumentStore:
    from catalog.store.couchbase import CouchbaseStore

    return CouchbaseStore.from_url(url)


BACKENDS: dict[str, Callable[[str], DocumentStore]] = {
    "embedded": _open_embedded,
    "couchbase": _open_couchbase,
    "couchbases": _open_couchbase,
}


def open_store(url: str) -> DocumentStore:
    """Return a store for ``url`` (``embedded:///abs/path.sqlite3`` or ``couchbase://host``)."""
    scheme = urlsplit(url).scheme
    try:
        opener = BACKENDS[scheme]
    except KeyError:
        raise InvalidArgument(
            f"unknown store URL scheme {scheme!r}: use one of {', '.join(sorted(BACKENDS))}"
        ) from None
    return opener(url)


_lock = threading.Lock()
_stores: dict[str, DocumentStore] = {}


def get_store(url: str | None = None) -> DocumentStore:
    """Return the store at ``url`` (default: settings.CATALOG_STORE), opened once per process."""
    if url is None:
        url = settings.CATALOG_STORE
    store = _stores.get(url)  # every request asks: no lock once it is open
    if store is not None:
        return store
    with _lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = open_store(url)
        return store


def forget_store(url: str) -> None:
    """Close and drop the process's store for ``url`` (a test's catalog that is done)."""
    with _lock:
        store = _stores.pop(url, None)
    if store is not None:
        store.close()
