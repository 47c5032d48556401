"""Forms of the catalog pages (plain ``forms.Form``; views copy ``cleaned_data``)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from catalog.web.inspect import SORT_KEYS

# Longest SQL++ statement the workbench accepts, in characters.
MAX_STATEMENT_CHARS = 20_000


class InitializerTableForm(forms.Form):
    """Sorting, filtering and paging of the initializer table (a GET form)."""

    q = forms.CharField(required=False, max_length=200, label="Filter by name")
    sort = forms.ChoiceField(choices=[(k, k) for k in SORT_KEYS], required=False)
    order = forms.ChoiceField(
        choices=[("asc", "ascending"), ("desc", "descending")], required=False
    )
    page = forms.IntegerField(min_value=1, required=False)

    def clean_sort(self) -> str:
        return self.cleaned_data.get("sort") or "name"

    def clean_order(self) -> str:
        return self.cleaned_data.get("order") or "asc"

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1


class WorkbenchForm(forms.Form):
    """A read-only SQL++ statement and its optional parameters."""

    statement = forms.CharField(
        max_length=MAX_STATEMENT_CHARS,
        label="SQL++ statement",
        widget=forms.Textarea(attrs={"rows": 7, "spellcheck": "false", "autocomplete": "off"}),
    )
    params = forms.CharField(
        required=False,
        label="Parameters (JSON object for $name, or array for $1)",
        widget=forms.TextInput(attrs={"placeholder": '{"task": "classification"}'}),
    )

    def clean_params(self) -> dict[str, Any] | list[Any] | None:
        text = (self.cleaned_data.get("params") or "").strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise forms.ValidationError(f"not valid JSON: {e.msg} (column {e.colno})") from None
        if not isinstance(value, (dict, list)):
            raise forms.ValidationError("use a JSON object ($name) or a JSON array ($1, $2)")
        return value


class AliasMoveForm(forms.Form):
    """Point an alias at a version; ``expected`` guards against a concurrent move (CAS)."""

    version = forms.IntegerField(min_value=1)
    expected = forms.IntegerField(min_value=1, required=False)
