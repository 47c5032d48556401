"""Every SQL++ statement the catalog itself sends to a store, each named, in one place.

Pages, APIs and learners never write SQL++: they call a named domain operation
(``Registry.version_numbers``, ``Registry.alias_history``, ``learning_history``,
``labelled_predictions``...), which runs one of the statements below through ``run``. The
workbench is the one door for a user's own SQL++.

Statements name bare collections (``models``, ``audit``, ``predictions``) and run with the
catalog's query context (``ml.catalog``), so they read exactly as in Couchbase's Query
Workbench. ``at`` is a reserved word in Couchbase's grammar: it is always escaped.

Lists are paged by keyset: a statement takes the last key of the previous page and a limit,
and ``Page.next`` is an opaque cursor for the following page (None on the last page).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from catalog.store import DocumentStore, QueryError

# The largest page any list operation returns.
MAX_PAGE = 1000


@dataclass(frozen=True)
class Query:
    """One statement the catalog sends: its name, text, an example and the index serving it."""

    name: str
    statement: str
    example_params: dict[str, Any]
    index: str
    purpose: str


# The keyset start of a newest-first list of versions: above every version number.
NEWEST = 2**53

VERSION_NUMBERS = Query(
    "version_numbers",
    "SELECT RAW m.version FROM models m WHERE m.name = $name AND m.version < $before"
    " ORDER BY m.version DESC LIMIT $limit",
    {"name": "breast-cancer-online", "before": 5, "limit": 100},
    "idx_models_name_version",
    "version numbers of a model below a bound, newest first (OIP metadata, diff, drift)",
)

# The fields of a version a list shows (catalog.domain.listing.version_info), never the graph.
_LISTED = (
    "m.name, m.version, m.createdAt, m.format, m.metadata.description, m.metadata.tags,"
    " m.metadata.task, m.metadata.framework, m.summary.opTypes, m.summary.paramCount,"
    " m.summary.sizeBytes"
)

VERSIONS_PAGE = Query(
    "versions_page",
    f"SELECT {_LISTED} FROM models m WHERE m.name = $name AND m.version < $before"
    " ORDER BY m.version DESC LIMIT $limit",
    {"name": "breast-cancer-online", "before": 5, "limit": 3},
    "idx_models_name_version",
    "a page of a model's versions with their listing fields, newest first (model page, CLI)",
)

VERSIONS_BY_KEY = Query(
    "versions_by_key",
    f"SELECT {_LISTED} FROM models m USE KEYS $keys",
    {"keys": ["iris-svc::1", "breast-cancer-online::6", "absent::1"]},
    "#primary",
    "the listing fields of named versions (the newest version of each model on a page)",
)

VERSION_COUNT = Query(
    "version_count",
    "SELECT RAW COUNT(*) FROM models m WHERE m.name = $name",
    {"name": "breast-cancer-online"},
    "idx_models_name_version",
    "how many version documents a model has, counted in the index (model list, pages)",
)

VERSION_COUNTS = Query(
    "version_counts",
    "SELECT m.name, COUNT(*) AS versions FROM models m WHERE m.name IN $names GROUP BY m.name",
    {"names": ["breast-cancer-online", "iris-svc", "absent"]},
    "idx_models_name_version",
    "how many version documents each model of a page has, counted in the index (model list)",
)

MODEL_NAMES = Query(
    "model_names",
    "SELECT META(a).id AS name, a.aliases.`latest` AS `latest` FROM aliases a"
    " WHERE META(a).id > $after AND a.aliases.`latest` IS VALUED"
    " ORDER BY META(a).id LIMIT $limit",
    {"after": "breast-cancer-online", "limit": 3},
    "#primary",
    "a page of model names with their latest version, by name (model list)",
)

MODEL_COUNT = Query(
    "model_count",
    "SELECT RAW COUNT(*) FROM aliases a WHERE a.aliases.`latest` IS VALUED",
    {},
    "idx_aliases_latest",
    "how many models have at least one version (model list)",
)

VERSION_LINEAGE_NEWEST = Query(
    "version_lineage_newest",
    "SELECT m.version, m.createdAt, m.lineage, m.metadata.metrics AS metrics"
    " FROM models m WHERE m.name = $name AND m.version < $before"
    " ORDER BY m.version DESC LIMIT $limit",
    {"name": "breast-cancer-online", "before": 5, "limit": 3},
    "idx_models_history",
    "a model's versions with lineage and metrics, newest first (versions page, curve)",
)

VERSION_LINEAGE = Query(
    "version_lineage",
    "SELECT m.version, m.createdAt, m.lineage, m.metadata.metrics AS metrics"
    " FROM models m WHERE m.name = $name AND m.version > $after"
    " ORDER BY m.version LIMIT $limit",
    {"name": "breast-cancer-online", "after": 0, "limit": 100},
    "idx_models_history",
    "a model's versions with lineage and metrics, oldest first (learning history)",
)

VERSION_LINEAGE_AT = Query(
    "version_lineage_at",
    "SELECT m.version, m.createdAt, m.lineage, m.metadata.metrics AS metrics"
    " FROM models m WHERE m.name = $name AND m.version IN $versions ORDER BY m.version",
    {"name": "breast-cancer-online", "versions": [1, 3, 5]},
    "idx_models_history",
    "chosen versions of a model with lineage and metrics (the older part of the curve)",
)

ALIAS_HISTORY = Query(
    "alias_history",
    "SELECT a.*, META(a).id AS auditKey FROM audit a"
    " WHERE a.name = $name"
    " AND (a.`at` < $before OR (a.`at` = $before AND META(a).id < $key))"
    " ORDER BY a.`at` DESC, META(a).id DESC LIMIT $limit",
    {"name": "iris-svc", "before": "9999", "key": "", "limit": 50},
    "idx_audit_name_at",
    "a model's alias moves, newest first (versions page, rollback)",
)

LABELLED_PREDICTIONS = Query(
    "labelled_predictions",
    "SELECT p.id, p.inputs, p.feedback FROM predictions p"
    " WHERE p.model = $name AND p.feedback IS VALUED"
    " AND (p.feedback.`at` > $at OR (p.feedback.`at` = $at AND p.id > $id))"
    " ORDER BY p.feedback.`at`, p.id LIMIT $limit",
    {"name": "iris-svc", "at": "", "id": "", "limit": 100},
    "idx_predictions_model_feedback",
    "logged predictions that got a feedback label since a cursor (learning from feedback)",
)

ALIAS_LAST_MOVE = Query(
    "alias_last_move",
    "SELECT a.`from`, a.`to`, a.`at` FROM audit a WHERE a.name = $name AND a.alias = $alias"
    " ORDER BY a.`at` DESC, META(a).id DESC LIMIT 1",
    {"name": "iris-svc", "alias": "production"},
    "idx_audit_name_alias_at",
    "the last move of one alias of a model (rollback)",
)

PREDICTIONS_PAGE = Query(
    "predictions_page",
    "SELECT p.id, p.version, p.`at`, p.tookMs, p.requestId, p.outputs, p.feedback"
    " FROM predictions p WHERE p.model = $name"
    " AND (p.`at` < $before OR (p.`at` = $before AND p.id < $id))"
    " ORDER BY p.`at` DESC, p.id DESC LIMIT $limit",
    {"name": "iris-svc", "before": "9999", "id": "", "limit": 50},
    "idx_predictions_model_at",
    "a page of a model's logged predictions, newest first (predictions API)",
)

VERSIONS_TRAINED_ON = Query(
    "versions_trained_on",
    "SELECT RAW m.version FROM models m WHERE m.name = $name"
    " AND ANY b IN m.lineage.trainedOn SATISFIES b.batchId = $batch OR $batch IN b.chunks END"
    " ORDER BY m.version",
    {"name": "iris-svm-online", "batch": "demo-iris-1"},
    "idx_models_history",
    "the versions of a refit-learning model trained on a batch (id or datasets chunk key)",
)

ALL: tuple[Query, ...] = (
    VERSION_NUMBERS,
    VERSIONS_PAGE,
    VERSIONS_BY_KEY,
    VERSION_COUNT,
    VERSION_COUNTS,
    MODEL_NAMES,
    MODEL_COUNT,
    VERSION_LINEAGE,
    VERSION_LINEAGE_AT,
    VERSION_LINEAGE_NEWEST,
    ALIAS_HISTORY,
    ALIAS_LAST_MOVE,
    PREDICTIONS_PAGE,
    LABELLED_PREDICTIONS,
    VERSIONS_TRAINED_ON,
)


@dataclass
class Page:
    """One page of a list: its items and the cursor of the next page (None: the last one)."""

    items: list[Any]
    next: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class InvalidCursor(ValueError):
    """A cursor that this catalog did not hand out."""


class InvalidLimit(InvalidCursor):
    """A page size that is not a whole number from 1 to MAX_PAGE."""


def encode_cursor(key: list[Any]) -> str:
    """Return the opaque cursor of a keyset position."""
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, default: list[Any]) -> list[Any]:
    """Return the keyset position of a cursor (``default`` for the first page)."""
    if not cursor:
        return default
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursor(_bad_cursor(cursor)) from None
    if not isinstance(key, list) or len(key) != len(default):
        raise InvalidCursor(_bad_cursor(cursor))
    if any(type(k) is not type(d) for k, d in zip(key, default, strict=True)):
        raise InvalidCursor(_bad_cursor(cursor))
    return key


def _bad_cursor(cursor: str) -> str:
    return f"invalid cursor {cursor[:40]!r}: use the next link a page of this catalog gave"


def page_limit(limit: int | None) -> int:
    """Return a page size between 1 and MAX_PAGE."""
    return MAX_PAGE if limit is None else max(1, min(int(limit), MAX_PAGE))


def parse_limit(text: str | None, default: int) -> int:
    """Return the page size a client asked for (``default`` when it did not ask)."""
    if text is None or text == "":
        return default
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PAGE:
        raise InvalidLimit(f"limit must be a whole number from 1 to {MAX_PAGE}, not {text[:20]!r}")
    return int(text)


def run(store: DocumentStore, query_context: str, query: Query, params: dict[str, Any]) -> list:
    """Run a named statement; a collection that does not exist yet reads as empty."""
    try:
        return store.query(query.statement, params, query_context=query_context)
    except QueryError as e:
        # A catalog where nothing was ever written to a collection may not have it yet.
        if "not found" in str(e).lower() and "keyspace" in str(e).lower():
            return []
        raise
