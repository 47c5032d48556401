"""Run a query on the embedded FTS tables: matches and scores, facets, highlights, one page.

Each clause of the query tree becomes a {doc id: score} map from one or two SQL statements
(an FTS5 MATCH with a column filter, a lookup in ``fts_terms`` or a range on ``fts_nums``),
and the clauses combine as bleve's query-string boolean query does. Facets are counted with
GROUP BY over every match, then only the requested page is highlighted and returned.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from catalog.search import definition, latest, one_value, ranking, scoring, terms
from catalog.search import page as page_parts
from catalog.search.definition import Field
from catalog.search.embedded import columns, fts_rows, text_tables
from catalog.search.querystring import Boolean, Leaf, Match, Phrase, Range, Regexp, Wildcard, parse
from catalog.search.resolution import effective, facet_specs, leaf_fields
from catalog.search.results import FacetResult, SearchError, SearchHit, SearchResult

# Largest page a caller may ask for.
MAX_LIMIT = 1000
_OPTIONS = {
    "limit",
    "offset",
    "facets",
    "facet_size",
    "highlight",
    "all_versions",
    "filters",
    "fields",
    "timeout",
    "max_expansions",
}
# SQLite virtual machine steps between two looks at the search's deadline.
_PROGRESS_STEPS = 20_000
# A search may return at most 1/this of the index's documents: its clauses are looked up for
# those documents only.
_FEW_DOCS_RATIO = 4
# Index entries of a term read in the time one document's terms are looked up.
_POSTINGS_PER_LOOKUP = 50
# Tests set this to evaluate every clause over all the postings, as before that shortcut.
_full_postings = False
# Tests clear these to evaluate a match of every document, or of one keyword value over every
# version, as any other query.
_everything_shortcut = True
_one_value_shortcut = True

_vocab = terms.VocabCache()

Scores = dict[int, float]


def _add(into: Scores, more: Mapping[int, float]) -> None:
    if not into:  # the first field's scores: a copy (100,000 matches: 3 ms, not 40)
        into.update(more)
        return
    for doc, score in more.items():
        into[doc] = into.get(doc, 0.0) + score


class _Evaluator:
    """Turns leaves into {doc: score}, remembering what to highlight."""

    def __init__(self, conn: sqlite3.Connection, scope_docs: scoring.ScopeDocs,
                 budget: terms.Budget, only: set[int] | None = None,
                 *, latest_only: bool = False, state: Any = None):  # fmt: skip
        """``only``: the documents the query may return, when the index holds no other scope.
        Leaves then score just those (idf still counts every document); otherwise leaves
        score every document of the scope and the boolean step keeps the universe's.
        ``latest_only``: ``only`` holds latest versions alone, so text clauses match and
        count their terms in the latest tables (``latest``)."""
        self.conn = conn
        self.scope_docs = scope_docs
        self.budget = budget
        self.stats = scoring.TermStats(conn, scope_docs, only, state=state)
        self.only = only
        self.latest = latest_only and only is not None
        self.columns = columns()
        self.collect = True
        self.text_highlights: dict[str, list[str]] = {}
        self.keyword_highlights: dict[str, set[str] | None] = {}
        self.gapped: dict[int, list[tuple[int, str]]] = {}  # phrase -> (offset, word)

    def leaf(self, q: Leaf) -> Scores:
        self.budget.check()
        fields = leaf_fields(q)
        out: Scores = {}
        tables: dict[str, list[Field]] = {}
        for f in fields:
            if f.is_keyword:
                _add(out, self.keyword(q, f))
            elif f.is_numeric:
                _add(out, self.numeric(q, f))
            else:
                tables.setdefault(self.columns[f.name].table, []).append(f)
        for table, table_fields in tables.items():
            _add(out, self.text(q, table, table_fields))
        # bleve reads a number as "the text or the number": one of two clauses matches
        factor = q.boost * (0.5 if isinstance(q, Match) and q.number is not None else 1.0)
        if factor != 1.0:
            out = {doc: score * factor for doc, score in out.items()}
        return out

    # -- keyword fields: exact terms in fts_terms ------------------------------------------

    def keyword(self, q: Leaf, f: Field) -> Scores:
        sql = "SELECT doc, term FROM fts_terms WHERE field = ?"
        counts: dict[str, int] = {}
        if isinstance(q, Wildcard) and set(q.pattern) == {"*"}:
            if self.only is not None:
                rows = self.stats.keyword_rows(f.name, None)
            else:
                rows = self.conn.execute(sql, (f.name,)).fetchall()
        else:
            vocab = self._keyword_terms if isinstance(q, (Match, Wildcard, Regexp)) else None
            if isinstance(q, Match) and q.fuzziness:
                wanted = terms.expand(vocab(f), fuzzy=(q.text, q.fuzziness), budget=self.budget)
            elif isinstance(q, Wildcard):
                regex = terms.wildcard_regex(q.pattern)
                wanted = terms.expand(vocab(f), regex=regex, budget=self.budget)
            elif isinstance(q, Regexp):
                regex = terms.user_regex(q.pattern)
                wanted = terms.expand(vocab(f), regex=regex, budget=self.budget)
            elif isinstance(q, (Match, Phrase)):
                wanted = [q.text]
            else:
                wanted = []
            if not wanted:
                return {}
            if self.only is not None:
                counts = self.stats.keyword_df(f.name, wanted)
                if self.latest:  # the latest versions whose keyset holds a value
                    rows = self.stats.latest_keyword_rows(f.name, wanted)
                else:  # few postings: read them; many: look the documents up one by one
                    by_doc = sum(counts.values()) > len(self.only) * _POSTINGS_PER_LOOKUP
                    rows = self.stats.keyword_rows(f.name, wanted, by_doc=by_doc)
            else:
                marks = ",".join("?" * len(wanted))
                rows = self.conn.execute(
                    sql + f" AND term IN ({marks})", (f.name, *wanted)
                ).fetchall()
        df = Counter(term for _, term in rows)
        if isinstance(q, Wildcard) and set(q.pattern) == {"*"}:
            out: Scores = {doc: 1.0 for doc, _ in rows}
        else:
            postings: dict[str, dict[int, int]] = {}
            if len(df) == 1 and self.scope_docs.ids is None:  # one term, every doc in scope
                postings[next(iter(df))] = dict.fromkeys((doc for doc, _ in rows), 1)
            else:
                for doc, term in rows:
                    if doc in self.stats.docs:
                        postings.setdefault(term, {})[doc] = 1
            # rows of the ``only`` documents: ``counts`` has the documents of each term
            term_scores = {
                t: self.stats.term_scores(p, f.name, counts.get(t)) for t, p in postings.items()
            }
            scored = scoring.plan_scores([list(wanted)], term_scores)
            # a score for each row's document (0 outside the scope: the universe drops it)
            out = (
                scored
                if len(scored) == len(rows)
                else {doc: scored.get(doc, 0.0) for doc, _ in rows}
            )
        if self.collect and rows:
            if isinstance(q, Wildcard) and set(q.pattern) == {"*"}:
                self.keyword_highlights[f.name] = None
            elif self.keyword_highlights.get(f.name, set()) is not None:
                self.keyword_highlights.setdefault(f.name, set()).update(df)
        return out

    def _keyword_terms(self, f: Field) -> list[str]:
        rows = self.conn.execute("SELECT DISTINCT term FROM fts_terms WHERE field = ?", (f.name,))
        return [r[0] for r in rows]

    # -- numbers and dates: fts_nums ----------------------------------------------------------

    def numeric(self, q: Leaf, f: Field) -> Scores:
        if isinstance(q, Match) and q.number is not None and f.type == "number":
            bounds = (q.number, q.number, True, True)
        elif isinstance(q, Range):
            bounds = (q.low, q.high, q.low_inclusive, q.high_inclusive)
        else:
            return {}  # text on a number field matches nothing, as in bleve
        dates = f.type == "datetime"
        if self.only is not None:
            return self._range_of_few(f.name, bounds, dates)
        rows = self.conn.execute("SELECT doc, value FROM fts_nums WHERE field = ?", (f.name,))
        values = [(doc, value) for doc, value in rows if doc in self.stats.docs]
        return scoring.range_scores(values, *bounds, dates=dates, total=self.stats.total)

    def _range_of_few(self, field: str, bounds: tuple, dates: bool) -> Scores:
        """Score a range for the ``only`` documents: the values in (a little more than) the
        range count the documents of each term; those documents' values, their lengths."""
        low, high = bounds[0], bounds[1]
        sql, args = "SELECT doc, value FROM fts_nums WHERE field = ?", [field]
        # SQL compares the values, bleve their int64 keys: a margin keeps every one in range
        # (a date's key is in nanoseconds; -0.0 and 0.0 are equal values, distinct keys)
        if low is not None:
            sql, args = sql + " AND value >= ?", [*args, low - _margin(low, dates)]
        if high is not None:
            sql, args = sql + " AND value <= ?", [*args, high + _margin(high, dates)]
        values = self.conn.execute(sql, args).fetchall()
        counts = dict(
            self.conn.execute(
                "SELECT doc, COUNT(*) FROM fts_nums INDEXED BY fts_nums_doc"
                " WHERE doc IN (SELECT value FROM json_each(?)) AND field = ? GROUP BY doc",
                (self.stats.only_json, field),
            ).fetchall()
        )
        return scoring.range_scores(
            values, *bounds, dates=dates, total=self.stats.total, only=self.only, counts=counts
        )

    # -- text fields: FTS5 ------------------------------------------------------------------------

    def text(self, q: Leaf, table: str, fields: list[Field]) -> Scores:
        cols = [self.columns[f.name].name for f in fields]
        if isinstance(q, Wildcard) and set(q.pattern) == {"*"}:
            present = " OR ".join(f"{c} != ''" for c in cols)
            if self.only is None:
                # the content table holds the same values: read as a table, not through FTS5
                # (every one of 100,000 versions: 100 ms, not 190)
                rows = self.conn.execute(
                    f"SELECT id FROM {table}_content WHERE {present}"
                ).fetchall()
            else:
                rows = self.conn.execute(
                    f"SELECT rowid FROM {table} WHERE rowid IN"
                    f" (SELECT value FROM json_each(?)) AND ({present})",
                    (self.stats.only_json,),
                ).fetchall()
            return {r[0]: 1.0 for r in rows}
        expression, plan = self._expression(q, table, cols)
        if not expression:
            return {}
        match = "{" + " ".join(cols) + "} : (" + expression + ")"
        sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ?"
        try:
            if self.only is None:
                docs = [r[0] for r in self.conn.execute(sql, (match,)).fetchall()]
                anywhere = bool(docs)  # highlighted when any document of the index matches
            else:
                # Latest versions alone: the MATCH reads the latest table, whose rows follow
                # the models, not the versions. Otherwise "+rowid": FTS5 runs the MATCH alone
                # and SQLite keeps the ``only`` rows (as a rowid constraint, FTS5 would run the
                # MATCH once per ``only`` document: 4x slower).
                only_rows = (
                    latest.matching_sql(table)
                    if self.latest
                    else f"{sql} AND +rowid IN (SELECT value FROM json_each(?))"
                )
                rows = self.conn.execute(only_rows, (match, self.stats.only_json)).fetchall()
                docs = [r[0] for r in rows]
                anywhere = bool(docs) or bool(
                    self.conn.execute(sql + " LIMIT 1", (match,)).fetchone()
                )
        except sqlite3.OperationalError as e:
            self.budget.check()
            raise SearchError(f"search failed on {match!r}: {e}") from None
        gapped = isinstance(q, Phrase) and id(q) in self.gapped
        if gapped and docs:
            holding = self._gaps_hold(table, cols, self.gapped[id(q)], docs, in_latest=self.latest)
            docs = [doc for doc in docs if doc in holding]
        if self.collect and (
            docs
            or self.only is not None
            and anywhere
            and (not gapped or self._gapped_anywhere(q, table, cols, match))
        ):
            self.text_highlights.setdefault(table, []).append(match)
        scores = self._text_scores(q, table, fields, plan)
        return {doc: scores.get(doc, 0.0) for doc in docs}

    def _gapped_anywhere(self, q: Phrase, table: str, cols: list[str], match: str) -> bool:
        """Return whether a phrase with inner stop words holds in any document of the index."""
        rows = self.conn.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH ?", (match,))
        docs = [r[0] for r in rows]
        return bool(self._gaps_hold(table, cols, self.gapped[id(q)], docs))

    def _text_scores(self, q: Leaf, table: str, fields: list[Field], plan: scoring.Plan) -> Scores:
        """Return bleve's scores of a clause on text fields (one field, or ``_all`` as one)."""
        if q.field is None:
            groups = [([self.columns[f.name].name for f in fields], definition.ALL_FIELD)]
        else:
            groups = [([self.columns[f.name].name], f.name) for f in fields]
        wanted = {t for part in plan for t in part}
        width = len(text_tables()[table])
        per_field = []
        for cols, length_field in groups:
            postings = self.stats.text_postings(table, cols, wanted, in_latest=self.latest)
            term_scores = {
                t: self.stats.term_scores(
                    p,
                    length_field,
                    self.stats.text_df(table, cols, t, every_column=len(cols) == width)
                    if self.only is not None
                    else None,
                )
                for t, p in postings.items()
            }
            per_field.append(scoring.plan_scores(plan, term_scores, phrase=isinstance(q, Phrase)))
        return scoring.disjunction(per_field)

    def _gaps_hold(
        self,
        table: str,
        cols: list[str],
        words: list[tuple[int, str]],
        docs: list[int],
        *,
        in_latest: bool = False,
    ) -> set[int]:
        """Return the docs where the words stand at their offsets from one another
        (``in_latest``: the docs are latest versions, read in the latest table)."""
        stemmed = table.endswith("_en")
        where: dict[tuple[int, str], list[set[int]]] = {}
        sql = (
            latest.instances_sql(table, offsets=True)
            if in_latest
            else f"SELECT doc, col, offset FROM {table}_instance WHERE term = ?"
            " AND doc IN (SELECT value FROM json_each(?))"
        )
        docs_json = json.dumps(docs)
        for n, (_, word) in enumerate(words):
            term = (terms.porter(self.conn, word) or [word])[0] if stemmed else word
            for doc, col, offset in self.conn.execute(sql, (term, docs_json)):
                if col in cols:
                    where.setdefault((doc, col), [set() for _ in words])[n].add(offset)
        gaps: dict[tuple[int, str], set[int]] = {}  # where array values meet: never crossed
        rows = self.conn.execute(sql, (terms.ARRAY_GAP, docs_json))
        for doc, col, offset in rows:
            gaps.setdefault((doc, col), set()).add(offset)
        span = words[-1][0]
        out: set[int] = set()
        for key, offsets in where.items():
            (first_offset, _), rest = words[0], list(enumerate(words))[1:]
            crossed = gaps.get(key, set())
            for start in offsets[0]:
                base = start - first_offset
                if all(base + off in offsets[n] for n, (off, _) in rest) and not any(
                    base < g < base + span for g in crossed
                ):
                    out.add(key[0])
                    break
        return out

    def _expression(self, q: Leaf, table: str, cols: list[str]) -> tuple[str, scoring.Plan]:
        """Return the FTS5 expression of a clause and the terms each of its parts scores."""
        stemmed = table.endswith("_en")
        join = not stemmed  # the standard analyzer's UAX #29 joins (terms.joined)

        def analysed(word: str) -> list[str]:
            return terms.porter(self.conn, word) if stemmed else [word]

        if isinstance(q, Phrase):
            expression = self._phrase(q, join)
            kept = [w for w in terms.words(q.text, join) if not terms.is_stop(w)]
            return expression, [analysed(w)[:1] for w in kept]
        if isinstance(q, Match) and not q.fuzziness:
            words = terms.match_terms(q.text, join)
            expression = " OR ".join(terms.quote(t) for t in dict.fromkeys(words))
            return expression, [analysed(w)[:1] for w in words]
        # bleve's index has no stop words: expansions never reach them
        vocab = terms.indexed(_vocab.terms(self.conn, table, cols, self.stats.state))
        plan: scoring.Plan = []
        if isinstance(q, Match):
            for word in terms.match_terms(q.text, join):
                part: dict[str, None] = {}
                for base in analysed(word):
                    expanded = terms.expand(vocab, fuzzy=(base, q.fuzziness), budget=self.budget)
                    part.update(dict.fromkeys(expanded))
                plan.append(list(part))
        elif isinstance(q, (Wildcard, Regexp)):
            regex = (
                terms.wildcard_regex(q.pattern.lower())
                if isinstance(q, Wildcard)
                else terms.user_regex(q.pattern)
            )
            by_text = {terms.shown(t): t for t in vocab}  # patterns see the marks as typed
            expanded = terms.expand(by_text, regex=regex, budget=self.budget)
            plan.append(sorted(by_text[t] for t in expanded))
        found = dict.fromkeys(t for part in plan for t in part)
        return " OR ".join(terms.quote(t) for t in found), plan

    def _phrase(self, q: Phrase, join: bool) -> str:
        """Return the FTS5 expression of a phrase; a phrase with inner stop words is a NEAR.

        bleve drops stop words but keeps their positions: "set of data" is "set", any one
        word, "data". Such phrases are checked word by word in ``_gaps_hold``.
        """
        words = terms.words(q.text, join)
        kept = [(i, w) for i, w in enumerate(words) if not terms.is_stop(w)]
        if not kept:
            return ""
        first, last = kept[0][0], kept[-1][0]
        if len(kept) == last - first + 1:
            return terms.quote(" ".join(w for _, w in kept))
        self.gapped[id(q)] = [(i - first, w) for i, w in kept]
        quoted = " ".join(terms.quote(w) for _, w in kept)
        return f"NEAR({quoted}, {last - first + 1 - len(kept)})"

    # -- the boolean query ----------------------------------------------------------------------

    def boolean(self, q: Boolean, universe: set[int] | None) -> Scores:
        """Return the scores of the query's matches among ``universe`` (None: every document
        of the index, which holds only this scope)."""
        musts = [self.leaf(leaf) for leaf in q.must]
        shoulds = [self.leaf(leaf) for leaf in q.should]
        self.collect = False  # excluded clauses are never highlighted
        excluded: set[int] = set()
        for leaf in q.must_not:
            excluded.update(self.leaf(leaf))
        if musts:
            ids = set(musts[0] if universe is None else universe)
            for m in musts:
                ids.intersection_update(m)
            scores = {doc: sum(m[doc] for m in musts) for doc in ids}
            for doc in ids:  # optional clauses only add to the score when there is a must
                matched = [s[doc] for s in shoulds if doc in s]
                if matched:
                    scores[doc] += sum(matched) * len(matched) / len(shoulds)
        elif len(shoulds) == 1:  # its coordination factor is 1
            (s,) = shoulds
            scores = dict(s) if universe is None else {doc: s[doc] for doc in s.keys() & universe}
        elif shoulds:
            scores = {}
            for s in shoulds:
                for doc in s.keys() if universe is None else s.keys() & universe:
                    scores[doc] = scores.get(doc, 0.0) + s[doc]
            for doc in scores:  # bleve's coordination factor: matched / optional clauses
                scores[doc] *= sum(doc in s for s in shoulds) / len(shoulds)
        elif excluded or q.must_not:  # only exclusions: everything else
            scores = dict.fromkeys(self.scope_docs.every() if universe is None else universe, 1.0)
        else:
            scores = {}
        for doc in excluded:
            scores.pop(doc, None)
        return scores


