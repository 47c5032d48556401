"""bleve's tf-idf, so that the embedded store ranks hits in the order Couchbase does.

A term scores ``sqrt(tf) * norm * idf**2 * boost`` in a document, where ``norm`` is
``1/sqrt(field length)`` kept as a float32 (as scorch stores it), the field length counts
the tokens left after analysis (stop words dropped) and ``idf = 1 + ln(docs / (df + 1))``
over every document of the index. A disjunction (a match of several words, the terms a
wildcard, regexp or fuzzy term expands to, the optional clauses) sums the scores of what
matched times matched/clauses; a conjunction (a phrase, the required clauses) sums them.
bleve also multiplies every score by one query norm; it is the same for every hit and is
left out, so scores compare within one query only.
"""

from __future__ import annotations

import bisect
import functools
import json
import math
import sqlite3
import struct
from collections.abc import Iterable, Sequence
from typing import Any

from catalog.search import kept, latest
from catalog.search.terms import Remembered, quote, tokens

Scores = dict[int, float]
# What a clause searches: the terms of each of its parts (a part: a disjunction of terms).
Plan = list[list[str]]


def float32(value: float) -> float:
    """Return ``value`` rounded to a float32, as scorch stores a field norm."""
    return struct.unpack("f", struct.pack("f", value))[0]


@functools.lru_cache(maxsize=4096)
def _norm(length: int) -> float:
    return float32(1.0 / math.sqrt(length))


def disjunction(parts: Sequence[Scores]) -> Scores:
    """Return the scores of "any of the parts": summed, times matched parts / parts."""
    if len(parts) == 1:
        return dict(parts[0])
    out: Scores = {}
    matched: dict[int, int] = {}
    for part in parts:
        for doc, score in part.items():
            out[doc] = out.get(doc, 0.0) + score
            matched[doc] = matched.get(doc, 0) + 1
    return {doc: score * matched[doc] / len(parts) for doc, score in out.items()}


def conjunction(parts: Sequence[Scores]) -> Scores:
    """Return the scores of "all of the parts": summed over the docs in every part."""
    if not parts:
        return {}
    docs = set(parts[0]).intersection(*parts[1:])
    return {doc: sum(part[doc] for part in parts) for doc in docs}


class ScopeDocs:
    """The documents of one scope: membership and count. When the index holds no other
    scope (the usual case) every document is in it, and none is listed."""

    def __init__(self, conn: sqlite3.Connection, scope: str):
        self.conn, self.scope = conn, scope
        others = conn.execute(
            "SELECT 1 FROM fts_docs WHERE scope < ?1 OR scope > ?1 LIMIT 1", (scope,)
        ).fetchone()
        self.ids: set[int] | None = None
        if others:
            rows = conn.execute("SELECT id FROM fts_docs WHERE scope = ?", (scope,))
            self.ids = {r[0] for r in rows}
            self.count = len(self.ids)
        else:  # kept with every write (search.kept): a COUNT grows with the versions
            row = conn.execute("SELECT docs FROM fts_totals WHERE scope = ?", (scope,)).fetchone()
            self.count = row[0] if row else 0

    def __contains__(self, doc: object) -> bool:
        return self.ids is None or doc in self.ids

    def __len__(self) -> int:
        return self.count

    def every(self) -> Iterable[int]:
        """Return the ids of every document of the scope (read when it is the whole index)."""
        if self.ids is not None:
            return self.ids
        return [r[0] for r in self.conn.execute("SELECT id FROM fts_docs")]


# Up to this many documents, or this share of the index, a field's lengths are read for those
# documents only (at 100,002 versions, 24,896 of them: 59 ms, against 104 ms for every one).
LENGTHS_BY_DOC = 2000
LENGTHS_BY_DOC_SHARE = 0.3


# Text document frequencies remembered by (change token, table, columns, term, all columns).
DF_REMEMBERED = 4096
_DF = Remembered(DF_REMEMBERED)


