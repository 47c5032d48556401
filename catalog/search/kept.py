"""What the search index keeps besides its postings, in each write's own transaction, so that
a search reads a few rows where it would count postings that grow with the versions:

- ``fts_totals``: the documents of each scope (the document count of a score's idf; a COUNT
  over fts_docs took 0.4-2.4 ms at 100,000 versions);
- ``fts_keyword_df``: the documents holding each keyword value, over the whole index
  (bleve's document frequency; 25,000 postings of a tag at 100,000 versions: 1.2 ms);
- ``fts_keyword_holders``: the documents holding any value of each keyword field (what a
  facet of a search matching most of the index subtracts from: a COUNT took 7-10 ms a
  field at 100,000 versions);
- ``fts_keysets`` and ``fts_docs.keyset``: each distinct set of keyword values a document
  holds, and the set of each document (NULL: it holds none). Versions of a model mostly hold
  the same values, so facets count the matches of each keyset and expand a few keysets,
  instead of reading every value of every match. ``fts_keysets.docs`` counts the documents
  of each keyset, and ``fts_keyset_terms`` lists the keysets holding each value (written once,
  with the keyset): a search for one keyword value over every version (``one_value``) reads
  its keysets and their counts, not its postings.

A file written before one of them gains it when it is opened (``add_missing``), computed
from the postings; ``check`` says where they differ from the postings.
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections.abc import Iterable, Iterator

# Emptied with the postings when the index is rebuilt.
TABLES = (
    "fts_totals",
    "fts_keyword_df",
    "fts_keyword_holders",
    "fts_keysets",
    "fts_keyset_terms",
)
KEYSET_INDEX = "fts_docs_keyset"
# The latest versions of each keyset (a partial index: about one entry a model), read by a
# latest-versions search: the versions holding a keyword value (``keyset_terms`` then this)
# and the facets of a match of most latest versions.
LATEST_KEYSET_INDEX = "fts_docs_latest_keyset"

_TOTALS = "CREATE TABLE fts_totals (scope TEXT PRIMARY KEY, docs INTEGER NOT NULL) WITHOUT ROWID"
_COUNT_SCOPES = "SELECT scope, COUNT(*) FROM fts_docs GROUP BY scope"
_KEYWORD_DF = (
    "CREATE TABLE fts_keyword_df (field TEXT NOT NULL, term TEXT NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY (field, term)) WITHOUT ROWID"
)
_COUNT_KEYWORDS = "SELECT field, term, COUNT(*) FROM fts_terms GROUP BY field, term"
_HOLDERS = (
    "CREATE TABLE fts_keyword_holders (field TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID"
)
_COUNT_HOLDERS = "SELECT field, COUNT(DISTINCT doc) FROM fts_terms GROUP BY field"
_KEYSETS = (
    "CREATE TABLE fts_keysets (id INTEGER PRIMARY KEY, terms TEXT NOT NULL UNIQUE,"
    " docs INTEGER NOT NULL DEFAULT 0)"
)
_KEYSET_TERMS = (
    "CREATE TABLE fts_keyset_terms (field TEXT NOT NULL, term TEXT NOT NULL,"
    " keyset INTEGER NOT NULL, PRIMARY KEY (field, term, keyset)) WITHOUT ROWID"
)
_COUNT_KEYSET_DOCS = (
    "SELECT keyset, COUNT(*) FROM fts_docs INDEXED BY fts_docs_keyset"
    " WHERE keyset IS NOT NULL GROUP BY keyset"
)


def add_missing(conn: sqlite3.Connection) -> None:
    """Create what a file from before them lacks, computed from the postings."""
    _add_table(conn, "fts_keyword_df", _KEYWORD_DF, _COUNT_KEYWORDS)
    _add_table(conn, "fts_totals", _TOTALS, _COUNT_SCOPES)
    _add_table(conn, "fts_keyword_holders", _HOLDERS, _COUNT_HOLDERS)
    columns = {row[1] for row in conn.execute("PRAGMA table_info(fts_docs)")}
    recount = False
    if not has_table(conn, "fts_keyset_terms"):
        conn.execute(_KEYSET_TERMS)
        if has_table(conn, "fts_keysets"):
            for keyset, text in conn.execute("SELECT id, terms FROM fts_keysets").fetchall():
                _add_keyset_terms(conn, keyset, keyset_pairs(text))
    if "keyset" not in columns:
        conn.execute("DROP TABLE IF EXISTS fts_keysets")
        conn.execute("DELETE FROM fts_keyset_terms")
        conn.execute(_KEYSETS)
        conn.execute("ALTER TABLE fts_docs ADD COLUMN keyset INTEGER")
        conn.executemany(
            "UPDATE fts_docs SET keyset = ? WHERE id = ?",
            [(_keyset(conn, pairs), doc) for doc, pairs in _values_by_doc(conn)],
        )
        recount = True
    # the keysets of many documents, read without their rows (which hold the stored fields:
    # 1,000 documents at 100,000 versions 4.7 ms through the rows, 1.1 ms through this)
    conn.execute(f"CREATE INDEX IF NOT EXISTS {KEYSET_INDEX} ON fts_docs (id, keyset)")
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS {LATEST_KEYSET_INDEX} ON fts_docs (keyset) WHERE latest = 1"
    )
    if "docs" not in {row[1] for row in conn.execute("PRAGMA table_info(fts_keysets)")}:
        conn.execute("ALTER TABLE fts_keysets ADD COLUMN docs INTEGER NOT NULL DEFAULT 0")
        recount = True
    if recount:
        conn.execute("UPDATE fts_keysets SET docs = 0")
        conn.executemany(
            "UPDATE fts_keysets SET docs = ? WHERE id = ?",
            [(n, keyset) for keyset, n in conn.execute(_COUNT_KEYSET_DOCS).fetchall()],
        )


def has_table(conn: sqlite3.Connection, name: str) -> bool:
    """Return whether the file holds a table of that name (a file from before it may not)."""
    row = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)
    ).fetchone()
    return row is not None


def _add_table(conn: sqlite3.Connection, name: str, create: str, rows: str) -> None:
    if not has_table(conn, name):
        conn.execute(create)
        conn.execute(f"INSERT INTO {name} {rows}")


def on_add(conn: sqlite3.Connection, scope: str, keywords: list[tuple[str, str]]) -> int | None:
    """Count a document added to a scope with these keyword values; return its keyset's id."""
    _count_doc(conn, scope, 1)
    conn.executemany(
        "INSERT INTO fts_keyword_df (field, term, n) VALUES (?, ?, 1)"
        " ON CONFLICT (field, term) DO UPDATE SET n = n + 1",
        keywords,
    )
    conn.executemany(
        "INSERT INTO fts_keyword_holders (field, n) VALUES (?, 1)"
        " ON CONFLICT (field) DO UPDATE SET n = n + 1",
        [(field,) for field in sorted({field for field, _ in keywords})],
    )
    keyset = _keyset(conn, keywords)
    if keyset is not None:
        conn.execute("UPDATE fts_keysets SET docs = docs + 1 WHERE id = ?", (keyset,))
    return keyset