def _margin(bound: float, dates: bool) -> float:
    """Return how far past a range's bound a value may lie and still be in it for bleve."""
    return abs(bound) * 1e-9 + 1e-3 if dates else 0.0


def _int_option(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SearchError(f"{name} must be an integer from {low} to {high}, not {value!r}")
    return value


def run(conn: sqlite3.Connection, index: str, query: str | Boolean, *, state: Any = None,
        **options: Any) -> SearchResult:  # fmt: skip
    """Return one page of matches of ``query`` on the index named ``index``, with facets.

    ``state``: a value that differs whenever the index may have changed (the store's change
    token, read before the search), under which counts that depend only on the index's
    contents are remembered from search to search; None: nothing is remembered.

    Options: limit (10), offset (0), facets (names, or {name: field or {"field", "size"}};
    default tags, framework, task, opTypes), facet_size (10), highlight (True),
    all_versions (False: only the latest version of each model), filters ({field: value
    or values}: a version must hold one of the values of every field), fields (stored
    fields to return; "*" for all), timeout (seconds, default ``terms.SEARCH_TIMEOUT_S``),
    max_expansions (terms all fuzzy, wildcard and regexp clauses may expand to, together;
    default ``terms.MAX_QUERY_EXPANSION``). Going over either raises SearchLimitExceeded.
    """
    started = time.perf_counter()
    unknown = set(options) - _OPTIONS
    if unknown:
        raise SearchError(f"unknown search option(s): {', '.join(sorted(unknown))}")
    timeout = options.get("timeout", terms.SEARCH_TIMEOUT_S)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise SearchError(f"timeout must be a positive number of seconds, not {timeout!r}")
    budget = terms.Budget(
        float(timeout),
        _int_option(
            options.get("max_expansions", terms.MAX_QUERY_EXPANSION), "max_expansions", 0, 10**7
        ),
    )
    # SQLite calls this every few thousand steps: a long statement stops at the deadline.
    conn.set_progress_handler(budget.expired, _PROGRESS_STEPS)
    try:
        return _run(conn, index, query, budget, started, options, state)
    except sqlite3.OperationalError:
        budget.check()
        raise
    finally:
        conn.set_progress_handler(None, 0)


def _run(
    conn: sqlite3.Connection,
    index: str,
    query: str | Boolean,
    budget: terms.Budget,
    started: float,
    options: Mapping[str, Any],
    state: Any = None,
) -> SearchResult:
    scope = definition.parse_index_name(index)
    limit = _int_option(options.get("limit", 10), "limit", 0, MAX_LIMIT)
    offset = _int_option(options.get("offset", 0), "offset", 0, 10**9)
    facet_size = _int_option(options.get("facet_size", 10), "facet_size", 0, MAX_LIMIT)
    specs = facet_specs(options.get("facets"), facet_size)
    tree = parse(query) if isinstance(query, str) else query
    if not isinstance(tree, Boolean):
        raise SearchError(f"query must be a query string, not {type(query).__name__}")
    tree = effective(tree)

    filters = options.get("filters") or {}
    if not isinstance(filters, Mapping):
        raise SearchError("filters must be a mapping of field to value(s)")
    allowed = page_parts.filter_docs(conn, filters)
    scope_docs = scoring.ScopeDocs(conn, scope)
    universe: set[int] | None = None  # every version of an index holding only this scope
    if not options.get("all_versions") or scope_docs.ids is not None or _full_postings:
        # ids only: the (scope, latest) index answers alone; keys are read for the matches
        universe = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM fts_docs WHERE scope = ?"
                + ("" if options.get("all_versions") else " AND latest = 1"),
                (scope,),
            )
        }
    if allowed is not None:
        universe = allowed if universe is None else universe & allowed

    asked = _Asked(
        conn, scope, tree, scope_docs, universe, budget, offset, limit, specs, options, state
    )
    ranked = _rank_everything(asked) or _rank_one_value(asked) or _rank(asked)
    ev, page, keys, scores = ranked.evaluator, ranked.page, ranked.keys, ranked.scores
    if ranked.facets is not None:
        facets = ranked.facets
    elif specs:
        # the index's own counts serve a match of most of it when it is this scope alone
        whole = scope_docs if scope_docs.ids is None else None
        # the matches are latest versions, of an index holding this scope's alone, unfiltered
        latest_ones = (
            universe
            if not options.get("all_versions") and allowed is None and whole is not None
            else None
        )
        facets = page_parts.facets(
            conn, specs, ranked.matched, whole, keysets=not _full_postings, latest=latest_ones
        )
    else:
        facets = {}
    fragments = page_parts.highlights(conn, ev, page) if options.get("highlight", True) else {}
    marks = ",".join("?" * len(page))
    stored = dict(conn.execute(f"SELECT id, stored FROM fts_docs WHERE id IN ({marks})", page))
    wanted = options.get("fields")
    hits = [
        SearchHit(
            id=keys[doc],
            score=scores[doc],
            fields=page_parts.stored_fields(json.loads(stored[doc]), wanted),
            fragments=fragments.get(doc, {}),
        )
        for doc in page
    ]
    took = (time.perf_counter() - started) * 1000
    return SearchResult(hits=hits, total=ranked.total, facets=facets, took_ms=round(took, 3))


