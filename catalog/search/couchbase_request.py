"""The Couchbase search request, built from the same parse tree the embedded engine runs.

Couchbase's own query-string parser knows nothing of the catalog's short field names
(``tags``, ``op``, ``paramCount``): sent unchanged, ``tags:iris`` finds nothing there. So the
query string is parsed here (``catalog.search.querystring``), every clause is resolved to
the full field names of ``index.json`` (``catalog.search.resolution``), and Couchbase is
sent a structured query (conjuncts, disjuncts, match, match_phrase, wildcard, regexp,
numeric and date ranges) with the meaning bleve's parser would give the full-name string.

``query_string(tree)`` renders the same tree as a bleve query string with full field names,
which is how the differential tests ask bleve-oracle what Couchbase answers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from catalog.search import definition
from catalog.search.querystring import (
    RESERVED,
    Boolean,
    Leaf,
    Match,
    Phrase,
    Regexp,
    Wildcard,
    parse,
)
from catalog.search.resolution import (
    bleve_fields,
    effective,
    lowercases,
)
from catalog.search.results import SearchError

Json = dict[str, Any]


def tree_of(query: str | Boolean) -> Boolean:
    """Return the parse tree of a query string (a tree is returned as it is)."""
    if isinstance(query, Boolean):
        return query
    if not isinstance(query, str):
        raise SearchError(f"search query must be a query string, not {type(query).__name__}")
    return parse(query)


def _is_match_all(tree: Boolean) -> bool:
    only = [*tree.must, *tree.should]
    return (
        len(only) == 1
        and not tree.must_not
        and isinstance(only[0], Wildcard)
        and only[0].field is None
        and set(only[0].pattern) == {"*"}
    )


def _date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _pattern(leaf: Wildcard) -> str:
    return leaf.pattern.lower() if lowercases(leaf) else leaf.pattern


def _with_field(query: Json, field: str | None, boost: float) -> Json:
    if field is not None:
        query["field"] = field
    if boost != 1.0:
        query["boost"] = boost
    return query


def _leaf_query(leaf: Leaf, field: str | None) -> Json:
    if isinstance(leaf, Match):
        match: Json = {"match": leaf.text}
        if leaf.fuzziness:
            match["fuzziness"] = leaf.fuzziness
        if leaf.number is None:
            return _with_field(match, field, leaf.boost)
        # bleve's query string reads a number as "the text or the number" (two clauses)
        value = leaf.number
        number = {"min": value, "max": value, "inclusive_min": True, "inclusive_max": True}
        return _with_field(
            {"disjuncts": [_with_field(match, field, 1.0), _with_field(number, field, 1.0)]},
            None,
            leaf.boost,
        )
    if isinstance(leaf, Phrase):
        return _with_field({"match_phrase": leaf.text}, field, leaf.boost)
    if isinstance(leaf, Wildcard):
        return _with_field({"wildcard": _pattern(leaf)}, field, leaf.boost)
    if isinstance(leaf, Regexp):
        return _with_field({"regexp": leaf.pattern}, field, leaf.boost)
    low, high = ("min", "max") if not leaf.dates else ("start", "end")
    bounds: Json = {}
    for name, value, inclusive in (
        (low, leaf.low, leaf.low_inclusive),
        (high, leaf.high, leaf.high_inclusive),
    ):
        if value is not None:
            bounds[name] = _date(value) if leaf.dates else value
            bounds[f"inclusive_{name}"] = inclusive
    return _with_field(bounds, field, leaf.boost)


def leaf_query(leaf: Leaf) -> Json:
    """Return the Couchbase query of one clause (a disjunction when it names several fields)."""
    queries = [_leaf_query(leaf, field) for field in bleve_fields(leaf)]
    return queries[0] if len(queries) == 1 else {"disjuncts": queries, "min": 1}


def search_query(query: str | Boolean) -> Json:
    """Return the Couchbase search query (JSON) of a query string, with full field names."""
    tree = effective(tree_of(query))
    if tree.is_empty():
        return {"match_none": {}}
    if _is_match_all(tree):
        return {"match_all": {}}
    out: Json = {}
    if tree.must:
        out["must"] = {"conjuncts": [leaf_query(q) for q in tree.must]}
    if tree.should:
        out["should"] = {
            "disjuncts": [leaf_query(q) for q in tree.should],
            "min": 0 if tree.must else 1,
        }
    if tree.must_not:
        out["must_not"] = {"disjuncts": [leaf_query(q) for q in tree.must_not]}
    return out


# -- the same tree as a bleve query string ---------------------------------------------------


def _escape(text: str, keep: str = "") -> str:
    return "".join("\\" + c if c in RESERVED and c not in keep else c for c in text)


def _boost(leaf: Leaf) -> str:
    return "" if leaf.boost == 1.0 else f"^{leaf.boost:g}"


def _render(leaf: Leaf, field: str | None) -> str:
    scope = "" if field is None else _escape(field) + ":"
    if isinstance(leaf, Match):
        text = leaf.text if leaf.number is not None else _escape(leaf.text)
        if leaf.fuzziness:  # bleve reads "~1^2" as one fuzziness: the boost needs a space
            return scope + text + f"~{leaf.fuzziness}" + (" " + _boost(leaf)).rstrip()
        return scope + text + _boost(leaf)
    if isinstance(leaf, Phrase):
        return (
            scope + '"' + leaf.text.replace("\\", "\\\\").replace('"', '\\"') + '"' + _boost(leaf)
        )
    if isinstance(leaf, Wildcard):
        return scope + _escape(_pattern(leaf), keep="*?") + _boost(leaf)
    if isinstance(leaf, Regexp):
        return scope + "/" + _escape(leaf.pattern) + "/" + _boost(leaf)
    op, value, inclusive = (">", leaf.low, leaf.low_inclusive)
    if leaf.low is None:
        op, value, inclusive = ("<", leaf.high, leaf.high_inclusive)
    assert value is not None
    bound = f'"{_date(value)}"' if leaf.dates else _number(value)
    return scope + op + ("=" if inclusive else "") + bound + _boost(leaf)


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) and abs(value) < 2**53 else repr(value)


def query_string(query: str | Boolean) -> str | None:
    """Return the tree as a bleve query string with full field names.

    None when no query string says it: a required clause on a name that covers several
    fields (``+doc:word``), which the structured query sends as a disjunction.
    """
    tree = tree_of(query)
    parts: list[str] = []
    for prefix, leaves in (("+", tree.must), ("", tree.should), ("-", tree.must_not)):
        for leaf in leaves:
            fields = bleve_fields(leaf)
            if prefix == "+" and len(fields) > 1:
                return None
            parts += [prefix + _render(leaf, f) for f in fields]
    return " ".join(parts)


# -- facets and filters ---------------------------------------------------------------------


def filter_queries(filters: Mapping[str, Any]) -> list[Json]:
    """Return one disjunction of exact terms per filtered field (a hit must match each)."""
    clauses = []
    for name, wanted in filters.items():
        values = wanted if isinstance(wanted, (list, tuple, set)) else [wanted]
        fields = definition.resolve(name)
        terms = [{"term": str(v), "field": f.name} for f in fields for v in values]
        if not terms:
            raise SearchError(f"filter {name!r} has no values")
        clauses.append({"disjuncts": terms, "min": 1})
    return clauses


def request_query(
    query: str | Boolean,
    filters: Mapping[str, Any] | None = None,
    latest_ids: Iterable[str] | None = None,
) -> Json:
    """Return the whole query of a search: the query string's, AND each filter, AND the ids."""
    q = search_query(query)
    clauses = filter_queries(filters) if filters else []
    if latest_ids is not None:
        clauses.append({"ids": list(latest_ids)})
    return {"conjuncts": [q, *clauses]} if clauses else q