def on_drop(conn: sqlite3.Connection, scope: str, doc: int, keyset: int | None) -> None:
    """Uncount a document leaving a scope (its postings still in fts_terms), of ``keyset``."""
    _count_doc(conn, scope, -1)
    if keyset is not None:
        conn.execute("UPDATE fts_keysets SET docs = docs - 1 WHERE id = ?", (keyset,))
    held = "(field, term) IN (SELECT field, term FROM fts_terms WHERE doc = ?)"
    conn.execute(f"UPDATE fts_keyword_df SET n = n - 1 WHERE {held}", (doc,))
    conn.execute(f"DELETE FROM fts_keyword_df WHERE n <= 0 AND {held}", (doc,))
    fields = "field IN (SELECT field FROM fts_terms WHERE doc = ?)"
    conn.execute(f"UPDATE fts_keyword_holders SET n = n - 1 WHERE {fields}", (doc,))
    conn.execute(f"DELETE FROM fts_keyword_holders WHERE n <= 0 AND {fields}", (doc,))


def _count_doc(conn: sqlite3.Connection, scope: str, change: int) -> None:
    conn.execute(
        "INSERT INTO fts_totals (scope, docs) VALUES (?, ?)"
        " ON CONFLICT (scope) DO UPDATE SET docs = docs + excluded.docs",
        (scope, change),
    )


def keyset_text(pairs: list[tuple[str, str]]) -> str:
    """Return the text of a keyset: its sorted [field, value] pairs as compact JSON."""
    return json.dumps(sorted(pairs), ensure_ascii=False, separators=(",", ":"))


@functools.lru_cache(maxsize=8192)
def keyset_pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Return the (field, value) pairs of a keyset's text (remembered: keysets repeat)."""
    return tuple((field, term) for field, term in json.loads(text))


