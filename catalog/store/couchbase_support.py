"""Pure helpers of the Couchbase backend: errors, values, query contexts, search requests.

Nothing here opens a connection, so all of it is tested offline. The SDK (``couchbase``
4.x) is imported inside the functions that need it: importing this module never loads it.
Names checked against the installed SDK (couchbase 4.6.3) and docs.couchbase.com.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import timedelta
from functools import cache
from typing import Any

from catalog.search import couchbase_request
from catalog.search.resolution import DEFAULT_FACET_SIZE
from catalog.search.resolution import facet_specs as search_facet_specs
from catalog.store.base import (
    MAX_VALUE_BYTES,
    Conflict,
    FacetResult,
    InvalidArgument,
    Keyspace,
    NotFound,
    QueryError,
    SearchError,
    SearchHit,
    SearchResult,
    StoreError,
    StoreUnavailable,
    ValueTooLarge,
)

# The C++ core's key_value errc::value_too_large (the server's E2BIG). The Python SDK has
# no exception class for it (ExceptionMap skips 104), so it arrives as CouchbaseException.
VALUE_TOO_LARGE_CODE = 104

# couchbase.exceptions class name -> the store error it becomes. Matched on the class
# and its bases by name, so the table is testable without a server and a renamed class
# fails a test instead of an import.
ERROR_MAP: dict[str, type[StoreError]] = {
    "CasMismatchException": Conflict,
    "DocumentExistsException": Conflict,
    "DocumentLockedException": Conflict,
    "DocumentNotFoundException": NotFound,
    "BucketNotFoundException": NotFound,
    "BucketDoesNotExistException": NotFound,
    "ScopeNotFoundException": NotFound,
    "CollectionNotFoundException": NotFound,
    "SearchIndexNotFoundException": NotFound,
    "TimeoutException": StoreUnavailable,
    "AmbiguousTimeoutException": StoreUnavailable,
    "UnAmbiguousTimeoutException": StoreUnavailable,
    "ServiceUnavailableException": StoreUnavailable,
    "TemporaryFailException": StoreUnavailable,
    "RequestCanceledException": StoreUnavailable,
    "MissingConnectionException": StoreUnavailable,
    "RateLimitedException": StoreUnavailable,
    "QuotaLimitedException": StoreUnavailable,
    "AuthenticationException": StoreUnavailable,
    "InvalidArgumentException": InvalidArgument,
    "ValueFormatException": InvalidArgument,
}

# Errors that are about the server, not the statement: a query that hits them did not fail.
_TRANSIENT = (StoreUnavailable,)
# HTTP answers meaning "this service is not served here" (Not Implemented, Service Unavailable).
_NOT_SERVED = (501, 503)


def error_message(exc: BaseException) -> str:
    """Return the most useful text of an SDK exception (the server's own words if any)."""
    context = getattr(exc, "_context", None)
    first = getattr(context, "first_error_message", None)
    if first:
        code = getattr(context, "first_error_code", None)
        return f"{first} (code {code})" if code else str(first)
    message = getattr(exc, "_message", None)
    if not message:
        try:
            message = getattr(exc, "message", None)
        except Exception:  # the property reads the C++ base, which may be missing
            message = None
    name = type(exc).__name__
    text = f"{message} ({name})" if message and name not in str(message) else str(message or name)
    status = http_status(exc)
    if status:  # an HTTP service answered with an error and no message of its own
        text += f" (HTTP {status} from {getattr(context, 'path', None) or 'the service'})"
    return text


def http_status(exc: BaseException) -> int | None:
    """Return the HTTP status a query, search or management service answered, if any."""
    try:
        status = getattr(getattr(exc, "_context", None), "response_code", None)
    except Exception:
        return None
    return status if isinstance(status, int) else None


def _is_value_too_large(exc: BaseException) -> bool:
    try:
        code = getattr(exc, "error_code", None)
    except Exception:
        code = None
    if code == VALUE_TOO_LARGE_CODE:
        return True
    text = error_message(exc).lower().replace("_", " ")
    return "value too large" in text or "too big" in text


def map_error(
    exc: BaseException, *, kind: str = "kv", key: str | None = None, keyspace: str | None = None
) -> StoreError:
    """Return the store error for an SDK exception (``kind``: kv, query, search, manage)."""
    if isinstance(exc, StoreError):
        return exc
    names = [cls.__name__ for cls in type(exc).__mro__]
    target: type[StoreError] | None = next((ERROR_MAP[n] for n in names if n in ERROR_MAP), None)
    message = error_message(exc)
    if kind == "kv" and _is_value_too_large(exc):
        return ValueTooLarge(f"value is over the {MAX_VALUE_BYTES} byte limit: {message}")
    where = f" in {keyspace}" if keyspace else ""
    if kind == "kv" and key is not None and target is NotFound and "Document" in names[0]:
        return NotFound(f"document {key!r} not found{where}")
    if kind == "kv" and key is not None and target is Conflict:
        if names[0] == "DocumentExistsException":
            return Conflict(f"document {key!r} already exists{where}")
        return Conflict(f"document {key!r}{where} has changed (CAS mismatch): {message}")
    if target is None and http_status(exc) in _NOT_SERVED:
        # The node advertises the service but does not serve it (gocaves' query and search
        # listeners answer 501 to everything but ping): the cluster lacks it, as when no
        # node runs it (ServiceUnavailableException).
        target = StoreUnavailable
    if target is not None and issubclass(target, _TRANSIENT):
        at = (
            f" (document {key!r}{where})"
            if key is not None
            else f" ({keyspace})"
            if keyspace
            else ""
        )
        if "Timeout" in names[0]:
            message = f"no answer within the time limit: {message}"
        return target(f"Couchbase is unavailable{at}: {message}")
    if kind == "query":
        return QueryError(message)
    if kind == "search":
        return NotFound(message) if target is NotFound else SearchError(message)
    if target is not None:
        return target(message)
    return StoreError(f"{type(exc).__name__}: {message}")


# -- values ---------------------------------------------------------------------------------


def encode_document(value: Any) -> tuple[bytes, bool]:
    """Return (bytes to store, is_binary) for a document value, checking the 20 MB limit."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        data, binary = bytes(value), True
    else:
        try:
            text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise InvalidArgument(f"value is not valid JSON: {e}") from None
        data, binary = text.encode("utf-8"), False
    if len(data) > MAX_VALUE_BYTES:
        raise ValueTooLarge(f"value of {len(data)} bytes is over the {MAX_VALUE_BYTES} byte limit")
    return data, binary


def ttl(expiry: float | None) -> timedelta | None:
    """Return the SDK expiry of a TTL in seconds (None or <= 0: never expires).

    Couchbase counts expiry in whole seconds; a fractional TTL is rounded up so that a
    short TTL never becomes 0, which would mean "never".
    """
    if expiry is None or expiry <= 0:
        return None
    return timedelta(seconds=max(1, math.ceil(expiry)))


@cache
def write_transcoders() -> tuple[Any, Any]:
    """Return (transcoder for pre-encoded JSON, transcoder for binary values).

    JSON is encoded once by encode_document (to check its size) and sent as is through
    RawJSONTranscoder (flags: JSON); bytes go through RawBinaryTranscoder (flags: binary).
    """
    from couchbase.transcoder import RawBinaryTranscoder, RawJSONTranscoder

    return RawJSONTranscoder(), RawBinaryTranscoder()


@cache
def read_transcoder() -> Any:
    """Return the transcoder used on reads: bytes for binary flags, parsed JSON otherwise.

    The SDK's JSONTranscoder refuses binary documents, RawBinaryTranscoder refuses JSON and
    LegacyTranscoder would unpickle pickle-flagged values; we never unpickle (docs/design.md),
    so a pickle-flagged value comes back as its raw bytes.
    """
    from couchbase.constants import FMT_BYTES, FMT_JSON, FMT_UTF8
    from couchbase.transcoder import Transcoder, get_decode_format

    class CatalogTranscoder(Transcoder):
        def encode_value(self, value: Any) -> tuple[bytes, int]:
            data, binary = encode_document(value)
            return data, FMT_BYTES if binary else FMT_JSON

        def decode_value(self, value: bytes, flags: int) -> Any:
            fmt = get_decode_format(flags)
            data = bytes(value)
            if fmt == FMT_BYTES:
                return data
            if fmt == FMT_UTF8:
                return data.decode("utf-8")
            if fmt in (FMT_JSON, 0, None):
                try:
                    return json.loads(data)
                except ValueError:
                    return data
            return data  # pickle or unknown flags: raw bytes, never unpickled

    return CatalogTranscoder()


# -- query ----------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def query_context(text: str) -> str:
    """Return the SDK query_context for ``bucket.scope`` (as Scope.query builds it)."""
    body = text.split(":", 1)[1] if text.startswith("default:") else text
    parts = [p.strip("`") for p in body.split(".")]
    if not all(parts) or len(parts) > 2:
        raise InvalidArgument(f"invalid query context {text!r}: expected 'bucket.scope'")
    if len(parts) == 1:
        return f"default:{_quote(parts[0])}"
    return ".".join(_quote(p) for p in parts)


def keyspace_path(keyspace: str | Keyspace) -> str:
    """Return a keyspace quoted for a SQL++ statement: `b`.`s`.`c`."""
    ks = keyspace if isinstance(keyspace, Keyspace) else Keyspace.parse(keyspace)
    return ".".join(_quote(p) for p in (ks.bucket, ks.scope, ks.collection))


def query_options(
    params: dict | list | tuple | None,
    context: str | None,
    *,
    read_only: bool,
    timeout: float | None,
    memory_mb: float | None = None,
) -> Any:
    """Return the SDK QueryOptions of a statement (always REQUEST_PLUS: read your writes)."""
    from couchbase.n1ql import QueryScanConsistency
    from couchbase.options import QueryOptions

    kwargs: dict[str, Any] = {
        "scan_consistency": QueryScanConsistency.REQUEST_PLUS,
        "read_only": read_only,
        "metrics": False,
    }
    if isinstance(params, Mapping):
        kwargs["named_parameters"] = {k.lstrip("$"): v for k, v in params.items()}
    elif isinstance(params, (list, tuple)):
        kwargs["positional_parameters"] = list(params)
    elif params is not None:
        raise InvalidArgument("params must be a dict ($name) or a list ($1, ?)")
    if context:
        kwargs["query_context"] = query_context(context)
    if timeout is not None:
        kwargs["timeout"] = timedelta(seconds=timeout)
    if memory_mb:  # the query service's memory_quota request parameter, in MB
        kwargs["raw"] = {"memory_quota": max(1, int(memory_mb))}
    return QueryOptions(**kwargs)


# -- search ---------------------------------------------------------------------------------


def search_query(query: Any) -> Any:
    """Return the SDK SearchQuery of ``query``: a query string, a raw FTS query dict, or one.

    A query string is parsed and resolved to full field names by catalog.search, the same
    way the embedded store runs it, and sent as a structured query.
    """
    from couchbase.search import RawQuery, SearchQuery

    if isinstance(query, SearchQuery):
        return query
    if isinstance(query, Mapping):
        return RawQuery(dict(query))
    if isinstance(query, str):
        return RawQuery(couchbase_request.search_query(query))
    raise SearchError(f"search query must be a string or a dict, not {type(query).__name__}")


def facet_specs(
    facets: Mapping[str, Any] | Iterable[str] | str | None, size: int = DEFAULT_FACET_SIZE
) -> dict[str, tuple[str, int]]:
    """Return {name: (field, size)} from the accepted facet shapes (none: no facets)."""
    return search_facet_specs(facets, size) if facets else {}


def search_request(query: Any, options: Mapping[str, Any]) -> tuple[Any, Any]:
    """Return the SDK (SearchRequest, SearchOptions) for the options the embedded engine takes.

    limit (10), offset (0; ``skip`` too), facets (None: catalog.search's default facets),
    facet_size (10), highlight (True), fields, sort, consistent (True), timeout, filters
    ({field: value or values}, exact terms), latest_ids (the document keys to search
    in, when only the latest version of each model is wanted; None: every version).
    """
    from couchbase.search import ConjunctionQuery, DocIdQuery, RawQuery, SearchRequest

    opts = dict(options)
    opts.pop("all_versions", None)
    opts.pop("max_expansions", None)  # Couchbase bounds expansions itself (bleveMaxClauseCount)
    latest_ids = opts.pop("latest_ids", None)
    filters = opts.pop("filters", None) or {}
    if "offset" in opts:
        opts["skip"] = opts.pop("offset")
    size = int(opts.pop("facet_size", DEFAULT_FACET_SIZE))
    facets = opts.pop("facets", None)
    specs = search_facet_specs(facets, size)
    opts.setdefault("highlight", True)
    try:
        sdk_options = search_options(facets=specs, **opts)
    except TypeError as e:
        raise SearchError(f"unknown search option: {e}") from None
    if isinstance(query, str):
        q = RawQuery(couchbase_request.request_query(query, filters, latest_ids))
    else:
        q = search_query(query)
        clauses = [RawQuery(c) for c in couchbase_request.filter_queries(filters)]
        if latest_ids is not None:
            clauses.append(DocIdQuery(list(latest_ids)))
        if clauses:
            q = ConjunctionQuery(q, *clauses)
    return SearchRequest.create(q), sdk_options


def search_options(
    *,
    limit: int = 10,
    skip: int = 0,
    fields: list[str] | None = None,
    highlight: bool | list[str] | None = None,
    facets: Mapping[str, Any] | Iterable[str] | None = None,
    sort: list[str] | None = None,
    consistent: bool = True,
    timeout: float | None = None,
) -> Any:
    """Return the SDK SearchOptions of one search page.

    ``highlight``: True highlights every field, a list only those; HTML style (<mark>).
    ``consistent``: REQUEST_PLUS, so that a search sees the writes made before it.
    """
    from couchbase.options import SearchOptions
    from couchbase.search import HighlightStyle, SearchScanConsistency, TermFacet

    if limit < 0 or skip < 0:
        raise SearchError("limit and skip must not be negative")
    kwargs: dict[str, Any] = {"limit": limit, "skip": skip}
    if fields:
        kwargs["fields"] = list(fields)
    if highlight:
        kwargs["highlight_style"] = HighlightStyle.Html
        if isinstance(highlight, (list, tuple)):
            kwargs["highlight_fields"] = list(highlight)
    specs = facet_specs(facets)
    if specs:
        kwargs["facets"] = {name: TermFacet(field, size) for name, (field, size) in specs.items()}
    if sort:
        kwargs["sort"] = list(sort)
    if consistent:
        kwargs["scan_consistency"] = SearchScanConsistency.REQUEST_PLUS
    if timeout is not None:
        kwargs["timeout"] = timedelta(seconds=timeout)
    return SearchOptions(**kwargs)


def search_result(
    rows: Iterable[Any], facets: Mapping[str, Any] | None, metadata: Any
) -> SearchResult:
    """Return the store's SearchResult for the SDK's rows, facets and metadata."""
    hits = [
        SearchHit(
            id=row.id,
            score=float(row.score or 0.0),
            fields=dict(row.fields or {}),
            fragments={k: list(v) for k, v in (row.fragments or {}).items()},
        )
        for row in rows
    ]
    out_facets: dict[str, FacetResult] = {}
    for name, facet in (facets or {}).items():
        out_facets[name] = FacetResult(
            name=facet.name or name,
            field=facet.field or "",
            total=int(facet.total or 0),
            missing=int(facet.missing or 0),
            other=int(facet.other or 0),
            terms=[(t.term, int(t.count or 0)) for t in (facet.terms or [])],
        )
    total, took_ms = len(hits), 0.0
    metrics = metadata.metrics() if metadata is not None else None
    if metrics is not None:
        total = int(metrics.total_rows())
        took_ms = metrics.took().total_seconds() * 1000
    return SearchResult(hits=hits, total=total, facets=out_facets, took_ms=took_ms)
