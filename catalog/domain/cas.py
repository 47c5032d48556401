"""Read-modify-write with CAS, written once: every update of a shared document goes through here.

A writer reads a document and its CAS, computes the new value, and replaces it only if the
CAS still matches; when another writer got there first the store raises ``Conflict`` and the
whole attempt runs again on the fresh document. After ``CAS_RETRIES`` lost races the caller
gets a ``Conflict`` that says so (never a silent give-up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from catalog.store import Conflict, DocumentStore, NotFound

# How many times a CAS-protected update is retried before giving up.
CAS_RETRIES = 200

T = TypeVar("T")


class Retry(Conflict):
    """Raised inside an attempt to run it again (the state it read has moved on).

    Only this runs an attempt again: any other ``Conflict`` (an alias that no longer points
    where the caller expected) goes straight to the caller.
    """


def retry(attempt: Callable[[], T], what: str, retries: int = CAS_RETRIES) -> T:
    """Return ``attempt()``, running it again each time it raises ``Retry``.

    After ``retries`` lost races, raise ``Conflict`` naming what was contended.
    """
    for _ in range(retries):
        try:
            return attempt()
        except Retry:
            continue
    raise Conflict(f"too much contention on {what}; try again")


def write(
    store: DocumentStore, keyspace: str, key: str, value: Any, cas: int | None, **kw: Any
) -> int:
    """Insert (``cas`` None) or CAS-replace ``value``; a lost race raises ``Retry``."""
    try:
        if cas is None:
            return store.insert(keyspace, key, value, **kw)
        return store.replace(keyspace, key, value, cas=cas, **kw)
    except Conflict as e:
        raise Retry(str(e)) from None
    except NotFound as e:  # removed since it was read: read again
        raise Retry(str(e)) from None


def update(
    store: DocumentStore,
    keyspace: str,
    key: str,
    change: Callable[[Any], Any | None],
    *,
    initial: Callable[[], Any] | None = None,
    expiry: Callable[[Any], float | None] | None = None,
    retries: int = CAS_RETRIES,
    current: tuple[Any, int | None] | None = None,
) -> Any:
    """Apply ``change`` to the document ``key`` with CAS; return the value now stored.

    ``change(value)`` returns the new value, or None when nothing needs writing (then the
    current value is returned). A missing document is created from ``initial()`` (with an
    insert, which also conflicts with a concurrent creator); without ``initial`` NotFound
    propagates. ``expiry(value)`` gives the expiry to keep on a replace (a replace without
    one clears it, on Couchbase as on the embedded store).

    ``current``: (value, cas) the caller has just read (cas None: the document did not
    exist, value then from ``initial``), used by the first attempt instead of reading it
    again; a stale one only costs a lost race (the write's CAS or insert refuses it).
    """
    first: list[tuple[Any, int | None]] = [current] if current is not None else []

    def attempt() -> Any:
        if first:  # the first attempt only
            value, cas = first.pop()
        else:
            try:
                value, cas = store.get(keyspace, key)
            except NotFound:
                if initial is None:
                    raise
                value, cas = initial(), None
        new = change(value)
        if new is None:
            return value
        ttl = expiry(value) if expiry is not None and cas is not None else None
        write(store, keyspace, key, new, cas, expiry=ttl)
        return new

    return retry(attempt, f"{keyspace} {key!r}", retries)
