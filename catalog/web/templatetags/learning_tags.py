"""``{% learn_tab name tab %}``: the Learn tab of a model's header, shown when it learns."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from catalog.domain.registry import get_registry
from catalog.store import NotFound

register = template.Library()


@register.simple_tag
def learn_tab(name: str, tab: str | None) -> str:
    """Return the tab link when ``name`` has a learning state (one key lookup), else ""."""
    reg = get_registry()
    try:
        reg.store.get(reg.ks.states, name)
    except NotFound:
        return ""
    current = mark_safe(' aria-current="page"') if tab == "learn" else ""
    return format_html('<a href="{}"{}>Learn</a>', reverse("model-learn", args=[name]), current)
