"""Pages that list documents survive a damaged one: it is skipped, logged and counted.

A damaged version document (metadata a list, nested hundreds deep, a name with "/", a
version "1x": ``catalog.domain.registry.listing_problem``) left on a list page would break
the whole page. ``Skipped`` is handed to the domain's list operations as ``on_damaged``
(and called by the views for what they find themselves); the page then shows
"1 document could not be shown" (``templates/catalog/_skipped.html``) and its JSON twin
says ``"skipped": 1``.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest
from django.utils.encoding import iri_to_uri

from catalog.domain import queries
from catalog.web.responses import wants_json

log = logging.getLogger("catalog.web")


class Skipped:
    """The documents one page could not show."""

    def __init__(self, page: str):
        self.page = page
        self.keys: list[str] = []

    def __call__(self, key: str, problem: str) -> None:
        """Record (and log) a document left out of the page."""
        self.keys.append(key)
        log.warning("%s: document %r could not be shown: %s", self.page, key, problem)

    @property
    def count(self) -> int:
        return len(self.keys)

    def __int__(self) -> int:
        return self.count


def page_request(
    request: HttpRequest, default: int, html_max: int | None = None, param: str = "cursor"
) -> tuple[str | None, int]:
    """Return the cursor (``?cursor=``) and page size (``?limit=``) a list page asks for.

    A limit that is not a whole number from 1 to ``queries.MAX_PAGE`` raises InvalidLimit
    (400); a cursor is checked by the domain operation that reads it. The HTML form of a
    page shows at most ``html_max`` rows (the JSON twin up to MAX_PAGE), so it stays small.
    """
    size = queries.parse_limit(request.GET.get("limit"), default)
    if html_max is not None and not wants_json(request):
        size = min(size, html_max)
    return request.GET.get(param) or None, size


def next_url(request: HttpRequest, cursor: str | None, param: str = "cursor") -> str | None:
    """Return the address of the page after this one (same query, the next cursor)."""
    if cursor is None:
        return None
    query = request.GET.copy()
    query[param] = cursor
    return iri_to_uri(request.path) + "?" + query.urlencode()