@dataclass
class _Ranked:
    """A search's page of matches and what else it knows of them."""

    evaluator: _Evaluator  # what it highlights
    page: list[int]
    keys: dict[int, str]  # of the page's documents
    scores: Mapping[int, float]  # of the page's documents, at least
    total: int
    matched: list[int] | None = None  # every match (None: not listed)
    facets: dict[str, FacetResult] | None = None  # when known without listing the matches


@dataclass(frozen=True)
class _Asked:
    """What a search asks for, as ``_run`` read it."""

    conn: sqlite3.Connection
    scope: str
    tree: Boolean
    scope_docs: scoring.ScopeDocs
    universe: set[int] | None  # None: every document of the index (this scope alone)
    budget: terms.Budget
    offset: int
    limit: int
    specs: dict[str, tuple[str, int]]  # facets
    options: Mapping[str, Any]
    state: Any = None  # see ``run``


def _rank(a: _Asked) -> _Ranked:
    """Score every match of the query, then rank the page."""
    # A few documents of a big index (the latest versions): leaves score only those.
    few = a.universe is not None and len(a.universe) * _FEW_DOCS_RATIO <= len(a.scope_docs)
    only = a.universe if few and a.scope_docs.ids is None and not _full_postings else None
    latest_only = not a.options.get("all_versions")
    ev = _Evaluator(a.conn, a.scope_docs, a.budget, only, latest_only=latest_only, state=a.state)
    scores = ev.boolean(a.tree, a.universe)
    page, keys = ranking.page_of(
        a.conn, a.scope, scores, a.offset, a.limit, len(a.scope_docs), walk=not _full_postings
    )
    return _Ranked(ev, page, keys, scores, len(scores), matched=list(scores))


