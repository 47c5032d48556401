"""A search for one keyword value over every version, answered per keyset.

That is a facet's value clicked with "All versions" ticked (``tags:finance``): at 100,002
versions it matches 25,000 of them, and listing each match with its field length cost
90-160 ms. A keyword value scores ``norm(field length) * idf**2`` (``scoring.term_scores``,
term frequency 1), and a document's length of a keyword field is the number of its distinct
values there, which its keyset (``kept``) lists. So every document of a keyset holding the
value scores alike. ``kept`` keeps the keysets holding each value and the documents of each
keyset: the total, the score groups and the facets come from those few rows, and only the
documents of the groups that reach the page are read, in key order.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from catalog.search import ranking, scoring
from catalog.search.kept import keyset_pairs
from catalog.search.querystring import Boolean, Match
from catalog.search.resolution import leaf_fields


@dataclass(frozen=True)
class OneValue:
    """The clause of such a search: a keyword field, one value, the clause's boost."""

    field: str
    value: str
    boost: float


@dataclass(frozen=True)
class Group:
    """The matches of one score: the keysets holding the value with that field length."""

    score: float
    keysets: tuple[int, ...]
    docs: int


def clause(tree: Boolean) -> OneValue | None:
    """Return the one keyword value a query searches, if that is all it does: a lone
    match (not fuzzy, not a number, which bleve also reads as a number) on one keyword
    field, required or optional, with nothing excluded."""
    leaves = [*tree.must, *tree.should]
    if tree.must_not or len(leaves) != 1:
        return None
    (q,) = leaves
    if not isinstance(q, Match) or q.fuzziness or q.number is not None or not q.field:
        return None
    fields = leaf_fields(q)
    if len(fields) != 1 or not fields[0].is_keyword:
        return None
    return OneValue(fields[0].name, q.text, q.boost)


def matching_keysets(conn: sqlite3.Connection, one: OneValue) -> list[tuple[int, str, int]]:
    """Return (keyset id, keyset text, documents) of each keyset holding the value, from the
    keysets' own counts (``kept``): a few rows, however many documents hold the value."""
    return conn.execute(
        "SELECT k.id, k.terms, k.docs FROM fts_keyset_terms t JOIN fts_keysets k"
        " ON k.id = t.keyset WHERE t.field = ? AND t.term = ? AND k.docs > 0",
        (one.field, one.value),
    ).fetchall()


def groups(
    one: OneValue, keysets: list[tuple[int, str, int]], stats: scoring.TermStats
) -> list[Group]:
    """Return the score groups of the matches, highest score first."""
    total = sum(n for _, _, n in keysets)
    weight = stats.idf(total) ** 2
    # by score, not by length: two lengths may share a float32 norm, hence a score
    by_score: dict[float, tuple[list[int], int]] = {}
    for keyset, text, n in keysets:
        length = sum(1 for field, _ in keyset_pairs(text) if field == one.field)
        score = scoring.keyword_score(length, weight)
        if one.boost != 1.0:
            score *= one.boost
        ids, docs = by_score.get(score, ([], 0))
        ids.append(keyset)
        by_score[score] = (ids, docs + n)
    return [
        Group(score, tuple(sorted(ids)), docs)
        for score, (ids, docs) in sorted(by_score.items(), reverse=True)
    ]


def page(
    conn: sqlite3.Connection,
    scope: str,
    one: OneValue,
    score_groups: list[Group],
    offset: int,
    limit: int,
    scope_count: int,
) -> tuple[list[int], dict[int, str], dict[int, float]]:
    """Return the matches at [offset, offset + limit) by score, then key: their ids, keys
    and scores. A group that is a good part of the scope is read off the scope's key index
    until the page is full; a smaller one through the value's postings."""
    end = offset + limit
    out: list[int] = []
    keys: dict[int, str] = {}
    scores: dict[int, float] = {}
    before = 0
    for g in score_groups:
        if limit == 0 or before >= end:
            break
        if before + g.docs > offset:
            wanted = end - before
            members = json.dumps(list(g.keysets))
            if g.docs * ranking.KEY_WALK_RATIO >= scope_count:
                rows = conn.execute(
                    "SELECT id, key FROM fts_docs WHERE scope = ?"
                    " AND keyset IN (SELECT value FROM json_each(?)) ORDER BY key LIMIT ?",
                    (scope, members, wanted),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT d.id, d.key FROM fts_terms t JOIN fts_docs d ON d.id = t.doc"
                    " WHERE t.field = ? AND t.term = ?"
                    " AND d.keyset IN (SELECT value FROM json_each(?)) ORDER BY d.key LIMIT ?",
                    (one.field, one.value, members, wanted),
                ).fetchall()
            for doc, key in rows[max(offset - before, 0) :]:
                out.append(doc)
                keys[doc] = key
                scores[doc] = g.score
        before += g.docs
    return out, keys, scores