class TermStats:
    """Term frequencies, document frequencies and field lengths of one scope's documents."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        scope_docs: ScopeDocs | set[int],
        only: set[int] | None = None,
        *,
        state: Any = None,
    ):
        """``only``: score just these documents (all in the scope, which must be the whole
        index); document frequencies and the total still count every document. ``state``:
        the index's change token (``engine.run``), under which text document frequencies
        are remembered."""
        self.conn = conn
        self.state = state
        self.docs = scope_docs
        self.total = max(len(self.docs), 1)
        self._lengths: dict[str, dict[int, int]] = {}
        self.only = only
        self.only_json = json.dumps(sorted(only)) if only is not None else ""

    def idf(self, df: int) -> float:
        """Return bleve's inverse document frequency of a term in ``df`` documents."""
        return 1.0 + math.log(self.total / (df + 1))

    def lengths(self, field: str, docs: Iterable[int] | None = None) -> dict[int, int]:
        """Return {doc: tokens} of a field (``_all``: the composite field), for ``docs`` (or
        every document)."""
        cached = self._lengths.get(field)
        wanted = list(docs) if docs is not None else None
        few = max(LENGTHS_BY_DOC, self.total * LENGTHS_BY_DOC_SHARE)
        if cached is None and wanted is not None and len(wanted) <= few:
            rows = self.conn.execute(
                "SELECT doc, length FROM fts_lengths WHERE field = ?"
                " AND doc IN (SELECT value FROM json_each(?))",
                (field, json.dumps(wanted)),
            )
            return dict(rows.fetchall())
        if cached is None:
            rows = self.conn.execute(
                "SELECT doc, length FROM fts_lengths WHERE field = ?", (field,)
            )
            cached = self._lengths[field] = dict(rows.fetchall())
        return cached

    def text_postings(
        self, table: str, cols: Sequence[str], terms: Iterable[str], *, in_latest: bool = False
    ) -> dict[str, dict[int, int]]:
        """Return {term: {doc: frequency}} in some columns of an FTS5 table, taken together
        (``in_latest``: the ``only`` documents are latest versions, read in the latest table)."""
        wanted = set(cols)
        out: dict[str, dict[int, int]] = {}
        sql = f"SELECT doc, col FROM {table}_instance WHERE term = ?"
        if in_latest and self.only is not None:
            sql = latest.instances_sql(table)
        elif self.only is not None:
            sql += " AND doc IN (SELECT value FROM json_each(?))"
        for term in terms:  # one lookup a term: fts5vocab uses "term = ?", not "term IN"
            counts: dict[int, int] = {}
            args = (term, self.only_json) if self.only is not None else (term,)
            rows = self.conn.execute(sql, args)
            for doc, col in rows:
                if col in wanted and doc in self.docs:
                    counts[doc] = counts.get(doc, 0) + 1
            out[term] = counts
        return out

    def text_df(
        self, table: str, cols: Sequence[str], term: str, *, every_column: bool = False
    ) -> int:
        """Return how many documents hold a term in some columns of an FTS5 table
        (``every_column``: the columns are all the table's), remembered under the index's
        change token: a word most versions hold takes 4-5 ms to count at 100,002 versions."""
        if self.state is None:
            return self._text_df(table, cols, term, every_column)
        return _DF.get(
            (self.state, table, tuple(cols), term, every_column),
            lambda: self._text_df(table, cols, term, every_column),
        )

    def _text_df(self, table: str, cols: Sequence[str], term: str, every_column: bool) -> int:
        if every_column:
            # the row vocabulary (created on open) counts them off the term's entries alone:
            # at 100,002 versions, 4.1 ms for "model" in 80,000 of them, against 6.5 ms for a
            # MATCH
            row = self.conn.execute(
                f"SELECT doc FROM {row_vocab(table)} WHERE term = ?", (term,)
            ).fetchone()
            return row[0] if row else 0
        if len(cols) == 1:  # the column vocabulary counts them
            row = self.conn.execute(
                f"SELECT doc FROM {table}_vocab WHERE term = ? AND col = ?", (term, cols[0])
            ).fetchone()
            return row[0] if row else 0
        if tokens(self.conn, table.removeprefix("fts_text_"), term) == [term]:
            # the table's own MATCH finds the term's rows when its tokenizer keeps it as is
            match = "{" + " ".join(cols) + "} : " + quote(term)
            return self.conn.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {table} MATCH ?", (match,)
            ).fetchone()[0]
        marks = ",".join("?" * len(cols))
        return self.conn.execute(
            f"SELECT COUNT(DISTINCT doc) FROM {table}_instance WHERE term = ? AND col IN ({marks})",
            (term, *cols),
        ).fetchone()[0]

    def keyword_rows(
        self, field: str, wanted: Sequence[str] | None, *, by_doc: bool = True
    ) -> list[tuple[int, str]]:
        """Return (doc, term) of the ``only`` documents holding some values (None: any) of a
        keyword field: looked up document by document, or read off the values' postings."""
        if wanted is None:
            return self.conn.execute(
                "SELECT doc, term FROM fts_terms INDEXED BY fts_terms_doc_term"
                " WHERE doc IN (SELECT value FROM json_each(?)) AND field = ?",
                (self.only_json, field),
            ).fetchall()
        index = "INDEXED BY fts_terms_doc_term" if by_doc else "INDEXED BY fts_terms_term"
        return self.conn.execute(
            f"SELECT doc, term FROM fts_terms {index} WHERE doc IN (SELECT value FROM json_each(?))"
            " AND field = ? AND term IN (SELECT value FROM json_each(?))",
            (self.only_json, field, json.dumps(list(wanted))),
        ).fetchall()

    def latest_keyword_rows(self, field: str, wanted: Sequence[str]) -> list[tuple[int, str]]:
        """Return (doc, term) of the ``only`` documents, all latest versions, holding some
        values of a keyword field: the keysets holding each value (``fts_keyset_terms``),
        then the latest versions of each keyset (``fts_docs_latest_keyset``, a partial index
        of the latest versions alone). ``tags:finance`` over the latest versions at 100,002
        versions: 42 keysets, 252 versions, instead of 1,001 look-ups in the postings."""
        rows = self.conn.execute(
            "SELECT d.id, t.term FROM fts_keyset_terms t"
            f" JOIN fts_docs d INDEXED BY {kept.LATEST_KEYSET_INDEX} ON d.keyset = t.keyset"
            " WHERE t.field = ? AND t.term IN (SELECT value FROM json_each(?)) AND d.latest = 1",
            (field, json.dumps(list(wanted))),
        )
        only = self.only
        assert only is not None, "latest_keyword_rows reads the rows of the only documents"
        return [(doc, term) for doc, term in rows if doc in only]

    def keyword_df(self, field: str, values: Iterable[str]) -> dict[str, int]:
        """Return {value: documents holding it} of a keyword field, over the whole index.

        Kept per value by ``embedded.SearchHook`` in ``fts_keyword_df`` with every write."""
        rows = self.conn.execute(
            "SELECT j.value, COALESCE((SELECT n FROM fts_keyword_df d WHERE d.field = ?"
            " AND d.term = j.value), 0) FROM json_each(?) j",
            (field, json.dumps(list(values))),
        )
        return dict(rows.fetchall())

    def keyword_postings(self, field: str, term: str) -> dict[int, int]:
        """Return {doc: 1} of the documents holding a keyword value."""
        rows = self.conn.execute(
            "SELECT doc FROM fts_terms WHERE field = ? AND term = ?", (field, term)
        )
        return {doc: 1 for (doc,) in rows if doc in self.docs}

    def term_scores(self, postings: dict[int, int], field: str, df: int | None = None) -> Scores:
        """Return the score of one term in each document holding it (``df``: documents
        holding it, when ``postings`` covers only some of them)."""
        if not postings:
            return {}
        weight = self.idf(len(postings) if df is None else df) ** 2
        lengths = self.lengths(field, postings)
        if all(tf == 1 for tf in postings.values()):  # keyword values: one score per length
            per_length = {n: keyword_score(n, weight) for n in set(lengths.values())}
            default = keyword_score(1, weight)  # no length row: as a length of 1
            return {doc: per_length.get(lengths.get(doc), default) for doc in postings}
        return {
            doc: math.sqrt(tf) * _norm(lengths.get(doc) or 1) * weight
            for doc, tf in postings.items()
        }


