"""``catalog index create|list|drop|check``: an administrator's indexes, on either store."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, OutputWrapper

from catalog.domain import indexing
from catalog.domain.keys import COLLECTIONS
from catalog.domain.registry import Registry


def add_arguments(sub: Any) -> None:
    """Add the ``index`` subcommand to the catalog command's subparsers."""
    p = sub.add_parser("index", help="create, list, drop or check SQL++ indexes")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = actions.add_parser("create", help='create an index: "CREATE INDEX name ON models(...)"')
    c.add_argument("statement", help="a CREATE INDEX statement in Couchbase's syntax")
    actions.add_parser("list", help="list the indexes with their state and entries")
    d = actions.add_parser("drop", help="drop an index")
    d.add_argument("name")
    d.add_argument("--on", default="models", choices=COLLECTIONS, help="its collection")
    actions.add_parser("check", help="compare every index with its documents (exit 1 if not)")


def run(reg: Registry, opts: dict[str, Any], out: OutputWrapper) -> None:
    """Carry out ``catalog index ACTION``."""
    action = opts["action"]
    if action == "create":
        statement = opts["statement"].strip()
        if not statement.upper().startswith("CREATE"):
            raise CommandError('give a CREATE INDEX statement, e.g. "CREATE INDEX ix ON models(x)"')
        out.write(indexing.create_index(reg, statement, progress=out.write))
    elif action == "drop":
        out.write(indexing.drop_index(reg, opts["name"], opts["on"]))
    elif action == "list":
        rows = indexing.list_indexes(reg)
        if not rows:
            out.write("no indexes (run `catalog init`)")
        for r in rows:
            entries = f"  {r['entries']} entries" if "entries" in r else ""
            out.write(f"{r['keyspace']}  {r['name']}  {r['state']}{entries}\n    {r['statement']}")
    else:
        problems = indexing.check_indexes(reg)
        for line in problems:
            out.write(line)
        if problems:
            raise CommandError(f"{len(problems)} index problem(s)")
        out.write("every index matches its documents")
