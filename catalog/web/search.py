"""The search page (the home page) and its JSON twin ``/api/search``."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.conf import settings
from django.http import HttpRequest, QueryDict
from django.views.decorators.http import require_safe

from catalog.domain import limits
from catalog.domain.registry import InvalidName, check_name
from catalog.search import search_models
from catalog.sqlpp.slots import StatementsBusy, StatementSlots
from catalog.store import SearchError, get_store
from catalog.web.forms import SEARCH_FILTERS, SearchForm
from catalog.web.listing import Skipped
from catalog.web.permissions import read_access
from catalog.web.twins import Page, twin

# What an empty search box searches: every model, so the home page is never empty.
MATCH_ALL = "*"
# Facet terms shown per facet.
FACET_SIZE = 12
# Facet name -> its heading on the page, in page order.
FACET_TITLES = {"task": "Task", "framework": "Framework", "tags": "Tags", "opTypes": "Operators"}
_PARAM_OF_FACET = {facet: param for param, (facet, _) in SEARCH_FILTERS.items()}


@require_safe
@read_access
@twin
def search(request: HttpRequest) -> Page:
    """Return a page of models matching a query string and facet filters."""
    form = SearchForm(request.GET)
    if not form.is_valid():
        message = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        return _failed(request, form, message)
    data = form.cleaned_data
    try:
        with _slot(data["all_versions"]):
            result = search_models(
                get_store(),
                data["q"] or MATCH_ALL,
                bucket=settings.CATALOG_BUCKET,
                scope=settings.CATALOG_SCOPE,
                limit=data["limit"],
                offset=data["offset"],
                facet_size=FACET_SIZE,
                all_versions=data["all_versions"],
                filters=form.filters(),
            )
    except SearchError as e:
        return _failed(request, form, str(e))
    except StatementsBusy:
        n = limits.all_versions_searches()
        message = (
            f"all-versions search is busy ({n} running at once at most); try again in a moment,"
            " or search the latest versions"
        )
        return _failed(request, form, message, status=429)
    skipped = Skipped("search results")
    hits = [h for h in result.hits if _showable(h, skipped)]
    return Page(
        "catalog/search.html",
        _as_json(form, result, hits, skipped.count),
        lambda: _context(request, form, result, hits) | {"skipped": skipped.count},
    )


def _slot(all_versions: bool) -> AbstractContextManager[Any]:
    """Hold one of the server's all-versions search slots (raise StatementsBusy if none is
    free). A search of the latest versions needs none: it matches one version a model, where
    an all-versions search matches every version (0.25 s for a word in a third of 100,000;
    ``*`` and one keyword value, answered from the index's counts, take 1-2 ms)."""
    if not all_versions:
        return nullcontext()
    slots = StatementSlots(settings.VAR_DIR / "search-slots", limits.all_versions_searches())
    return slots.hold()


def _failed(request: HttpRequest, form: SearchForm, message: str, status: int = 400) -> Page:
    return Page(
        "catalog/search.html",
        {"error": message, "status": status},
        lambda: _context(request, form, None) | {"error": message},
        status=status,
    )


def _showable(hit: Any, skipped: Skipped) -> bool:
    """Return True if a hit can be shown as a card linking to its version page."""
    name, version = hit.fields.get("name") or hit.id.split("::")[0], hit.fields.get("version")
    try:
        check_name(name)
    except InvalidName as e:
        skipped(hit.id, str(e))
        return False
    if version is not None and type(version) is not int:
        skipped(hit.id, f"version {version!r} is not an integer")
        return False
    return True


def _as_json(form: SearchForm, result: Any, hits: list[Any], skipped: int) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "query": data["q"],
        "filters": form.filters(),
        "allVersions": data["all_versions"],
        "offset": data["offset"],
        "limit": data["limit"],
        "total": result.total,
        "tookMs": result.took_ms,
        "skipped": skipped,
        "hits": [
            {
                "id": h.id,
                "name": h.fields.get("name"),
                "version": h.fields.get("version"),
                "score": h.score,
                "fields": h.fields,
                "fragments": h.fragments,
            }
            for h in hits
        ],
        "facets": {
            name: {
                "field": f.field,
                "total": f.total,
                "missing": f.missing,
                "other": f.other,
                "terms": [{"term": t, "count": c} for t, c in f.terms],
            }
            for name, f in result.facets.items()
        },
    }


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# Fragments of these fields repeat what the card shows anyway.
_SHOWN_FIELDS = {
    "name",
    "metadata.tags",
    "metadata.task",
    "metadata.framework",
    "metadata.description",
}


