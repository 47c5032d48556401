"""FTS5 tables of the latest versions only, next to the text tables of every version.

A search of the latest versions (the default) returns one document a model from an index of
every version. Its MATCH and its term frequencies read ``<text table>_latest``, which holds
the text of the latest version of each model (the same columns and tokenizer), so their cost
follows the models, not the versions: at 100,002 versions a word of nearly every model's name
matched 80,000 rows of the text table, against 1,000 here. What bleve counts over the whole
index still reads the text tables of every version: document frequencies, the index's total
and the terms a fuzzy, wildcard or regexp clause expands to.

A row of a latest table sits in a *slot* (its rowid), which ``fts_latest_slots`` gives to one
latest version. When a model's new version becomes its latest, it takes the slot of the
version it replaces, and the row is rewritten only if its text differs: a model republished
after each batch of data keeps its names and descriptions, so most publishes write nothing to
the latest tables (writing a row and removing one cost FTS5 two segments: about 0.45 ms a
publish). ``embedded.SearchHook`` calls ``sync`` in the write's own transaction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

from catalog.search.kept import has_table

SUFFIX = "_latest"
SLOTS = "fts_latest_slots"
_CREATE_SLOTS = f"CREATE TABLE {SLOTS} (doc INTEGER PRIMARY KEY, slot INTEGER NOT NULL UNIQUE)"

# {text table: its columns (c0, c1, ...)}
Tables = Mapping[str, Sequence[str]]


def table(text_table: str) -> str:
    """Return the name of a text table's copy that holds the latest versions only."""
    return text_table + SUFFIX


def instance(text_table: str) -> str:
    """Return the name of the fts5vocab ``instance`` table of a text table's latest copy."""
    return text_table + SUFFIX + "_instance"


def matching_sql(text_table: str) -> str:
    """Return the statement of the documents, among some latest versions (a JSON list), that
    match an FTS5 expression: arguments (expression, documents)."""
    name = table(text_table)
    return (
        f"SELECT m.doc FROM {SLOTS} m WHERE m.slot IN (SELECT rowid FROM {name} WHERE {name}"
        " MATCH ?) AND +m.doc IN (SELECT value FROM json_each(?))"
    )


def instances_sql(text_table: str, *, offsets: bool = False) -> str:
    """Return the statement of (document, column[, offset]) of each instance of a term among
    some latest versions (a JSON list): arguments (term, documents)."""
    what = "v.col, v.offset" if offsets else "v.col"
    return (
        f"SELECT m.doc, {what} FROM {instance(text_table)} v CROSS JOIN {SLOTS} m"
        " ON m.slot = v.doc WHERE v.term = ? AND +m.doc IN (SELECT value FROM json_each(?))"
    )


def add_missing(conn: sqlite3.Connection, tables: Mapping[str, tuple[Sequence[str], str]]) -> None:
    """Create the latest tables ({text table: (columns, tokenize option)}) where missing,
    filled with the rows of the documents flagged latest."""
    if not has_table(conn, SLOTS) or not all(has_table(conn, table(t)) for t in tables):
        for text_table in tables:  # none, or not all of them: made again whole
            conn.execute(f"DROP TABLE IF EXISTS {instance(text_table)}")
            conn.execute(f"DROP TABLE IF EXISTS {table(text_table)}")
        conn.execute(f"DROP TABLE IF EXISTS {SLOTS}")
        conn.execute(_CREATE_SLOTS)
        conn.execute(
            f"INSERT INTO {SLOTS} (doc, slot) SELECT id, id FROM fts_docs WHERE latest = 1"
        )
        for text_table, (cols, tokenizer) in tables.items():
            quoted = tokenizer.replace("'", "''")
            conn.execute(
                f"CREATE VIRTUAL TABLE {table(text_table)} USING fts5({', '.join(cols)},"
                f" tokenize='{quoted}', columnsize=0)"
            )
            names = ", ".join(cols)
            conn.execute(
                f"INSERT INTO {table(text_table)} (rowid, {names}) SELECT rowid, {names}"
                f" FROM {text_table} WHERE rowid IN (SELECT slot FROM {SLOTS})"
            )
    for text_table in tables:
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {instance(text_table)}"
            f" USING fts5vocab({table(text_table)}, 'instance')"
        )


