"""Export a catalog to JSON Lines and import it back, document for document."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from catalog.domain import validation
from catalog.store import DocumentStore

# Documents written per transaction on import.
IMPORT_BATCH = 200
# Bad lines named in the message of a refused import (the count names them all).
MAX_PROBLEMS_SHOWN = 20


class TransferError(ValueError):
    """A line of an export file is not a document record."""


def export_records(store: DocumentStore, keyspaces: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Yield one record per document: keyspace, key, and value (or base64 for binary)."""
    for keyspace in keyspaces:
        for key, value, _ in store.scan(keyspace):
            if isinstance(value, bytes):
                yield {
                    "keyspace": keyspace,
                    "key": key,
                    "binary": base64.b64encode(value).decode("ascii"),
                }
            else:
                yield {"keyspace": keyspace, "key": key, "value": value}


def write_jsonl(
    records: Iterable[dict[str, Any]], out: IO[str], tick: Callable[[], None] | None = None
) -> int:
    """Write records as JSON Lines; return how many."""
    n = 0
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
        n += 1
        if tick:
            tick()
    return n


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[str, str, Any]]:
    """Yield (keyspace, key, value) from export lines; raise TransferError on a bad line."""
    for number, line in enumerate(lines, 1):
        if line.strip():
            yield _record(number, line)


def _record(number: int, line: str) -> tuple[str, str, Any]:
    try:
        record = json.loads(line)
        keyspace, key = record["keyspace"], record["key"]
        if not isinstance(keyspace, str) or not isinstance(key, str):
            raise TypeError("keyspace and key must be strings")
        if "binary" in record:
            value = base64.b64decode(record["binary"], validate=True)
        else:
            value = record["value"]
    except RecursionError:
        raise TransferError(f"line {number}: JSON nested too deeply") from None
    except (ValueError, KeyError, TypeError) as e:
        raise TransferError(f"line {number}: not a document record ({e})") from None
    return keyspace, key, value


def check_jsonl(lines: Iterable[str], keyspaces: Iterable[str] | None = None) -> int:
    """Return how many records the lines hold; raise TransferError naming every bad line.

    Each record must parse, name one of ``keyspaces`` (when given), and follow the
    document schema of its collection (``validation.check_document``): an import checks
    the whole file with this before writing anything.
    """
    allowed = set(keyspaces) if keyspaces is not None else None
    problems: list[str] = []
    count = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        count += 1
        try:
            keyspace, key, value = _record(number, line)
            if allowed is not None and keyspace not in allowed:
                raise validation.DocumentInvalid(f"keyspace {keyspace!r} is not the catalog's")
            validation.check_document(keyspace.rsplit(".", 1)[-1], key, value)
        except TransferError as e:
            problems.append(str(e))
        except validation.DocumentInvalid as e:
            problems.append(f"line {number}: {keyspace} {key!r}: {e}")
    if problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        tail = f"\n... and {more} more" if more else ""
        raise TransferError(
            f"nothing imported: {len(problems)} bad record(s)\n" + "\n".join(shown) + tail
        )
    return count


def import_records(
    store: DocumentStore,
    items: Iterable[tuple[str, str, Any]],
    tick: Callable[[int], None] | None = None,
) -> int:
    """Upsert documents in batches per keyspace; return how many."""
    pending: dict[str, dict[str, Any]] = {}
    total = 0

    def flush(keyspace: str) -> None:
        store.upsert_many(keyspace, pending.pop(keyspace))

    for keyspace, key, value in items:
        pending.setdefault(keyspace, {})[key] = value
        total += 1
        if len(pending[keyspace]) >= IMPORT_BATCH:
            n = len(pending[keyspace])
            flush(keyspace)
            if tick:
                tick(n)
    for keyspace in list(pending):
        n = len(pending[keyspace])
        flush(keyspace)
        if tick:
            tick(n)
    return total
