"""Full-text search in the embedded store: SQLite FTS5 tables kept in step with `models`.

Derived from the one index definition (``definition.fields()``):
- text fields live in one FTS5 table per analyzer (``fts_text_standard``, ``fts_text_en``),
  one column per field, so ``field:term`` is an FTS5 column filter;
- keyword fields (tags, framework, task, opTypes, format) in ``fts_terms(doc, field, term)``:
  exact matches, and facets counted with GROUP BY; ``fts_keyword_df`` keeps how many
  documents hold each value (the score's document frequency);
- numbers and dates in ``fts_nums(doc, field, value)`` for ranges;
- ``fts_docs`` has one row per indexed version: its key, name, version, whether it is the
  latest version of its name in its scope, the stored fields as JSON, and its ``keyset``
  (``kept``: what the index keeps besides its postings: counts and keysets).

The store calls the hook inside each write transaction; the hook queues the document
(``queue``), and the queue is indexed in batches: by a commit that finds ``queue.BATCH``
writes waiting, and before every search, so a search reads every write committed before it.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from catalog.search import definition, kept, latest, queue, scoring
from catalog.search.definition import Field
from catalog.search.querystring import parse_date
from catalog.search.terms import ARRAY_GAP, TOKENIZERS, joined, match_terms

# Bump when the layout below changes: stores rebuild their index on open.
LAYOUT_VERSION = 4
# Joins the values of a multi-valued text field: a token of its own, so no phrase spans two.
VALUE_SEPARATOR = f" {ARRAY_GAP} "


@dataclass(frozen=True)
class Column:
    """Where a text field lives: its FTS5 table and column."""

    table: str
    name: str
    index: int


@functools.cache
def text_tables() -> Mapping[str, tuple[Field, ...]]:
    """Return {FTS5 table: its text fields, in column order} (read-only: computed once from
    the index definition; every write reads it)."""
    tables: dict[str, list[Field]] = {}
    for f in definition.fields():
        if f.type == "text" and not f.is_keyword:
            tables.setdefault(f"fts_text_{f.analyzer}", []).append(f)
    return MappingProxyType({table: tuple(fields) for table, fields in tables.items()})


@functools.cache
def columns() -> Mapping[str, Column]:
    """Return {text field name: Column} (read-only, computed once)."""
    out: dict[str, Column] = {}
    for table, fields in text_tables().items():
        for i, f in enumerate(fields):
            out[f.name] = Column(table, f"c{i}", i)
    return MappingProxyType(out)


def fts_rows(conn: sqlite3.Connection, table: str) -> int | None:
    """Return the rows of an FTS5 table as FTS5 keeps them with every write: the first
    varint of its averages record (``{table}_data`` row 1). None: no such record."""
    row = conn.execute(f"SELECT block FROM {table}_data WHERE id = 1").fetchone()
    if row is None or not isinstance(row[0], bytes):
        return None
    if not row[0]:
        return 0  # written before any row
    count = 0
    for i, byte in enumerate(row[0][:9]):  # SQLite's varint: 7 bits a byte, the ninth 8
        if i == 8:
            return (count << 8) | byte
        count = (count << 7) | (byte & 0x7F)
        if byte < 0x80:
            return count
    return None


def _layout() -> list[str]:
    statements = [
        "CREATE TABLE IF NOT EXISTS fts_meta (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID",
        "CREATE TABLE IF NOT EXISTS fts_docs (id INTEGER PRIMARY KEY, scope TEXT NOT NULL,"
        " key TEXT NOT NULL, name TEXT NOT NULL, version INTEGER NOT NULL,"
        " latest INTEGER NOT NULL DEFAULT 0, stored TEXT NOT NULL, UNIQUE (scope, key))",
        "CREATE INDEX IF NOT EXISTS fts_docs_name ON fts_docs (scope, name, version)",
        "CREATE INDEX IF NOT EXISTS fts_docs_latest ON fts_docs (scope, latest)",
        "CREATE TABLE IF NOT EXISTS fts_terms (doc INTEGER NOT NULL, field TEXT NOT NULL,"
        " term TEXT NOT NULL)",
        "CREATE INDEX IF NOT EXISTS fts_terms_term ON fts_terms (field, term, doc)",
        "CREATE INDEX IF NOT EXISTS fts_terms_doc ON fts_terms (doc, field)",
        "CREATE TABLE IF NOT EXISTS fts_nums (doc INTEGER NOT NULL, field TEXT NOT NULL,"
        " value REAL NOT NULL)",
        "CREATE INDEX IF NOT EXISTS fts_nums_value ON fts_nums (field, value, doc)",
        "CREATE INDEX IF NOT EXISTS fts_nums_doc ON fts_nums (doc)",
        # tokens per text or keyword field after analysis (and "_all"): bleve's field norms
        "CREATE TABLE IF NOT EXISTS fts_lengths (doc INTEGER NOT NULL, field TEXT NOT NULL,"
        " length INTEGER NOT NULL, PRIMARY KEY (field, doc)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS fts_lengths_doc ON fts_lengths (doc)",
    ]
    for table, fields in text_tables().items():
        analyzer = fields[0].analyzer
        cols = ", ".join(_text_columns(table))
        tokenizer = TOKENIZERS[analyzer].replace("'", "''")
        statements.append(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5({cols}, tokenize='{tokenizer}')"
        )
        statements.append(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table}_vocab USING fts5vocab({table}, 'col')"
        )
        statements.append(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table}_instance"
            f" USING fts5vocab({table}, 'instance')"
        )
    return statements


# Indexes added after the layout's signature was fixed: created where missing, so that an
# existing file gains them without rebuilding its search index.
_ADDED_INDEXES = [
    # the current latest version of one model, looked up directly on publish (with
    # fts_docs_latest every latest document of the scope was read: 1 ms at 1,000 models)
    "CREATE INDEX IF NOT EXISTS fts_docs_latest_name ON fts_docs (scope, latest, name)",
    # (scope, latest) is its prefix: it served nothing the index above does not, and cost a
    # write on every publish. The layout still creates it on a new file.
    "DROP INDEX IF EXISTS fts_docs_latest",
    # a document's values of a field, term included: facets and the per-document lookups of a
    # few documents read this index alone (with fts_terms_doc they read each row too: 2x).
    # It replaces fts_terms_doc (doc, field), which the layout still creates on a new file.
    "CREATE INDEX IF NOT EXISTS fts_terms_doc_term ON fts_terms (doc, field, term)",
    "DROP INDEX IF EXISTS fts_terms_doc",
]


def _add_indexes(conn: sqlite3.Connection) -> None:
    for statement in _ADDED_INDEXES:
        conn.execute(statement)
    for table in text_tables():  # a view of the index: nothing to fill or keep
        conn.execute(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {scoring.row_vocab(table)}"
            f" USING fts5vocab({table}, 'row')"
        )
    kept.add_missing(conn)
    queue.add_missing(conn)
    latest.add_missing(
        conn,
        {
            table: (_text_columns(table), TOKENIZERS[fields[0].analyzer])
            for table, fields in text_tables().items()
        },
    )


@dataclass
class _Moves:
    """Documents leaving and joining a write's latest versions (``latest.sync``)."""

    stale: list[int]
    fresh: list[int]


