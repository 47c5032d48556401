"""The same searches on Couchbase: query trees as Couchbase search requests, and back.

The embedded store and Couchbase parse query strings the same way (``querystring``); here
a parsed tree becomes Couchbase's JSON query (so short field names such as ``tags`` reach
the server as ``metadata.tags``), with facets, filters, highlighting and a page, and a
REST response becomes the same ``SearchResult`` the embedded store returns.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from catalog.search import definition
from catalog.search.engine import DEFAULT_FIELDS
from catalog.search.querystring import Boolean, Leaf, Match, Phrase, Range, Regexp, Wildcard, parse
from catalog.store.base import FacetResult, SearchError, SearchHit, SearchResult


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _one(leaf: Leaf, field: str | None) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(leaf, Match):
        out = {"match": leaf.text}
        if leaf.fuzziness:
            out["fuzziness"] = leaf.fuzziness
        if leaf.number is not None:
            number: dict[str, Any] = {
                "min": leaf.number,
                "max": leaf.number,
                "inclusive_min": True,
                "inclusive_max": True,
            }
            if field:
                out["field"] = number["field"] = field
            return {"disjuncts": [out, number]}
    elif isinstance(leaf, Phrase):
        out = {"match_phrase": leaf.text}
    elif isinstance(leaf, Wildcard):
        out = {"wildcard": leaf.pattern}
    elif isinstance(leaf, Regexp):
        out = {"regexp": leaf.pattern}
    elif leaf.dates:
        out = {}
        if leaf.low is not None:
            out.update(start=_iso(leaf.low), inclusive_start=leaf.low_inclusive)
        if leaf.high is not None:
            out.update(end=_iso(leaf.high), inclusive_end=leaf.high_inclusive)
    else:
        out = {}
        if leaf.low is not None:
            out.update(min=leaf.low, inclusive_min=leaf.low_inclusive)
        if leaf.high is not None:
            out.update(max=leaf.high, inclusive_max=leaf.high_inclusive)
    if field:
        out["field"] = field
    return out


def leaf_query(leaf: Leaf) -> dict[str, Any]:
    """Return Couchbase's JSON for one clause, with aliases expanded to full field paths."""
    fields = [None] if leaf.field is None else [f.name for f in definition.resolve(leaf.field)]
    if leaf.field is not None and isinstance(leaf, Range):
        for f in definition.resolve(leaf.field):
            if not f.is_numeric or leaf.dates != (f.type == "datetime"):
                raise SearchError(f"{leaf.field} has no {'date' if leaf.dates else 'number'} range")
    parts = [_one(leaf, name) for name in fields]
    query = parts[0] if len(parts) == 1 else {"disjuncts": parts, "min": 1}
    if leaf.boost != 1.0:
        query["boost"] = leaf.boost
    return query


def tree_query(tree: Boolean) -> dict[str, Any]:
    """Return Couchbase's JSON query for a parsed query string (bleve's boolean semantics)."""
    if tree.is_empty():
        return {"match_none": {}}
    query: dict[str, Any] = {}
    if tree.must:
        query["must"] = {"conjuncts": [leaf_query(q) for q in tree.must]}
    if tree.should:
        query["should"] = {
            "disjuncts": [leaf_query(q) for q in tree.should],
            "min": 0 if tree.must else 1,
        }
    if tree.must_not:
        query["must_not"] = {"disjuncts": [leaf_query(q) for q in tree.must_not], "min": 0}
        if not tree.must and not tree.should:
            query["must"] = {"conjuncts": [{"match_all": {}}]}
    return query


def search_request(
    query: str | Boolean,
    *,
    limit: int = 10,
    offset: int = 0,
    facets: Sequence[str] | Mapping[str, Any] | None = None,
    facet_size: int = 10,
    highlight: bool = True,
    filters: Mapping[str, Any] | None = None,
    fields: Sequence[str] | None = None,
    latest_ids: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Return the body of a Couchbase search request (REST ``/api/.../query``).

    ``latest_ids``: the keys of the latest versions (e.g. from SQL++), to search only them.
    """
    from catalog.search.engine import facet_specs

    tree = parse(query) if isinstance(query, str) else query
    conjuncts = [tree_query(tree)]
    for name, wanted in (filters or {}).items():
        values = [wanted] if isinstance(wanted, (str, int, float)) else list(wanted or ())
        if values:
            (f,) = definition.resolve(name)[:1]
            terms = [
                {
                    "min": float(v),
                    "max": float(v),
                    "inclusive_min": True,
                    "inclusive_max": True,
                    "field": f.name,
                }
                if f.is_numeric
                else {"term": str(v), "field": f.name}
                for v in values
            ]
            conjuncts.append({"disjuncts": terms, "min": 1})
    if latest_ids is not None:
        conjuncts.append({"ids": list(latest_ids)})
    wanted_fields = list(fields) if fields is not None else list(DEFAULT_FIELDS)
    if "*" not in wanted_fields:
        wanted_fields = [f.name for name in wanted_fields for f in definition.resolve(name)]
    body: dict[str, Any] = {
        "query": conjuncts[0] if len(conjuncts) == 1 else {"conjuncts": conjuncts},
        "size": limit,
        "from": offset,
        "fields": wanted_fields,
        "facets": {
            name: {"field": field, "size": size}
            for name, (field, size) in facet_specs(facets, facet_size).items()
        },
    }
    if highlight:
        body["highlight"] = {"style": "html"}
    return body


def result_from_response(body: Mapping[str, Any]) -> SearchResult:
    """Return the SearchResult of a Couchbase search REST response."""
    hits = [
        SearchHit(
            id=h["id"],
            score=float(h.get("score", 0.0)),
            fields=dict(h.get("fields") or {}),
            fragments={k: list(v) for k, v in (h.get("fragments") or {}).items()},
        )
        for h in body.get("hits") or []
    ]
    facets = {
        name: FacetResult(
            name=name,
            field=f.get("field", ""),
            total=int(f.get("total", 0)),
            missing=int(f.get("missing", 0)),
            other=int(f.get("other", 0)),
            terms=[(t["term"], int(t["count"])) for t in f.get("terms") or []],
        )
        for name, f in (body.get("facets") or {}).items()
    }
    took_ns = body.get("took", 0) or 0
    return SearchResult(
        hits=hits,
        total=int(body.get("total_hits", len(hits))),
        facets=facets,
        took_ms=took_ns / 1e6,
    )
