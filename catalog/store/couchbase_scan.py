"""Listing a collection's keys on Couchbase: a KV range scan, else SQL++ over its primary index.

KV range scans exist from Couchbase Server 7.6; older clusters (and gocaves, the SDKs' mock
cluster) make the SDK raise FeatureUnavailableException. Then the keys come from
``SELECT RAW META(d).id ... ORDER BY META(d).id`` over the collection's primary index,
which ``catalog init`` creates on every collection. CouchbaseStore chooses between the
two and logs the path it took at debug level (logger ``catalog.store.couchbase``).
"""

from __future__ import annotations

from typing import Any

from catalog.store.base import Keyspace
from catalog.store.couchbase_support import keyspace_path

# The SDK's exception for "this cluster has no KV range scan".
RANGE_SCAN_UNAVAILABLE = "FeatureUnavailableException"
# Upper bound of a prefix range: the largest code point, as the embedded store uses.
PREFIX_END = "\U0010ffff"


def is_range_scan_unavailable(exc: BaseException) -> bool:
    """Return whether an SDK error says the cluster cannot do KV range scans."""
    return type(exc).__name__ == RANGE_SCAN_UNAVAILABLE


def range_scan_ids(collection: Any, prefix: str, consistent_with: Any) -> list[str]:
    """Return the sorted keys of ``collection`` starting with ``prefix`` (KV range scan)."""
    from couchbase.kv_range_scan import PrefixScan, RangeScan
    from couchbase.options import ScanOptions

    kwargs: dict[str, Any] = {"ids_only": True}
    if consistent_with is not None:
        kwargs["consistent_with"] = consistent_with
    scan_type = PrefixScan(prefix) if prefix else RangeScan()
    return sorted(r.id for r in collection.scan(scan_type, ScanOptions(**kwargs)))


def key_listing_query(keyspace: str, prefix: str = "") -> tuple[str, dict[str, str]]:
    """Return the SQL++ statement (and its parameters) listing a collection's keys in order.

    A bucket's default collection is named by the bucket alone (``default:`b```), which
    means the same on Couchbase Server 7 and also runs on engines without scopes.
    """
    ks = Keyspace.parse(keyspace)
    if ks.scope == "_default" and ks.collection == "_default":
        path = f"default:`{ks.bucket.replace('`', '``')}`"
    else:
        path = keyspace_path(ks)
    where, params = "", {}
    if prefix:
        where = " WHERE META(d).id >= $lo AND META(d).id < $hi"
        params = {"lo": prefix, "hi": prefix + PREFIX_END}
    return f"SELECT RAW META(d).id FROM {path} AS d{where} ORDER BY META(d).id", params