@functools.cache
def _text_columns(table: str) -> tuple[str, ...]:
    """Return the columns of a text table (c0, c1, ...)."""
    return tuple(f"c{i}" for i in range(len(text_tables()[table])))


@functools.cache
def _latest_tables() -> Mapping[str, tuple[str, ...]]:
    """Return {text table: its columns}, what ``latest`` keeps a copy of (read-only)."""
    return MappingProxyType({table: _text_columns(table) for table in text_tables()})


def _signature() -> str:
    text = json.dumps([LAYOUT_VERSION, _layout(), [repr(f) for f in definition.fields()]])
    return hashlib.sha256(text.encode()).hexdigest()


def _drop_all(conn: sqlite3.Connection) -> None:
    """Drop every table of the search index (virtual tables first: they own shadow tables)."""

    def names(virtual: bool) -> list[str]:
        rows = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
            " AND name LIKE 'fts\\_%' ESCAPE '\\'"
        ).fetchall()
        found = [
            n for n, sql in rows if (sql or "").upper().startswith("CREATE VIRTUAL") == virtual
        ]
        return sorted(found, key=lambda n: not n.endswith(("_vocab", "_instance")))

    for name in names(virtual=True):
        conn.execute(f"DROP TABLE IF EXISTS {name}")
    for name in names(virtual=False):
        conn.execute(f"DROP TABLE IF EXISTS {name}")


def is_models_keyspace(keyspace: str) -> bool:
    """Return whether a canonical keyspace is a ``models`` collection (``b.s.models``)."""
    parts = keyspace.split(".")
    return len(parts) == 3 and parts[2] == definition.COLLECTION


def _scope(keyspace: str) -> str:
    return keyspace.rsplit(".", 1)[0]


def _name_version(key: str, value: dict[str, Any]) -> tuple[str, int]:
    name = value.get("name")
    if not isinstance(name, str) or not name:
        name = key.split("::", 1)[0]
    version = value.get("version")
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        tail = key.rsplit("::", 1)[-1]
        version = int(tail) if tail.isdigit() else 0
    return name, int(version)