def _rank_everything(a: _Asked) -> _Ranked | None:
    """Rank a query matching every document alike (``_everything_score``), if it is one:
    the page is the scope's first keys, the facets the index's own counts."""
    every = _everything_score(a.conn, a.tree, a.scope_docs, a.universe)
    if every is None:
        return None
    rows = a.conn.execute(
        "SELECT id, key FROM fts_docs WHERE scope = ? ORDER BY key LIMIT ? OFFSET ?",
        (a.scope, a.limit, a.offset),
    ).fetchall()
    page = [doc for doc, _ in rows]
    ev = _Evaluator(a.conn, a.scope_docs, a.budget)  # nothing to highlight: ``*`` on text
    return _Ranked(ev, page, dict(rows), dict.fromkeys(page, every), len(a.scope_docs))


def _rank_one_value(a: _Asked) -> _Ranked | None:
    """Rank a search of one keyword value over every version (of an index holding this scope
    alone, unfiltered) per keyset (``one_value``), if it is one."""
    one = _one_value(a.tree, a.scope_docs, a.universe)
    if one is None:
        return None
    ev = _Evaluator(a.conn, a.scope_docs, a.budget)
    keysets = one_value.matching_keysets(a.conn, one)
    groups = one_value.groups(one, keysets, ev.stats)
    page, keys, scores = one_value.page(
        a.conn, a.scope, one, groups, a.offset, a.limit, len(a.scope_docs)
    )
    total = sum(g.docs for g in groups)
    if total:
        ev.keyword_highlights[one.field] = {one.value}
    facets = page_parts.facets_of_keysets(a.specs, [(t, n) for _, t, n in keysets], total)
    return _Ranked(ev, page, keys, scores, total, facets=facets)


