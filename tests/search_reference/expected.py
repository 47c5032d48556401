"""What the embedded store cannot answer as Couchbase (bleve) does, each with a query showing it.

The differential suite checks that each of these still differs (a fix moves it out of here)
and that nothing else does.
"""

from __future__ import annotations

# query string -> why the embedded store's answer differs from bleve's
KNOWN_DIFFERENCES: dict[str, str] = {
    "description:afters": (
        "FTS5 keeps stop words in its index, bleve drops them before stemming: a query word"
        " that stems to a stop word (afters -> after) finds the stop word itself only in the"
        " embedded store's stemmed fields"
    ),
    "metadataProps:grace": (
        "summary.metadataProps is a dynamic mapping: bleve indexes each property as its own"
        " field (summary.metadataProps.owner:grace agrees), the embedded store also searches"
        " them all under the mapping's name"
    ),
    "tgs:iris": (
        "an unknown field is refused with the list of fields on both of the catalog's stores"
        " (the query is resolved before it is sent); bleve itself answers no hits"
    ),
    "name:>5": (
        "a range on a text field is refused on both of the catalog's stores; bleve itself"
        " answers no hits"
    ),
}

# Examples of the search page that find nothing in the demo catalog, on both engines.
EMPTY_EXAMPLES: dict[str, str] = {
    "/mlp-v[0-9]+/": (
        "a regexp matches whole terms and the standard analyzer splits names at hyphens,"
        " so no term holds a hyphen; /mlp.*/ finds the MLP model"
    ),
}
