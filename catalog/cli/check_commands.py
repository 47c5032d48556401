"""``catalog check`` and the damaged-document side of ``catalog delete``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from catalog.domain import indexing, validation
from catalog.domain.registry import Registry


def _keyspaces(reg: Registry) -> dict[str, str]:
    return {"models": reg.ks.models, "aliases": reg.ks.aliases}


def check(reg: Registry, out: OutputWrapper) -> tuple[int, int]:
    """Write one line per damaged document and per index that differs from its documents;
    return (damaged documents, index problems)."""
    count = 0
    for keyspace, key, problem in validation.damaged_documents(reg.store, _keyspaces(reg)):
        out.write(f"{keyspace} {key!r}: {problem}")
        count += 1
    if not count:
        out.write("no damaged documents")
    problems = indexing.check_indexes(reg)
    for line in problems:
        out.write(line)
    if not problems:
        out.write("every index matches its documents")
    return count, len(problems)


def delete_damaged(reg: Registry, name: str, version: str) -> str:
    """Remove the damaged version document ``name::version``; return the removal line.

    Used when ``catalog delete`` gets a name or version a healthy document cannot have
    (``a/b``, ``1x``), or when the normal delete finds the document damaged.
    """
    key = f"{name}::{version}"
    try:
        problem = validation.remove_damaged(reg.store, reg.ks.models, "models", key)
    except LookupError as e:
        raise CommandError(str(e).strip("'\"")) from None
    return f"deleted damaged document {key!r} ({problem})"


def add_arguments(sub: Any) -> None:
    """Add the ``check`` subcommand to the catalog command's subparsers."""
    sub.add_parser(
        "check",
        help="list stored documents that break the schema and indexes that differ from"
        " their documents (exit status 1 if any)",
    )