def _one_value(
    tree: Boolean, scope_docs: scoring.ScopeDocs, universe: set[int] | None
) -> one_value.OneValue | None:
    """Return the keyword value a search over every version (of an index holding this scope
    alone, unfiltered) searches, if it is a search of one such value (``one_value``)."""
    if not _one_value_shortcut or _full_postings or universe is not None:
        return None
    return one_value.clause(tree) if scope_docs.ids is None else None


def _everything_score(
    conn: sqlite3.Connection,
    tree: Boolean,
    scope_docs: scoring.ScopeDocs,
    universe: set[int] | None,
) -> float | None:
    """Return the score every document gets when the query matches each one alike, else None.

    That is a lone ``*`` on text fields (the home page's empty search, over every version)
    that spans all the columns of one text table, when every document of the index (this
    scope alone) has a row there: ``*`` then matches each row with a score of its boost.
    FTS5 counts its rows with every write, so this costs one read, where listing 100,000
    matches cost 90-130 ms.
    """
    leaves = [*tree.must, *tree.should]
    if (
        not _everything_shortcut
        or _full_postings
        or universe is not None
        or scope_docs.ids is not None
        or tree.must_not
        or len(leaves) != 1
    ):
        return None
    (q,) = leaves
    if not isinstance(q, Wildcard) or set(q.pattern) != {"*"}:
        return None
    fields = leaf_fields(q)
    if any(f.is_keyword or f.is_numeric for f in fields):
        return None
    tables = {columns()[f.name].table for f in fields}
    if len(tables) != 1:
        return None
    (table,) = tables
    if len(fields) != len(text_tables()[table]) or fts_rows(conn, table) != len(scope_docs):
        return None
    return q.boost