def keyword_score(length: int, weight: float) -> float:
    """Return the score of a keyword value (term frequency 1) in a field of ``length``
    values, ``weight`` being the value's idf squared (a length of 0: as 1)."""
    return _norm(length or 1) * weight


def row_vocab(table: str) -> str:
    """Return the name of the fts5vocab ``row`` table of a text table (documents per term)."""
    return f"{table}_row_vocab"


def plan_scores(plan: Plan, term_scores: dict[str, Scores], *, phrase: bool = False) -> Scores:
    """Return the scores of a clause: each part a disjunction of its terms, parts combined."""
    parts = [disjunction([term_scores.get(t, {}) for t in part]) for part in plan]
    if not parts:
        return {}
    return conjunction(parts) if phrase else disjunction(parts)


# -- numbers and dates: bleve's prefix-coded numeric terms ----------------------------------

# bleve indexes a number as 16 terms: its 64 bits, then with 4, 8, ... 60 low bits dropped.
PRECISION_STEP = 4
NUMERIC_TOKENS = 64 // PRECISION_STEP


def _i64(value: int) -> int:
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >= 1 << 63 else value


def sortable(value: float, dates: bool) -> int:
    """Return the int64 bleve indexes for a number (float bits) or a date (Unix nanoseconds)."""
    if dates:
        whole = math.floor(value)
        return whole * 1_000_000_000 + round((value - whole) * 1e9)
    bits = struct.unpack(">q", struct.pack(">d", value))[0]
    return bits ^ 0x7FFFFFFFFFFFFFFF if bits < 0 else bits


