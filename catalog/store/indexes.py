"""The GSI indexes of the catalog: the one place that lists them.

Every index is created deferred (``defer_build``) so that ``init_couchbase`` can build
them all in one ``BUILD INDEX`` pass per collection (one scan of the data per collection
instead of one per index). Names are bare: statements run with ``query_context``
``bucket.scope``, so the console and the app say ``FROM models``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every collection of the catalog's scope (docs/design.md, "Where the catalog lives").
COLLECTIONS = (
    "models",
    "tensors",
    "aliases",
    "binaries",
    "states",
    "datasets",
    "predictions",
    "audit",
)

_DEFER = ' WITH {"defer_build": true}'


@dataclass(frozen=True)
class IndexSpec:
    """One GSI index: its name (``#primary`` for a primary index), collection and statement."""

    name: str
    collection: str
    statement: str


# Secondary indexes for the model-internals queries (which models use operator X, a given
# initializer, a tag; versions of a model).
_SECONDARY: tuple[tuple[str, str, str], ...] = (
    ("idx_models_name_version", "models", "name, version"),
    ("idx_models_optypes", "models", "DISTINCT ARRAY t FOR t IN summary.opTypes END"),
    (
        "idx_models_initializers",
        "models",
        "DISTINCT ARRAY i.name FOR i IN summary.initializers END",
    ),
    ("idx_models_tags", "models", "DISTINCT ARRAY tag FOR tag IN metadata.tags END"),
    ("idx_models_created", "models", "createdAt, name, version"),
    ("idx_models_framework_task", "models", "metadata.framework, metadata.task"),
    # A model's history with lineage and metrics (learning curve, learning history): it
    # covers those statements, so no version document is read for them.
    ("idx_models_history", "models", "name, version, createdAt, lineage, metadata.metrics"),
    # Largest models first (ORDER BY summary.paramCount DESC LIMIT n): every document is in
    # it (INCLUDE MISSING), so it serves the order even without a predicate.
    ("idx_models_params", "models", "summary.paramCount INCLUDE MISSING, name, version"),
    # Alias moves of a model, newest first (queries.ALIAS_HISTORY).
    ("idx_audit_name_at", "audit", "name, `at`"),
    # The last move of one alias of a model (rollback).
    ("idx_audit_name_alias_at", "audit", "name, alias, `at`"),
    # A model's logged predictions, newest first (queries.PREDICTIONS_PAGE).
    ("idx_predictions_model_at", "predictions", "model, `at`, id"),
    # Models that have a version (the model count, counted in the index).
    ("idx_aliases_latest", "aliases", "aliases.`latest`"),
    # Labelled predictions of a model in feedback order (queries.LABELLED_PREDICTIONS).
    ("idx_predictions_model_feedback", "predictions", "model, feedback.`at`, id"),
)


def index_specs(bucket: str = "ml", scope: str = "catalog") -> list[IndexSpec]:
    """Return the catalog's indexes for ``bucket``.``scope`` (statements use full paths)."""
    specs: list[IndexSpec] = []
    for collection in COLLECTIONS:
        path = f"`{bucket}`.`{scope}`.`{collection}`"
        specs.append(IndexSpec("#primary", collection, f"CREATE PRIMARY INDEX ON {path}{_DEFER}"))
    for name, collection, keys in _SECONDARY:
        path = f"`{bucket}`.`{scope}`.`{collection}`"
        specs.append(
            IndexSpec(name, collection, f"CREATE INDEX `{name}` ON {path}({keys}){_DEFER}")
        )
    return specs


def index_statements(bucket: str = "ml", scope: str = "catalog") -> list[str]:
    """Return the CREATE INDEX statements of the catalog for ``bucket``.``scope``."""
    return [spec.statement for spec in index_specs(bucket, scope)]
