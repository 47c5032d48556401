"""What the embedded store cannot answer as Couchbase (bleve) does, each with a query showing it.

The differential suite checks that each of these still differs (a fix moves it out of here)
and that nothing else does.
"""

from __future__ import annotations

# query string -> why the embedded store's answer differs from bleve's
KNOWN_DIFFERENCES: dict[str, str] = {
    "package": (
        "bleve's Unicode word rules keep package's whole (an apostrophe between letters);"
        " SQLite FTS5 splits it, so plain `package` finds the light models only in the"
        " embedded store (the `en` analyzer strips possessives: description:package agrees)"
    ),
    "1.5": (
        "bleve keeps 1.5 as one token, FTS5 makes two (1 and 5): plain `1.5` finds versions"
        " whose text holds a 1 and a 5 in the embedded store only"
    ),
    '"svm tabular"': (
        "bleve keeps the values of an array apart, the embedded store joins them in one FTS5"
        " column: a phrase across two tags (svm, tabular) matches only in the embedded store"
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