def _card(hit: Any) -> dict[str, Any]:
    f = hit.fields
    fragments = [
        (field.removesuffix("_text"), texts)
        for field, texts in hit.fragments.items()
        if field.removesuffix("_text") not in _SHOWN_FIELDS
    ]
    marked_tags = {
        t.removeprefix("<mark>").removesuffix("</mark>")
        for t in hit.fragments.get("metadata.tags", [])
    }
    described = hit.fragments.get("metadata.description") or hit.fragments.get(
        "metadata.description_text"
    )
    return {
        "id": hit.id,
        "name": f.get("name") or hit.id.split("::")[0],
        "version": f.get("version"),
        "description": f.get("metadata.description") or "",
        # The engine escapes the text and adds only <mark> tags: safe to show as HTML.
        "description_html": " … ".join(described) if described else None,
        "task": f.get("metadata.task"),
        "framework": f.get("metadata.framework"),
        "tags": [(t, t in marked_tags) for t in _as_list(f.get("metadata.tags"))],
        "ops": _as_list(f.get("summary.opTypes")),
        "createdAt": f.get("createdAt"),
        "format": f.get("format"),
        "fragments": fragments[:3],
        "score": hit.score,
    }


def _url(query: QueryDict, **changes: Any) -> str:
    """Return ``?query`` with some parameters replaced (None removes; lists set all values)."""
    q = query.copy()
    for key, value in changes.items():
        q.pop(key, None)
        if isinstance(value, list):
            q.setlist(key, value)
        elif value is not None:
            q[key] = str(value)
    for key in [k for k, v in q.lists() if not any(v)]:
        q.pop(key)
    encoded = q.urlencode()
    return f"?{encoded}" if encoded else "?"


def _toggle(query: QueryDict, param: str, value: str) -> str:
    values = [v for v in query.getlist(param) if v]
    values = [v for v in values if v != value] if value in values else [*values, value]
    return _url(query, **{param: values, "offset": None})


def _context(
    request: HttpRequest, form: SearchForm, result: Any, hits: list[Any] | None = None
) -> dict[str, Any]:
    query = request.GET.copy()
    query.pop("format", None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    active = [
        {
            "param": param,
            "label": FACET_TITLES[SEARCH_FILTERS[param][0]],
            "value": value,
            "remove": _toggle(query, param, value),
        }
        for param, values in form.filter_values.items()
        for value in values
    ]
    ctx: dict[str, Any] = {
        "form": form,
        "q": request.GET.get("q", ""),
        "all_versions": data.get("all_versions", False),
        "active": active,
        "hidden_filters": [(a["param"], a["value"]) for a in active],
        "clear_filters": _url(query, **{p: None for p in SEARCH_FILTERS}, offset=None),
        "toggle_versions": _url(
            query, all_versions=None if data.get("all_versions") else "1", offset=None
        ),
        "result": None,
    }
    if result is None:
        return ctx
    offset, limit = data["offset"], data["limit"]
    chosen = {p: set(v) for p, v in form.filter_values.items()}
    facets = []
    for name, title in FACET_TITLES.items():
        facet = result.facets.get(name)
        param = _PARAM_OF_FACET[name]
        terms = [
            {
                "term": term,
                "count": count,
                "active": term in chosen.get(param, ()),
                "href": _toggle(query, param, term),
            }
            for term, count in (facet.terms if facet else [])
        ]
        # An active filter stays visible (and removable) even when no hit holds it.
        shown = {t["term"] for t in terms}
        terms += [
            {"term": v, "count": 0, "active": True, "href": _toggle(query, param, v)}
            for v in form.filter_values.get(param, [])
            if v not in shown
        ]
        if terms:
            facets.append({"name": name, "title": title, "param": param, "terms": terms})
    ctx |= {
        "result": result,
        "cards": [_card(h) for h in (result.hits if hits is None else hits)],
        "facets": facets,
        "first": offset + 1 if result.hits else 0,
        "last": offset + len(result.hits),
        "previous": _url(query, offset=max(offset - limit, 0) or None) if offset > 0 else None,
        "next": _url(query, offset=offset + limit) if offset + limit < result.total else None,
        "browsing": not data["q"],
    }
    return ctx
