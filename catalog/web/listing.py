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