def _epoch(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return parse_date(value)
        except Exception:
            return None
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


# Values up to this many characters have their analysis remembered (_analysed): the names,
# opTypes and tags of a model's versions repeat from one publish to the next.
ANALYSED_MAX_CHARS = 256


def _analysis(value: str, join: bool) -> tuple[str, int]:
    """Return (the value as its FTS5 column holds it, its tokens after analysis)."""
    return (joined(value) if join else value), len(match_terms(value, join))


_analysis_remembered = functools.lru_cache(maxsize=8192)(_analysis)


def _analysed(value: str, join: bool) -> tuple[str, int]:
    """Return ``_analysis(value, join)``, remembered for short values."""
    if len(value) <= ANALYSED_MAX_CHARS:
        return _analysis_remembered(value, join)
    return _analysis(value, join)


def _texts(found: list[Any]) -> list[str]:
    return [v if isinstance(v, str) else json.dumps(v) for v in found if not isinstance(v, dict)]


# Queued documents read (and held) at a time by the catch-up.
READ_AHEAD = 256
# Reads a stored document for the catch-up: (keyspace, key) -> its value, None when it is
# gone or binary (the store passes its own reader: the search package does not decode rows).
DocumentReader = Callable[[str, str], Any]


class SearchHook:
    """Keeps the FTS tables of every ``*.*.models`` collection in step with its documents:
    writes are queued in their own transaction and indexed in batches (``queue``)."""

    def install(self, conn: sqlite3.Connection) -> None:
        """Create the tables if missing; rebuild them when the definition has changed."""
        signature = _signature()
        has_meta = kept.has_table(conn, "fts_meta")
        row = (
            conn.execute("SELECT value FROM fts_meta WHERE key = 'signature'").fetchone()
            if has_meta
            else None
        )
        if row is not None and row[0] == signature:
            _add_indexes(conn)
            return
        _drop_all(conn)
        for statement in _layout():
            conn.execute(statement)
        _add_indexes(conn)
        conn.execute(
            "INSERT OR REPLACE INTO fts_meta (key, value) VALUES ('signature', ?)", (signature,)
        )
        self.rebuild(conn)

    def rebuild(self, conn: sqlite3.Connection) -> None:
        """Index every live document of every models collection again."""
        tables = ("fts_docs", "fts_terms", *kept.TABLES, "fts_nums", "fts_lengths")
        for statement in (*tables, *text_tables()):
            conn.execute(f"DELETE FROM {statement}")
        latest.clear(conn, _latest_tables())
        queue.clear(conn)
        if not kept.has_table(conn, "docs"):
            return
        rows = conn.execute(
            "SELECT keyspace, key, is_binary, value FROM docs"
            " WHERE keyspace LIKE '%.%.' || ? AND (expiry IS NULL OR expiry > ?)",
            (definition.COLLECTION, time.time()),
        ).fetchall()
        for keyspace, key, is_binary, value in rows:
            if is_models_keyspace(keyspace) and not is_binary:
                self.index(conn, keyspace, key, json.loads(value))

    def applies_to(self, keyspace: str) -> bool:
        """Return whether writes to ``keyspace`` are indexed."""
        return is_models_keyspace(keyspace)

    # -- the queue: what the store calls --------------------------------------------------

    def on_write(self, conn: sqlite3.Connection, keyspace: str, key: str, value: Any) -> None:
        """Queue a written document (indexed by the next catch-up, from its stored value)."""
        queue.put(conn, keyspace, key)

    def on_remove(self, conn: sqlite3.Connection, keyspace: str, key: str) -> None:
        """Queue a removed document (unindexed by the next catch-up)."""
        queue.put(conn, keyspace, key)

    def before_commit(self, conn: sqlite3.Connection, read: DocumentReader) -> None:
        """Index the queue inside the committing transaction once ``queue.BATCH`` writes wait."""
        if queue.waiting(conn) >= queue.BATCH:
            self.catch_up(conn, read)

    def behind(self, conn: sqlite3.Connection) -> bool:
        """Return whether writes wait to be indexed."""
        return queue.waiting(conn) > 0

    def catch_up(self, conn: sqlite3.Connection, read: DocumentReader) -> None:
        """Index every queued document as it is stored now (inside a write transaction).

        Read READ_AHEAD documents at a time: a version older than another of its model among
        them cannot be its model's latest once they are all indexed, so it goes in as not
        latest, without moving the latest flag (online learning queues versions of one
        model: each would take the flag and hand it to the next)."""
        waiting = queue.take(conn)
        for start in range(0, len(waiting), READ_AHEAD):
            docs = [(ks, key, read(ks, key)) for ks, key in waiting[start : start + READ_AHEAD]]
            newest: dict[tuple[str, str], int] = {}
            for ks, key, value in docs:
                if isinstance(value, dict):
                    name, version = _name_version(key, value)
                    model = (_scope(ks), name)
                    newest[model] = max(version, newest.get(model, version))
            for ks, key, value in docs:
                self.index(conn, ks, key, value, newest=newest)

    # -- indexing ---------------------------------------------------------------------------

    def index(
        self,
        conn: sqlite3.Connection,
        keyspace: str,
        key: str,
        value: Any,
        *,
        newest: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        """Index (or re-index) one document; None (gone), a binary or non-object value is
        unindexed. ``newest``: {(scope, name): version} of documents indexed in the same
        transaction (before or after this one), whose model's latest flag they settle."""
        scope = _scope(keyspace)
        moves = _Moves([], [])
        old = self._drop(conn, scope, key, moves)
        if not isinstance(value, dict):
            if old is not None:
                self._refresh_latest(conn, scope, old, moves)
            latest.sync(conn, _latest_tables(), moves.stale, moves.fresh)
            return
        name, version = _name_version(key, value)
        stored: dict[str, Any] = {}
        keyword_rows: set[tuple[str, str]] = set()
        number_rows: list[tuple[str, float]] = []
        texts: dict[str, str] = {}
        lengths: dict[str, int] = {}
        for f, found in zip(definition.fields(), definition.field_values(value), strict=True):
            if not found:
                continue
            if f.is_numeric:
                convert = _epoch if f.type == "datetime" else _number
                converted = [(v, n) for v in found if (n := convert(v)) is not None]
                number_rows += [(f.name, n) for _, n in converted]
                values: list[Any] = [v for v, _ in converted]
            else:
                values = _texts(found)
                if f.is_keyword:
                    keyword_rows.update((f.name, v) for v in values)
                    lengths[f.name] = len(set(values))
                else:
                    join = f.analyzer == "standard"
                    analysed = [_analysed(v, join) for v in values]
                    texts[f.name] = VALUE_SEPARATOR.join(text for text, _ in analysed)
                    lengths[f.name] = sum(n for _, n in analysed)
                    if f.include_in_all:
                        lengths[definition.ALL_FIELD] = (
                            lengths.get(definition.ALL_FIELD, 0) + (lengths[f.name])
                        )
            if f.store and values and not f.dynamic:
                stored[f.name] = values[0] if len(values) == 1 else values
        # A version newer than every other of its model (each publish) goes in as the latest
        # at once: then only the model's previous latest needs its flag cleared. One older
        # than a version indexed in the same transaction goes in as not latest, and that
        # version's indexing settles the flag.
        superseded = newest is not None and version < newest.get((scope, name), version)
        newer = False
        if not superseded:
            (most,) = conn.execute(
                "SELECT MAX(version) FROM fts_docs WHERE scope = ? AND name = ?", (scope, name)
            ).fetchone()
            newer = most is None or version > most
        keywords = sorted(keyword_rows)
        keyset = kept.on_add(conn, scope, keywords)
        cur = conn.execute(
            "INSERT INTO fts_docs (scope, key, name, version, latest, stored, keyset)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (scope, key, name, version, int(newer), json.dumps(stored, ensure_ascii=False), keyset),
        )
        doc = cur.lastrowid
        conn.executemany(
            "INSERT INTO fts_terms (doc, field, term) VALUES (?, ?, ?)",
            [(doc, field, term) for field, term in keywords],
        )
        conn.executemany(
            "INSERT INTO fts_nums (doc, field, value) VALUES (?, ?, ?)",
            [(doc, field, number) for field, number in number_rows],
        )
        conn.executemany(
            "INSERT INTO fts_lengths (doc, field, length) VALUES (?, ?, ?)",
            [(doc, field, length) for field, length in lengths.items() if length],
        )
        cols = columns()
        for table, fields in text_tables().items():
            row = [texts.get(f.name, "") for f in fields]
            if any(row):
                names = ", ".join(cols[f.name].name for f in fields)
                marks = ", ".join("?" * len(fields))
                conn.execute(
                    f"INSERT INTO {table} (rowid, {names}) VALUES (?, {marks})", (doc, *row)
                )
        if newer:
            moves.fresh.append(doc)
            self._clear_latest(conn, scope, name, version, moves)
        elif not superseded:
            self._refresh_latest(conn, scope, name, moves)
        if old is not None and old != name:
            self._refresh_latest(conn, scope, old, moves)
        latest.sync(conn, _latest_tables(), moves.stale, moves.fresh)

    def _drop(self, conn: sqlite3.Connection, scope: str, key: str, moves: _Moves) -> str | None:
        row = conn.execute(
            "SELECT id, name, latest, keyset FROM fts_docs WHERE scope = ? AND key = ?",
            (scope, key),
        ).fetchone()
        if row is None:
            return None
        doc, name, was_latest, keyset = row
        if was_latest:
            moves.stale.append(doc)
        conn.execute("DELETE FROM fts_docs WHERE id = ?", (doc,))
        kept.on_drop(conn, scope, doc, keyset)  # before its postings go: it reads them
        conn.execute("DELETE FROM fts_terms WHERE doc = ?", (doc,))
        conn.execute("DELETE FROM fts_nums WHERE doc = ?", (doc,))
        conn.execute("DELETE FROM fts_lengths WHERE doc = ?", (doc,))
        for table in text_tables():
            conn.execute(f"DELETE FROM {table} WHERE rowid = ?", (doc,))
        return name

    @staticmethod
    def _refresh_latest(conn: sqlite3.Connection, scope: str, name: str, moves: _Moves) -> None:
        """Mark the newest version of a model as its latest, touching only the rows that change
        (the old latest and the new one), however many versions and models there are."""
        (newest,) = conn.execute(
            "SELECT MAX(version) FROM fts_docs WHERE scope = ? AND name = ?", (scope, name)
        ).fetchone()
        SearchHook._clear_latest(conn, scope, name, newest, moves)
        if newest is not None:
            # By (scope, name, version): SQLite's own choice, fts_docs_latest_name with
            # latest = 0, walked every older version of the model (0.5 ms a publish at 2,600).
            rows = conn.execute(
                "UPDATE fts_docs INDEXED BY fts_docs_name SET latest = 1"
                " WHERE scope = ? AND name = ? AND version = ? AND latest = 0 RETURNING id",
                (scope, name, newest),
            ).fetchall()
            moves.fresh += [doc for (doc,) in rows]

    @staticmethod
    def _clear_latest(
        conn: sqlite3.Connection, scope: str, name: str, newest: int | None, moves: _Moves
    ) -> None:
        """Clear the latest flag of the model's versions other than ``newest``."""
        rows = conn.execute(
            "UPDATE fts_docs INDEXED BY fts_docs_latest_name SET latest = 0"
            " WHERE scope = ? AND latest = 1 AND name = ? AND version IS NOT ? RETURNING id",
            (scope, name, newest),
        ).fetchall()
        moves.stale += [doc for (doc,) in rows]

    def check(self, conn: sqlite3.Connection) -> list[str]:
        """Return the differences between the models collections and the search index (a
        queued document is not one: the next catch-up indexes it as it is)."""
        problems: list[str] = []
        waiting = {(_scope(ks), key) for ks, key in queue.queued(conn)}
        indexed = {
            (scope, key)
            for scope, key in conn.execute("SELECT scope, key FROM fts_docs").fetchall()
        }
        live = {
            (_scope(ks), key)
            for ks, key, is_binary, value in conn.execute(
                "SELECT keyspace, key, is_binary, value FROM docs"
                " WHERE keyspace LIKE '%.%.' || ? AND (expiry IS NULL OR expiry > ?)",
                (definition.COLLECTION, time.time()),
            )
            if is_models_keyspace(ks) and not is_binary and str(value).lstrip().startswith("{")
        }
        for scope, key in sorted(live - indexed - waiting):
            problems.append(f"search index: {scope}.{definition.COLLECTION} {key!r} not indexed")
        for scope, key in sorted(indexed - live - waiting):
            problems.append(f"search index: {scope} {key!r} indexed but not in the collection")
        wrong = conn.execute(
            "SELECT d.scope, d.key FROM fts_docs d WHERE d.latest != (d.version ="
            " (SELECT MAX(version) FROM fts_docs e WHERE e.scope = d.scope AND e.name = d.name))"
        ).fetchall()
        problems += [f"search index: {s} {k!r} has a stale latest flag" for s, k in wrong]
        problems += kept.check(conn)
        problems += latest.check(conn, _latest_tables())
        for table in text_tables():
            orphans = conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE rowid NOT IN (SELECT id FROM fts_docs)"
            ).fetchone()[0]
            if orphans:
                problems.append(f"search index: {orphans} orphan rows in {table}")
        return problems


def default_hooks() -> list[SearchHook]:
    """Return the write hooks the embedded store installs (the search index)."""
    return [SearchHook()]