def _prefix(value: int, shift: int) -> int:
    return ((value & ((1 << 64) - 1)) ^ (1 << 63)) >> shift


def split_range(low: int, high: int) -> list[tuple[int, int, int]]:
    """Return bleve's (and Lucene's) covering of [low, high]: (low, high, shift) ranges."""
    out: list[tuple[int, int, int]] = []
    if low > high:
        return out
    shift = 0
    while True:
        diff = _i64(1 << (shift + PRECISION_STEP))
        mask = _i64(((1 << PRECISION_STEP) - 1) << shift)
        has_lower = (low & mask) != 0
        has_upper = (high & mask) != mask
        next_low = _i64((low + diff) & ~mask) if has_lower else _i64(low & ~mask)
        next_high = _i64((high - diff) & ~mask) if has_upper else _i64(high & ~mask)
        if (
            shift + PRECISION_STEP >= 64
            or next_low > next_high
            or next_low < low
            or next_high > high
        ):
            out.append((low, high, shift))
            return out
        if has_lower:
            out.append((low, low | mask, shift))
        if has_upper:
            out.append((high & ~mask, high, shift))
        low, high, shift = next_low, next_high, shift + PRECISION_STEP


def range_scores(
    values: Sequence[tuple[int, float]],
    low: float | None,
    high: float | None,
    low_inclusive: bool,
    high_inclusive: bool,
    *,
    dates: bool,
    total: int,
    only: set[int] | None = None,
    counts: dict[int, int] | None = None,
) -> Scores:
    """Return bleve's scores of a numeric or date range over ``values`` (doc, value).

    bleve searches the covering terms the index holds, as one disjunction: a document
    scores its term's tf-idf (field length 16 per value) over the number of those terms.
    ``only``: score just these documents; ``values`` then need only hold every value in
    the range, and ``counts`` the number of values of each of them.
    """
    lo = sortable(low, dates) if low is not None else sortable(-math.inf, False)
    hi = sortable(high, dates) if high is not None else sortable(math.inf, False)
    if low is not None and not low_inclusive:
        lo += 1
    if high is None or not high_inclusive:
        hi -= 1
    per_doc: dict[int, int] = {}
    if counts is not None:
        per_doc = counts
    else:
        for doc, _ in values:
            per_doc[doc] = per_doc.get(doc, 0) + 1
    # the covering ranges partition [lo, hi]: a value's term is that of the range holding it
    covering = sorted((start, shift) for start, _, shift in split_range(lo, hi))
    starts = [start for start, _ in covering]
    holders: dict[tuple[int, int], set[int]] = {}
    matched: dict[int, list[tuple[int, int]]] = {}
    for doc, value in values:
        v = sortable(value, dates)
        if lo <= v <= hi:
            shift = covering[bisect.bisect_right(starts, v) - 1][1]
            term = (shift, _prefix(v, shift))
            holders.setdefault(term, set()).add(doc)
            if only is None or doc in only:
                matched.setdefault(doc, []).append(term)
    if not holders:
        return {}
    total = max(total, 1)
    weights = {term: (1.0 + math.log(total / (len(d) + 1))) ** 2 for term, d in holders.items()}
    n = len(holders)
    out: Scores = {}
    for doc, found in matched.items():
        norm = _norm(NUMERIC_TOKENS * per_doc[doc])
        if len(found) == 1:
            out[doc] = norm * weights[found[0]] / n
        else:
            distinct = set(found)
            score = sum(math.sqrt(found.count(t)) * norm * weights[t] for t in distinct)
            out[doc] = score * len(distinct) / n
    return out