def clear(conn: sqlite3.Connection, tables: Tables) -> None:
    """Empty the latest tables (the search index is being rebuilt)."""
    for text_table in tables:
        conn.execute(f"DELETE FROM {table(text_table)}")
    conn.execute(f"DELETE FROM {SLOTS}")


def sync(conn: sqlite3.Connection, tables: Tables, stale: list[int], fresh: list[int]) -> None:
    """Take ``stale`` documents (no longer latest, or gone) out of the latest tables and put
    ``fresh`` ones (newly latest, their rows already in the text tables) in, each into a slot
    a stale one frees where there is one."""
    free: list[int] = []
    if stale:
        rows = conn.execute(
            f"DELETE FROM {SLOTS} WHERE doc IN (SELECT value FROM json_each(?)) RETURNING slot",
            (json.dumps(stale),),
        ).fetchall()
        free = sorted((slot for (slot,) in rows), reverse=True)
    for doc in fresh:
        if free:
            slot = free.pop()
        else:  # a new slot, empty
            (slot,) = conn.execute(f"SELECT COALESCE(MAX(slot), 0) + 1 FROM {SLOTS}").fetchone()
        for text_table, cols in tables.items():
            _rewrite(conn, text_table, cols, slot, _row(conn, text_table, cols, doc))
        conn.execute(f"INSERT INTO {SLOTS} (doc, slot) VALUES (?, ?)", (doc, slot))
    for slot in free:
        for text_table in tables:
            conn.execute(f"DELETE FROM {table(text_table)} WHERE rowid = ?", (slot,))


def check(conn: sqlite3.Connection, tables: Tables) -> list[str]:
    """Return where the latest tables differ from the latest versions' rows in the text tables
    (which documents, and their text: compared in the FTS5 content tables)."""
    problems: list[str] = []
    flagged = "SELECT id FROM fts_docs WHERE latest = 1"
    for what, query in (
        ("latest versions without a slot", f"{flagged} EXCEPT SELECT doc FROM {SLOTS}"),
        ("slots of documents that are not latest", f"SELECT doc FROM {SLOTS} EXCEPT {flagged}"),
    ):
        (n,) = conn.execute(f"SELECT COUNT(*) FROM ({query})").fetchone()
        if n:
            problems.append(f"search index: {n} {what} in {SLOTS}")
    for text_table, cols in tables.items():
        name = table(text_table)
        values = ", ".join(f"c.{c}" for c in cols)
        ours = f"SELECT m.doc, {values} FROM {SLOTS} m JOIN {name}_content c ON c.id = m.slot"
        theirs = (
            f"SELECT c.id, {values} FROM {text_table}_content c"
            f" WHERE c.id IN (SELECT doc FROM {SLOTS})"
        )
        unused = f"SELECT id FROM {name}_content WHERE id NOT IN (SELECT slot FROM {SLOTS})"
        for what, query in (
            ("latest versions missing or unlike in", f"{theirs} EXCEPT {ours}"),
            ("rows unlike their document's in", f"{ours} EXCEPT {theirs}"),
            ("rows in no slot in", unused),
        ):
            (n,) = conn.execute(f"SELECT COUNT(*) FROM ({query})").fetchone()
            if n:
                problems.append(f"search index: {n} {what} {name}")
    return problems


def _row(
    conn: sqlite3.Connection, fts_table: str, cols: Sequence[str], rowid: int
) -> tuple[str, ...] | None:
    return conn.execute(
        f"SELECT {', '.join(cols)} FROM {fts_table} WHERE rowid = ?", (rowid,)
    ).fetchone()


def _rewrite(
    conn: sqlite3.Connection,
    text_table: str,
    cols: Sequence[str],
    slot: int,
    row: tuple[str, ...] | None,
) -> None:
    """Make a slot's row of a latest table hold ``row`` (None: no row), if it does not."""
    had = _row(conn, table(text_table), cols, slot)
    if had == row:
        return
    if had is not None:
        conn.execute(f"DELETE FROM {table(text_table)} WHERE rowid = ?", (slot,))
    if row is not None:
        conn.execute(
            f"INSERT INTO {table(text_table)} (rowid, {', '.join(cols)})"
            f" VALUES (?, {', '.join('?' * len(cols))})",
            (slot, *row),
        )
