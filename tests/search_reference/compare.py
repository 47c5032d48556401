"""One query string on both engines: the embedded store and bleve-oracle, side by side."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog.search import couchbase_request, definition, index_name
from catalog.search.querystring import parse
from catalog.search.results import SearchError
from tests.search_reference.oracle import Oracle

INDEX = index_name("ml", "catalog")
FACET_SIZE = 5
FACETS = {name: {"field": f, "size": FACET_SIZE} for name, f in definition.DEFAULT_FACETS.items()}
# Two bleve scores closer than this (relative) are a tie: their order is not compared.
SCORE_TOLERANCE = 1e-6


@dataclass
class Answer:
    """What one engine made of a query string."""

    refused: str | None = None  # "parse" (syntax), "field" (the catalog's checks), "search"
    message: str = ""
    hits: list[str] = field(default_factory=list)  # best first
    scores: list[float] = field(default_factory=list)
    facets: dict[str, Any] = field(default_factory=dict)  # name -> (total, missing, other, terms)

    @property
    def ids(self) -> set[str]:
        return set(self.hits)


def embedded(store: Any, q: str) -> Answer:
    """Return the embedded store's answer (every version, every hit, the default facets)."""
    try:
        parse(q)
    except SearchError as e:
        return Answer(refused="parse", message=str(e))
    try:
        result = store.search(
            INDEX, q, all_versions=True, limit=1000, facet_size=FACET_SIZE, highlight=False
        )
    except SearchError as e:
        kind = "field" if "unknown field" in str(e) or "range" in str(e) else "search"
        return Answer(refused=kind, message=str(e))
    facets = {
        name: (f.total, f.missing, f.other, [list(t) for t in f.terms])
        for name, f in result.facets.items()
    }
    return Answer(
        hits=[h.id for h in result.hits], scores=[h.score for h in result.hits], facets=facets
    )


def couchbase_string(q: str) -> str | None:
    """Return the query string Couchbase is sent the meaning of (full field names)."""
    return couchbase_request.query_string(q)


def bleve(oracle: Oracle, q: str) -> Answer:
    """Return bleve's answer to what the Couchbase backend sends for ``q``.

    A string the catalog's parser refuses is asked as typed, to see whether bleve's parser
    refuses it too; otherwise bleve is asked the full-name string of the same parse tree.
    """
    try:
        sent = couchbase_string(q)
    except SearchError:
        # the catalog refuses it (syntax, unknown field, range on text): what does bleve say?
        raw = oracle.ask(q, size=10_000)
        if raw.get("error"):
            return Answer(refused=raw.get("error_at", "parse"), message=raw["error"])
        return Answer(hits=[h["id"] for h in raw.get("hits", [])])
    if sent is None:
        return Answer(refused="unsayable", message="no query string says this tree")
    if sent == "*":
        sent = "*"  # bleve's own wildcard over _all: every document that has any term
    raw = oracle.ask(sent, facets=FACETS)
    if raw.get("error"):
        return Answer(refused=raw.get("error_at", "search"), message=raw["error"])
    facets = {
        name: (
            f.get("total", 0),
            f.get("missing", 0),
            f.get("other", 0),
            [list(t) for t in f.get("terms") or []],
        )
        for name, f in (raw.get("facets") or {}).items()
    }
    hits = raw.get("hits", [])
    return Answer(hits=[h["id"] for h in hits], scores=[h["score"] for h in hits], facets=facets)


def same_order(ours: Answer, theirs: Answer, top: int = 10) -> bool:
    """Return whether the top hits come in bleve's order, ties in bleve's scores aside."""
    if ours.ids != theirs.ids:
        return False
    score = dict(zip(theirs.hits, theirs.scores, strict=True))
    mine = ours.hits[:top]
    for a, b in zip(mine, mine[1:], strict=False):
        if score[a] < score[b] - SCORE_TOLERANCE * max(abs(score[a]), abs(score[b]), 1e-9):
            return False
    return set(mine) == set(sorted(theirs.hits, key=lambda h: -score[h])[:top]) or _ties_at_cut(
        theirs, mine, score, top
    )


def _ties_at_cut(theirs: Answer, mine: list[str], score: dict[str, float], top: int) -> bool:
    """Return whether the top sets differ only by documents tied with bleve's cut-off score."""
    ranked = sorted(theirs.hits, key=lambda h: -score[h])
    if len(ranked) <= top:
        return False
    cut = score[ranked[top - 1]]
    return all(
        abs(score[h] - cut) <= SCORE_TOLERANCE * max(abs(cut), 1e-12)
        for h in set(mine) ^ set(ranked[:top])
    )