def _keyset(conn: sqlite3.Connection, pairs: list[tuple[str, str]]) -> int | None:
    """Return the id of the keyset of these values, added if new (None: no values)."""
    if not pairs:
        return None
    text = keyset_text(pairs)
    found = conn.execute("SELECT id FROM fts_keysets WHERE terms = ?", (text,)).fetchone()
    if found is not None:  # the usual case: the model's previous version has the same values
        return int(found[0])
    added = conn.execute("INSERT INTO fts_keysets (terms) VALUES (?)", (text,)).lastrowid
    assert added is not None
    _add_keyset_terms(conn, added, pairs)
    return added


def _add_keyset_terms(
    conn: sqlite3.Connection, keyset: int, pairs: Iterable[tuple[str, str]]
) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO fts_keyset_terms (field, term, keyset) VALUES (?, ?, ?)",
        [(field, term, keyset) for field, term in pairs],
    )


def _values_by_doc(conn: sqlite3.Connection) -> Iterator[tuple[int, list[tuple[str, str]]]]:
    """Yield (doc, its (field, value) pairs) of every document holding keyword values."""
    rows = conn.execute(
        "SELECT doc, field, term FROM fts_terms INDEXED BY fts_terms_doc_term ORDER BY doc"
    )
    for doc, group in itertools.groupby(rows, key=lambda r: r[0]):
        yield doc, [(field, term) for _, field, term in group]


def check(conn: sqlite3.Connection) -> list[str]:
    """Return where the totals, counts and keysets differ from the postings."""
    problems: list[str] = []
    held = dict(_values_by_doc(conn))
    keysets = conn.execute(
        "SELECT d.scope, d.key, d.id, k.terms FROM fts_docs d"
        " LEFT JOIN fts_keysets k ON k.id = d.keyset"
    )
    for scope, key, doc, text in keysets:
        pairs = held.get(doc, [])
        if (keyset_text(pairs) if pairs else None) != text:
            problems.append(f"search index: {scope} {key!r} has a keyset unlike its values")
    of_keyset = dict(conn.execute(_COUNT_KEYSET_DOCS).fetchall())
    listed: dict[int, set[tuple[str, str]]] = {}
    for field, term, keyset in conn.execute("SELECT field, term, keyset FROM fts_keyset_terms"):
        listed.setdefault(keyset, set()).add((field, term))
    for keyset, text, n in conn.execute("SELECT id, terms, docs FROM fts_keysets"):
        if n != of_keyset.get(keyset, 0):
            problems.append(
                f"search index: keyset {keyset} is held by {of_keyset.get(keyset, 0)}"
                f" documents, counted {n}"
            )
        if listed.pop(keyset, set()) != set(keyset_pairs(text)):
            problems.append(f"search index: keyset {keyset}'s values are listed unlike it")
    for keyset in sorted(listed):
        problems.append(f"search index: values are listed for keyset {keyset}, which is gone")
    in_docs = dict(conn.execute(_COUNT_SCOPES).fetchall())
    totals = dict(conn.execute("SELECT scope, docs FROM fts_totals WHERE docs != 0"))
    for scope in sorted(in_docs.keys() | totals.keys()):
        if in_docs.get(scope, 0) != totals.get(scope, 0):
            problems.append(
                f"search index: scope {scope} holds {in_docs.get(scope, 0)} documents,"
                f" counted {totals.get(scope, 0)}"
            )
    counted = {(f, t): n for f, t, n in conn.execute(_COUNT_KEYWORDS)}
    kept = {(f, t): n for f, t, n in conn.execute("SELECT field, term, n FROM fts_keyword_df")}
    for field, term in sorted(counted.keys() | kept.keys()):
        if counted.get((field, term)) != kept.get((field, term)):
            problems.append(
                f"search index: {field}:{term!r} is held by {counted.get((field, term), 0)}"
                f" documents, counted {kept.get((field, term), 0)}"
            )
    holding = dict(conn.execute(_COUNT_HOLDERS).fetchall())
    holders = dict(conn.execute("SELECT field, n FROM fts_keyword_holders").fetchall())
    for field in sorted(holding.keys() | holders.keys()):
        if holding.get(field) != holders.get(field):
            problems.append(
                f"search index: {holding.get(field, 0)} documents hold a value of {field},"
                f" counted {holders.get(field, 0)}"
            )
    return problems
